"""Range-Doppler geometry on an interpolated orbit: zero-Doppler time, slant range, the inverse,
incidence angles and look vectors. Arrays in, arrays out, float64; the per-point Newton solvers
are numba kernels run in parallel over points.

Conventions: ECEF metres, geodetic degrees and metres above the WGS84 ellipsoid, azimuth times
in seconds since ``orbit.epoch``, slant range in metres (= c * two-way slant range time / 2).
Sentinel-1 is zero-Doppler processed: a ground point is imaged at the time t where the line of
sight is perpendicular to the (Earth-fixed) velocity, (P - S(t)) . V(t) = 0.

Development note: numba's on-disk cache of these kernels is keyed on this file only; after
editing ellipsoid.py or orbit.py, touch this file (or clear __pycache__) to recompile them.
"""

from __future__ import annotations

import math
from typing import Literal

import numba
import numpy as np

from .ellipsoid import (
    A,
    B,
    _flat,
    ecef_to_geodetic,
    ecef_to_geodetic1,
    ellipsoid_normal,
    height_normal1,
)
from .orbit import Orbit, orbit_eval1

#: Speed of light in vacuum (m/s); slant range = c * slant_range_time / 2.
SPEED_OF_LIGHT = 299792458.0

#: Both Newton solvers converge quadratically with small curvature terms, so they stop once a
#: step is below these: the error left after that step is below 1e-12 s and 1e-9 m.
_TIME_TOL = 1e-4
_HEIGHT_TOL = 1e-3
_MAX_ITER = 50


def _points(xyz) -> tuple[tuple[int, ...], np.ndarray]:
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.shape[-1:] != (3,):
        raise ValueError(f"xyz must have a last axis of size 3, got shape {xyz.shape}")
    return xyz.shape[:-1], np.ascontiguousarray(xyz.reshape(-1, 3))


# -- ground -> radar -----------------------------------------------------------------------


@numba.njit(cache=True)
def _zero_doppler1(px, py, pz, t, t_min, t_max, times, centres, scales, origins, pc, vc):
    """Newton on f(t) = (P - S).V, f'(t) = (P - S).A - V.V; returns (t, range) or NaNs.

    f is almost linear in t (|(P-S).A| is ~15% of V.V), so this converges from anywhere in the
    orbit span in a handful of steps."""
    for _ in range(_MAX_ITER):
        (sx, sy, sz), (vx, vy, vz), (ax, ay, az) = orbit_eval1(
            t, times, centres, scales, origins, pc, vc
        )
        dx, dy, dz = px - sx, py - sy, pz - sz
        f = dx * vx + dy * vy + dz * vz
        df = dx * ax + dy * ay + dz * az - (vx * vx + vy * vy + vz * vz)
        step = f / df
        t -= step
        if not abs(step) < 1.0e3:  # diverging or NaN input
            return np.nan, np.nan
        if abs(step) < _TIME_TOL:
            break
    else:
        return np.nan, np.nan
    if not (t_min <= t <= t_max):
        return np.nan, np.nan
    (sx, sy, sz), _, _ = orbit_eval1(t, times, centres, scales, origins, pc, vc)
    return t, math.sqrt((px - sx) ** 2 + (py - sy) ** 2 + (pz - sz) ** 2)


@numba.njit(parallel=True, cache=True)
def _zero_doppler_kernel(xyz, guess, t_min, t_max, times, centres, scales, origins, pc, vc,
                         out_t, out_r):  # pragma: no cover - compiled
    for i in numba.prange(xyz.shape[0]):
        out_t[i], out_r[i] = _zero_doppler1(
            xyz[i, 0], xyz[i, 1], xyz[i, 2], guess[i], t_min, t_max,
            times, centres, scales, origins, pc, vc,
        )


def zero_doppler(orbit: Orbit, xyz, seconds_guess=None) -> tuple[np.ndarray, np.ndarray]:
    """Zero-Doppler azimuth time (s since ``orbit.epoch``) and slant range (m) of ECEF points
    (..., 3).

    Newton converges quadratically and stops with an error below 1e-12 s. Points whose
    zero-Doppler time falls outside the state vectors' span (where the orbit would be
    extrapolated) get NaN, as do NaN inputs. ``seconds_guess`` (broadcastable to the points)
    only saves iterations, e.g. the neighbour's solution."""
    shape, pts = _points(xyz)
    if seconds_guess is None:
        seconds_guess = 0.5 * (orbit.start + orbit.end)
    guess = np.ascontiguousarray(np.broadcast_to(
        np.asarray(seconds_guess, dtype=np.float64), shape).ravel())
    guess = np.where(np.isfinite(guess), guess, 0.5 * (orbit.start + orbit.end))
    t = np.empty(pts.shape[0])
    r = np.empty(pts.shape[0])
    _zero_doppler_kernel(pts, guess, orbit.start, orbit.end, *orbit.kernel_args, t, r)
    return t.reshape(shape), r.reshape(shape)


# -- radar -> ground -----------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _sphere_look_angle(rs, rng, x, y, z, h):
    """Angle at the satellite (distance rs from the centre) between the centre and a point at
    range rng on the sphere whose radius is the ellipsoid's in the direction (x, y, z), plus h."""
    re = 1.0 / math.sqrt((x * x + y * y) / (A * A) + z * z / (B * B)) * math.sqrt(
        x * x + y * y + z * z) + h
    c = (rs * rs + rng * rng - re * re) / (2.0 * rs * rng)
    return math.acos(min(max(c, -1.0), 1.0))


@numba.njit(cache=True)
def _radar_to_ground1(t, rng, h, side, times, centres, scales, origins, pc, vc):
    """Point at range ``rng`` from S(t), on the zero-Doppler plane, at height h; returns
    (lat_rad, lon_rad, x, y, z) or NaNs.

    The point is parametrised on the circle where the zero-Doppler plane (normal V, through S)
    meets the sphere of radius ``rng`` around S: P(a) = S + rng (cos a N + sin a W), N the
    in-plane direction towards the Earth's centre, W = side * N x V/|V| (side +1: right of the
    track). Every P(a) satisfies Doppler and range exactly; Newton on the look angle a solves
    height(P(a)) = h, with d height / da = normal . dP/da (exact ellipsoidal height)."""
    if not (math.isfinite(t) and math.isfinite(rng) and math.isfinite(h)) or rng <= 0.0:
        return np.nan, np.nan, np.nan, np.nan, np.nan
    (sx, sy, sz), (vx, vy, vz), _ = orbit_eval1(t, times, centres, scales, origins, pc, vc)
    vn = math.sqrt(vx * vx + vy * vy + vz * vz)
    ux, uy, uz = vx / vn, vy / vn, vz / vn
    # N: minus S, with its along-velocity part removed, normalised.
    sv = sx * ux + sy * uy + sz * uz
    nx, ny, nz = -(sx - sv * ux), -(sy - sv * uy), -(sz - sv * uz)
    nn = math.sqrt(nx * nx + ny * ny + nz * nz)
    nx, ny, nz = nx / nn, ny / nn, nz / nn
    wx = side * (ny * uz - nz * uy)
    wy = side * (nz * ux - nx * uz)
    wz = side * (nx * uy - ny * ux)
    # Start: the look angle to a sphere of the ellipsoid's radius (raised by h) under the
    # satellite, then again under that first point: within metres, which saves a Newton step.
    rs = math.sqrt(sx * sx + sy * sy + sz * sz)
    a = _sphere_look_angle(rs, rng, sx, sy, sz, h)
    ca, sa = math.cos(a), math.sin(a)
    a = _sphere_look_angle(rs, rng, sx + rng * (ca * nx + sa * wx), sy + rng * (ca * ny + sa * wy),
                           sz + rng * (ca * nz + sa * wz), h)
    for _ in range(_MAX_ITER):
        ca, sa = math.cos(a), math.sin(a)
        px = sx + rng * (ca * nx + sa * wx)
        py = sy + rng * (ca * ny + sa * wy)
        pz = sz + rng * (ca * nz + sa * wz)
        hp, ex, ey, ez = height_normal1(px, py, pz)
        dh = rng * ((-sa * nx + ca * wx) * ex + (-sa * ny + ca * wy) * ey
                    + (-sa * nz + ca * wz) * ez)
        step = (hp - h) / dh
        a -= step
        if abs(step * rng) < _HEIGHT_TOL:
            break
    else:
        return np.nan, np.nan, np.nan, np.nan, np.nan
    if not (0.0 < a < 0.5 * math.pi):  # no solution on the requested side (range too short)
        return np.nan, np.nan, np.nan, np.nan, np.nan
    ca, sa = math.cos(a), math.sin(a)
    px = sx + rng * (ca * nx + sa * wx)
    py = sy + rng * (ca * ny + sa * wy)
    pz = sz + rng * (ca * nz + sa * wz)
    lat, lon, _ = ecef_to_geodetic1(px, py, pz)
    return lat, lon, px, py, pz


@numba.njit(parallel=True, cache=True)
def _radar_to_ground_kernel(t, rng, h, side, times, centres, scales, origins, pc, vc,
                            lat, lon, xyz):  # pragma: no cover - compiled
    for i in numba.prange(t.shape[0]):
        la, lo, x, y, z = _radar_to_ground1(
            t[i], rng[i], h[i], side, times, centres, scales, origins, pc, vc
        )
        lat[i] = math.degrees(la)
        lon[i] = math.degrees(lo)
        xyz[i, 0], xyz[i, 1], xyz[i, 2] = x, y, z


def radar_to_ecef(
    orbit: Orbit, seconds, slant_range, height=0.0, look: Literal["right", "left"] = "right"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`radar_to_ground`, and also return the ECEF points (..., 3)."""
    if look not in ("right", "left"):
        raise ValueError(f"look must be 'right' or 'left', got {look!r}")
    shape, (t, r, h) = _flat(seconds, slant_range, height)
    lat, lon = np.empty(t.size), np.empty(t.size)
    xyz = np.empty((t.size, 3))
    side = 1.0 if look == "right" else -1.0
    _radar_to_ground_kernel(t, r, h, side, *orbit.kernel_args, lat, lon, xyz)
    return lat.reshape(shape), lon.reshape(shape), xyz.reshape(*shape, 3)


def radar_to_ground(
    orbit: Orbit, seconds, slant_range, height=0.0, look: Literal["right", "left"] = "right"
) -> tuple[np.ndarray, np.ndarray]:
    """Ground point (lat_deg, lon_deg) seen at azimuth time ``seconds`` (since
    ``orbit.epoch``), slant range (m), on the ellipsoid raised by ``height`` (m).

    The exact inverse of :func:`zero_doppler` for that height (Sentinel-1 looks right); arrays
    broadcast together. NaN where there is no solution (range shorter than the altitude)."""
    lat, lon, _ = radar_to_ecef(orbit, seconds, slant_range, height, look)
    return lat, lon


# -- angles --------------------------------------------------------------------------------


def look_vector(orbit: Orbit, xyz, seconds) -> np.ndarray:
    """Unit ECEF vectors (..., 3) from the satellite at ``seconds`` to the ground points."""
    sat, _ = orbit.interpolate(seconds)
    d = np.asarray(xyz, dtype=np.float64) - sat
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def incidence_angle(
    orbit: Orbit, xyz, seconds, reference: Literal["ellipsoid", "geocentric"] = "ellipsoid"
) -> np.ndarray:
    """Incidence angle (degrees): between the vertical at the points (..., 3) and the direction
    from the point to the satellite at ``seconds``.

    ``reference="ellipsoid"``: the vertical is the ellipsoid normal (the incidence on the
    ellipsoid, what a flat-terrain correction needs). ``"geocentric"``: the vertical is the
    radial direction P/|P|, which is how ESA's annotation computes ``incidenceAngle`` (it matches
    to 1e-6 deg, while the ellipsoid incidence differs from it by up to 0.19 deg x sin(2 lat))."""
    pts = np.asarray(xyz, dtype=np.float64)
    if reference == "ellipsoid":
        lat, lon, _ = ecef_to_geodetic(pts)
        vertical = ellipsoid_normal(lat, lon)
    elif reference == "geocentric":
        vertical = pts / np.linalg.norm(pts, axis=-1, keepdims=True)
    else:
        raise ValueError(f"reference must be 'ellipsoid' or 'geocentric', got {reference!r}")
    cos_inc = -np.sum(look_vector(orbit, pts, seconds) * vertical, axis=-1)
    return np.degrees(np.arccos(np.clip(cos_inc, -1.0, 1.0)))
