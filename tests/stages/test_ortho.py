"""The heights and ortho stages end to end on a synthetic GRD: σ° comes out as the truth on the
S2 grid, tags are S1Tiling's, a re-run is skipped, outputs also go to the S3 API server."""

from __future__ import annotations

import os

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.exceptions import ConfigurationError, NotCompatibleInput
from s1tiling_cloud.stages.heights import heights
from s1tiling_cloud.stages.ortho import ortho
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import SyntheticGRD, write_flat_dem, write_grd
from tests.conftest import SAFE_DIR, SLC_2021
from tests.s3server import s3_client, storage_options

TILE = "31TCJ"  # Toulouse; the product below sits inside it


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ortho")
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=1500, samples=1800,
                        sigma0_db=-12.0, looks=50.0, seed=5)
    product = write_grd(spec, folder / "s1")
    dem = folder / "dem.tif"
    write_flat_dem(dem, 0.0, 45.0, 1 / 200, 400, 600)
    heights_uri = str(folder / "heights.tif")
    heights(TILE, 60.0, heights_uri, {"dem_dir": str(dem)})
    return {"folder": folder, "product": str(product), "heights": heights_uri}


def test_heights_are_the_geoid_over_a_flat_dem(inputs):
    with rasterio.open(inputs["heights"]) as dataset:
        values = dataset.read(1)
        assert dataset.shape == (1830, 1830) and dataset.crs.to_epsg() == 32631
        assert dataset.tags()["IMAGE_TYPE"] == "HEIGHT"
    assert np.nanmin(values) > 45 and np.nanmax(values) < 53  # EGM96 around Toulouse: ~+49 m


def test_sigma0_on_the_tile_is_the_truth(inputs):
    outputs = {"VV": str(inputs["folder"] / "vv.tif"), "VH": str(inputs["folder"] / "vh.tif")}
    result = ortho(inputs["product"], TILE, inputs["heights"], outputs, {"resolution": 60.0})
    assert result.outputs == list(outputs.values()) and not result.skipped
    with rasterio.open(outputs["VV"]) as dataset:
        values = dataset.read(1)
        tags = dataset.tags()
        assert dataset.nodata == 0 and dataset.dtypes[0] == "float32"
        assert dataset.profile["blockxsize"] == 512
    valid = values > 0
    assert 5000 < valid.sum() < values.size / 10  # a small product on a big tile
    assert 10 * np.log10(values[valid].mean()) == pytest.approx(-12.0, abs=0.05)
    assert tags["CALIBRATION"] == "sigma" and tags["NOISE_REMOVED"] == "True"
    assert tags["S2_TILE_CORRESPONDING_CODE"] == TILE and tags["ORTHORECTIFIED"] == "true"
    assert tags["ORTHORECTIFICATION_INTERPOLATOR"] == "nn"
    assert tags["ACQUISITION_DATETIME"] == "2020:01:08T04:41:50Z"
    again = ortho(inputs["product"], TILE, inputs["heights"], outputs, {"resolution": 60.0})
    assert again.skipped
    changed = ortho(inputs["product"], TILE, inputs["heights"], outputs,
                    {"resolution": 60.0, "calibration": "beta"})
    assert not changed.skipped
    with rasterio.open(outputs["VV"]) as dataset:
        beta = dataset.read(1)
        assert dataset.tags()["CALIBRATION"] == "beta"
    both = valid & (beta > 0)
    ratio = np.median(beta[both] / values[both])  # β°/σ° = 1/sin(incidence), ~39° here
    assert 1.4 < ratio < 1.8


def test_outputs_to_object_storage(inputs, s3_server):
    options = storage_options(s3_server)
    store = Store(options)
    s3_client(s3_server).create_bucket(Bucket="products")
    uri = "s3://products/31TCJ/vv.tif"
    result = ortho(inputs["product"], TILE, inputs["heights"], {"VV": uri},
                   {"resolution": 60.0, "interpolation": "linear"}, storage_options=options)
    assert result.outputs == [uri] and store.exists(uri)
    with store.open_raster(uri) as dataset:
        assert dataset.tags()["ORTHORECTIFICATION_INTERPOLATOR"] == "linear"
        assert (dataset.read(1) > 0).sum() > 5000


def test_bad_params_are_refused(inputs):
    # A bad parameter is a configuration error (exit 72) in every stage (`StageCall.params`).
    with pytest.raises(ConfigurationError, match="interpolation"):
        ortho(inputs["product"], TILE, inputs["heights"], {"VV": "/tmp/x.tif"},
              {"interpolation": "lanczos"})


def test_heights_of_another_grid_are_refused(inputs, tmp_path):
    other = str(tmp_path / "heights_120m.tif")
    heights(TILE, 120.0, other, {"dem_dir": str(inputs["folder"] / "dem.tif")})
    with pytest.raises(NotCompatibleInput, match="not on the tile's grid"):
        ortho(inputs["product"], TILE, other, {"VV": str(tmp_path / "vv.tif")},
              {"resolution": 60.0})
    assert not (tmp_path / "vv.tif").exists()


def test_slc_products_are_refused(inputs, tmp_path):
    slc = SAFE_DIR / SLC_2021
    if not slc.is_dir():
        pytest.skip(f"fixtures not found at {SAFE_DIR}")
    with pytest.raises(NotCompatibleInput, match="SLC"):
        ortho(str(slc), TILE, inputs["heights"], {"VV": str(tmp_path / "vv.tif")},
              {"resolution": 60.0})


def test_old_ipf_margins_are_cut(tmp_path):
    """IPF < 2.90: S1Tiling cuts 1000 columns on both sides before orthorectifying."""
    from s1tiling_cloud.engine.native.calibrate import calibrate_window, product_border_cuts
    from s1tiling_cloud.geo.tile_projection import RadarWindow
    from s1tiling_cloud.safe import Sentinel1Product

    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=300, samples=2600,
                        ipf_version="002.72", seed=9)
    product = Sentinel1Product(write_grd(spec, tmp_path))
    cuts = product_border_cuts(product, "IW", "VV")
    assert (cuts.x, cuts.y_start, cuts.y_end) == (1000, 0, 0)
    image = calibrate_window(product, "IW", "VV", RadarWindow(0, 300, 0, 2600), cuts=cuts)
    assert (image[:, :1000] == 0).all() and (image[:, -1000:] == 0).all()
    assert (image[:, 1000:1600] > 0).mean() > 0.9


def test_heights_of_a_coastal_tile_take_the_geoid_over_sea_cells(tmp_path):
    """32VKM's western cells are North Sea: no DEM tile there, the geoid stands in and says so."""
    from s1tiling_cloud.geo import Geoid, Grid
    from s1tiling_cloud.testing import write_dem_tiles

    write_dem_tiles(100.0, (59.1, 60.9), (4.1, 5.9), tmp_path / "dem", kind="srtm3")  # land only
    out = str(tmp_path / "heights.tif")
    result = heights("32VKM", 60.0, out, {"dem_dir": str(tmp_path / "dem")})
    with rasterio.open(out) as dataset:
        values = dataset.read(1)
        tags = dataset.tags()
    assert result.details["dem_tiles"] == 4
    assert tags["DEM_GEOID"] == "geoid over the sea cells N59E003, N60E003"
    assert tags["DEM_INFO"] == "dem; geoid over the sea cells N59E003, N60E003"
    assert tags["DEM_LIST"] == "N59E004.hgt,N59E005.hgt,N60E004.hgt,N60E005.hgt"
    geoid = Geoid.open(None).on_grid(Grid.from_tile("32VKM", 60.0))
    assert np.isfinite(values).all()
    assert np.abs(values[:, :100] - geoid[:, :100]).max() < 1e-3  # 3.0-3.1 E: sea, h = geoid
    assert np.abs(values[:, -100:] - geoid[:, -100:] - 100.0).max() < 1e-2  # land at 100 m


def test_heights_say_the_configured_dem_info(tmp_path):
    """`DemParams.info` (`[Paths] dem_info`) is the tile's `DEM_INFO`, which LIA/IA maps copy."""
    from s1tiling_cloud.testing import write_dem_tiles

    write_dem_tiles(100.0, (59.1, 60.9), (4.1, 5.9), tmp_path / "dem", kind="srtm3")
    out = str(tmp_path / "heights.tif")
    heights("32VKM", 360.0, out, {"dem_dir": str(tmp_path / "dem"), "info": "SRTM 3 arcsec"})
    with rasterio.open(out) as dataset:
        assert dataset.tags()["DEM_INFO"].startswith("SRTM 3 arcsec; geoid over the sea cells")
    # a tag only: not in the provenance, so a changed name reuses the heights (and all made
    # from them), as before the name was configurable
    renamed = {"dem_dir": str(tmp_path / "dem"), "info": "another name"}
    assert heights("32VKM", 360.0, out, renamed).skipped
    assert heights("32VKM", 360.0, out, {"dem_dir": str(tmp_path / "dem")}).skipped


def _bytes_without_datetime(path) -> bytes:
    """The file's bytes, its TIFFTAG_DATETIME (the second it was written, fixed length) blanked."""
    import re

    return re.sub(rb"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d\x00", b"0" * 20, path.read_bytes())


def test_polarisations_written_at_once_are_the_bytes_written_one_by_one(inputs, tmp_path):
    """VV and VH (products and masks) are encoded in threads of their own at the same time;
    each file is the one a call for that polarisation alone writes."""
    names = {"VV": "vv.tif", "VH": "vh.tif"}
    outputs = {pol: str(tmp_path / name) for pol, name in names.items()}
    masks = {pol: str(tmp_path / name.replace(".tif", "_mask.tif")) for pol, name in names.items()}
    params = {"resolution": 60.0, "day_product": True}
    ortho(inputs["product"], TILE, inputs["heights"], outputs, params, masks=masks)
    together = {path: _bytes_without_datetime(tmp_path / path) for path in os.listdir(tmp_path)}
    assert len(together) == 4
    for pol in names:
        for path in together:
            (tmp_path / path).unlink(missing_ok=True)
        ortho(inputs["product"], TILE, inputs["heights"], {pol: outputs[pol]}, params,
              masks={pol: masks[pol]})
        for path in (outputs[pol], masks[pol]):
            assert _bytes_without_datetime(tmp_path / path) == together[os.path.basename(path)]
