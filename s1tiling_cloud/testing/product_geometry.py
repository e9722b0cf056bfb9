"""The radar geometry of a synthetic GRD: azimuth timing, slant<->ground range, geolocation grid.

Everything here is computed with the package's geometry core (``geo.orbit``,
``geo.range_doppler``, ``geo.ellipsoid``) on the orbit *as written in the annotation* (the state
vectors parsed back from their text), so a reader that interpolates the same state vectors finds
the same geometry.

Ground range follows ESA's GRD definition: the distance along the ellipsoid (raised to the
scene's mean terrain height), within the zero-Doppler plane, from the first (near-range) pixel,
whose slant range is the same for every line. The slant<->ground polynomials of the annotation
(``coordinateConversionList``, one record per second) are fitted to that arc length; the product
geometry *is* those polynomials, each line using the record nearest in time (the IPF's rule), and
the geolocation grid and the measurement are derived from them.

Line times follow the IPF's bistatic convention, as ``geo.RadarGeometry`` reads them: a point of
two-way slant range time τ imaged at zero-Doppler time t_zd lies on the line of time
t_zd − (τ − τ_ref)/2, τ_ref the mid-swath two-way time of the image (the mean of the slant
range times of the first and last pixel of the first line). The geolocation grid gives, as
ESA's do, each point's own zero-Doppler time in ``azimuthTime`` (up to ±0.3 ms from its line's
time on a full swath).

Heights: the scene lies on a `terrain.Terrain` -- the ellipsoid raised by ``terrain_height``,
or a DEM plus the geoid; a pixel's ground point is where its zero-Doppler time and slant range
meet that surface (a fixed-point/secant iteration in height). The ground-range projection of
the polynomials and the calibration LUTs stay on the reference height ``terrain_height``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..geo.ellipsoid import geodetic_to_ecef
from ..geo.orbit import Orbit
from ..geo.range_doppler import SPEED_OF_LIGHT, incidence_angle, radar_to_ground, zero_doppler
from .orbit_model import CircularOrbit, place_orbit
from .spec import SyntheticGRD
from .terrain import Terrain

#: Coefficients of ESA's slant<->ground polynomials (degree 8).
POLY_COEFFS = 9
#: Spacing of the coordinate-conversion records (s), ESA's.
CONVERSION_STEP = 1.0
#: Samples of the zero-Doppler ground curve used to fit the polynomials.
PROFILE_SAMPLES = 257
#: Iterations and tolerance (m) of the search of a pixel's ground point on a DEM.
SURFACE_ITERATIONS = 40
SURFACE_TOLERANCE = 1e-4


def fmt_seconds_text(x: float) -> float:
    """The value a reader gets back from ESA's ``%.15e`` text of ``x``."""
    return float(f"{x:.15e}")


@dataclass(frozen=True)
class CoordinateConversion:
    """The ``coordinateConversionList``: per record, sr0 (m) and the two power series.

    ground = sum(srgr[k] * (slant - sr0)**k);  slant = sum(grsr[k] * (ground - gr0)**k), gr0 = 0.
    Each line uses the record NEAREST in azimuth time, as the IPF does (ESA's geolocation grids
    are reproduced that way to 1e-10 m; interpolating coefficients between records is off by
    metres wherever the geometry changes from one record to the next).
    """

    seconds: np.ndarray  # record times, seconds since orbit epoch, (n,)
    sr0: np.ndarray  # (n,)
    srgr: np.ndarray  # (n, ncoeffs)
    grsr: np.ndarray  # (n, ncoeffs)

    def nearest(self, seconds) -> np.ndarray:
        """Index of the record nearest to each azimuth time (ties go to the earlier record)."""
        s = np.asarray(seconds, dtype=np.float64)
        if self.seconds.size == 1:
            return np.zeros(s.shape, dtype=np.int64)
        right = np.clip(np.searchsorted(self.seconds, s), 1, self.seconds.size - 1)
        left = right - 1
        return np.where(s - self.seconds[left] <= self.seconds[right] - s, left, right)

    def ground_to_slant(self, seconds, ground) -> np.ndarray:
        """Slant range (m) of ground ranges (m) at azimuth times (broadcast together)."""
        s, g = np.broadcast_arrays(np.asarray(seconds, float), np.asarray(ground, float))
        return _horner(self.grsr[self.nearest(s)], g)

    def slant_to_ground(self, seconds, slant) -> np.ndarray:
        """Ground range (m) of slant ranges (m) at azimuth times (broadcast together)."""
        s, r = np.broadcast_arrays(np.asarray(seconds, float), np.asarray(slant, float))
        k = self.nearest(s)
        return _horner(self.srgr[k], r - self.sr0[k])


def _horner(coeffs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Power series with per-point coefficients (..., n) at x (...)."""
    out = np.zeros(x.shape)
    for k in range(coeffs.shape[-1] - 1, -1, -1):
        out = out * x + coeffs[..., k]
    return out


@dataclass(frozen=True)
class GeolocationGrid:
    """The annotation's ``geolocationGrid``: arrays of shape (len(lines), len(pixels))."""

    lines: np.ndarray
    pixels: np.ndarray
    seconds: np.ndarray  # zero-Doppler time of each point, s since orbit epoch
    slant_range: np.ndarray  # m
    latitude: np.ndarray
    longitude: np.ndarray
    height: np.ndarray
    incidence: np.ndarray  # degrees, geocentric vertical (ESA's convention)
    elevation: np.ndarray  # degrees off the geocentric nadir (ESA's convention)


def _grid_positions(n: int, parts: int) -> np.ndarray:
    """ESA's grid positions: 0, step, 2 step, ... then the last index (step = ceil(n / parts))."""
    step = max(1, math.ceil(n / parts))
    pos = np.arange(0, n - 1, step)
    return np.append(pos, n - 1).astype(np.int64)


def _polyfit_power(x: np.ndarray, y: np.ndarray, deg: int) -> np.ndarray:
    """Least-squares power-series coefficients of y(x), fitted on x scaled to [0, 1].

    Fitting in a scaled variable keeps the Vandermonde matrix well conditioned; unscaling is a
    division per coefficient (no cancellation), as ESA's raw-unit coefficients need.
    """
    scale = float(np.max(np.abs(x)))
    c = np.polynomial.polynomial.polyfit(x / scale, y, deg)
    return c / scale ** np.arange(deg + 1)


@dataclass(frozen=True)
class ProductGeometry:
    """Timing and geometry of one synthetic product (shared by its polarisations)."""

    spec: SyntheticGRD
    model: CircularOrbit  # the analytic orbit the state vectors sample
    sv_times: np.ndarray  # datetime64[ns] (n,)
    sv_positions: np.ndarray  # (n, 3), values as written
    sv_velocities: np.ndarray  # (n, 3), values as written
    orbit: Orbit  # core orbit built from the written state vectors
    first_line_seconds: float  # s since orbit.epoch
    azimuth_time_interval: float  # s
    near_range: float  # slant range of pixel 0 (m)
    conversion: CoordinateConversion
    center_seconds: float
    center_slant_range: float
    terrain: Terrain | None = None  # None: flat at spec.terrain_height

    @cached_property
    def surface(self) -> Terrain:
        """The surface the scene lies on."""
        if self.terrain is not None:
            return self.terrain
        return Terrain.of(self.spec.terrain_height, self.spec.dem, self.spec.geoid)

    # -- timing ----------------------------------------------------------------------------
    @property
    def lines(self) -> int:
        return self.spec.lines

    @property
    def samples(self) -> int:
        return self.spec.samples

    @property
    def slant_range_time(self) -> float:
        """Two-way slant range time of the first pixel (s)."""
        return 2.0 * self.near_range / SPEED_OF_LIGHT

    def line_seconds(self, lines) -> np.ndarray:
        return self.first_line_seconds + np.asarray(lines, dtype=np.float64) * (
            self.azimuth_time_interval
        )

    def datetimes(self, seconds) -> np.ndarray:
        return self.orbit.datetimes(seconds)

    @property
    def first_line_time(self) -> np.datetime64:
        return self.orbit.datetimes(self.first_line_seconds)

    @property
    def last_line_time(self) -> np.datetime64:
        return self.orbit.datetimes(self.line_seconds(self.lines - 1))

    @cached_property
    def grid(self) -> GeolocationGrid:
        return _geolocation_grid(self)

    @cached_property
    def radii(self) -> tuple[float, float]:
        """(satellite radius, Earth radius) at the scene centre (m), for spherical estimates."""
        sat, _ = self.orbit.interpolate(self.center_seconds)
        target = geodetic_to_ecef(self.spec.center_lat, self.spec.center_lon,
                                  self.spec.terrain_height)
        return float(np.linalg.norm(sat)), float(np.linalg.norm(target))

    # -- geometry --------------------------------------------------------------------------
    def slant_range(self, lines, pixels) -> np.ndarray:
        """Slant range (m) of image coordinates, through the annotation's polynomials."""
        return self.conversion.ground_to_slant(
            self.line_seconds(lines), np.asarray(pixels, dtype=np.float64) * self.spec.pixel_spacing
        )

    @cached_property
    def bistatic_reference(self) -> float:
        """τ_ref (two-way, s): the mean of the slant range times of the first and last pixel
        of the first line, as ``RadarGeometry`` computes it for GRD."""
        r = self.slant_range(np.zeros(2), np.array([0.0, self.samples - 1.0]))
        return float(r[0] + r[1]) / SPEED_OF_LIGHT

    def bistatic_shift(self, slant_range) -> np.ndarray:
        """t_line − t_zero_doppler (s) of slant ranges (m): −(τ − τ_ref) / 2."""
        tau = 2.0 * np.asarray(slant_range, dtype=np.float64) / SPEED_OF_LIGHT
        return -(tau - self.bistatic_reference) / 2.0

    def zero_doppler_seconds(self, lines, pixels) -> np.ndarray:
        """Zero-Doppler time (s since the orbit's epoch) of image coordinates."""
        lines, pixels = np.broadcast_arrays(np.asarray(lines, float), np.asarray(pixels, float))
        return self.line_seconds(lines) - self.bistatic_shift(self.slant_range(lines, pixels))

    def locate(self, lines, pixels, height=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, ellipsoidal height) of image coordinates: on the scene's surface, or at
        the given ellipsoidal ``height`` (m, scalar or array)."""
        lines, pixels = np.broadcast_arrays(np.asarray(lines, float), np.asarray(pixels, float))
        slant = self.slant_range(lines, pixels)
        s = self.line_seconds(lines) - self.bistatic_shift(slant)
        if height is not None:
            h = np.broadcast_to(np.asarray(height, dtype=np.float64), lines.shape)
            lat, lon = radar_to_ground(self.orbit, s, slant, h)
            return lat, lon, np.array(h)
        return _on_surface(self.orbit, self.surface, s, slant)

    def ground(self, lines, pixels, height=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, ECEF xyz) of image coordinates on the scene's surface, or on the
        ellipsoid raised by ``height``."""
        lat, lon, h = self.locate(lines, pixels, height)
        return lat, lon, geodetic_to_ecef(lat, lon, h)

    def ground_to_radar(self, lat, lon, height) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (line, pixel) of ground points (degrees, metres above the ellipsoid):
        zero-Doppler time and slant range on the orbit, the bistatic shift, then the
        slant->ground polynomial of the record nearest to the line's time."""
        xyz = geodetic_to_ecef(lat, lon, height)
        seconds, slant = zero_doppler(self.orbit, xyz)
        line_s = seconds + self.bistatic_shift(slant)
        line = (line_s - self.first_line_seconds) / self.azimuth_time_interval
        pixel = self.conversion.slant_to_ground(line_s, slant) / self.spec.pixel_spacing
        return line, pixel

    def incidence(self, lines, pixels, reference: str = "ellipsoid") -> np.ndarray:
        """Incidence angle (degrees) at image coordinates, on the ellipsoid raised by the
        reference height ``terrain_height`` (whatever the DEM: ESA's LUTs ignore relief)."""
        lines, pixels = np.broadcast_arrays(np.asarray(lines, float), np.asarray(pixels, float))
        _, _, xyz = self.ground(lines, pixels, self.spec.terrain_height)
        return incidence_angle(self.orbit, xyz, self.zero_doppler_seconds(lines, pixels),
                               reference=reference)

    def ground_profile(self, seconds: float, slant: np.ndarray) -> np.ndarray:
        """Ground range (m, from the near-range pixel) of slant ranges at one azimuth time.

        Arc length of the zero-Doppler ground curve (a plane section of the raised ellipsoid),
        summed as chords between closely spaced points: with PROFILE_SAMPLES points the chord
        error is below a micrometre. ``slant`` must start at ``self.near_range``.
        """
        return _arc_length(self.orbit, seconds, slant, self.spec.terrain_height)

    @property
    def center_incidence(self) -> float:
        """Geocentric incidence angle of the scene centre (the annotation's mid-swath angle)."""
        return float(self.incidence((self.lines - 1) / 2, (self.samples - 1) / 2, "geocentric"))

    @property
    def platform_heading(self) -> float:
        """Heading of the platform at the scene centre (degrees from north, clockwise)."""
        _, vel = self.orbit.interpolate(self.center_seconds)
        la, lo = math.radians(self.spec.center_lat), math.radians(self.spec.center_lon)
        east = np.array([-math.sin(lo), math.cos(lo), 0.0])
        north = np.array([-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)])
        return math.degrees(math.atan2(float(vel @ east), float(vel @ north)))

    def footprint(self) -> list[tuple[float, float]]:
        """Corner (lat, lon) in ESA's manifest order: (last, near), (last, far), (first, far),
        (first, near)."""
        l1, p1 = self.lines - 1, self.samples - 1
        lines = np.array([l1, l1, 0, 0], dtype=float)
        pixels = np.array([0, p1, p1, 0], dtype=float)
        lat, lon, _ = self.ground(lines, pixels)
        return [(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


def _on_surface(orbit: Orbit, terrain: Terrain, seconds: np.ndarray, slant: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground points (lat, lon, h) at zero-Doppler times and slant ranges on the terrain.

    Solves g(h) = terrain(P(h)) − h = 0 per point: a fixed-point step, then secant steps, which
    converge wherever the slope facing the radar is below the incidence (no layover); a point
    that does not converge keeps its last iterate.
    """
    seconds, slant = np.broadcast_arrays(np.asarray(seconds, float), np.asarray(slant, float))
    shape = seconds.shape
    s, r = seconds.ravel(), slant.ravel()
    h0 = np.full(s.shape, terrain.reference)
    lat, lon = radar_to_ground(orbit, s, r, h0)
    if terrain.flat:
        return lat.reshape(shape), lon.reshape(shape), h0.reshape(shape)
    g0 = terrain.height(lat, lon) - h0
    h1 = h0 + g0
    todo = np.arange(s.size)
    h = h1.copy()
    for _ in range(SURFACE_ITERATIONS):
        la, lo = radar_to_ground(orbit, s[todo], r[todo], h1)
        g1 = terrain.height(la, lo) - h1
        lat[todo], lon[todo], h[todo] = la, lo, h1
        done = np.abs(g1) < SURFACE_TOLERANCE
        if done.all():
            break
        dg = g1 - g0
        secant = np.where(np.abs(dg) > 1e-12, -g1 * (h1 - h0) / np.where(dg == 0, 1.0, dg), g1)
        # A secant step that runs away (a slope near the incidence) falls back to a damped step.
        step = np.where(np.abs(secant) <= 4.0 * np.abs(g1) + 1.0, secant, 0.5 * g1)
        keep = ~done
        todo, h0, g0, h1 = todo[keep], h1[keep], g1[keep], (h1 + step)[keep]
    return lat.reshape(shape), lon.reshape(shape), h.reshape(shape)


def _arc_length(orbit: Orbit, seconds: float, slant: np.ndarray, height: float) -> np.ndarray:
    lat, lon = radar_to_ground(orbit, np.full(slant.shape, seconds), slant, height)
    xyz = geodetic_to_ecef(lat, lon, height)
    chords = np.linalg.norm(np.diff(xyz, axis=0), axis=-1)
    if not np.isfinite(chords).all():
        raise ValueError("the swath leaves the Earth: fewer samples or a smaller incidence")
    return np.concatenate([[0.0], np.cumsum(chords)])


def _near_range(orbit: Orbit, seconds: float, r_center: float, ground: float, height: float,
                sin_inc: float) -> float:
    """Slant range whose ground distance to ``r_center`` (same azimuth time) is ``ground``.

    On the near side the incidence is smaller than at the centre, so the answer lies above
    ``r_center - ground * sin_inc``; interpolation on a dense curve, then Newton steps on the
    exact arc length (d ground / d slant = 1 / sin(incidence)).
    """
    if ground == 0.0:
        return r_center
    slant = np.linspace(r_center - ground * sin_inc - 500.0, r_center, 4097)
    arc = _arc_length(orbit, seconds, slant, height)
    to_center = arc[-1] - arc
    r = float(np.interp(ground, to_center[::-1], slant[::-1]))
    for _ in range(3):
        slant = np.linspace(r, r_center, 4097)
        err = float(_arc_length(orbit, seconds, slant, height)[-1]) - ground
        dr = float(slant[1] - slant[0])
        local = float(_arc_length(orbit, seconds, slant[:2], height)[-1]) / dr
        r += err / local
        if abs(err) < 1e-7:
            break
    return r


def _fit_records(orbit: Orbit, rec: np.ndarray, near: float, far: float, height: float,
                 tolerance: float = 2e-3) -> tuple[np.ndarray, np.ndarray]:
    """srgr and grsr power series per record time, on [near, far] slant ranges.

    Least squares on Chebyshev-spaced samples (close to the minimax fit). ESA writes 9
    coefficients; over a full 250 km swath degree 8 leaves ~2 cm at near range, so the degree
    grows (same for both series, which readers store on one axis) until both are within
    ``tolerance`` metres on a dense check.
    """
    x = 0.5 - 0.5 * np.cos(np.pi * (np.arange(PROFILE_SAMPLES) + 0.5) / PROFILE_SAMPLES)
    slant = np.concatenate([[near], near + x * (far - near)])
    check = np.linspace(near, far, 1001)
    profiles = [_arc_length(orbit, float(s), slant, height) for s in rec]
    mid = len(rec) // 2
    truth = _arc_length(orbit, float(rec[mid]), check, height)
    for ncoeffs in range(POLY_COEFFS, 16):
        deg = ncoeffs - 1
        c_sg = _polyfit_power(slant - near, profiles[mid], deg)
        c_gs = _polyfit_power(profiles[mid], slant, deg)
        e_sg = np.abs(np.polynomial.polynomial.polyval(check - near, c_sg) - truth).max()
        e_gs = np.abs(np.polynomial.polynomial.polyval(truth, c_gs) - check).max()
        if max(e_sg, e_gs) < tolerance:
            break
    srgr = np.stack([_polyfit_power(slant - near, g, deg) for g in profiles])
    grsr = np.stack([_polyfit_power(g, slant, deg) for g in profiles])
    return srgr, grsr


def _written(x: np.ndarray) -> np.ndarray:
    """Values as a reader parses them from ESA's ``%.15e`` text."""
    return np.vectorize(fmt_seconds_text)(x)


def compute_geometry(spec: SyntheticGRD) -> ProductGeometry:
    """Place the orbit, time the lines and fit the polynomials for ``spec``; build the grid."""
    start = spec.start_time
    h = spec.terrain_height
    target = geodetic_to_ecef(spec.center_lat, spec.center_lon, h)
    dt = 1.5e-3 * spec.pixel_spacing / 10.0
    for _ in range(2):  # the mid time depends on dt, dt on the orbit: two passes converge
        mid = start + np.timedelta64(int(round((spec.lines - 1) / 2 * dt * 1e9)), "ns")
        model = place_orbit(spec.center_lat, spec.center_lon, h, mid, spec.incidence_mid,
                            spec.orbit_direction)
        half = (spec.lines - 1) / 2 * dt
        times, pos, vel = model.state_vectors(-half, half)
        pos, vel = _written(pos), _written(vel)
        orbit = Orbit.from_state_vectors(times, pos, vel)
        s_c, r_c = (float(v) for v in zero_doppler(orbit, target))
        # Ground speed of the zero-Doppler footprint at the centre's range: 1 s apart.
        lat2, lon2 = radar_to_ground(orbit, np.array([s_c - 0.5, s_c + 0.5]), r_c, h)
        p2 = geodetic_to_ecef(lat2, lon2, h)
        dt = spec.pixel_spacing / float(np.linalg.norm(p2[1] - p2[0]))
    first = float(orbit.seconds(start))
    inc_c = float(incidence_angle(orbit, target, s_c))
    near = _near_range(orbit, s_c, r_c, (spec.samples - 1) / 2 * spec.pixel_spacing, h,
                       math.sin(math.radians(inc_c)))
    near = fmt_seconds_text(2.0 * near / SPEED_OF_LIGHT) * SPEED_OF_LIGHT / 2.0

    # Far end of the fits: past the last pixel at every record time.
    width = (spec.samples - 1) * spec.pixel_spacing
    last = first + (spec.lines - 1) * dt
    rec = np.arange(math.floor(first) - 1.0, last + 1.0 + CONVERSION_STEP, CONVERSION_STEP)
    rec = rec[rec <= orbit.end]
    slant_c = np.linspace(near, near + 1.3 * width + 2000.0, 2049)
    arc_c = _arc_length(orbit, s_c, slant_c, h)
    far = float(np.interp(1.005 * width + 200.0, arc_c, slant_c))

    srgr, grsr = _fit_records(orbit, rec, near, far, h)
    rec_written = orbit.seconds(orbit.datetimes(rec))
    conversion = CoordinateConversion(
        seconds=rec_written, sr0=np.full(rec.size, near), srgr=_written(srgr), grsr=_written(grsr)
    )

    geo = ProductGeometry(
        spec=spec, model=model, sv_times=times, sv_positions=pos, sv_velocities=vel,
        orbit=orbit, first_line_seconds=first, azimuth_time_interval=fmt_seconds_text(dt),
        near_range=near, conversion=conversion, center_seconds=s_c, center_slant_range=r_c,
        terrain=Terrain.of(spec.terrain_height, spec.dem, spec.geoid),
    )
    return geo


def _geolocation_grid(geo: ProductGeometry) -> GeolocationGrid:
    """ESA-like grid (~10 x 21 points, last line and pixel included), each point exact."""
    lines = _grid_positions(geo.lines, 9)
    pixels = _grid_positions(geo.samples, 20)
    ll, pp = np.meshgrid(lines, pixels, indexing="ij")
    slant = geo.slant_range(ll, pp)
    seconds = geo.zero_doppler_seconds(ll, pp)  # ESA's azimuthTime: the point's own
    lat, lon, h = geo.locate(ll, pp)
    xyz = geodetic_to_ecef(lat, lon, h)
    inc = incidence_angle(geo.orbit, xyz, seconds, reference="geocentric")
    sat, _ = geo.orbit.interpolate(seconds)
    los = xyz - sat
    cos_el = -np.sum(los * sat, axis=-1) / (
        np.linalg.norm(los, axis=-1) * np.linalg.norm(sat, axis=-1)
    )
    elev = np.degrees(np.arccos(np.clip(cos_el, -1.0, 1.0)))
    return GeolocationGrid(
        lines=lines, pixels=pixels, seconds=seconds, slant_range=slant, latitude=lat,
        longitude=lon, height=h, incidence=inc, elevation=elev,
    )
