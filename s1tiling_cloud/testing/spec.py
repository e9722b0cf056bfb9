"""What a synthetic GRD product is: the user's request, and the names ESA would give it.

The spec is plain data (a frozen dataclass) so that a product is a pure function of it: the same
spec always writes byte-identical files (the processing time is derived from the start time, the
noise is a counter-based random stream keyed by ``seed``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..outputs.names import ORBITS_PER_CYCLE, PLATFORMS, orbit_offset
from ..outputs.names import relative_orbit as relative_orbit_of
from .targets import Target
from .terrain import DemLike

#: ESA's polarisation codes in product names (after "1S", level 1 standard), by sorted set.
_POLARISATION_CODES = {
    ("VV",): "SV",
    ("HH",): "SH",
    ("VH", "VV"): "DV",
    ("HH", "HV"): "DH",
}
#: Image numbers in file names: co-pol first (GRD: vv/hh 001, vh/hv 002), as in the fixtures.
_IMAGE_NUMBERS = {"VV": 1, "HH": 1, "VH": 2, "HV": 2}

#: A σ° field: a constant (dB) or f(lat, lon) -> σ° in dB (arrays), or one per polarisation.
Field = float | Callable[[np.ndarray, np.ndarray], np.ndarray]
Sigma0 = Field | Mapping[str, Field]


@dataclass(frozen=True)
class SyntheticGRD:
    """A Sentinel-1 IW GRD product to synthesise: place, size, mission facts and scene truth.

    - ``center_lat``/``center_lon``: the ground point seen at the centre pixel (mid-swath, mid
      time) at ``terrain_height`` metres above the ellipsoid, with the ellipsoid incidence angle
      ``incidence_mid`` (IW's mid-swath is ~38.9 degrees).
    - ``lines`` x ``samples`` at ``pixel_spacing`` metres (10: GRDH "HR", 40: GRDM "MR");
      ``start`` is the first line's time (UTC); ``full_size()`` gives a real product's size.
    - ``platform``, ``orbit_direction``, ``absolute_orbit`` (the relative orbit follows ESA's
      rule), ``ipf_version`` (< 2.90: old noise layout and noisy instead of zeroed borders),
      ``datatake_id`` (derived when None), ``slice_number``/``total_slices``, ``timeliness``.
    - Truth: ``sigma0_db`` -- a constant, or a callable ``f(lat_deg, lon_deg) -> dB`` evaluated
      on the product's own geometry, or a mapping polarisation -> either; ``looks`` (gamma
      speckle), ``nesz_db`` (mean thermal noise level), ``beta_nought`` (the constant A_beta of
      the calibration LUT, which sets the DN scale), ``seed``.
    - ``margin_lines`` (first, last) and ``margin_samples`` (near, far): the IPF's no-data
      borders; ``None`` picks a size-dependent default. ``margin_lines=(1700, 0)`` makes a
      data-take start, whose 100th line S1Tiling's azimuth cut detects.
    - ``processing_delay_s``: processing time after the last line (TIFF and manifest dates).
    - Terrain: ``dem`` -- heights over the geoid as a function ``h(lat, lon)``, a constant, or
      the path of a raster or of a folder of SRTM ``.hgt`` tiles (see ``terrain``); the
      geolocation grid and the scene then lie on the DEM + geoid (``geoid``: a geoid file,
      EGM96 by default) instead of the ellipsoid raised by ``terrain_height``, which stays
      the reference height of the ground-range projection (ESA's mean terrain height).
    - ``targets``: bright point targets (`Target`) rendered at their exact (line, pixel).
    - ``speckle=False``: the intensity is its mean (no gamma speckle); ``noise=False``: no
      thermal noise in the image, and noise LUTs of zeros (the product says so). A noise-free
      scene's σ° is exact up to the uint16 rounding of its DN (at most 4.3 / DN dB per pixel:
      ~0.06 dB at the default ``beta_nought`` and σ° -12 dB, 0.006 dB with ``beta_nought``
      2370).
    """

    center_lat: float
    center_lon: float
    lines: int = 800
    samples: int = 1200
    polarisations: tuple[str, ...] = ("VV", "VH")
    platform: str = "S1A"
    orbit_direction: str = "DESCENDING"
    start: str = "2020-01-08T04:41:50"
    absolute_orbit: int = 30704
    ipf_version: str = "003.20"
    pixel_spacing: float = 10.0
    sigma0_db: Sigma0 = -12.0
    looks: float = 4.4
    seed: int = 0
    incidence_mid: float = 38.9
    terrain_height: float = 0.0
    beta_nought: float = 237.0
    nesz_db: float = -24.0
    margin_lines: tuple[int, int] | None = None
    margin_samples: tuple[int, int] | None = None
    datatake_id: int | None = None
    slice_number: int = 3
    total_slices: int = 6
    timeliness: str = "Fast-24h"
    processing_delay_s: float = 2400.0
    dem: DemLike | None = None
    geoid: str | os.PathLike | None = None
    targets: Sequence[Target] = ()
    speckle: bool = True
    noise: bool = True

    def __post_init__(self) -> None:
        targets = tuple(self.targets)
        if not all(isinstance(t, Target) for t in targets):
            raise TypeError("targets must be Target instances")
        object.__setattr__(self, "targets", targets)
        pols = tuple(p.upper() for p in self.polarisations)
        object.__setattr__(self, "polarisations", pols)
        object.__setattr__(self, "platform", self.platform.upper())
        object.__setattr__(self, "orbit_direction", self.orbit_direction.upper())
        if tuple(sorted(pols)) not in _POLARISATION_CODES:
            raise ValueError(f"unsupported polarisations {pols}: one of VV, HH, VV+VH, HH+HV")
        if self.platform not in PLATFORMS:
            raise ValueError(f"unsupported platform {self.platform!r}: one of {', '.join(PLATFORMS)}")
        if self.orbit_direction not in ("ASCENDING", "DESCENDING"):
            raise ValueError(f"orbit_direction must be ASCENDING or DESCENDING, not {self.orbit_direction!r}")
        if self.lines < 16 or self.samples < 16:
            raise ValueError("a product needs at least 16 lines and 16 samples")
        if self.looks < 1.0:
            raise ValueError("looks must be >= 1 (a GRD is multi-looked)")
        if not 20.0 <= self.incidence_mid <= 50.0:
            raise ValueError("incidence_mid must be within IW's 20-50 degrees")

    @classmethod
    def full_size(cls, center_lat: float, center_lon: float, **kwargs) -> SyntheticGRD:
        """A product of a real IW GRD HR's size (16,700 lines x 25,000 samples, ~250 km)."""
        kwargs.setdefault("lines", 16_700)
        kwargs.setdefault("samples", 25_000)
        return cls(center_lat, center_lon, **kwargs)

    def replace(self, **changes) -> SyntheticGRD:
        """A copy with some fields changed (dataclasses.replace, as a method)."""
        return replace(self, **changes)

    # --- mission facts -------------------------------------------------------------------
    @property
    def start_time(self) -> np.datetime64:
        """First line's zero-Doppler time, UTC, on a whole microsecond (ESA's time resolution)."""
        return np.datetime64(self.start, "us").astype("datetime64[ns]")

    @property
    def mission_id(self) -> str:
        return self.platform

    @property
    def unit(self) -> str:
        """The platform letter: 'A' to 'D'."""
        return self.platform[-1]

    @property
    def relative_orbit(self) -> int:
        return relative_orbit_of(self.platform, self.absolute_orbit)

    @property
    def cycle_number(self) -> int:
        return ((self.absolute_orbit - orbit_offset(self.platform, self.absolute_orbit))
                // ORBITS_PER_CYCLE + 1)

    @property
    def mission_datatake_id(self) -> int:
        """Datatake id: given, or a plausible one (S1 datatakes grow ~7.5 per orbit)."""
        if self.datatake_id is not None:
            return int(self.datatake_id)
        return int(round(self.absolute_orbit * 7.5125)) & 0xFFFFFF

    @property
    def ipf(self) -> tuple[int, int]:
        """IPF version as (major, minor): '003.20' -> (3, 20), '2.84' -> (2, 84)."""
        major, minor = self.ipf_version.split(".")
        return int(major), int(minor)

    @property
    def new_noise_layout(self) -> bool:
        """IPF >= 2.90 writes range and azimuth noise vectors (and zeroes the borders)."""
        return self.ipf >= (2, 90)

    @property
    def resolution_class(self) -> str:
        """'H' (high, 10 m) or 'M' (medium, 40 m): the letter after GRD in the product name."""
        return "H" if self.pixel_spacing < 25.0 else "M"

    @property
    def polarisation_code(self) -> str:
        """'1SDV', '1SSV', '1SDH', '1SSH'."""
        return "1S" + _POLARISATION_CODES[tuple(sorted(self.polarisations))]

    def image_number(self, pol: str) -> int:
        return _IMAGE_NUMBERS[pol.upper()]

    def sigma0_for(self, pol: str) -> float | Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """The σ° truth of one polarisation: a constant in dB or a callable of (lat, lon)."""
        s = self.sigma0_db
        if isinstance(s, Mapping):
            s = s[pol.upper()]
        if callable(s):
            return s
        return float(s)

    @property
    def tiff_description(self) -> str:
        """TIFFTAG_IMAGEDESCRIPTION as ESA writes it (OTB keys on its 'Sentinel-1' prefix)."""
        res = "HR" if self.resolution_class == "H" else "MR"
        return f"Sentinel-1{self.unit} IW GRD {res} L1"

    @property
    def tiff_software(self) -> str:
        """TIFFTAG_SOFTWARE as ESA writes it (S1Tiling reads the IPF version from it)."""
        return f"Sentinel-1 IPF {self.ipf_version}"


def _compact(t: np.datetime64) -> str:
    """'2020-01-08T04:41:50...' -> '20200108T044150' (seconds truncated, as ESA names do)."""
    s = np.datetime_as_string(np.datetime64(t, "s"), unit="s")
    return s.replace("-", "").replace(":", "")


@dataclass(frozen=True)
class ProductNames:
    """ESA names of a product and of its files, from the spec and the real first/last times."""

    spec: SyntheticGRD
    first_line: np.datetime64
    last_line: np.datetime64

    @property
    def base(self) -> str:
        """The product name before its unique identifier."""
        s = self.spec
        return (
            f"{s.mission_id}_IW_GRD{s.resolution_class}_{s.polarisation_code}_"
            f"{_compact(self.first_line)}_{_compact(self.last_line)}_"
            f"{s.absolute_orbit:06d}_{s.mission_datatake_id:06X}"
        )

    def product_stem(self, crc: str) -> str:
        """``S1A_IW_GRDH_1SDV_{start}_{stop}_{abs:06d}_{datatake:06X}_{crc}``."""
        return f"{self.base}_{crc}"

    def file_stem(self, pol: str) -> str:
        """``s1a-iw-grd-vv-20200108t044150-20200108t044215-030704-038506-001``."""
        s = self.spec
        return (
            f"{s.mission_id.lower()}-iw-grd-{pol.lower()}-{_compact(self.first_line).lower()}-"
            f"{_compact(self.last_line).lower()}-{s.absolute_orbit:06d}-"
            f"{s.mission_datatake_id:06x}-{s.image_number(pol):03d}"
        )

    def annotation(self, pol: str) -> str:
        return f"annotation/{self.file_stem(pol)}.xml"

    def calibration(self, pol: str) -> str:
        return f"annotation/calibration/calibration-{self.file_stem(pol)}.xml"

    def noise(self, pol: str) -> str:
        return f"annotation/calibration/noise-{self.file_stem(pol)}.xml"

    def measurement(self, pol: str) -> str:
        return f"measurement/{self.file_stem(pol)}.tiff"
