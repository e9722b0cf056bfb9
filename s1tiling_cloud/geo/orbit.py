"""Orbit interpolation from ECEF state vectors (annotation ``orbitList`` or precise orbit files).

On each interval between two state vectors the orbit is a polynomial fitted to the ``window``
nearest state vectors (the window shifts inwards at the ends of the list). Two methods:

- ``"lagrange"`` (default): positions and velocities are interpolated *separately*, each by the
  Lagrange polynomial through its own annotated values. The velocity (hence the zero-Doppler
  plane) follows the annotated velocities rather than the derivative of positions rounded to the
  millimetre, and an orbit whose velocities are slightly inconsistent with its positions (the
  S1B annotations of 2021-04-01 in the fixtures are off by ~1 cm/s) does not make the position
  wiggle between state vectors. This is what ESA's geolocation grids agree with best.
- ``"hermite"``: one polynomial matching positions *and* velocities (degree 2m-1); the velocity
  is its derivative. Slightly more accurate on perfectly consistent orbits, wrong by centimetres
  between state vectors on inconsistent ones.

With 10 s state vectors, a window of 6 (degree 5) leaves a truncation error of ~0.3 um on an
analytic orbit, and keeps the amplification of the annotation's rounding (1 mm or 10 um in
positions) below that of longer windows; 4 state vectors would be off by ~4 mm.

Time is float64 seconds since :attr:`Orbit.epoch` (the first state vector): float64 resolves
~1e-14 s at 100 s, far below the 1e-7 s the geometry needs, and keeps the numba kernels simple.
Per-interval monomial coefficients (in a local time scaled to the state-vector spacing, so the
basis stays well conditioned) live in plain arrays: the range-Doppler kernels evaluate the orbit
with :func:`orbit_eval1` inside their loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np

_NS = np.timedelta64(1, "ns")

Method = Literal["lagrange", "hermite"]


@dataclass(frozen=True, eq=False)
class Orbit:
    """Interpolated orbit. Build it with :meth:`from_state_vectors`."""

    epoch: np.datetime64
    """Time of the first state vector (datetime64[ns]); seconds are counted from it."""
    times: np.ndarray
    """State-vector times, seconds since :attr:`epoch`, strictly increasing, shape (n,)."""
    positions: np.ndarray
    """State-vector ECEF positions (m), shape (n, 3)."""
    velocities: np.ndarray
    """State-vector ECEF velocities (m/s), shape (n, 3)."""
    method: Method
    window: int
    """Number of state vectors each interval's polynomial uses."""
    centres: np.ndarray
    """Per interval: local time origin (s), shape (n-1,)."""
    scales: np.ndarray
    """Per interval: time unit of the local variable u (s), shape (n-1,)."""
    origins: np.ndarray
    """Per interval: position subtracted before the fit (m), shape (n-1, 3)."""
    pcoeffs: np.ndarray
    """Per interval: position polynomial in u (m), shape (n-1, 3, degree+1)."""
    vcoeffs: np.ndarray
    """Per interval: velocity polynomial in u (m/s), shape (n-1, 3, degree+1)."""

    @classmethod
    def from_state_vectors(
        cls,
        times: np.ndarray,
        positions: np.ndarray,
        velocities: np.ndarray,
        *,
        method: Method = "lagrange",
        window: int | None = None,
    ) -> Orbit:
        """Build from state vectors: datetime64 times (n,), ECEF positions (n,3) m, velocities
        (n,3) m/s. Unsorted input is sorted; a time given twice keeps its first state vector.
        ``window`` defaults to 6 state vectors for "lagrange", 4 for "hermite"."""
        times = np.asarray(times).astype("datetime64[ns]")
        positions = np.asarray(positions, dtype=np.float64)
        velocities = np.asarray(velocities, dtype=np.float64)
        n = times.shape[0]
        if times.ndim != 1 or positions.shape != (n, 3) or velocities.shape != (n, 3):
            raise ValueError(
                "state vectors need times (n,), positions (n, 3) and velocities (n, 3); got "
                f"{times.shape}, {positions.shape}, {velocities.shape}"
            )
        if np.isnat(times).any() or not (
            np.isfinite(positions).all() and np.isfinite(velocities).all()
        ):
            raise ValueError("state vectors contain NaT or non-finite values")
        if method not in ("lagrange", "hermite"):
            raise ValueError(f"unknown orbit interpolation method {method!r}")
        times, first = np.unique(times, return_index=True)  # sorted, duplicates dropped
        positions, velocities = positions[first], velocities[first]
        if times.shape[0] < 2:
            raise ValueError("an orbit needs at least 2 distinct state vectors")
        if window is None:
            window = 6 if method == "lagrange" else 4
        window = min(window, times.shape[0])
        if window < 2:
            raise ValueError(f"window must be >= 2, got {window}")

        epoch = times[0]
        t = (times - epoch) / _NS * 1e-9
        fit = _fit_lagrange if method == "lagrange" else _fit_hermite
        centres, scales, origins, pcoeffs, vcoeffs = fit(t, positions, velocities, window)
        for a in (t, positions, velocities, centres, scales, origins, pcoeffs, vcoeffs):
            a.flags.writeable = False
        return cls(epoch, t, positions, velocities, method, window, centres, scales, origins,
                   pcoeffs, vcoeffs)

    # -- time ------------------------------------------------------------------------------

    @property
    def start(self) -> float:
        """First state vector, seconds since epoch (always 0)."""
        return float(self.times[0])

    @property
    def end(self) -> float:
        """Last state vector, seconds since epoch."""
        return float(self.times[-1])

    def seconds(self, t) -> np.ndarray:
        """datetime64 (any unit) -> float64 seconds since :attr:`epoch` (NaT -> NaN)."""
        t = np.asarray(t).astype("datetime64[ns]")
        s = (t - self.epoch) / _NS * 1e-9
        return np.where(np.isnat(t), np.nan, s)

    def datetimes(self, seconds) -> np.ndarray:
        """float64 seconds since :attr:`epoch` -> datetime64[ns], rounded to the ns (NaN -> NaT)."""
        s = np.asarray(seconds, dtype=np.float64)
        ok = np.isfinite(s)
        ns = np.round(np.where(ok, s, 0.0) * 1e9).astype(np.int64)
        out = self.epoch + ns.astype("timedelta64[ns]")
        return np.where(ok, out, np.datetime64("NaT", "ns"))

    # -- state -----------------------------------------------------------------------------

    def _evaluate(self, seconds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = np.asarray(seconds, dtype=np.float64)
        flat = np.ascontiguousarray(s.ravel())
        out = np.empty((3, flat.size, 3))
        _orbit_eval_kernel(flat, *self.kernel_args, out)
        out[:, np.isnan(flat)] = np.nan
        pos, vel, acc = (o.reshape(*s.shape, 3) for o in out)
        return pos, vel, acc

    def interpolate(self, seconds) -> tuple[np.ndarray, np.ndarray]:
        """Position (..., 3) m and velocity (..., 3) m/s in ECEF at seconds since epoch.

        Times outside the state vectors are extrapolated with the end interval's polynomial,
        which degrades quickly past one state-vector spacing: keep within [start, end]."""
        pos, vel, _ = self._evaluate(seconds)
        return pos, vel

    def acceleration(self, seconds) -> np.ndarray:
        """ECEF acceleration (..., 3) m/s^2 at seconds since epoch (derivative of velocity)."""
        return self._evaluate(seconds)[2]

    @property
    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """The arrays :func:`orbit_eval1` takes after the time, in its order."""
        return self.times, self.centres, self.scales, self.origins, self.pcoeffs, self.vcoeffs


def _windows(t: np.ndarray, window: int):
    """Per interval k: its local time origin and unit, and the indices of its window."""
    n = t.size
    for k in range(n - 1):
        j0 = min(max(k - window // 2 + 1, 0), n - window)
        idx = np.arange(j0, j0 + window)
        centre = 0.5 * (t[k] + t[k + 1])
        scale = t[k + 1] - t[k]
        yield k, centre, scale, idx, (t[idx] - centre) / scale


def _fit_lagrange(t, pos, vel, window):
    """Interpolating polynomials (degree window-1) of positions and of velocities."""
    n, powers = t.size, np.arange(window)
    centres, scales = np.empty(n - 1), np.empty(n - 1)
    origins = np.empty((n - 1, 3))
    pcoeffs = np.empty((n - 1, 3, window))
    vcoeffs = np.empty((n - 1, 3, window))
    for k, centre, scale, idx, u in _windows(t, window):
        vander = u[:, None] ** powers
        centres[k], scales[k] = centre, scale
        origins[k] = pos[idx].mean(axis=0)
        pcoeffs[k] = np.linalg.solve(vander, pos[idx] - origins[k]).T
        vcoeffs[k] = np.linalg.solve(vander, vel[idx]).T
    return centres, scales, origins, pcoeffs, vcoeffs


def _fit_hermite(t, pos, vel, window):
    """One Hermite polynomial (degree 2*window-1) per interval; velocity is its derivative."""
    n, powers = t.size, np.arange(2 * window)
    centres, scales = np.empty(n - 1), np.empty(n - 1)
    origins = np.empty((n - 1, 3))
    pcoeffs = np.empty((n - 1, 3, 2 * window))
    vcoeffs = np.zeros((n - 1, 3, 2 * window))
    for k, centre, scale, idx, u in _windows(t, window):
        # Rows: value u^p, and derivative p u^(p-1) matched to velocity * scale (du = dt/scale).
        val = u[:, None] ** powers
        der = np.zeros_like(val)
        der[:, 1:] = powers[1:] * u[:, None] ** (powers[1:] - 1)
        centres[k], scales[k] = centre, scale
        origins[k] = pos[idx].mean(axis=0)
        rhs = np.vstack([pos[idx] - origins[k], vel[idx] * scale])
        pcoeffs[k] = np.linalg.solve(np.vstack([val, der]), rhs).T
        vcoeffs[k, :, :-1] = pcoeffs[k, :, 1:] * powers[1:] / scale
    return centres, scales, origins, pcoeffs, vcoeffs


@numba.njit(cache=True, inline="always")
def _horner(coeffs, k, c, u):
    """Value of one polynomial and its derivative in u, in one Horner pass."""
    p = 0.0
    dp = 0.0
    for i in range(coeffs.shape[2] - 1, -1, -1):
        dp = dp * u + p
        p = p * u + coeffs[k, c, i]
    return p, dp


@numba.njit(cache=True, inline="always")
def orbit_eval1(t, times, centres, scales, origins, pcoeffs, vcoeffs):
    """One time (s since epoch) -> (position, velocity, acceleration), each an (x, y, z) tuple.

    Tuples, not arrays, so that kernels calling this per point allocate nothing."""
    k = np.searchsorted(times, t, side="right") - 1
    k = min(max(k, 0), centres.shape[0] - 1)
    s = scales[k]
    u = (t - centres[k]) / s
    x, _ = _horner(pcoeffs, k, 0, u)
    y, _ = _horner(pcoeffs, k, 1, u)
    z, _ = _horner(pcoeffs, k, 2, u)
    vx, ax = _horner(vcoeffs, k, 0, u)
    vy, ay = _horner(vcoeffs, k, 1, u)
    vz, az = _horner(vcoeffs, k, 2, u)
    return (
        (origins[k, 0] + x, origins[k, 1] + y, origins[k, 2] + z),
        (vx, vy, vz),
        (ax / s, ay / s, az / s),
    )


@numba.njit(parallel=True, cache=True)
def _orbit_eval_kernel(ts, times, centres, scales, origins, pcoeffs, vcoeffs, out):
    for i in numba.prange(ts.shape[0]):  # pragma: no cover - compiled
        state = orbit_eval1(ts[i], times, centres, scales, origins, pcoeffs, vcoeffs)
        for j in range(3):
            for c in range(3):
                out[j, i, c] = state[j][c]
