"""Concatenation as S1Tiling's Synthetize: the first non-null pixel, in input order."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.concatenate import concatenate

nan = np.nan


def test_first_non_null_in_input_order_by_hand():
    a = np.array([[1.0, 0.0, 0.0, nan], [0.0, 5.0, nan, 0.0]], dtype=np.float32)
    b = np.array([[2.0, 3.0, 0.0, 4.0], [0.0, 6.0, 7.0, nan]], dtype=np.float32)
    np.testing.assert_array_equal(concatenate([a, b]), [[1.0, 3.0, 0.0, 4.0], [0.0, 5.0, 7.0, 0.0]])
    np.testing.assert_array_equal(concatenate([b, a]), [[2.0, 3.0, 0.0, 4.0], [0.0, 6.0, 7.0, 0.0]])


def test_three_inputs_and_dtype():
    a = np.array([0, 0, 0, 1], dtype=np.float64)
    b = np.array([0, 0, 2, 9], dtype=np.float64)
    c = np.array([0, 3, 8, 9], dtype=np.float64)
    out = concatenate([a, b, c])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0, 3, 2, 1])


def test_one_input_is_copied_with_nan_as_no_data():
    a = np.array([[0.5, nan], [0.0, -1.0]], dtype=np.float32)
    out = concatenate([a])
    np.testing.assert_array_equal(out, [[0.5, 0.0], [0.0, -1.0]])
    assert out is not a
    assert np.isnan(a[0, 1])


def test_inputs_are_not_modified():
    a = np.array([0.0, 1.0], dtype=np.float32)
    b = np.array([2.0, 3.0], dtype=np.float32)
    concatenate([a, b])
    np.testing.assert_array_equal(a, [0.0, 1.0])


def test_errors():
    with pytest.raises(ValueError, match="at least one"):
        concatenate([])
    with pytest.raises(ValueError, match="shape"):
        concatenate([np.zeros((2, 2)), np.zeros((2, 3))])


def test_merged_in_place_into_the_first_image_is_the_new_array():
    random = np.random.default_rng(7)
    images = [random.choice([0.0, np.nan, 1.0, 2.5], size=(40, 30)).astype(np.float32)
              for _ in range(3)]
    expected = concatenate(images)
    first = images[0].copy()
    for other in images[1:]:  # one input at a time, as the stage merges its strips
        assert concatenate([first, other], out=first) is first
    np.testing.assert_array_equal(first, expected)
    with pytest.raises(ValueError, match="out must be"):
        concatenate(images, out=np.empty((40, 30), np.float64))
