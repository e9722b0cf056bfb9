"""Azimuth time in other time scales: TAI, UT1, and seconds since the ascending node.

UTC is what ESA annotates (a time inside a leap second cannot be written as datetime64).
TAI = UTC + leap seconds (ERFA's table, from pyerfa). UT1 − UTC comes from the IERS
"EOP 20 C04" daily series bundled in the `astropy-iers-data` package, read offline (no
download is attempted) and interpolated linearly between days; outside its span (products
newer than the installed package's last day) UT1 is NaT with a warning, never a guess.
Only the days a product needs are read from the file (fixed-width records).
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import numpy as np

UT1_SOURCE = "IERS EOP 20 C04 daily series (astropy-iers-data, eopc04.1962-now), read offline"
_MJD_UNIX_EPOCH = 40587


@functools.cache
def _eop_file() -> tuple[Path, int, int, int]:
    """(path, offset of the first record, record length, MJD of the first record)."""
    import astropy_iers_data

    path = Path(os.path.dirname(astropy_iers_data.__file__)) / "data" / "eopc04.1962-now"
    with path.open("rb") as handle:
        offset = 0
        for line in handle:
            if not line.startswith(b"#"):
                return path, offset, len(line), int(float(line.split()[4]))
            offset += len(line)
    raise ValueError(f"no record in {path}")


def _ut1_utc_days(first_mjd: int, last_mjd: int) -> tuple[np.ndarray, np.ndarray]:
    """MJDs and UT1 − UTC (s) of the days first_mjd..last_mjd."""
    path, offset, length, mjd0 = _eop_file()
    count = last_mjd - first_mjd + 1
    with path.open("rb") as handle:
        handle.seek(offset + (first_mjd - mjd0) * length)
        rows = [line.split() for line in handle.read(count * length).splitlines()]
    if first_mjd < mjd0 or len(rows) != count or any(len(r) < 8 for r in rows):
        raise ValueError(f"UT1-UTC unknown for MJD {first_mjd}..{last_mjd} in {path}")
    mjd = np.array([float(r[4]) for r in rows])
    if not np.array_equal(mjd, np.arange(first_mjd, last_mjd + 1)):
        raise ValueError(f"{path} is not one fixed-width record per day")
    return mjd, np.array([float(r[7]) for r in rows])


def tai_minus_utc(utc: np.ndarray) -> np.ndarray:
    """Leap seconds in force (TAI − UTC, whole seconds) on each time's UTC calendar day."""
    import erfa

    day = np.asarray(utc, dtype="datetime64[ns]").astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    return erfa.dat(year, month.astype(np.int64) % 12 + 1,
                    (day - month).astype(np.int64) + 1, 0.0)


def to_tai(utc: np.ndarray) -> np.ndarray:
    """UTC datetime64[ns] → TAI datetime64[ns] (adds the leap seconds in force that day)."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    valid = ~np.isnat(utc)
    out = np.full(utc.shape, np.datetime64("NaT", "ns"))
    if valid.any():
        days, index = np.unique(utc[valid].astype("datetime64[D]"), return_inverse=True)
        offset = tai_minus_utc(days)[index]
        out[valid] = utc[valid] + (offset * 1e9).astype("timedelta64[ns]")
    return out


def ut1_minus_utc(utc: np.ndarray) -> np.ndarray:
    """UT1 − UTC in seconds for each time (daily IERS values, interpolated linearly); NaN for
    times outside the bundled series (newer than its last day), with one warning."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    valid = ~np.isnat(utc)
    mjd = np.where(valid, utc.astype(np.int64) / 86_400e9 + _MJD_UNIX_EPOCH, np.nan)
    out = np.full(utc.shape, np.nan)
    if not valid.any():
        return out
    path, _, _, mjd0 = _eop_file()
    first, last = int(np.floor(np.nanmin(mjd))), int(np.floor(np.nanmax(mjd))) + 1
    last_known = _last_mjd()
    if first < mjd0 or last > last_known:
        warnings.warn(f"UT1-UTC is known from MJD {mjd0} to {last_known} ({path.name}): azimuth "
                   "times outside get NaT in UT1 (upgrade astropy-iers-data for recent products)",
                      stacklevel=2)
        first, last = max(first, mjd0), min(last, last_known)
        if first > last:
            return out
    days, values = _ut1_utc_days(first, last)
    inside = valid & (mjd >= days[0]) & (mjd <= days[-1])
    out[inside] = np.interp(mjd[inside], days, values)
    return out


@functools.cache
def _last_mjd() -> int:
    path, offset, length, mjd0 = _eop_file()
    return mjd0 + (path.stat().st_size - offset) // length - 1


def to_ut1(utc: np.ndarray) -> np.ndarray:
    """UTC datetime64[ns] → UT1 datetime64[ns] (nanosecond rounding; NaT where unknown)."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    delta = ut1_minus_utc(utc)
    known = np.isfinite(delta)
    out = np.full(utc.shape, np.datetime64("NaT", "ns"))
    out[known] = utc[known] + np.round(delta[known] * 1e9).astype("timedelta64[ns]")
    return out


def seconds_since(utc: np.ndarray, origin: np.datetime64) -> np.ndarray:
    """Float64 seconds of `utc` after `origin` (the ascending node time), NaN where unknown."""
    if np.isnat(origin):
        return np.full(np.shape(utc), np.nan)
    utc = np.asarray(utc, dtype="datetime64[ns]")
    delta = (utc - np.datetime64(origin, "ns")).astype(np.int64) / 1e9
    return np.where(np.isnat(utc), np.nan, delta)


def time_coords(utc: np.ndarray, dims, ascending_node_time: np.datetime64) -> dict:
    """The extra coordinates of an `azimuth_time` axis: TAI, UT1 and time since the ANX."""
    return {
        "azimuth_time_tai": (dims, to_tai(utc), {
            "long_name": "zero Doppler azimuth time in TAI", "standard_name": "time",
            "comment": "UTC + leap seconds"}),
        "azimuth_time_ut1": (dims, to_ut1(utc), {
            "long_name": "zero Doppler azimuth time in UT1", "standard_name": "time",
            "comment": f"UTC + (UT1 - UTC) from {UT1_SOURCE}"}),
        "time_since_anx": (dims, seconds_since(utc, ascending_node_time), {
            "long_name": "time since the ascending node crossing (ascendingNodeTime)",
            "units": "s"}),
    }
