"""γ° RTC of a γ-area map that lacks our `ELLIPSOID_PIXEL_AREA` (one S1Tiling made): the radar
pixel's ellipsoid area comes from the `PixelSpacing` and `LineSpacing` it keeps, else from the
stage's `reference_area`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.geo import Grid
from s1tiling_cloud.stages.rtc import reference_pixel_area, rtc
from s1tiling_cloud.store import Store

TILE = "31TCJ"
RES = 600.0
MAP_TAGS = {"DATA_TYPE": "meters^2", "IMAGE_TYPE": "GRD", "S2_TILE_CORRESPONDING_CODE": TILE,
            "RELATIVE_ORBIT_NUMBER": "110", "ORBIT_DIRECTION": "DES"}


def test_reference_pixel_area_from_the_tags():
    assert reference_pixel_area({"ELLIPSOID_PIXEL_AREA": "1600", "PixelSpacing": "10",
                                 "LineSpacing": "10"}, 100.0) == 1600.0
    assert reference_pixel_area({"PixelSpacing": "25", "LineSpacing": "40"}, 100.0) == 1000.0
    assert reference_pixel_area({"PixelSpacing": "25"}, 100.0) == 100.0
    assert reference_pixel_area({"PixelSpacing": "x", "LineSpacing": "40"}, 100.0) == 100.0
    assert reference_pixel_area({}, 250.0) == 250.0


@pytest.mark.parametrize(("tags", "pixel_area"), [
    ({"PixelSpacing": "40", "LineSpacing": "40"}, 1600.0),  # S1Tiling's map of a 40 m GRD
    ({}, 100.0),  # nothing said: the stage's reference_area (GRDH)
])
def test_rtc_of_a_map_without_our_pixel_area(tmp_path, tags, pixel_area):
    grid = Grid.from_tile(TILE, RES)
    store = Store()
    area = np.full(grid.shape, 0.7 * pixel_area, np.float32)  # flat: A_γ = A_σ,E cos θ_E
    map_uri = str(tmp_path / "GAMMA_AREA.tif")
    store.write_cog(map_uri, area, crs=grid.crs, transform=grid.transform, nodata=float("nan"),
                    tags={**MAP_TAGS, **tags}, overviews=None)
    sigma_uri = str(tmp_path / "sigma.tif")
    store.write_cog(sigma_uri, np.full(grid.shape, 0.05, np.float32), crs=grid.crs,
                    transform=grid.transform, nodata=0.0, overviews=None,
                    tags={**MAP_TAGS, "CALIBRATION": "sigma", "IMAGE_TYPE": "BACKSCATTERING",
                          "POLARIZATION": "vv"})
    out = str(tmp_path / "rtc.tif")
    rtc(sigma_uri, map_uri, out)
    with rasterio.open(out) as dataset:
        gamma0 = dataset.read(1)
        recorded = json.loads(dataset.tags()["PROVENANCE_PARAMS"])
    np.testing.assert_allclose(gamma0, 0.05 / 0.7, rtol=1e-6)  # γ°_T = σ° A_σ,E / A_γ
    # the rule is in the provenance: a γ°_T made before it (reference_area whatever the map's
    # spacings) is not reused
    assert recorded["reference"] == "spacing"
