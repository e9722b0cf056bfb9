"""`Configuration`: S1Tiling's attribute names, construction from Python, logging, DEM coverage."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from s1tiling_cloud.config import Configuration, init_logger, load_request
from s1tiling_cloud.exceptions import ConfigurationError, MissingDEMError, exit_code_for
from s1tiling_cloud.testing import write_dem_tiles, write_flat_dem

from .conftest import MINIMAL_CFG, edit_cfg

FILTERED = {("Filtering", "filter"): "frost", ("Filtering", "window_radius"): "1",
            ("Filtering", "deramp"): "0.2", ("Filtering", "keep_non_filtered_products"): "False"}


@pytest.fixture(autouse=True)
def restore_logging():
    """`init_logger` configures the root logger: put it back as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_s1tiling_attribute_names(write_cfg, env):
    path = write_cfg({**FILTERED, ("Processing", "creation_options.tiled"): "float32 COMPRESS=LZW",
                      ("Processing", "nodata.LIA"): "-32768", ("Metadata", "Mission"): "test",
                      ("DataSource", "relative_orbit_list"): "7 110",
                      ("DataSource", "orbit_direction"): "ASC",
                      ("Paths", "geoid_file"): "/data/egm96.gtx",
                      ("Processing", "disable_streaming.apply_gamma_area"): "yes"})
    config = Configuration(path, do_show_configuration=False, environ=env, init_logging=False)
    assert config.config_file == str(path) and config.request == load_request(path, environ=env)
    assert (config.output_preprocess, config.raw_directory, config.dem) == (
        "/data/out", "/data/raw", "/data/MNT/SRTM_30_hgt")
    assert config.tmpdir == f"{env['TMPDIR']}/s1tiling"
    assert (config.lia_directory, config.ia_directory) == ("/data/out/_LIA", "/data/out/_IA")
    assert (config.gamma_area_directory, config.eof_directory) == ("/data/out/_GAMMA_AREA", "/data/out/_EOF")
    assert (config.GeoidFile, config.dem_info, config.dem_filename_format) == (
        "/data/egm96.gtx", "SRTM_30_hgt", "{id}.hgt")
    assert (config.dem_field_ids, config.dem_main_field_id) == (["id"], "id")
    assert (config.calibration_type, config.removethermalnoise, config.lower_signal_value) == (
        "sigma", True, 1e-7)
    assert (config.out_spatial_res, config.grid_spacing, config.interpolation_method) == (10.0, 40.0, "nn")
    assert (config.first_date, config.last_date, config.polarisation) == ("2020-01-01", "2020-01-10", "VV VH")
    assert (config.tile_list, config.roi_by_tiles, config.download) == (["33NWB"], "33NWB", True)
    assert config.request.data_source.roi_by_tiles == ["33NWB"]  # the parsed list
    assert config.extra_directories == {"lia_dir": "/data/out/_LIA", "ia_dir": "/data/out/_IA",
                                        "gamma_area_dir": "/data/out/_GAMMA_AREA",
                                        "eof_dir": "/data/out/_EOF"}
    assert (config.generate_quicklook, config.quicklook_ratio) == (False, 5)
    assert config.quicklook_scales == {"vv": 0.5, "vh": 0.05, "hv": 0.5, "hh": 0.5}
    assert (config.nb_procs, config.ram_per_process, config.OTBThreads) == (2, 4096, 4)
    assert (config.mask_cond, config.orbit_direction, config.relative_orbit_list) == (False, "ASC", [7, 110])
    assert (config.platform_list, config.type_image, config.Mode) == ([], "GRD", "Normal logging")
    assert (config.fname_fmt, config.dname_fmt, config.engine) == ({}, {}, "native")
    assert (config.filter, config.filter_options, config.keep_non_filtered_products) == (
        "frost", {"rad": 1, "deramp": 0.2}, False)
    assert config.creation_options == {"tiled": {"pixel_type": "float32", "gdal_options": ["COMPRESS=LZW"]}}
    assert config.nodatas == {"SAR": "0", "LIA": "-32768", "IA": "nan", "RTC": None, "XYZ": "nan"}
    assert config.disable_streaming == {"normals_on_s2": False, "gamma_area": False, "apply_gamma_area": True}
    assert config.extra_metadata == {"Mission": "test"} and config.storage_options == {}
    assert config.tile_to_product_overlap_ratio == 0 and config.nb_download_processes == 1
    with pytest.raises(AttributeError):  # read-only: the request is the one truth
        config.tile_list = ["31TCJ"]


def test_from_text_and_from_request(env, tmp_path):
    config = Configuration.from_text(MINIMAL_CFG, environ=env)
    assert config.config_file == "<string>" and config.filter == "" and config.filter_options == {}
    again = Configuration.from_request(load_request(tmp_path / "x.cfg", text=MINIMAL_CFG, environ=env))
    assert again.request.processing == config.request.processing
    with pytest.raises(ConfigurationError, match="<string>") as caught:
        Configuration.from_text(MINIMAL_CFG.replace("calibration: sigma", "calibration: sigma0"), environ=env)
    assert exit_code_for(caught.value) == 72


def test_extra_config_checks(env):
    with pytest.raises(ConfigurationError, match="needs masks"):
        Configuration.from_text(MINIMAL_CFG, environ=env,
                                extra_config_checks=[(lambda c: c.mask_cond, "needs masks")])


def test_show_configuration_logs_the_effective_values(env, caplog):
    text = edit_cfg(MINIMAL_CFG, {("Storage", "endpoint_url"): "https://minio.example.org"})
    with caplog.at_level(logging.INFO, logger="s1tiling_cloud.config"):
        Configuration.from_text(text, "demo.cfg", environ=env, do_show_configuration=True)
    assert "From request file: demo.cfg" in caplog.text
    for line in ("[Processing]", "calibration", "sigma", "33NWB", "nodata.SAR", "https://minio.example.org",
                 "/data/out/_LIA"):
        assert line in caplog.text


def test_init_logger_writes_main_log_when_mode_says_logging(tmp_path, monkeypatch):
    (tmp_path / "logs").mkdir()
    monkeypatch.chdir(tmp_path / "logs")
    setup = init_logger(tmp_path / "elsewhere", "Normal logging", console=False)  # files: here
    logging.getLogger("s1tiling_cloud.test").info("hello from the test")
    logging.getLogger("s1tiling_cloud.test").debug("not in INFO mode")
    logging.getLogger("s1tiling_cloud.test").warning("a warning")
    for handler in logging.getLogger().handlers:
        handler.flush()
    main = tmp_path / "logs" / "S1Processor-main.log"
    assert setup["files"] == [str(main), str(tmp_path / "logs" / "S1Processor-main.warning.log")]
    assert "hello from the test" in main.read_text() and "not in INFO mode" not in main.read_text()
    assert "a warning" in Path(setup["files"][1]).read_text()
    assert "hello" not in Path(setup["files"][1]).read_text()


def test_configuration_sets_up_logging_in_the_current_folder(write_cfg, env, monkeypatch, tmp_path):
    monkeypatch.setenv("OTB_LOGGER_LEVEL", "INFO")  # debug mode sets it: restored after the test
    path = write_cfg({("Processing", "mode"): "debug logging"})
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")  # S1Tiling writes its logs where it runs
    config = Configuration(path, do_show_configuration=True, environ=env)
    assert os.environ["OTB_LOGGER_LEVEL"] == "DEBUG"
    assert config.log_config["level"] == "DEBUG"
    debug_log = tmp_path / "run" / "S1Processor-main.debug.log"
    assert not (path.parent / "S1Processor-main.debug.log").exists()
    assert config.log_config["files"][0] == str(debug_log)
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "From request file" in debug_log.read_text()
    config.init_logger(path.parent / "quiet", mode="Normal")  # S1Tiling's override of the mode
    assert config.Mode == "Normal" and config.log_config["files"] == []


def test_dems_covering_a_tile(tmp_path, env):
    """31TCJ (lon 0.50..1.89, lat 43.24..44.25) needs N43E000, N43E001, N44E000 and N44E001."""
    dem_dir = tmp_path / "dem"
    written = write_dem_tiles(120.0, (43, 45), (0, 2), dem_dir, kind="srtm3")
    assert sorted(p.name for p in written) == ["N43E000.hgt", "N43E001.hgt", "N44E000.hgt", "N44E001.hgt"]
    text = edit_cfg(MINIMAL_CFG, {("Paths", "dem_dir"): str(dem_dir), ("Processing", "tiles"): "31TCJ"})
    config = Configuration.from_text(text, environ=env)
    dems = config.get_dems_covering_s2_tile("31TCJ")
    assert sorted(dems) == ["N43E000", "N43E001", "N44E000", "N44E001"]
    assert all(info["exists"] and info["uri"] == str(dem_dir / f"{name}.hgt") for name, info in dems.items())
    assert sum(info["_coverage"] for info in dems.values()) == pytest.approx(1.0)
    assert dems["N43E001"]["_coverage"] > dems["N44E000"]["_coverage"]

    (dem_dir / "N44E001.hgt").unlink()
    fresh = Configuration.from_text(text, environ=env)
    with pytest.raises(MissingDEMError, match="31TCJ: N44E001") as caught:
        fresh.get_dems_covering_s2_tile("31TCJ")
    assert caught.value.missing == ["N44E001"] and exit_code_for(caught.value) == 75
    listed = fresh.get_dems_covering_s2_tile("31TCJ", check=False)
    assert not listed["N44E001"]["exists"] and listed["N43E000"]["exists"]
    assert config.get_dems_covering_s2_tile("31TCJ") is dems  # kept, as S1Tiling's registry


def test_dems_covering_a_tile_from_one_raster(tmp_path, env):
    """`dem_dir` may be one GDAL raster (no tiles, no database), as the plan accepts it."""

    dem = tmp_path / "dem.tif"
    write_flat_dem(dem, -1.0, 46.0, 1 / 60, 240, 360)
    text = edit_cfg(MINIMAL_CFG, {("Paths", "dem_dir"): str(dem), ("Processing", "tiles"): "31TCJ"})
    dems = Configuration.from_text(text, environ=env).get_dems_covering_s2_tile("31TCJ")
    assert [info["uri"] for info in dems.values()] == [str(dem)]
    assert all(info["exists"] for info in dems.values())
