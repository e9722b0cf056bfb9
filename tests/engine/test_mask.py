"""Border mask: ITK's ball and ITK's border rules for the binary opening (erosion: outside is
foreground; dilation: outside is background), against explicit literals and plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.mask import (
    ball,
    binary_dilation,
    binary_erosion,
    binary_opening,
    border_mask,
)

# ITK's BinaryBallStructuringElement / FlatStructuringElement::Ball, radius 5: 97 pixels.
BALL_5 = np.array([
    [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0],
    [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0],
    [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
    [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0],
    [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0],
], dtype=bool)


def reference(mask: np.ndarray, element: np.ndarray, erode: bool) -> np.ndarray:
    """Plain-loop erosion (outside = foreground) or dilation (outside = background)."""
    rows, cols = mask.shape
    ry, rx = element.shape[0] // 2, element.shape[1] // 2
    out = np.zeros(mask.shape, dtype=np.uint8)
    for y in range(rows):
        for x in range(cols):
            hits = []
            for dy in range(-ry, ry + 1):
                for dx in range(-rx, rx + 1):
                    if not element[dy + ry, dx + rx]:
                        continue
                    yy, xx = y + dy, x + dx
                    inside = 0 <= yy < rows and 0 <= xx < cols
                    hits.append(bool(mask[yy, xx]) if inside else erode)
            out[y, x] = all(hits) if erode else any(hits)
    return out


def blocky(seed: int, shape=(40, 52), block=(6, 5), holes=0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.random((shape[0] // block[0] + 1, shape[1] // block[1] + 1)) > 0.3
    image = np.kron(coarse, np.ones(block))[:shape[0], :shape[1]].astype(np.float32)
    image[rng.random(shape) < holes] = 0.0
    return image * rng.uniform(0.01, 0.2, size=shape).astype(np.float32)


def test_ball_radius_5_is_itk_s_97_pixels():
    np.testing.assert_array_equal(ball(5), BALL_5)
    assert ball(5).sum() == 97
    np.testing.assert_array_equal(ball(5, 5), BALL_5)


def test_small_and_elliptic_balls():
    np.testing.assert_array_equal(ball(1), np.ones((3, 3), dtype=bool))  # corners at 0.89 <= 1
    expected_2 = np.ones((5, 5), dtype=bool)
    expected_2[[0, 0, 4, 4], [0, 4, 0, 4]] = False  # corners at 1.28 > 1
    np.testing.assert_array_equal(ball(2), expected_2)
    np.testing.assert_array_equal(ball(3, 1), np.array([
        [0, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 1],
        [0, 1, 1, 1, 1, 1, 0],
    ], dtype=bool))
    np.testing.assert_array_equal(ball(0), np.ones((1, 1), dtype=bool))


def test_a_square_the_size_of_the_ball_opens_to_the_ball():
    image = np.zeros((31, 31), dtype=np.float32)
    image[10:21, 10:21] = 0.3  # 11 x 11
    expected = np.zeros((31, 31), dtype=np.uint8)
    expected[10:21, 10:21] = BALL_5
    np.testing.assert_array_equal(border_mask(image), expected)


def test_a_12_pixel_square_opens_to_four_balls():
    image = np.zeros((32, 32), dtype=np.float32)
    image[10:22, 10:22] = 1.0
    expected = np.zeros((32, 32), dtype=bool)
    for dy in (0, 1):
        for dx in (0, 1):
            expected[10 + dy:21 + dy, 10 + dx:21 + dx] |= BALL_5
    np.testing.assert_array_equal(border_mask(image), expected.astype(np.uint8))


def test_small_blobs_and_thin_lines_are_removed():
    image = np.zeros((40, 40), dtype=np.float32)
    image[5:14, 5:14] = 1.0  # 9 x 9: smaller than the ball
    image[30, :] = 1.0  # a one-pixel line across the image
    image[:, 25:27] = 1.0  # a two-pixel column touching the top and bottom borders
    assert border_mask(image).sum() == 0


def test_data_touching_the_border_is_kept_as_itk_does():
    # 8 lines of data along the top border: thinner than the ball, but the erosion sees
    # foreground beyond the border, so the band survives the opening entirely.
    image = np.zeros((30, 30), dtype=np.float32)
    image[:8, :] = 0.1
    expected = (image != 0).astype(np.uint8)
    np.testing.assert_array_equal(border_mask(image), expected)
    # With a background border for the erosion too, it would vanish:
    padded = np.pad(image != 0, 6, constant_values=False)
    closed_border = reference(reference(padded, BALL_5, erode=True), BALL_5, erode=False)
    assert closed_border[6:-6, 6:-6].sum() == 0


def test_full_and_empty_images():
    np.testing.assert_array_equal(border_mask(np.ones((20, 25))), np.ones((20, 25), dtype=np.uint8))
    np.testing.assert_array_equal(border_mask(np.zeros((20, 25))), np.zeros((20, 25), dtype=np.uint8))


def test_the_corner_of_the_image_is_kept():
    image = np.zeros((40, 40), dtype=np.float32)
    image[:15, :15] = 1.0  # data in the top-left corner, zeros elsewhere
    out = border_mask(image)
    assert out[:10, :10].all()  # not rounded off by the image border
    np.testing.assert_array_equal(out, reference(reference(image, BALL_5, True), BALL_5, False))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("radii", [(5, 5), (2, 3), (4, 1)])
def test_erosion_dilation_opening_against_plain_loops(seed, radii):
    image = blocky(seed)
    element = ball(*radii)
    eroded = reference(image != 0, element, erode=True)
    np.testing.assert_array_equal(binary_erosion(image, *radii), eroded)
    np.testing.assert_array_equal(binary_dilation(image, *radii),
                                  reference(image != 0, element, erode=False))
    np.testing.assert_array_equal(binary_opening(image, *radii), reference(eroded, element, erode=False))


def test_nan_counts_as_data_and_output_is_uint8():
    image = np.full((20, 20), np.nan, dtype=np.float32)
    out = border_mask(image)
    assert out.dtype == np.uint8
    assert out.all()


@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_scipy_with_itk_border_values(seed):
    ndimage = pytest.importorskip("scipy.ndimage")
    image = blocky(seed, shape=(120, 140), block=(9, 13), holes=0.01)
    fg = image != 0
    expected = ndimage.binary_dilation(ndimage.binary_erosion(fg, BALL_5, border_value=1), BALL_5,
                                       border_value=0)
    np.testing.assert_array_equal(border_mask(image), expected.astype(np.uint8))


def test_errors():
    with pytest.raises(ValueError, match="2-D"):
        border_mask(np.ones(5))
    with pytest.raises(ValueError, match="radii"):
        border_mask(np.ones((5, 5)), 500)
