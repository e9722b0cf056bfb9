"""The NORMLIM and γ° RTC kernels give, byte for byte, the formulas written with numpy in float64
(the form they replace), on speckle-like tiles seeded with every edge case: zeros, NaN, ±inf,
values under `lower_signal_value`, areas under `min_gamma_area`, zero and negative areas."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.corrections import gamma_naught_rtc, normlim


def _numpy_normlim(beta, sin, lower):
    b, s = beta.astype(np.float64), sin.astype(np.float64)
    with np.errstate(invalid="ignore"):
        values = np.maximum(lower, b * s)
    return np.where(np.isnan(s) | (b == 0) | np.isnan(b), 0.0, values).astype(np.float32)


def _numpy_rtc(sigma, area, reference, min_area, factor):
    s, g = sigma.astype(np.float64), area.astype(np.float64) / reference
    with np.errstate(invalid="ignore", divide="ignore"):
        values = s / g
        bad = ~np.isfinite(values) | (s == 0) | ~(g >= min_area / reference)
    out = np.where(bad, 0.0, values).astype(np.float32)
    if factor != 1.0:
        out *= np.float32(factor)
    return out


def _tile(rng, shape, low, high):
    values = rng.uniform(low, high, shape).astype(np.float32)
    flat = values.reshape(-1)
    edges = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-12, 1e-7, 5e-8, -1.0], np.float32)
    spots = rng.choice(flat.size, size=flat.size // 10, replace=False)
    flat[spots] = edges[rng.integers(0, edges.size, spots.size)]
    return values


@pytest.mark.parametrize("lower", [1e-7, 0.01])
def test_normlim_is_the_float64_formula(lower):
    rng = np.random.default_rng(3)
    beta = _tile(rng, (257, 301), 0.0, 0.5) ** 2
    sin = _tile(rng, (257, 301), -0.2, 1.0)
    expected = _numpy_normlim(beta, sin, lower)
    found = normlim(beta, sin, lower)
    assert found.dtype == np.float32
    assert found.tobytes() == expected.tobytes()
    assert np.isnan(found).any() and (found == 0).any() and (found == np.float32(lower)).any()


@pytest.mark.parametrize("factor", [1.0, 0.5, -2.0])
def test_gamma_naught_rtc_is_the_float64_formula(factor):
    rng = np.random.default_rng(5)
    sigma = _tile(rng, (263, 289), 0.0, 0.5) ** 2
    area = _tile(rng, (263, 289), -20.0, 400.0)
    expected = _numpy_rtc(sigma, area, 100.0, 1.0, factor)
    found = gamma_naught_rtc(sigma, area, 100.0, 1.0, factor)
    assert found.dtype == np.float32
    assert found.tobytes() == expected.tobytes()
    assert (found == 0).sum() > sigma.size // 10


def test_the_tiles_must_match():
    with pytest.raises(ValueError, match="one shape"):
        normlim(np.ones((4, 5), np.float32), np.ones((5, 4), np.float32))
