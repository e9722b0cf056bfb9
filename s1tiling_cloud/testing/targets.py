"""Bright point targets of a synthetic scene, and where they truly are.

A target is a point (lat, lon, height) of radar cross-section ``rcs_db`` (dB m²). In the GRD it
is an impulse response centred at its exact fractional (line, pixel): a Gaussian of standard
deviation `IMPULSE_SIGMA` pixel per axis (FWHM ~1.6 pixel), *integrated over each pixel*
(differences of the normal CDF), so that the intensity-weighted centroid of the target in the
image is its true position (to ~2e-5 pixel: the sampling bias of a Gaussian this wide), and
its calibrated σ° summed over the pixels, times a pixel's ground area, is its RCS.

The target adds intensity ``σ°_t · A_σ²`` to the speckled background (a point target does not
speckle); thermal noise and the background stay as they are around it.

`TargetTruth` holds where a target is in the product (line, pixel: image coordinates with
pixel centres on integers, as `RadarGeometry` uses them) and on an output grid (map x, y and
fractional row, col with pixel centres on integers, as `Grid.xy` uses them); `centroid`
measures a target in an image the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer

#: Standard deviation (pixels) of the Gaussian impulse response, per axis.
IMPULSE_SIGMA = 0.7
#: Half-width (pixels) of the patch a target is rendered on: 7 sigma.
IMPULSE_HALF = 5


@dataclass(frozen=True)
class Target:
    """A bright point target: where it is and how bright.

    ``height_above_geoid`` (m over EGM96): None puts it on the scene's surface (the DEM, or the
    flat scene's height). ``rcs_db``: radar cross-section in dB m² (+30: 1000 m², a large
    corner reflector).
    """

    lat: float
    lon: float
    height_above_geoid: float | None = None
    rcs_db: float = 30.0

    @property
    def rcs(self) -> float:
        """RCS in m²."""
        return 10.0 ** (self.rcs_db / 10.0)


@dataclass(frozen=True)
class TargetTruth:
    """A target's true place: in the product and, when a grid was given, on the grid."""

    target: Target
    lat: float
    lon: float
    height: float  # above the WGS84 ellipsoid (m)
    line: float
    pixel: float
    x: float = math.nan  # map coordinates in the grid's CRS
    y: float = math.nan
    row: float = math.nan  # fractional, pixel centres on integers
    col: float = math.nan

    def inside(self, lines: int, samples: int, margin: float = 0.0) -> bool:
        """Whether the target lies in an image of ``lines`` x ``samples``, ``margin`` pixels
        away from its edges."""
        return (margin <= self.line <= lines - 1 - margin
                and margin <= self.pixel <= samples - 1 - margin)


def on_grid(truths: list[TargetTruth], grid) -> list[TargetTruth]:
    """The truths with their (x, y) and fractional (row, col) on ``grid`` (a `geo.Grid`)."""
    if grid is None or not truths:
        return list(truths)
    from ..geo.grid import Grid

    grid = Grid.of(grid)
    to_map = Transformer.from_crs(CRS.from_epsg(4326), grid.crs, always_xy=True)
    lon = np.array([t.lon for t in truths])
    lat = np.array([t.lat for t in truths])
    x, y = to_map.transform(lon, lat)
    x, y, t = np.asarray(x), np.asarray(y), ~grid.transform
    col, row = t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f
    out = []
    for k, t in enumerate(truths):
        out.append(TargetTruth(t.target, t.lat, t.lon, t.height, t.line, t.pixel, float(x[k]),
                               float(y[k]), float(row[k]) - 0.5, float(col[k]) - 0.5))
    return out


def impulse_weights(position: float, half: int = IMPULSE_HALF, sigma: float = IMPULSE_SIGMA
                    ) -> tuple[int, np.ndarray]:
    """(first index, weights) of the pixel-integrated Gaussian centred at ``position``.

    Pixel k covers [k - 0.5, k + 0.5]; the weights sum to 1.
    """
    k0 = int(math.floor(position + 0.5)) - half
    k = np.arange(k0, k0 + 2 * half + 1, dtype=np.float64)
    z = np.array([math.erf(v) for v in ((k + 0.5 - position) / (sigma * math.sqrt(2.0)))])
    zm = np.array([math.erf(v) for v in ((k - 0.5 - position) / (sigma * math.sqrt(2.0)))])
    w = 0.5 * (z - zm)
    return k0, w / w.sum()


@dataclass(frozen=True)
class RenderedTarget:
    """A target as the scene draws it: its patch of σ° (linear) in image coordinates."""

    line0: int
    pixel0: int
    sigma0: np.ndarray  # (rows, cols) added σ°

    @classmethod
    def build(cls, line: float, pixel: float, rcs: float, pixel_area: float) -> RenderedTarget:
        l0, wl = impulse_weights(line)
        p0, wp = impulse_weights(pixel)
        return cls(l0, p0, (rcs / pixel_area) * np.outer(wl, wp))

    @property
    def line1(self) -> int:
        return self.line0 + self.sigma0.shape[0]


def patches_in_block(targets: list[RenderedTarget], row0: int, nrows: int, samples: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows in the block, columns, added σ°) of every target pixel in a block of lines,
    overlapping targets summed; empty arrays when none."""
    rows, cols, vals = [], [], []
    for t in targets:
        if t.line1 <= row0 or t.line0 >= row0 + nrows:
            continue
        r = np.arange(t.line0, t.line1)[:, None]
        c = np.arange(t.pixel0, t.pixel0 + t.sigma0.shape[1])[None, :]
        r, c = np.broadcast_arrays(r, c)
        keep = (r >= row0) & (r < row0 + nrows) & (c >= 0) & (c < samples)
        rows.append(r[keep] - row0)
        cols.append(c[keep])
        vals.append(t.sigma0[keep])
    if not rows:
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    index = r.astype(np.int64) * samples + c
    unique, inverse = np.unique(index, return_inverse=True)
    summed = np.zeros(unique.size)
    np.add.at(summed, inverse, v)
    return unique // samples, unique % samples, summed


def centroid(image: np.ndarray, row: float, col: float, radius: int = 4,
             background: float | None = None) -> tuple[float, float]:
    """Intensity-weighted centroid (row, col) of a target near (row, col) in ``image``.

    ``image`` is an intensity (σ°, DN²...); the weights are the values minus ``background``
    (default: the median of the window's border) in a (2 radius + 1)² window, negative ones
    dropped. NaN-safe (NaN pixels weigh nothing).
    """
    r0, c0 = int(round(row)) - radius, int(round(col)) - radius
    if r0 < 0 or c0 < 0 or r0 + 2 * radius + 1 > image.shape[0] or c0 + 2 * radius + 1 > image.shape[1]:
        raise ValueError(f"({row}, {col}) is within {radius} pixels of the image's edge")
    win = np.asarray(image[r0 : r0 + 2 * radius + 1, c0 : c0 + 2 * radius + 1], dtype=np.float64)
    if background is None:
        border = np.concatenate([win[0], win[-1], win[1:-1, 0], win[1:-1, -1]])
        background = float(np.nanmedian(border))
    w = np.nan_to_num(win - background, nan=0.0)
    w[w < 0] = 0.0
    total = w.sum()
    if not total > 0:
        raise ValueError(f"no target above the background near ({row}, {col})")
    rr, cc = np.mgrid[0 : w.shape[0], 0 : w.shape[1]]
    return r0 + float((w * rr).sum() / total), c0 + float((w * cc).sum() / total)
