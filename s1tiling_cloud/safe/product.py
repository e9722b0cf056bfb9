"""A Sentinel-1 product as a tree of groups, each built on demand as an xarray Dataset.

The same metadata groups are also read without xarray (`Sentinel1Product.metadata`: numpy
arrays in a `group.Group`), and a measurement's windows (`Sentinel1Product.measurement`), for
a process that must not pay for importing xarray and pandas (the `ortho` stage pod); xarray is
imported by the methods that build Datasets only.

Group paths (what `xr.open_dataset(..., group=...)` accepts):

    ""                          product attributes (STAC SAR/SAT names), `subgroups`
    IW1                         the swath's measurements, one variable per polarisation
    IW1/orbit|attitude|gcp|antenna|doppler      metadata the annotations duplicate across pols
    IW1/R022_N433_E0120         one TOPS burst, polarisations as variables, deramp parameters
    IW1/VV                      one measurement (`measurement` variable, lazy)
    IW1/VV/gcp|orbit|attitude|antenna|doppler|dc_estimate|azimuth_fm_rate|
           coordinate_conversion|calibration|noise_range|noise_azimuth|bursts

Only groups whose files are really in the product are listed: a swath whose files are
missing does not stop the others from opening.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import (
    CorruptedDataSAFEError,
    Error,
    GroupNotFoundError,
    MissingMeasurementError,
)
from . import annotation, bursts, timescales
from . import xmlnodes as x
from .calibration import calibration
from .group import Group
from .location import MANIFEST, SafeLocation, open_location
from .manifest import DataFile, Manifest, parse_manifest
from .measurement_file import MeasurementFile
from .noise import noise_azimuth, noise_range

if TYPE_CHECKING:
    import xarray as xr

SWATH_METADATA = ("orbit", "attitude", "gcp", "antenna", "doppler")
ANNOTATION_GROUPS = {
    "gcp": annotation.gcp,
    "orbit": annotation.orbit,
    "attitude": annotation.attitude,
    "antenna": annotation.antenna,
    "doppler": annotation.doppler,
    "dc_estimate": annotation.dc_estimate,
    "azimuth_fm_rate": annotation.azimuth_fm_rate,
    "coordinate_conversion": annotation.coordinate_conversion,
    "bursts": annotation.swath_timing,
}
CALIBRATION_GROUPS = {"calibration": ("calibration", calibration),
                      "noise_range": ("noise", noise_range),
                      "noise_azimuth": ("noise", noise_azimuth)}
TIMED_GROUPS = ("orbit", "attitude", "calibration", "noise_range")


def _iso(t: np.datetime64) -> str:
    return "" if np.isnat(t) else np.datetime_as_string(t, unit="us") + "Z"


class Sentinel1Product:
    """One SAFE product, from any location `open_location` accepts."""

    def __init__(self, location: str | os.PathLike, storage_options: dict | None = None):
        self.location: SafeLocation = open_location(location, storage_options)
        self.manifest: Manifest = parse_manifest(self.location.read(MANIFEST), self.location.url)
        self._present = self._files_present()
        self._xml_cache: dict[str, Any] = {}
        self._measurements: dict[tuple[str, str], MeasurementFile] = {}
        self._burst_ids: dict[str, list[str]] = {}

    # -- inventory -----------------------------------------------------------------------------
    def _files_present(self) -> dict[tuple[str, str], dict[str, DataFile]]:
        """(swath, pol) -> {kind: file} for files that really exist."""
        listing = set()
        for path in self.location.fs.find(self.location.root):
            listing.add(path[len(self.location.root):].lstrip("/"))
        present: dict[tuple[str, str], dict[str, DataFile]] = defaultdict(dict)
        for f in self.manifest.files:
            if f.href in listing:
                present[(f.swath, f.polarisation)][f.kind] = f
        return present

    @property
    def name(self) -> str:
        return self.location.name

    @property
    def is_slc(self) -> bool:
        return self.manifest.product_type == "SLC"

    @functools.cached_property
    def swaths(self) -> list[str]:
        """Swaths with at least one annotation file present, in natural order."""
        return sorted({s for (s, _), kinds in self._present.items() if "annotation" in kinds})

    def polarisations(self, swath: str) -> list[str]:
        order = {p: i for i, p in enumerate(self.manifest.polarizations)}
        pols = [p for (s, p), kinds in self._present.items() if s == swath and "annotation" in kinds]
        return sorted(pols, key=lambda p: order.get(p, 99))

    def has(self, swath: str, pol: str, kind: str) -> bool:
        return kind in self._present.get((swath, pol), {})

    def file(self, swath: str, pol: str, kind: str) -> DataFile:
        try:
            return self._present[(swath, pol)][kind]
        except KeyError:
            listed = [f for f in self.manifest.files
                      if (f.swath, f.polarisation, f.kind) == (swath, pol, kind)]
            if kind == "measurement" and listed:
                raise MissingMeasurementError(
                    self.location.url, f"measurement {listed[0].href} is listed in the manifest "
                    "but missing") from None
            raise GroupNotFoundError(f"{swath}/{pol}/{kind}", self.groups) from None

    @functools.cached_property
    def groups(self) -> list[str]:
        """Every group that can really be opened."""
        out = []
        for swath in self.swaths:
            pols = self.polarisations(swath)
            out.append(swath)
            out += [f"{swath}/{g}" for g in SWATH_METADATA]
            out += [f"{swath}/{b}" for b in self.burst_ids(swath)]
            for pol in pols:
                if self.has(swath, pol, "measurement"):
                    out.append(f"{swath}/{pol}")
                names = [g for g in ANNOTATION_GROUPS
                         if g != "coordinate_conversion" or not self.is_slc]
                names = [g for g in names if g != "bursts" or self._is_tops(swath)]
                out += [f"{swath}/{pol}/{g}" for g in names]
                out += [f"{swath}/{pol}/{g}" for g, (kind, _) in CALIBRATION_GROUPS.items()
                        if self.has(swath, pol, kind)
                        and (g != "noise_azimuth" or self._has_azimuth_noise(swath, pol))]
        return out

    # -- XML -----------------------------------------------------------------------------------
    def xml(self, swath: str, pol: str, kind: str = "annotation"):
        href = self.file(swath, pol, kind).href
        if href not in self._xml_cache:
            self._xml_cache[href] = x.parse(self.location.read(href), f"{self.location.url}/{href}")
        return self._xml_cache[href]

    def info(self, swath: str) -> dict:
        """Scalars of the swath's (first polarisation's) annotation."""
        return annotation.image_information(self.xml(swath, self.polarisations(swath)[0]))

    def _is_tops(self, swath: str) -> bool:
        return self.is_slc and self.info(swath).get("lines_per_burst", 0) > 0

    def _has_azimuth_noise(self, swath: str, pol: str) -> bool:
        return bool(x.findall(self.xml(swath, pol, "noise"),
                              "noiseAzimuthVectorList/noiseAzimuthVector"))

    def burst_ids(self, swath: str) -> list[str]:
        # Cached on the product (not with functools.cache, whose cache would keep every
        # product, its parsed XML and open measurement files, for the life of the process).
        if swath not in self._burst_ids:
            ids = []
            if self._is_tops(swath):
                root = self.xml(swath, self.polarisations(swath)[0])
                ids = bursts.burst_ids(annotation.swath_timing(root), annotation.gcp(root),
                                       self.manifest.relative_orbit,
                                       self.info(swath)["number_of_samples"])
            self._burst_ids[swath] = ids
        return self._burst_ids[swath]

    # -- attributes ----------------------------------------------------------------------------
    def attributes(self) -> dict[str, Any]:
        """Product attributes named as the STAC SAR and SAT extensions name them."""
        m = self.manifest
        attrs: dict[str, Any] = {
            "product_name": self.name,
            "platform": m.platform,
            "constellation": "sentinel-1",
            "instruments": ["c-sar"],
            "sar:instrument_mode": m.instrument_mode,
            "sar:frequency_band": "C",
            "sar:polarizations": list(m.polarizations),
            "sar:product_type": m.product_type,
            "sar:observation_direction": "right",
            "sat:orbit_state": m.orbit_state,
            "sat:relative_orbit": m.relative_orbit,
            "sat:absolute_orbit": m.absolute_orbit,
            "sat:anx_datetime": _iso(m.ascending_node_time),
            "start_datetime": _iso(m.start_time),
            "end_datetime": _iso(m.stop_time),
            "footprint": m.footprint_wkt,
            "ipf_version": m.ipf_version,
            "processing:software": f"Sentinel-1 IPF {m.ipf_version}",
            "product_class": m.product_class,
            "product_timeliness": m.timeliness,
            "mission_datatake_id": m.mission_datatake_id,
            "swaths": list(m.swaths),
        }
        if self.swaths:
            frequency = self.info(self.swaths[0]).get("radar_frequency")
            if frequency:
                attrs["sar:center_frequency"] = frequency / 1e9
        return attrs

    # -- groups --------------------------------------------------------------------------------
    def open_group(self, group: str | None = None) -> xr.Dataset:
        """The Dataset of one group path (see the module docstring).

        Malformed XML content (a missing node, text that is not a number) is a
        CorruptedDataSAFEError naming the product and the group, not a bare ValueError.
        """
        with self._reading(group):
            return self._open_group(group)

    @contextlib.contextmanager
    def _reading(self, group: str | None) -> Iterator[None]:
        """Errors of malformed XML content, as `open_group` tells them."""
        try:
            yield
        except Error:
            raise
        except (ValueError, TypeError, AttributeError, IndexError) as error:
            raise CorruptedDataSAFEError(self.location.url,
                                         f"cannot read group {group!r}: {error}") from error

    def _open_group(self, group: str | None) -> xr.Dataset:
        import xarray as xr

        parts = [p for p in (group or "").strip("/").split("/") if p]
        if not parts:
            return xr.Dataset(attrs={**self.attributes(), "subgroups": self.groups})
        swath = parts[0]
        if swath not in self.swaths:
            self._check_listed(parts)
            raise GroupNotFoundError("/".join(parts), self.groups)
        if len(parts) == 1:
            return self._swath(swath)
        if address := self._metadata_address(parts):
            return self._metadata_dataset(*address)
        if len(parts) == 2 and parts[1] in self.burst_ids(swath):
            return self._burst(swath, self.burst_ids(swath).index(parts[1]))
        if len(parts) == 2 and parts[1] in self.polarisations(swath):
            return self._measurement(swath, parts[1])
        self._check_listed(parts)
        raise GroupNotFoundError("/".join(parts), self.groups)

    def _metadata_address(self, parts: list[str]) -> tuple[str, str, str] | None:
        """(swath, polarisation, name) of a metadata group's path (a swath's own metadata: its
        first polarisation's), or None when the path is not one of this product's."""
        if not parts or parts[0] not in self.swaths:
            return None
        if len(parts) == 2 and parts[1] in SWATH_METADATA:
            return parts[0], self.polarisations(parts[0])[0], parts[1]
        if len(parts) == 3 and "/".join(parts) in self.groups:
            return parts[0], parts[1], parts[2]
        return None

    def metadata(self, group: str) -> Group:
        """A metadata group, ``SWATH/NAME`` (NAME in `SWATH_METADATA`) or ``SWATH/POL/NAME``,
        as numpy arrays (`group.Group`), without xarray: the variables, coordinates and
        attributes of its Dataset (`open_group`) but the azimuth time's other time scales.

        Parameters
        ----------
        group : str
            The group's path, as `open_group` takes it.

        Returns
        -------
        Group
            Its variables read as ``group["name"].values``, its attributes as ``group.attrs``.

        Raises
        ------
        GroupNotFoundError
            Not a metadata group of this product.
        CorruptedDataSAFEError
            Its files are missing, or its XML is malformed.
        """
        parts = [p for p in group.strip("/").split("/") if p]
        with self._reading(group):
            if address := self._metadata_address(parts):
                return self._metadata(*address)
        self._check_listed(parts)
        raise GroupNotFoundError("/".join(parts), self.groups)

    def measurement(self, swath: str, pol: str) -> MeasurementFile:
        """The measurement of (`swath`, `pol`), whose windows read as numpy arrays
        (``measurement[rows, columns]``), without xarray; one reader per product.

        Raises
        ------
        GroupNotFoundError, MissingMeasurementError
            No such measurement, or its file is missing or not of the annotation's size.
        CorruptedDataSAFEError
            Its TIFF is unreadable, or the annotation giving its size is malformed.
        """
        if (swath, pol) not in self._measurements:
            with self._reading(f"{swath}/{pol}"):
                href = self.file(swath, pol, "measurement").href
                path, opener = self.location.raster(href)
                measurement = MeasurementFile(path, opener, product=self.location.url)
                self._check_measurement_shape(swath, href, measurement.shape)
            self._measurements[(swath, pol)] = measurement
        return self._measurements[(swath, pol)]

    def _check_measurement_shape(self, swath: str, href: str, shape: tuple[int, int]) -> None:
        expected = (self.info(swath)["number_of_lines"], self.info(swath)["number_of_samples"])
        if shape != expected:
            raise MissingMeasurementError(self.location.url, f"{href} is {shape}, the "
                                          f"annotation says {expected}")

    def _check_listed(self, parts: list[str]) -> None:
        """A group the manifest promises (its swath and polarisation are listed) whose files are
        missing is a corrupted product (71, naming the files), not an unknown group."""
        if len(parts) < 2:
            return
        swath, pol = parts[0].upper(), parts[1].upper()
        listed = [f for f in self.manifest.files if (f.swath, f.polarisation) == (swath, pol)]
        present = self._present.get((swath, pol), {})
        missing = [f.href for f in listed if present.get(f.kind) is not f]
        if listed and missing:
            raise CorruptedDataSAFEError(self.location.url, f"{', '.join(missing)} listed in the "
                                         "manifest but missing")

    def _group_attrs(self, swath: str, pol: str | None) -> dict:
        info = self.info(swath)
        base = {k: self.attributes()[k] for k in ("sar:instrument_mode", "sar:product_type",
                                                  "platform", "sat:absolute_orbit")}
        out = {**base, **info, "swath": swath}
        if pol:
            out["polarisation"] = pol
        else:
            out.pop("polarisation", None)
        return out

    def _metadata(self, swath: str, pol: str, name: str) -> Group:
        if name in CALIBRATION_GROUPS:
            kind, build = CALIBRATION_GROUPS[name]
            group = build(self.xml(swath, pol, kind))
        else:
            group = ANNOTATION_GROUPS[name](self.xml(swath, pol))
        group.attrs.update(self._group_attrs(swath, pol if name not in SWATH_METADATA else None))
        return group

    def _metadata_dataset(self, swath: str, pol: str, name: str) -> xr.Dataset:
        group = self._metadata(swath, pol, name)
        if name in TIMED_GROUPS:
            group = group.with_coords(self._time_coords(group["azimuth_time"]))
        return group.to_dataset()

    def _time_coords(self, azimuth_time) -> dict:
        return timescales.time_coords(azimuth_time.values, azimuth_time.dims,
                                      self.manifest.ascending_node_time)

    def _line_times(self, swath: str) -> np.ndarray:
        """Zero-Doppler time of every image line (burst by burst for TOPS SLC)."""
        info = self.info(swath)
        dt = info["azimuth_time_interval"]
        if self._is_tops(swath):
            timing = annotation.swath_timing(self.xml(swath, self.polarisations(swath)[0]))
            return np.concatenate([bursts.burst_azimuth_time(timing, b, dt)
                                   for b in range(timing.sizes["burst"])])
        first = np.datetime64(info["product_first_line_utc_time"], "ns")
        offsets = np.round(np.arange(info["number_of_lines"]) * dt * 1e9).astype("timedelta64[ns]")
        return first + offsets

    def _range_coord(self, swath: str, pixels: np.ndarray) -> dict:
        info = self.info(swath)
        if self.is_slc:
            srt = info["slant_range_time"] + pixels / info["range_sampling_rate"]
            return {"slant_range_time": ("pixel", srt, annotation.SLANT_RANGE_TIME_ATTRS)}
        ground = pixels * info["range_pixel_spacing"]
        return {"ground_range": ("pixel", ground, {"long_name": "ground range", "units": "m"})}

    def _measurement_variable(self, swath: str, pol: str) -> xr.Variable:
        from .measurement import MeasurementArray, measurement_variable

        href = self.file(swath, pol, "measurement").href
        path, opener = self.location.raster(href)
        array = MeasurementArray(path, opener, product=self.location.url)
        self._check_measurement_shape(swath, href, array.shape)
        return measurement_variable(array, "measurement", {
            "long_name": f"{pol} {'complex' if self.is_slc else 'amplitude'} measurement",
            "units": "1"})

    def _image_coords(self, swath: str) -> dict:
        info = self.info(swath)
        lines = np.arange(info["number_of_lines"])
        pixels = np.arange(info["number_of_samples"])
        times = self._line_times(swath)
        coords = {"line": ("line", lines), "pixel": ("pixel", pixels),
                  "azimuth_time": ("line", times, annotation.AZIMUTH_TIME_ATTRS)}
        coords.update(self._range_coord(swath, pixels))
        coords.update(timescales.time_coords(times, "line", self.manifest.ascending_node_time))
        return coords

    def _measurement(self, swath: str, pol: str) -> xr.Dataset:
        import xarray as xr

        variable = self._measurement_variable(swath, pol)
        return xr.Dataset({"measurement": variable}, coords=self._image_coords(swath),
                          attrs=self._group_attrs(swath, pol))

    def _swath(self, swath: str) -> xr.Dataset:
        import xarray as xr

        pols = [p for p in self.polarisations(swath) if self.has(swath, p, "measurement")]
        data = {p: self._measurement_variable(swath, p) for p in pols}
        return xr.Dataset(data, coords=self._image_coords(swath) if data else None,
                          attrs={**self._group_attrs(swath, None), "polarisations": pols})

    def _burst(self, swath: str, index: int) -> xr.Dataset:
        import xarray as xr

        pol0 = self.polarisations(swath)[0]
        root = self.xml(swath, pol0)
        timing = annotation.swath_timing(root)
        info = self.info(swath)
        rows = bursts.burst_lines(timing, index)
        times = bursts.burst_azimuth_time(timing, index, info["azimuth_time_interval"])
        pixels = np.arange(info["number_of_samples"])
        srt = info["slant_range_time"] + pixels / info["range_sampling_rate"]
        dims = ("azimuth_time", "slant_range_time")
        data = {}
        for pol in self.polarisations(swath):
            if self.has(swath, pol, "measurement"):
                whole = self._measurement_variable(swath, pol)
                data[pol] = xr.Variable(dims, whole[rows, :]._data, whole.attrs)
        data["first_valid_sample"] = ("azimuth_time", timing["first_valid_sample"].values[index],
                                      annotation.attrs("firstValidSample", "1"))
        data["last_valid_sample"] = ("azimuth_time", timing["last_valid_sample"].values[index],
                                     annotation.attrs("lastValidSample", "1"))
        coords = {
            "azimuth_time": ("azimuth_time", times, annotation.AZIMUTH_TIME_ATTRS),
            "slant_range_time": ("slant_range_time", srt, annotation.SLANT_RANGE_TIME_ATTRS),
            "line": ("azimuth_time", np.arange(rows.start, rows.stop)),
            "pixel": ("slant_range_time", pixels),
        }
        coords.update(timescales.time_coords(times, "azimuth_time",
                                             self.manifest.ascending_node_time))
        doppler = annotation.doppler(root).to_dataset()
        attrs = {**self._group_attrs(swath, None), "burst_index": index,
                 "burst_id": self.burst_ids(swath)[index],
                 **bursts.deramp_parameters(info, doppler, times)}
        return xr.Dataset(data, coords=coords, attrs=attrs)
