"""The `otb` engine (issue 6): S1Tiling's chain run by Orfeo ToolBox against the native engine on
the same synthetic GRD, DEM and tile. Needs Debian's otb-bin; skipped without it.

The product straddles the east edge of 31TCJ, so the tile's radar window is a real crop of the
product (SARCalibration's ``?&box=``) and only part of the tile is covered."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.engine.native.calibrate import product_border_cuts
from s1tiling_cloud.engine.native.margins import BorderCuts
from s1tiling_cloud.engine.otb.apps import OTBApplicationError, run_app
from s1tiling_cloud.engine.otb.chain import OtbChain, OtbChainSettings, covered_grid, window_margins
from s1tiling_cloud.exceptions import MissingApplication, MissingDEMError, exit_code_for
from s1tiling_cloud.geo import Grid, TileProjector
from s1tiling_cloud.geo.tile_projection import RadarWindow, radar_window
from s1tiling_cloud.safe import Sentinel1Product, calibrate, calibration_lut, noise_lut
from s1tiling_cloud.stages.heights import heights
from s1tiling_cloud.stages.ortho import ortho
from s1tiling_cloud.testing import SyntheticGRD, Target, write_grd
from s1tiling_cloud.testing.dem_tiles import write_dem_tiles
from s1tiling_cloud.testing.synthetic import target_truth
from s1tiling_cloud.testing.targets import centroid

GEOID = Path("/usr/share/proj/egm96_15.gtx")
TILE = "31TCJ"
RESOLUTION = 20.0
otb_missing = shutil.which("otbcli_OrthoRectification") is None
needs_otb = pytest.mark.skipif(
    otb_missing or not GEOID.is_file(),
    reason="OTB's command-line applications (Debian otb-bin) or the EGM96 geoid (proj-data) "
           "are not installed: the otb engine is not checked",
)


def hills(lat, lon):
    """Rolling terrain, 150-850 m over the geoid."""
    return 500 + 250 * np.sin(np.radians(lat) * 900) + 100 * np.cos(np.radians(lon) * 700)


def read(path) -> np.ndarray:
    with rasterio.open(path) as dataset:
        return dataset.read(1)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("otb")
    targets = [Target(43.57 + 0.012 * k, 1.72 + 0.02 * (k % 4), rcs_db=35.0) for k in range(6)]
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.82, lines=1500, samples=2000,
                        sigma0_db=-12.0, dem=hills, targets=targets, speckle=False, noise=False,
                        seed=11)
    product = str(write_grd(spec, folder / "s1"))
    dem = folder / "dem"
    write_dem_tiles(hills, (43, 45), (0, 3), dem, kind="srtm3")
    heights_uri = str(folder / "heights.tif")
    heights(TILE, RESOLUTION, heights_uri, {"dem_dir": str(dem), "dem_format": "{id}.hgt"})
    return {"folder": folder, "spec": spec, "product": product, "dem": str(dem),
            "heights": heights_uri}


@pytest.fixture(scope="module")
def engines(scene):
    """Both engines' σ° (linear interpolation, noise removal on) and their timings."""
    out, seconds, results = {}, {}, {}
    for engine in ("native", "otb"):
        params = {"resolution": RESOLUTION, "interpolation": "linear", "engine": engine}
        if engine == "otb":
            params |= {"dem_dir": scene["dem"], "geoid_file": str(GEOID)}
        uri = str(scene["folder"] / f"vv_{engine}.tif")
        clock = time.perf_counter()
        results[engine] = ortho(scene["product"], TILE, scene["heights"], {"VV": uri}, params)
        seconds[engine] = time.perf_counter() - clock
        out[engine] = uri
    print(f"\northo VV on {TILE} at {RESOLUTION:g} m: native {seconds['native']:.2f} s, "
          f"otb {seconds['otb']:.2f} s; otb steps {results['otb'].details}")
    return out


# -- pure helpers (no OTB needed) ------------------------------------------------------------


def test_window_margins_move_the_whole_image_cuts_into_the_window():
    cuts = BorderCuts(x=1000, y_start=1600, y_end=1600)
    shape = (16000, 25000)
    inner = RadarWindow(5000, 9000, 5000, 9000)
    assert window_margins(cuts, inner, shape) is None
    corner = RadarWindow(1000, 3000, 24000, 25000)  # top-right corner of the image
    assert window_margins(cuts, corner, shape) == (0, 600, 0, 1400)
    left = RadarWindow(14000, 16000, 500, 2000)  # bottom-left
    assert window_margins(cuts, left, shape) == (500, 0, 1000, 400)
    assert window_margins(BorderCuts(), corner, shape) is None


def test_unknown_application_is_missing_application():
    with pytest.raises(MissingApplication) as error:
        run_app("NoSuchApplication", {"in": "x.tif"})
    assert exit_code_for(error.value) == 77 and "NoSuchApplication" in str(error.value)


@pytest.mark.skipif(otb_missing, reason="OTB's command-line applications are not installed")
def test_otb_failure_carries_otbs_message(tmp_path):
    with pytest.raises(OTBApplicationError) as error:
        run_app("SARCalibration", {"in": str(tmp_path / "absent.tiff"),
                                   "out": [str(tmp_path / "out.tif"), "float"]})
    assert "absent.tiff" in error.value.message, error.value.message


@pytest.mark.skipif(otb_missing, reason="OTB's command-line applications are not installed")
def test_otb_engine_without_otb_on_path_exits_77(tmp_path):
    """The stage refuses before any work when OTB is not installed (PATH without /usr/bin)."""
    script = ("from s1tiling_cloud.exceptions import exit_code_for\n"
              "from s1tiling_cloud.stages.ortho import ortho\n"
              "try:\n"
              "    ortho('absent.SAFE', '31TCJ', 'absent.tif', {'VV': 'vv.tif'},\n"
              "          {'engine': 'otb', 'dem_dir': 'dem', 'geoid_file': 'g.gtx'})\n"
              "except Exception as error:\n"
              "    print(type(error).__name__, error)\n"
              "    raise SystemExit(exit_code_for(error))\n")
    env = {**os.environ, "PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 77, done.stdout + done.stderr
    assert "MissingApplication" in done.stdout and "otbcli_" not in done.stderr


# -- against OTB ---------------------------------------------------------------------------


def _chain(scene, keep: Path, dem_dir: str | None = None):
    s1 = Sentinel1Product(scene["product"])
    grid = Grid.from_tile(TILE, RESOLUTION)
    h = read(scene["heights"]).astype(np.float32)
    line, pixel = TileProjector.open(s1, "IW/VV").project(grid, h, dtype=np.float32)
    shape = s1.open_group("IW/VV").measurement.shape
    window = radar_window(line, pixel, shape, margin=3)
    settings = OtbChainSettings(dem_dir or scene["dem"], str(GEOID), keep_dir=str(keep))
    chain = OtbChain(s1, "IW", grid, settings)
    keep.mkdir(exist_ok=True)
    return s1, chain, (line, pixel, shape), window


@needs_otb
def test_calibration_before_ortho_is_the_lut_formula(scene, tmp_path):
    s1, chain, (line, pixel, shape), window = _chain(scene, tmp_path)
    assert window.shape != shape, "the tile's window must crop the product for this test"
    chain.prepare(line, pixel, shape, str(tmp_path))
    cuts = product_border_cuts(s1, "IW", "VV")
    chain.run("VV", window, cuts, str(tmp_path), remove_thermal_noise=True,
              interpolation="linear", resolution=RESOLUTION)
    otb = read(tmp_path / "vv_calibrated.tif").astype(np.float64)
    assert otb.shape == window.shape
    lines = np.arange(window.line_start, window.line_stop)
    pixels = np.arange(window.pixel_start, window.pixel_stop)
    raw = s1.open_group("IW/VV").measurement.values[window.slices]
    lut = calibration_lut(s1.open_group("IW/VV/calibration"), "sigma", lines, pixels)
    noise = noise_lut(s1.open_group("IW/VV/noise_range"), s1.open_group("IW/VV/noise_azimuth"),
                      lines, pixels)
    expected = calibrate(raw, lut, noise).astype(np.float64)
    valid = (raw > 0) & (expected > 0)
    relative = np.abs(otb[valid] - expected[valid]) / expected[valid]
    print(f"\nSARCalibration (box {window}) vs LUT formula: max relative "
          f"{relative.max():.2e}, median {np.median(relative):.2e} over {valid.sum()} pixels")
    assert valid.sum() > 0.9 * raw.size
    assert relative.max() <= 1e-5


@needs_otb
def test_engines_agree_on_sigma0_and_targets(scene, engines):
    native, otb = read(engines["native"]), read(engines["otb"])
    with rasterio.open(engines["otb"]) as dataset:
        tags = dataset.tags()
        assert dataset.nodata == 0 and dataset.dtypes[0] == "float32"
    with rasterio.open(engines["native"]) as dataset:
        native_tags = dataset.tags()
    same = {k for k in native_tags if not k.startswith("PROVENANCE")
            and k not in ("TIFFTAG_DATETIME", "PROCESSING_DATETIME")}
    assert {k: tags.get(k) for k in same} == {k: native_tags[k] for k in same}
    assert tags["ORTHORECTIFIED"] == "true" and tags["S2_TILE_CORRESPONDING_CODE"] == TILE

    both = (native > 0) & (otb > 0)
    assert both.sum() > 0.9 * max((native > 0).sum(), (otb > 0).sum())
    delta = np.abs(10 * np.log10(otb[both].astype(np.float64) / native[both]))
    print(f"\nσ° otb vs native: median |Δ| {np.median(delta):.2e} dB, p99 "
          f"{np.percentile(delta, 99):.2e} dB over {both.sum()} pixels")
    assert np.median(delta) <= 0.05

    truths = target_truth(scene["spec"], Grid.from_tile(TILE, RESOLUTION))
    assert len(truths) == 6
    rows = []
    for truth in truths:
        at_native = centroid(native, truth.row, truth.col, radius=4)
        at_otb = centroid(otb, truth.row, truth.col, radius=4)
        rows.append((math.hypot(*np.subtract(at_native, (truth.row, truth.col))),
                     math.hypot(*np.subtract(at_otb, (truth.row, truth.col))),
                     math.hypot(*np.subtract(at_native, at_otb))))
    errors = np.array(rows)
    print(f"target errors vs truth ({RESOLUTION:g} m px): native "
          f"{np.round(errors[:, 0], 3)} otb {np.round(errors[:, 1], 3)}; "
          f"native-otb {np.round(errors[:, 2], 3)}")
    assert errors[:, 2].max() <= 0.6
    assert errors[:, 0].max() < 0.2  # the native engine holds its own truth test's accuracy


@needs_otb
def test_missing_dem_tile_is_refused_before_otb(scene, tmp_path):
    """OTB would silently use the geoid there: the chain names the missing tile instead."""
    partial = tmp_path / "dem"
    partial.mkdir()
    for name in os.listdir(scene["dem"]):
        if name != "N43E001.hgt":
            os.symlink(os.path.join(scene["dem"], name), partial / name)
    _, chain, (line, pixel, shape), _ = _chain(scene, tmp_path / "work", str(partial))
    covered = covered_grid(chain.grid, line, pixel, shape)
    assert covered is not None and covered.shape[0] < chain.grid.shape[0]
    with pytest.raises(MissingDEMError, match="N43E001"):
        chain.prepare(line, pixel, shape, str(tmp_path / "work"))
