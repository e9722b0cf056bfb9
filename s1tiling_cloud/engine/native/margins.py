"""S1Tiling's margin rules (steps AnalyseBorders and CutBorders), on arrays.

IPF < 2.90 products have ~1000 noisy columns on both range sides; products whose first or last
lines are mostly no-data get 1600 lines cut at that end. S1Tiling decides this from the IPF
version and from two rows of the raw image (`AnalyseBorders`), then zeroes the margins with
OTB's `ResetMargin -mode threshold` (`CutBorders`), keeping the image geometry.

`reset_margins` works on any window of the product, so a tile that reads only the window it
needs gets exactly the zeros the full image would get.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

RANGE_CUT = 1000  # columns cut on each range side when IPF < 2.90
AZIMUTH_CUT = 1600  # lines cut at an end with too many no-data pixels
AZIMUTH_NODATA_THRESHOLD = 2 * RANGE_CUT  # "more than 2000" zeros on the analysed row
ANALYSED_ROW = 100  # rows 100 and height - 100 (0-based, GDAL offsets) are analysed
IPF_WITHOUT_RANGE_CUT = (2, 90)

_VERSION = re.compile(r"(\d+)\.(\d+)\s*$")


@dataclass(frozen=True)
class BorderCuts:
    """Margins to zero: `x` columns on both sides, `y_start` top lines, `y_end` bottom lines."""

    x: int = 0
    y_start: int = 0
    y_end: int = 0

    @property
    def skip(self) -> bool:
        """True when nothing is cut (S1Tiling then skips ResetMargin)."""
        return self.x == 0 and self.y_start == 0 and self.y_end == 0


def ipf_version(text: str) -> tuple[int, int] | None:
    """(major, minor) of "003.40", "2.84" or "Sentinel-1 IPF 002.72"; None if unparsable.

    Compared as release tuples, as S1Tiling does with `packaging.version` ("002.72" is (2, 72)).
    """
    match = _VERSION.search(text or "")
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def analysed_rows(height: int) -> tuple[int, int]:
    """The two rows AnalyseBorders reads: 100 and height - 100 (clamped for tiny images)."""
    return min(ANALYSED_ROW, height - 1), max(height - ANALYSED_ROW, 0)


def border_cuts(
    ipf: str,
    row_100: np.ndarray,
    row_last_100: np.ndarray,
    override: bool | None = None,
) -> BorderCuts:
    """S1Tiling's AnalyseBorders rules.

    - Range: 1000 columns on both sides when the IPF version is < 2.90 (an unparsable version
      is treated as 000.00, i.e. cut, with a warning, as S1Tiling does).
    - Azimuth: 1600 lines at the top (bottom) when row 100 (row height - 100) holds more than
      2000 zeros (NaN is not counted: S1Tiling counts `== 0` on the raw integer image).
    - `override` (`override_azimuth_cut_threshold_to`): True forces both azimuth cuts, False
      disables both; the range cut is unaffected.
    """
    version = ipf_version(ipf)
    if version is None:
        logger.warning("cannot extract the IPF version from %r: assuming 000.00", ipf)
        version = (0, 0)
    x = RANGE_CUT if version < IPF_WITHOUT_RANGE_CUT else 0
    if override is None:
        top = int(np.count_nonzero(np.asarray(row_100) == 0)) > AZIMUTH_NODATA_THRESHOLD
        bottom = int(np.count_nonzero(np.asarray(row_last_100) == 0)) > AZIMUTH_NODATA_THRESHOLD
    else:
        top = bottom = bool(override)
    return BorderCuts(x=x, y_start=AZIMUTH_CUT if top else 0, y_end=AZIMUTH_CUT if bottom else 0)


def reset_margins(
    image: np.ndarray,
    cuts: BorderCuts,
    window: tuple[int, int] = (0, 0),
    full_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Zero, in place, the cut margins that fall in `image`, a window of the product.

    `window` is the (row0, col0) of `image` in the full product and `full_shape` the product's
    (height, width); without it `image` is the whole product. As OTB's ResetMargin in threshold
    mode: only columns [x, width - x) and lines [y_start, height - y_end) are kept.
    Returns `image`.
    """
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {image.shape}")
    row0, col0 = (int(v) for v in window)
    if full_shape is None:
        if (row0, col0) != (0, 0):
            raise ValueError("full_shape is needed for a window that does not start at (0, 0)")
        full_shape = image.shape
    height, width = (int(v) for v in full_shape[-2:])
    rows, cols = image.shape
    if row0 < 0 or col0 < 0 or row0 + rows > height or col0 + cols > width:
        raise ValueError(f"window {image.shape} at ({row0}, {col0}) is outside the product "
                         f"{(height, width)}")
    if cuts.skip:
        return image

    def zero_rows(start: int, stop: int) -> None:
        a, b = max(start - row0, 0), min(stop - row0, rows)
        if a < b:
            image[a:b, :] = 0

    def zero_cols(start: int, stop: int) -> None:
        a, b = max(start - col0, 0), min(stop - col0, cols)
        if a < b:
            image[:, a:b] = 0

    zero_rows(0, cuts.y_start)
    zero_rows(height - cuts.y_end, height)
    zero_cols(0, cuts.x)
    zero_cols(width - cuts.x, width)
    return image
