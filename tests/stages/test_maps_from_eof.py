"""S1LIAMap / S1IAMap from precise orbit files alone (S1Tiling ≥ 1.3): the pass of a relative
orbit over a tile is found in the EOF, and the maps are those a product of that pass gives."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.exceptions import DownloadEOFFileError
from s1tiling_cloud.geo import Grid
from s1tiling_cloud.geo.orbit_source import eof_orbit
from s1tiling_cloud.stages.ia import ia
from s1tiling_cloud.stages.lia import lia
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from tests.providers.eof_provider import write_eof

TILE = "31TCJ"
RES = 600.0  # coarse: the geometry is per pixel, the test is about the orbit's pass


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("maps_eof")
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=400, samples=500,
                        absolute_orbit=30704)
    product = write_grd(spec, folder / "s1")
    eof = write_eof(folder / "eof", spec)
    grid = Grid.from_tile(TILE, RES)
    heights = str(folder / "heights.tif")
    Store().write_cog(heights, np.full(grid.shape, 50.0, np.float32), crs=grid.crs,
                      transform=grid.transform, nodata=float("nan"), overviews=None,
                      tags={"IMAGE_TYPE": "HEIGHT", "DEM_INFO": "flat", "DEM_LIST": "N43E001.hgt"})
    return {"folder": folder, "product": str(product), "eof_dir": str(folder / "eof"),
            "eof": eof.name, "heights": heights, "orbit": spec.relative_orbit}


def _read(uri):
    with rasterio.open(uri) as dataset:
        return dataset.read(1), dataset.tags()


def test_the_pass_of_a_relative_orbit_is_found_in_the_eof(inputs):
    source = eof_orbit(inputs["eof_dir"], TILE, inputs["orbit"])
    assert source.file == inputs["eof"] and source.relative_orbit == inputs["orbit"] == 7
    assert source.orbit_direction == "DESCENDING" and source.inputs[0].endswith(inputs["eof"])
    assert eof_orbit(inputs["eof_dir"], TILE, 7, orbit_direction="DES").file == inputs["eof"]
    with pytest.raises(DownloadEOFFileError, match="relative orbit 7 over 31TCJ"):
        eof_orbit(inputs["eof_dir"], TILE, 7, orbit_direction="ASC")
    with pytest.raises(DownloadEOFFileError, match="relative orbit 8"):
        eof_orbit(inputs["eof_dir"], TILE, 8)
    with pytest.raises(DownloadEOFFileError, match=r"\(S1C\)"):
        eof_orbit(inputs["eof_dir"], TILE, 7, platforms=["S1C"])


def test_lia_and_ia_maps_from_the_eof_alone_are_the_products(inputs):
    folder = inputs["folder"]
    from_product = {"sin_LIA": str(folder / "p_sin.tif"), "LIA": str(folder / "p_lia.tif")}
    alone = {"sin_LIA": str(folder / "sin_LIA_31TCJ_007.tif"), "LIA": str(folder / "LIA_31TCJ_007.tif")}
    lia(inputs["product"], TILE, inputs["heights"], from_product, {"resolution": RES},
        eof_dir=inputs["eof_dir"])
    result = lia(None, TILE, inputs["heights"], alone, {"resolution": RES}, eof_dir=inputs["eof_dir"],
                 relative_orbit=7, platforms=["S1A"])
    assert result.outputs == list(alone.values())
    reference, _ = _read(from_product["sin_LIA"])
    values, tags = _read(alone["sin_LIA"])
    both = np.isfinite(reference) & np.isfinite(values)
    assert both.mean() > 0.9  # the whole tile is seen within ± 10 min of the pass
    assert np.abs(values[both] - reference[both]).max() < 1e-6
    assert tags["EOF_FILE"] == inputs["eof"] and tags["RELATIVE_ORBIT_NUMBER"] == "007"
    assert tags["ORBIT_DIRECTION"] == "DES" and tags["S2_TILE_CORRESPONDING_CODE"] == TILE
    ia_out = {"IA": str(folder / "IA_31TCJ_007.tif")}
    ia(None, TILE, ia_out, {"resolution": RES}, eof_dir=inputs["eof_dir"], relative_orbit=7)
    degrees, _ = _read(ia_out["IA"])
    assert ((degrees > 1500) & (degrees < 5000)).mean() > 0.9  # 15-50 degrees × 100


def test_a_map_without_a_product_needs_the_orbit_files(inputs):
    from s1tiling_cloud.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="needs eof_dir"):  # 72
        lia(None, TILE, inputs["heights"], {"sin_LIA": str(inputs["folder"] / "x.tif")})
