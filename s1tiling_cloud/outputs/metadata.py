"""GeoTIFF metadata of every product kind, as S1Tiling 1.4 writes it, and provenance.

Users and downstream tools read these keys (`ACQUISITION_DATETIME`, `INPUT_S1_IMAGES`,
`CALIBRATION`...), so keys and value formats are S1Tiling's. Builders return plain
`dict[str, str]`; a derived product (NormLim, RTC, filtered, mask, quicklook) starts from the
tags of the product it is made from, as S1Tiling carries metadata down its pipelines.
`complete_tags` adds what every product has: generation time, software, `[Metadata]` keys, and
our provenance (software version, inputs, hash of the stage's params), which decides whether an
existing output can be reused.

`TIFFTAG_SOFTWARE`: S1Tiling writes `S1 Tiling v{version}`; we write `s1tiling-cloud v{version}`.
A software tag names who made the file: claiming S1 Tiling would send bug reports to the wrong
project and make the files impossible to tell apart. The value keeps S1Tiling's shape
(`<name> v<version>`), and `S1TILING_COMPATIBLE_VERSION` says which S1Tiling release the
names and keys follow, for tools that branch on the producer.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import __version__
from .names import S1Image, orbit_direction_code

__all__ = [
    "GEOID_STANDS_IN",
    "dem_info",
    "PROVENANCE_KEYS",
    "S1TILING_COMPATIBLE_VERSION",
    "SOFTWARE",
    "Provenance",
    "acquisition_datetime",
    "backscatter_tags",
    "complete_tags",
    "filtered_tags",
    "gamma_area_tags",
    "ia_tags",
    "lia_tags",
    "mask_tags",
    "normlim_tags",
    "quicklook_tags",
    "rtc_tags",
    "tiff_datetime",
]

SOFTWARE = f"s1tiling-cloud v{__version__}"
S1TILING_COMPATIBLE_VERSION = "1.4.2"
PROVENANCE_KEYS = ("PROVENANCE_HASH", "PROVENANCE_SOFTWARE", "PROVENANCE_STAGE",
                   "PROVENANCE_INPUTS", "PROVENANCE_PARAMS")
# Keys every product gets anew: never inherited from the product it is made from.
_PER_FILE_KEYS = ("TIFFTAG_DATETIME", "TIFFTAG_SOFTWARE", "TIFFTAG_IMAGEDESCRIPTION",
                  "S1TILING_COMPATIBLE_VERSION", *PROVENANCE_KEYS)


# --------------------------------------------------------------------------- value formats

def tiff_datetime(when: datetime | None = None) -> str:
    """`TIFFTAG_DATETIME`: `YYYY:MM:DD HH:MM:SS` (TIFF has no zone; we write UTC)."""
    when = when or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y:%m:%d %H:%M:%S")


def acquisition_datetime(value: str | datetime) -> str:
    """`ACQUISITION_DATETIME`: `YYYY:MM:DDThh:mm:ssZ` (UTC, as since S1Tiling 1.1).

    Takes a datetime or a name stamp (`20200108t044150`, `20200108T044150`); a day stamp
    (`20200108txxxxxx`) gives midnight, as S1Tiling does.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y:%m:%dT%H:%M:%SZ")
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})[tT](\d{6}|x{6})", value)
    if not match:
        raise ValueError(f"not an acquisition stamp: {value!r}")
    y, m, d, t = match.groups()
    hms = "00:00:00" if t == "xxxxxx" else f"{t[0:2]}:{t[2:4]}:{t[4:6]}"
    return f"{y}:{m}:{d}T{hms}Z"


def _platform(flying_unit_code: str) -> str:
    """`s1a` → `A`, for "Sentinel-1A" in descriptions."""
    return flying_unit_code.strip()[-1].upper()


def _number(value: float | int) -> str:
    """Numbers as S1Tiling writes them (`str()` of the config value: `10.0`, `1e-07`)."""
    return str(float(value)) if isinstance(value, float | int) and not isinstance(value, bool) \
        else str(value)


# --------------------------------------------------------------------------- backscatter

def _image_keys(image: S1Image) -> dict[str, str]:
    f = image.fields()
    return {
        "FLYING_UNIT_CODE": f["flying_unit_code"],
        "RELATIVE_ORBIT_NUMBER": f["orbit"],
        "ORBIT_NUMBER": f["absolute_orbit"],
        "ORBIT_DIRECTION": f["orbit_direction"],
        "POLARIZATION": f["polarisation"],
    }


def _product_of(image: S1Image) -> str:
    if not image.product:
        raise ValueError(f"INPUT_S1_IMAGES needs the product name of {image.measurement}")
    return re.sub(r"(\.SAFE|\.zip)/?$", "", image.product.rstrip("/").rsplit("/", 1)[-1])


def _acquisition_keys(images: Sequence[S1Image], numbered: bool = True) -> dict[str, str]:
    """`INPUT_S1_IMAGES`, `ACQUISITION_DATETIME` and `…_1..N`: S1Tiling numbers the inputs of
    every day's product, a one-image day's too (`numbered`), not those of one orthorectified
    image."""
    if len(images) == 1 and not numbered:
        return {"INPUT_S1_IMAGES": _product_of(images[0]),
                "ACQUISITION_DATETIME": acquisition_datetime(images[0].acquisition_time)}
    # S1Tiling sorts the product names and reads each start time from them.
    pairs = sorted((_product_of(image), image.acquisition_time) for image in images)
    starts = [_product_start(name) or stamp for name, stamp in pairs]
    keys = {"INPUT_S1_IMAGES": ", ".join(name for name, _ in pairs),
            "ACQUISITION_DATETIME": acquisition_datetime(starts[0])}
    for index, start in enumerate(starts, start=1):
        keys[f"ACQUISITION_DATETIME_{index}"] = acquisition_datetime(start)
    return keys


def _product_start(product: str) -> str | None:
    match = re.search(r"_(\d{8}T\d{6})_\d{8}T\d{6}_", product)
    return match.group(1) if match else None


def backscatter_tags(images: Sequence[S1Image], *, tile_name: str, calibration: str,
                     noise_removed: bool, lower_signal_value: float | None,
                     interpolator: str, spatial_resolution: float, dem_info: str,
                     concatenated: bool = True) -> dict[str, str]:
    """A β°/σ°/γ° tile: one image orthorectified (`concatenated=False`) or the day's product.

    `calibration` is the LUT (`beta` for NORMLIM, `sigma` for RTC: their intermediates);
    `lower_signal_value` is recorded only when thermal noise is removed, as S1Tiling does.
    """
    if not images:
        raise ValueError("a backscatter tile needs at least one S1 image")
    if not concatenated and len(images) != 1:
        raise ValueError("an orthorectified image has exactly one input image")
    first = min(images, key=lambda image: image.acquisition_time)
    tags = {
        **_image_keys(first),
        "IMAGE_TYPE": "BACKSCATTERING" if concatenated else "GRD",
        **_acquisition_keys(images, numbered=concatenated),
        "CALIBRATION": calibration,
        "NOISE_REMOVED": str(bool(noise_removed)),
        "ORTHORECTIFICATION_INTERPOLATOR": interpolator,
        "ORTHORECTIFIED": "true",
        "S2_TILE_CORRESPONDING_CODE": tile_name,
        "SPATIAL_RESOLUTION": _number(spatial_resolution),
        "DEM_INFO": dem_info,
        "TIFFTAG_IMAGEDESCRIPTION": f"{calibration} calibrated orthorectified Sentinel-1"
                                    f"{_platform(first.parsed.flying_unit_code)} IW GRD",
    }
    if noise_removed and lower_signal_value is not None:
        tags["LOWER_SIGNAL_VALUE"] = _number(lower_signal_value)
    return tags


def _inherit(base: Mapping[str, str]) -> dict[str, str]:
    """The keys a derived product keeps from the one it is made from."""
    return {k: str(v) for k, v in base.items() if k not in _PER_FILE_KEYS}


def _basename(uri: str) -> str:
    """File name of a path or URI: S1Tiling records map files by name only."""
    return str(uri).rstrip("/").rsplit("/", 1)[-1]


def _platform_of(base: Mapping[str, str]) -> str:
    return _platform(base.get("FLYING_UNIT_CODE", "s1?"))


def normlim_tags(base: Mapping[str, str], *, lia_file: str) -> dict[str, str]:
    """σ°_NORMLIM = β° · sin(LIA): the β° product's keys, then `CALIBRATION=Normlim`, `LIA_FILE`."""
    return {**_inherit(base), "CALIBRATION": "Normlim",
            "LIA_FILE": _basename(lia_file),
            "IMAGE_TYPE": "BACKSCATTERING",
            "TIFFTAG_IMAGEDESCRIPTION": f"Sigma0 Normlim Calibrated Sentinel-1{_platform_of(base)} IW GRD"}


def rtc_tags(base: Mapping[str, str], *, gamma_area_file: str) -> dict[str, str]:
    """γ°T RTC: the σ° product's keys, then `CALIBRATION=GammaNaughtRTC`, `GAMMA_AREA_FILE`."""
    return {**_inherit(base), "CALIBRATION": "GammaNaughtRTC",
            "GAMMA_AREA_FILE": _basename(gamma_area_file),
            "IMAGE_TYPE": "BACKSCATTERING",
            "TIFFTAG_IMAGEDESCRIPTION": f"Gamma0 RTC Calibrated Sentinel-1{_platform_of(base)} IW GRD"}


def filtered_tags(base: Mapping[str, str], *, method: str, window_radius: int,
                  nblooks: float | None = None, deramp: float | None = None) -> dict[str, str]:
    """Despeckled: `FILTERED=true`, the method, its radius, and `nblooks` or `deramp`."""
    tags = {**_inherit(base), "FILTERED": "true", "FILTERING_METHOD": method.lower(),
            "FILTERING_WINDOW_RADIUS": str(int(window_radius)), "IMAGE_TYPE": "BACKSCATTERING",
            "TIFFTAG_IMAGEDESCRIPTION": f"Orthorectified and despeckled Sentinel-1"
                                        f"{_platform_of(base)} IW GRD S2 tile"}
    if deramp:
        tags["FILTERING_DERAMP"] = _number(deramp)
    if nblooks:
        tags["FILTERING_NBLOOKS"] = _number(nblooks)
    return tags


def mask_tags(base: Mapping[str, str]) -> dict[str, str]:
    """Border mask of a final product: its keys, `IMAGE_TYPE=MASK`."""
    return {**_inherit(base), "IMAGE_TYPE": "MASK",
            "TIFFTAG_IMAGEDESCRIPTION": f"Orthorectified Sentinel-1{_platform_of(base)} IW GRD "
                                        f"smoothed border mask S2 tile"}


def quicklook_scale(ratio: int | float) -> str:
    """`QUICKLOOK_SCALE`: the size ratio (in %) as a fraction, 5 → `1/20`."""
    fraction = Fraction(str(ratio)) / 100
    return f"{fraction.numerator}/{fraction.denominator}"


def quicklook_tags(base: Mapping[str, str], *, ratio: int | float, scale: float) -> dict[str, str]:
    """JPEG quicklook: the product's keys (gdal.Translate copies them), plus its scaling and
    S1Tiling's description ("Quicklook of Sentinel-1A IW GRD S2 tile")."""
    tags = _inherit(base)
    tags.update({"IMAGE_TYPE": "QUICKLOOK", "QUICKLOOK_SCALE": quicklook_scale(ratio),
                 "QUICKLOOK_PIXEL_RANGE": f"0 .. {scale}",
                 "TIFFTAG_IMAGEDESCRIPTION": f"Quicklook of Sentinel-1{_platform_of(base)} IW GRD S2 tile"})
    return tags


# --------------------------------------------------------------------------- correction maps

_LIA_DATA_TYPES = {"sin": "sin(LIA)", "deg": "100 * degrees(LIA)"}
_IA_DATA_TYPES = {"deg": "100 * degrees(IA)", "cos": "cos(IA)", "sin": "sin(IA)", "tan": "tan(IA)"}


def _map_keys(*, tile_name: str, orbit_direction: str, relative_orbit: int,
              spatial_resolution: float) -> dict[str, str]:
    return {"ORBIT_DIRECTION": orbit_direction_code(orbit_direction),
            "RELATIVE_ORBIT_NUMBER": f"{int(relative_orbit):03d}",
            "ORTHORECTIFIED": "true", "S2_TILE_CORRESPONDING_CODE": tile_name,
            "SPATIAL_RESOLUTION": _number(spatial_resolution)}


def lia_tags(kind: str, *, tile_name: str, orbit_direction: str, relative_orbit: int,
             spatial_resolution: float, dem_info: str, dem_list: Sequence[str],
             dem_resampling_method: str, eof_file: str,
             geoid_interpolator: str) -> dict[str, str]:
    """`sin_LIA_*` (`kind="sin"`) or `LIA_*` (`kind="deg"`, 100 × degrees) on an S2 tile."""
    data_type = _LIA_DATA_TYPES[kind]
    return {**_map_keys(tile_name=tile_name, orbit_direction=orbit_direction,
                        relative_orbit=relative_orbit, spatial_resolution=spatial_resolution),
            "DATA_TYPE": data_type, "IMAGE_TYPE": "LIA", "DEM_INFO": dem_info,
            "DEM_LIST": ", ".join(sorted(dem_list)), "DEM_RESAMPLING_METHOD": dem_resampling_method,
            "EOF_FILE": _basename(eof_file), "GEOID_ORTHORECTIFICATION_INTERPOLATOR": geoid_interpolator,
            "TIFFTAG_IMAGEDESCRIPTION": f"{data_type} on S2 grid"}


def ia_tags(kind: str, *, tile_name: str, orbit_direction: str, relative_orbit: int,
            spatial_resolution: float, eof_file: str) -> dict[str, str]:
    """Ellipsoid incidence angle maps (`deg`, `cos`, `sin`, `tan`): LIA's keys, no DEM keys."""
    data_type = _IA_DATA_TYPES[kind]
    return {**_map_keys(tile_name=tile_name, orbit_direction=orbit_direction,
                        relative_orbit=relative_orbit, spatial_resolution=spatial_resolution),
            "DATA_TYPE": data_type, "IMAGE_TYPE": "IA", "EOF_FILE": _basename(eof_file),
            "TIFFTAG_IMAGEDESCRIPTION": f"{data_type} on S2 grid"}


def gamma_area_tags(images: Sequence[S1Image], *, tile_name: str, spatial_resolution: float,
                    dem_info: str) -> dict[str, str]:
    """γ-area map of a tile (the best-covering pair): acquisition and orbit keys, area in m².

    `DATA_TYPE` is `meters^2` as S1Tiling's code writes it (its docs say `GAMMA_AREA`);
    `DEM_LIST` is cleared on concatenation, as S1Tiling does.
    """
    first = min(images, key=lambda image: image.acquisition_time)
    keys = _image_keys(first)
    del keys["POLARIZATION"]  # one map serves every polarisation
    return {**keys, **_acquisition_keys(images), "DATA_TYPE": "meters^2", "IMAGE_TYPE": "GRD",
            "ORTHORECTIFIED": "true", "S2_TILE_CORRESPONDING_CODE": tile_name,
            "SPATIAL_RESOLUTION": _number(spatial_resolution), "DEM_INFO": dem_info,
            "DEM_LIST": "", "TIFFTAG_IMAGEDESCRIPTION": "GAMMA AREA on S2 grid"}


# --------------------------------------------------------------------------- common keys

#: The heights raster's key saying where the geoid stood in for a missing DEM (sea cells).
GEOID_STANDS_IN = "DEM_GEOID"


def default_dem_info(dem_dir: str) -> str:
    """`DEM_INFO` when `[Paths] dem_info` is not set: the DEM folder's name, as S1Tiling."""
    return os.path.basename(str(dem_dir).rstrip("/"))


def dem_info(name: str, heights_tags: Mapping[str, str] | None = None) -> str:
    """`DEM_INFO`: the DEM's name (S1Tiling's value), plus where the geoid stood in for it
    when the tile's heights say so (`GEOID_STANDS_IN`): "SRTM_30_hgt; geoid over the sea
    cells N59E004"."""
    note = (heights_tags or {}).get(GEOID_STANDS_IN, "")
    return f"{name}; {note}" if note and note not in name else name


def complete_tags(tags: Mapping[str, str], *, extra: Mapping[str, Any] | None = None,
                  provenance: Provenance | None = None,
                  when: datetime | None = None) -> dict[str, str]:
    """A product's tags plus what every product has (generation time, software, `[Metadata]`).

    `[Metadata]` keys come first: a user key never replaces a key S1Tiling defines, since tools
    parse those. Provenance keys come last.
    """
    out = {str(k): str(v) for k, v in (extra or {}).items()}
    for key in out:
        if not key or "=" in key or key.strip() != key:
            raise ValueError(f"invalid metadata key {key!r}")
    out.update({k: str(v) for k, v in tags.items()})
    out["TIFFTAG_DATETIME"] = tiff_datetime(when)
    out["TIFFTAG_SOFTWARE"] = SOFTWARE
    out["S1TILING_COMPATIBLE_VERSION"] = S1TILING_COMPATIBLE_VERSION
    if provenance is not None:
        out.update(provenance.tags())
    return out


# --------------------------------------------------------------------------- provenance

def redact_uri(uri: str) -> str:
    """A URI without user info nor query (pre-signed URLs carry credentials there)."""
    parts = urlsplit(str(uri))
    if not parts.scheme or len(parts.scheme) == 1:  # a local path (or a Windows drive)
        return str(uri)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _canonical(value: Any) -> Any:
    """JSON-able, order-independent form of params, so equal params hash equally."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)  # 'nan', 'inf', '-inf'
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return _canonical(value.item())  # numpy scalars
    if isinstance(value, enum.Enum):
        return _canonical(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _canonical(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"cannot record {type(value).__name__} in provenance: {value!r}")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@dataclasses.dataclass(frozen=True)
class Provenance:
    """What made an output: software version, stage, its params and its input URIs.

    Its `digest` is the re-run key: an output whose `PROVENANCE_HASH` equals it was made by the
    same software from the same inputs with the same params, so it can be reused. Inputs keep
    their order (it matters, e.g. "first non-null pixel" concatenation); URIs are recorded and
    hashed without user info or query, so credentials never land in metadata and pre-signed
    URLs do not defeat reuse. Anything that changes the pixels or the tags (including
    `[Metadata]` keys) belongs in `params`.
    """

    stage: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    inputs: Sequence[str] = ()
    software: str = __version__

    def _record(self) -> dict[str, Any]:
        return {"software": self.software, "stage": self.stage,
                "params": _canonical(self.params),
                "inputs": [redact_uri(str(uri)) for uri in self.inputs]}

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(_json(self._record()).encode()).hexdigest()

    def tags(self) -> dict[str, str]:
        record = self._record()
        return {"PROVENANCE_HASH": self.digest,
                "PROVENANCE_SOFTWARE": f"s1tiling-cloud {self.software}",
                "PROVENANCE_STAGE": self.stage,
                "PROVENANCE_INPUTS": _json(record["inputs"]),
                "PROVENANCE_PARAMS": _json(record["params"])}

    def matches(self, tags: Mapping[str, str]) -> bool:
        """Whether tags read from an existing output record this very provenance."""
        return tags.get("PROVENANCE_HASH") == self.digest
