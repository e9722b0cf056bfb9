"""S1Tiling's zero rule after noise removal: raw 0 stays no-data, denoised zeros become
lower_signal_value."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.denoise import fix_zeros


def test_fix_zeros_cases_by_hand():
    raw = np.array([[0, 0, 12, 12], [7, 7, 7, 0]], dtype=np.uint16)
    cal = np.array([[0.5, 0.0, 0.0, -0.02], [0.031, np.nan, 1e-9, -1.0]], dtype=np.float32)
    out = fix_zeros(cal, raw)
    expected = np.array([[0.0, 0.0, 1e-7, 1e-7], [0.031, np.nan, 1e-9, 0.0]], dtype=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_custom_lower_signal_value_and_inputs_untouched():
    raw = np.array([3, 3, 0], dtype=np.int16)
    cal = np.array([0.0, 0.2, 0.2], dtype=np.float64)
    out = fix_zeros(cal, raw, lower_signal_value=1e-5)
    np.testing.assert_array_equal(out, np.array([1e-5, 0.2, 0.0], dtype=np.float32))
    np.testing.assert_array_equal(cal, [0.0, 0.2, 0.2])


def test_non_contiguous_windows():
    raw = np.arange(48, dtype=np.uint16).reshape(6, 8)
    cal = (raw.astype(np.float32) - 5.0) / 10.0
    out = fix_zeros(cal[1:5, ::2], raw[1:5, ::2])
    expected = np.where(raw[1:5, ::2] == 0, 0.0, np.where(cal[1:5, ::2] <= 0, 1e-7, cal[1:5, ::2]))
    np.testing.assert_array_equal(out, expected.astype(np.float32))


def test_errors():
    with pytest.raises(ValueError, match="shape"):
        fix_zeros(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="lower_signal_value"):
        fix_zeros(np.ones(3), np.ones(3), lower_signal_value=0.0)
