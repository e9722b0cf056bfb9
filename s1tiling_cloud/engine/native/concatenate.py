"""Concatenation of a tile's orthorectified images of the same day and orbit (S1Tiling step 6).

S1Tiling runs OTB's `Synthetize` on the (almost exclusive) images of two consecutive products:
each output pixel is the first non-null input pixel, in input order. Null is 0 (S1Tiling's
no-data) and also NaN here; OTB's functor tests only `v != 0`, so it would keep a NaN, and
where every input is null it returns the last input's value. Orthorectified S1Tiling images
hold no NaN, so both agree on them; here an all-null pixel is always 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def _first(img, out):
    for i in numba.prange(img.size):
        v = img[i]
        out[i] = 0.0 if np.isnan(v) else v


@numba.njit(cache=True, parallel=True)
def _fill_nulls(out, img):
    for i in numba.prange(out.size):
        if out[i] == 0.0:
            v = img[i]
            if v != 0.0 and not np.isnan(v):
                out[i] = v


def concatenate(images: Sequence[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """The first non-null (!= 0 and not NaN) pixel of `images`, in order; 0 where all are null.

    Parameters
    ----------
    images : sequence of numpy.ndarray
        The images, all of one shape.
    out : numpy.ndarray, optional
        A C-contiguous float32 array of that shape to write into, which may be the first image
        itself (merged in place); None: a new array.

    Returns
    -------
    numpy.ndarray
        `out`, or a new float32 array.
    """
    if len(images) == 0:
        raise ValueError("concatenate needs at least one image")
    arrays = [np.ascontiguousarray(image, dtype=np.float32) for image in images]
    shape = arrays[0].shape
    for k, array in enumerate(arrays[1:], start=1):
        if array.shape != shape:
            raise ValueError(f"image {k} has shape {array.shape}, image 0 has {shape}")
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {shape}")
    flat = out.reshape(-1)
    _first(arrays[0].reshape(-1), flat)
    for array in arrays[1:]:
        _fill_nulls(flat, array.reshape(-1))
    return out
