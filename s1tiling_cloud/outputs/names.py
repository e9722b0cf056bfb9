"""S1Tiling's file and folder names: formats, their fields, and parsing names back into fields.

Names are part of S1Tiling's interface: users glob them, other tools parse them, and a re-run
decides what is already done from them. So the defaults, the fields and the extra conversions
(`!c`, `!l`, `!u`) are S1Tiling 1.4's, and a user's `fname_fmt.*` /
`dname_fmt.*` override them key by key as in S1Tiling's `[Processing]` section.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from ..exceptions import ConfigurationError

__all__ = [
    "IA_MAP_KINDS",
    "LIA_MAP_KINDS",
    "CALIBRATION_LUT",
    "CALIBRATIONS_IN_S1",
    "DEFAULT_DNAME_FMTS",
    "DEFAULT_FNAME_FMTS",
    "FIELDS",
    "FINAL_CALIBRATION_TYPE",
    "MeasurementName",
    "Naming",
    "ORBITS_PER_CYCLE",
    "ORTHO_MARK",
    "PLATFORMS",
    "ProductName",
    "S1Image",
    "check_format",
    "default_dirs",
    "format_name",
    "mask_name",
    "name_regex",
    "orbit_offset",
    "orbit_direction_code",
    "parse_name",
    "relative_orbit",
    "remove_polarisation_marks",
    "split_tile_name",
    "tile_fields",
]

_TILE = "{flying_unit_code}_{tile_name}_{polarisation}_{orbit_direction}_{orbit}"

#: S1Tiling's `DEFAULT_FNAME_FMTS` plus its documented step defaults, under S1Tiling's key names.
DEFAULT_FNAME_FMTS: Mapping[str, str] = MappingProxyType({
    "concatenation": _TILE + "_{acquisition_stamp}.tif",
    "concatenation_calib": _TILE + "_{acquisition_stamp}_{calibration_type}.tif",
    "filtered": _TILE + "_{acquisition_stamp}_filtered.tif",
    "filtered_calib": _TILE + "_{acquisition_stamp}_{calibration_type}_filtered.tif",
    "lia_corrected": _TILE + "_{acquisition_stamp}_NormLim.tif",
    "gamma_area_corrected": _TILE + "_{acquisition_stamp}_GammaNaughtRTC.tif",
    "quicklook": _TILE + "_{acquisition_stamp}_quicklook.jpg",
    "lia_product": "{LIA_kind}_{tile_name}_{orbit}.tif",
    "ia_product": "{IA_kind}_{tile_name}_{orbit}.tif",
    "gamma_area": "GAMMA_AREA_{tile_name}_{orbit}.tif",
    "orthorectification": _TILE + "_{acquisition_time}_{calibration_type}.tif",
    "cut_borders": "{rootname}_{calibration_type}_OrthoReady.tiff",
    "calibration": "{rootname}_{calibration_type}_calOk.tiff",
    "correct_denoising": "{rootname}_{calibration_type}_NoiseFixed.tiff",
})

#: S1Tiling's `dname_fmt.*` defaults; `s2_tmp` is ours: where intermediates of a tile go.
DEFAULT_DNAME_FMTS: Mapping[str, str] = MappingProxyType({
    "tiled": "{out_dir}/{tile_name}",
    "mask": "{out_dir}/{tile_name}",
    "filtered": "{out_dir}/filtered/{tile_name}",
    "quicklook": "{out_dir}/_QL",
    "lia_product": "{lia_dir}",
    "ia_product": "{ia_dir}",
    "gamma_area_product": "{gamma_area_dir}",
    "eof_product": "{eof_dir}",
    "s2_tmp": "{tmp_dir}/S2/{tile_name}",
})

#: Calibrations done in S1 geometry: their concatenated product is the final one.
CALIBRATIONS_IN_S1 = ("sigma", "beta", "gamma", "dn")
#: The LUT the terrain-corrected calibrations start from.
CALIBRATION_LUT: Mapping[str, str] = MappingProxyType({"normlim": "beta", "gamma_naught_rtc": "sigma"})
#: `calibration_type` (and `CALIBRATION`) of the corrected products, as S1Tiling writes them.
FINAL_CALIBRATION_TYPE: Mapping[str, str] = MappingProxyType(
    {"normlim": "Normlim", "gamma_naught_rtc": "GammaNaughtRTC"})

#: S1Tiling's `LIA_kind` / `IA_kind` file-name values and the value each map holds ("deg":
#: degrees × 100; else that function of the angle).
LIA_MAP_KINDS: Mapping[str, str] = MappingProxyType({"sin_LIA": "sin", "LIA": "deg"})
IA_MAP_KINDS: Mapping[str, str] = MappingProxyType(
    {"IA": "deg", "cos_IA": "cos", "sin_IA": "sin", "tan_IA": "tan"})

#: The fields a format may use (S1Tiling's), plus the folder fields of `dname_fmt`.
FIELDS = frozenset({
    "flying_unit_code", "flying_unit_code_short", "tile_name", "polarisation", "orbit_direction",
    "orbit", "absolute_orbit", "acquisition_time", "acquisition_day", "acquisition_stamp",
    "acquisition_start", "calibration_type", "filter_method", "LIA_kind", "IA_kind", "basename",
    "rootname", "polarless_basename", "polarless_rootname",
})
DIR_FIELDS = frozenset({"tile_name", "out_dir", "tmp_dir", "ia_dir", "lia_dir", "gamma_area_dir",
                        "eof_dir"})

#: The Sentinel-1 platforms: the only ones with names, orbits and precise orbit files here.
PLATFORMS = ("S1A", "S1B", "S1C", "S1D")
#: Relative orbit = (absolute − offset) % 175 + 1 (S1Tiling's LIA workflow), offset per platform and
#: absolute orbit: S1C was re-phased in June 2026 (offset 172 up to absolute orbit 8018, 99
#: after: Copernicus SentiWiki, S1 products naming convention).
_ORBIT_OFFSETS: Mapping[str, tuple[tuple[int, int], ...]] = MappingProxyType({
    "S1A": ((0, 73),), "S1B": ((0, 27),), "S1C": ((0, 172), (8019, 99)), "S1D": ((0, 42),)})
ORBITS_PER_CYCLE = 175


# --------------------------------------------------------------------------- formatting

class _S1TilingFormatter(string.Formatter):
    """`str.format` plus S1Tiling's conversions: `!c` capitalize, `!l` lower, `!u` upper."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "c":
            return str(value).capitalize()
        if conversion == "l":
            return str(value).lower()
        if conversion == "u":
            return str(value).upper()
        return super().convert_field(value, conversion)


_FORMATTER = _S1TilingFormatter()


def format_name(fmt: str, fields: Mapping[str, Any]) -> str:
    """Apply a name format; a field the format needs and `fields` lacks is a configuration error."""
    try:
        return _FORMATTER.vformat(fmt, (), fields)
    except KeyError as error:
        name = error.args[0]
        raise ConfigurationError(f"name format {fmt!r} needs field {{{name}}}, which is not "
                                 f"known here (known: {', '.join(sorted(fields))})") from None
    except (ValueError, IndexError) as error:
        raise ConfigurationError(f"invalid name format {fmt!r}: {error}") from None


def check_format(fmt: str, allowed: Iterable[str] = FIELDS) -> None:
    """Fail early (at configuration time) on unknown fields, positional fields, bad conversions."""
    allowed = set(allowed)
    try:
        parsed = list(_FORMATTER.parse(fmt))
    except ValueError as error:
        raise ConfigurationError(f"invalid name format {fmt!r}: {error}") from None
    for _, name, _, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            raise ConfigurationError(f"name format {fmt!r} uses unknown field {{{name}}}; "
                                     f"available: {', '.join(sorted(allowed))}")
        if conversion not in (None, "c", "l", "u", "r", "s", "a"):
            raise ConfigurationError(f"name format {fmt!r}: unknown conversion !{conversion}")


#: The parts of an MGRS tile name (`33NWB`): UTM zone, latitude band (C..X), 100 km square
#: column (A..Z) and row (A..V) letters, never I nor O. The one definition of a tile name.
_TILE_PARTS = (r"\d{1,2}", r"[C-HJ-NP-X]", r"[A-HJ-NP-Z]", r"[A-HJ-NP-V]")
#: A tile name as written in a product name, or, with Sentinel-2's `T` before it, anywhere.
_TILE_NAME = re.compile("T?" + "".join(f"({part})" for part in _TILE_PARTS))


def split_tile_name(name: str) -> tuple[int, str, str, str] | None:
    """The UTM zone, latitude band, column and row letters of a tile name (`33NWB`, `t33nwb`,
    `T33NWB`, `3NWB`), or None if `name` is not one (its letters may be in any case).

    Parameters
    ----------
    name : str
        The name, maybe with surrounding spaces.

    Returns
    -------
    tuple of (int, str, str, str) or None
        The zone (not checked against 1..60) and the three upper-case letters.
    """
    match = _TILE_NAME.fullmatch(name.strip().upper()) if isinstance(name, str) else None
    if match is None:
        return None
    return int(match[1]), match[2], match[3], match[4]


_FIELD_PATTERNS = {
    "flying_unit_code": r"s1[a-z]",
    "flying_unit_code_short": r"[A-Z]",
    "tile_name": "".join(_TILE_PARTS),
    "polarisation": r"(?:hh|hv|vh|vv)",
    "orbit_direction": r"(?:ASC|DES)",
    "orbit": r"\d{3}",
    "absolute_orbit": r"\d{6}",
    "acquisition_time": r"\d{8}t\d{6}",
    "acquisition_day": r"\d{8}txxxxxx",
    "acquisition_stamp": r"\d{8}t(?:\d{6}|xxxxxx)",
    "acquisition_start": r"\d{8}t\d{6}",
    "calibration_type": r"[A-Za-z]+",
    "filter_method": r"[A-Za-z]+",
    "LIA_kind": r"(?:sin_LIA|LIA)",
    "IA_kind": r"(?:cos_IA|sin_IA|tan_IA|IA)",
}


def name_regex(fmt: str, known: Mapping[str, Any] | None = None) -> re.Pattern[str]:
    """A regex matching every name `fmt` can produce, with the `known` fields fixed.

    S1Tiling decides what is already produced by matching expected names (a pair's `txxxxxx`
    name or a single image's time stamp); unknown fields become named groups.
    """
    known = dict(known or {})
    parts: list[str] = []
    seen: set[str] = set()
    for literal, name, spec, conversion in _FORMATTER.parse(fmt):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in known:
            value = _FORMATTER.format_field(_FORMATTER.convert_field(known[name], conversion), spec)
            parts.append(re.escape(value))
        elif name in seen:
            parts.append(f"(?P={name})")
        else:
            seen.add(name)
            pattern = _FIELD_PATTERNS.get(name, r"[^/]+?") if not spec else r"[^/]+?"
            if conversion in ("c", "l", "u"):
                pattern = f"(?i:{pattern})"
            parts.append(f"(?P<{name}>{pattern})")
    return re.compile("^" + "".join(parts) + "$")


def parse_name(name: str, fmt: str) -> dict[str, str] | None:
    """The fields of a name produced by `fmt` (as written in the name), or None if it is not one."""
    match = name_regex(fmt).match(name)
    return match.groupdict() if match else None


# --------------------------------------------------------------------------- input names

_MEASUREMENT = re.compile(
    r"^(?P<flying_unit_code>s1[a-z])-(?P<swath>[a-z]{2}\d?)-(?P<product>[a-z]{3})-"
    r"(?P<polarisation>hh|hv|vh|vv)-(?P<start>\d{8}t\d{6})-(?P<stop>\d{8}t\d{6})-"
    r"(?P<absolute_orbit>\d{6})-(?P<datatake>[0-9a-f]{6})-(?P<image_number>\d{3})\.tiff?$",
    re.IGNORECASE)

_PRODUCT = re.compile(
    r"^(?P<mission>S1[A-Z])_(?P<mode>[A-Z0-9]{2})_(?P<product_type>[A-Z_]{3}[FHM_])_"
    r"(?P<level>\d)(?P<klass>[SA])(?P<polarisations>[SD][HV]|[HV]{2})_"
    r"(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})_(?P<absolute_orbit>\d{6})_"
    r"(?P<datatake>[0-9A-F]{6})_(?P<crc>[0-9A-F]{4})(?:\.SAFE|\.zip)?/?$")


def _stamp_to_datetime(stamp: str) -> datetime:
    return datetime.strptime(stamp.upper(), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


@dataclass(frozen=True)
class MeasurementName:
    """A measurement TIFF name, `s1a-iw-grd-vv-20200108t044150-…-030704-038506-001.tiff`."""

    basename: str
    flying_unit_code: str
    swath: str
    product: str
    polarisation: str
    start: str
    stop: str
    absolute_orbit: int
    datatake: str
    image_number: str

    @classmethod
    def parse(cls, name: str) -> MeasurementName:
        basename = name.rstrip("/").rsplit("/", 1)[-1]
        match = _MEASUREMENT.match(basename)
        if not match:
            raise ValueError(f"not a Sentinel-1 measurement name: {basename!r}")
        g = {k: v.lower() for k, v in match.groupdict().items()}
        return cls(basename=basename, flying_unit_code=g["flying_unit_code"], swath=g["swath"],
                   product=g["product"], polarisation=g["polarisation"], start=g["start"],
                   stop=g["stop"], absolute_orbit=int(g["absolute_orbit"]),
                   datatake=g["datatake"], image_number=g["image_number"])


@dataclass(frozen=True)
class ProductName:
    """A SAFE product name, `S1A_IW_GRDH_1SDV_20200108T044150_…_030704_038506_5C57[.SAFE]`."""

    name: str
    mission: str
    mode: str
    product_type: str
    polarisations: str
    start: datetime
    stop: datetime
    absolute_orbit: int
    datatake: str
    crc: str

    @classmethod
    def parse(cls, name: str) -> ProductName:
        basename = name.rstrip("/").rsplit("/", 1)[-1]
        match = _PRODUCT.match(basename)
        if not match:
            raise ValueError(f"not a Sentinel-1 product name: {basename!r}")
        g = match.groupdict()
        return cls(name=re.sub(r"(\.SAFE|\.zip)$", "", basename), mission=g["mission"],
                   mode=g["mode"], product_type=g["product_type"],
                   polarisations=g["polarisations"], start=_stamp_to_datetime(g["start"]),
                   stop=_stamp_to_datetime(g["stop"]), absolute_orbit=int(g["absolute_orbit"]),
                   datatake=g["datatake"], crc=g["crc"])

    @property
    def relative_orbit(self) -> int:
        return relative_orbit(self.mission, self.absolute_orbit)


def orbit_offset(platform: str, absolute_orbit: int) -> int:
    """The platform's relative-orbit offset at `absolute_orbit` (`S1A`, `s1c`, `sentinel-1d`)."""
    key = platform.strip().upper().replace("SENTINEL-", "S")[:3]
    if key not in _ORBIT_OFFSETS:
        raise ValueError(f"no relative-orbit offset known for platform {platform!r}; "
                         f"known: {', '.join(PLATFORMS)}")
    return [offset for first, offset in _ORBIT_OFFSETS[key] if int(absolute_orbit) >= first][-1]


def relative_orbit(platform: str, absolute_orbit: int) -> int:
    """Relative orbit (track) from the absolute orbit: `(abs − offset) % 175 + 1`. Only where
    nothing else says it: a product's manifest and most searches give `relativeOrbitNumber`."""
    return (int(absolute_orbit) - orbit_offset(platform, absolute_orbit)) % ORBITS_PER_CYCLE + 1


def orbit_direction_code(direction: str) -> str:
    """`DESCENDING`/`ASCENDING` (manifest `safe:pass`) → `DES`/`ASC`; codes pass through.

    S1Tiling's docs also say `DSC`; its code, and so its names, use `DES`.
    """
    code = direction.strip().upper()[:3]
    code = "DES" if code == "DSC" else code
    if code not in ("ASC", "DES"):
        raise ValueError(f"unknown orbit direction {direction!r}")
    return code


def remove_polarisation_marks(name: str) -> str:
    """A name without its polarisation (`vv-`, `VV_`) nor image number (`-001.`), as S1Tiling."""
    return re.sub(r"[hv][hv]-|[HV][HV]_|-00[12](?=\.)", "", name)


def _acquisition_day(acquisition_time: str) -> str:
    return re.sub(r"(?<=t)\d+$", lambda m: "x" * len(m.group()), acquisition_time)


@dataclass(frozen=True)
class S1Image:
    """One input image (a product's measurement in one polarisation) and its name fields.

    The orbit direction comes from the manifest (`safe:pass`); the absolute orbit is in the
    measurement name, and the relative orbit follows from it unless the manifest's is given.
    """

    measurement: str
    orbit_direction: str
    product: str | None = None
    relative_orbit: int | None = None
    absolute_orbit: int | None = None

    @property
    def parsed(self) -> MeasurementName:
        return MeasurementName.parse(self.measurement)

    @property
    def acquisition_time(self) -> str:
        return self.parsed.start

    def fields(self) -> dict[str, str]:
        m = self.parsed
        absolute = self.absolute_orbit if self.absolute_orbit is not None else m.absolute_orbit
        relative = (self.relative_orbit if self.relative_orbit is not None
                    else relative_orbit(m.flying_unit_code, absolute))
        polarless = remove_polarisation_marks(m.basename)
        return {
            "flying_unit_code": m.flying_unit_code,
            "flying_unit_code_short": m.flying_unit_code[-1].upper(),
            "polarisation": m.polarisation,
            "orbit_direction": orbit_direction_code(self.orbit_direction),
            "orbit": f"{relative:03d}",
            "absolute_orbit": f"{absolute:06d}",
            "acquisition_time": m.start,
            "acquisition_day": _acquisition_day(m.start),
            "acquisition_stamp": m.start,
            "acquisition_start": m.start,
            "basename": m.basename,
            "rootname": m.basename.rsplit(".", 1)[0],
            "polarless_basename": polarless,
            "polarless_rootname": polarless.rsplit(".", 1)[0],
        }


def tile_fields(images: Sequence[S1Image], tile_name: str, **extra: Any) -> dict[str, str]:
    """Fields of an S2 product made from the images of one day, orbit and polarisation.

    One image: `acquisition_stamp` is its time (`20200108t044150`); two (or more): the day
    (`20200108txxxxxx`); `acquisition_start` is the earliest time in both cases. Other fields
    are the first image's (by time), as S1Tiling carries its first input's.
    """
    if not images:
        raise ValueError("a tile product needs at least one S1 image")
    all_fields = sorted((image.fields() for image in images), key=lambda f: f["acquisition_time"])
    first = dict(all_fields[0])
    for key in ("polarisation", "orbit", "orbit_direction", "acquisition_day"):
        values = {f[key] for f in all_fields}
        if len(values) > 1:
            raise ValueError(f"images of one tile product differ in {key}: {sorted(values)}")
    if len(all_fields) > 1:
        first["acquisition_stamp"] = first["acquisition_day"]
        del first["acquisition_time"]  # S1Tiling drops it: it no longer names one time
    first["tile_name"] = tile_name
    first.update({k: str(v) for k, v in extra.items()})
    return first


# --------------------------------------------------------------------------- formats

def mask_name(product_name: str) -> str:
    """The border mask of a final product: `.tif` → `_BorderMask.tif` (S1Tiling's rule)."""
    return product_name.replace(".tif", "_BorderMask.tif")


def default_dirs(out_dir: str, tmp_dir: str | None = None, **overrides: str) -> dict[str, str]:
    """The folder fields of `dname_fmt`: S1Tiling's `[Paths]` defaults under `out_dir`."""
    out = str(out_dir).rstrip("/")
    dirs = {"out_dir": out, "lia_dir": f"{out}/_LIA", "ia_dir": f"{out}/_IA",
            "gamma_area_dir": f"{out}/_GAMMA_AREA", "eof_dir": f"{out}/_EOF"}
    if tmp_dir is not None:
        dirs["tmp_dir"] = str(tmp_dir).rstrip("/")
    unknown = set(overrides) - DIR_FIELDS
    if unknown:
        raise ValueError(f"unknown folder fields: {sorted(unknown)}")
    dirs.update({k: str(v).rstrip("/") for k, v in overrides.items()})
    return dirs


# Our product keys → how S1Tiling resolves their format: (user keys tried in order, default key).
_FINAL_FNAME = {
    "normlim": (("s2_lia_corrected",), "lia_corrected"),
    "gamma_naught_rtc": (("s2_gamma_area_corrected",), "gamma_area_corrected"),
}
_DNAME_OF = {
    "final": "tiled", "concatenation": "tiled", "filtered": "filtered", "mask": "mask",
    "quicklook": "quicklook", "lia_product": "lia_product", "ia_product": "ia_product",
    "gamma_area_product": "gamma_area_product", "orthorectification": "s2_tmp",
}
PRODUCTS = tuple(_DNAME_OF)
#: What tells an orthorectified image from the one-image product of the same name (`Naming.path`).
ORTHO_MARK = "ortho"


@dataclass(frozen=True)
class Naming:
    """Names and folders of one configuration: its calibration and its `fname_fmt`/`dname_fmt`.

    Products: `final` (the tile product users get), `concatenation` (the same for β/σ/γ,
    else the `_beta`/`_sigma` intermediate), `orthorectification` (per image), `filtered`,
    `mask`, `quicklook`, `lia_product`, `ia_product`, `gamma_area_product`.
    """

    calibration: str = "sigma"
    fname_fmt: Mapping[str, str] = field(default_factory=dict)
    dname_fmt: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = (*CALIBRATIONS_IN_S1, *CALIBRATION_LUT)
        if self.calibration not in known:
            raise ConfigurationError(f"unknown calibration {self.calibration!r}; one of {known}")
        for key, fmt in self.fname_fmt.items():
            check_format(fmt, FIELDS)
            if key == "gamma_area_product" and "gamma_area" in self.fname_fmt:
                raise ConfigurationError("give fname_fmt.gamma_area_product or fname_fmt.gamma_area,"
                                         " not both")
        for fmt in self.dname_fmt.values():
            check_format(fmt, DIR_FIELDS)

    @property
    def in_s1(self) -> bool:
        """Whether the calibration is done in S1 geometry (β°/σ°/γ°/DN): no correction step."""
        return self.calibration in CALIBRATIONS_IN_S1

    def _user_or_default(self, user_keys: Sequence[str], default_key: str) -> str:
        for key in user_keys:
            if key in self.fname_fmt:
                return self.fname_fmt[key]
        return DEFAULT_FNAME_FMTS[default_key]

    def fname(self, product: str) -> str:
        """The file name format of a product, the user's when given."""
        if product == "final" and not self.in_s1:
            return self._user_or_default(*_FINAL_FNAME[self.calibration])
        if product in ("final", "concatenation"):
            return self._user_or_default(
                ("concatenation",), "concatenation" if self.in_s1 else "concatenation_calib")
        if product == "filtered":
            if self.in_s1:
                return self._user_or_default(("filtered",), "filtered")
            return self._user_or_default(("filtered_calib", "filtered"), "filtered_calib")
        if product == "gamma_area_product":  # S1Tiling reads `gamma_area`: accept both
            return self._user_or_default(("gamma_area_product", "gamma_area"), "gamma_area")
        if product in ("quicklook", "lia_product", "ia_product", "orthorectification"):
            return self._user_or_default((product,), product)
        if product == "mask":
            raise ValueError("a mask is named after its product: use mask_name()")
        raise ValueError(f"unknown product {product!r}; one of {PRODUCTS}")

    def dname(self, product: str) -> str:
        """The folder format of a product, the user's when given."""
        if product == "concatenation" and not self.in_s1:
            key = "s2_tmp"
        else:
            try:
                key = _DNAME_OF[product]
            except KeyError:
                raise ValueError(f"unknown product {product!r}; one of {PRODUCTS}") from None
        return self.dname_fmt.get(key, DEFAULT_DNAME_FMTS[key])

    def filename(self, product: str, fields: Mapping[str, Any]) -> str:
        return format_name(self.fname(product), fields)

    def folder(self, product: str, dirs: Mapping[str, Any]) -> str:
        return format_name(self.dname(product), dirs).rstrip("/")

    def path(self, product: str, fields: Mapping[str, Any], dirs: Mapping[str, Any]) -> str:
        """`folder/filename` of a product (a local path or an s3:// URI, as `dirs` are).

        An orthorectified image never takes the name of the product concatenated from it: with
        S1Tiling's defaults for NORMLIM/γ°RTC both are `…_{time}_{beta|sigma}.tif` in the S2
        temporary folder when a day has one image (S1Tiling renames one into the other; here
        they are two files, and the intermediate's removal would take the product with it).
        The image then gets `_{ORTHO_MARK}` before its extension, pair or not: an image's name
        does not depend on its neighbours.
        """
        folder = self.folder(product, {**dirs, "tile_name": fields.get("tile_name", "")})
        if product == "mask":
            name = mask_name(self.filename("final", fields))
        else:
            name = self.filename(product, fields)
        path = f"{folder}/{name}"
        if product == "orthorectification":
            concatenated = self.path("final" if self.in_s1 else "concatenation", fields, dirs)
            if concatenated == path:
                stem, dot, ext = name.rpartition(".")
                path = f"{folder}/{stem}_{ORTHO_MARK}{dot}{ext}" if dot else f"{path}_{ORTHO_MARK}"
        return path
