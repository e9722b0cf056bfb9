"""The demo's scene: a landscape a radar would see over tile 31TCJ, with its truth.

Land cover gives each place a σ° per polarisation at the scene's reference incidence (dB):

============ ======= ======= ===========================================================
class          VV      VH     where
============ ======= ======= ===========================================================
water         -22     -29    a meandering river, two lakes (flat ground)
field        -10±2   -18±2   rotated parcels, one σ° offset per parcel
forest        -7.5   -14.5   smooth patches, the southern ridges' crests, the massif
urban          +1     -11    a town of bright blocks (streets between them: -14 / -22)
============ ======= ======= ===========================================================

Relief (`DemoScene.height`, metres over the geoid; the demo writes it as its SRTM tiles) is a
plain with rolling hills, a chain of ridges in the south and one steep massif whose east face
(towards the radar of a descending pass) is steeper than the incidence and whose west face is
steeper than its complement: layover and shadow.

Terrain effects follow a facet model on the DEM's 3" grid, with the real look vector of the
product's orbit: a facet of local incidence θ_loc in the plane of incidence, for an ellipsoid
incidence θ_E, brightens by ``cos θ_loc · sin θ_E / (sin θ_r · cos θ_E)`` (θ_r: the angle in
the range plane). Fore-slopes brighten, back-slopes darken; where θ_r ≤ 0 (layover) the pixel
takes the capped brightening, where θ_r ≥ 90° (shadow) it falls to -30 dB, below the thermal
noise. The field is a truth per (lat, lon), which `SceneSynthesizer` evaluates on each radar
pixel's ground position: the classes and factors (`classes`, `terrain_db`) are what tests
compare the orthorectified products with. Point targets (big corner reflectors, +45 dB m²) sit in
fields at `targets`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy.ndimage import map_coordinates

from ..geo.ellipsoid import geodetic_to_ecef
from ..geo.range_doppler import zero_doppler
from .product_geometry import compute_geometry
from .spec import SyntheticGRD
from .targets import Target

WATER, FIELD, FOREST, URBAN, STREET = 0, 1, 2, 3, 4
#: σ° (dB) per class and polarisation, at the reference incidence.
SIGMA0_DB = {"VV": np.array([-22.0, -10.0, -7.5, 1.0, -14.0], np.float32),
             "VH": np.array([-29.0, -18.0, -14.5, -11.0, -22.0], np.float32)}
#: Half-range (dB) of the per-parcel offset of fields.
FIELD_SPREAD_DB = 2.0
#: σ° (dB) of radar shadow, and the cap (dB) of the terrain brightening (layover).
SHADOW_DB, LAYOVER_DB = -30.0, 8.0
#: Step of the terrain grid (degrees): SRTM3's, the demo DEM's resolution.
TERRAIN_STEP = 1.0 / 1200
_KM_LAT = 111.2  # km per degree of latitude


@dataclass(frozen=True)
class DemoScene:
    """The landscape around `center` (lat, lon), in km east/north of it."""

    center_lat: float
    center_lon: float
    river_width_km: float = 0.6
    lakes: tuple[tuple[float, float, float], ...] = ((-12.0, 10.0, 3.0), (22.0, -14.0, 2.2))
    town: tuple[float, float, float] = (4.0, 5.0, 6.0)  # x, y, radius (km)
    #: Corner reflectors (x, y km), in fields of the plain.
    reflectors: tuple[tuple[float, float], ...] = (
        (-3.0, -2.5), (5.0, -6.5), (-9.0, 3.5), (10.0, 12.0), (-16.0, -9.0), (18.0, 2.0),
        (-6.0, 6.0), (28.0, -26.0))
    massif: tuple[float, float, float, float] = (12.0, -30.0, 1.2, 1700.0)  # x, y, radius, height
    _cache: dict = field(default_factory=dict, compare=False, repr=False)
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    # ---- coordinates ---------------------------------------------------------------------
    def km(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """(x east, y north) in km from the centre (local equirectangular)."""
        lat, lon = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
        x = (lon - self.center_lon) * _KM_LAT * math.cos(math.radians(self.center_lat))
        return x, (lat - self.center_lat) * _KM_LAT

    def latlon(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """The inverse of `km`."""
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        lon = self.center_lon + x / (_KM_LAT * math.cos(math.radians(self.center_lat)))
        return self.center_lat + y / _KM_LAT, lon

    # ---- truth (numba kernels below; arrays of any shape in, same shape out) ---------------
    def _params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.asarray(self.lakes, np.float64).reshape(-1, 3),
                np.asarray(self.town, np.float64), np.asarray(self.massif, np.float64))

    def height(self, lat, lon) -> np.ndarray:
        """Heights over the geoid (m): the plain at 150 m, hills, southern ridges, the massif."""
        x, y = self.km(lat, lon)
        lakes, _, massif = self._params()
        out = np.empty(x.size)
        _height_kernel(x.ravel(), y.ravel(), lakes, massif, out)
        return out.reshape(x.shape)

    def classes(self, lat, lon) -> np.ndarray:
        """Land-cover class (uint8) at each point: WATER, FIELD, FOREST, URBAN or STREET."""
        return self._land(lat, lon, ("VV",))[0]

    def land_db(self, lat, lon, pol: str) -> np.ndarray:
        """σ° (dB) of the land cover at the reference incidence, fields offset per parcel."""
        return self._land(lat, lon, (pol,))[1][0]

    def _land(self, lat, lon, pols, terrain=None) -> tuple[np.ndarray, np.ndarray]:
        """(classes, σ° dB per polarisation of `pols`: shape (len(pols), *lat.shape))."""
        x, y = self.km(lat, lon)
        lakes, town, massif = self._params()
        cls = np.empty(x.size, np.uint8)
        db = np.empty((len(pols), x.size), np.float32)
        table = np.stack([SIGMA0_DB[p.upper()] for p in pols])
        grid, lat0, lon0 = (np.zeros((2, 2), np.float32), 0.0, 0.0) if terrain is None else terrain
        lat_f = np.asarray(lat, np.float64).ravel()
        lon_f = np.asarray(lon, np.float64).ravel()
        _land_kernel(x.ravel(), y.ravel(), lat_f, lon_f, lakes, town, massif,
                     self.river_width_km / 2, table, FIELD_SPREAD_DB,
                     grid, lat0, lon0, TERRAIN_STEP, terrain is not None, SHADOW_DB, cls, db)
        return cls.reshape(x.shape), db.reshape((len(pols), *x.shape))

    def targets(self) -> list[Target]:
        """The corner reflectors, on the surface (+45 dB m²: they stand out at 40 m too)."""
        return [Target(*(float(v) for v in self.latlon(x, y)), rcs_db=45.0)
                for x, y in self.reflectors]

    # ---- terrain -------------------------------------------------------------------------
    def terrain_grid(self, spec: SyntheticGRD):
        """(lat0, lon0, terrain dB on a TERRAIN_STEP grid from (lat0, lon0), shadow, layover)
        over the product of `spec` and a margin, for its orbit (computed once)."""
        key = (spec.center_lat, spec.center_lon, spec.lines, spec.samples, spec.pixel_spacing,
               spec.orbit_direction, spec.incidence_mid, spec.start)
        if key not in self._cache:
            self._cache.clear()
            self._cache[key] = _terrain_grid(self, spec, _bounds(spec))
        return self._cache[key]

    def terrain_db(self, spec: SyntheticGRD, lat, lon) -> np.ndarray:
        """The terrain's brightening (dB; 0 on flat ground) at (lat, lon) for `spec`'s orbit:
        > 0 on fore-slopes, < 0 on back-slopes, LAYOVER_DB in layover, very low in shadow."""
        lat0, lon0, terrain, _, _ = self.terrain_grid(spec)
        coords = np.stack([(np.ravel(lat) - lat0) / TERRAIN_STEP,
                           (np.ravel(lon) - lon0) / TERRAIN_STEP])
        return map_coordinates(terrain, coords, order=1, mode="nearest").reshape(np.shape(lat))

    def sigma0(self, spec: SyntheticGRD, pol: str):
        """The σ° field f(lat, lon) -> dB of one polarisation seen by `spec`'s orbit: land
        cover plus terrain, floored at the shadow's σ°.

        The synthesiser asks for one polarisation's blocks, then the other's, at the same
        points: the first call computes every polarisation of the spec and keeps the others'
        for their turn (the landscape is the costly part, the tables differ)."""
        pols = tuple(spec.polarisations)

        def field_db(lat, lon):
            key = (pol, *_fingerprint(lat, lon))
            kept = self._memo.pop(key, None)
            if kept is not None:
                return kept
            lat0, lon0, terrain, _, _ = self.terrain_grid(spec)
            db = self._land(lat, lon, pols, (terrain, lat0, lon0))[1]
            for other, values in zip(pols, db, strict=True):
                if other != pol:
                    self._memo[(other, *key[1:])] = values
            return db[pols.index(pol)]

        return field_db


def _fingerprint(lat, lon) -> tuple:
    """Enough of a block of points to know it again (shape, corners, centre)."""
    lat, lon = np.asarray(lat), np.asarray(lon)
    picks = (0, lat.size // 2, lat.size - 1)
    return (lat.shape, *(float(lat.flat[k]) for k in picks), *(float(lon.flat[k]) for k in picks))


def _bounds(spec: SyntheticGRD) -> tuple[float, float, float, float]:
    """(lon0, lat0, lon1, lat1) of the product's corners on the ellipsoid, plus a margin."""
    geo = compute_geometry(spec)
    lat, lon, _ = geo.ground(np.array([0, 0, spec.lines - 1, spec.lines - 1], float),
                             np.array([0, spec.samples - 1, 0, spec.samples - 1], float), 0.0)
    return (round(float(lon.min()) - 0.05, 3), round(float(lat.min()) - 0.05, 3),
            round(float(lon.max()) + 0.05, 3), round(float(lat.max()) + 0.05, 3))


def _terrain_grid(scene: DemoScene, spec: SyntheticGRD, bounds):
    """Facet model of the terrain factor (dB) on a regular lat/lon grid (module docstring)."""
    lon0, lat0, lon1, lat1 = bounds
    lats = lat0 + np.arange(int(math.ceil((lat1 - lat0) / TERRAIN_STEP)) + 1) * TERRAIN_STEP
    lons = lon0 + np.arange(int(math.ceil((lon1 - lon0) / TERRAIN_STEP)) + 1) * TERRAIN_STEP
    la, lo = np.meshgrid(lats, lons, indexing="ij")
    h = scene.height(la, lo)
    dy = TERRAIN_STEP * _KM_LAT * 1000.0
    dx = dy * np.cos(np.radians(la))
    dh_dn, dh_de = np.gradient(h, axis=0) / dy, np.gradient(h, axis=1) / dx
    normal = np.stack([-dh_de, -dh_dn, np.ones_like(h)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    look = _look_enu(spec, la, lo, h)
    cos_loc = np.sum(normal * look, axis=-1)
    theta_e = np.arccos(np.clip(look[..., 2], -1.0, 1.0))
    horizontal = look[..., :2] / np.linalg.norm(look[..., :2], axis=-1, keepdims=True)
    # A fore-slope faces the radar: the ground falls towards it.
    slope_to_radar = -np.arctan(dh_de * horizontal[..., 0] + dh_dn * horizontal[..., 1])
    theta_r = theta_e - slope_to_radar
    layover = theta_r <= math.radians(2.0)
    shadow = theta_r >= math.radians(89.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = (np.clip(cos_loc, 1e-3, None) * np.sin(theta_e)
                  / (np.sin(np.clip(theta_r, math.radians(2.0), None)) * np.cos(theta_e)))
        db = 10.0 * np.log10(factor)
    db = np.minimum(db, LAYOVER_DB)
    db[layover] = LAYOVER_DB
    db[shadow] = SHADOW_DB - float(SIGMA0_DB["VV"].max())  # far below any class: clipped
    return float(lats[0]), float(lons[0]), db.astype(np.float32), shadow, layover


def _look_enu(spec: SyntheticGRD, lat: np.ndarray, lon: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Unit vectors (east, north, up) from the ground to the satellite, solved exactly on a
    coarse grid and interpolated (they turn by ~1e-4 rad per km)."""
    geo = compute_geometry(spec)
    step = 24
    sub = (slice(None, None, step), slice(None, None, step))
    cla, clo = lat[sub], lon[sub]
    xyz = geodetic_to_ecef(cla, clo, h[sub] + 50.0)  # + the geoid, roughly: direction only
    seconds, _ = zero_doppler(geo.orbit, xyz.reshape(-1, 3))
    sat, _ = geo.orbit.interpolate(seconds)
    v = sat.reshape(xyz.shape) - xyz
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    phi, lam = np.radians(cla), np.radians(clo)
    east = np.stack([-np.sin(lam), np.cos(lam), np.zeros_like(lam)], axis=-1)
    north = np.stack([-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)], axis=-1)
    up = np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=-1)
    enu = np.stack([np.sum(v * east, -1), np.sum(v * north, -1), np.sum(v * up, -1)], axis=-1)
    rows = np.arange(lat.shape[0]) / step
    cols = np.arange(lat.shape[1]) / step
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    out = np.stack([map_coordinates(enu[..., k], [rr, cc], order=1, mode="nearest")
                    for k in range(3)], axis=-1)
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


# ---- kernels: the landscape, point by point ------------------------------------------------

@numba.njit(cache=True)
def _river_distance(x, y):  # pragma: no cover - numba
    """Distance (km) to the river, which meanders from north-west to south-east."""
    u, v = (x - y) / math.sqrt(2.0), (x + y) / math.sqrt(2.0)  # along, across
    centre = 2.5 * math.sin(u / 4.0) + 1.2 * math.sin(u / 1.7 + 1.0)
    return abs(v - centre) / math.sqrt(1.0 + (2.5 / 4.0 * math.cos(u / 4.0)) ** 2)


@numba.njit(cache=True)
def _clip01(v):  # pragma: no cover - numba
    return min(max(v, 0.0), 1.0)


@numba.njit(cache=True)
def _flat_weight(x, y, lakes):  # pragma: no cover - numba
    """0 on the river's flood plain and around the lakes, 1 away from them: hills rise outside."""
    w = _clip01((_river_distance(x, y) - 1.5) / 3.0)
    for k in range(lakes.shape[0]):
        w *= _clip01((math.hypot(x - lakes[k, 0], y - lakes[k, 1]) - lakes[k, 2] - 0.5) / 2.0)
    return w


@numba.njit(cache=True)
def _height(x, y, lakes, massif):  # pragma: no cover - numba
    hills = 320.0 * (math.sin(x / 2.0) * (0.7 + 0.3 * math.cos(y / 5.0)) + 1.0) \
        + 30.0 * math.sin((x + 2.0 * y) / 1.3)
    ridges = 1200.0 * _clip01((-y - 20.0) / 10.0) * (0.5 + 0.5 * math.sin(x / 1.6)) \
        * (0.75 + 0.25 * math.cos(y / 4.0))
    cone = massif[3] * _clip01(1.0 - math.hypot(x - massif[0], y - massif[1]) / massif[2])
    return 150.0 + _flat_weight(x, y, lakes) * (hills + ridges) + cone


@numba.njit(parallel=True, cache=True)
def _height_kernel(x, y, lakes, massif, out):  # pragma: no cover - numba
    for i in numba.prange(x.size):
        out[i] = _height(x[i], y[i], lakes, massif)


@numba.njit(cache=True)
def _class(x, y, lakes, town, massif, river_half):  # pragma: no cover - numba
    """WATER, URBAN/STREET (the town's blocks), FOREST (patches, steep hills) or FIELD."""
    if _river_distance(x, y) < river_half:
        return WATER
    for k in range(lakes.shape[0]):
        if math.hypot(x - lakes[k, 0], y - lakes[k, 1]) < lakes[k, 2]:
            return WATER
    if math.hypot(x - town[0], y - town[1]) < town[2]:
        a = math.radians(25.0)
        bu = (x - town[0]) * math.cos(a) + (y - town[1]) * math.sin(a)
        bv = (y - town[1]) * math.cos(a) - (x - town[0]) * math.sin(a)
        street = (bu % 0.5) < 0.08 or (bv % 0.4) < 0.07
        return STREET if street else URBAN
    patches = math.sin(x / 4.1 + 1.3) * math.sin(y / 3.3) + 0.6 * math.sin((x - 2 * y) / 5.9) \
        + 0.4 * math.sin((3 * x + y) / 2.3)
    ridge = _clip01((-y - 26.0) / 4.0) if math.sin(x / 1.6) > 0.3 else 0.0
    massif_here = math.hypot(x - massif[0], y - massif[1]) < massif[2]
    if patches > 0.85 or massif_here or _flat_weight(x, y, lakes) * ridge > 0.5:
        return FOREST
    return FIELD


@numba.njit(cache=True)
def _parcel_offset(x, y):  # pragma: no cover - numba
    """The σ° offset (-1..1) of the field parcel (2.4 × 1.6 km, rotated 17°) at (x, y)."""
    a = math.radians(17.0)
    pu = math.floor((x * math.cos(a) + y * math.sin(a)) / 2.4)
    pv = math.floor((y * math.cos(a) - x * math.sin(a)) / 1.6)
    h = math.sin(pu * 12.9898 + pv * 78.233) * 43758.5453
    return 2.0 * (h - math.floor(h)) - 1.0


@numba.njit(parallel=True, cache=True)
def _land_kernel(x, y, lat, lon, lakes, town, massif, river_half, table, spread, terrain, lat0,
                 lon0, step, with_terrain, floor_db, cls, db):  # pragma: no cover - numba
    """Class and σ° (dB) per point; with the terrain grid, its brightening (bilinear) added."""
    rows, cols = terrain.shape
    for i in numba.prange(x.size):
        c = _class(x[i], y[i], lakes, town, massif, river_half)
        extra = spread * _parcel_offset(x[i], y[i]) if c == FIELD else 0.0
        if with_terrain:
            r = min(max((lat[i] - lat0) / step, 0.0), rows - 1.000001)
            q = min(max((lon[i] - lon0) / step, 0.0), cols - 1.000001)
            r0, q0 = int(r), int(q)
            fr, fq = r - r0, q - q0
            extra += (terrain[r0, q0] * (1 - fr) * (1 - fq) + terrain[r0 + 1, q0] * fr * (1 - fq)
                      + terrain[r0, q0 + 1] * (1 - fr) * fq + terrain[r0 + 1, q0 + 1] * fr * fq)
        cls[i] = c
        for p in range(table.shape[0]):
            value = table[p, c] + extra
            db[p, i] = max(value, floor_db) if with_terrain else value


def demo_spec(scene: DemoScene, lines: int, samples: int, pixel_spacing: float = 20.0,
              **changes) -> SyntheticGRD:
    """The demo product: `scene` seen by a descending S1A pass centred on it, on its relief,
    with its reflectors and its σ° per polarisation."""
    spec = SyntheticGRD(center_lat=scene.center_lat, center_lon=scene.center_lon, lines=lines,
                        samples=samples, pixel_spacing=pixel_spacing, dem=scene.height,
                        targets=scene.targets(), **changes)
    return spec.replace(sigma0_db={pol: scene.sigma0(spec, pol) for pol in spec.polarisations})
