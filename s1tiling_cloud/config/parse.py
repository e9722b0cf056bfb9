"""`load_request`: S1Tiling's `.cfg` read into a checked `Request`.

Same keys, defaults, legacy aliases and error messages as S1Tiling 1.4.2, except where its
behaviour is a defect (every `creation_options.*` key is honoured, `DSC` is accepted as the docs
say, section names are case-insensitive as `[PATHS]` in the docs). Our own sections:
`[Storage]` (how to reach object storage; never credentials) and `[Stac]`. Paths may be
`s3://bucket/prefix` URIs; local paths are made absolute from the current folder.
"""

from __future__ import annotations

import logging
import math
import os
import re
import string
from collections.abc import Mapping

from ..exceptions import ConfigurationError
from ..outputs.metadata import default_dem_info
from ..store import Store
from .ini import IniReader, split_list
from .model import (
    DataSourceSection,
    FilteringSection,
    MaskSection,
    PathsSection,
    QuicklookSection,
    Request,
    StacSection,
    StorageSection,
)
from .processing import DOTTED_PREFIXES, PROCESSING_OPTIONS, parse_processing
from .values import ALL_TILES, absolute_path, check_url, is_uri, parse_date, relative_orbits, tile_names

__all__ = ["FILTERS", "POLARISATIONS", "load_request", "parse_request"]

log = logging.getLogger(__name__)

POLARISATIONS = ("VV-VH", "HH-HV", "VV", "VH", "HH", "HV")
FILTERS = ("lee", "frost", "gammamap", "kuan")
_ORBIT_DIRECTIONS = {"ASC": "ASC", "DES": "DES", "DSC": "DES"}
_ADDRESSING_STYLES = ("path", "virtual")
#: Option names that look like credentials: refused in [Storage] and [Stac].
_SECRET = re.compile(r"access_key|secret|token|password|passwd|credential|^key$|session")

_KNOWN_OPTIONS: Mapping[str, frozenset[str]] = {
    "Paths": frozenset({"output", "s1_images", "tmp", "dem_dir", "srtm", "dem_database", "dem_format",
                        "dem_info", "geoid_file", "lia", "ia", "gamma_area", "eof_dir"}),
    "DataSource": frozenset({"download", "eodag_config", "eodagconfig", "roi_by_tiles", "first_date",
                             "last_date", "platform_list", "polarisation", "orbit_direction",
                             "relative_orbit_list", "tile_to_product_overlap_ratio",
                             "nb_parallel_downloads"}),
    "Mask": frozenset({"generate_border_mask"}),
    "Quicklook": frozenset({"generate", "ratio", "scale_vv", "scale_vh", "scale_hv", "scale_hh"}),
    "Filtering": frozenset({"filter", "window_radius", "deramp", "nblooks", "keep_non_filtered_products"}),
    "Processing": PROCESSING_OPTIONS,
    "Storage": frozenset({"endpoint_url", "region", "anonymous", "verify_ssl", "addressing_style",
                          "connect_timeout", "read_timeout", "max_attempts"}),
    "Stac": frozenset({"catalog", "api_url", "public_url", "publish"}),
}


def load_request(source: str | os.PathLike, *, text: str | None = None,
                 environ: Mapping[str, str] | None = None) -> Request:
    """The request of a `.cfg` file (a local path or an s3:// URI), or of `text` named `source`.

    `environ` feeds `%(NAME)s` interpolation (default: `os.environ`). Every problem is a
    `ConfigurationError` (exit 72) naming the section, the option and the file.
    """
    name = os.fspath(source)
    if text is None:
        text = _read_text(name)
    return parse_request(IniReader(text, name, os.environ if environ is None else environ))


def parse_request(ini: IniReader) -> Request:
    """The request of an already read `.cfg`."""
    _warn_unknown_options(ini)
    storage = _storage(ini)
    mask = MaskSection(generate_border_mask=ini.getboolean("Mask", "generate_border_mask"))
    request = Request(
        paths=_paths(ini),
        data_source=_data_source(ini),
        mask=mask,
        processing=parse_processing(ini, storage.storage_options()),
        quicklook=_quicklook(ini),
        filtering=_filtering(ini, mask),
        metadata=ini.items_case_kept("Metadata"),
        storage=storage,
        stac=_stac(ini),
        source=ini.source,
    )
    if (request.processing.tiles == [ALL_TILES] and request.data_source.download
            and ALL_TILES in request.data_source.roi_by_tiles):
        raise ini.error("Can not request to download 'ROI_by_tiles : ALL' if 'Tiles : ALL'. Change "
                        "either value or deactivate download instead")
    return request


def _read_text(name: str) -> str:
    try:
        if is_uri(name):
            return Store().read_bytes(name).decode("utf-8")
        with open(name, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"Cannot read the configuration file: {error}", name) from error


def _warn_unknown_options(ini: IniReader) -> None:
    """Unused keys are ignored, as S1Tiling does, but said: they are often typos."""
    known_sections = {name.lower() for name in (*_KNOWN_OPTIONS, "Metadata", "PEPS")}
    for section in ini.sections():
        if section.lower() not in known_sections:
            log.warning("Unknown section [%s] in %s: ignored", section, ini.source)
    for section, known in _KNOWN_OPTIONS.items():
        for option in ini.options(section):
            dotted = section == "Processing" and option.startswith(DOTTED_PREFIXES)
            secret = section in ("Storage", "Stac") and _SECRET.search(option)  # an error, later
            if option not in known and not dotted and not secret:
                log.warning("Unknown option [%s] %s in %s: ignored", section, option, ini.source)


# ---- [Paths] -----------------------------------------------------------------------------

def _paths(ini: IniReader) -> PathsSection:
    dem_dir = ini.get_optional("Paths", "dem_dir")
    if dem_dir is None:
        dem_dir = ini.get_optional("Paths", "srtm")
        if dem_dir is None:
            raise ini.error("No option 'dem_dir' (nor its deprecated alias 'srtm') in section: 'Paths'")
        log.warning("[Paths] srtm is deprecated: use dem_dir")
    tmp = absolute_path(ini.get("Paths", "tmp"))
    if not is_uri(tmp) and not os.path.isdir(tmp) and not os.path.isdir(os.path.dirname(tmp)):
        raise ini.error(f"[Paths] tmp: tmpdir={tmp} is not a valid path (neither it nor its parent "
                        "folder exists)")
    dem_format = ini.get("Paths", "dem_format", "{id}.hgt")
    _check_dem_format(ini, dem_format)
    dem_dir = absolute_path(dem_dir)
    return PathsSection(
        output=absolute_path(ini.get("Paths", "output")),
        s1_images=absolute_path(ini.get("Paths", "s1_images")),
        tmp=tmp,
        dem_dir=dem_dir,
        dem_database=absolute_path(ini.get_optional("Paths", "dem_database")),
        dem_format=dem_format,
        dem_info=ini.get_optional("Paths", "dem_info") or default_dem_info(dem_dir),
        geoid_file=absolute_path(ini.get_optional("Paths", "geoid_file")),
        lia=absolute_path(ini.get_optional("Paths", "lia")),
        ia=absolute_path(ini.get_optional("Paths", "ia")),
        gamma_area=absolute_path(ini.get_optional("Paths", "gamma_area")),
        eof_dir=absolute_path(ini.get_optional("Paths", "eof_dir")),
    )


def _check_dem_format(ini: IniReader, dem_format: str) -> None:
    """Named fields only (they come from the DEM database or the 1-degree cell)."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(dem_format) if name is not None]
    except ValueError as error:
        raise ini.error(f"[Paths] dem_format: invalid format {dem_format!r}: {error}") from None
    if not names or any(name == "" or name.isdigit() for name in names):
        raise ini.error(f"[Paths] dem_format: {dem_format!r} must name the DEM fields it uses, "
                        "like {id}.hgt")


# ---- [DataSource] ------------------------------------------------------------------------

def _data_source(ini: IniReader) -> DataSourceSection:
    if ini.has_section("PEPS"):
        raise ini.error("Since version 0.2, S1Tiling use [DataSource] instead of [PEPS] in config files. "
                        "Please update your configuration!")
    section = "DataSource"
    eodag_config = ini.get_optional(section, "eodag_config") or ini.get_optional(section, "eodagConfig")
    first_date = parse_date(ini.get(section, "first_date"), "first_date", ini.source)
    last_date = parse_date(ini.get(section, "last_date"), "last_date", ini.source)
    if first_date > last_date:
        raise ini.error(f"[DataSource] first_date ({first_date}) is after last_date ({last_date})")
    ratio = ini.getint(section, "tile_to_product_overlap_ratio", 0)
    if not 0 <= ratio <= 100:
        raise ini.error("Parameter [tile_to_product_overlap_ratio] must be a percentage in [1, 100] "
                        f"(0: no filter), not {ratio}")
    downloads = ini.getint(section, "nb_parallel_downloads", 1)
    if downloads < 1:
        raise ini.error(f"Parameter [nb_parallel_downloads] of [DataSource] must be at least 1, "
                        f"not {downloads}")
    return DataSourceSection(
        download=ini.getboolean(section, "download"),
        roi_by_tiles=tile_names(split_list(ini.get(section, "roi_by_tiles")) or [""],
                                "[DataSource] roi_by_tiles", ini.source),
        first_date=first_date,
        last_date=last_date,
        polarisation=_polarisation(ini),
        eodag_config=absolute_path(eodag_config),
        platform_list=_platforms(ini),
        orbit_direction=_orbit_direction(ini),
        relative_orbit_list=relative_orbits(ini.get(section, "relative_orbit_list", ""), ini.source),
        tile_to_product_overlap_ratio=ratio,
        nb_parallel_downloads=downloads,
        roi_by_tiles_option=ini.get(section, "roi_by_tiles"),
    )


def _polarisation(ini: IniReader) -> str:
    value = ini.get("DataSource", "polarisation")
    if value.upper() not in POLARISATIONS:
        raise ini.error("Parameter [polarisation] must be either HH-HV, VV-VH, HH, HV, VV or VH, "
                        f"not {value!r}")
    return value.upper()


def _platforms(ini: IniReader) -> list[str]:
    platforms = [p.upper() for p in split_list(ini.get("DataSource", "platform_list", ""))]
    unsupported = [p for p in platforms if not p.startswith("S1")]
    if unsupported:
        raise ini.error(f"Non supported requested platforms: {', '.join(unsupported)} "
                        "([DataSource] platform_list)")
    return list(dict.fromkeys(platforms))


def _orbit_direction(ini: IniReader) -> str | None:
    value = ini.get_optional("DataSource", "orbit_direction")
    if value is None:
        return None
    try:
        return _ORBIT_DIRECTIONS[value.upper()]
    except KeyError:
        raise ini.error("Parameter [orbit_direction] must be either unset or DES (alias DSC), or ASC, "
                        f"not {value!r}") from None


# ---- [Quicklook], [Filtering] ------------------------------------------------------------

def _quicklook(ini: IniReader) -> QuicklookSection:
    ratio = ini.getint("Quicklook", "ratio", 5)
    if not 1 <= ratio <= 100:
        raise ini.error(f"Parameter [ratio] of [Quicklook] must be a percentage in [1, 100], not {ratio}")
    defaults, scales = QuicklookSection(), {}
    for pol in ("vv", "vh", "hv", "hh"):
        option = f"scale_{pol}"
        scales[option] = ini.getfloat("Quicklook", option, getattr(defaults, option))
        if not scales[option] > 0:
            raise ini.error(f"Parameter [{option}] of [Quicklook] must be positive, not {scales[option]}")
    return QuicklookSection(generate=ini.getboolean("Quicklook", "generate", False), ratio=ratio, **scales)


def _filtering(ini: IniReader, mask: MaskSection) -> FilteringSection:
    section = "Filtering"
    name = ini.get(section, "filter", "").lower()
    if name in ("", "none"):
        return FilteringSection(filter=None)
    if name not in FILTERS:
        raise ini.error(f"Invalid despeckling filter value '{name}' ([Filtering] filter). Select one "
                        "among none/lee/frost/gammamap/kuan")
    needed = ["keep_non_filtered_products", "window_radius", "deramp" if name == "frost" else "nblooks"]
    for option in needed:
        if not ini.has(section, option):
            raise ini.error(f"No option '{option}' in section: 'Filtering' (required with filter {name})")
    keep = ini.getboolean(section, "keep_non_filtered_products")
    if mask.generate_border_mask and not keep:
        log.warning("As masks are produced, Filtering.keep_non_filtered_products value will be ignored")
        keep = True
    radius = ini.getint(section, "window_radius")
    if radius < 1:
        raise ini.error(f"Parameter [window_radius] of [Filtering] must be at least 1, not {radius}")
    deramp = ini.getfloat(section, "deramp") if name == "frost" else ini.getfloat(section, "deramp", None)
    nblooks = (ini.getfloat(section, "nblooks") if name != "frost"
               else ini.getfloat(section, "nblooks", None))
    return FilteringSection(filter=name, window_radius=radius, deramp=deramp, nblooks=nblooks,
                            keep_non_filtered_products=keep)


# ---- [Storage], [Stac] (ours) ------------------------------------------------------------

def _refuse_secrets(ini: IniReader, section: str) -> None:
    where = {"Storage": "set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the "
                        "environment or a Kubernetes Secret instead",
             "Stac": "give them to the STAC API client through the environment or a Kubernetes Secret"}
    for option in ini.options(section):
        if _SECRET.search(option):
            raise ini.error(f"[{section}] {option}: credentials are never read from the configuration "
                            f"file; {where[section]}")


def _storage(ini: IniReader) -> StorageSection:
    section = "Storage"
    _refuse_secrets(ini, section)
    style = ini.get_optional(section, "addressing_style")
    if style is not None and style.lower() not in _ADDRESSING_STYLES:
        raise ini.error(f"Parameter [addressing_style] of [Storage] must be path or virtual, not {style!r}")
    return StorageSection(
        endpoint_url=check_url(ini.get_optional(section, "endpoint_url"), "[Storage] endpoint_url",
                               ini.source),
        region=ini.get_optional(section, "region"),
        anonymous=ini.getboolean(section, "anonymous", False),
        verify_ssl=ini.getboolean(section, "verify_ssl", True),
        addressing_style=style.lower() if style else None,
        connect_timeout=_storage_limit(ini, "connect_timeout", ini.getfloat),
        read_timeout=_storage_limit(ini, "read_timeout", ini.getfloat),
        max_attempts=_storage_limit(ini, "max_attempts", ini.getint),
    )


def _storage_limit(ini: IniReader, option: str, read) -> float | int | None:
    """A positive time limit or count of `[Storage]`; None when absent."""
    value = read("Storage", option, None)
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise ini.error(f"Parameter [{option}] of [Storage] must be a positive number, not {value}")
    return value


def _stac(ini: IniReader) -> StacSection:
    section = "Stac"
    _refuse_secrets(ini, section)
    return StacSection(
        catalog=absolute_path(ini.get_optional(section, "catalog")),
        api_url=check_url(ini.get_optional(section, "api_url"), "[Stac] api_url", ini.source),
        public_url=check_url(ini.get_optional(section, "public_url"), "[Stac] public_url", ini.source),
        publish=ini.getboolean(section, "publish", True),
    )
