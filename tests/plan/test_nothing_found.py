"""Nothing usable in `s1_images`: S1Tiling's code for it, never 0 with a warning.

A tile requested over an empty cache is `NoS1ImageError` (74); a truncated zip as the only
product is `CorruptedDataSAFEError` (71) naming the zip; the maps programs that can work from
the orbit files (S1LIAMap, S1IAMap) still plan their maps without any product.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from s1tiling_cloud.cli import app
from s1tiling_cloud.exceptions import CorruptedDataSAFEError, NoS1ImageError
from s1tiling_cloud.plan.request import plan_request
from s1tiling_cloud.testing import SyntheticGRD, write_dem_tiles, write_grd

from .requests import make_request, write_config


@pytest.fixture(scope="module")
def dem(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dem")
    write_dem_tiles(0.0, (43.2, 44.4), (0.45, 1.95), folder, kind="srtm3")
    return folder


@pytest.fixture(scope="module")
def truncated_zip(tmp_path_factory) -> Path:
    """A product of 2020-01-08 over 31TCJ, zipped, then cut to half its size."""
    folder = tmp_path_factory.mktemp("truncated")
    archive = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=300,
                                     start="2020-01-08T04:41:50", absolute_orbit=30704),
                        folder / "s1", zip=True)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    return archive


def test_an_empty_cache_with_a_tile_requested_is_74(tmp_path, dem):
    (tmp_path / "s1").mkdir()
    with pytest.raises(NoS1ImageError) as error:
        plan_request(make_request(str(tmp_path), dem_dir=str(dem)))
    assert error.value.exit_code == 74


def test_a_truncated_zip_as_the_only_product_is_71_naming_it(tmp_path, dem, truncated_zip):
    request = make_request(str(tmp_path), dem_dir=str(dem))
    request.paths.s1_images = str(truncated_zip.parent)
    with pytest.raises(CorruptedDataSAFEError) as error:
        plan_request(request)
    assert error.value.exit_code == 71
    assert truncated_zip.name in str(error.value)


def test_a_truncated_zip_with_every_tile_is_71(tmp_path, dem, truncated_zip):
    request = make_request(str(tmp_path), tiles=("ALL",), dem_dir=str(dem))
    request.paths.s1_images = str(truncated_zip.parent)
    with pytest.raises(CorruptedDataSAFEError, match=truncated_zip.name):
        plan_request(request)


@pytest.mark.parametrize("scenario", ["s1_process_lia", "s1_process_ia"])
def test_maps_from_orbit_files_need_no_product(tmp_path, dem, scenario):
    (tmp_path / "s1").mkdir()
    request = make_request(str(tmp_path), dem_dir=str(dem))
    request.data_source.relative_orbit_list = [7]
    plan = plan_request(request, scenario)
    maps = [n for n in plan.nodes if n.stage in ("lia", "ia")]
    assert maps and all(n.args["product"] is None for n in maps)


def test_the_cli_exits_74_and_71(tmp_path, dem, truncated_zip):
    empty = tmp_path / "empty"
    empty.mkdir()
    config = write_config(tmp_path / "empty.cfg", root=tmp_path, s1_images=empty, dem_dir=dem)
    done = CliRunner().invoke(app, ["process", str(config)])
    assert done.exit_code == 74, done.output
    assert "No S1 tiles to process" in done.output
    config = write_config(tmp_path / "zip.cfg", root=tmp_path, s1_images=truncated_zip.parent,
                          dem_dir=dem)
    done = CliRunner().invoke(app, ["process", str(config)])
    assert done.exit_code == 71, done.output
    assert truncated_zip.name in done.output.replace("\n", "")  # the console wraps lines
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.tif"))
