"""The fused angle encodings (`engine.native.angle_encoding`) against the numpy definitions."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.angle_encoding import trig, x100
from s1tiling_cloud.engine.native.lia import degrees_x100


@pytest.fixture(scope="module")
def degrees() -> np.ndarray:
    rng = np.random.default_rng(1)
    values = (rng.random((300, 400)) * 180).astype(np.float32)
    values[::7, ::3] = np.nan
    values[0, :8] = [0.0, 0.004, 0.005, 0.015, 0.025, 90.0, 180.0, 655.36]  # ties, the clip
    values[1, :2] = [np.inf, -np.inf]
    values[2, :200] = np.arange(200, dtype=np.float32) * np.float32(0.005)  # every half step
    return values


def test_x100_is_degrees_x100_byte_for_byte(degrees):
    with np.errstate(over="ignore"):  # numpy's route multiplies the infinities too
        expected = degrees_x100(degrees)
    np.testing.assert_array_equal(x100(degrees), expected)
    assert x100(degrees).dtype == np.uint16


@pytest.mark.parametrize("kind", ["cos", "sin", "tan"])
def test_trig_is_the_float64_function_rounded_once(degrees, kind):
    with np.errstate(invalid="ignore"):
        expected = getattr(np, kind)(np.radians(degrees.astype(np.float64))).astype(np.float32)
    got = trig(degrees, kind)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-6, atol=1e-7)


def test_unknown_kind_is_refused(degrees):
    with pytest.raises(ValueError, match="kind"):
        trig(degrees, "cot")
