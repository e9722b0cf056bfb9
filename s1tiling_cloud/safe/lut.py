"""Bilinear interpolation of the calibration and noise look-up tables onto image pixels.

ESA gives the LUTs as vectors at some lines, each sampled at some pixels; a value inside the
grid is the bilinear interpolation of its four neighbours (separable: along pixels within each
vector, then along lines), and edges are held constant. Only the vectors that bracket the
requested lines are interpolated, so a 1000×1000 window costs a few vectors, not the product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bilinear(
    vector_lines: np.ndarray,
    vector_pixels: Sequence[np.ndarray],
    vector_values: Sequence[np.ndarray],
    lines: np.ndarray,
    pixels: np.ndarray,
) -> np.ndarray:
    """LUT values on the (lines × pixels) grid, float64.

    `vector_pixels[k]` and `vector_values[k]` are the samples of the vector at `vector_lines[k]`
    (vectors may have different pixel lists, as noise vectors do).
    """
    vector_lines = np.asarray(vector_lines, dtype=np.float64)
    lines = np.asarray(lines, dtype=np.float64)
    pixels = np.asarray(pixels, dtype=np.float64)
    if vector_lines.size == 1:
        return np.broadcast_to(
            np.interp(pixels, vector_pixels[0], vector_values[0]), (lines.size, pixels.size)
        ).copy()
    below = np.clip(np.searchsorted(vector_lines, lines, side="right") - 1, 0, vector_lines.size - 2)
    needed = np.unique(np.concatenate([below, below + 1]))
    rows = np.empty((needed.size, pixels.size))
    for i, k in enumerate(needed):
        rows[i] = np.interp(pixels, vector_pixels[k], vector_values[k])
    position = np.searchsorted(needed, below)
    span = vector_lines[below + 1] - vector_lines[below]
    weight = np.clip((lines - vector_lines[below]) / span, 0.0, 1.0)[:, None]
    return (1.0 - weight) * rows[position] + weight * rows[position + 1]


def rows_of(values: np.ndarray, pixels: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split a NaN-padded (vector, sample) table into per-vector pixel and value arrays."""
    pixels = np.broadcast_to(pixels, values.shape) if pixels.ndim == 1 else pixels
    out_pixels, out_values = [], []
    for p, v in zip(pixels, values, strict=True):
        keep = ~np.isnan(p.astype(np.float64))
        out_pixels.append(p[keep].astype(np.float64))
        out_values.append(v[keep].astype(np.float64))
    return out_pixels, out_values
