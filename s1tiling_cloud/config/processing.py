"""`[Processing]`: S1Tiling's processing options, its dotted keys, and our `engine`.

Dotted keys are kept key by key (`fname_fmt.concatenation` -> `fname_fmt["concatenation"]`)
and every one given is honoured (S1Tiling 1.4.2 keeps only the first `creation_options.*`,
a defect users do not need). Formats and creation options are checked here, at configuration
time, so that a typo fails before any download.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping

from ..engine.native import DEFAULT_OUTER_MARGIN_RATIO
from ..exceptions import ConfigurationError
from ..outputs.names import DIR_FIELDS, FIELDS, IA_MAP_KINDS, Naming, check_format
from ..store import Store
from .creation_options import CREATION_OPTION_KEYS, CreationOptions
from .ini import IniReader, split_list
from .model import ProcessingSection
from .values import absolute_path, is_uri, tile_names

__all__ = [
    "CALIBRATIONS",
    "DEM_WARP_RESAMPLINGS",
    "DISABLE_STREAMING_DEFAULTS",
    "DNAME_FMT_KEYS",
    "ENGINES",
    "FNAME_FMT_KEYS",
    "IA_MAPS",
    "INTERPOLATION_METHODS",
    "NODATA_DEFAULTS",
    "PROCESSING_OPTIONS",
    "parse_processing",
]

log = logging.getLogger(__name__)

#: `[Processing] engine`: what runs a stage's science, "native" (numpy + numba, the default) or
#: "otb" (S1Tiling's Orfeo ToolBox applications); the stages check it again (`stages.engines`).
ENGINES = ("native", "otb")

SECTION = "Processing"
CALIBRATIONS = ("sigma", "beta", "gamma", "dn", "normlim", "gamma_naught_rtc")
#: `orthorectification_interpolation_method`: S1Tiling's `nn` and `linear`, and `bco`, which
#: S1Tiling refuses and both our engines support.
INTERPOLATION_METHODS = ("nn", "linear", "bco")
DEM_WARP_RESAMPLINGS = ("near", "bilinear", "cubic", "cubicspline", "lanczos", "average", "rms", "mode",
                        "max", "min", "med", "q1", "q3", "qum")
IA_MAPS = tuple(IA_MAP_KINDS.values())
CACHE_DEM_BY = ("symlink", "copy")
#: S1Tiling's `nodata.*` defaults (None: the application's own; RTC then gets '0').
NODATA_DEFAULTS: Mapping[str, str | None] = {"SAR": "0", "LIA": "nan", "IA": "nan", "RTC": None,
                                             "XYZ": "nan"}
#: S1Tiling's `disable_streaming.*` defaults; `normals_on_s2` is True with OTB < 9.1.1 only.
DISABLE_STREAMING_DEFAULTS: Mapping[str, bool] = {"normals_on_s2": False, "gamma_area": False,
                                                  "apply_gamma_area": False}
#: S1Tiling's `fname_fmt.*` keys (public and internal), plus `quicklook` and `filtered_calib`
#: that our names honour.
FNAME_FMT_KEYS = frozenset({
    "concatenation", "filtered", "filtered_calib", "quicklook", "lia_product", "ia_product",
    "s2_lia_corrected", "gamma_area_product", "s2_gamma_area_corrected", "calibration",
    "correct_denoising", "cut_borders", "orthorectification", "dem_s2_agglomeration", "dem_on_s2",
    "geoid_on_s2", "height_on_s2", "ground_and_sat_s2", "normals_on_s2", "ground_and_sat_s2_ellipsoid",
    "normals_wgs84_on_s2", "dem_s1_agglomeration", "xyz", "normals_on_s1", "s1_lia", "s1_sin_lia",
    "lia_orthorectification", "lia_concatenation", "s1_on_dem", "gamma_area", "s1_on_geoid_dem",
    "resampled_dem", "gamma_area_concatenation", "gamma_area_orthorectification",
})
#: S1Tiling's `dname_fmt.*` keys, plus ours (`eof_product`, `s2_tmp`).
DNAME_FMT_KEYS = frozenset({"tiled", "filtered", "mask", "quicklook", "lia_product", "ia_product",
                            "s1_lia", "s1_sin_lia", "gamma_area_product", "eof_product", "s2_tmp"})
DOTTED_PREFIXES = ("fname_fmt.", "dname_fmt.", "creation_options.", "nodata.", "disable_streaming.")
PROCESSING_OPTIONS = frozenset({
    "calibration", "remove_thermal_noise", "lower_signal_value", "output_spatial_resolution",
    "orthorectification_gridspacing", "orthorectification_interpolation_method", "tiles",
    "tiles_list_in_file", "tiles_shapefile", "mode", "nb_parallel_processes", "ram_per_process",
    "nb_otb_threads", "cache_dem_by", "override_azimuth_cut_threshold_to", "produce_lia_map",
    "ia_maps_to_produce", "dem_warp_resampling_method", "use_resampled_dem", "no_use_resampled_dem",
    "resample_dem_factor_x", "resample_dem_factor_y", "distribute_area", "inner_margin_ratio",
    "outer_margin_ratio", "min_gamma_area", "calibration_factor", "engine",
})


def parse_processing(ini: IniReader,
                     storage_options: Mapping[str, object] | None = None) -> ProcessingSection:
    """The `[Processing]` section, checked; `storage_options` reads an s3:// tiles file."""
    calibration = _choice(ini, "calibration", CALIBRATIONS)
    remove_thermal_noise = ini.getboolean(SECTION, "remove_thermal_noise")
    lower_signal_value = ini.getfloat(SECTION, "lower_signal_value", 1e-7)
    if not lower_signal_value > 0:
        raise ini.error("'lower_signal_value' parameter shall be a positive (small value) aimed at "
                        "replacing null value produced by denoising.")
    if ini.has(SECTION, "no_use_resampled_dem"):
        raise ini.error("'no_use_resampled_dem' has be deprecated, please use the positive option: "
                        "'use_resampled_dem' instead")
    tiles_file = absolute_path(ini.get_optional(SECTION, "tiles_list_in_file"))
    tiles_shapefile = absolute_path(ini.get_optional(SECTION, "tiles_shapefile"))
    if tiles_shapefile and not is_uri(tiles_shapefile) and not os.path.isfile(tiles_shapefile):
        raise ini.error(f"[Processing] tiles_shapefile: output_grid={tiles_shapefile} is not a valid path")
    section = ProcessingSection(
        calibration=calibration,
        remove_thermal_noise=remove_thermal_noise,
        output_spatial_resolution=_positive(ini, "output_spatial_resolution"),
        orthorectification_gridspacing=_positive(ini, "orthorectification_gridspacing"),
        tiles=_tiles(ini, tiles_file, storage_options),
        nb_parallel_processes=_positive_int(ini, "nb_parallel_processes"),
        ram_per_process=_positive_int(ini, "ram_per_process"),
        nb_otb_threads=_positive_int(ini, "nb_otb_threads"),
        lower_signal_value=lower_signal_value,
        orthorectification_interpolation_method=_choice(
            ini, "orthorectification_interpolation_method", INTERPOLATION_METHODS, "nn"),
        tiles_list_in_file=tiles_file,
        tiles_shapefile=tiles_shapefile,
        mode=ini.get_optional(SECTION, "mode"),
        cache_dem_by=_cache_dem_by(ini),
        override_azimuth_cut_threshold_to=ini.getboolean_or_none(
            SECTION, "override_azimuth_cut_threshold_to"),
        produce_lia_map=ini.getboolean(SECTION, "produce_lia_map", False),
        ia_maps_to_produce=_ia_maps(ini),
        dem_warp_resampling_method=_dem_warp_resampling(ini),
        use_resampled_dem=ini.getboolean(SECTION, "use_resampled_dem", True),
        resample_dem_factor_x=_positive(ini, "resample_dem_factor_x", 2.0),
        resample_dem_factor_y=_positive(ini, "resample_dem_factor_y", 2.0),
        distribute_area=ini.getboolean(SECTION, "distribute_area", True),
        inner_margin_ratio=_ratio(ini, "inner_margin_ratio", 0.01),
        outer_margin_ratio=_ratio(ini, "outer_margin_ratio", DEFAULT_OUTER_MARGIN_RATIO),
        min_gamma_area=ini.getfloat(SECTION, "min_gamma_area", 1.0),
        calibration_factor=ini.getfloat(SECTION, "calibration_factor", 1.0),
        nodata=_nodata(ini),
        fname_fmt=_formats(ini, "fname_fmt", FNAME_FMT_KEYS, FIELDS),
        dname_fmt=_formats(ini, "dname_fmt", DNAME_FMT_KEYS, DIR_FIELDS),
        creation_options=_creation_options(ini),
        disable_streaming=_disable_streaming(ini),
        engine=_choice(ini, "engine", ENGINES, "native"),
    )
    try:  # what only the whole set of formats can tell (e.g. two keys for one name)
        Naming(section.calibration, section.fname_fmt, section.dname_fmt)
    except ConfigurationError as error:
        raise ini.error(f"[Processing] fname_fmt/dname_fmt: {error.message}") from error
    return section


# ---- plain options -----------------------------------------------------------------------

def _choice(ini: IniReader, option: str, choices: tuple[str, ...], default: object = ...) -> str:
    """A word among `choices`, case-insensitive; required when no `default`."""
    value = ini.get(SECTION, option, default)
    word = value.strip().lower()
    if word not in choices:
        raise ini.error(f"Parameter [{option}] of [Processing] must be one of {', '.join(choices)}, "
                        f"not {value!r}")
    return word


def _cache_dem_by(ini: IniReader) -> str:
    value = ini.get(SECTION, "cache_dem_by", "symlink")
    if value not in CACHE_DEM_BY:
        raise ini.error(f"Unexpected value for Processing.cache_dem_by option: '{value}' is neither "
                        "'copy' nor 'symlink'")
    return value


def _dem_warp_resampling(ini: IniReader) -> str:
    value = ini.get(SECTION, "dem_warp_resampling_method", "cubic")
    if value not in DEM_WARP_RESAMPLINGS:
        raise ini.error(f"{value} is an invalid choice for `dem_warp_resampling_method` in [Processing]. "
                        f"Choose one among {list(DEM_WARP_RESAMPLINGS)}")
    return value


def _positive(ini: IniReader, option: str, default: float | None = None) -> float:
    value = ini.getfloat(SECTION, option, ... if default is None else default)
    if not (value > 0 and math.isfinite(value)):
        raise ini.error(f"Parameter [{option}] of [Processing] must be a positive number, not {value}")
    return value


def _positive_int(ini: IniReader, option: str) -> int:
    value = ini.getint(SECTION, option)
    if value < 1:
        raise ini.error(f"Parameter [{option}] of [Processing] must be at least 1, not {value}")
    return value


def _ratio(ini: IniReader, option: str, default: float) -> float:
    value = ini.getfloat(SECTION, option, default)
    if not 0 <= value < 1:
        raise ini.error(f"Parameter [{option}] of [Processing] must be in [0, 1), not {value}")
    return value


def _ia_maps(ini: IniReader) -> list[str]:
    maps = [m.lower() for m in split_list(ini.get(SECTION, "ia_maps_to_produce", "deg"))]
    wrong = [m for m in maps if m not in IA_MAPS]
    if wrong:
        raise ini.error(f"Parameter [ia_maps_to_produce] of [Processing]: {', '.join(wrong)} not in "
                        f"{', '.join(IA_MAPS)}")
    return list(dict.fromkeys(maps))


# ---- tiles -------------------------------------------------------------------------------

def _tiles(ini: IniReader, tiles_file: str | None, storage_options) -> list[str]:
    """`tiles_list_in_file` (one tile per line) wins over `tiles`; one of them is required."""
    if tiles_file:
        option = "[Processing] tiles_list_in_file"
        try:
            if is_uri(tiles_file):
                text = Store(storage_options).read_bytes(tiles_file).decode("utf-8")
            else:
                with open(tiles_file, encoding="utf-8") as handle:
                    text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise ini.error(f"Cannot read tile list file {tiles_file!r} ({option}): {error}") from error
        lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        names = [line for line in lines if line]
        if not names:
            raise ini.error(f"Tile list file {tiles_file!r} ({option}) lists no tile")
        log.info("The following tiles will be processed: %s", names)
        return tile_names(names, option, ini.source, keep_malformed=True)
    if not ini.has(SECTION, "tiles"):
        raise ini.error("No option 'tiles' (nor 'tiles_list_in_file') in section: 'Processing'")
    names = split_list(ini.get(SECTION, "tiles"))
    if not names:
        raise ini.error("[Processing] tiles is empty: list tiles (like 31TCJ) or ALL")
    return tile_names(names, "[Processing] tiles", ini.source, keep_malformed=True)


# ---- dotted keys -------------------------------------------------------------------------

def _dotted(ini: IniReader, prefix: str) -> dict[str, str]:
    """`prefix.key` options of [Processing], by key (lower case: option names are)."""
    start = f"{prefix}."
    return {option[len(start):]: ini.get(SECTION, option) for option in ini.options(SECTION)
            if option.startswith(start) and len(option) > len(start)}


def _warn_unknown_keys(prefix: str, keys, known) -> None:
    for key in sorted(set(keys) - set(known)):
        log.warning("[Processing] %s.%s is not a key S1Tiling knows; it is kept but may be unused",
                    prefix, key)


def _formats(ini: IniReader, prefix: str, known: frozenset[str], fields: frozenset[str]) -> dict[str, str]:
    formats = {key: value for key, value in _dotted(ini, prefix).items() if value}
    _warn_unknown_keys(prefix, formats, known)
    for key, fmt in formats.items():
        try:
            check_format(fmt, fields)  # positional `{}` fields too: they are not known names
        except ConfigurationError as error:
            raise ini.error(f"[Processing] {prefix}.{key}: {error.message}") from error
    return formats


def _creation_options(ini: IniReader) -> dict[str, str]:
    options = _dotted(ini, "creation_options")
    _warn_unknown_keys("creation_options", options, CREATION_OPTION_KEYS)
    for key, value in options.items():
        CreationOptions.parse(value, key, ini.source)
    return options


def _nodata(ini: IniReader) -> dict[str, str]:
    values = {}
    for key, value in _dotted(ini, "nodata").items():
        name = key.upper()
        if value.lower() != "none":
            try:
                float(value)
            except ValueError:
                raise ini.error(f"Cannot decode 'nodata.{name}' option 'Processing' section: {value!r} "
                                "is not a number, nan or None") from None
        values[name] = value
    _warn_unknown_keys("nodata", values, NODATA_DEFAULTS)
    return values


def _disable_streaming(ini: IniReader) -> dict[str, bool]:
    values = {key: ini.getboolean(SECTION, f"disable_streaming.{key}")
              for key in _dotted(ini, "disable_streaming")}
    _warn_unknown_keys("disable_streaming", values, DISABLE_STREAMING_DEFAULTS)
    return values
