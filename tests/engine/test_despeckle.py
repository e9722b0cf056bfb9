"""Speckle filters as OTB's Despeckle defines them: hand-computed windows, a plain-loop
reimplementation of OTB's formulas, OTB's border and zero handling, and physical properties."""

from __future__ import annotations

import math

import numpy as np
import pytest

from s1tiling_cloud.engine.native.despeckle import despeckle, frost, gamma_map, kuan, lee

FILTERS = {"lee": lee, "kuan": kuan, "gammamap": gamma_map, "frost": frost}


def otb_reference(image: np.ndarray, radius: int, method: str, param: float) -> np.ndarray:
    """OTB's filters in plain loops: (2r+1)² window with the edge pixel repeated outside the
    image, mean, sample variance (n - 1), then the published formula of each filter."""
    rows, cols = image.shape
    n = (2 * radius + 1) ** 2
    out = np.zeros(image.shape, dtype=np.float64)
    for y in range(rows):
        for x in range(cols):
            values, distances = [], []
            for dy in range(-radius, radius + 1):
                for dx in range(-radius, radius + 1):
                    yy = min(max(y + dy, 0), rows - 1)
                    xx = min(max(x + dx, 0), cols - 1)
                    values.append(float(image[yy, xx]))
                    distances.append(math.hypot(dx, dy))
            mean = sum(values) / n
            var = sum((v - mean) ** 2 for v in values) / (n - 1)
            centre = float(image[y, x])
            if abs(mean) < 1e-10:
                continue
            if abs(var) < 1e-10:
                out[y, x] = mean
            elif method == "frost":
                alpha = param * var / mean ** 2
                weights = [math.exp(-alpha * d) for d in distances]
                out[y, x] = sum(w * v for w, v in zip(weights, values, strict=True)) / sum(weights)
            else:
                cu2, ci2 = 1.0 / param, var / mean ** 2
                if ci2 < cu2:
                    out[y, x] = mean
                elif method == "lee":
                    w = 1.0 - cu2 / ci2
                    out[y, x] = mean + w * (centre - mean)
                elif method == "kuan":
                    w = (1.0 - cu2 / ci2) / (1.0 + cu2)
                    out[y, x] = mean + w * (centre - mean)
                elif math.sqrt(ci2) < math.sqrt(2.0) * math.sqrt(cu2):
                    alpha = (1.0 + cu2) / (ci2 - cu2)
                    b = alpha - param - 1.0
                    out[y, x] = (b * mean + math.sqrt(mean ** 2 * b ** 2 + 4 * alpha * param * mean * centre)
                                 ) / (2.0 * alpha)
                else:
                    out[y, x] = centre
    return out.astype(np.float32)


# A 3x3 window: mean 5, sample variance 60 / 8 = 7.5, Ci² = 0.3; the centre is 9.
WINDOW = np.array([[1, 2, 3], [4, 9, 6], [7, 8, 5]], dtype=np.float32)


def test_lee_by_hand():
    # L = 4: Cu² = 0.25 < Ci² = 0.3, w = 1 - 0.25 / 0.3 = 1/6
    assert lee(WINDOW, 1, 4.0)[1, 1] == pytest.approx(5 + 4 / 6, rel=1e-7)
    # L = 1: Cu² = 1 > Ci², the mean
    assert lee(WINDOW, 1, 1.0)[1, 1] == pytest.approx(5.0, rel=1e-7)


def test_kuan_by_hand():
    # w = (1 - 0.25 / 0.3) / (1 + 0.25) = 2/15
    assert kuan(WINDOW, 1, 4.0)[1, 1] == pytest.approx(5 + 4 * 2 / 15, rel=1e-7)


def test_gamma_map_by_hand():
    # Ci = 0.5477 < Cmax = √2 · 0.5: α = 1.25 / 0.05 = 25, b = 25 - 4 - 1 = 20,
    # d = 25 · 20² + 4 · 25 · 4 · 5 · 9 = 28000, R = (20 · 5 + √28000) / 50
    assert gamma_map(WINDOW, 1, 4.0)[1, 1] == pytest.approx((100 + math.sqrt(28000)) / 50, rel=1e-7)
    # L = 16: Cmax = √2 / 4 = 0.354 < Ci: the centre pixel itself
    assert gamma_map(WINDOW, 1, 16.0)[1, 1] == 9.0


def test_frost_by_hand():
    # deramp 1: α = 7.5 / 25 = 0.3; 4 neighbours at 1 (2, 4, 6, 8), 4 at √2 (1, 3, 5, 7)
    w1, w2 = math.exp(-0.3), math.exp(-0.3 * math.sqrt(2))
    expected = (9 + w1 * 20 + w2 * 16) / (1 + 4 * w1 + 4 * w2)
    assert frost(WINDOW, 1, 1.0)[1, 1] == pytest.approx(expected, rel=1e-7)


def test_the_image_edge_is_repeated_by_hand():
    image = np.array([[1, 2], [3, 4]], dtype=np.float32)
    # window of (0, 0): [1 1 2; 1 1 2; 3 3 4], mean 2, variance 10 / 8, Ci² = 0.3125;
    # L = 4: w = 1 - 0.25 / 0.3125 = 0.2, R = 2 + 0.2 (1 - 2)
    assert lee(image, 1, 4.0)[0, 0] == pytest.approx(1.8, rel=1e-7)


@pytest.fixture
def speckled() -> np.ndarray:
    rng = np.random.default_rng(7)
    image = rng.gamma(3.0, 1.0 / 3.0, size=(7, 7)) * rng.uniform(0.01, 0.3, size=(7, 7))
    image[0, :3] = 0.0  # some no-data in a corner
    return image.astype(np.float32)


@pytest.mark.parametrize("radius", [1, 2, 3])
@pytest.mark.parametrize(("method", "param"), [
    ("lee", 1.0), ("lee", 4.0), ("kuan", 4.0), ("gammamap", 2.0), ("gammamap", 9.0),
    ("frost", 0.1), ("frost", 2.0),
])
def test_7x7_against_plain_loops(speckled, radius, method, param):
    np.testing.assert_allclose(FILTERS[method](speckled, radius, param),
                               otb_reference(speckled, radius, method, param), rtol=1e-6, atol=0)


@pytest.mark.parametrize(("method", "param"), [("lee", 4.0), ("kuan", 4.0), ("gammamap", 4.0),
                                               ("frost", 0.5)])
def test_zeros_are_not_no_data(method, param):
    image = np.zeros((9, 9), dtype=np.float32)
    image[:, 5:] = 0.2
    image[2, 7] = 0.05
    out = FILTERS[method](image, 1, param)
    assert (out[:, :3] == 0).all()  # windows of zeros: |E| < 1e-10 gives 0
    if method == "gammamap":
        assert (out[:, 4] == 0).all()  # such a contrast is beyond Cmax: the centre pixel, 0
    else:
        assert (out[:, 4] > 0).all()  # zeros next to data get a value, as in OTB
    np.testing.assert_allclose(out, otb_reference(image, 1, method, param), rtol=1e-6)


@pytest.mark.parametrize("method", FILTERS)
def test_tiny_means_give_zero(method):
    image = np.full((5, 5), 5e-11, dtype=np.float32)
    assert (FILTERS[method](image, 1, 4.0) == 0).all()


def test_the_flatness_threshold_is_absolute():
    checker = (np.indices((6, 6)).sum(axis=0) % 2 + 1).astype(np.float32)  # 1 and 2: Ci² ≈ 0.11
    small = lee(checker * 1e-6, 1, 16.0)  # variance ≈ 2.8e-13 < 1e-10: the window mean
    expected_small = otb_reference(checker * 1e-6, 1, "lee", 16.0)
    np.testing.assert_allclose(small, expected_small, rtol=1e-6)
    box = np.array([[np.mean(np.pad(checker, 1, mode="edge")[y:y + 3, x:x + 3]) for x in range(6)]
                    for y in range(6)])
    np.testing.assert_allclose(small, box * 1e-6, rtol=1e-6)
    large = lee(checker * 1e-3, 1, 16.0)  # same contrast, variance above the threshold
    assert not np.allclose(large, box * 1e-3, rtol=1e-3)


@pytest.mark.parametrize("value", [0.05, 1e-3, 1000.0, 12345.678])
@pytest.mark.parametrize(("method", "param"), [("lee", 4.0), ("kuan", 1.0), ("gammamap", 4.0),
                                               ("frost", 0.1), ("frost", 3.0)])
def test_a_constant_image_is_unchanged(value, method, param):
    image = np.full((13, 17), value, dtype=np.float32)
    np.testing.assert_array_equal(FILTERS[method](image, 2, param), image)


@pytest.mark.parametrize(("method", "param"), [("lee", 4.0), ("kuan", 4.0), ("gammamap", 4.0)])
def test_speckle_variance_is_reduced(method, param):
    # Homogeneous 4-look intensity speckle: the box mean of n = 25 independent pixels divides
    # the variance by 25; the adaptive filters keep part of the speckle (w > 0 wherever the
    # sampled Ci² exceeds Cu²), so they reduce it by a sizeable fraction of that.
    rng = np.random.default_rng(11)
    image = (0.08 * rng.gamma(4.0, 1.0 / 4.0, size=(400, 400))).astype(np.float32)
    out = FILTERS[method](image, 2, param)[2:-2, 2:-2]
    ratio = image.var() / out.var()
    assert 25 / 3 < ratio < 25 * 1.15
    bias = 0.05 if method == "gammamap" else 0.01  # the MAP estimate of a gamma is biased low
    assert out.mean() == pytest.approx(image.mean(), rel=bias)


def test_frost_with_a_small_deramp_is_the_box_mean():
    rng = np.random.default_rng(12)
    image = (0.08 * rng.gamma(4.0, 1.0 / 4.0, size=(400, 400))).astype(np.float32)
    out = frost(image, 2, 0.1)[2:-2, 2:-2]
    assert image.var() / out.var() == pytest.approx(25, rel=0.1)
    assert out.mean() == pytest.approx(image.mean(), rel=0.01)


@pytest.mark.parametrize("method", FILTERS)
def test_nan_spoils_only_the_windows_that_hold_it(method):
    rng = np.random.default_rng(5)
    image = rng.uniform(0.05, 0.5, size=(20, 24)).astype(np.float32)
    image[10, 12] = np.nan
    out = FILTERS[method](image, 2, 4.0)
    window = np.zeros(image.shape, dtype=bool)
    window[8:13, 10:15] = True
    assert np.isfinite(out[~window]).all()
    assert np.isnan(out[10, 12])
    # as in OTB: NaN statistics fail every test, so Gamma-MAP returns the centre pixel and
    # the others NaN
    np.testing.assert_allclose(out, otb_reference(image, 2, method, 4.0), rtol=1e-6)


def test_inputs_are_cast_to_float32_and_outputs_are_float32():
    rng = np.random.default_rng(2)
    image = rng.uniform(0.05, 0.5, size=(10, 12))
    out = lee(image, 1, 4.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, lee(image.astype(np.float32), 1, 4.0))


def test_despeckle_dispatches_like_s1tiling_config():
    image = np.random.default_rng(3).uniform(0.05, 0.5, size=(12, 12)).astype(np.float32)
    np.testing.assert_array_equal(despeckle(image, "Lee", 2, nb_looks=4), lee(image, 2, 4))
    np.testing.assert_array_equal(despeckle(image, "gammamap", 1, nb_looks=2), gamma_map(image, 1, 2))
    np.testing.assert_array_equal(despeckle(image, "KUAN", 1, nb_looks=2), kuan(image, 1, 2))
    np.testing.assert_array_equal(despeckle(image, "frost", 2, deramp=0.3), frost(image, 2, 0.3))
    with pytest.raises(ValueError, match="deramp"):
        despeckle(image, "frost", 2, nb_looks=4)
    with pytest.raises(ValueError, match="nb_looks"):
        despeckle(image, "lee", 2, deramp=0.1)
    with pytest.raises(ValueError, match="unknown filter"):
        despeckle(image, "median", 2, nb_looks=1)


def test_errors():
    with pytest.raises(ValueError, match="radius"):
        lee(np.ones((5, 5)), 0, 1.0)
    with pytest.raises(ValueError, match="number of looks"):
        kuan(np.ones((5, 5)), 1, 0.0)
    with pytest.raises(ValueError, match="2-D"):
        frost(np.ones(5), 1, 0.1)
