"""Orbit interpolation: accuracy on an analytic orbit and on ESA's state vectors (leave one out),
time conversions, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.geo.orbit import Orbit

from .annotation_xml import annotation_params, read_annotation

GM = 3.986004418e14
OMEGA_EARTH = 7.2921151467e-5
T0 = np.datetime64("2021-04-01T05:25:19.123456789", "ns")


def analytic_orbit(t: np.ndarray):
    """A circular, sun-synchronous-like orbit (693 km) seen in the rotating Earth frame:
    ECEF position, velocity and acceleration known exactly at any time (s)."""
    r, inc, raan, u0 = 7.071e6, np.radians(98.18), 0.3, 0.5
    n = np.sqrt(GM / r**3)
    u = u0 + n * t
    ci, si, co, so = np.cos(inc), np.sin(inc), np.cos(raan), np.sin(raan)

    def inertial(x, y):
        return np.stack([co * x - so * ci * y, so * x + co * ci * y, si * y], axis=-1)

    p = inertial(r * np.cos(u), r * np.sin(u))
    v = inertial(-r * n * np.sin(u), r * n * np.cos(u))
    a = -(n**2) * p
    th = OMEGA_EARTH * t

    def to_earth(q):
        c, s = np.cos(th), np.sin(th)
        return np.stack([c * q[:, 0] + s * q[:, 1], -s * q[:, 0] + c * q[:, 1], q[:, 2]], -1)

    w = np.array([0.0, 0.0, OMEGA_EARTH])
    pe = to_earth(p)
    ve = to_earth(v) - np.cross(w, pe)
    ae = to_earth(a) - 2 * np.cross(w, ve) - np.cross(w, np.cross(w, pe))
    return pe, ve, ae


def _state_vectors(step: float = 10.0, count: int = 17, rounding: bool = False):
    t = np.arange(count) * step
    p, v, _ = analytic_orbit(t)
    if rounding:  # as in the S1B 2021-04-01 annotations: 1 mm and 1 um/s
        p, v = np.round(p, 3), np.round(v, 6)
    return T0 + (t * 1e9).astype("timedelta64[ns]"), p, v


@pytest.mark.parametrize(
    ("rounding", "pos_tol", "vel_tol"),
    # Exact input: the interpolant itself (~0.3 um, ~1e-9 m/s measured). Rounded input: the
    # rounding of the state vectors (up to 0.87 mm) and its interpolation (0.67 mm, 0.9 um/s).
    [(False, 1e-6, 1e-8), (True, 1e-3, 2e-6)],
)
def test_accuracy_between_state_vectors(rounding, pos_tol, vel_tol):
    times, p, v = _state_vectors(rounding=rounding)
    orbit = Orbit.from_state_vectors(times, p, v)
    t = np.linspace(0.0, 160.0, 3201)
    p_true, v_true, a_true = analytic_orbit(t)
    pos, vel = orbit.interpolate(t)
    assert np.linalg.norm(pos - p_true, axis=-1).max() < pos_tol
    assert np.linalg.norm(vel - v_true, axis=-1).max() < vel_tol
    assert np.linalg.norm(orbit.acceleration(t) - a_true, axis=-1).max() < 1e-5


def test_hermite_option_on_consistent_state_vectors():
    orbit = Orbit.from_state_vectors(*_state_vectors(), method="hermite")
    t = np.linspace(0.0, 160.0, 3201)
    p_true, v_true, _ = analytic_orbit(t)
    pos, vel = orbit.interpolate(t)
    assert np.linalg.norm(pos - p_true, axis=-1).max() < 1e-6
    assert np.linalg.norm(vel - v_true, axis=-1).max() < 1e-8


def _position_quantum(positions: np.ndarray) -> float:
    """Resolution the annotation wrote positions with (1 mm or 1 um in the fixtures)."""
    for q in (1e-2, 1e-3, 1e-4, 1e-5):
        if np.allclose(positions / q, np.round(positions / q), rtol=0, atol=1e-2):
            return q
    return 1e-6


@pytest.mark.parametrize("path", annotation_params())
def test_leave_one_out_on_esa_state_vectors(path):
    """Drop each inner state vector in turn and predict it from the others (a 20 s gap).

    Measured max errors: 0.025 mm (S1A 2022-01-04), 0.011 mm (S1B 2021-12-23), positions written
    to 10 um; 3.4 mm for S1B 2021-04-01, whose positions are rounded to 1 mm, which a 20 s gap
    amplifies ~4x. Velocities: < 3.4 um/s everywhere."""
    sv = read_annotation(path).orbit
    n = sv.times.size
    pos_err, vel_err = [], []
    for k in range(1, n - 1):
        keep = np.arange(n) != k
        orbit = Orbit.from_state_vectors(sv.times[keep], sv.positions[keep], sv.velocities[keep])
        p, v = orbit.interpolate(orbit.seconds(sv.times[k]))
        pos_err.append(np.linalg.norm(p - sv.positions[k]))
        vel_err.append(np.linalg.norm(v - sv.velocities[k]))
    bound = 1e-4 + 5 * _position_quantum(sv.positions)
    assert max(pos_err) < bound, f"max position error {max(pos_err) * 1e3:.3f} mm"
    assert max(vel_err) < 1e-5, f"max velocity error {max(vel_err) * 1e6:.2f} um/s"


@pytest.mark.parametrize("path", annotation_params())
def test_reproduces_esa_state_vectors(path):
    """An interpolating orbit passes through its own state vectors."""
    sv = read_annotation(path).orbit
    orbit = Orbit.from_state_vectors(sv.times, sv.positions, sv.velocities)
    assert orbit.epoch == sv.times[0]
    p, v = orbit.interpolate(orbit.seconds(sv.times))
    assert np.abs(p - sv.positions).max() < 1e-6
    assert np.abs(v - sv.velocities).max() < 1e-9
    # Acceleration is the derivative of the interpolated velocity; ~8 m/s^2 at 700 km.
    t = np.linspace(orbit.start + 1, orbit.end - 1, 50)
    h = 1e-3
    dv = (orbit.interpolate(t + h)[1] - orbit.interpolate(t - h)[1]) / (2 * h)
    assert np.abs(orbit.acceleration(t) - dv).max() < 1e-6
    assert np.all(np.abs(np.linalg.norm(orbit.acceleration(t), axis=-1) - 8.0) < 0.5)


def test_time_conversions():
    times, p, v = _state_vectors()
    orbit = Orbit.from_state_vectors(times, p, v)
    assert orbit.epoch == times[0]
    assert orbit.epoch.dtype == np.dtype("datetime64[ns]")
    assert orbit.start == 0.0 and orbit.end == 160.0
    t = T0 + np.array([0, 1, 123_456_789_012, -5], dtype="timedelta64[ns]")
    s = orbit.seconds(t)
    np.testing.assert_allclose(s, [0, 1e-9, 123.456789012, -5e-9], rtol=0, atol=1e-15)
    assert (orbit.datetimes(s) == t).all()
    assert orbit.datetimes(s).dtype == np.dtype("datetime64[ns]")
    # Other units and NaT/NaN.
    assert orbit.seconds(np.datetime64("2021-04-01T05:25:20", "s")) == pytest.approx(0.876543211)
    assert np.isnan(orbit.seconds(np.datetime64("NaT")))
    assert np.isnat(orbit.datetimes(np.nan))


def test_shapes():
    orbit = Orbit.from_state_vectors(*_state_vectors())
    p, v = orbit.interpolate(12.5)
    assert p.shape == v.shape == (3,)
    p, v = orbit.interpolate(np.full((2, 4), 12.5))
    assert p.shape == v.shape == orbit.acceleration(np.zeros((2, 4))).shape == (2, 4, 3)
    p, v = orbit.interpolate([np.nan, 1.0])
    assert np.isnan(p[0]).all() and np.isfinite(p[1]).all()


def test_unsorted_and_duplicate_state_vectors():
    times, p, v = _state_vectors()
    ref = Orbit.from_state_vectors(times, p, v)
    order = np.r_[np.arange(17)[::-1], 3, 8]  # reversed, and two duplicates
    orbit = Orbit.from_state_vectors(times[order], p[order], v[order])
    assert orbit.epoch == times[0]
    t = np.linspace(0, 160, 33)
    np.testing.assert_array_equal(orbit.interpolate(t)[0], ref.interpolate(t)[0])


def test_input_checks():
    times, p, v = _state_vectors()
    with pytest.raises(ValueError, match="positions"):
        Orbit.from_state_vectors(times, p[:, :2], v)
    with pytest.raises(ValueError, match="at least 2"):
        Orbit.from_state_vectors(times[:1], p[:1], v[:1])
    with pytest.raises(ValueError, match="non-finite"):
        Orbit.from_state_vectors(times, np.where(np.arange(17)[:, None] == 3, np.nan, p), v)
    with pytest.raises(ValueError, match="method"):
        Orbit.from_state_vectors(times, p, v, method="spline")
    short = Orbit.from_state_vectors(times[:3], p[:3], v[:3])  # fewer than a window: all of them
    assert short.window == 3
