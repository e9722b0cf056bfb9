"""Radar (line, pixel) of every pixel of an output grid (an S2 tile at any resolution, or any
(crs, transform, shape)), for a height per pixel: the geometry of orthorectification.

Two modes, which agree to better than 0.01 line and 0.01 pixel (tests/geo/test_tile_projection.py,
benchmarks/ground_to_radar.py):

- ``"exact"``: every pixel centre goes UTM (any CRS) → geodetic (pyproj, float64, row blocks)
  → ECEF → zero-Doppler time and slant range → (line, pixel) through
  :meth:`RadarGeometry.ground_to_radar`. The reference; ~1 µs a point.
- ``"fast"`` (default): the same exact solution on a coarse lattice of the grid (a node every
  ``step`` output pixels, one ring beyond the grid) at a few heights between the smallest and
  largest height of the pixels, then, for each pixel, cubic Lagrange interpolation in (row,
  column) and polynomial interpolation in height (degree ``levels − 1`` through Chebyshev-Lobatto
  levels), compiled with numba, parallel over rows, float64 inside.

What is interpolated is not (line, pixel) but the two quantities that are smooth everywhere:
the *line time* (zero-Doppler time with the bistatic shift of ``RadarGeometry`` applied, s since
the orbit's epoch) and the slant range (m). Each pixel then converts them exactly, as
``RadarGeometry.time_line`` and ``range_pixel`` do: for GRD the slant→ground polynomial of the
``coordinateConversion`` record nearest in time (records come every second; on the Rome
fixture two adjacent ones place the same slant range up to 14 pixels apart at far range, and
the product's 28 records up to 66 pixels apart, so (line, pixel) itself jumps at every switch
and could not be interpolated); for TOPS SLC the burst where the point lies farther from the
burst's edges, decided per pixel (or a burst forced with ``burst=``). A pixel whose interpolated
time lies within ``SWITCH_TOLERANCE`` (1e-6 s, 7e-4 line) of a record switch or of a burst switch,
where the interpolation error (< 1e-9 s) could pick the other side, is solved exactly (~200
pixels of a 10 m tile).

Only points inside the image get a value: ``-edge <= line <= lines - 1 + edge`` and the same for
pixels, with pixel centres at integer (line, pixel) (``edge = 0.5``: the image's footprint);
NaN elsewhere, for NaN heights, and where the orbit's state vectors do not reach. Outputs are
float64 by default (``dtype=np.float32`` halves the memory and adds a rounding of at most 0.001
at these image sizes).

The fast mode's accuracy depends on the lattice step in metres, not in output pixels; the
default (``step=None``) is a node every ~2.5 km at most (255.3 pixels at 10 m, 42.6 at 60 m,
12.8 at 200 m), and 3 height levels (4 beyond 3 km of height range, 5 beyond 6 km). Measured
on the Rome GRD, tile 33TTG, heights spanning 2.5 km: 2e-5 pixel and 3e-10 s (2e-7 line) at
most; 1e-5 pixel more with a node every 6.4 km; 4e-5 pixel over 3 km of heights with 3 levels,
3e-4 over 6 km, 2e-6 over 9 km with 4 levels; linear interpolation between 2 levels would be
off by 0.06 pixel over 2.5 km (the slant range's curvature in height, ~sin²θ / R).

:func:`radar_window` (from projected arrays) and :meth:`TileProjector.window` (from the coarse
lattice only, before any pixel is projected) give the window of the measurement a tile needs.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np
from pyproj import CRS, Transformer

from ..safe import Sentinel1Product
from ..safe.annotation import SPEED_OF_LIGHT
from .ellipsoid import geodetic_to_ecef
from .grid import Grid
from .orbit import Orbit
from .radar_geometry import RadarGeometry
from .range_doppler import zero_doppler

Mode = Literal["fast", "exact"]

#: Default spacing of the coarse lattice (m): the fast mode's interpolation error is ~1e-5
#: pixel there; the lattice step in output pixels is this over the grid's resolution.
DEFAULT_STEP_M = 2560.0
#: A pixel whose line time is closer than this (s) to a GRD record switch or a TOPS burst
#: switch is solved exactly (the interpolated time is good to ~1e-9 s).
SWITCH_TOLERANCE = 1e-6
#: Points per block in exact mode (bounds the memory of pyproj and RadarGeometry temporaries).
EXACT_BLOCK = 1 << 20


def default_levels(height_span: float) -> int:
    """Number of height levels of the fast mode for heights spanning ``height_span`` m: the
    degree-2 interpolation in height is good to ~1e-4 pixel over 3 km."""
    if not height_span > 0.0:
        return 1
    if height_span <= 3000.0:
        return 3
    if height_span <= 6000.0:
        return 4
    return 5


# -- grids and windows ----------------------------------------------------------------------


@dataclass(frozen=True)
class RadarWindow:
    """A window of the radar image: lines ``[line_start, line_stop)`` and pixels
    ``[pixel_start, pixel_stop)``."""

    line_start: int
    line_stop: int
    pixel_start: int
    pixel_stop: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.line_stop - self.line_start, self.pixel_stop - self.pixel_start

    @property
    def slices(self) -> tuple[slice, slice]:
        """``image[window.slices]`` reads the window from a full image array."""
        return slice(self.line_start, self.line_stop), slice(self.pixel_start, self.pixel_stop)

    def contains(self, line, pixel) -> bool:
        """Whether every finite (line, pixel) lies on the window's samples (within half a sample
        of their centres, the convention of the image's extent)."""
        bounds = _finite_bounds(np.ascontiguousarray(line, np.float64).reshape(-1),
                                np.ascontiguousarray(pixel, np.float64).reshape(-1))
        if not np.isfinite(bounds).all():
            return True
        l0, l1, p0, p1 = bounds
        return bool(self.line_start - 0.5 <= l0 and l1 <= self.line_stop - 0.5
                    and self.pixel_start - 0.5 <= p0 and p1 <= self.pixel_stop - 0.5)

    def to_rasterio(self):
        """The same window as a ``rasterio.windows.Window`` (col_off, row_off, width, height)."""
        from rasterio.windows import Window

        return Window(self.pixel_start, self.line_start, self.pixel_stop - self.pixel_start,
                      self.line_stop - self.line_start)


def _window(line_min, line_max, pixel_min, pixel_max, image_shape, margin) -> RadarWindow | None:
    """The nearest samples of the extreme positions, grown by margin, clipped to the image."""
    lines, pixels = image_shape
    ls = max(0, int(math.floor(line_min + 0.5)) - margin)
    le = min(lines, int(math.floor(line_max + 0.5)) + margin + 1)
    ps = max(0, int(math.floor(pixel_min + 0.5)) - margin)
    pe = min(pixels, int(math.floor(pixel_max + 0.5)) + margin + 1)
    if ls >= le or ps >= pe:
        return None
    return RadarWindow(ls, le, ps, pe)


def radar_window(line, pixel, image_shape: tuple[int, int], margin: int = 2) -> RadarWindow | None:
    """The window of the image holding every finite (line, pixel): from the nearest sample of
    the smallest to that of the largest, grown by ``margin`` samples (2: all that a bicubic
    resampler reads around a position) and clipped to the image; None when no position is
    finite. Memory-light on full tiles (no temporary of the arrays' size)."""
    bounds = _finite_bounds(np.ascontiguousarray(line).reshape(-1),
                            np.ascontiguousarray(pixel).reshape(-1))
    if not np.isfinite(bounds).all():
        return None
    return _window(*bounds, image_shape, margin)


# -- the projector ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CoarseSolution:
    """The exact solution on the fast mode's lattice.

    The lattice has ``cells`` (rows, columns) cells of ``steps`` (rows, columns) output pixels,
    the largest steps not above the one asked for that put the last node on the last pixel, and
    one more node on each side. ``values[q, a, b, k]``: line time (q = 0, s since the orbit
    epoch) and slant range (q = 1, m) of node (a, b), i.e. of grid position ((a − 1) steps[0],
    (b − 1) steps[1]), at height ``heights[k]``; ``coeffs`` the same as polynomials in the
    normalised height ``(h − h_mid) / h_half`` (increasing powers)."""

    steps: tuple[float, float]
    cells: tuple[int, int]
    heights: np.ndarray
    h_mid: float
    h_half: float
    values: np.ndarray
    coeffs: np.ndarray


class TileProjector:
    """Projects output grids into one radar image (a ``RadarGeometry`` and the image's size)."""

    def __init__(self, geometry: RadarGeometry, image_shape: tuple[int, int]):
        self.geometry = geometry
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        g, orbit = geometry, geometry.orbit
        cc = g.coordinate_conversion
        if cc is not None:
            rec_t = orbit.seconds(cc["azimuth_time"].values)
            coefficients = np.nan_to_num(cc["srgr_coefficients"].values.astype(np.float64))
            if coefficients.shape[1] < 9:  # the kernels evaluate 9 coefficients fastest
                coefficients = np.pad(coefficients, ((0, 0), (0, 9 - coefficients.shape[1])))
            self._records = (np.ascontiguousarray(rec_t, np.float64),
                             np.ascontiguousarray(cc["sr0"].values, np.float64),
                             np.ascontiguousarray(coefficients))
        else:
            self._records = (np.empty(0), np.empty(0), np.empty((0, 1)))
        self._bursts = np.ascontiguousarray(orbit.seconds(g.burst_start_times), np.float64)
        self._params = np.array([
            float(orbit.seconds(g.first_line_time)), g.azimuth_time_interval,
            float(g.lines_per_burst), g.slant_range_time, g.range_sampling_rate,
            g.range_pixel_spacing, float(self.image_shape[0]), float(self.image_shape[1]),
            0.5, -1.0, SWITCH_TOLERANCE,
        ])

    @classmethod
    def open(cls, product, group: str = "IW/VV", orbit: Orbit | None = None,
             storage_options: dict | None = None) -> TileProjector:
        """From any reader location and a ``SWATH/POL`` group (see ``RadarGeometry.open``)."""
        if not isinstance(product, Sentinel1Product):
            product = Sentinel1Product(product, storage_options)
        geometry = RadarGeometry.open(product, group, orbit=orbit)
        swath, pol = group.strip("/").split("/")[:2]
        info = product.metadata(f"{swath}/{pol}/orbit").attrs
        return cls(geometry, (info["number_of_lines"], info["number_of_samples"]))

    # -- public ------------------------------------------------------------------------------
    def project(self, grid: Grid, heights, *, mode: Mode = "fast", step: float | None = None,
                levels: int | None = None, burst: int | None = None, edge: float = 0.5,
                dtype=np.float64, out: tuple[np.ndarray, np.ndarray] | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
        """(line, pixel) of every pixel of ``grid`` at ``heights`` (metres above the WGS84
        ellipsoid: an array of the grid's shape, NaN allowed, or a scalar).

        ``step`` (output pixels) and ``levels`` set the fast mode's lattice (defaults: a node
        every ~2.5 km, :func:`default_levels`); ``burst`` projects into that TOPS burst only
        (points outside its lines get NaN); ``edge``: how far outside the outermost sample
        centres a point still counts as inside the image. NaN where the point is outside the
        image or its height is NaN. ``dtype``: float64 or float32 outputs; ``out``: a (line,
        pixel) pair of C-contiguous arrays of the grid's shape to write into (reusing them
        saves the page faults of fresh memory: ~1 s a 10 m tile here)."""
        heights = self._heights(grid, heights)
        burst = self._burst(burst)
        if mode not in ("fast", "exact"):
            raise ValueError(f"mode must be 'fast' or 'exact', not {mode!r}")
        line, pixel = _outputs(grid.shape, dtype, out)
        if mode == "exact":
            return self._project_exact(grid, heights, burst, edge, line, pixel)
        h_range = _height_range(heights)
        if h_range is None:  # no finite height
            line.fill(np.nan)
            pixel.fill(np.nan)
            return line, pixel
        coarse = self.solve_coarse(grid, h_range, step=step, levels=levels)
        col_cell, col_u = _axis_cells(grid.shape[1], coarse.steps[1], coarse.cells[1])
        params = self._kernel_params(burst, edge)
        flagged = np.zeros(grid.shape[0], np.int64)
        _fast_kernel(coarse.coeffs, coarse.steps[0], heights, coarse.h_mid, 1.0 / coarse.h_half,
                     col_cell, col_u, params, *self._records, self._bursts, line, pixel, flagged)
        if flagged.sum():
            rows, cols = _gather_flagged(line, flagged, int(flagged.sum()))
            exact_line, exact_pixel = self._exact_points(grid, rows, cols, heights[rows, cols],
                                                         burst, edge)
            line[rows, cols] = exact_line
            pixel[rows, cols] = exact_pixel
        return line, pixel

    def window(self, grid: Grid, heights, *, margin: int = 2, burst: int | None = None,
               step: float | None = None, levels: int | None = None) -> RadarWindow | None:
        """The window of the image that the pixels of ``grid`` at ``heights`` (an array, a
        scalar or a (min, max) pair) can fall in, grown by ``margin`` samples and clipped to the
        image, from the coarse lattice alone (before projecting any pixel): every valid (line,
        pixel) of :meth:`project` lies inside it. None when the grid misses the image.

        Per lattice cell, the line times and slant ranges of its corner nodes at every height
        level, grown by a bound of the interpolation's overshoot (from the
        lattice's second differences), bound those of its pixels; the cell's (line, pixel) box
        is taken over that box of times (sampled every millisecond, under a line, so that GRD
        record switches and TOPS burst switches are accounted for) and ranges. Conservative by
        how far the height range moves a point (~250 samples for 2.5 km at far range);
        :func:`radar_window` of the projected arrays gives the tight window."""
        if isinstance(heights, tuple):
            h_range = (float(min(heights)), float(max(heights)))
        else:
            h_range = _height_range(heights)
        if h_range is None:
            return None
        coarse = self.solve_coarse(grid, h_range, step=step, levels=levels)
        t, r = coarse.values[0], coarse.values[1]
        pad_t, pad_r = (_overshoot(v) for v in (t, r))
        params = self._kernel_params(self._burst(burst), 0.5)
        bounds = _lattice_bounds(np.ascontiguousarray(t), np.ascontiguousarray(r), pad_t, pad_r,
                                 1e-3, params, *self._records, self._bursts)
        if not np.isfinite(bounds).all():
            return None
        return _window(*bounds, self.image_shape, margin)

    def solve_coarse(self, grid: Grid, height_range: tuple[float, float], *,
                     step: float | None = None, levels: int | None = None) -> CoarseSolution:
        """The exact line time and slant range on the fast mode's lattice (see
        :class:`CoarseSolution`) for heights in ``height_range``: a node every ``step`` output
        pixels at most (default: ~2.5 km), ``levels`` heights (default: :func:`default_levels`)."""
        if step is None:
            step = max(1.0, DEFAULT_STEP_M / grid.resolution_m)
        if not float(step) >= 1.0:
            raise ValueError(f"step must be >= 1, not {step}")
        lo, hi = float(height_range[0]), float(height_range[1])
        if levels is None:
            levels = default_levels(hi - lo)
        levels = int(levels)
        if levels < 1:
            raise ValueError(f"levels must be >= 1, not {levels}")
        if levels == 1 or hi <= lo:
            levels, mid, half = 1, 0.5 * (lo + hi), 1.0
            nodes = np.zeros(1)
        else:
            mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
            nodes = -np.cos(np.pi * np.arange(levels) / (levels - 1))  # Chebyshev-Lobatto
        heights = mid + half * nodes
        cells = tuple(max(1, math.ceil((n - 1) / float(step))) for n in grid.shape)
        steps = tuple(max(n - 1, 1) / c for n, c in zip(grid.shape, cells, strict=True))
        rows = np.arange(-1, cells[0] + 2) * steps[0]
        cols = np.arange(-1, cells[1] + 2) * steps[1]
        x, y = grid.xy(rows[:, None], cols[None, :])
        lon, lat = _to_lonlat(grid.crs).transform(x, y)
        values = np.empty((2, rows.size, cols.size, levels))
        for k, h in enumerate(heights):
            values[0, ..., k], values[1, ..., k] = self._line_time_range(lat, lon, h)
        vander = nodes[:, None] ** np.arange(levels)
        coeffs = np.ascontiguousarray(values @ np.linalg.inv(vander).T)
        return CoarseSolution(steps, cells, heights, mid, half, values, coeffs)

    def convert(self, line_time, slant_range, burst: int | None = None,
                edge: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(line, pixel) of line times (s since the orbit epoch) and slant ranges (m), as
        ``RadarGeometry.time_line`` and ``range_pixel`` compute them, compiled; with ``edge``,
        NaN outside the image."""
        t = np.ascontiguousarray(line_time, np.float64)
        r = np.ascontiguousarray(slant_range, np.float64)
        params = self._kernel_params(self._burst(burst), -1.0 if edge is None else edge)
        line, pixel = np.empty(t.shape), np.empty(t.shape)
        _convert_kernel(t.reshape(-1), r.reshape(-1), params, *self._records, self._bursts,
                        line.reshape(-1), pixel.reshape(-1))
        return line, pixel

    # -- internals ---------------------------------------------------------------------------
    def _heights(self, grid: Grid, heights) -> np.ndarray:
        heights = np.asarray(heights)
        if heights.ndim == 0:
            return np.broadcast_to(heights.astype(np.float64), grid.shape)
        if heights.shape != grid.shape:
            raise ValueError(f"heights have shape {heights.shape}, the grid {grid.shape}")
        if heights.dtype not in (np.float32, np.float64):
            heights = heights.astype(np.float64)
        return heights

    def _burst(self, burst: int | None) -> int:
        if burst is None:
            return -1
        n = self.geometry.burst_start_times.size
        if not self.geometry.lines_per_burst or not 0 <= int(burst) < n:
            raise ValueError(f"burst {burst} does not exist in this image ({n} bursts)")
        return int(burst)

    def _kernel_params(self, burst: int, edge: float) -> np.ndarray:
        params = self._params.copy()
        params[_P_EDGE] = edge
        params[_P_BURST] = burst
        return params

    def _line_time_range(self, lat, lon, height) -> tuple[np.ndarray, np.ndarray]:
        """Exact line time (s since the orbit epoch) and slant range (m) of ground points."""
        seconds, slant_range = zero_doppler(self.geometry.orbit, geodetic_to_ecef(lat, lon, height))
        return seconds + self.geometry.bistatic_shift(slant_range), slant_range

    def _exact_points(self, grid: Grid, rows, cols, heights, burst: int, edge: float):
        """Exact (line, pixel) of grid pixels (rows, cols) (1-D) at heights, NaN outside."""
        line = np.full(rows.shape, np.nan)
        pixel = np.full(rows.shape, np.nan)
        ok = np.isfinite(heights)
        if not ok.any():
            return line, pixel
        x, y = grid.xy(rows[ok], cols[ok])
        lon, lat = _to_lonlat(grid.crs).transform(x, y)
        li, pi = self.geometry.ground_to_radar(lat, lon, heights[ok],
                                               burst=None if burst < 0 else burst)
        first, last = 0, self.image_shape[0] - 1
        if burst >= 0:
            first = burst * self.geometry.lines_per_burst
            last = first + self.geometry.lines_per_burst - 1
        inside = ((li >= first - edge) & (li <= last + edge)
                  & (pi >= -edge) & (pi <= self.image_shape[1] - 1 + edge))
        line[ok] = np.where(inside, li, np.nan)
        pixel[ok] = np.where(inside, pi, np.nan)
        return line, pixel

    def _project_exact(self, grid: Grid, heights, burst: int, edge: float, line, pixel):
        nrows, ncols = grid.shape
        block = max(1, EXACT_BLOCK // max(ncols, 1))
        cols = np.arange(ncols)
        for r0 in range(0, nrows, block):
            r1 = min(nrows, r0 + block)
            rows = np.repeat(np.arange(r0, r1), ncols)
            cc = np.tile(cols, r1 - r0)
            li, pi = self._exact_points(grid, rows, cc, np.asarray(heights[r0:r1]).reshape(-1),
                                        burst, edge)
            line[r0:r1] = li.reshape(r1 - r0, ncols)
            pixel[r0:r1] = pi.reshape(r1 - r0, ncols)
        return line, pixel


# -- helpers ---------------------------------------------------------------------------------


@functools.cache
def _to_lonlat(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, 4326, always_xy=True, allow_ballpark=False)


def _outputs(shape, dtype, out) -> tuple[np.ndarray, np.ndarray]:
    if out is None:
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, not {dtype}")
        return np.empty(shape, dtype), np.empty(shape, dtype)
    line, pixel = out
    for a in (line, pixel):
        if (a.shape != tuple(shape) or a.dtype not in (np.float32, np.float64)
                or not a.flags.c_contiguous or not a.flags.writeable):
            raise ValueError(f"out arrays must be writeable C-contiguous float32 or float64 "
                             f"arrays of shape {tuple(shape)}")
    return line, pixel


def _height_range(heights) -> tuple[float, float] | None:
    """(min, max) of the finite heights, None when there is none; no copy of the array."""
    h = np.asarray(heights)
    if h.size == 0:
        return None
    if h.ndim == 0 or not any(h.strides):  # a scalar, possibly broadcast to the grid
        v = float(h.flat[0])
        return (v, v) if math.isfinite(v) else None
    lo, hi = _finite_minmax(h.reshape(1, -1) if h.ndim == 1 else h)
    if not math.isfinite(lo):
        return None
    return float(lo), float(hi)


def _overshoot(v: np.ndarray) -> float:
    """A bound of how far cubic interpolation on the lattice strays from the box of a cell's
    corner values: half the largest second difference along either axis (twice the bilinear
    sag, f'' h² / 8 on each axis), plus a ~1e-9 relative floor."""
    d_rows = np.abs(v[2:] - 2 * v[1:-1] + v[:-2])
    d_cols = np.abs(v[:, 2:] - 2 * v[:, 1:-1] + v[:, :-2])
    worst = max(np.nanmax(d_rows, initial=0.0), np.nanmax(d_cols, initial=0.0))
    return 0.5 * worst + 1e-9 * float(np.nanmax(np.abs(v), initial=0.0))


def _axis_cells(n: int, step: float, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel along an axis: its lattice cell and its position u (0..1) in the cell."""
    pos = np.arange(n) / step
    cell = np.minimum(pos.astype(np.int64), cells - 1)
    return cell, pos - cell


# -- kernels ---------------------------------------------------------------------------------

# Layout of the kernels' parameter vector.
_P_T0, _P_ATI, _P_LPB, _P_SRT, _P_FS, _P_RPS, _P_LINES, _P_PIXELS, _P_EDGE, _P_BURST, _P_TOL = \
    range(11)
_TWO_OVER_C = 2.0 / SPEED_OF_LIGHT


@numba.njit(parallel=True, cache=True)
def _finite_minmax(a):  # pragma: no cover - compiled
    """(min, max) of the finite values of a 2-D array (any layout), NaNs if there is none."""
    lo = np.full(a.shape[0], np.inf)
    hi = np.full(a.shape[0], -np.inf)
    for i in numba.prange(a.shape[0]):
        rlo, rhi = np.inf, -np.inf
        for j in range(a.shape[1]):
            v = a[i, j]
            if math.isfinite(v):
                rlo = min(rlo, v)
                rhi = max(rhi, v)
        lo[i], hi[i] = rlo, rhi
    if a.shape[0] == 0 or lo.min() > hi.max():
        return np.nan, np.nan
    return lo.min(), hi.max()


@numba.njit(cache=True)
def _finite_bounds(line, pixel):  # pragma: no cover - compiled
    """(line min, line max, pixel min, pixel max) over points where both are finite."""
    l0, l1, p0, p1 = np.inf, -np.inf, np.inf, -np.inf
    for i in range(line.size):
        a, b = line[i], pixel[i]
        if math.isfinite(a) and math.isfinite(b):
            l0, l1, p0, p1 = min(l0, a), max(l1, a), min(p0, b), max(p1, b)
    if l0 > l1:
        return np.array([np.nan, np.nan, np.nan, np.nan])
    return np.array([l0, l1, p0, p1])


@numba.njit(cache=True, inline="always")
def _polynomial(c, k, x):  # pragma: no cover - compiled
    """Polynomial c[k, 0] + c[k, 1] x + ...: Estrin's scheme when c has 9 columns (the
    annotation's srgr polynomials, padded to 9 by the projector), half the dependency chain
    of Horner's, which the per-pixel loop is bound by; Horner's otherwise."""
    if c.shape[1] == 9:
        x2 = x * x
        x4 = x2 * x2
        p0 = (c[k, 0] + c[k, 1] * x) + (c[k, 2] + c[k, 3] * x) * x2
        p1 = (c[k, 4] + c[k, 5] * x) + (c[k, 6] + c[k, 7] * x) * x2
        return p0 + (p1 + c[k, 8] * x4) * x4
    out = 0.0
    for d in range(c.shape[1] - 1, -1, -1):
        out = out * x + c[k, d]
    return out


@numba.njit(cache=True, inline="always")
def _to_image(t, r, params, rec_t, rec_sr0, rec_c, bursts, hint):  # pragma: no cover - compiled
    """(line, pixel, near_switch, hint) of a line time t (s) and slant range r (m): the compiled
    twin of RadarGeometry.time_line / range_pixel. ``hint`` (a record or burst index, any value
    in range) only speeds up the searches; pass back the one returned for the next point."""
    tol = params[_P_TOL]
    ati = params[_P_ATI]
    near_switch = False
    # azimuth
    lpb = params[_P_LPB]
    if lpb > 0.0:
        forced = int(params[_P_BURST])
        if forced >= 0:
            b = forced
        else:
            # later: the last burst starting at or before t (clipped), as searchsorted(right) - 1
            last = bursts.size - 1
            later = min(max(hint, 0), last)
            while later < last and bursts[later + 1] <= t:
                later += 1
            while later > 0 and bursts[later] > t:
                later -= 1
            hint = later
            earlier = max(later - 1, 0)
            oe = (t - bursts[earlier]) / ati
            ol = (t - bursts[later]) / ati
            me = min(oe, lpb - 1.0 - oe)
            ml = min(ol, lpb - 1.0 - ol)
            b = earlier if me > ml else later
            if earlier != later and abs(me - ml) * ati < 2.0 * tol:
                near_switch = True
        line = b * lpb + (t - bursts[b]) / ati
    else:
        line = (t - params[_P_T0]) / ati
    # range
    n = rec_t.size
    if n > 0:
        if n == 1:
            k = 0
        else:
            # right: the first record at or after t, clipped to [1, n - 1] (searchsorted(left))
            right = min(max(hint, 1), n - 1)
            while right < n - 1 and rec_t[right] < t:
                right += 1
            while right > 1 and rec_t[right - 1] >= t:
                right -= 1
            hint = right
            left = right - 1
            dl = abs(t - rec_t[left])
            dr = abs(rec_t[right] - t)
            k = left if dl <= dr else right
            if abs(dl - dr) < 2.0 * tol:
                near_switch = True
        pixel = _polynomial(rec_c, k, r - rec_sr0[k]) / params[_P_RPS]
    else:
        pixel = (r * _TWO_OVER_C - params[_P_SRT]) * params[_P_FS]
    return line, pixel, near_switch, hint


@numba.njit(cache=True, inline="always")
def _inside(line, pixel, params):  # pragma: no cover - compiled
    """Whether (line, pixel) lies in the image (in the forced burst's lines, if any)."""
    edge = params[_P_EDGE]
    if edge < 0.0:
        return True
    first, last = 0.0, params[_P_LINES] - 1.0
    if params[_P_BURST] >= 0.0 and params[_P_LPB] > 0.0:
        first = params[_P_BURST] * params[_P_LPB]
        last = first + params[_P_LPB] - 1.0
    return (first - edge <= line <= last + edge
            and -edge <= pixel <= params[_P_PIXELS] - 1.0 + edge)


@numba.njit(parallel=True, cache=True)
def _convert_kernel(t, r, params, rec_t, rec_sr0, rec_c, bursts,
                    line, pixel):  # pragma: no cover - compiled
    for i in numba.prange(t.size):
        if math.isfinite(t[i]) and math.isfinite(r[i]):
            li, pi, _, _ = _to_image(t[i], r[i], params, rec_t, rec_sr0, rec_c, bursts, 0)
            if _inside(li, pi, params):
                line[i], pixel[i] = li, pi
                continue
        line[i], pixel[i] = np.nan, np.nan


@numba.njit(parallel=True, cache=True)
def _fast_kernel(coeffs, step, heights, h_mid, h_scale, col_cell, col_u, params,
                 rec_t, rec_sr0, rec_c, bursts, line, pixel, flagged):  # pragma: no cover
    """Per row: cubic Lagrange interpolation of the lattice's height polynomials to the row,
    each lattice cell along the row turned into a cubic in its position u; per pixel: those
    cubics, Horner in height, and the exact conversion to (line, pixel). A pixel near a record
    or burst switch gets line = +inf (solved exactly afterwards), counted in ``flagged[row]``."""
    nrows, ncols = heights.shape
    nnx = coeffs.shape[2]
    nl = coeffs.shape[3]
    cells_y = coeffs.shape[1] - 3
    for i in numba.prange(nrows):
        pos = i / step
        cy = min(int(pos), cells_y - 1)
        v = pos - cy
        w0 = -v * (v - 1.0) * (v - 2.0) / 6.0
        w1 = (v + 1.0) * (v - 1.0) * (v - 2.0) / 2.0
        w2 = -(v + 1.0) * v * (v - 2.0) / 2.0
        w3 = (v + 1.0) * v * (v - 1.0) / 6.0
        # cubic[q, k, cell, m]: the u^m coefficient of the row's Lagrange cubic through the
        # nodes cell .. cell + 3 (u = 0 at node cell + 1, 1 at node cell + 2)
        cubic = np.empty((2, nl, nnx - 3, 4))
        for q in range(2):
            for k in range(nl):
                f0 = f1 = f2 = 0.0
                for a in range(nnx):
                    f3 = (w0 * coeffs[q, cy, a, k] + w1 * coeffs[q, cy + 1, a, k]
                          + w2 * coeffs[q, cy + 2, a, k] + w3 * coeffs[q, cy + 3, a, k])
                    if a >= 3:
                        c = cubic[q, k, a - 3]
                        c[0] = f1
                        c[1] = -f0 / 3.0 - f1 / 2.0 + f2 - f3 / 6.0
                        c[2] = f0 / 2.0 - f1 + f2 / 2.0
                        c[3] = -f0 / 6.0 + f1 / 2.0 - f2 / 2.0 + f3 / 6.0
                    f0, f1, f2 = f1, f2, f3
        count = 0
        hint = 0
        for j in range(ncols):
            h = heights[i, j]
            if not math.isfinite(h):
                line[i, j] = np.nan
                pixel[i, j] = np.nan
                continue
            hn = (h - h_mid) * h_scale
            cx = col_cell[j]
            u = col_u[j]
            t = 0.0
            r = 0.0
            for k in range(nl - 1, -1, -1):
                a = cubic[0, k, cx]
                b = cubic[1, k, cx]
                t = t * hn + (((a[3] * u + a[2]) * u + a[1]) * u + a[0])
                r = r * hn + (((b[3] * u + b[2]) * u + b[1]) * u + b[0])
            if not (math.isfinite(t) and math.isfinite(r)):
                line[i, j] = np.nan
                pixel[i, j] = np.nan
                continue
            li, pi, near, hint = _to_image(t, r, params, rec_t, rec_sr0, rec_c, bursts, hint)
            if near:
                line[i, j] = np.inf
                pixel[i, j] = np.nan
                count += 1
            elif _inside(li, pi, params):
                line[i, j] = li
                pixel[i, j] = pi
            else:
                line[i, j] = np.nan
                pixel[i, j] = np.nan
        flagged[i] = count


@numba.njit(cache=True)
def _lattice_bounds(t, r, pad_t, pad_r, dt, params, rec_t, rec_sr0, rec_c,
                    bursts):  # pragma: no cover - compiled
    """(line min, line max, pixel min, pixel max) over the grid's lattice cells (the nodes
    within the outer ring) of the (line, pixel) box of each cell's (time, range) box, cells
    whose box misses the image left out; NaNs if none is left."""
    lines, pixels = params[_P_LINES], params[_P_PIXELS]
    l0, l1, p0, p1 = np.inf, -np.inf, np.inf, -np.inf
    ny, nx, nl = t.shape
    for a in range(1, ny - 2):
        for b in range(1, nx - 2):
            t0, t1, r0, r1 = np.inf, -np.inf, np.inf, -np.inf
            for da in range(2):
                for db in range(2):
                    for k in range(nl):
                        tv, rv = t[a + da, b + db, k], r[a + da, b + db, k]
                        t0, t1 = min(t0, tv), max(t1, tv)
                        r0, r1 = min(r0, rv), max(r1, rv)
            if not (math.isfinite(t0) and math.isfinite(t1) and math.isfinite(r0)
                    and math.isfinite(r1)):
                continue
            t0, t1, r0, r1 = t0 - pad_t, t1 + pad_t, r0 - pad_r, r1 + pad_r
            cl0, cl1, cp0, cp1 = np.inf, -np.inf, np.inf, -np.inf
            n = int((t1 - t0) / dt) + 2
            hint = 0
            for m in range(n):
                tm = min(t0 + m * dt, t1)
                for rm in (r0, r1):
                    li, pi, _, hint = _to_image(tm, rm, params, rec_t, rec_sr0, rec_c, bursts,
                                                hint)
                    cl0, cl1, cp0, cp1 = min(cl0, li), max(cl1, li), min(cp0, pi), max(cp1, pi)
            if cl1 < -0.5 or cl0 > lines - 0.5 or cp1 < -0.5 or cp0 > pixels - 0.5:
                continue
            l0, l1 = min(l0, max(cl0, -0.5)), max(l1, min(cl1, lines - 0.5))
            p0, p1 = min(p0, max(cp0, -0.5)), max(p1, min(cp1, pixels - 0.5))
    if l0 > l1:
        return np.array([np.nan, np.nan, np.nan, np.nan])
    return np.array([l0, l1, p0, p1])


@numba.njit(cache=True)
def _gather_flagged(line, flagged, total):  # pragma: no cover - compiled
    rows = np.empty(total, np.int64)
    cols = np.empty(total, np.int64)
    n = 0
    for i in range(line.shape[0]):
        if flagged[i]:
            for j in range(line.shape[1]):
                if line[i, j] == np.inf:
                    rows[n] = i
                    cols[n] = j
                    n += 1
    return rows, cols


__all__ = [
    "DEFAULT_STEP_M",
    "CoarseSolution",
    "Grid",
    "RadarWindow",
    "TileProjector",
    "default_levels",
    "radar_window",
]
