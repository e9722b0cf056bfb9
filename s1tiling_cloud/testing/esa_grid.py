"""Where a ground point lies in a real product, from ESA's own geolocation grid.

This is the reference that checks the package's range-Doppler code, so it does not use it: the
absolute geometry comes from the annotation's ``geolocationGrid`` (ESA's (line, pixel) ↔ (lat,
lon, height) at ~200 points, with each point's zero-Doppler ``azimuthTime`` and
``slantRangeTime``), the image timing from ``imageInformation`` and the slant→ground
polynomials of ``coordinateConversionList`` (the record nearest to a line's time, the IPF's
rule). Three facts make interpolating the grid accurate:

- Heights. ESA's grid points lie on ESA's terrain, up to ~2 km apart in height over a few
  kilometres, and a point's ground position moves by ~1.2 m per metre of height: grid points
  are interpolated only after being moved to one reference height (the ellipsoid), each along
  its own iso-range-Doppler circle (the circle of constant slant range in the plane normal to
  the satellite's velocity, which keeps its (line, pixel)); a target is moved the same way.
  This needs the satellite's position and velocity at the point's time: the annotation's
  state vectors, interpolated by cubic Hermite polynomials. Errors in them shift a point and
  its circle together, so they cancel to first order.
- Radar coordinates. (line, pixel) jumps where the slant→ground record changes (every second,
  by up to ~14 pixels at far range on the Rome product), so the grid is interpolated as a map
  (line, pixel of the nodes) → (zero-Doppler time, slant range time, lat, lon), all smooth
  there, and a point's (line, pixel) follows from its times: line from the line time (the
  zero-Doppler time minus the bistatic delay, a linear function of the slant range time fitted
  on the grid's own azimuthTime − line time), pixel from the record nearest to that line time.
- Interpolation. Piecewise cubic Lagrange on the grid's (non-uniform) nodes, per axis: exact
  for the quadratic terms (Earth curvature) that make bilinear interpolation miss by metres.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from pyproj import Transformer

SPEED_OF_LIGHT = 299792458.0
_TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
_TO_LLH = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)


def _ecef(lat, lon, h) -> np.ndarray:
    x, y, z = _TO_ECEF.transform(np.asarray(lon, float), np.asarray(lat, float), np.asarray(h, float))
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1)


def _llh(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lon, lat, h = _TO_LLH.transform(xyz[..., 0], xyz[..., 1], xyz[..., 2])
    return np.asarray(lat), np.asarray(lon), np.asarray(h)


def _t64(text: str) -> np.datetime64:
    return np.datetime64(text.strip(), "ns")


def _floats(el: ET.Element | None) -> np.ndarray:
    if el is None or el.text is None:
        return np.empty(0)
    return np.array(el.text.split(), dtype=np.float64)


# -- the annotation, as this module needs it --------------------------------------------------


@dataclass(frozen=True)
class StateVectors:
    """Orbit state vectors (s since the annotation's reference time), cubic Hermite between."""

    seconds: np.ndarray
    position: np.ndarray  # (n, 3)
    velocity: np.ndarray

    def __call__(self, s) -> tuple[np.ndarray, np.ndarray]:
        """(position, velocity) at times ``s`` (any shape), (..., 3) each."""
        s = np.asarray(s, dtype=np.float64)
        k = np.clip(np.searchsorted(self.seconds, s) - 1, 0, self.seconds.size - 2)
        h = (self.seconds[k + 1] - self.seconds[k])[..., None]
        x = ((s - self.seconds[k]) / (self.seconds[k + 1] - self.seconds[k]))[..., None]
        p0, p1 = self.position[k], self.position[k + 1]
        v0, v1 = self.velocity[k] * h, self.velocity[k + 1] * h
        x2, x3 = x * x, x * x * x
        pos = (2 * x3 - 3 * x2 + 1) * p0 + (x3 - 2 * x2 + x) * v0 + (-2 * x3 + 3 * x2) * p1 \
            + (x3 - x2) * v1
        vel = ((6 * x2 - 6 * x) * p0 + (3 * x2 - 4 * x + 1) * v0 + (-6 * x2 + 6 * x) * p1
               + (3 * x2 - 2 * x) * v1) / h
        return pos, vel


@dataclass(frozen=True)
class ProductAnnotation:
    """What the repaint reads from one annotation file (times in s since ``reference``)."""

    path: Path
    lines: int
    samples: int
    reference: np.datetime64  # the first line's time
    azimuth_time_interval: float
    range_pixel_spacing: float
    azimuth_pixel_spacing: float
    grid_lines: np.ndarray  # (nl,)
    grid_pixels: np.ndarray  # (np,)
    grid_seconds: np.ndarray  # (nl, np) azimuthTime (zero-Doppler)
    grid_srt: np.ndarray  # slantRangeTime (two-way, s)
    grid_lat: np.ndarray
    grid_lon: np.ndarray
    grid_height: np.ndarray
    orbit: StateVectors
    cc_seconds: np.ndarray  # coordinate conversion records
    cc_sr0: np.ndarray
    cc_srgr: list[np.ndarray]
    cc_gr0: np.ndarray
    cc_grsr: list[np.ndarray]

    @classmethod
    def read(cls, path: str | os.PathLike) -> ProductAnnotation:
        root = ET.parse(path).getroot()
        info = root.find("imageAnnotation/imageInformation")
        first = _t64(info.findtext("productFirstLineUtcTime"))

        def sec(text: str) -> float:
            return float((_t64(text) - first) / np.timedelta64(1, "ns")) * 1e-9

        points = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
        line = np.array([int(p.findtext("line")) for p in points])
        pixel = np.array([int(p.findtext("pixel")) for p in points])
        lines, pixels = np.unique(line), np.unique(pixel)
        if lines.size * pixels.size != len(points):
            raise ValueError(f"{path}: the geolocation grid is not a full lattice")
        order = np.lexsort((pixel, line))
        shape = (lines.size, pixels.size)

        def column(tag: str, convert=float) -> np.ndarray:
            return np.array([convert(points[k].findtext(tag)) for k in order]).reshape(shape)

        orbits = root.findall("generalAnnotation/orbitList/orbit")
        sv = StateVectors(
            np.array([sec(o.findtext("time")) for o in orbits]),
            np.array([[float(o.findtext(f"position/{c}")) for c in "xyz"] for o in orbits]),
            np.array([[float(o.findtext(f"velocity/{c}")) for c in "xyz"] for o in orbits]),
        )
        ccs = root.findall("coordinateConversion/coordinateConversionList/coordinateConversion")
        return cls(
            path=Path(path), lines=int(info.findtext("numberOfLines")),
            samples=int(info.findtext("numberOfSamples")), reference=first,
            azimuth_time_interval=float(info.findtext("azimuthTimeInterval")),
            range_pixel_spacing=float(info.findtext("rangePixelSpacing")),
            azimuth_pixel_spacing=float(info.findtext("azimuthPixelSpacing")),
            grid_lines=lines.astype(np.float64), grid_pixels=pixels.astype(np.float64),
            grid_seconds=column("azimuthTime", sec), grid_srt=column("slantRangeTime"),
            grid_lat=column("latitude"), grid_lon=column("longitude"),
            grid_height=column("height"), orbit=sv,
            cc_seconds=np.array([sec(c.findtext("azimuthTime")) for c in ccs]),
            cc_sr0=np.array([float(c.findtext("sr0")) for c in ccs]),
            cc_srgr=[_floats(c.find("srgrCoefficients")) for c in ccs],
            cc_gr0=np.array([float(c.findtext("gr0")) for c in ccs]),
            cc_grsr=[_floats(c.find("grsrCoefficients")) for c in ccs],
        )

    # -- annotation geometry (ESA's definitions) ------------------------------------------------

    def record(self, line_seconds) -> np.ndarray:
        """Index of the coordinate conversion record nearest to line times (ties: earlier)."""
        s = np.asarray(line_seconds, dtype=np.float64)
        if self.cc_seconds.size == 1:
            return np.zeros(s.shape, dtype=np.int64)
        right = np.clip(np.searchsorted(self.cc_seconds, s), 1, self.cc_seconds.size - 1)
        left = right - 1
        return np.where(s - self.cc_seconds[left] <= self.cc_seconds[right] - s, left, right)

    def slant_to_pixel(self, line_seconds, slant) -> np.ndarray:
        """GRD pixel of slant ranges (m) on lines of the given times."""
        line_seconds, slant = np.broadcast_arrays(np.asarray(line_seconds, float),
                                                  np.asarray(slant, float))
        k = self.record(line_seconds)
        out = np.empty(slant.shape)
        for r in np.unique(k):
            here = k == r
            out[here] = np.polynomial.polynomial.polyval(slant[here] - self.cc_sr0[r],
                                                         self.cc_srgr[r])
        return out / self.range_pixel_spacing

    def pixel_to_slant(self, line_seconds, pixel) -> np.ndarray:
        """Slant range (m) of GRD pixels on lines of the given times."""
        line_seconds, pixel = np.broadcast_arrays(np.asarray(line_seconds, float),
                                                  np.asarray(pixel, float))
        k = self.record(line_seconds)
        out = np.empty(pixel.shape)
        for r in np.unique(k):
            here = k == r
            out[here] = np.polynomial.polynomial.polyval(
                pixel[here] * self.range_pixel_spacing - self.cc_gr0[r], self.cc_grsr[r])
        return out

    def line_seconds(self, line) -> np.ndarray:
        return np.asarray(line, dtype=np.float64) * self.azimuth_time_interval

    @cached_property
    def bistatic_fit(self) -> tuple[float, float]:
        """(a, b) of azimuthTime − line time = a + b × slantRangeTime, fitted on the grid:
        the IPF's bistatic convention as its own grid shows it (b ≈ 1/2)."""
        delay = self.grid_seconds - self.line_seconds(self.grid_lines)[:, None]
        b, a = np.polyfit(self.grid_srt.ravel(), delay.ravel(), 1)
        return float(a), float(b)


# -- interpolation ---------------------------------------------------------------------------


def _lagrange(nodes: np.ndarray, x: np.ndarray, order: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(first node index (n,), weights (n, k)) of piecewise Lagrange interpolation of degree
    k − 1 (k = min(order, nodes)) on the ``k`` nodes around each x."""
    k = min(order, nodes.size)
    i = np.searchsorted(nodes, x) - k // 2
    i0 = np.clip(i, 0, nodes.size - k)
    xs = nodes[i0[:, None] + np.arange(k)]  # (n, k)
    w = np.ones((x.size, k))
    for a in range(k):
        for b in range(k):
            if a != b:
                w[:, a] *= (x - xs[:, b]) / (xs[:, a] - xs[:, b])
    return i0, w


@dataclass(frozen=True)
class GridInterpolator:
    """Piecewise bicubic (Lagrange, 4 x 4 nodes) interpolation of lattice values at (u, v).

    ``u`` and ``v`` are the node lines and pixels, used as interpolation coordinates only.
    """

    u_nodes: np.ndarray
    v_nodes: np.ndarray
    order: int = 4

    def __call__(self, values: np.ndarray | list[np.ndarray], u, v) -> list[np.ndarray]:
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        shape = u.shape
        iu, wu = _lagrange(self.u_nodes, u.ravel(), self.order)
        iv, wv = _lagrange(self.v_nodes, v.ravel(), self.order)
        ku, kv = wu.shape[1], wv.shape[1]
        arrays = values if isinstance(values, list) else [values]
        out = []
        for table in arrays:
            acc = np.zeros(u.size)
            for a in range(ku):
                rows = table[iu + a]  # (n, nv)
                inner = np.zeros(u.size)
                for b in range(kv):
                    inner += wv[:, b] * rows[np.arange(u.size), iv + b]
                acc += wu[:, a] * inner
            out.append(acc.reshape(shape))
        return out


def _solve2(f, target: tuple[np.ndarray, np.ndarray], start: tuple[np.ndarray, np.ndarray],
            scale: tuple[float, float], iterations: int = 30, tol: float = 1e-7
            ) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) with f(u, v) = target (two arrays), by Newton with finite-difference Jacobians;
    ``scale``: the finite-difference steps."""
    u, v = (np.array(s, dtype=np.float64) for s in start)
    ya, yb = target
    du, dv = scale
    for _ in range(iterations):
        fa, fb = f(u, v)
        ra, rb = ya - fa, yb - fb
        a1, b1 = f(u + du, v)
        a2, b2 = f(u, v + dv)
        j11, j21 = (a1 - fa) / du, (b1 - fb) / du
        j12, j22 = (a2 - fa) / dv, (b2 - fb) / dv
        det = j11 * j22 - j12 * j21
        su = (j22 * ra - j12 * rb) / det
        sv = (-j21 * ra + j11 * rb) / det
        u, v = u + su, v + sv
        if np.all(np.abs(su) < tol * du) and np.all(np.abs(sv) < tol * dv):
            break
    return u, v


# -- the locator -------------------------------------------------------------------------------


class EsaGridLocator:
    """(line, pixel) of ground points, and ground points of pixels, from ESA's grid.

    ``reference_height``: the height (m above the ellipsoid) the grid points are moved to
    before interpolation.
    """

    def __init__(self, annotation: ProductAnnotation | str | os.PathLike,
                 reference_height: float = 0.0) -> None:
        if not isinstance(annotation, ProductAnnotation):
            annotation = ProductAnnotation.read(annotation)
        self.ann = a = annotation
        self.reference_height = float(reference_height)
        self.interp = GridInterpolator(a.grid_lines, a.grid_pixels)
        self.lon0 = float(np.median(a.grid_lon))
        nodes = _ecef(a.grid_lat, a.grid_lon, a.grid_height)
        moved = self.transport(nodes, a.grid_seconds, np.full(a.grid_lat.shape, reference_height))
        lat, lon, _ = _llh(moved)
        self.lat_ref = lat
        self.lon_ref = self._unwrap(lon)
        self.slant = a.grid_srt * SPEED_OF_LIGHT / 2.0

    def _unwrap(self, lon) -> np.ndarray:
        return (np.asarray(lon) - self.lon0 + 180.0) % 360.0 - 180.0 + self.lon0

    # -- moving points along their iso-range-Doppler circles -----------------------------------

    def zero_doppler(self, xyz: np.ndarray, guess) -> np.ndarray:
        """Zero-Doppler time (s) of ECEF points: Newton on (P − S)·V with the state vectors."""
        t = np.array(guess, dtype=np.float64)
        for _ in range(20):
            s, v = self.ann.orbit(t)
            f = np.sum((xyz - s) * v, axis=-1)
            s2, v2 = self.ann.orbit(t + 1e-3)
            df = (np.sum((xyz - s2) * v2, axis=-1) - f) / 1e-3
            step = f / df
            t = t - step
            if np.all(np.abs(step) < 1e-9):
                break
        return t

    def transport(self, xyz: np.ndarray, seconds, height) -> np.ndarray:
        """Points (ECEF) moved to ``height`` on the circle through each of them, centred on the
        satellite's track at ``seconds``, in the plane normal to its velocity."""
        xyz = np.asarray(xyz, dtype=np.float64)
        s, v = self.ann.orbit(seconds)
        vhat = v / np.linalg.norm(v, axis=-1, keepdims=True)
        centre = s + np.sum((xyz - s) * vhat, axis=-1, keepdims=True) * vhat
        radius = np.linalg.norm(xyz - centre, axis=-1, keepdims=True)
        e1 = (xyz - centre) / radius
        e2 = np.cross(vhat, e1)
        target = np.asarray(height, dtype=np.float64)

        def at(phi):
            return centre + radius * (np.cos(phi)[..., None] * e1 + np.sin(phi)[..., None] * e2)

        phi = np.zeros(xyz.shape[:-1])
        for _ in range(12):
            _, _, h = _llh(at(phi))
            _, _, h2 = _llh(at(phi + 1e-6))
            step = (target - h) / ((h2 - h) / 1e-6)
            phi = phi + step
            if np.all(np.abs(step * radius[..., 0]) < 1e-5):
                break
        return at(phi)

    # -- ground -> image -----------------------------------------------------------------------

    def radar_times(self, lat, lon, height) -> tuple[np.ndarray, np.ndarray]:
        """(zero-Doppler time (s since the first line), slant range (m)) of ground points."""
        lat, lon, height = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float),
                                               np.asarray(height, float))
        shape = lat.shape
        lat, lon, height = lat.ravel(), lon.ravel(), height.ravel()
        xyz = _ecef(lat, lon, height)
        u0, v0 = self._nearest_node(lat, lon)
        t0 = self.interp(self.ann.grid_seconds, u0, v0)[0]
        t = self.zero_doppler(xyz, t0)
        moved = self.transport(xyz, t, np.full(lat.shape, self.reference_height))
        la, lo, _ = _llh(moved)
        u, v = self._invert_latlon(la, self._unwrap(lo), u0, v0)
        seconds, slant = self.interp([self.ann.grid_seconds, self.slant], u, v)
        return seconds.reshape(shape), slant.reshape(shape)

    def ground_to_image(self, lat, lon, height) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (line, pixel) of ground points (degrees, metres above the ellipsoid)."""
        seconds, slant = self.radar_times(lat, lon, height)
        a, b = self.ann.bistatic_fit
        line_s = seconds - (a + b * 2.0 * slant / SPEED_OF_LIGHT)
        line = line_s / self.ann.azimuth_time_interval
        return line, self.ann.slant_to_pixel(line_s, slant)

    def _nearest_node(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        lon = self._unwrap(lon)
        d = (self.lat_ref.ravel()[None, :] - lat[:, None]) ** 2 + (
            (self.lon_ref.ravel()[None, :] - lon[:, None]) * np.cos(np.radians(lat[:, None]))) ** 2
        k = np.argmin(d, axis=1)
        i, j = np.unravel_index(k, self.lat_ref.shape)
        return self.ann.grid_lines[i], self.ann.grid_pixels[j]

    def _invert_latlon(self, lat, lon, u0, v0) -> tuple[np.ndarray, np.ndarray]:
        def f(u, v):
            la, lo = self.interp([self.lat_ref, self.lon_ref], u, v)
            return la, lo

        return _solve2(f, (lat, lon), (u0, v0), (1.0, 1.0))

    # -- image -> ground -----------------------------------------------------------------------

    def image_to_ground(self, line, pixel, surface=None, iterations: int = 30
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, height) of image coordinates: at the reference height, or on ``surface``
        (a function (lat, lon) -> metres above the ellipsoid; found by secant steps in height,
        as far as slopes facing the radar stay below the incidence)."""
        line, pixel = np.broadcast_arrays(np.asarray(line, float), np.asarray(pixel, float))
        shape = line.shape
        line, pixel = line.ravel(), pixel.ravel()
        line_s = self.ann.line_seconds(line)
        slant = self.ann.pixel_to_slant(line_s, pixel)
        a, b = self.ann.bistatic_fit
        seconds = line_s + a + b * 2.0 * slant / SPEED_OF_LIGHT

        def f(u, v):
            return tuple(self.interp([self.ann.grid_seconds, self.slant], u, v))

        # Start at the image coordinates themselves (grid nodes are (line, pixel)).
        u, v = _solve2(f, (seconds, slant), (line, pixel),
                       (1.0, 1.0), iterations=10, tol=1e-6)
        lat, lon = self.interp([self.lat_ref, self.lon_ref], u, v)
        height = np.full(lat.shape, self.reference_height)
        if surface is not None:
            xyz = _ecef(lat, lon, height)

            def misfit(la, lo, h):
                return np.asarray(surface(la, (lo + 180.0) % 360.0 - 180.0), np.float64) - h

            h_a, g_a = height, misfit(lat, lon, height)
            h_b = h_a + g_a
            for _ in range(iterations):
                lat, lon, height = _llh(self.transport(xyz, seconds, h_b))
                g_b = misfit(lat, lon, height)
                if np.all(np.abs(g_b) < 1e-4):
                    break
                dg = g_b - g_a
                secant = -g_b * (h_b - h_a) / np.where(np.abs(dg) > 1e-12, dg, 1.0)
                secant = np.where(np.abs(dg) > 1e-12, secant, g_b)
                step = np.where(np.abs(secant) <= 4.0 * np.abs(g_b) + 1.0, secant, 0.5 * g_b)
                h_a, g_a, h_b = height, g_b, height + step
        lon = (np.asarray(lon) + 180.0) % 360.0 - 180.0
        return lat.reshape(shape), lon.reshape(shape), np.asarray(height).reshape(shape)


def annotation_paths(safe_dir: str | os.PathLike) -> dict[str, Path]:
    """Polarisation -> annotation file of the GRD measurements present in a SAFE folder."""
    safe = Path(safe_dir)
    out = {}
    for tiff in sorted((safe / "measurement").glob("*.tiff")):
        xml = safe / "annotation" / (tiff.stem + ".xml")
        if xml.is_file():
            out[tiff.stem.split("-")[3].upper()] = xml
    return out
