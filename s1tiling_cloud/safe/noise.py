"""Thermal noise vectors (`noise-*.xml`) and the noise power they define on the image.

Since IPF 2.90 the noise is the product of a range LUT (vectors every few lines) and an
azimuth LUT given per block of lines × samples (one block per sub-swath and more); before,
only range vectors (`noiseVectorList`/`noiseLut`) exist and the azimuth factor is 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import lut
from . import xmlnodes as x
from .annotation import AZIMUTH_TIME_ATTRS, attrs
from .group import Group

if TYPE_CHECKING:
    import xarray as xr


def noise_range(root) -> Group:
    """Range noise vectors; dims (line, pixel), or (line, sample) with a 2-D `pixel` if ragged."""
    nodes = x.findall(root, "noiseRangeVectorList/noiseRangeVector")
    lut_tag = "noiseRangeLut"
    if not nodes:  # IPF < 2.90
        nodes = x.findall(root, "noiseVectorList/noiseVector")
        lut_tag = "noiseLut"
    pixels = [x.vector(n, "pixel", np.int64) for n in nodes]
    values = [x.vector(n, lut_tag).astype(np.float32) for n in nodes]
    coords = {
        "line": ("line", x.column(nodes, "line", np.int64), attrs("line", "1", "image line")),
        "azimuth_time": ("line", x.column(nodes, "azimuthTime", np.datetime64),
                         AZIMUTH_TIME_ATTRS),
    }
    regular = all(p.shape == pixels[0].shape and (p == pixels[0]).all() for p in pixels)
    if regular:
        dims = ("line", "pixel")
        coords["pixel"] = ("pixel", pixels[0], attrs("pixel", "1", "image pixel"))
        table = np.stack(values) if values else np.empty((0, 0), np.float32)
    else:
        dims = ("line", "sample")
        coords["pixel"] = (dims, x.ragged(pixels), attrs("pixel", "1", "image pixel"))
        table = x.ragged(values).astype(np.float32)
    return Group(
        {"noise_range_lut": (dims, table, attrs(lut_tag, "1"))},
        coords=coords,
        attrs={"layout": "noiseRangeVectorList" if lut_tag == "noiseRangeLut" else "noiseVectorList"},
    )


def noise_azimuth(root) -> Group:
    """Azimuth noise blocks; each block has its line range, sample range and its own lines."""
    nodes = x.findall(root, "noiseAzimuthVectorList/noiseAzimuthVector")
    dims = ("block", "sample")
    block_int = {
        "first_azimuth_line": "firstAzimuthLine",
        "first_range_sample": "firstRangeSample",
        "last_azimuth_line": "lastAzimuthLine",
        "last_range_sample": "lastRangeSample",
    }
    data = {
        name: ("block", x.column(nodes, tag, np.int64), attrs(tag, "1"))
        for name, tag in block_int.items()
    }
    data["noise_azimuth_lut"] = (
        dims, x.ragged([x.vector(n, "noiseAzimuthLut") for n in nodes]).astype(np.float32),
        attrs("noiseAzimuthLut", "1"),
    )
    return Group(
        data,
        coords={
            "block": ("block", np.arange(len(nodes))),
            "swath": ("block", x.column(nodes, "swath", str).astype(str), attrs("swath")),
            "line": (dims, x.ragged([x.vector(n, "line", np.int64) for n in nodes]),
                     attrs("line", "1", "image line")),
        },
    )


def noise_lut(
    range_ds: xr.Dataset, azimuth_ds: xr.Dataset | None, lines: np.ndarray, pixels: np.ndarray
) -> np.ndarray:
    """Noise power on (lines × pixels), float32: range LUT × azimuth LUT of every block."""
    lines = np.asarray(lines)
    pixels = np.asarray(pixels)
    table = range_ds["noise_range_lut"].values
    row_pixels, row_values = lut.rows_of(table, range_ds["pixel"].values)
    noise = lut.bilinear(range_ds["line"].values, row_pixels, row_values, lines, pixels)
    if azimuth_ds is not None and azimuth_ds.sizes.get("block", 0):
        noise *= azimuth_factor(azimuth_ds, lines, pixels)
    return noise.astype(np.float32)


def azimuth_factor(azimuth_ds: xr.Dataset, lines: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """The azimuth noise factor on (lines × pixels); 1 outside every block."""
    factor = np.ones((lines.size, pixels.size))
    for b in range(azimuth_ds.sizes["block"]):
        block = azimuth_ds.isel(block=b)
        in_lines = (lines >= int(block.first_azimuth_line)) & (lines <= int(block.last_azimuth_line))
        in_pixels = (pixels >= int(block.first_range_sample)) & (
            pixels <= int(block.last_range_sample)
        )
        if not in_lines.any() or not in_pixels.any():
            continue
        keep = ~np.isnan(block["line"].values.astype(np.float64))
        block_lines = block["line"].values[keep].astype(np.float64)
        values = block["noise_azimuth_lut"].values[keep].astype(np.float64)
        along = np.interp(lines[in_lines].astype(np.float64), block_lines, values)
        factor[np.ix_(in_lines, in_pixels)] = along[:, None]
    return factor
