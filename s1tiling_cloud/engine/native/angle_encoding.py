"""An angle map (float32 degrees, NaN where unknown) encoded as the files S1Tiling writes, in
one numba pass per output and no full-tile temporaries.

`degrees_x100` (`engine.native.lia`) says the uint16 encoding in numpy terms; each
`numpy` step there makes a full-tile temporary (≈ 0.5–1 GB at 10 m), and the trigonometric
maps went through a float64 radians copy. Here each output pixel is computed from its angle
alone, parallel over rows: `x100` gives the same bytes as `degrees_x100` (the product in
float32, rounded half to even, as numpy does), `trig` the cosine, sine or tangent as float32
(computed in float64, then rounded once).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["TRIG_KINDS", "trig", "x100"]

#: The trigonometric maps, by S1Tiling's kind name.
TRIG_KINDS = {"cos": 0, "sin": 1, "tan": 2}


def x100(degrees: np.ndarray) -> np.ndarray:
    """uint16 round(100 × degrees), clipped to [1, 65535]; 0 where the angle is not finite.

    Parameters
    ----------
    degrees : numpy.ndarray
        2-D float32 angles in degrees.

    Returns
    -------
    numpy.ndarray
        uint16, the shape of `degrees`: byte for byte `lia.degrees_x100(degrees)`.
    """
    degrees = np.ascontiguousarray(degrees, dtype=np.float32)
    out = np.empty(degrees.shape, np.uint16)
    _x100(degrees, out)
    return out


def trig(degrees: np.ndarray, kind: str) -> np.ndarray:
    """cos, sin or tan of angles in degrees, as float32 (NaN stays NaN).

    Parameters
    ----------
    degrees : numpy.ndarray
        2-D float32 angles in degrees.
    kind : {"cos", "sin", "tan"}
        The function.

    Returns
    -------
    numpy.ndarray
        float32, the shape of `degrees`.
    """
    if kind not in TRIG_KINDS:
        raise ValueError(f"kind must be one of {sorted(TRIG_KINDS)}, not {kind!r}")
    degrees = np.ascontiguousarray(degrees, dtype=np.float32)
    out = np.empty(degrees.shape, np.float32)
    _trig(degrees, TRIG_KINDS[kind], out)
    return out


@numba.njit(cache=True, parallel=True)
def _x100(degrees, out):
    rows, cols = degrees.shape
    hundred = np.float32(100.0)
    for y in numba.prange(rows):
        for x in range(cols):
            d = degrees[y, x]
            if not np.isfinite(d):
                out[y, x] = 0
                continue
            value = np.rint(d * hundred)  # float32, as numpy multiplies a float32 array
            out[y, x] = np.uint16(min(max(value, np.float32(1.0)), np.float32(65535.0)))


@numba.njit(cache=True, parallel=True)
def _trig(degrees, kind, out):
    rows, cols = degrees.shape
    for y in numba.prange(rows):
        for x in range(cols):
            r = math.radians(np.float64(degrees[y, x]))
            if kind == 0:
                out[y, x] = math.cos(r)
            elif kind == 1:
                out[y, x] = math.sin(r)
            else:
                out[y, x] = math.tan(r)
