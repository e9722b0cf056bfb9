"""Parity with the OTB applications S1Tiling runs (Despeckle, BinaryMorphologicalOperation,
Synthetize, ResetMargin, BandMath). Needs Debian's otb-bin; skipped without it."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from s1tiling_cloud.engine.native.concatenate import concatenate
from s1tiling_cloud.engine.native.denoise import fix_zeros
from s1tiling_cloud.engine.native.despeckle import despeckle
from s1tiling_cloud.engine.native.margins import BorderCuts, reset_margins
from s1tiling_cloud.engine.native.mask import border_mask

pytestmark = pytest.mark.skipif(
    shutil.which("otbcli_Despeckle") is None,
    reason="OTB's command-line applications (Debian otb-bin) are not installed: "
           "parity with otbcli_* is not checked",
)


def write(path: Path, array: np.ndarray) -> str:
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not georeferenced
        with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1],
                           count=1, dtype=array.dtype) as dst:
            dst.write(array, 1)
    return str(path)


def read(path: Path) -> np.ndarray:
    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path) as src:
            return src.read(1)


def otb(app: str, *args: str) -> None:
    subprocess.run([f"otbcli_{app}", *args], check=True, capture_output=True, text=True)


@pytest.fixture
def speckled() -> np.ndarray:
    rng = np.random.default_rng(21)
    image = 0.1 * rng.gamma(4.0, 0.25, size=(60, 70)) * (1 + (np.arange(70) > 35))
    image[:, :6] = 0.0  # no-data band
    image[40:, 50:] = 0.0
    return image.astype(np.float32)


@pytest.mark.parametrize(("method", "option", "value"), [
    ("lee", "nblooks", 4.0), ("kuan", "nblooks", 4.0), ("gammamap", "nblooks", 4.0),
    ("frost", "deramp", 0.5),
])
def test_despeckle(tmp_path, speckled, method, option, value):
    src = write(tmp_path / "in.tif", speckled)
    otb("Despeckle", "-in", src, "-out", str(tmp_path / "out.tif"), "float", "-filter", method,
        f"-filter.{method}.rad", "2", f"-filter.{method}.{option}", str(value))
    expected = read(tmp_path / "out.tif")
    kwargs = {"deramp": value} if option == "deramp" else {"nb_looks": value}
    ours = despeckle(speckled, method, 2, **kwargs)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=0)
    assert np.mean(ours == expected) > 0.99


def test_border_mask(tmp_path, speckled):
    binary = (speckled != 0).astype(np.uint8)
    binary[10:14, 20:24] = 0  # a small hole
    binary[50:53, 8:60] = 0  # a thin gap
    src = write(tmp_path / "in.tif", binary)
    otb("BinaryMorphologicalOperation", "-in", src, "-out", str(tmp_path / "out.tif"), "uint8",
        "-structype", "ball", "-xradius", "5", "-yradius", "5", "-filter", "opening")
    np.testing.assert_array_equal(border_mask(binary), read(tmp_path / "out.tif"))


def test_synthetize(tmp_path, speckled):
    a = speckled.copy()
    a[:, 40:] = 0.0
    b = np.flipud(speckled).copy()
    paths = [write(tmp_path / "a.tif", a), write(tmp_path / "b.tif", b)]
    otb("Synthetize", "-il", *paths, "-out", str(tmp_path / "out.tif"), "float")
    np.testing.assert_array_equal(concatenate([a, b]), read(tmp_path / "out.tif"))


def test_reset_margin(tmp_path, speckled):
    src = write(tmp_path / "in.tif", speckled)
    otb("ResetMargin", "-in", src, "-out", str(tmp_path / "out.tif"), "float", "-threshold.x", "3",
        "-threshold.y.start", "2", "-threshold.y.end", "4", "-mode", "threshold")
    ours = reset_margins(speckled.copy(), BorderCuts(x=3, y_start=2, y_end=4))
    np.testing.assert_array_equal(ours, read(tmp_path / "out.tif"))


def test_correct_denoising_bandmath(tmp_path, speckled):
    raw = (speckled * 1000).astype(np.uint16)
    cal = np.where(np.arange(70) % 7 == 0, 0.0, speckled).astype(np.float32)
    paths = [write(tmp_path / "cal.tif", cal), write(tmp_path / "raw.tif", raw)]
    otb("BandMath", "-il", *paths, "-out", str(tmp_path / "out.tif"), "float",
        "-exp", "im2b1==0?0:im1b1==0?1e-07:im1b1")
    np.testing.assert_array_equal(fix_zeros(cal, raw), read(tmp_path / "out.tif"))
