"""Azimuth time in other time scales: TAI, UT1, and seconds since the ascending node.

UTC is what ESA annotates. TAI = UTC + leap seconds (ERFA's table, via astropy). UT1 − UTC
comes from the IERS EOP C04 series (IERS Bulletin B) bundled in the `astropy-iers-data`
package, read offline (no download is attempted); outside its span we raise, not guess.
"""

from __future__ import annotations

import functools

import numpy as np

UT1_SOURCE = "IERS EOP 14 C04 (IERS Bulletin B) bundled in astropy-iers-data, read offline"


@functools.cache
def _iers_b():
    from astropy.utils import iers

    iers.conf.auto_download = False
    return iers.IERS_B.open()


def _as_time(utc: np.ndarray):
    from astropy.time import Time

    return Time(np.asarray(utc, dtype="datetime64[ns]").ravel(), scale="utc")


def to_tai(utc: np.ndarray) -> np.ndarray:
    """UTC datetime64[ns] → TAI datetime64[ns] (adds the leap seconds in force)."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    valid = ~np.isnat(utc)
    out = np.full(utc.shape, np.datetime64("NaT", "ns"))
    if valid.any():
        time = _as_time(utc[valid])
        offset_s = np.round((time.tai.mjd - time.mjd) * 86400.0)  # whole leap seconds
        out[valid] = utc[valid] + (offset_s * 1e9).astype("timedelta64[ns]")
    return out


def ut1_minus_utc(utc: np.ndarray) -> np.ndarray:
    """UT1 − UTC in seconds for each time, from IERS Bulletin B."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    return np.asarray(_iers_b().ut1_utc(_as_time(utc)).to_value("s")).reshape(utc.shape)


def to_ut1(utc: np.ndarray) -> np.ndarray:
    """UTC datetime64[ns] → UT1 datetime64[ns] (nanosecond rounding)."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    valid = ~np.isnat(utc)
    out = np.full(utc.shape, np.datetime64("NaT", "ns"))
    if valid.any():
        delta = np.round(ut1_minus_utc(utc[valid]) * 1e9).astype("timedelta64[ns]")
        out[valid] = utc[valid] + delta
    return out


def seconds_since(utc: np.ndarray, origin: np.datetime64) -> np.ndarray:
    """Float64 seconds of `utc` after `origin` (the ascending node time), NaN where unknown."""
    if np.isnat(origin):
        return np.full(np.shape(utc), np.nan)
    delta = np.asarray(utc, dtype="datetime64[ns]") - np.datetime64(origin, "ns")
    return delta.astype(np.int64) / 1e9


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
