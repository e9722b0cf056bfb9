"""Resampling at fractional positions: exact on nodes, the textbook kernels between them, and
S1Tiling's no-data rules at borders."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.resample import resample


@pytest.fixture
def ramp():
    rows, cols = np.mgrid[0:20, 0:30]
    return (1.0 + 2.0 * rows + 0.5 * cols).astype(np.float32)  # a plane: linear and cubic exact


@pytest.mark.parametrize("method", ["nearest", "linear", "bicubic"])
def test_nodes_are_reproduced(ramp, method):
    lines, pixels = np.mgrid[2:18, 3:27].astype(np.float64)
    np.testing.assert_array_equal(resample(ramp, lines, pixels, method=method), ramp[2:18, 3:27])


@pytest.mark.parametrize("method", ["linear", "bicubic"])
def test_a_plane_is_interpolated_exactly(ramp, method):
    lines = np.array([[5.25, 7.5], [10.75, 3.1]])
    pixels = np.array([[4.5, 12.2], [20.9, 8.8]])
    expected = 1.0 + 2.0 * lines + 0.5 * pixels
    np.testing.assert_allclose(resample(ramp, lines, pixels, method=method), expected, rtol=1e-6)


def test_bicubic_matches_keys_kernel_on_a_curve():
    x = np.arange(12, dtype=np.float64)
    image = np.tile(1.0 + np.sin(x / 2.0) ** 2, (8, 1)).astype(np.float32)
    c = 5.3
    w = [(-0.5 * t**3 + 2.5 * t**2 - 4 * t + 2) if t >= 1 else (1.5 * t**3 - 2.5 * t**2 + 1)
         for t in (abs(c - k) for k in (4, 5, 6, 7))]
    expected = sum(wk * image[0, k] for wk, k in zip(w, (4, 5, 6, 7), strict=True))
    value = resample(image, np.array([[4.0]]), np.array([[c]]), method="bicubic")
    assert value[0, 0] == pytest.approx(expected, rel=1e-6)


def test_nearest_rounds_half_up_and_window_origin(ramp):
    value = resample(ramp[5:, 10:], np.array([[7.5]]), np.array([[12.49]]), origin=(5, 10))
    assert value[0, 0] == ramp[8, 12]


def test_outside_and_nan_give_nodata(ramp):
    lines = np.array([[-0.6, 19.6, np.nan, 3.0]])
    pixels = np.array([[3.0, 3.0, 4.0, 29.7]])
    np.testing.assert_array_equal(resample(ramp, lines, pixels, method="bicubic"), 0.0)


@pytest.mark.parametrize("method", ["linear", "bicubic"])
def test_nodata_neighbours_fall_back_to_nearest(ramp, method):
    image = ramp.copy()
    image[:, :10] = 0.0  # a cut margin
    column = 9.7 if method == "linear" else 10.3  # a support that reaches column 9
    value = resample(image, np.array([[6.2]]), np.array([[column]]), method=method)
    assert value[0, 0] == image[6, 10]  # no blending with the zeros
    assert resample(image, np.array([[6.2]]), np.array([[9.3]]), method=method)[0, 0] == 0.0


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown resampling"):
        resample(np.ones((3, 3), np.float32), np.zeros((1, 1)), np.zeros((1, 1)), method="lanczos")


@pytest.mark.parametrize("method", ["nearest", "bicubic"])
def test_written_into_a_used_array(ramp, method):
    """`out` (holding anything, NaN included) gets every pixel, no-data ones too."""
    lines = np.array([[5.25, 7.5, -4.0], [10.75, np.nan, 3.1]], np.float32)
    pixels = np.array([[4.5, 12.2, 1.0], [20.9, 8.8, 8.8]], np.float32)
    used = np.full(lines.shape, np.nan, np.float32)
    assert resample(ramp, lines, pixels, method=method, out=used) is used
    np.testing.assert_array_equal(used, resample(ramp, lines, pixels, method=method))
    with pytest.raises(ValueError, match="C-contiguous float32"):
        resample(ramp, lines, pixels, out=np.empty((2, 3), np.float64))
