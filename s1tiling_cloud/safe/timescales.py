"""Azimuth time in other time scales: TAI, UT1, and seconds since the ascending node.

UTC is what ESA annotates (a time inside a leap second cannot be written as datetime64).
TAI = UTC + leap seconds (ERFA's table, kept current by astropy-iers-data). UT1 − UTC
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
    """astropy Time from datetime64[ns], through MJD floats (astropy parses datetime64 slowly)."""
    from astropy.time import Time

    ns = np.asarray(utc, dtype="datetime64[ns]").ravel().astype(np.int64)
    day, rest = np.divmod(ns, 86_400 * 10**9)
    return Time(day + 40587.0, rest / (86_400 * 1e9), format="mjd", scale="utc")


def _knots(utc: np.ndarray) -> np.ndarray:
    """A few times spanning `utc`: the offsets below are smooth, so we evaluate them there."""
    valid = utc[~np.isnat(utc)]
    return np.unique(np.linspace(valid.min().astype(np.int64), valid.max().astype(np.int64),
                                 8).astype(np.int64)).astype("datetime64[ns]")


def tai_minus_utc(utc: np.ndarray) -> np.ndarray:
    """Leap seconds in force (TAI − UTC, whole seconds) on each time's UTC calendar day."""
    import erfa

    day = np.asarray(utc, dtype="datetime64[ns]").astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    return erfa.dat(year, month.astype(np.int64) % 12 + 1,
                    (day - month).astype(np.int64) + 1, 0.0)


def to_tai(utc: np.ndarray) -> np.ndarray:
    """UTC datetime64[ns] → TAI datetime64[ns] (adds the leap seconds in force)."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    valid = ~np.isnat(utc)
    out = np.full(utc.shape, np.datetime64("NaT", "ns"))
    if valid.any():
        knots = _knots(utc)
        at_knots = tai_minus_utc(knots)
        # a leap second inside the span: evaluate every time, else one offset for all
        offset = tai_minus_utc(utc[valid]) if np.ptp(at_knots) else at_knots[0]
        out[valid] = utc[valid] + (np.asarray(offset) * 1e9).astype("timedelta64[ns]")
    return out


def ut1_minus_utc(utc: np.ndarray) -> np.ndarray:
    """UT1 − UTC in seconds for each time, from IERS Bulletin B (daily values, interpolated)."""
    utc = np.asarray(utc, dtype="datetime64[ns]")
    knots = _knots(utc)
    values = np.asarray(_iers_b().ut1_utc(_as_time(knots)).to_value("s"))
    x = utc.astype(np.int64).astype(np.float64)
    return np.interp(x, knots.astype(np.int64).astype(np.float64), values).reshape(utc.shape)


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
