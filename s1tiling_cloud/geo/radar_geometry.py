"""Image (line, pixel) ↔ ground (lat, lon, height) for one measurement of a product.

Azimuth: zero-Doppler time on the interpolated orbit. GRD lines are regular in time from the
first line; TOPS SLC lines are regular within each burst, and a point in the overlap of two
bursts is placed in the burst where it lies farther from the edges (where its lines are
valid). Range: SLC pixels are regular in slant range time; GRD pixels are regular in ground
range, converted with the annotation's polynomials (the record nearest in time, as the IPF
does).

The IPF dates each line with the bistatic delay removed: a point of two-way time τ imaged at
zero-Doppler time t_zd lies on the line of time t_zd − (τ − τ_ref)/2, τ_ref the mid-swath
two-way time of the middle sub-swath (IW2, EW3) for TOPS SLC, of the image itself for GRD,
SM and WV. Ignoring it misplaces points by up to 0.2 line.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..safe import Sentinel1Product, srgr
from ..safe.annotation import SPEED_OF_LIGHT
from .ellipsoid import geodetic_to_ecef
from .orbit import Orbit
from .orbit_source import annotation_orbit
from .range_doppler import radar_to_ground, zero_doppler

if TYPE_CHECKING:
    from ..safe.group import Group

log = logging.getLogger(__name__)

MIDDLE_SWATH = {"IW": "IW2", "EW": "EW3"}
# Mid-swath two-way time of IW2 minus that of IW1: the IW beams are fixed in elevation, so this
# offset is stable (it reproduces τ_ref of an IW1-only product to 3e-7 s, 0.0001 line).
MID_SWATH_OFFSET = {"IW1": 3.394e-4}


@dataclass
class RadarGeometry:
    """The geometry of one image: orbit, timing and range conversion."""

    orbit: Orbit
    product_type: str  # "GRD" | "SLC"
    first_line_time: np.datetime64
    azimuth_time_interval: float
    slant_range_time: float  # two-way time of pixel 0 (SLC)
    range_sampling_rate: float
    range_pixel_spacing: float
    lines_per_burst: int
    burst_start_times: np.ndarray  # datetime64[ns], TOPS only
    coordinate_conversion: Group | None  # GRD only
    bistatic_reference: float = np.nan  # τ_ref (s); NaN: no bistatic correction

    @classmethod
    def open(cls, product: str | os.PathLike | Sentinel1Product, group: str = "IW/VV",
             orbit: Orbit | None = None, storage_options: dict | None = None) -> RadarGeometry:
        """From any reader location and a `SWATH/POL` group; `orbit` overrides the annotation's
        state vectors (e.g. a precise orbit file)."""
        if not isinstance(product, Sentinel1Product):
            product = Sentinel1Product(product, storage_options)
        swath, pol = group.strip("/").split("/")[:2]
        info = product.metadata(f"{swath}/{pol}/orbit").attrs
        if orbit is None:
            orbit = annotation_orbit(product, f"{swath}/{pol}")
        tops = product.is_slc and info.get("lines_per_burst", 0) > 0
        timing = product.metadata(f"{swath}/{pol}/bursts") if tops else None
        geometry = cls(
            orbit=orbit,
            product_type="SLC" if product.is_slc else "GRD",
            first_line_time=np.datetime64(info["product_first_line_utc_time"], "ns"),
            azimuth_time_interval=float(info["azimuth_time_interval"]),
            slant_range_time=float(info["slant_range_time"]),
            range_sampling_rate=float(info["range_sampling_rate"]),
            range_pixel_spacing=float(info["range_pixel_spacing"]),
            lines_per_burst=int(info.get("lines_per_burst", 0)) if tops else 0,
            burst_start_times=(timing["azimuth_time"].values if tops
                               else np.empty(0, "datetime64[ns]")),
            coordinate_conversion=(None if product.is_slc else
                                   product.metadata(f"{swath}/{pol}/coordinate_conversion")),
        )
        geometry.bistatic_reference = geometry._reference_time(product, swath, info, tops)
        return geometry

    def _reference_time(self, product: Sentinel1Product, swath: str, info: dict,
                        tops: bool) -> float:
        """τ_ref of the bistatic delay (see the module docstring)."""
        if not tops:
            near = self.pixel_range(0.0, self.first_line_time)
            far = self.pixel_range(info["number_of_samples"] - 1.0, self.first_line_time)
            return float(near + far) / SPEED_OF_LIGHT  # two-way time of the mid range
        middle = MIDDLE_SWATH.get(product.manifest.instrument_mode, swath)
        if middle in product.swaths:
            return _mid_swath_time(product.info(middle))
        if swath in MID_SWATH_OFFSET:
            return _mid_swath_time(info) + MID_SWATH_OFFSET[swath]
        log.warning("no annotation of %s in %s: bistatic reference taken from %s (up to "
                    "~0.05 line off)", middle, product.name, swath)
        return _mid_swath_time(info)

    # -- azimuth ---------------------------------------------------------------------------
    def line_time(self, line) -> np.ndarray:
        """Zero-Doppler time (datetime64[ns]) of fractional lines."""
        line = np.asarray(line, dtype=np.float64)
        if self.lines_per_burst:
            burst = np.clip(np.floor(line / self.lines_per_burst).astype(np.int64), 0,
                            self.burst_start_times.size - 1)
            start = self.burst_start_times[burst]
            offset = line - burst * self.lines_per_burst
        else:
            start, offset = self.first_line_time, line
        return start + np.round(offset * self.azimuth_time_interval * 1e9).astype("timedelta64[ns]")

    def time_line(self, time, burst=None) -> np.ndarray:
        """Fractional line of zero-Doppler times. TOPS: in `burst` if given, else in the more
        central of the two bursts that overlap there."""
        time = np.asarray(time, dtype="datetime64[ns]")
        return np.where(np.isnat(time), np.nan, self._time_line(time, burst))

    def _time_line(self, time: np.ndarray, burst) -> np.ndarray:
        if not self.lines_per_burst:
            elapsed = (time - self.first_line_time).astype(np.int64) / 1e9
            return elapsed / self.azimuth_time_interval
        if burst is not None:
            burst = np.asarray(burst, dtype=np.int64)
            elapsed = (time - self.burst_start_times[burst]).astype(np.int64) / 1e9
            return burst * self.lines_per_burst + elapsed / self.azimuth_time_interval
        last = self.burst_start_times.size - 1
        later = np.clip(np.searchsorted(self.burst_start_times, time, side="right") - 1, 0, last)
        earlier = np.clip(later - 1, 0, last)

        def offset(burst):
            elapsed = (time - self.burst_start_times[burst]).astype(np.int64) / 1e9
            return elapsed / self.azimuth_time_interval

        def margin(burst):
            o = offset(burst)
            return np.minimum(o, self.lines_per_burst - 1 - o)

        burst = np.where(margin(earlier) > margin(later), earlier, later)
        return burst * self.lines_per_burst + offset(burst)

    # -- range -----------------------------------------------------------------------------
    def pixel_range(self, pixel, time) -> np.ndarray:
        """Slant range (m) of fractional pixels at zero-Doppler times."""
        if self.coordinate_conversion is not None:
            srt = srgr.pixel_to_slant_range_time(self.coordinate_conversion, time, pixel,
                                                 self.range_pixel_spacing)
        else:
            srt = self.slant_range_time + np.asarray(pixel, np.float64) / self.range_sampling_rate
        return srt * SPEED_OF_LIGHT / 2.0

    def range_pixel(self, slant_range, time) -> np.ndarray:
        """Fractional pixel of slant ranges (m) at zero-Doppler times."""
        srt = np.asarray(slant_range, dtype=np.float64) * 2.0 / SPEED_OF_LIGHT
        if self.coordinate_conversion is not None:
            return srgr.slant_range_time_to_pixel(self.coordinate_conversion, time, srt,
                                                  self.range_pixel_spacing)
        return (srt - self.slant_range_time) * self.range_sampling_rate

    # -- both ------------------------------------------------------------------------------
    def bistatic_shift(self, slant_range) -> np.ndarray:
        """t_line − t_zero_doppler (s) for slant ranges (m)."""
        if np.isnan(self.bistatic_reference):
            return np.zeros(np.shape(slant_range))
        tau = 2.0 * np.asarray(slant_range, dtype=np.float64) / SPEED_OF_LIGHT
        return -(tau - self.bistatic_reference) / 2.0

    def ground_to_radar(self, lat, lon, height, burst=None) -> tuple[np.ndarray, np.ndarray]:
        """(line, pixel), fractional, of ground points (degrees, metres above the ellipsoid);
        `burst` forces the TOPS burst (see `time_line`)."""
        xyz = geodetic_to_ecef(lat, lon, height)
        seconds, slant_range = zero_doppler(self.orbit, xyz)
        time = self.orbit.datetimes(seconds + self.bistatic_shift(slant_range))
        return self.time_line(time, burst), self.range_pixel(slant_range, time)

    def radar_to_ground(self, line, pixel, height) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) in degrees of fractional (line, pixel) at ellipsoidal heights (m)."""
        line, pixel, height = np.broadcast_arrays(np.asarray(line, np.float64),
                                                  np.asarray(pixel, np.float64),
                                                  np.asarray(height, np.float64))
        time = self.line_time(line)
        slant_range = self.pixel_range(pixel, time)
        seconds = self.orbit.seconds(time) - self.bistatic_shift(slant_range)
        return radar_to_ground(self.orbit, seconds, slant_range, height)


def _mid_swath_time(info: dict) -> float:
    """Two-way time of the middle sample of an SLC swath."""
    return info["slant_range_time"] + 0.5 * info["number_of_samples"] / info["range_sampling_rate"]


__all__ = ["RadarGeometry"]
