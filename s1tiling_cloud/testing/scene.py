"""The synthetic scene: σ° truth, gamma speckle and thermal noise, turned into GRD DNs by blocks.

Per pixel, the detected intensity of an L-look GRD is gamma distributed around its mean
``mu = sigma0 * A_sigma^2 + N`` (signal plus thermal noise, both in DN^2), with shape L and mean
mu; the product stores ``DN = round(sqrt(I))`` as uint16. A_sigma and N are the product's own
LUTs interpolated as readers do (``radiometry``), so ``(DN^2 - N) / A_sigma^2`` averages to the
σ° truth.

Speed (the full size is 2 x 420 Mpixel): one fused numba kernel per block, parallel over lines.
The random numbers are counter-based (a SplitMix64 hash of seed, polarisation and pixel index),
so a product does not depend on the block size or the thread count. Gamma variates come from the
inverse CDF: a table of 65,536 exact quantiles (mid-probabilities), linearly interpolated, scaled
to mean exactly 1 -- a faithful gamma law (the tail is cut above the 1 - 7.6e-6 quantile) at a
fraction of the cost of a rejection sampler. ``speckle=False`` makes every variate 1.

Point targets (`targets`) add ``σ°_t A_sigma²`` to the speckled intensity of the few pixels
they cover, drawn after the kernel with the same random variates (`render_block`), which the
repaint of real products (`repaint`) shares with different LUTs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from .product_geometry import ProductGeometry
from .radiometry import BURST_CYCLE, LineInterpolator, Luts, azimuth_factors
from .targets import RenderedTarget, TargetTruth, patches_in_block

#: Quantiles in the speckle table.
SPECKLE_TABLE_SIZE = 65_536

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


@functools.lru_cache(maxsize=8)
def speckle_table(looks: float, size: int = SPECKLE_TABLE_SIZE) -> np.ndarray:
    """Quantiles of Gamma(shape=L, mean=1) at probabilities (k + 0.5) / size, mean 1.

    The CDF is integrated numerically (trapezoids on 2^20 points, the density in log form),
    which needs no special-function library; the quantiles are exact to ~1e-7.
    """
    L = float(looks)
    x_max = 1.0 + 30.0 / math.sqrt(L) + 30.0 / L
    x = np.linspace(0.0, x_max, 1 << 20)
    with np.errstate(divide="ignore"):
        logpdf = L * math.log(L) - math.lgamma(L) + (L - 1.0) * np.log(x) - L * x
    pdf = np.exp(logpdf)
    pdf[0] = 0.0 if L > 1.0 else L  # density at 0: 0 for L > 1, L for the exponential
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(x))])
    cdf /= cdf[-1]
    p = (np.arange(size) + 0.5) / size
    table = np.interp(p, cdf, x)
    return table / table.mean()


@numba.njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M2
    z = (z ^ (z >> _S27)) * _M3
    return z ^ (z >> _S31)


def stream_key(seed: int, stream: int) -> np.uint64:
    """Key of one random stream (a polarisation): independent streams per (seed, stream)."""
    z = np.uint64((seed * 0x1F3D5B79 + stream * 0x2545F491 + 0x5DEECE66D) & 0xFFFFFFFFFFFFFFFF)
    return np.uint64(_mix(z))


#: The "speckle table" of a scene without speckle: every variate is 1.
NO_SPECKLE = np.ones(2)


@numba.njit(inline="always")
def _gamma(key, idx, table):
    """The gamma variate (mean 1) drawn by pixel ``idx`` of stream ``key``."""
    kmax = table.shape[0] - 1
    u = (float(_mix(key ^ (idx * _M3)) >> _S11) + 0.5) * _INV53 * (kmax + 1) - 0.5
    k = min(max(int(u), 0), kmax - 1)
    f = min(max(u - k, 0.0), 1.0)  # clamps both ends to the first/last quantile
    return table[k] * (1.0 - f) + table[k + 1] * f


@numba.njit(inline="always")
def _speckled_dn(mu, key, idx, table):
    """round(sqrt(mu * g)) for the gamma variate g drawn by pixel ``idx`` of stream ``key``."""
    g = _gamma(key, idx, table)
    return min(math.floor(math.sqrt(mu * g) + 0.5), 65535.0)


@numba.njit(cache=True)
def _dn_points(row0, samples, sig_rows, sig_k, sig_w, noi_rows, noi_k, noi_w, az, swath,
               sigma0, first_valid, last_valid, table, key, pr, pc, extra, out):  # pragma: no cover
    """DN of the pixels (pr, pc) of a block that hold targets: the speckled background (the
    same variate as `_dn_kernel` draws) plus the targets' σ° ``extra`` times A_sigma²."""
    field = sigma0.shape[0] > 1
    for m in range(pr.shape[0]):
        i, j = pr[m], pc[m]
        if j < first_valid[i] or j > last_valid[i]:
            continue
        ws, wn = sig_w[i], noi_w[i]
        a = sig_rows[sig_k[i], j] * (1.0 - ws) + sig_rows[sig_k[i] + 1, j] * ws
        n = (noi_rows[noi_k[i], j] * (1.0 - wn) + noi_rows[noi_k[i] + 1, j] * wn) * az[swath[j], i]
        s = sigma0[i, j] if field else sigma0[0, 0]
        g = _gamma(key, np.uint64((row0 + i) * samples) + np.uint64(j), table)
        dn = min(math.floor(math.sqrt((s * a * a + n) * g + extra[m] * a * a) + 0.5), 65535.0)
        out[i, j] = np.uint16(max(dn, 1.0))


@numba.njit(parallel=True, cache=True)
def _dn_kernel(row0, samples, sig_rows, sig_k, sig_w, noi_rows, noi_k, noi_w, az, swath,
               sigma0, first_valid, last_valid, border, table, key, out):  # pragma: no cover
    """DN of a block of lines; branch-free inner loop, borders handled after it."""
    field = sigma0.shape[0] > 1
    s0 = sigma0[0, 0]
    for i in numba.prange(out.shape[0]):
        ii = np.int64(i)  # parfor indices are unsigned: keep the index arithmetic signed
        ws, wn = sig_w[i], noi_w[i]
        sa, sb = sig_rows[sig_k[i]], sig_rows[sig_k[i] + 1]
        na, nb = noi_rows[noi_k[i]], noi_rows[noi_k[i] + 1]
        azi = az[:, i].copy()
        base = np.uint64((row0 + ii) * samples)
        o = out[i]
        lo = min(max(first_valid[i], 0), samples)
        hi = min(max(last_valid[i] + 1, lo), samples)
        for j in range(lo, hi):
            a = sa[j] * (1.0 - ws) + sb[j] * ws
            n = (na[j] * (1.0 - wn) + nb[j] * wn) * azi[swath[j]]
            s = sigma0[ii, j] if field else s0
            dn = _speckled_dn(s * a * a + n, key, base + np.uint64(j), table)
            o[j] = np.uint16(max(dn, 1.0))  # a valid pixel is never no-data
        for j in range(samples):
            if lo <= j < hi:
                continue
            if border > 0.0:  # IPF < 2.90: noisy borders instead of zeros
                n = (na[j] * (1.0 - wn) + nb[j] * wn) * azi[swath[j]]
                o[j] = np.uint16(_speckled_dn(border * n, key, base + np.uint64(j), table))
            else:
                o[j] = 0


@dataclass(frozen=True)
class Margins:
    """Per line, the first and last valid columns; lines outside [first, last] are all no-data."""

    first_valid: np.ndarray  # (lines,) int32
    last_valid: np.ndarray  # (lines,) int32

    @classmethod
    def build(cls, geo: ProductGeometry) -> Margins:
        """IPF-like ragged borders: a base width per side plus a per-burst jitter of 0-6 px
        (the IPF's borders change from burst to burst)."""
        spec = geo.spec
        return cls.ipf_like(geo.lines, geo.samples, geo.azimuth_time_interval, spec.seed,
                            spec.margin_lines, spec.margin_samples)

    @classmethod
    def ipf_like(cls, lines: int, samples: int, azimuth_time_interval: float, seed: int = 0,
                 margin_lines: tuple[int, int] | None = None,
                 margin_samples: tuple[int, int] | None = None) -> Margins:
        """`build`'s borders for any image size (``None``: size-dependent defaults)."""
        ml = margin_lines if margin_lines is not None else (
            min(10, lines // 80), min(10, lines // 80))
        ms = margin_samples if margin_samples is not None else (
            min(40, samples // 40), min(40, samples // 40))
        burst = np.floor(np.arange(lines) * azimuth_time_interval / BURST_CYCLE)
        jitter = _jitter(burst.astype(np.int64), seed)
        near = np.where(ms[0] > 0, ms[0] + jitter % 7, 0)
        far = np.where(ms[1] > 0, ms[1] + (jitter // 7) % 7, 0)
        first = near.astype(np.int32)
        last = (samples - 1 - far).astype(np.int32)
        dead = np.zeros(lines, dtype=bool)
        dead[: ml[0]] = True
        if ml[1]:
            dead[lines - ml[1]:] = True
        first[dead], last[dead] = samples, -1
        return cls(first, last)

    def valid(self, row0: int, nrows: int, samples: int) -> np.ndarray:
        """Boolean validity mask of a block of lines."""
        cols = np.arange(samples)
        f = self.first_valid[row0 : row0 + nrows, None]
        la = self.last_valid[row0 : row0 + nrows, None]
        return (cols >= f) & (cols <= la)


def _jitter(burst: np.ndarray, seed: int) -> np.ndarray:
    z = (burst.astype(np.uint64) * _M1 + np.uint64(seed & 0xFFFFFFFF)).astype(np.uint64)
    z = (z ^ (z >> _S30)) * _M2
    z = (z ^ (z >> _S27)) * _M3
    return (z >> np.uint64(40)).astype(np.int64) % 49


def render_block(out: np.ndarray, row0: int, sigma: LineInterpolator, noise: LineInterpolator,
                 az: np.ndarray, swath: np.ndarray, sigma0: np.ndarray, margins: Margins,
                 border: float, table: np.ndarray, key: np.uint64,
                 targets: list[RenderedTarget] | tuple = ()) -> np.ndarray:
    """DN (uint16) of the lines [row0, row0 + len(out)) into ``out``: background by the fused
    kernel, then the pixels that hold targets.

    ``az`` (groups, nrows) are the azimuth noise factors and ``swath`` (samples,) the group of
    each column; ``sigma0`` is (1, 1) for a constant σ° (linear) or (nrows, samples).
    """
    nrows, n = out.shape
    rows = np.arange(row0, row0 + nrows, dtype=np.float64)
    ks, ws = sigma.brackets(rows)
    kn, wn = noise.brackets(rows)
    first = margins.first_valid[row0 : row0 + nrows]
    last = margins.last_valid[row0 : row0 + nrows]
    _dn_kernel(row0, n, sigma.rows, ks, ws, noise.rows, kn, wn, az, swath, sigma0, first, last,
               border, table, key, out)
    if targets:
        pr, pc, extra = patches_in_block(list(targets), row0, nrows, n)
        if pr.size:
            _dn_points(row0, n, sigma.rows, ks, ws, noise.rows, kn, wn, az, swath, sigma0,
                       first, last, table, key, pr, pc, extra, out)
    return out


@numba.njit(parallel=True, cache=True)
def _bilinear_rows(lat, lon, k, w, c, u, lon0, out_lat, out_lon):  # pragma: no cover
    """Bilinear interpolation of two coarse grids at rows (k, w) x columns (c, u); ``lon``
    relative to ``lon0``, the result wrapped to [-180, 180)."""
    for i in numba.prange(out_lat.shape[0]):
        a, b = k[i], k[i] + 1
        wi = w[i]
        for j in range(out_lat.shape[1]):
            cj, uj = c[j], u[j]
            top = lat[a, cj] * (1.0 - uj) + lat[a, cj + 1] * uj
            bottom = lat[b, cj] * (1.0 - uj) + lat[b, cj + 1] * uj
            out_lat[i, j] = top * (1.0 - wi) + bottom * wi
            top = lon[a, cj] * (1.0 - uj) + lon[a, cj + 1] * uj
            bottom = lon[b, cj] * (1.0 - uj) + lon[b, cj + 1] * uj
            out_lon[i, j] = (top * (1.0 - wi) + bottom * wi + lon0 + 180.0) % 360.0 - 180.0


class SceneSynthesizer:
    """Writes the DN image of one polarisation, block of lines by block of lines.

    The σ° truth is a constant (dB) or a callable f(lat, lon) -> dB evaluated on each pixel,
    whose latitude and longitude are interpolated bilinearly from the exact geometry on a
    32-pixel grid (a few millimetres of error at most on a flat scene). The spec's point
    targets are drawn on top, at the (line, pixel) where the radar sees them.
    """

    GEO_STEP = 32

    def __init__(self, geo: ProductGeometry, luts: Luts, pol: str, stream: int) -> None:
        self.geo = geo
        self.luts = luts
        spec = geo.spec
        self.sigma0 = spec.sigma0_for(pol)
        n = geo.samples
        self.sigma = LineInterpolator.build(luts.cal_lines, luts.cal_pixels, luts.sigma, n)
        self.noise = LineInterpolator.build(luts.noise_lines, luts.noise_pixels,
                                            luts.noise_range, n)
        self.swath = luts.swath_index(n)
        self.margins = Margins.build(geo)
        self.border = 0.0 if spec.new_noise_layout else 0.3
        self.table = speckle_table(spec.looks) if spec.speckle else NO_SPECKLE
        self.key = stream_key(spec.seed, stream)
        self.truths = synthetic_truths(geo)
        area = spec.pixel_spacing * spec.pixel_spacing  # ground range x azimuth spacing
        self.targets = [RenderedTarget.build(t.line, t.pixel, t.target.rcs, area)
                        for t in self.truths if np.isfinite(t.line) and np.isfinite(t.pixel)]
        self._latlon: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _coarse_latlon(self):
        if self._latlon is None:
            g, s = self.geo, self.GEO_STEP
            # Each line uses its nearest slant<->ground record, so the geometry jumps slightly
            # where the record changes: the first and last lines of every record's span are
            # grid lines, so that no interpolation straddles a jump.
            record = g.conversion.nearest(g.line_seconds(np.arange(g.lines)))
            change = np.flatnonzero(np.diff(record))
            lines = np.unique(np.concatenate([
                np.arange(0, g.lines, s), change, change + 1, [g.lines - 1]])).astype(float)
            cols = np.unique(np.append(np.arange(0, g.samples, s), g.samples - 1)).astype(float)
            ll, pp = np.meshgrid(lines, cols, indexing="ij")
            lat, lon, _ = g.ground(ll, pp)
            self._latlon = (lines, cols, lat, lon)
        return self._latlon

    def latlon(self, row0: int, nrows: int) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude (degrees) of every pixel of a block of lines."""
        lines, cols, lat, lon = self._coarse_latlon()
        rows = np.arange(row0, row0 + nrows, dtype=float)
        j = np.arange(self.geo.samples, dtype=float)

        k = np.clip(np.searchsorted(lines, rows, side="right") - 1, 0, len(lines) - 2)
        w = (rows - lines[k]) / (lines[k + 1] - lines[k])
        c = np.clip(np.searchsorted(cols, j, side="right") - 1, 0, len(cols) - 2)
        u = (j - cols[c]) / (cols[c + 1] - cols[c])
        # Longitudes relative to the centre, so that the antimeridian does not break the
        # interpolation; wrapped back to [-180, 180) after it.
        lon0 = self.geo.spec.center_lon
        rel = np.ascontiguousarray((lon - lon0 + 180.0) % 360.0 - 180.0)
        out_lat = np.empty((nrows, j.size))
        out_lon = np.empty((nrows, j.size))
        _bilinear_rows(lat, rel, k, w, c, u, lon0, out_lat, out_lon)
        return out_lat, out_lon

    def sigma0_block(self, row0: int, nrows: int) -> np.ndarray:
        """Linear σ° of a block: (1, 1) for a constant, (nrows, samples) for a field."""
        s = self.sigma0
        if callable(s):
            lat, lon = self.latlon(row0, nrows)
            db = np.broadcast_to(np.asarray(s(lat, lon), dtype=np.float32), lat.shape)
            return np.power(np.float32(10.0), db / np.float32(10.0), dtype=np.float32)
        return np.full((1, 1), 10.0 ** (float(s) / 10.0), dtype=np.float32)

    def block(self, row0: int, nrows: int, out: np.ndarray | None = None) -> np.ndarray:
        """DN (uint16) of lines [row0, row0 + nrows)."""
        n = self.geo.samples
        if out is None:
            out = np.empty((nrows, n), dtype=np.uint16)
        rows = np.arange(row0, row0 + nrows, dtype=np.float64)
        az = np.ascontiguousarray(azimuth_factors(self.luts, rows))
        return render_block(out, row0, self.sigma, self.noise, az, self.swath,
                            self.sigma0_block(row0, nrows), self.margins, self.border, self.table,
                            self.key, self.targets)

    def blocks(self, block_lines: int = 512) -> Iterator[tuple[int, np.ndarray]]:
        """(row0, DN block) over the whole image."""
        for row0 in range(0, self.geo.lines, block_lines):
            yield row0, self.block(row0, min(block_lines, self.geo.lines - row0))


def expected_noise(synth: SceneSynthesizer, row0: int, nrows: int) -> np.ndarray:
    """The thermal noise power (DN^2) the product's LUTs give for a block (reader-style)."""
    rows = np.arange(row0, row0 + nrows, dtype=np.float64)
    az = azimuth_factors(synth.luts, rows)
    return synth.noise.evaluate(rows) * az[synth.swath, :].T


def expected_sigma_lut(synth: SceneSynthesizer, row0: int, nrows: int) -> np.ndarray:
    """A_sigma (bilinear, reader-style) for a block."""
    return synth.sigma.evaluate(np.arange(row0, row0 + nrows, dtype=np.float64))



def synthetic_truths(geo: ProductGeometry) -> list[TargetTruth]:
    """Where the spec's targets are in the product: each at its ellipsoidal height (its height
    over the geoid plus the undulation, or the surface's), through the product's geometry."""
    targets = geo.spec.targets
    if not targets:
        return []
    lat = np.array([t.lat for t in targets], dtype=np.float64)
    lon = np.array([t.lon for t in targets], dtype=np.float64)
    above = np.array([np.nan if t.height_above_geoid is None else t.height_above_geoid
                      for t in targets], dtype=np.float64)
    h = geo.surface.ellipsoid_height(lat, lon, above)
    line, pixel = geo.ground_to_radar(lat, lon, h)
    return [TargetTruth(t, float(lat[k]), float(lon[k]), float(h[k]), float(line[k]),
                        float(pixel[k])) for k, t in enumerate(targets)]
