"""Every invalid `.cfg` is a ConfigurationError (exit 72) naming the option and the file."""

from __future__ import annotations

import pytest

from s1tiling_cloud.config import load_request
from s1tiling_cloud.exceptions import ConfigurationError, exit_code_for
from s1tiling_cloud.store import S3Config

LEE = {("Filtering", "filter"): "lee", ("Filtering", "window_radius"): "2",
       ("Filtering", "nblooks"): "4", ("Filtering", "keep_non_filtered_products"): "True"}


def without(changes: dict, key: tuple[str, str]) -> dict:
    return {**changes, key: None}


# (changes to the minimal configuration, words the message must contain)
CASES = {
    "missing output": ({("Paths", "output"): None}, ["output", "Paths"]),
    "missing dem_dir": ({("Paths", "dem_dir"): None}, ["dem_dir", "Paths"]),
    "missing download": ({("DataSource", "download"): None}, ["download", "DataSource"]),
    "missing polarisation": ({("DataSource", "polarisation"): None}, ["polarisation"]),
    "missing generate_border_mask": ({("Mask", "generate_border_mask"): None}, ["generate_border_mask"]),
    "missing calibration": ({("Processing", "calibration"): None}, ["calibration", "Processing"]),
    "missing tiles": ({("Processing", "tiles"): None}, ["tiles", "tiles_list_in_file"]),
    "missing nb_otb_threads": ({("Processing", "nb_otb_threads"): None}, ["nb_otb_threads"]),
    "bad orbit_direction": ({("DataSource", "orbit_direction"): "NORTH"}, ["orbit_direction", "NORTH"]),
    "bad polarisation": ({("DataSource", "polarisation"): "VV+VH"}, ["polarisation", "VV-VH"]),
    "overlap ratio > 100": ({("DataSource", "tile_to_product_overlap_ratio"): "150"},
                            ["tile_to_product_overlap_ratio"]),
    "lower_signal_value <= 0": ({("Processing", "lower_signal_value"): "0"}, ["lower_signal_value"]),
    "bad cache_dem_by": ({("Processing", "cache_dem_by"): "hardlink"}, ["cache_dem_by", "hardlink"]),
    "bad dem_warp_resampling_method": ({("Processing", "dem_warp_resampling_method"): "bicubic"},
                                       ["dem_warp_resampling_method", "bicubic"]),
    "bad filter": ({("Filtering", "filter"): "median"}, ["filter", "median", "lee/frost/gammamap/kuan"]),
    "filter without window_radius": (without(LEE, ("Filtering", "window_radius")),
                                     ["window_radius", "required with filter lee"]),
    "frost without deramp": ({**LEE, ("Filtering", "filter"): "frost"}, ["deramp", "Filtering"]),
    "lee without nblooks": (without(LEE, ("Filtering", "nblooks")), ["nblooks"]),
    "kuan without keep_non_filtered_products": (
        {**without(LEE, ("Filtering", "keep_non_filtered_products")), ("Filtering", "filter"): "KUAN"},
        ["keep_non_filtered_products"]),
    "bad calibration": ({("Processing", "calibration"): "sigma0"}, ["calibration", "sigma0"]),
    "bad interpolation": ({("Processing", "orthorectification_interpolation_method"): "cubic"},
                          ["orthorectification_interpolation_method"]),
    "bad creation option": ({("Processing", "creation_options.tiled"): "float32 compress=deflate"},
                            ["creation_options.tiled", "compress=deflate"]),
    "bad pixel type": ({("Processing", "creation_options.mask"): "byte COMPRESS=DEFLATE"},
                       ["creation_options.mask", "byte"]),
    "unknown fname field": ({("Processing", "fname_fmt.concatenation"): "{tile_name}_{colour}.tif"},
                            ["fname_fmt.concatenation", "colour"]),
    "positional fname field": ({("Processing", "fname_fmt.filtered"): "{}_{tile_name}.tif"},
                               ["fname_fmt.filtered"]),
    "bad fname conversion": ({("Processing", "fname_fmt.quicklook"): "{tile_name!x}.jpg"},
                             ["fname_fmt.quicklook", "!x"]),
    "unknown dname field": ({("Processing", "dname_fmt.tiled"): "{out_dir}/{orbit}"}, ["dname_fmt.tiled"]),
    "two gamma area names": ({("Processing", "fname_fmt.gamma_area"): "GA_{tile_name}.tif",
                              ("Processing", "fname_fmt.gamma_area_product"): "G_{tile_name}.tif"},
                             ["fname_fmt", "gamma_area_product"]),
    "legacy PEPS section": ({("PEPS", "download"): "True"}, ["[PEPS]", "[DataSource]"]),
    "platform not S1": ({("DataSource", "platform_list"): "S1A, S2A"}, ["S2A", "platform_list"]),
    "deprecated no_use_resampled_dem": ({("Processing", "no_use_resampled_dem"): "False"},
                                        ["no_use_resampled_dem", "use_resampled_dem"]),
    "unreadable tiles file": ({("Processing", "tiles_list_in_file"): "/nowhere/tiles.txt"},
                              ["tiles_list_in_file", "/nowhere/tiles.txt"]),
    "ALL + download + roi ALL": ({("Processing", "tiles"): "ALL", ("DataSource", "roi_by_tiles"): "ALL"},
                                 ["ROI_by_tiles", "Tiles : ALL"]),
    "ALL mixed with tiles": ({("Processing", "tiles"): "ALL 31TCJ"}, ["tiles", "ALL"]),
    "tmp parent missing": ({("Paths", "tmp"): "/nowhere/at/all/tmp"}, ["tmp", "/nowhere/at/all/tmp"]),
    "date not YYYY-MM-DD": ({("DataSource", "first_date"): "2020/01/01"}, ["first_date", "YYYY-MM-DD"]),
    "impossible date": ({("DataSource", "last_date"): "2020-02-30"}, ["last_date"]),
    "first after last": ({("DataSource", "first_date"): "2020-02-01"}, ["first_date", "last_date"]),
    "malformed roi tile": ({("DataSource", "roi_by_tiles"): "T31"}, ["roi_by_tiles", "T31"]),
    "relative orbit 200": ({("DataSource", "relative_orbit_list"): "7, 200"}, ["relative_orbit_list", "200"]),
    "relative orbit 0": ({("DataSource", "relative_orbit_list"): "0"}, ["relative_orbit_list"]),
    "bad boolean": ({("DataSource", "download"): "maybe"}, ["download", "DataSource", "maybe"]),
    "bad boolean mask": ({("Mask", "generate_border_mask"): "2"}, ["generate_border_mask"]),
    "bad integer": ({("Processing", "nb_parallel_processes"): "two"}, ["nb_parallel_processes", "two"]),
    "bad float": ({("Processing", "output_spatial_resolution"): "ten"}, ["output_spatial_resolution"]),
    "zero resolution": ({("Processing", "output_spatial_resolution"): "0"}, ["output_spatial_resolution"]),
    "zero processes": ({("Processing", "nb_parallel_processes"): "0"}, ["nb_parallel_processes"]),
    "bad ratio": ({("Quicklook", "ratio"): "0"}, ["ratio", "Quicklook"]),
    "bad ia map": ({("Processing", "ia_maps_to_produce"): "deg, sec"}, ["ia_maps_to_produce", "sec"]),
    "bad nodata": ({("Processing", "nodata.LIA"): "abc"}, ["nodata.LIA"]),
    "bad disable_streaming": ({("Processing", "disable_streaming.gamma_area"): "perhaps"},
                              ["disable_streaming.gamma_area"]),
    "missing tiles_shapefile": ({("Processing", "tiles_shapefile"): "/nowhere/MGRS.gpkg"},
                                ["tiles_shapefile"]),
    "bad engine": ({("Processing", "engine"): "gpu"}, ["engine", "native", "otb"]),
    "missing environment variable": ({("Paths", "tmp"): "%(NO_SUCH_VARIABLE)s/tmp"},
                                     ["tmp", "Paths", "no_such_variable", "environment variable"]),
    "storage access key": ({("Storage", "aws_access_key_id"): "AKIA..."},
                           ["aws_access_key_id", "environment"]),
    "storage secret": ({("Storage", "aws_secret_access_key"): "s3cr3t"},
                       ["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"]),
    "storage session token": ({("Storage", "session_token"): "x"}, ["session_token"]),
    "stac password": ({("Stac", "password"): "x"}, ["[Stac] password", "environment"]),
    "url with credentials": ({("Storage", "endpoint_url"): "https://me:pw@minio.example.org"},
                             ["endpoint_url", "credentials"]),
    "bad addressing style": ({("Storage", "addressing_style"): "dns"}, ["addressing_style", "dns"]),
    "bad stac api url": ({("Stac", "api_url"): "ftp://stac.example.org"}, ["api_url"]),
    "bad storage boolean": ({("Storage", "anonymous"): "perhaps"}, ["anonymous", "Storage"]),
    "storage timeout not a number": ({("Storage", "read_timeout"): "1m"},
                                     ["read_timeout", "Storage", "a number"]),
    "storage timeout not positive": ({("Storage", "connect_timeout"): "0"},
                                     ["connect_timeout", "Storage", "positive"]),
    "storage attempts not positive": ({("Storage", "max_attempts"): "0"}, ["max_attempts", "Storage"]),
}


@pytest.mark.parametrize("changes, words", CASES.values(), ids=CASES.keys())
def test_invalid_option_is_a_configuration_error_naming_key_and_file(write_cfg, env, changes, words):
    path = write_cfg(changes)
    with pytest.raises(ConfigurationError) as caught:
        load_request(path, environ=env)
    error = caught.value
    message = str(error)
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    assert str(path) in message and error.config_file == str(path)
    assert exit_code_for(error) == 72


def test_unreadable_or_malformed_file(tmp_path, env):
    missing = tmp_path / "missing.cfg"
    with pytest.raises(ConfigurationError, match="missing.cfg") as caught:
        load_request(missing, environ=env)
    assert exit_code_for(caught.value) == 72
    with pytest.raises(ConfigurationError, match="broken.cfg"):
        load_request(tmp_path / "broken.cfg", text="output = /data\n[Paths]\n", environ=env)
    with pytest.raises(ConfigurationError, match=r"\[Paths\].*twice"):
        load_request(tmp_path / "twice.cfg", text="[Paths]\noutput=/a\n[PATHS]\ntmp=/b\n", environ=env)


def test_tmp_may_be_missing_when_its_parent_exists_and_s3_is_not_checked(write_cfg, env, tmp_path):
    assert load_request(write_cfg({("Paths", "tmp"): str(tmp_path / "new")}), environ=env).paths.tmp == str(
        tmp_path / "new")
    assert load_request(write_cfg({("Paths", "tmp"): "s3://bucket/tmp/deep"}), environ=env).paths.tmp == (
        "s3://bucket/tmp/deep")


def test_masks_force_keeping_non_filtered_products(write_cfg, env, caplog):
    request = load_request(write_cfg({**LEE, ("Filtering", "keep_non_filtered_products"): "False",
                                      ("Mask", "generate_border_mask"): "True"}), environ=env)
    assert request.filtering.keep_non_filtered_products is True
    assert "keep_non_filtered_products value will be ignored" in caplog.text


def test_storage_time_limits_reach_the_store(write_cfg, env):
    """`[Storage]`'s time limits are in the storage options, which configure the store's
    clients; absent, the options say nothing of them (the store's defaults apply)."""
    request = load_request(write_cfg({("Storage", "connect_timeout"): "2.5",
                                      ("Storage", "read_timeout"): "30",
                                      ("Storage", "max_attempts"): "5"}), environ=env)
    options = request.storage.storage_options()
    assert options["config_kwargs"] == {"connect_timeout": 2.5, "read_timeout": 30.0,
                                        "retries": {"total_max_attempts": 5}}
    s3 = S3Config.resolve(options, {})
    assert (s3.connect_timeout, s3.read_timeout, s3.max_attempts) == (2.5, 30.0, 5)
    plain = load_request(write_cfg({}), environ=env).storage.storage_options()
    assert "config_kwargs" not in plain


def test_unknown_options_are_ignored_with_a_warning(write_cfg, env, caplog):
    request = load_request(write_cfg({("Processing", "calibrattion"): "beta",
                                      ("Filter", "filter"): "lee"}), environ=env)
    assert request.processing.calibration == "sigma" and request.filtering.filter is None
    assert "Unknown option [Processing] calibrattion" in caplog.text
    assert "Unknown section [Filter]" in caplog.text


def test_malformed_tile_names_are_dropped_by_the_planner_with_73_when_none_is_left(write_cfg, env,
                                                                                   caplog):
    # S1Tiling keeps [Processing] tiles as written and drops what is not a tile: exit 73, not 72.
    from s1tiling_cloud.exceptions import NoS2TileError
    from s1tiling_cloud.plan.request import plan_request

    request = load_request(write_cfg({("Processing", "tiles"): "3XYZ, 61tcj"}), environ=env)
    assert request.processing.tiles == ["3XYZ", "61TCJ"]
    with pytest.raises(NoS2TileError, match="3XYZ, 61TCJ") as caught:
        plan_request(request)
    assert exit_code_for(caught.value) == 73
    assert "Tile 3XYZ does not exist, skipping" in caplog.text
