"""A COG's internal overviews computed from the pixels in memory, as GDAL's COG driver computes
them, and handed to the driver as existing overviews.

Left to itself, the COG driver builds the overviews of a 10980² float32 tile into a temporary
ZSTD-compressed GeoTIFF, reads them back and compresses them again, after a copy of the array
into a MEM dataset: the overviews (a third of the pixels) cost nearly as much CPU as the full
resolution (3.3–3.7 CPU s against 4.5–5.1 with DEFLATE, docs/benchmarks.md). Here they are
computed from the array in memory (a serial numba kernel), and the driver reads everything
through a VRT whose sources are MEM datasets pointing at the numpy buffers (no copy, no
temporary file); it then only compresses, with `OVERVIEWS=FORCE_USE_EXISTING`.

What GDAL computes (3.10, checked pixel for pixel on σ° tiles, NaN-nodata maps and masks,
tests/test_cog_overviews.py):

- the sizes: halvings of the full resolution, rounded down, until both sides are at most the
  block size (or `OVERVIEW_COUNT` of them);
- each level from the previous one (the first from the full resolution), with the ratio of
  their sizes, which is not 2 once a side is odd (2745 -> 1372);
- AVERAGE: each output pixel is the mean of the source pixels its footprint covers, a pixel
  that the footprint covers partly weighing what it covers; no-data pixels (NaN for a NaN
  no-data) do not count; sums in float64, the mean rounded to float32; no valid pixel: no-data;
  a mean equal to the no-data value becomes the next float32 up (1e-45 for a no-data 0), so
  that it stays valid;
- NEAREST: the source pixel at `int(0.5 + i × ratio)` on each axis.

Other combinations (AVERAGE of integers or without no-data, other resamplings) are left to the
COG driver (`supported`).

Why not just an uncompressed temporary file (`COG_TMP_COMPRESSION=NONE`): GDAL's own result
then changes (its chunks change, and a footprint cut by a chunk edge loses part of its pixels:
5 rows of the 1372² level of a 10980² σ° tile, up to 20% off, and the levels below them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree

import numpy as np

__all__ = ["build", "overview_shapes", "readable", "supported", "vrt_xml"]

#: GDAL's names of the numpy types that MEM datasets hold.
_GDAL_TYPES = {np.dtype(np.uint8): "Byte", np.dtype(np.int8): "Int8",
               np.dtype(np.uint16): "UInt16", np.dtype(np.int16): "Int16",
               np.dtype(np.uint32): "UInt32", np.dtype(np.int32): "Int32",
               np.dtype(np.float32): "Float32", np.dtype(np.float64): "Float64"}


def readable(dtype: Any) -> bool:
    """Whether the COG driver can read pixels of this type from memory (`vrt_xml`)."""
    return np.dtype(dtype) in _GDAL_TYPES


def supported(dtype: Any, resampling: str, nodata: float | None) -> bool:
    """Whether `build` reproduces the COG driver's overviews for these pixels.

    Parameters
    ----------
    dtype : numpy dtype
        The pixels' type.
    resampling : str
        The COG driver's `OVERVIEW_RESAMPLING`.
    nodata : float or None
        The band's no-data value.
    """
    dtype = np.dtype(dtype)
    method = resampling.upper()
    if method.startswith("NEAR"):
        return dtype in _GDAL_TYPES
    if method != "AVERAGE" or dtype != np.float32 or nodata is None:
        return False
    return math.isnan(nodata) or abs(nodata) < float(np.finfo(np.float32).max)


def overview_shapes(height: int, width: int, blocksize: int,
                    count: int | None = None) -> list[tuple[int, int]]:
    """(rows, cols) of each overview level the COG driver makes, largest first.

    Parameters
    ----------
    height, width : int
        The full resolution.
    blocksize : int
        The COG's tile size: levels stop once both sides fit in one tile (when `count` is None).
    count : int, optional
        That many levels (fewer if the image reaches 1 × 1 first).
    """
    shapes: list[tuple[int, int]] = []
    rows, cols = height, width
    if count is None and rows <= blocksize and cols <= blocksize:
        return shapes
    while True:
        if count is None:
            if rows <= blocksize and cols <= blocksize:
                break
        elif len(shapes) == count or (rows == 1 and cols == 1):
            break
        rows, cols = max(1, rows // 2), max(1, cols // 2)
        shapes.append((rows, cols))
    return shapes


def _nearest(source: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """NEAREST: the source pixel at int(0.5 + i × ratio) on each axis."""
    src_rows, src_cols = source.shape
    y = (0.5 + np.arange(rows) * (src_rows / rows)).astype(np.intp)
    x = (0.5 + np.arange(cols) * (src_cols / cols)).astype(np.intp)
    return np.ascontiguousarray(source[y[:, None], x[None, :]])


def _footprints(src_size: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """First and past-the-end source index of each output pixel along one axis, and the
    weights of the first and last source pixels (the part of them the footprint covers)."""
    ratio = src_size / size
    start = np.empty(size, np.int64)
    stop = np.empty(size, np.int64)
    first = np.empty(size, np.float64)
    last = np.empty(size, np.float64)
    for i in range(size):
        begin, end = i * ratio, (i + 1) * ratio
        lo = int(begin + 1e-8)
        hi = int(math.ceil(end - 1e-8))
        if hi == lo:
            hi += 1
        hi = min(hi, src_size)
        start[i], stop[i] = lo, hi
        first[i] = 1.0 if hi == lo + 1 else 1.0 - (begin - lo)
        last[i] = 1.0 - (hi - end)
    return start, stop, first, last


def _replacement(nodata: float) -> np.float32:
    """The value a mean equal to the no-data value is written as: the next float32 up."""
    return np.nextafter(np.float32(nodata), np.float32(np.inf))


def _average(source: np.ndarray, rows: int, cols: int, nodata: float) -> np.ndarray:
    """AVERAGE of a float32 level into (rows, cols), no-data pixels left out."""
    from .cog_overview_kernels import average, average_by_two

    out = np.empty((rows, cols), np.float32)
    is_nan = math.isnan(nodata)
    replacement = np.float32(nodata) if is_nan else _replacement(nodata)
    if source.shape == (2 * rows, 2 * cols):
        average_by_two(source, np.float32(nodata), is_nan, replacement, out)
    else:
        ys = _footprints(source.shape[0], rows)
        xs = _footprints(source.shape[1], cols)
        average(source, *ys, *xs, np.float32(nodata), is_nan, replacement, out)
    return out


def build(pixels: np.ndarray, shapes: Sequence[tuple[int, int]], resampling: str,
          nodata: float | None) -> list[np.ndarray]:
    """The overview levels of `pixels` (bands, rows, cols), as the COG driver computes them.

    Parameters
    ----------
    pixels : numpy.ndarray
        (bands, rows, cols), C-contiguous.
    shapes : sequence of (int, int)
        (rows, cols) of each level, largest first (`overview_shapes`).
    resampling : str
        "AVERAGE" or "NEAREST" (see `supported`).
    nodata : float or None
        The no-data value (required for AVERAGE).

    Returns
    -------
    list of numpy.ndarray
        One (bands, rows, cols) array per level.
    """
    nearest = resampling.upper().startswith("NEAR")
    levels = []
    previous = pixels
    for rows, cols in shapes:
        bands = [_nearest(band, rows, cols) if nearest else
                 _average(band, rows, cols, float(nodata)) for band in previous]
        previous = np.stack(bands) if len(bands) > 1 else bands[0][None]
        levels.append(previous)
    return levels


def _mem_name(array: np.ndarray) -> str:
    """GDAL's name of a MEM dataset over the buffer of `array` (bands, rows, cols)."""
    bands, rows, cols = array.shape
    item = array.dtype.itemsize
    return (f"MEM:::DATAPOINTER={array.__array_interface__['data'][0]},PIXELS={cols},"
            f"LINES={rows},BANDS={bands},DATATYPE={_GDAL_TYPES[array.dtype]},"
            f"PIXELOFFSET={item},LINEOFFSET={item * cols},BANDOFFSET={item * cols * rows}")


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return repr(float(value)) if value != int(value) else str(int(value))


def vrt_xml(pixels: np.ndarray, levels: Sequence[np.ndarray], *, crs_wkt: str | None,
            transform: Sequence[float], nodata: float | None, tags: Mapping[str, str],
            band_descriptions: Sequence[str], empty: bool = False) -> str:
    """A VRT reading `pixels` and declaring `levels` its overviews, all straight from memory.

    The arrays must stay alive, unchanged, while the VRT is open: the VRT holds their addresses
    (GDAL opens them with `GDAL_MEM_ENABLE_OPEN=YES`). With `empty`, the VRT and its overviews
    have the arrays' shapes and type but no source: every pixel is no-data (or 0), and no
    array is read (`cog_tiles` has GDAL write such a dataset's COG without its tiles).

    Parameters
    ----------
    pixels : numpy.ndarray
        (bands, rows, cols), C-contiguous.
    levels : sequence of numpy.ndarray
        The overviews, (bands, rows, cols) each, C-contiguous.
    crs_wkt : str or None
        The CRS as WKT.
    transform : sequence of float
        GDAL's geotransform (6 numbers).
    nodata : float or None
        The bands' no-data value.
    tags : mapping
        Dataset metadata (default domain).
    band_descriptions : sequence of str
        Band descriptions, first band first (fewer than bands: the rest have none).
    empty : bool
        No source: the arrays' shapes and type only.
    """
    bands, rows, cols = pixels.shape
    root = ElementTree.Element("VRTDataset", rasterXSize=str(cols), rasterYSize=str(rows))
    if crs_wkt:
        ElementTree.SubElement(root, "SRS", dataAxisToSRSAxisMapping="1,2").text = crs_wkt
    ElementTree.SubElement(root, "GeoTransform").text = ", ".join(repr(float(v))
                                                                  for v in transform)
    if tags:
        metadata = ElementTree.SubElement(root, "Metadata")
        for key, value in tags.items():
            ElementTree.SubElement(metadata, "MDI", key=str(key)).text = str(value)
    source = None if empty else _mem_name(pixels)
    overviews = [_mem_name(level) if not empty else
                 vrt_xml(level, (), crs_wkt=None, transform=(0, 1, 0, 0, 0, 1), nodata=nodata,
                         tags={}, band_descriptions=(), empty=True)
                 for level in levels]
    for band in range(1, bands + 1):
        element = ElementTree.SubElement(root, "VRTRasterBand",
                                         dataType=_GDAL_TYPES[pixels.dtype], band=str(band))
        if band <= len(band_descriptions) and band_descriptions[band - 1]:
            ElementTree.SubElement(element, "Description").text = band_descriptions[band - 1]
        if nodata is not None:
            ElementTree.SubElement(element, "NoDataValue").text = _number(nodata)
        if not empty:
            simple = ElementTree.SubElement(element, "SimpleSource")
            ElementTree.SubElement(simple, "SourceFilename", relativeToVRT="0").text = source
            ElementTree.SubElement(simple, "SourceBand").text = str(band)
        for name in overviews:
            overview = ElementTree.SubElement(element, "Overview")
            ElementTree.SubElement(overview, "SourceFilename", relativeToVRT="0").text = name
            ElementTree.SubElement(overview, "SourceBand").text = str(band)
    return ElementTree.tostring(root, encoding="unicode")
