"""S1Tiling's own example configurations parse into the request with S1Tiling's defaults."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from s1tiling_cloud.config import CreationOptions, Request, check_scenario, load_request
from s1tiling_cloud.config.model import DataSourceSection, PathsSection, ProcessingSection
from s1tiling_cloud.exceptions import NoS2TileError
from s1tiling_cloud.geo import S2Tile
from s1tiling_cloud.outputs.names import Naming

from .conftest import MINIMAL_CFG, edit_cfg

LOSSLESS_GAMMA_AREA = ("float64 COMPRESS=DEFLATE, BIGTIFF=YES, PREDICTOR=3, TILED=YES, BLOCKXSIZE=1024, "
                       "BLOCKYSIZE=1024")
THEIA_FMT = ("{flying_unit_code!u}_L1ORT_{tile_name}_{polarisation!u}_{calibration_type!u:.3}_"
             "{orbit_direction}_{orbit}_{acquisition_start}.tif")


def test_minimal_config_verbatim_has_s1tiling_defaults(tmp_path, env):
    path = tmp_path / "MyS1ToS2.cfg"
    path.write_text(MINIMAL_CFG)
    request = load_request(path, environ=env)

    assert request.source == str(path)
    assert request.paths == PathsSection(
        output="/data/out", s1_images="/data/raw", tmp=f"{tmp_path}/s1tiling",
        dem_dir="/data/MNT/SRTM_30_hgt", dem_info="SRTM_30_hgt")
    assert (request.paths.lia_dir, request.paths.ia_dir) == ("/data/out/_LIA", "/data/out/_IA")
    assert (request.paths.gamma_area_dir, request.paths.eof) == ("/data/out/_GAMMA_AREA", "/data/out/_EOF")
    assert request.data_source == DataSourceSection(
        download=True, roi_by_tiles=["33NWB"], first_date=date(2020, 1, 1), last_date=date(2020, 1, 10),
        polarisation="VV-VH")
    assert request.data_source.polarisations == ["vv", "vh"]
    assert request.mask.generate_border_mask is False
    assert request.processing == ProcessingSection(
        calibration="sigma", remove_thermal_noise=True, output_spatial_resolution=10.0,
        orthorectification_gridspacing=40.0, tiles=["33NWB"], nb_parallel_processes=2,
        ram_per_process=4096, nb_otb_threads=4, mode="Normal logging")
    p = request.processing  # S1Tiling's defaults, spelled out
    assert (p.lower_signal_value, p.orthorectification_interpolation_method, p.cache_dem_by) == (
        1e-7, "nn", "symlink")
    assert (p.dem_warp_resampling_method, p.ia_maps_to_produce, p.produce_lia_map) == (
        "cubic", ["deg"], False)
    assert (p.use_resampled_dem, p.resample_dem_factor_x, p.resample_dem_factor_y) == (True, 2.0, 2.0)
    assert (p.inner_margin_ratio, p.outer_margin_ratio, p.min_gamma_area, p.calibration_factor) == (
        0.01, 0.04, 1.0, 1.0)
    # distribute_area: S1Tiling's False would alias our 2 × 2 facets per radar cell
    assert (p.override_azimuth_cut_threshold_to, p.distribute_area, p.engine) == (None, True, "native")
    q = request.quicklook
    assert (q.generate, q.ratio, q.scale_vv, q.scale_vh, q.scale_hv, q.scale_hh) == (
        False, 5, 0.5, 0.05, 0.5, 0.5)
    assert request.filtering.filter is None
    assert request.storage.storage_options() == {} and request.stac.publish is True
    assert request.metadata == {}


def test_request_round_trips_through_json(write_cfg, env):
    request = load_request(write_cfg({
        ("DataSource", "relative_orbit_list"): "7, 110", ("DataSource", "orbit_direction"): "DES",
        ("Processing", "creation_options.tiled"): "COMPRESS=LZW",
        ("Processing", "disable_streaming.gamma_area"): "True", ("Metadata", "Project"): "demo",
        ("Filtering", "filter"): "Lee", ("Filtering", "window_radius"): "2",
        ("Filtering", "nblooks"): "4.5", ("Filtering", "keep_non_filtered_products"): "False",
        ("Storage", "endpoint_url"): "https://s3.example.org"}), environ=env)
    data = json.loads(json.dumps(request.to_dict()))
    assert data["data_source"]["first_date"] == "2020-01-01"
    rebuilt = Request.from_dict(data)
    assert rebuilt == request
    assert rebuilt.data_source.last_date == date(2020, 1, 10)
    assert (rebuilt.filtering.filter, rebuilt.filtering.nblooks) == ("lee", 4.5)


def test_normlim_variant(write_cfg, env):
    request = load_request(write_cfg({("Processing", "calibration"): "normlim",
                                      ("DataSource", "platform_list"): "S1A",
                                      ("DataSource", "relative_orbit_list"): "7"}), environ=env)
    assert request.processing.calibration == "normlim"
    assert request.data_source.platform_list == ["S1A"]
    assert request.data_source.relative_orbit_list == [7]
    assert Naming("normlim").fname("final").endswith("_NormLim.tif")


def test_cnes_variant_interpolates_the_environment(write_cfg, env):
    path = write_cfg({("Processing", "nb_parallel_processes"): "%(NB_OTB_PIPELINES)s",
                      ("Processing", "cache_dem_by"): "copy",
                      ("Paths", "output"): "%(HOME)s/out"})
    request = load_request(path, environ={**env, "NB_OTB_PIPELINES": "10"})
    assert request.processing.nb_parallel_processes == 10
    assert request.processing.cache_dem_by == "copy"
    assert request.paths.output == f"{env['HOME']}/out"


def test_lossless_gamma_area_options(write_cfg, env):
    request = load_request(write_cfg({
        ("Processing", "calibration"): "gamma_naught_rtc", ("Processing", "ram_per_process"): "70000",
        ("Processing", "disable_streaming.gamma_area"): "True",
        ("Processing", "creation_options.s1_on_dem"): LOSSLESS_GAMMA_AREA}), environ=env)
    p = request.processing
    assert p.ram_per_process == 70000
    assert p.disable_streaming == {"gamma_area": True}
    assert p.creation_options == {"s1_on_dem": LOSSLESS_GAMMA_AREA}
    options = CreationOptions.parse(p.creation_options["s1_on_dem"], "s1_on_dem")
    assert (options.pixel_type, options.dtype) == ("float64", "float64")
    assert options.gdal_options() == {"COMPRESS": "DEFLATE", "BIGTIFF": "YES", "PREDICTOR": "3",
                                      "TILED": "YES", "BLOCKXSIZE": "1024", "BLOCKYSIZE": "1024"}


def test_every_creation_options_key_is_honoured(write_cfg, env):
    """S1Tiling 1.4.2 keeps only the first key it finds (⚠ spec §2.4); all are kept here."""
    request = load_request(write_cfg({
        ("Processing", "creation_options.tiled"): "COMPRESS=ZSTD PREDICTOR=3",
        ("Processing", "creation_options.mask"): "uint8 COMPRESS=DEFLATE",
        ("Processing", "creation_options.ia_cos"): "float32,COMPRESS=LZW"}), environ=env)
    assert set(request.processing.creation_options) == {"tiled", "mask", "ia_cos"}
    assert CreationOptions.parse(request.processing.creation_options["ia_cos"]).gdal == ("COMPRESS=LZW",)


def test_theia_fname_fmt_and_dname_fmt(write_cfg, env):
    request = load_request(write_cfg({("Processing", "fname_fmt.concatenation"): THEIA_FMT,
                                      ("Processing", "dname_fmt.tiled"): "{out_dir}/THEIA/{tile_name}"}),
                           environ=env)
    assert request.processing.fname_fmt == {"concatenation": THEIA_FMT}
    naming = Naming(request.processing.calibration, request.processing.fname_fmt,
                    request.processing.dname_fmt)
    name = naming.filename("final", {
        "flying_unit_code": "s1a", "tile_name": "33NWB", "polarisation": "vh", "calibration_type": "sigma",
        "orbit_direction": "DES", "orbit": "007", "acquisition_start": "20200108t044150"})
    assert name == "S1A_L1ORT_33NWB_VH_SIG_DES_007_20200108t044150.tif"
    assert naming.folder("final", {"out_dir": "/o", "tile_name": "33NWB"}) == "/o/THEIA/33NWB"


def test_legacy_aliases_lists_and_case(tmp_path, env):
    """`srtm`, `eodagConfig`, `[PATHS]` (the docs' spelling), upper-case names, mixed separators."""
    text = MINIMAL_CFG.replace("[Paths]", "[PATHS]").replace("dem_dir:", "SRTM:").replace(
        "output:", "Output:")
    text = edit_cfg(text, {("DataSource", "eodagConfig"): "eodag.yml",
                           ("DataSource", "platform_list"): "s1a S1B,S1C",
                           ("DataSource", "relative_orbit_list"): "[7, 110 ; 8]",
                           ("DataSource", "orbit_direction"): "DSC",
                           ("DataSource", "roi_by_tiles"): "ALL",
                           ("Processing", "tiles"): "31TCJ  t31tdj,33NWB,, 1CCV"})
    request = load_request(tmp_path / "x.cfg", text=text, environ=env)
    assert request.paths.dem_dir == "/data/MNT/SRTM_30_hgt" and request.paths.output == "/data/out"
    assert request.data_source.eodag_config == os.path.join(os.getcwd(), "eodag.yml")
    assert request.data_source.platform_list == ["S1A", "S1B", "S1C"]
    assert request.data_source.relative_orbit_list == [7, 110, 8]
    assert request.data_source.orbit_direction == "DES"
    assert request.data_source.roi_by_tiles == ["ALL"]
    assert request.processing.tiles == ["31TCJ", "31TDJ", "33NWB", "01CCV"]


def test_tiles_list_in_file_wins_over_tiles(write_cfg, tmp_path, env):
    tiles = tmp_path / "tiles.txt"
    tiles.write_text("31TCJ\n\n33NWB   # Gabon\n31TDJ\n")
    request = load_request(write_cfg({("Processing", "tiles_list_in_file"): str(tiles)}), environ=env)
    assert request.processing.tiles == ["31TCJ", "33NWB", "31TDJ"]
    assert request.processing.tiles_list_in_file == str(tiles)
    no_tiles = load_request(write_cfg({("Processing", "tiles"): None,
                                       ("Processing", "tiles_list_in_file"): str(tiles)}), environ=env)
    assert no_tiles.processing.tiles == ["31TCJ", "33NWB", "31TDJ"]


def test_unknown_but_well_formed_tiles_are_left_to_the_planner(write_cfg, env):
    request = load_request(write_cfg({("Processing", "tiles"): "31TCJ 31TZV"}), environ=env)
    assert request.processing.tiles == ["31TCJ", "31TZV"]
    with pytest.raises(NoS2TileError):  # what the planner meets, and drops with a warning
        S2Tile.from_name("31TZV")


def test_relative_paths_are_made_absolute_and_uris_kept(write_cfg, env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    request = load_request(write_cfg({
        ("Paths", "output"): "out", ("Paths", "s1_images"): "s3://bucket/raw",
        ("Paths", "tmp"): "work", ("Paths", "dem_dir"): "s3://dem/cop30/",
        ("Paths", "geoid_file"): "s3://dem/egm2008.tif", ("Paths", "lia"): "maps/lia",
        ("Paths", "eof_dir"): "s3://bucket/eof"}), environ=env)
    paths = request.paths
    assert (paths.output, paths.tmp, paths.lia) == (str(tmp_path / "out"), str(tmp_path / "work"),
                                                    str(tmp_path / "maps/lia"))
    assert (paths.s1_images, paths.dem_dir, paths.geoid_file) == (
        "s3://bucket/raw", "s3://dem/cop30/", "s3://dem/egm2008.tif")
    assert paths.dem_info == "cop30" and paths.eof == "s3://bucket/eof"
    assert paths.ia_dir == f"{tmp_path}/out/_IA"


def test_metadata_storage_stac_and_engine(write_cfg, env):
    request = load_request(write_cfg({
        ("Metadata", "Project"): "Forest watch", ("Metadata", "CONTACT"): "someone@example.org",
        ("Metadata", "Home"): "%(HOME)s/x",
        ("Storage", "endpoint_url"): "https://minio.example.org:9000/", ("Storage", "region"): "eu-west-3",
        ("Storage", "addressing_style"): "Path", ("Storage", "verify_ssl"): "no",
        ("Stac", "catalog"): "s3://bucket/catalog.json", ("Stac", "api_url"): "https://stac.example.org",
        ("Stac", "public_url"): "https://data.example.org/bucket", ("Stac", "publish"): "off",
        ("Processing", "engine"): "OTB", ("Processing", "orthorectification_interpolation_method"): "bco",
        ("Processing", "nodata.LIA"): "-9999", ("Processing", "override_azimuth_cut_threshold_to"): "False",
        ("Processing", "ia_maps_to_produce"): "deg, cos sin"}), environ=env)
    assert request.metadata == {"Project": "Forest watch", "CONTACT": "someone@example.org",
                                "Home": f"{env['HOME']}/x"}
    assert request.storage.storage_options() == {
        "endpoint_url": "https://minio.example.org:9000", "region": "eu-west-3",
        "virtual_hosting": False, "client_kwargs": {"verify": False}}
    assert request.stac.catalog == "s3://bucket/catalog.json" and request.stac.publish is False
    assert request.stac.public_url == "https://data.example.org/bucket"
    p = request.processing
    assert (p.engine, p.orthorectification_interpolation_method) == ("otb", "bco")
    assert p.nodata == {"LIA": "-9999"} and p.override_azimuth_cut_threshold_to is False
    assert p.ia_maps_to_produce == ["deg", "cos", "sin"]


def test_environment_feeds_interpolation_only(write_cfg, env):
    """With `ConfigParser(os.environ)` a `TMP` variable would stand for a missing `[Paths] tmp`."""
    from s1tiling_cloud.exceptions import ConfigurationError

    path = write_cfg({("Paths", "tmp"): None})
    with pytest.raises(ConfigurationError, match="tmp"):
        load_request(path, environ={**env, "TMP": "/tmp", "tmp": "/tmp"})
    percent = load_request(write_cfg({("Paths", "output"): "%(WEIRD)s"}), environ={**env, "WEIRD": "/a%b"})
    assert percent.paths.output == "/a%b"


@pytest.mark.parametrize("name", ["S1Processor.cfg", "S1Processor-s3.cfg"])
def test_bundled_example_configurations(name, env):
    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / name
    request = load_request(path, environ=env)
    check_scenario(request, "s1_process")
    assert request.processing.tiles[0] == "31TCJ" and request.mask.generate_border_mask
    if name.endswith("-s3.cfg"):
        assert request.paths.dem_dir.startswith("s3://") and request.processing.calibration == "normlim"
        check_scenario(request, "s1_process_lia")
