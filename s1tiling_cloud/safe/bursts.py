"""TOPS bursts of SLC products: identities, cropping, deramping parameters and debursting.

A burst's identity is `R{relative orbit}_{N|S}{lat×10}_{E|W}{lon×10}` at the burst centre
(e.g. `R022_N433_E0120`), stable across acquisitions of the same relative orbit to within the
burst repeat, readable by a person, and a valid group name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .annotation import AZIMUTH_TIME_ATTRS

if TYPE_CHECKING:
    import xarray as xr

    from .group import Group


def _bilinear_on_grid(grid: Group | xr.Dataset, name: str, line: float, pixel: float) -> float:
    lines = grid["line"].values.astype(np.float64)
    pixels = grid["pixel"].values.astype(np.float64)
    rows = np.array([np.interp(pixel, pixels, row) for row in grid[name].values])
    return float(np.interp(line, lines, rows))


def burst_ids(timing: Group | xr.Dataset, gcp: Group | xr.Dataset, relative_orbit: int,
              samples: int) -> list[str]:
    """Identity of each burst, from the geolocation grid at the burst's central line and pixel."""
    lines_per_burst = int(timing.attrs["lines_per_burst"])
    ids = []
    for b in range(timing.sizes["burst"]):
        line = b * lines_per_burst + lines_per_burst / 2.0
        lat = _bilinear_on_grid(gcp, "latitude", line, samples / 2.0)
        lon = _bilinear_on_grid(gcp, "longitude", line, samples / 2.0)
        ns = "N" if lat >= 0 else "S"
        ew = "E" if lon >= 0 else "W"
        ids.append(f"R{relative_orbit:03d}_{ns}{round(abs(lat) * 10):03d}_{ew}"
                   f"{round(abs(lon) * 10):04d}")
    # Two bursts falling on the same 0.1° cell (tiny bursts, WV) get a suffix to stay unique.
    seen: dict[str, int] = {}
    for i, name in enumerate(ids):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            ids[i] = f"{name}_{seen[name]}"
    return ids


def burst_lines(timing: Group | xr.Dataset, burst: int) -> slice:
    lines_per_burst = int(timing.attrs["lines_per_burst"])
    return slice(burst * lines_per_burst, (burst + 1) * lines_per_burst)


def burst_azimuth_time(timing: Group | xr.Dataset, burst: int, azimuth_time_interval: float) -> np.ndarray:
    lines_per_burst = int(timing.attrs["lines_per_burst"])
    start = timing["azimuth_time"].values[burst].astype("datetime64[ns]")
    offsets = np.round(np.arange(lines_per_burst) * azimuth_time_interval * 1e9)
    return start + offsets.astype("timedelta64[ns]")


def nearest_record(ds: xr.Dataset, time_dim: str, when: np.datetime64) -> xr.Dataset:
    """The record of a time series (Doppler, FM rate) closest to `when`."""
    index = int(np.argmin(np.abs(ds[time_dim].values - np.datetime64(when, "ns"))))
    return ds.isel({time_dim: index})


def deramp_parameters(info: dict, doppler: xr.Dataset, azimuth_time: np.ndarray) -> dict:
    """What a user needs to deramp a burst (ESA's TOPS deramping note): scalars and polynomials
    taken at the burst's mid time."""
    mid = azimuth_time[azimuth_time.size // 2]
    dc = nearest_record(doppler, "dc_azimuth_time", mid)
    fm = nearest_record(doppler, "fm_azimuth_time", mid)
    return {
        "azimuth_steering_rate": info["azimuth_steering_rate"],
        "radar_frequency": info["radar_frequency"],
        "azimuth_time_interval": info["azimuth_time_interval"],
        "range_sampling_rate": info["range_sampling_rate"],
        "slant_range_time": info["slant_range_time"],
        "dc_azimuth_time": str(dc["dc_azimuth_time"].values),
        "dc_t0": float(dc["dc_t0"]),
        "data_dc_polynomial": dc["data_dc_polynomial"].values.tolist(),
        "geometry_dc_polynomial": dc["geometry_dc_polynomial"].values.tolist(),
        "fm_azimuth_time": str(fm["fm_azimuth_time"].values),
        "fm_t0": float(fm["fm_t0"]),
        "azimuth_fm_rate_polynomial": fm["azimuth_fm_rate_polynomial"].values.tolist(),
    }


def valid_mask(first_valid: np.ndarray, last_valid: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(line, pixel) booleans: a sample is valid within [first, last] of its line (−1: none)."""
    first = first_valid[:, None]
    last = last_valid[:, None]
    return (first >= 0) & (pixels[None, :] >= first) & (pixels[None, :] <= last)


def deburst_plan(timing: Group | xr.Dataset, azimuth_time_interval: float):
    """Which measurement line makes each output line of the debursted swath.

    Consecutive bursts overlap in time; the cut is the middle of the overlap of their valid
    lines. Returns (source lines, azimuth times, first valid sample, last valid sample).
    """
    lines_per_burst = int(timing.attrs["lines_per_burst"])
    sources, times, firsts, lasts = [], [], [], []
    valid_lines = [np.flatnonzero(timing["first_valid_sample"].values[b] >= 0)
                   for b in range(timing.sizes["burst"])]
    burst_times = [burst_azimuth_time(timing, b, azimuth_time_interval)
                   for b in range(timing.sizes["burst"])]
    count = timing.sizes["burst"]
    for b in range(count):
        lines = valid_lines[b]
        t = burst_times[b][lines]
        keep = np.ones(lines.size, dtype=bool)
        if b > 0 and valid_lines[b - 1].size:
            previous_end = burst_times[b - 1][valid_lines[b - 1][-1]]
            cut = t[0] + (previous_end - t[0]) / 2 if previous_end > t[0] else t[0]
            keep &= t > cut
        if b + 1 < count and valid_lines[b + 1].size:
            next_start = burst_times[b + 1][valid_lines[b + 1][0]]
            cut = next_start + (t[-1] - next_start) / 2 if t[-1] > next_start else t[-1]
            keep &= t <= cut
        lines = lines[keep]
        sources.append(b * lines_per_burst + lines)
        times.append(burst_times[b][lines])
        firsts.append(timing["first_valid_sample"].values[b][lines])
        lasts.append(timing["last_valid_sample"].values[b][lines])
    return (np.concatenate(sources), np.concatenate(times), np.concatenate(firsts),
            np.concatenate(lasts))


def deburst(measurement: xr.DataArray, timing: xr.Dataset, azimuth_time_interval: float,
            fill: complex = 0) -> xr.DataArray:
    """The swath without burst overlaps, invalid samples set to `fill`; (azimuth_time, pixel).

    Reads only the lines it keeps; pass a pixel-sliced measurement to deburst a range window.
    """
    import xarray as xr

    sources, times, first, last = deburst_plan(timing, azimuth_time_interval)
    data = measurement.isel(line=sources).values
    pixels = measurement["pixel"].values
    data = np.where(valid_mask(first, last, pixels), data, fill)
    out = xr.DataArray(
        data, dims=("azimuth_time", "pixel"),
        coords={"azimuth_time": ("azimuth_time", times, AZIMUTH_TIME_ATTRS),
                "line": ("azimuth_time", sources), "pixel": pixels},
        attrs=dict(measurement.attrs),
        name=measurement.name,
    )
    if "slant_range_time" in measurement.coords:
        out = out.assign_coords(slant_range_time=measurement["slant_range_time"])
    return out
