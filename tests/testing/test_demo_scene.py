"""The demo landscape's truth: classes where the scene puts them, the σ° per polarisation of
each, and the terrain's brightening from the product's own orbit (fore-slopes up, back-slopes
down, layover on the massif's face towards the radar, shadow on its far face)."""

from __future__ import annotations

import numpy as np

from s1tiling_cloud.demo import demo_scene, demo_spec
from s1tiling_cloud.testing.demo_scene import (
    FIELD,
    FOREST,
    LAYOVER_DB,
    SHADOW_DB,
    SIGMA0_DB,
    STREET,
    URBAN,
    WATER,
    _fingerprint,
)


def test_classes_and_sigma0_per_polarisation():
    scene = demo_scene()
    points = {"lake": (-12.0, 10.0), "river": (0.714, 0.714), "town": (4.0, 5.0),
              "reflector": scene.reflectors[0], "massif": scene.massif[:2]}
    lat, lon = scene.latlon(*np.array(list(points.values())).T)
    classes = dict(zip(points, scene.classes(lat, lon), strict=True))
    assert classes["lake"] == WATER and classes["river"] == WATER
    assert classes["town"] in (URBAN, STREET) and classes["reflector"] == FIELD
    assert classes["massif"] == FOREST
    vv, vh = scene.land_db(lat, lon, "VV"), scene.land_db(lat, lon, "vh")
    assert vv[0] == SIGMA0_DB["VV"][WATER] == -22.0 and vh[0] == SIGMA0_DB["VH"][WATER]
    assert 7.0 <= (vv - vh)[3] <= 9.0  # a field: VH about 8 dB under VV
    # The spec carries one σ° field per polarisation (a mapping of callables).
    spec = demo_spec(200, 200)
    assert callable(spec.sigma0_for("VV")) and callable(spec.sigma0_for("VH"))
    assert spec.targets and all(t.rcs_db == 45.0 for t in spec.targets)


def test_the_second_polarisation_is_served_from_the_first_ones_pass():
    spec = demo_spec(200, 200)
    lat, lon = np.meshgrid(np.linspace(43.76, 43.74, 40), np.linspace(1.18, 1.22, 50), indexing="ij")
    vv = spec.sigma0_for("VV")(lat, lon)
    vh = spec.sigma0_for("VH")(lat, lon)  # kept by the VV pass
    fresh = demo_spec(200, 200).sigma0_for("VH")(lat, lon)  # computed on its own
    np.testing.assert_array_equal(vh, fresh)
    assert vv.shape == vh.shape == lat.shape and np.all(vv > vh)
    assert _fingerprint(lat, lon) != _fingerprint(lat + 1e-9, lon)


def test_terrain_brightens_fore_slopes_and_has_layover_and_shadow_on_the_massif():
    scene, spec = demo_scene(), demo_spec()
    lat0, lon0, terrain, shadow, layover = scene.terrain_grid(spec)
    assert shadow.any() and layover.any()
    rows, cols = np.nonzero(layover)
    _, lon_layover = lat0 + rows / 1200, lon0 + cols / 1200
    rows, cols = np.nonzero(shadow)
    _, lon_shadow = lat0 + rows / 1200, lon0 + cols / 1200
    _, lon_massif = scene.latlon(*scene.massif[:2])
    # The radar of a descending pass looks west: the east face lays over, the west face hides.
    assert np.median(lon_layover) > lon_massif > np.median(lon_shadow)
    assert np.all(terrain[layover] == LAYOVER_DB) and np.all(terrain[shadow] < SHADOW_DB + 1)
    # Rolling hills east of the centre: slopes falling to the east face the radar.
    x = np.linspace(-6.0, 6.0, 400)
    lat, lon = scene.latlon(x, np.full_like(x, -8.0))
    height = scene.height(lat, lon)
    brightening = scene.terrain_db(spec, lat, lon)
    falling_east = np.gradient(height) < -2.0
    rising_east = np.gradient(height) > 2.0
    assert brightening[falling_east].mean() > 0.5 > -0.5 > brightening[rising_east].mean()
