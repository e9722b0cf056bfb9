"""S1Tiling's border mask (step 8): `im != 0` as uint8, then a binary opening by a ball.

S1Tiling runs `BandMath -exp "im1b1==0?0:1"` then `BinaryMorphologicalOperation -structype ball
-xradius 5 -yradius 5 -filter opening`, i.e. ITK's `BinaryMorphologicalOpeningImageFilter`
(an erosion then a dilation, foreground 1, background 0) with ITK's ball. Both are reproduced
exactly, the image border included:

- The ball is ITK's `FlatStructuringElement::Ball` / `BinaryBallStructuringElement` (the same
  shape): an offset (dx, dy) of the (2ry+1)×(2rx+1) neighbourhood belongs to it iff
  (dx / (rx + 0.5))² + (dy / (ry + 0.5))² <= 1 (ellipse axes 2r+1, centre in the middle of the
  centre pixel, pixels tested at their centres). Radius 5: 97 pixels, row half-widths
  2 3 4 5 5 5 5 5 4 3 2.
- `BinaryErodeImageFilter` treats pixels outside the image as foreground (its default
  `BoundaryToForeground = true`), so a foreground area touching the border is not eaten from
  the outside; `BinaryDilateImageFilter` treats them as background (`BoundaryToForeground =
  false`). The opening keeps these defaults.

Each row of a ball is a centred run [-h, h], so erosion and dilation decompose: per image row,
the distance to the nearest background (erosion) or foreground (dilation) pixel of the same
row; then a pixel is eroded unless every ball row k has that distance > h_k, and dilated if
one ball row has it <= h_k. O(N·(rx + 2ry + 1)) byte operations (`mask_kernels`, numba,
imported on first use so that a stage that reuses its mask does not load numba).
"""

from __future__ import annotations

import numpy as np

MASK_RADIUS = 5
_MAX_RADIUS = 120  # row distances are stored as uint8, capped at the largest half-width + 1


def ball(xradius: int = MASK_RADIUS, yradius: int | None = None) -> np.ndarray:
    """ITK's ball structuring element as a boolean (2*yradius+1, 2*xradius+1) array."""
    ry = xradius if yradius is None else yradius
    rx = xradius
    if rx < 0 or ry < 0:
        raise ValueError(f"radii must be >= 0, got ({rx}, {ry})")
    dy, dx = np.mgrid[-ry:ry + 1, -rx:rx + 1].astype(np.float64)
    # ITK: sum over dimensions (x first) of pow(offset / (0.5 * axis), 2) <= 1, axis = 2r + 1
    distance2 = (dx / (0.5 * (2 * rx + 1))) ** 2 + (dy / (0.5 * (2 * ry + 1))) ** 2
    return distance2 <= 1.0


def _half_widths(element: np.ndarray) -> np.ndarray:
    """Half-width of each row of a symmetric, row-convex element (all rows non-empty)."""
    ry = element.shape[0] // 2
    rx = element.shape[1] // 2
    widths = np.empty(2 * ry + 1, dtype=np.int64)
    for i, row in enumerate(element):
        on = np.flatnonzero(row)
        half = int(on[-1]) - rx if on.size else -1
        if half < 0 or int(on[0]) != rx - half or on.size != 2 * half + 1:
            raise ValueError("the structuring element rows must be centred runs")
        widths[i] = half
    return widths


def _check(image: np.ndarray, xradius: int, yradius: int) -> np.ndarray:
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {image.shape}")
    if not (0 <= xradius <= _MAX_RADIUS and 0 <= yradius <= _MAX_RADIUS):
        raise ValueError(f"radii must be in [0, {_MAX_RADIUS}], got ({xradius}, {yradius})")
    return _half_widths(ball(xradius, yradius))


def binary_erosion(mask: np.ndarray, xradius: int = MASK_RADIUS, yradius: int | None = None) -> np.ndarray:
    """Erosion of `mask != 0` by ITK's ball, outside the image = foreground (ITK's
    BinaryErodeImageFilter defaults). Returns uint8 0/1."""
    yradius = xradius if yradius is None else yradius
    from .mask_kernels import erode_rows, row_distance

    widths = _check(mask, xradius, yradius)
    src = np.ascontiguousarray(mask)
    dist = np.empty(src.shape, dtype=np.uint8)
    row_distance(src, False, int(widths.max()) + 1, dist)
    out = np.empty(src.shape, dtype=np.uint8)
    erode_rows(dist, widths, out)
    return out


def binary_dilation(mask: np.ndarray, xradius: int = MASK_RADIUS, yradius: int | None = None) -> np.ndarray:
    """Dilation of `mask != 0` by ITK's ball, outside the image = background (ITK's
    BinaryDilateImageFilter defaults). Returns uint8 0/1."""
    yradius = xradius if yradius is None else yradius
    from .mask_kernels import dilate_rows, row_distance

    widths = _check(mask, xradius, yradius)
    src = np.ascontiguousarray(mask)
    dist = np.empty(src.shape, dtype=np.uint8)
    row_distance(src, True, int(widths.max()) + 1, dist)
    out = np.empty(src.shape, dtype=np.uint8)
    dilate_rows(dist, widths, out)
    return out


def binary_opening(mask: np.ndarray, xradius: int = MASK_RADIUS, yradius: int | None = None) -> np.ndarray:
    """ITK's BinaryMorphologicalOpeningImageFilter with a ball: erosion (outside = foreground)
    then dilation (outside = background) of `mask != 0`. Returns uint8 0/1.

    Two tile-sized buffers instead of four (`binary_erosion` then `binary_dilation`): the row
    distances of the dilation go where the erosion's were, and the dilation is written over the
    eroded image, which its row distances hold all it needs of (0.24 GB of fresh pages less per
    10 m tile)."""
    yradius = xradius if yradius is None else yradius
    from .mask_kernels import dilate_rows, erode_rows, row_distance

    widths = _check(mask, xradius, yradius)
    cap = int(widths.max()) + 1
    src = np.ascontiguousarray(mask)
    dist = np.empty(src.shape, dtype=np.uint8)
    row_distance(src, False, cap, dist)
    opened = np.empty(src.shape, dtype=np.uint8)
    erode_rows(dist, widths, opened)
    row_distance(opened, True, cap, dist)
    dilate_rows(dist, widths, opened)
    return opened


def border_mask(image: np.ndarray, xradius: int = MASK_RADIUS, yradius: int | None = None) -> np.ndarray:
    """S1Tiling's `_BorderMask`: (image != 0) as uint8, opened by a ball of radius 5 (NaN counts
    as data, as BandMath's `im1b1==0?0:1` does). Returns uint8 0/1."""
    return binary_opening(np.asarray(image), xradius, yradius)
