"""A Sentinel-1-like orbit for synthetic products: circular, sun-synchronous, Earth-fixed.

The motion is Keplerian and circular (radius = equatorial radius + 693 km, inclination 98.18°)
in an inertial frame, turned into the Earth-fixed frame by a uniform Earth rotation, so that
position and velocity are analytic at any time. ``place_orbit`` chooses the node and the phase
so that a given ground point is seen at zero Doppler at a given time, right-looking, with a
given incidence angle, on the requested pass. The products only carry the state vectors
(every 10 s, ESA's sampling); every other geometric quantity is recomputed from them by the
package's geometry core, as a reader would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..geo.ellipsoid import A as WGS84_A
from ..geo.ellipsoid import ellipsoid_normal, geodetic_to_ecef

#: Earth's gravitational constant (m^3/s^2), WGS84.
GM = 3.986004418e14
#: Earth's rotation rate (rad/s), WGS84.
OMEGA_EARTH = 7.2921151467e-5
#: Sentinel-1's reference altitude over the equator (m).
ALTITUDE = 693_000.0
#: Sentinel-1's inclination (degrees): sun-synchronous at 693 km.
INCLINATION_DEG = 98.18
#: Semi-major axis of the circular orbit (m).
SEMI_MAJOR_AXIS = WGS84_A + ALTITUDE
#: ESA's state-vector sampling in GRD annotations (s).
STATE_VECTOR_STEP = 10.0


def _seconds_between(t: np.datetime64, epoch: np.datetime64) -> np.ndarray:
    """Seconds from ``epoch`` to ``t`` (float64, nanosecond exact before the division)."""
    delta = np.asarray(t, dtype="datetime64[ns]") - np.datetime64(epoch, "ns")
    return delta.astype(np.int64) / 1e9


@dataclass(frozen=True)
class CircularOrbit:
    """Circular Keplerian orbit seen from the rotating Earth; ``seconds`` count from ``epoch``.

    ``raan`` is the Earth-fixed longitude of the ascending node at the epoch and ``arg_lat`` the
    argument of latitude at the epoch (radians). In the Earth-fixed frame the node drifts west
    at the Earth's rotation rate, which is all the rotation does to a circular orbit.
    """

    epoch: np.datetime64
    raan: float
    arg_lat: float
    semi_major_axis: float = SEMI_MAJOR_AXIS
    inclination: float = math.radians(INCLINATION_DEG)

    @property
    def mean_motion(self) -> float:
        return math.sqrt(GM / self.semi_major_axis**3)

    @property
    def period(self) -> float:
        return 2.0 * math.pi / self.mean_motion

    def seconds(self, t) -> np.ndarray:
        return _seconds_between(t, self.epoch)

    def datetimes(self, seconds) -> np.ndarray:
        ns = np.round(np.asarray(seconds, dtype=np.float64) * 1e9).astype(np.int64)
        return np.datetime64(self.epoch, "ns") + ns.astype("timedelta64[ns]")

    def state(self, seconds) -> tuple[np.ndarray, np.ndarray]:
        """Earth-fixed position and velocity (m, m/s), shape (..., 3)."""
        s = np.asarray(seconds, dtype=np.float64)
        n, a, inc = self.mean_motion, self.semi_major_axis, self.inclination
        u = self.arg_lat + n * s
        node = self.raan - OMEGA_EARTH * s
        cu, su, cn, sn = np.cos(u), np.sin(u), np.cos(node), np.sin(node)
        ci, si = math.cos(inc), math.sin(inc)
        p = np.stack([cn, sn, np.zeros_like(cn)], axis=-1)
        q = np.stack([-sn * ci, cn * ci, np.full_like(cn, si)], axis=-1)
        pos = a * (cu[..., None] * p + su[..., None] * q)
        v_inertial = a * n * (-su[..., None] * p + cu[..., None] * q)
        # v_fixed = v_inertial (rotated) - omega z x r
        rot = np.stack([-pos[..., 1], pos[..., 0], np.zeros_like(cu)], axis=-1)
        return pos, v_inertial - OMEGA_EARTH * rot

    def shifted(self, dt: float) -> CircularOrbit:
        """The same Earth-fixed track flown ``dt`` seconds earlier: r'(t) = r(t + dt)."""
        return replace(
            self,
            raan=self.raan - OMEGA_EARTH * dt,
            arg_lat=self.arg_lat + self.mean_motion * dt,
        )

    def ascending_node_seconds(self, seconds: float) -> float:
        """Time (seconds from epoch) of the last ascending-node crossing at or before ``seconds``."""
        u = (self.arg_lat + self.mean_motion * seconds) % (2.0 * math.pi)
        return seconds - u / self.mean_motion

    def zero_doppler_seconds(self, xyz: np.ndarray, guess: float = 0.0) -> float:
        """Zero-Doppler time of one Earth-fixed point on this analytic orbit (Newton)."""
        xyz = np.asarray(xyz, dtype=np.float64)
        s = float(guess)
        h = 1e-3
        for _ in range(50):

            def f(t: float) -> float:
                p, v = self.state(t)
                return float(np.dot(p - xyz, v))

            fs = f(s)
            df = (f(s + h) - f(s - h)) / (2 * h)
            step = fs / df
            s -= step
            if abs(step) < 1e-10:
                break
        return s

    def state_vectors(
        self, first: float, last: float, step: float = STATE_VECTOR_STEP, minimum: int = 17
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ESA-like state vectors covering [first, last] seconds with >= 60 s margins.

        Times fall on whole multiples of ``step`` in UTC; at least ``minimum`` vectors, centred.
        Returns (times datetime64[ns], positions (n, 3), velocities (n, 3)).
        """
        # Integer nanoseconds: an epoch of ~1.6e9 s in float64 is only good to ~0.2 us (1 mm).
        epoch_ns = int(np.datetime64(self.epoch, "ns").astype(np.int64))
        step_ns = int(round(step * 1e9))
        lo = (epoch_ns + int(round((first - 60.0) * 1e9))) // step_ns
        hi = -((-(epoch_ns + int(round((last + 60.0) * 1e9)))) // step_ns)
        count = hi - lo + 1
        if count < minimum:
            lo -= (minimum - count) // 2
            count = minimum
        abs_ns = (lo + np.arange(count, dtype=np.int64)) * step_ns
        times = abs_ns.astype("datetime64[ns]")
        pos, vel = self.state((abs_ns - epoch_ns) / 1e9)
        return times, pos, vel


def _incidence(orbit: CircularOrbit, xyz: np.ndarray, lat: float, lon: float, s: float) -> float:
    """Ellipsoid incidence angle (degrees) of a point seen from the orbit at time ``s``."""
    sat, _ = orbit.state(s)
    los = sat - xyz
    nrm = ellipsoid_normal(lat, lon)
    return math.degrees(math.acos(float(np.dot(los, nrm)) / float(np.linalg.norm(los))))


def _orbit_seeing(
    tau: np.ndarray, radius: float, gamma: float, ascending: bool, epoch: np.datetime64
) -> CircularOrbit:
    """Inertial-frame solution: the orbit plane lies ``gamma`` (rad) left of the unit vector tau.

    The target is on the right of the velocity when tau . h = -sin(gamma), h the orbit normal
    (sin i sin W, -sin i cos W, cos i); two nodes W solve it, one per pass.
    """
    inc = math.radians(INCLINATION_DEG)
    rho = math.hypot(tau[0], tau[1])
    phi = math.atan2(tau[1], tau[0])
    rhs = (-math.sin(gamma) - tau[2] * math.cos(inc)) / (rho * math.sin(inc))
    if abs(rhs) > 1.0:
        raise ValueError("no Sentinel-1 orbit sees this latitude at this incidence angle")
    alpha = math.asin(rhs)
    for node in (phi + alpha, phi + math.pi - alpha):
        p = np.array([math.cos(node), math.sin(node), 0.0])
        q = np.array(
            [-math.sin(node) * math.cos(inc), math.cos(node) * math.cos(inc), math.sin(inc)]
        )
        u = math.atan2(float(tau @ q), float(tau @ p))
        if (math.cos(u) > 0.0) == ascending:
            return CircularOrbit(epoch=epoch, raan=node, arg_lat=u)
    raise AssertionError("unreachable: one of the two nodes is on each pass")


def place_orbit(
    lat: float,
    lon: float,
    height: float,
    time: np.datetime64,
    incidence_deg: float,
    direction: str,
) -> CircularOrbit:
    """The orbit that sees (lat, lon, height) at zero Doppler at ``time``, right-looking.

    A spherical first guess of the cross-track angle, then exact corrections on the analytic
    Earth-fixed orbit: a time shift puts the zero-Doppler time at ``time`` (the track is
    unchanged), a few secant steps on the cross-track angle hit ``incidence_deg`` on the
    ellipsoid to 1e-6 degree.
    """
    ascending = direction.upper() == "ASCENDING"
    epoch = np.datetime64(time, "ns")
    xyz = geodetic_to_ecef(lat, lon, height)
    radius = float(np.linalg.norm(xyz))
    tau = xyz / radius
    theta = math.radians(incidence_deg)
    look = math.asin(radius * math.sin(theta) / SEMI_MAJOR_AXIS)
    gamma = theta - look

    def solve(g: float) -> tuple[CircularOrbit, float]:
        orb = _orbit_seeing(tau, radius, g, ascending, epoch)
        orb = orb.shifted(orb.zero_doppler_seconds(xyz))
        orb = orb.shifted(orb.zero_doppler_seconds(xyz))
        return orb, _incidence(orb, xyz, lat, lon, 0.0)

    orbit, inc = solve(gamma)
    g_prev, inc_prev = gamma, inc
    gamma += math.radians(incidence_deg - inc) * 0.9
    for _ in range(20):
        orbit, inc = solve(gamma)
        if abs(inc - incidence_deg) < 1e-7 or inc == inc_prev:
            break
        slope = (inc - inc_prev) / (gamma - g_prev)
        g_prev, inc_prev = gamma, inc
        gamma += (incidence_deg - inc) / slope
    return orbit


# --- attitude -------------------------------------------------------------------------------
#: Roll of Sentinel-1's antenna boresight off nadir, to the right (degrees), IW nominal.
ROLL_BIAS_DEG = 29.45


def gmst(times: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal angle (rad) of UTC times, IAU 1982 short form (UT1 ~ UTC)."""
    days = _seconds_between(times, np.datetime64("2000-01-01T12:00:00", "ns")) / 86400.0
    return np.radians((280.46061837 + 360.98564736629 * days) % 360.0)


def _quaternion_from_matrix(m: np.ndarray) -> np.ndarray:
    """Unit quaternions (q0 scalar first) from rotation matrices (..., 3, 3)."""
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    q0 = 0.5 * np.sqrt(np.maximum(1.0 + tr, 0.0))
    q1 = np.copysign(0.5 * np.sqrt(np.maximum(1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], 0)),
                     m[..., 2, 1] - m[..., 1, 2])
    q2 = np.copysign(0.5 * np.sqrt(np.maximum(1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], 0)),
                     m[..., 0, 2] - m[..., 2, 0])
    q3 = np.copysign(0.5 * np.sqrt(np.maximum(1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2], 0)),
                     m[..., 1, 0] - m[..., 0, 1])
    q = np.stack([q0, q1, q2, q3], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def attitude(orbit: CircularOrbit, seconds: np.ndarray) -> dict[str, np.ndarray]:
    """Zero-Doppler-steered, right-rolled body attitude in an inertial (GM2000-like) frame.

    Body axes: x along the inertial velocity, z the boresight (nadir rolled right by
    ``ROLL_BIAS_DEG``), y completing the frame. Returns q0..q3, body angular rates wx, wy, wz
    (rad/s) and roll/pitch/yaw (degrees, ZYX Euler angles of the body in that frame), the
    fields of ESA's ``attitude`` records.
    """
    s = np.asarray(seconds, dtype=np.float64)
    pos, vel = orbit.state(s)
    # Earth-fixed -> inertial: undo the Earth rotation (GMST) and restore the inertial velocity.
    vel_i = vel + OMEGA_EARTH * np.stack([-pos[:, 1], pos[:, 0], np.zeros(len(s))], axis=-1)
    g = gmst(orbit.datetimes(s))
    cg, sg = np.cos(g), np.sin(g)

    def to_inertial(v: np.ndarray) -> np.ndarray:
        return np.stack([cg * v[:, 0] - sg * v[:, 1], sg * v[:, 0] + cg * v[:, 1], v[:, 2]], -1)

    r_i, v_i = to_inertial(pos), to_inertial(vel_i)
    nadir = -r_i / np.linalg.norm(r_i, axis=-1, keepdims=True)
    h = np.cross(r_i, v_i)
    h /= np.linalg.norm(h, axis=-1, keepdims=True)
    x = np.cross(-h, nadir)  # along-track, perpendicular to nadir
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    right = -h  # right of the velocity for a right-looking SAR
    roll = math.radians(ROLL_BIAS_DEG)
    z = math.cos(roll) * nadir + math.sin(roll) * right
    y = np.cross(z, x)
    m = np.stack([x, y, z], axis=-1)  # columns: body axes in the inertial frame
    q = _quaternion_from_matrix(m)
    w = orbit.mean_motion * h  # inertial angular velocity of the orbital frame
    wb = np.einsum("nij,ni->nj", m, w)
    yaw = np.degrees(np.arctan2(m[:, 1, 0], m[:, 0, 0]))
    pitch = np.degrees(-np.arcsin(np.clip(m[:, 2, 0], -1.0, 1.0)))
    rollv = np.degrees(np.arctan2(m[:, 2, 1], m[:, 2, 2]))
    return {
        "q0": q[:, 0], "q1": q[:, 1], "q2": q[:, 2], "q3": q[:, 3],
        "wx": wb[:, 0], "wy": wb[:, 1], "wz": wb[:, 2],
        "roll": rollv, "pitch": pitch, "yaw": yaw,
    }
