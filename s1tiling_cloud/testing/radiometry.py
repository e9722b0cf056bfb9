"""Calibration and thermal-noise look-up tables of a synthetic GRD, and their reader-style fields.

Calibration follows ESA's definition, with the relations the real fixtures obey: betaNought is
a constant A_beta, and with theta the (ellipsoid) incidence angle of each LUT node
``A_sigma = A_beta / sqrt(sin theta)`` and ``A_gamma = A_beta / sqrt(tan theta)`` (so that
sigma0 = beta0 sin theta and gamma0 = sigma0 / cos theta); dn is constant.

Thermal noise is modelled per IW sub-swath (split at ESA's nominal incidence bounds) as a
noise-equivalent sigma0 that is lowest at the sub-swath centre, converted to DN^2 with A_sigma;
the azimuth LUT (IPF >= 2.90) adds the burst-periodic scalloping of TOPS. ``noise=False``
writes noise LUTs of zeros (and the scene has no thermal noise).

The measurement is synthesised from the LUTs *as readers interpolate them* (bilinear in line and
pixel for the range/calibration vectors, linear in line for the azimuth vectors), so that
calibrating and denoising the product with its own LUTs gives back the truth exactly in the
mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .product_geometry import ProductGeometry

#: Nominal incidence bounds of IW1, IW2, IW3 (degrees), as in a real IW GRD (fixtures).
SUBSWATH_BOUNDS = (30.3, 36.3, 41.7, 46.1)
SUBSWATH_NAMES = ("IW1", "IW2", "IW3")
#: TOPS burst cycle (s): the period of the azimuth noise scalloping.
BURST_CYCLE = 2.758
#: Pixel spacing of the LUT nodes, ESA's.
LUT_PIXEL_STEP = 40
#: Line spacing of the azimuth noise vectors.
AZIMUTH_LUT_LINE_STEP = 10


@dataclass(frozen=True)
class SubSwath:
    """One IW sub-swath's block of the GRD image (inclusive bounds, as ESA's swathMerge)."""

    name: str
    first_sample: int
    last_sample: int
    first_line: int
    last_line: int
    inc_lo: float
    inc_hi: float


@dataclass(frozen=True)
class Luts:
    """All the LUTs of one product (they do not depend on polarisation)."""

    cal_lines: np.ndarray  # (nv,)
    cal_pixels: np.ndarray  # (np,)
    sigma: np.ndarray  # (nv, np) float64
    beta: np.ndarray
    gamma: np.ndarray
    dn: np.ndarray
    noise_lines: np.ndarray  # (nn,)
    noise_pixels: np.ndarray  # (nnp,)
    noise_range: np.ndarray  # (nn, nnp) DN^2
    subswaths: tuple[SubSwath, ...]
    azimuth_lines: tuple[np.ndarray, ...]  # per sub-swath
    azimuth_lut: tuple[np.ndarray, ...]  # per sub-swath, multiplies the range LUT

    def swath_index(self, samples: int) -> np.ndarray:
        """Sub-swath index (into ``subswaths``) of every column, int8 (samples,)."""
        out = np.zeros(samples, dtype=np.int8)
        for k, sw in enumerate(self.subswaths):
            out[sw.first_sample : sw.last_sample + 1] = k
        return out


def _lut_lines(lines: int, step: int, beyond: bool) -> np.ndarray:
    """Vector lines every ``step``: to the first multiple past the end (calibration, as ESA),
    or with the last line appended (noise, as ESA)."""
    if beyond:
        n = math.ceil((lines - 1) / step) + 1
        return (np.arange(max(n, 2)) * step).astype(np.int64)
    return np.unique(np.append(np.arange(0, lines - 1, step), lines - 1)).astype(np.int64)


def _subswaths(geo: ProductGeometry) -> tuple[SubSwath, ...]:
    """Split the columns at IW's nominal sub-swath incidences, along the centre line."""
    n = geo.samples
    cols = np.unique(np.append(np.linspace(0, n - 1, 257).round(), n - 1))
    inc = geo.incidence(np.full(cols.shape, (geo.lines - 1) / 2), cols)
    cuts = [int(np.ceil(np.interp(b, inc, cols, left=0, right=n))) for b in SUBSWATH_BOUNDS[1:3]]
    edges = [0, *[min(max(c, 0), n) for c in cuts], n]
    out = []
    for k, name in enumerate(SUBSWATH_NAMES):
        lo, hi = edges[k], edges[k + 1] - 1
        if hi >= lo:
            out.append(SubSwath(name, lo, hi, 0, geo.lines - 1,
                                SUBSWATH_BOUNDS[k], SUBSWATH_BOUNDS[k + 1]))
    return tuple(out)


def compute_luts(geo: ProductGeometry) -> Luts:
    """Calibration vectors every ~1 s and 40 pixels, noise vectors alike, azimuth noise LUTs."""
    spec = geo.spec
    step = max(1, int(round(1.0 / geo.azimuth_time_interval)))
    pixels = np.unique(np.append(np.arange(0, geo.samples, LUT_PIXEL_STEP), geo.samples - 1))

    cal_lines = _lut_lines(geo.lines, step, beyond=True)
    ll, pp = np.meshgrid(cal_lines, pixels, indexing="ij")
    inc = np.radians(geo.incidence(ll, pp))
    a_beta = float(spec.beta_nought)
    beta = np.full(inc.shape, a_beta)
    sigma = a_beta / np.sqrt(np.sin(inc))
    gamma = a_beta / np.sqrt(np.tan(inc))
    dn = np.full(inc.shape, a_beta)

    subswaths = _subswaths(geo)
    bounds = [sw.first_sample for sw in subswaths[1:]]
    noise_pixels = np.unique(np.concatenate(
        [pixels, np.asarray(bounds, dtype=np.int64), np.asarray(bounds, dtype=np.int64) - 1]
    ))
    noise_lines = _lut_lines(geo.lines, step, beyond=False)
    ll, pp = np.meshgrid(noise_lines, noise_pixels, indexing="ij")
    inc_n = geo.incidence(ll, pp)
    swath = np.searchsorted([sw.first_sample for sw in subswaths], noise_pixels, "right") - 1
    lo = np.array([sw.inc_lo for sw in subswaths])[swath]
    hi = np.array([sw.inc_hi for sw in subswaths])[swath]
    u = np.clip(2.0 * (inc_n - lo) / (hi - lo) - 1.0, -1.5, 1.5)
    nesz_db = spec.nesz_db - 1.5 + 3.0 * u**2 + 0.4 * swath  # edges noisier, far swaths too
    a_sigma2 = a_beta**2 / np.sin(np.radians(inc_n))
    noise_range = 10.0 ** (nesz_db / 10.0) * a_sigma2
    if not spec.noise:  # a noise-free scene: the product says there is no thermal noise
        noise_range = np.zeros_like(noise_range)

    az_lines, az_lut = [], []
    for k in range(len(subswaths)):
        lines = _lut_lines(geo.lines, AZIMUTH_LUT_LINE_STEP, beyond=False)
        t = lines * geo.azimuth_time_interval
        phase = 2.0 * math.pi * (t / BURST_CYCLE + k / 3.0)
        az_lines.append(lines)
        az_lut.append(1.0 + 0.04 * np.cos(phase) if spec.new_noise_layout else np.ones(t.shape))

    w = _as_written
    return Luts(
        cal_lines=cal_lines, cal_pixels=pixels, sigma=w(sigma), beta=w(beta), gamma=w(gamma),
        dn=w(dn), noise_lines=noise_lines, noise_pixels=noise_pixels, noise_range=w(noise_range),
        subswaths=subswaths, azimuth_lines=tuple(az_lines),
        azimuth_lut=tuple(w(a) for a in az_lut),
    )


def _as_written(values: np.ndarray) -> np.ndarray:
    """Values as readers parse them from ESA's ``%.6e`` text: the measurement is synthesised
    from exactly what the product says."""
    text = " ".join(f"{v:.6e}" for v in np.ravel(values).tolist())
    return np.array(text.split(), dtype=np.float64).reshape(np.shape(values))


@dataclass(frozen=True)
class LineInterpolator:
    """A (line, pixel) LUT prepared for bilinear evaluation on whole image lines.

    ``rows`` holds each vector interpolated to every column (the pixel half of the bilinear
    interpolation, done once); a block of lines then needs, per line, the bracketing vector and
    the weight of the next one. Lines past the last vector extrapolate linearly, as readers'
    linear interpolators do at the edges.
    """

    lines: np.ndarray
    rows: np.ndarray  # (nv, samples) float64
    #: Hold the first/last vector beyond the vectors' lines (ESA's readers) instead of
    #: extrapolating linearly.
    hold_edges: bool = False

    @classmethod
    def build(cls, lines: np.ndarray, pixels, values, samples: int, hold_edges: bool = False):
        """From vectors at ``lines``, sampled at ``pixels`` (one array for all, or one per
        vector: noise vectors may differ)."""
        cols = np.arange(samples, dtype=np.float64)
        per_vector = isinstance(pixels, list | tuple) or np.ndim(pixels) == 2
        rows = np.stack([np.interp(cols, pixels[k] if per_vector else pixels, v)
                         for k, v in enumerate(values)])
        lines = np.asarray(lines, dtype=np.float64)
        if lines.size == 1:  # one vector: constant along lines
            lines, rows = np.array([lines[0], lines[0] + 1.0]), np.concatenate([rows, rows])
        return cls(lines, rows, hold_edges)

    def brackets(self, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index of the vector at or before each line, weight of the next vector)."""
        lines = np.asarray(lines, dtype=np.float64)
        k = np.clip(np.searchsorted(self.lines, lines, side="right") - 1, 0, len(self.lines) - 2)
        w = (lines - self.lines[k]) / (self.lines[k + 1] - self.lines[k])
        if self.hold_edges:
            w = np.clip(w, 0.0, 1.0)
        return k.astype(np.int64), w

    def evaluate(self, lines: np.ndarray) -> np.ndarray:
        """The interpolated LUT on whole lines, (len(lines), samples)."""
        k, w = self.brackets(lines)
        return self.rows[k] * (1.0 - w[:, None]) + self.rows[k + 1] * w[:, None]


def azimuth_factors(luts: Luts, lines: np.ndarray) -> np.ndarray:
    """Azimuth noise LUT per sub-swath at the given lines, (n_subswaths, len(lines))."""
    lines = np.asarray(lines, dtype=np.float64)
    return np.stack([
        np.interp(lines, al, lut) for al, lut in zip(luts.azimuth_lines, luts.azimuth_lut,
                                                      strict=True)
    ])
