"""Stages `gamma_area` and `rtc` (issue 7, γ° RTC): flat terrain gives a γ-area of 1, and
synthetic hills imaged with a uniform γ° come out flat after RTC while σ° does not.

The scene: a synthetic GRD (800 × 1200 pixels, 10 m, VV, no speckle, no noise) over ridges
running north-south (range slopes up to ~17°), its σ° rendered from a uniform γ° of −10 dB by
`testing.gamma_scene` (inverse mapping, independent of the engine's area projection), on tile
31TCJ at 60 m.
"""

from __future__ import annotations

import numpy as np
import rasterio

from s1tiling_cloud.engine.native.lia import ia_map, lia_map
from s1tiling_cloud.geo import Grid
from s1tiling_cloud.geo.orbit_source import product_orbit
from s1tiling_cloud.stages.gamma_area import gamma_area
from s1tiling_cloud.stages.heights import heights
from s1tiling_cloud.stages.ortho import ortho
from s1tiling_cloud.stages.registry import STAGES
from s1tiling_cloud.stages.rtc import rtc
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from s1tiling_cloud.testing.dem_tiles import write_dem_tiles
from s1tiling_cloud.testing.gamma_scene import uniform_gamma0

TILE = "31TCJ"
RES = 60.0
GAMMA0_DB = -10.0


def ridges(lat, lon):
    """Ridges 3 km apart across range, ±150 m, on a 300 m plateau (heights over the geoid)."""
    x = (np.asarray(lon) - 1.44) * 80_600.0
    y = (np.asarray(lat) - 43.6) * 111_100.0
    return 300.0 + 150.0 * np.sin(2 * np.pi * x / 3000.0) + 40.0 * np.cos(2 * np.pi * y / 5000.0)


def _scene(folder, dem):
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=800, samples=1200,
                        polarisations=("VV",), dem=dem, speckle=False, noise=False,
                        beta_nought=2370.0)
    spec = uniform_gamma0(spec, GAMMA0_DB)
    product = str(write_grd(spec, folder / "s1"))
    write_dem_tiles(dem, (43, 45), (0, 2), folder / "dem", kind="srtm3")
    heights_uri = str(folder / "heights.tif")
    heights(TILE, RES, heights_uri, {"dem_dir": str(folder / "dem"), "dem_format": "{id}.hgt"})
    sigma_uri = str(folder / "sigma.tif")
    ortho(product, TILE, heights_uri, {"VV": sigma_uri},
          {"resolution": RES, "interpolation": "linear", "remove_thermal_noise": False})
    area_uri = str(folder / f"GAMMA_AREA_{TILE}_110.tif")
    mask_uri = str(folder / "mask.tif")
    result = gamma_area(product, TILE, heights_uri, area_uri, {"resolution": RES},
                        mask_output=mask_uri)
    rtc_uri = str(folder / "s1a_31TCJ_vv_DES_110_20200108t044150_GammaNaughtRTC.tif")
    rtc(sigma_uri, area_uri, rtc_uri)
    return {"product": product, "heights": heights_uri, "sigma": sigma_uri, "area": area_uri,
            "mask": mask_uri, "rtc": rtc_uri, "result": result}


def _read(uri, band=1):
    with rasterio.open(uri) as dataset:
        return dataset.read(band), dataset.tags(), dataset


def test_registered():
    assert {"gamma_area", "rtc"} <= set(STAGES)


def test_flat_terrain_gamma_area_is_one(tmp_path):
    scene = _scene(tmp_path, 0.0)
    area, tags, dataset = _read(scene["area"])
    assert dataset.count == 1 and dataset.dtypes[0] == "float32"
    assert tags["IMAGE_TYPE"] == "GRD" and tags["S2_TILE_CORRESPONDING_CODE"] == TILE
    assert tags["DATA_TYPE"] == "meters^2" and tags["ELLIPSOID_PIXEL_AREA"] == "100"  # 10 m × 10 m
    valid = np.isfinite(area)
    assert valid.sum() > 1000
    # flat: the γ area of a pixel is its ellipsoid area projected normal to the look, A cos θ_E
    cos_ia = np.cos(np.radians(ia_map(Grid.from_tile(TILE, RES), product_orbit(scene["product"]).orbit)))
    g = area / (100.0 * cos_ia)
    print(f"flat: gamma area / (A cos IA) {np.nanmin(g):.5f} .. {np.nanmax(g):.5f} over {valid.sum()} px")
    assert np.abs(g[valid] - 1).max() < 0.01
    mask = _read(scene["mask"])[0]
    assert (mask[valid] == 0).all()
    # γ°_T = σ° / cos θ_E on flat terrain: the uniform γ° comes back
    gamma = _read(scene["rtc"])[0]
    db = 10 * np.log10(gamma[gamma > 0])
    print(f"flat: gamma0 RTC {db.min():.4f} .. {db.max():.4f} dB")
    assert np.abs(db - GAMMA0_DB).max() < 0.05


def test_hills_uniform_gamma0_after_rtc(tmp_path):
    scene = _scene(tmp_path, ridges)
    sigma = _read(scene["sigma"])[0].astype(np.float64)
    gamma, tags, _ = _read(scene["rtc"])
    assert tags["CALIBRATION"] == "GammaNaughtRTC"
    assert tags["GAMMA_AREA_FILE"] == f"GAMMA_AREA_{TILE}_110.tif"
    grid = Grid.from_tile(TILE, RES)
    h = _read(scene["heights"])[0].astype(np.float64)
    orbit = product_orbit(scene["product"]).orbit
    tilt = lia_map(grid, h, orbit) - ia_map(grid, orbit)
    # away from the product's edges, where both σ° and γ° are valid
    ok = (sigma > 0) & (gamma > 0)
    inner = np.zeros_like(ok)
    rows, cols = np.nonzero(ok)
    r0, r1, c0, c1 = rows.min() + 5, rows.max() - 5, cols.min() + 5, cols.max() - 5
    inner[r0:r1, c0:c1] = True
    ok &= inner
    fore, back = ok & (tilt < -8), ok & (tilt > 8)
    assert fore.sum() > 100 and back.sum() > 100

    def db(values, where):
        return 10 * np.log10(np.mean(values[where]))

    s_fore, s_back = db(sigma, fore), db(sigma, back)
    g_fore, g_back = db(gamma, fore), db(gamma, back)
    g_all = 10 * np.log10(gamma[ok])
    print(f"sigma0 fore {s_fore:.3f} dB back {s_back:.3f} dB (diff {s_fore - s_back:.3f}); "
          f"gamma0 RTC fore {g_fore:.3f} back {g_back:.3f} (diff {g_fore - g_back:.3f}); "
          f"all pixels {np.percentile(g_all, 1):.3f} .. {np.percentile(g_all, 99):.3f} dB")
    assert s_fore - s_back > 3.0
    assert abs(g_fore - g_back) < 0.5
    assert abs(g_fore - GAMMA0_DB) < 0.5 and abs(g_back - GAMMA0_DB) < 0.5
