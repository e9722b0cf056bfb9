"""WGS84 conversions: known points, exact round trips, agreement with PROJ, normals."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.geo.ellipsoid import (
    E2,
    A,
    B,
    ecef_to_geodetic,
    ellipsoid_normal,
    geodetic_to_ecef,
)


def _random_points(n: int = 200_000, seed: int = 1):
    """Global points from 10 km below to 1000 km above the ellipsoid, poles and equator too."""
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lat[:4] = [90.0, -90.0, 0.0, 89.9999999]
    lon = rng.uniform(-180.0, 180.0, n)
    h = rng.uniform(-10_000.0, 1_000_000.0, n)
    h[4:1000] = rng.uniform(-500.0, 9000.0, 996)  # the ground
    return lat, lon, h


def test_known_points():
    np.testing.assert_allclose(geodetic_to_ecef(0.0, 0.0, 0.0), [A, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(geodetic_to_ecef(0.0, 90.0, 100.0), [0.0, A + 100, 0.0],
                               atol=1e-9)
    np.testing.assert_allclose(geodetic_to_ecef(90.0, 0.0, 0.0), [0.0, 0.0, B], atol=1e-9)
    np.testing.assert_allclose(geodetic_to_ecef(-90.0, 0.0, 10.0), [0.0, 0.0, -B - 10],
                               atol=1e-9)
    lat, lon, h = ecef_to_geodetic([[A, 0, 0], [0, 0, B + 1], [0, -A - 5, 0], [0, 0, -B]])
    np.testing.assert_allclose(lat, [0, 90, 0, -90], atol=1e-12)
    np.testing.assert_allclose(lon[[0, 2]], [0, -90], atol=1e-12)
    np.testing.assert_allclose(h, [0, 1, 5, 0], atol=1e-8)
    assert pytest.approx(6356752.314245, abs=1e-6) == B
    assert pytest.approx(0.00669437999014, abs=1e-14) == E2


def test_round_trip_geodetic_ecef_geodetic():
    lat, lon, h = _random_points()
    lat2, lon2, h2 = ecef_to_geodetic(geodetic_to_ecef(lat, lon, h))
    # 1e-11 deg is 1 micrometre on the ground.
    assert np.abs(lat2 - lat).max() < 1e-11
    dlon = (lon2 - lon + 180.0) % 360.0 - 180.0
    assert np.abs(dlon[np.abs(lat) < 89.9999]).max() < 1e-11
    assert np.abs(h2 - h).max() < 1e-6


def test_round_trip_ecef_geodetic_ecef():
    lat, lon, h = _random_points(seed=2)
    xyz = geodetic_to_ecef(lat, lon, h)
    back = geodetic_to_ecef(*ecef_to_geodetic(xyz))
    assert np.abs(back - xyz).max() < 1e-6  # metres; the brief asks < 1 mm


def test_agrees_with_proj():
    """Forward: same to the micrometre everywhere. Inverse: PROJ iterates with a tolerance
    (5e-8 deg, 8 mm at 1000 km altitude), so compare on the ground only, where it is exact."""
    pyproj = pytest.importorskip("pyproj")
    lat, lon, h = _random_points(20_000, seed=3)
    to_ecef = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    x, y, z = to_ecef.transform(lon, lat, h)
    xyz = geodetic_to_ecef(lat, lon, h)
    assert np.abs(xyz - np.stack([x, y, z], axis=-1)).max() < 1e-6
    ground = np.abs(h) < 10_000.0
    lon_p, lat_p, h_p = to_ecef.transform(x[ground], y[ground], z[ground], direction="INVERSE")
    lat2, lon2, h2 = ecef_to_geodetic(xyz[ground])
    assert np.abs(lat2 - lat_p).max() < 1e-10
    assert np.abs(h2 - h_p).max() < 1e-5


def test_shapes_and_broadcasting():
    xyz = geodetic_to_ecef(np.zeros((2, 3)), 10.0, np.arange(3.0))
    assert xyz.shape == (2, 3, 3)
    lat, lon, h = ecef_to_geodetic(xyz)
    assert lat.shape == lon.shape == h.shape == (2, 3)
    np.testing.assert_allclose(h, np.broadcast_to(np.arange(3.0), (2, 3)), atol=1e-8)
    assert geodetic_to_ecef(1.0, 2.0).shape == (3,)
    assert ecef_to_geodetic(geodetic_to_ecef(1.0, 2.0))[0].shape == ()
    with pytest.raises(ValueError):
        ecef_to_geodetic(np.zeros((4, 2)))


def test_normal_is_the_height_direction():
    """The normal is unit, and raising a point by dh moves it by dh along the normal."""
    lat, lon, h = _random_points(10_000, seed=4)
    n = ellipsoid_normal(lat, lon)
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1.0, atol=1e-15)
    step = geodetic_to_ecef(lat, lon, h + 1000.0) - geodetic_to_ecef(lat, lon, h)
    assert np.abs(step - 1000.0 * n).max() < 1e-8
    # Also the gradient of x^2/a^2 + y^2/a^2 + z^2/b^2 on the ellipsoid.
    p = geodetic_to_ecef(lat, lon, 0.0)
    grad = p / np.array([A * A, A * A, B * B])
    grad /= np.linalg.norm(grad, axis=-1, keepdims=True)
    assert np.abs(grad - n).max() < 1e-14
