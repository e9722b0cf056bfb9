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
fraction of the cost of a rejection sampler.
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


@numba.njit(inline="always")
def _speckled_dn(mu, key, idx, table):
    """round(sqrt(mu * g)) for the gamma variate g drawn by pixel ``idx`` of stream ``key``."""
    kmax = table.shape[0] - 1
    u = (float(_mix(key ^ (idx * _M3)) >> _S11) + 0.5) * _INV53 * (kmax + 1) - 0.5
    k = min(max(int(u), 0), kmax - 1)
    f = min(max(u - k, 0.0), 1.0)  # clamps both ends to the first/last quantile
    g = table[k] * (1.0 - f) + table[k + 1] * f
    return min(math.floor(math.sqrt(mu * g) + 0.5), 65535.0)


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
        lines, samples = geo.lines, geo.samples
        ml = spec.margin_lines if spec.margin_lines is not None else (
            min(10, lines // 80), min(10, lines // 80))
        ms = spec.margin_samples if spec.margin_samples is not None else (
            min(40, samples // 40), min(40, samples // 40))
        burst = np.floor(np.arange(lines) * geo.azimuth_time_interval / BURST_CYCLE)
        jitter = _jitter(burst.astype(np.int64), spec.seed)
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


class SceneSynthesizer:
    """Writes the DN image of one polarisation, block of lines by block of lines.

    The σ° truth is a constant (dB) or a callable f(lat, lon) -> dB evaluated on each pixel,
    whose latitude and longitude are interpolated bilinearly from the exact geometry on a
    32-pixel grid (a few millimetres of error at most).
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
        self.table = speckle_table(spec.looks)
        self.key = stream_key(spec.seed, stream)
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

        def bilinear(v: np.ndarray) -> np.ndarray:
            by_col = np.stack([np.interp(j, cols, r) for r in v])  # (coarse lines, samples)
            k = np.clip(np.searchsorted(lines, rows, side="right") - 1, 0, len(lines) - 2)
            w = ((rows - lines[k]) / (lines[k + 1] - lines[k]))[:, None]
            return by_col[k] * (1.0 - w) + by_col[k + 1] * w

        # Longitudes relative to the centre, so that the antimeridian does not break the
        # interpolation; wrapped back to [-180, 180) after it.
        lon0 = self.geo.spec.center_lon
        rel = bilinear((lon - lon0 + 180.0) % 360.0 - 180.0)
        return bilinear(lat), (rel + lon0 + 180.0) % 360.0 - 180.0

    def sigma0_block(self, row0: int, nrows: int) -> np.ndarray:
        """Linear σ° of a block: (1, 1) for a constant, (nrows, samples) for a field."""
        s = self.sigma0
        if callable(s):
            lat, lon = self.latlon(row0, nrows)
            db = np.asarray(s(lat, lon), dtype=np.float64)
            return np.ascontiguousarray(np.broadcast_to(10.0 ** (db / 10.0),
                                                        lat.shape)).astype(np.float32)
        return np.full((1, 1), 10.0 ** (float(s) / 10.0), dtype=np.float32)

    def block(self, row0: int, nrows: int, out: np.ndarray | None = None) -> np.ndarray:
        """DN (uint16) of lines [row0, row0 + nrows)."""
        n = self.geo.samples
        if out is None:
            out = np.empty((nrows, n), dtype=np.uint16)
        rows = np.arange(row0, row0 + nrows, dtype=np.float64)
        ks, ws = self.sigma.brackets(rows)
        kn, wn = self.noise.brackets(rows)
        az = np.ascontiguousarray(azimuth_factors(self.luts, rows))
        _dn_kernel(
            row0, n, self.sigma.rows, ks, ws, self.noise.rows, kn, wn, az, self.swath,
            self.sigma0_block(row0, nrows), self.margins.first_valid[row0 : row0 + nrows],
            self.margins.last_valid[row0 : row0 + nrows], self.border, self.table, self.key, out,
        )
        return out

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

