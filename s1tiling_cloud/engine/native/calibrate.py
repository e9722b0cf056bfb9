"""Calibration of one window of a GRD measurement, as S1Tiling's chain does before ortho:
σ°/β°/γ°/DN from the LUTs, optional thermal noise removal with S1Tiling's zero rule, and the
border margins zeroed. Only the window is read and calibrated."""

from __future__ import annotations

import numba
import numpy as np

from ...geo.tile_projection import RadarWindow
from ...safe import Sentinel1Product, lut
from ...safe.calibration import LUT_NAMES
from .margins import BorderCuts, analysed_rows, border_cuts, reset_margins

# normlim calibrates with β° and γ° RTC with σ° (as S1Tiling does): what is applied afterwards
# needs those as inputs.
LUT_OF_CALIBRATION = {"sigma": "sigma", "beta": "beta", "gamma": "gamma", "dn": "dn",
                      "normlim": "beta", "gamma_naught_rtc": "sigma"}


def product_border_cuts(product: Sentinel1Product, swath: str, pol: str,
                        override: bool | None = None) -> BorderCuts:
    """S1Tiling's AnalyseBorders: the IPF version and the zeros of rows 100 and height−100."""
    measurement = product.measurement(swath, pol)
    first, last = analysed_rows(measurement.shape[0])
    # two single-row reads: an index array would read the bounding window, i.e. the image
    return border_cuts(product.manifest.ipf_version, measurement[first, :],
                       measurement[last, :], override)


def calibrate_window(
    product: Sentinel1Product,
    swath: str,
    pol: str,
    window: RadarWindow,
    calibration: str = "sigma",
    remove_thermal_noise: bool = True,
    lower_signal_value: float = 1e-7,
    cuts: BorderCuts | None = None,
    block_lines: int = 512,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The calibrated intensity of `window` (float32, no-data 0, margins zeroed).

    One compiled pass over the window: the LUT and noise vectors are first interpolated along
    the window's pixels (a few dozen rows), then each line blends its two bracketing rows, so
    no full-size LUT or noise array is ever made.

    Parameters
    ----------
    product, swath, pol
        The product and the measurement (swath, polarisation) to calibrate.
    window
        The window of the measurement to read and calibrate.
    calibration
        A key of `LUT_OF_CALIBRATION` (S1Tiling's `calibration` names).
    remove_thermal_noise, lower_signal_value
        Thermal noise removal, and the value of a denoised sample that falls to 0 or below.
    cuts
        The border margins to zero (`product_border_cuts`), None for none.
    block_lines
        Lines read and calibrated at a time: 512 keeps a raw block (13 MiB for a 13,000-sample
        window, 26 MiB for a whole GRD line) under malloc's 32 MiB mapping threshold, so the
        blocks reuse heap memory instead of each faulting fresh pages in (on a 10 m tile's
        window: 170,000 page faults instead of 256,000).
    out
        A C-contiguous float32 array of the window's shape to write into (a previous
        polarisation's image: reusing it saves the page faults of fresh memory, 0.7 GiB on a
        10 m tile); None: a new array.
    """
    try:
        kind = LUT_OF_CALIBRATION[calibration]
    except KeyError:
        raise ValueError(f"unknown calibration {calibration!r}; one of "
                         f"{sorted(LUT_OF_CALIBRATION)}") from None
    measurement = product.measurement(swath, pol)
    lines = np.arange(window.line_start, window.line_stop, dtype=np.float64)
    pixels = np.arange(window.pixel_start, window.pixel_stop, dtype=np.float64)
    cal = product.metadata(f"{swath}/{pol}/calibration")
    cal_rows = _rows_on_pixels([cal["pixel"].values] * cal.sizes["line"],
                               cal[LUT_NAMES[kind]].values, pixels)
    cal_index, cal_weight = _brackets(cal["line"].values, lines)
    noise_rows = np.zeros((1, pixels.size), np.float32)
    noise_index = np.zeros(lines.size, np.int64)
    noise_weight = np.zeros(lines.size)
    azimuth = np.ones((0, lines.size))
    blocks = np.zeros((0, 4), np.int64)
    if remove_thermal_noise:
        ranges = product.metadata(f"{swath}/{pol}/noise_range")
        row_pixels, row_values = lut.rows_of(ranges["noise_range_lut"].values, ranges["pixel"].values)
        noise_rows = _rows_on_pixels(row_pixels, row_values, pixels)
        noise_index, noise_weight = _brackets(ranges["line"].values, lines)
        if f"{swath}/{pol}/noise_azimuth" in product.groups:
            blocks, azimuth = _azimuth_blocks(product.metadata(f"{swath}/{pol}/noise_azimuth"),
                                              lines)
    if out is None:
        out = np.empty(window.shape, dtype=np.float32)
    elif out.shape != window.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {window.shape}")
    # the raw image is read block by block: only `block_lines` of it are ever in memory
    for start in range(0, window.shape[0], block_lines):
        stop = min(start + block_lines, window.shape[0])
        raw = measurement[window.line_start + start:window.line_start + stop,
                          window.pixel_start:window.pixel_stop]
        part = slice(start, stop)
        _calibrate(raw, cal_rows, cal_index[part], cal_weight[part], noise_rows,
                   noise_index[part], noise_weight[part], blocks, azimuth[:, part],
                   int(window.line_start + start), int(window.pixel_start), remove_thermal_noise,
                   np.float32(lower_signal_value), out[part])
    if cuts is not None:
        reset_margins(out, cuts, window=(window.line_start, window.pixel_start),
                      full_shape=measurement.shape)
    return out


def _rows_on_pixels(row_pixels, row_values, pixels: np.ndarray) -> np.ndarray:
    """Each LUT vector interpolated along the window's pixels: (vectors, pixels) float32."""
    rows = np.empty((len(row_values), pixels.size), dtype=np.float32)
    for k, (p, v) in enumerate(zip(row_pixels, row_values, strict=True)):
        rows[k] = np.interp(pixels, np.asarray(p, np.float64), np.asarray(v, np.float64))
    return rows


def _brackets(vector_lines: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each line, the vector below it and the weight of the one above (edges held)."""
    vector_lines = np.asarray(vector_lines, dtype=np.float64)
    if vector_lines.size == 1:
        return np.zeros(lines.size, np.int64), np.zeros(lines.size)
    below = np.clip(np.searchsorted(vector_lines, lines, side="right") - 1, 0,
                    vector_lines.size - 2)
    span = vector_lines[below + 1] - vector_lines[below]
    return below.astype(np.int64), np.clip((lines - vector_lines[below]) / span, 0.0, 1.0)


def _azimuth_blocks(ds, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth noise blocks: (first line, last line, first pixel, last pixel) and each block's
    factor on every window line."""
    count = ds.sizes["block"]
    bounds = np.stack([ds[k].values for k in ("first_azimuth_line", "last_azimuth_line",
                                              "first_range_sample", "last_range_sample")], axis=1)
    factors = np.ones((count, lines.size))
    for b in range(count):
        keep = ~np.isnan(ds["line"].values[b].astype(np.float64))
        factors[b] = np.interp(lines, ds["line"].values[b][keep].astype(np.float64),
                               ds["noise_azimuth_lut"].values[b][keep].astype(np.float64))
    return bounds.astype(np.int64), factors


@numba.njit(parallel=True, cache=True)
def _calibrate(raw, cal_rows, cal_index, cal_weight, noise_rows, noise_index, noise_weight,
               blocks, azimuth, line0, pixel0, denoise, lower, out):  # pragma: no cover - compiled
    height, width = raw.shape
    last_cal = cal_rows.shape[0] - 1
    last_noise = noise_rows.shape[0] - 1
    for i in numba.prange(height):
        k = cal_index[i]
        w = cal_weight[i]
        factor = np.ones(width, dtype=np.float64)
        if denoise:
            line = line0 + i  # blocks hold the product's lines and pixels
            for b in range(blocks.shape[0]):
                if blocks[b, 0] <= line and line <= blocks[b, 1]:
                    lo = max(blocks[b, 2] - pixel0, 0)
                    hi = min(blocks[b, 3] - pixel0 + 1, width)
                    for j in range(lo, hi):
                        factor[j] = azimuth[b, i]
        kn = noise_index[i]
        wn = noise_weight[i]
        for j in range(width):
            dn = np.float32(raw[i, j])
            if dn == 0:
                out[i, j] = 0.0
                continue
            a = (1.0 - w) * cal_rows[k, j] + w * cal_rows[min(k + 1, last_cal), j]
            power = dn * dn
            if denoise:
                n = (1.0 - wn) * noise_rows[kn, j] + wn * noise_rows[min(kn + 1, last_noise), j]
                power = power - n * factor[j]
            value = np.float32(power / (a * a))
            if denoise and value <= 0:
                value = lower
            out[i, j] = value
