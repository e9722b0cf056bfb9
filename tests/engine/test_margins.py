"""S1Tiling's AnalyseBorders / CutBorders rules on arrays: IPF versions, the 2000-zero threshold,
the override, and margins zeroed identically on a window and on the full product."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from s1tiling_cloud.engine.native.margins import (
    BorderCuts,
    analysed_rows,
    border_cuts,
    ipf_version,
    reset_margins,
)

WIDTH = 25_000


def row_with_zeros(count: int) -> np.ndarray:
    row = np.full(WIDTH, 117, dtype=np.uint16)
    row[:count // 2] = 0
    row[WIDTH - (count - count // 2):] = 0
    assert np.count_nonzero(row == 0) == count
    return row


@pytest.mark.parametrize(("text", "expected"), [
    ("003.40", (3, 40)),
    ("2.84", (2, 84)),
    ("Sentinel-1 IPF 002.72", (2, 72)),
    ("Sentinel-1 IPF 003.10", (3, 10)),
    ("", None),
    ("Sentinel-1 IPF", None),
])
def test_ipf_version(text, expected):
    assert ipf_version(text) == expected


@pytest.mark.parametrize(("ipf", "x"), [
    ("2.84", 1000),
    ("Sentinel-1 IPF 002.72", 1000),
    ("002.89", 1000),
    ("002.90", 0),
    ("003.40", 0),
    ("Sentinel-1 IPF 003.61", 0),
])
def test_range_cut_depends_on_ipf_290(ipf, x):
    clean = row_with_zeros(0)
    assert border_cuts(ipf, clean, clean) == BorderCuts(x=x, y_start=0, y_end=0)


def test_unparsable_ipf_is_treated_as_000_00_with_a_warning(caplog):
    clean = row_with_zeros(0)
    with caplog.at_level(logging.WARNING):
        assert border_cuts("unknown", clean, clean).x == 1000
    assert "IPF version" in caplog.text


@pytest.mark.parametrize(("zeros", "cut"), [(0, 0), (1999, 0), (2000, 0), (2001, 1600), (WIDTH, 1600)])
def test_azimuth_cut_needs_more_than_2000_zeros(zeros, cut):
    clean = row_with_zeros(0)
    assert border_cuts("003.40", row_with_zeros(zeros), clean) == BorderCuts(0, cut, 0)
    assert border_cuts("003.40", clean, row_with_zeros(zeros)) == BorderCuts(0, 0, cut)


def test_nan_is_not_counted_as_a_zero():
    row = np.ones(WIDTH, dtype=np.float32)
    row[:3000] = np.nan
    assert border_cuts("003.40", row, row).skip


def test_override_forces_or_disables_both_azimuth_cuts():
    clean, dirty = row_with_zeros(0), row_with_zeros(2001)
    assert border_cuts("2.84", clean, clean, override=True) == BorderCuts(1000, 1600, 1600)
    assert border_cuts("003.40", dirty, dirty, override=False) == BorderCuts(0, 0, 0)
    assert border_cuts("003.40", dirty, clean, override=None) == BorderCuts(0, 1600, 0)


def test_skip_and_analysed_rows():
    assert BorderCuts().skip
    assert not BorderCuts(y_end=1600).skip
    assert analysed_rows(16_700) == (100, 16_600)
    assert analysed_rows(50) == (49, 0)


def test_reset_margins_on_the_full_image_by_hand():
    image = np.ones((20, 30), dtype=np.float32)
    out = reset_margins(image, BorderCuts(x=3, y_start=4, y_end=2))
    assert out is image
    expected = np.ones((20, 30), dtype=np.float32)
    expected[:4, :] = 0  # lines [0, y_start)
    expected[18:, :] = 0  # lines [height - y_end, height)
    expected[:, :3] = 0  # columns [0, x)
    expected[:, 27:] = 0  # columns [width - x, width)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("window", [
    (0, 0, 20, 30), (0, 0, 5, 5), (2, 1, 10, 10), (5, 5, 8, 20), (15, 20, 5, 10),
    (17, 0, 3, 30), (6, 26, 4, 4), (0, 28, 20, 2), (8, 10, 3, 3),
])
def test_a_window_gets_the_zeros_of_the_full_product(window):
    row0, col0, rows, cols = window
    rng = np.random.default_rng(3)
    product = rng.uniform(0.01, 1.0, size=(20, 30)).astype(np.float32)
    cuts = BorderCuts(x=3, y_start=4, y_end=2)
    full = reset_margins(product.copy(), cuts)
    tile = product[row0:row0 + rows, col0:col0 + cols].copy()
    reset_margins(tile, cuts, window=(row0, col0), full_shape=product.shape)
    np.testing.assert_array_equal(tile, full[row0:row0 + rows, col0:col0 + cols])


def test_reset_margins_rejects_inconsistent_windows():
    with pytest.raises(ValueError, match="full_shape"):
        reset_margins(np.ones((4, 4)), BorderCuts(1, 1, 1), window=(2, 0))
    with pytest.raises(ValueError, match="outside"):
        reset_margins(np.ones((4, 4)), BorderCuts(1, 1, 1), window=(18, 0), full_shape=(20, 30))
