"""WGS84 ellipsoid: geodetic <-> ECEF conversions and normals, float64.

Each conversion exists twice, on purpose with one formula: a scalar ``@njit`` function (the
``*1`` names) that the range-Doppler kernels call inside their Newton loops, and an array wrapper
that runs it in parallel over any broadcastable input.

``ecef_to_geodetic`` is Vermeille's closed form (J. Geodesy 76, 2002): exact (no iteration, error
at the nanometre level in float64) for any point farther than ~43 km from the Earth's centre,
i.e. everywhere a satellite or the ground can be.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: WGS84 semi-major axis (m).
A = 6378137.0
#: WGS84 flattening.
F = 1.0 / 298.257223563
#: WGS84 semi-minor axis (m).
B = A * (1.0 - F)
#: First eccentricity squared.
E2 = F * (2.0 - F)
#: Second eccentricity squared, e'^2 = e^2 / (1 - e^2).
EP2 = E2 / (1.0 - E2)

_E4 = E2 * E2


@numba.njit(cache=True, inline="always")
def geodetic_to_ecef1(lat_rad: float, lon_rad: float, h: float) -> tuple[float, float, float]:
    """One point: geodetic (radians, metres above the ellipsoid) -> ECEF metres."""
    sl = math.sin(lat_rad)
    cl = math.cos(lat_rad)
    n = A / math.sqrt(1.0 - E2 * sl * sl)  # prime-vertical radius of curvature
    return (
        (n + h) * cl * math.cos(lon_rad),
        (n + h) * cl * math.sin(lon_rad),
        (n * (1.0 - E2) + h) * sl,
    )


@numba.njit(cache=True, inline="always")
def _vermeille1(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    """Vermeille 2002 core: (D, sqrt(D^2 + z^2), h, rho), with tan(lat) = z / D."""
    rho2 = x * x + y * y
    p = rho2 / (A * A)
    q = (1.0 - E2) * z * z / (A * A)
    r = (p + q - _E4) / 6.0
    s = _E4 * p * q / (4.0 * r * r * r)
    t = np.cbrt(1.0 + s + math.sqrt(s * (2.0 + s)))
    u = r * (1.0 + t + 1.0 / t)
    v = math.sqrt(u * u + _E4 * q)
    w = E2 * (u + v - q) / (2.0 * v)
    k = math.sqrt(u + v + w * w) - w
    rho = math.sqrt(rho2)
    d = k * rho / (k + E2)
    dz = math.sqrt(d * d + z * z)
    return d, dz, (k + E2 - 1.0) / k * dz, rho


@numba.njit(cache=True, inline="always")
def ecef_to_geodetic1(x: float, y: float, z: float) -> tuple[float, float, float]:
    """One point: ECEF metres -> geodetic (lat, lon in radians, h in metres); Vermeille 2002."""
    d, dz, h, _ = _vermeille1(x, y, z)
    return 2.0 * math.atan2(z, d + dz), math.atan2(y, x), h


@numba.njit(cache=True, inline="always")
def height_normal1(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    """One point: ECEF -> (h, ellipsoid normal), without trigonometry, for Newton loops that
    need the height and its gradient but not the latitude and longitude."""
    d, dz, h, rho = _vermeille1(x, y, z)
    cos_lat, sin_lat = d / dz, z / dz
    if rho > 0.0:
        return h, cos_lat * x / rho, cos_lat * y / rho, sin_lat
    return h, 0.0, 0.0, math.copysign(1.0, z)


@numba.njit(cache=True, inline="always")
def normal1(lat_rad: float, lon_rad: float) -> tuple[float, float, float]:
    """One point: outward unit normal of the ellipsoid (the local vertical) in ECEF."""
    cl = math.cos(lat_rad)
    return cl * math.cos(lon_rad), cl * math.sin(lon_rad), math.sin(lat_rad)


@numba.njit(parallel=True, cache=True)
def _geodetic_to_ecef_kernel(lat, lon, h, out):  # pragma: no cover - compiled
    for i in numba.prange(lat.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = geodetic_to_ecef1(
            math.radians(lat[i]), math.radians(lon[i]), h[i]
        )


@numba.njit(parallel=True, cache=True)
def _ecef_to_geodetic_kernel(xyz, lat, lon, h):  # pragma: no cover - compiled
    for i in numba.prange(xyz.shape[0]):
        la, lo, hh = ecef_to_geodetic1(xyz[i, 0], xyz[i, 1], xyz[i, 2])
        lat[i] = math.degrees(la)
        lon[i] = math.degrees(lo)
        h[i] = hh


def _flat(*arrays: np.ndarray | float) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast, then flatten to contiguous float64 1-D arrays for the kernels."""
    b = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    return b[0].shape, [np.ascontiguousarray(a).ravel() for a in b]


def geodetic_to_ecef(lat_deg, lon_deg, h=0.0) -> np.ndarray:
    """Geodetic (degrees, metres above the ellipsoid) -> ECEF metres, shape (..., 3)."""
    shape, (lat, lon, hh) = _flat(lat_deg, lon_deg, h)
    out = np.empty((lat.size, 3))
    _geodetic_to_ecef_kernel(lat, lon, hh, out)
    return out.reshape(*shape, 3)


def ecef_to_geodetic(xyz) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF metres (..., 3) -> (lat_deg, lon_deg, h metres above the ellipsoid), exact."""
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.shape[-1:] != (3,):
        raise ValueError(f"xyz must have a last axis of size 3, got shape {xyz.shape}")
    shape = xyz.shape[:-1]
    flat = np.ascontiguousarray(xyz.reshape(-1, 3))
    lat, lon, h = (np.empty(flat.shape[0]) for _ in range(3))
    _ecef_to_geodetic_kernel(flat, lat, lon, h)
    return lat.reshape(shape), lon.reshape(shape), h.reshape(shape)


def ellipsoid_normal(lat_deg, lon_deg) -> np.ndarray:
    """Outward unit normal (local vertical) at geodetic (lat, lon) degrees, shape (..., 3)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat, lon = np.broadcast_arrays(lat, lon)
    cl = np.cos(lat)
    return np.stack([cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)], axis=-1)
