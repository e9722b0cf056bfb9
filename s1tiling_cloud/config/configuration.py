"""`Configuration`: S1Tiling's configuration object (API reference), over our `Request`.

Code written against S1Tiling reads `config.output_preprocess`, `config.tile_list`,
`config.calibration_type`...; those names are read-only properties here, delegating to
`.request`, the typed request the planner and the runners use. Values keep S1Tiling's shapes
where they differ from the request's (dates and `polarisation` as strings, `filter` '' when
none, `creation_options` as `{key: {"pixel_type", "gdal_options"}}`).
"""

from __future__ import annotations

import logging
import os
import string
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..exceptions import ConfigurationError, MissingDEMError
from ..store import S3Config
from .creation_options import CreationOptions
from .ini import IniReader
from .logs import init_logger as _init_logger
from .model import Request
from .parse import load_request, parse_request
from .processing import DISABLE_STREAMING_DEFAULTS, NODATA_DEFAULTS
from .values import is_uri

__all__ = ["Configuration"]

log = logging.getLogger(__name__)

ConfigCheck = tuple[Callable[["Configuration"], bool], str]


def _field(section: str, name: str, doc: str) -> property:
    """A read-only property returning `request.<section>.<name>`."""

    def get(self: Configuration) -> Any:
        return getattr(getattr(self.request, section), name)

    return property(get, doc=doc)


class Configuration:
    """The parameters of a `.cfg` file, under S1Tiling's attribute names.

    Parameters
    ----------
    config_file : str or os.PathLike
        The `.cfg` file, read and checked.
    do_show_configuration : bool, default True
        Log the parameters read (`show_configuration`), as S1Tiling does.
    extra_config_checks : sequence of (callable, str)
        S1Tiling's `(check(config) -> bool, message)` pairs, each a ConfigurationError when false.
    environ : mapping of str to str, optional
        The variables the file's `${...}` refer to; by default the process's.
    init_logging : bool, default True
        When `[Processing] mode` is set, configure logging with the log files next to the file,
        as S1Tiling does; False leaves logging alone.

    Raises
    ------
    ConfigurationError
        (72) The file is missing or invalid.
    """

    #: Type of images handled.
    type_image = "GRD"

    def __init__(self, config_file: str | os.PathLike, do_show_configuration: bool = True, *,
                 extra_config_checks: Sequence[ConfigCheck] = (),
                 environ: Mapping[str, str] | None = None, init_logging: bool = True) -> None:
        request = load_request(config_file, environ=environ)
        log_dir = None
        if init_logging and not is_uri(os.fspath(config_file)):
            log_dir = Path(config_file).resolve().parent
        self._setup(request, os.fspath(config_file), extra_config_checks, do_show_configuration, log_dir)

    @classmethod
    def from_request(cls, request: Request, *, do_show_configuration: bool = False,
                     extra_config_checks: Sequence[ConfigCheck] = ()) -> Configuration:
        """A configuration over an existing request (e.g. `Request.from_dict` in a pod)."""
        config = cls.__new__(cls)
        config._setup(request, request.source, extra_config_checks, do_show_configuration, None)
        return config

    @classmethod
    def from_text(cls, text: str, source: str = "<string>", *, do_show_configuration: bool = False,
                  environ: Mapping[str, str] | None = None,
                  extra_config_checks: Sequence[ConfigCheck] = ()) -> Configuration:
        """A configuration from `.cfg` text; `source` names it in messages."""
        ini = IniReader(text, source, os.environ if environ is None else environ)
        return cls.from_request(parse_request(ini), do_show_configuration=do_show_configuration,
                                extra_config_checks=extra_config_checks)

    def _setup(self, request: Request, config_file: str | None, checks: Sequence[ConfigCheck],
               show: bool, log_dir: Path | None) -> None:
        self.request = request
        self.config_file = config_file
        self._mode = request.processing.mode
        self._log_config: dict[str, Any] | None = None
        self._dems_by_s2_tiles: dict[str, dict[str, dict[str, Any]]] = {}
        for check, message in checks:
            if not check(self):
                raise ConfigurationError(message, config_file)
        if log_dir is not None and self._mode:
            self.init_logger(log_dir)
        if show:
            self.show_configuration()

    def __repr__(self) -> str:
        return f"Configuration({self.config_file!r})"

    # ---- [Paths] ---------------------------------------------------------------------------
    output_preprocess = _field("paths", "output", "Where final products are written ([Paths] output).")
    raw_directory = _field("paths", "s1_images", "S1 products, found or downloaded ([Paths] s1_images).")
    tmpdir = _field("paths", "tmp", "Intermediate files ([Paths] tmp).")
    dem = _field("paths", "dem_dir", "DEM folder, prefix or raster ([Paths] dem_dir, alias srtm).")
    dem_info = _field("paths", "dem_info", "DEM_INFO metadata value ([Paths] dem_info).")
    dem_filename_format = _field("paths", "dem_format", "DEM file name format ([Paths] dem_format).")
    lia_directory = _field("paths", "lia_dir", "LIA maps folder ([Paths] lia, default {output}/_LIA).")
    ia_directory = _field("paths", "ia_dir", "IA maps folder ([Paths] ia, default {output}/_IA).")
    gamma_area_directory = _field("paths", "gamma_area_dir",
                                  "γ-area maps folder ([Paths] gamma_area, default {output}/_GAMMA_AREA).")
    eof_directory = _field("paths", "eof", "Orbit files folder ([Paths] eof_dir, default {output}/_EOF).")

    @property
    def extra_directories(self) -> dict[str, str]:
        """S1Tiling's folders of the maps and orbit files: `lia_dir`, `ia_dir`,
        `gamma_area_dir`, `eof_dir` (their `{output}/_LIA`... defaults applied)."""
        paths = self.request.paths
        return {"lia_dir": paths.lia_dir, "ia_dir": paths.ia_dir,
                "gamma_area_dir": paths.gamma_area_dir, "eof_dir": paths.eof}

    @property
    def GeoidFile(self) -> str | None:  # noqa: N802 (S1Tiling's name)
        """Geoid file ([Paths] geoid_file); None: EGM96 from proj-data."""
        return self.request.paths.geoid_file

    @property
    def dem_db_filepath(self) -> str | None:
        """DEM tiles database ([Paths] dem_database); None: 1-degree cells from the grid."""
        return self.request.paths.dem_database

    @property
    def dem_field_ids(self) -> list[str]:
        """The DEM database fields `dem_format` uses."""
        fmt = self.request.paths.dem_format
        return [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]

    @property
    def dem_main_field_id(self) -> str:
        """The field of `dem_format` naming a DEM tile (`geo.dem.main_id_field`; "id" if none)."""
        from ..geo.dem import main_id_field

        return main_id_field(self.dem_field_ids) or "id"

    # ---- [DataSource] ----------------------------------------------------------------------
    download = _field("data_source", "download", "Download S1 products ([DataSource] download).")
    eodag_config = _field("data_source", "eodag_config", "eodag configuration file, None: eodag's default.")

    @property
    def roi_by_tiles(self) -> str:
        """`[DataSource] roi_by_tiles` as written (a string, as S1Tiling keeps it); the parsed
        list is `request.data_source.roi_by_tiles`."""
        source = self.request.data_source
        return source.roi_by_tiles_option or ", ".join(source.roi_by_tiles)
    platform_list = _field("data_source", "platform_list", "Platforms kept (S1A...); [] for all.")
    orbit_direction = _field("data_source", "orbit_direction", "'ASC', 'DES' or None.")
    relative_orbit_list = _field("data_source", "relative_orbit_list", "Relative orbits kept; [] for all.")
    tile_to_product_overlap_ratio = _field("data_source", "tile_to_product_overlap_ratio",
                                           "Minimum tile coverage in percent; 0 for no filter.")
    nb_download_processes = _field("data_source", "nb_parallel_downloads",
                                   "[DataSource] nb_parallel_downloads.")

    @property
    def first_date(self) -> str:
        """First day, `YYYY-MM-DD` (a string, as in S1Tiling)."""
        return self.request.data_source.first_date.isoformat()

    @property
    def last_date(self) -> str:
        """Last day (included), `YYYY-MM-DD`."""
        return self.request.data_source.last_date.isoformat()

    @property
    def polarisation(self) -> str:
        """S1Tiling's form: `VV-VH` -> 'VV VH', `HH-HV` -> 'HH HV', single ones as they are."""
        return self.request.data_source.polarisation.replace("-", " ")

    # ---- [Mask], [Filtering], [Quicklook], [Metadata] --------------------------------------
    mask_cond = _field("mask", "generate_border_mask", "Produce border masks ([Mask] generate_border_mask).")
    keep_non_filtered_products = _field("filtering", "keep_non_filtered_products",
                                        "Keep unfiltered products (forced True with masks).")

    @property
    def extra_metadata(self) -> dict[str, str]:
        """[Metadata] extras written into every product."""
        return self.request.metadata

    @property
    def filter(self) -> str:
        """Despeckle filter (lee, frost, gammamap, kuan), '' for none."""
        return self.request.filtering.filter or ""

    @property
    def filter_options(self) -> dict[str, float | int]:
        """S1Tiling's `{'rad': window_radius, 'deramp' | 'nblooks': ...}`; {} without filter."""
        filtering = self.request.filtering
        if not filtering.filter:
            return {}
        options: dict[str, float | int] = {"rad": filtering.window_radius or 0}
        if filtering.filter == "frost":
            options["deramp"] = filtering.deramp or 0.0
        else:
            options["nblooks"] = filtering.nblooks or 0.0
        return options

    @property
    def quicklook(self):
        """The `[Quicklook]` section (generate, ratio, scale_*)."""
        return self.request.quicklook

    @property
    def generate_quicklook(self) -> bool:
        """[Quicklook] generate."""
        return self.request.quicklook.generate

    @property
    def quicklook_ratio(self) -> int:
        """[Quicklook] ratio: the quicklook is 1/ratio of the product's size."""
        return self.request.quicklook.ratio

    @property
    def quicklook_scales(self) -> dict[str, float]:
        """[Quicklook] scale_vv/vh/hv/hh, by lower-case polarisation (S1Tiling's dict)."""
        q = self.request.quicklook
        return {"vv": q.scale_vv, "vh": q.scale_vh, "hv": q.scale_hv, "hh": q.scale_hh}

    # ---- [Processing] ----------------------------------------------------------------------
    calibration_type = _field("processing", "calibration", "The SAR calibration kind.")
    removethermalnoise = _field("processing", "remove_thermal_noise", "[Processing] remove_thermal_noise.")
    lower_signal_value = _field("processing", "lower_signal_value", "Value replacing denoised zeros.")
    out_spatial_res = _field("processing", "output_spatial_resolution", "Output pixel size (m).")
    grid_spacing = _field("processing", "orthorectification_gridspacing", "Ortho grid spacing (m).")
    interpolation_method = _field("processing", "orthorectification_interpolation_method", "nn, linear, bco.")
    output_grid = _field("processing", "tiles_shapefile", "MGRS grid file; None: computed from the names.")
    tile_list = _field("processing", "tiles", "Tiles to process, or ['ALL'].")
    nb_procs = _field("processing", "nb_parallel_processes", "Parallel processes.")
    ram_per_process = _field("processing", "ram_per_process", "RAM per process (MB).")
    OTBThreads = _field("processing", "nb_otb_threads", "Threads per process.")  # noqa: N815
    cache_dem_by = _field("processing", "cache_dem_by", "symlink or copy.")
    override_azimuth_cut_threshold_to = _field("processing", "override_azimuth_cut_threshold_to",
                                               "Force (True) / disable (False) the azimuth cuts; None: auto.")
    produce_lia_map = _field("processing", "produce_lia_map", "Also write LIA in degrees × 100.")
    ia_maps_to_produce = _field("processing", "ia_maps_to_produce", "IA maps: deg, cos, sin, tan.")
    dem_warp_resampling_method = _field("processing", "dem_warp_resampling_method", "gdalwarp -r, DEM→S2.")
    use_resampled_dem = _field("processing", "use_resampled_dem", "Resample the DEM for the γ area.")
    resample_dem_factor_x = _field("processing", "resample_dem_factor_x", "DEM resampling factor in x.")
    resample_dem_factor_y = _field("processing", "resample_dem_factor_y", "DEM resampling factor in y.")
    distribute_area = _field("processing", "distribute_area", "γ area: spread to corner neighbours.")
    inner_margin_ratio = _field("processing", "inner_margin_ratio", "DEM margin ratio, inner tiles.")
    outer_margin_ratio = _field("processing", "outer_margin_ratio", "DEM margin ratio, outer tiles.")
    min_gamma_area = _field("processing", "min_gamma_area", "Minimum γ area before shadow.")
    calibration_factor = _field("processing", "calibration_factor", "Factor of the RTC step.")
    fname_fmt = _field("processing", "fname_fmt", "User file name formats, by key.")
    dname_fmt = _field("processing", "dname_fmt", "User folder formats, by key.")
    engine = _field("processing", "engine", "Processing engine: native or otb (ours).")

    @property
    def Mode(self) -> str | None:  # noqa: N802 (S1Tiling's name)
        """Logging mode words ([Processing] mode, or `init_logger`'s `mode`)."""
        return self._mode

    @property
    def nodatas(self) -> dict[str, str | None]:
        """No-data values by kind (SAR, LIA, IA, RTC, XYZ): S1Tiling's defaults, then the user's."""
        return {**NODATA_DEFAULTS, **self.request.processing.nodata}

    @property
    def creation_options(self) -> dict[str, dict[str, object]]:
        """Every `creation_options.<key>` as `{"pixel_type"?, "gdal_options": [...]}`."""
        return {key: CreationOptions.parse(value, key, self.config_file).as_s1tiling()
                for key, value in self.request.processing.creation_options.items()}

    @property
    def disable_streaming(self) -> dict[str, bool]:
        """`disable_streaming.*`: defaults (streaming on), then the user's."""
        return {**DISABLE_STREAMING_DEFAULTS, **self.request.processing.disable_streaming}

    # ---- ours ------------------------------------------------------------------------------

    @property
    def storage_options(self) -> dict[str, object]:
        """`[Storage]` as the storage_options every stage takes (no credentials)."""
        return self.request.storage.storage_options()

    # ---- logging ---------------------------------------------------------------------------

    def init_logger(self, config_log_dir: str | os.PathLike, mode: str | None = None) -> None:
        """Configure logging for `mode` (default: the configuration's), log files in `config_log_dir`."""
        self._mode = mode or self._mode
        if not self._mode:
            raise ConfigurationError("Please set a valid logging mode ([Processing] mode)", self.config_file)
        self._log_config = _init_logger(config_log_dir, self._mode)
        log.debug("S1 tiling configuration initialized from '%s'", self.config_file)

    @property
    def log_config(self) -> dict[str, Any]:
        """What `init_logger` set up (mode, level, files)."""
        if self._log_config is None:
            raise ConfigurationError("Please initialize logger (init_logger)", self.config_file)
        return self._log_config

    # ---- DEM -------------------------------------------------------------------------------

    def register_dems_related_to_S2_tiles(self, dems_by_s2_tiles: dict[str, dict]) -> None:  # noqa: N802
        """S1Tiling's cache of DEM information per S2 tile, given by a caller that computed it."""
        self._dems_by_s2_tiles.update(dems_by_s2_tiles)

    def get_dems_covering_s2_tile(self, tile_name: str, *, check: bool = True) -> dict[str, dict[str, Any]]:
        """The DEM tiles covering an S2 tile: id -> {uri, exists, _coverage}.

        With `check` (the default), a missing DEM file is `MissingDEMError` naming the tile and the
        missing ids (S1Tiling's exit 75), unless its cell is all sea (then it is not listed: the
        geoid stands in, as in S1Tiling whose database has no sea tile); with `check=False`
        missing ones are listed, `exists` False.
        """
        from ..geo import DemSource, Grid

        if tile_name in self._dems_by_s2_tiles:
            return self._dems_by_s2_tiles[tile_name]
        paths = self.request.paths
        source = DemSource.from_config(paths.dem_dir, paths.dem_database, paths.dem_source_format,
                                       storage_options=self.storage_options)
        grid = Grid.from_tile(tile_name, self.request.processing.output_spatial_resolution)
        if check:  # the rule of the run: missing land cells fail, sea cells are the geoid's
            try:
                selection = source.require(grid)
            except MissingDEMError as error:
                ids = list(getattr(error, "missing", []))
                uris = {t.id: t.uri for t in source.select(grid).tiles}
                named = MissingDEMError(f"Missing DEM tiles for S2 tile {tile_name}: {', '.join(ids)} "
                                        f"(expected {', '.join(uris.get(i, i) for i in ids)})")
                named.missing = ids
                raise named from error
        else:
            selection = source.select(grid)
        dems = {t.id: {"id": t.id, "uri": t.uri, "exists": t.exists, "_coverage": t.coverage}
                for t in selection.tiles if t.id not in selection.sea}
        if check:
            self._dems_by_s2_tiles[tile_name] = dems
        return dems

    # ---- display ---------------------------------------------------------------------------

    def show_configuration(self) -> None:
        """Log the effective configuration (there are no secrets in it to hide)."""
        info = log.info
        info("Running S1Tiling-cloud %s with:", __version__)
        info("From request file: %s", self.config_file or "(some string)")
        for title, values in self._summary():
            info("[%s]", title)
            for key, value in values.items():
                info("- %-44s: %s", key, value)

    def _summary(self) -> list[tuple[str, dict[str, Any]]]:
        r = self.request
        paths = {"output": r.paths.output, "s1_images": r.paths.s1_images, "tmp": r.paths.tmp,
                 "dem directory": r.paths.dem_dir, "dem filename format": r.paths.dem_format,
                 "dem database": r.paths.dem_database, "dem_info": r.paths.dem_info,
                 "geoid_file": r.paths.geoid_file or "EGM96 (proj-data)", "LIA": r.paths.lia_dir,
                 "IA": r.paths.ia_dir, "GAMMA_AREA": r.paths.gamma_area_dir, "eof_directory": r.paths.eof}
        source = {"download": r.data_source.download, "eodag_config": r.data_source.eodag_config,
                  "first_date": self.first_date, "last_date": self.last_date,
                  "platform_list": r.data_source.platform_list, "polarisation": self.polarisation,
                  "orbit_direction": r.data_source.orbit_direction,
                  "relative_orbit_list": r.data_source.relative_orbit_list,
                  "tile_to_product_overlap_ratio": f"{r.data_source.tile_to_product_overlap_ratio}%",
                  "roi_by_tiles": r.data_source.roi_by_tiles,
                  "nb_parallel_downloads": r.data_source.nb_parallel_downloads}
        p = r.processing
        processing = {name: getattr(p, name) for name in (
            "calibration", "mode", "engine", "nb_otb_threads", "nb_parallel_processes",
            "orthorectification_interpolation_method", "orthorectification_gridspacing",
            "output_spatial_resolution", "ram_per_process", "remove_thermal_noise", "lower_signal_value",
            "tiles", "tiles_list_in_file", "ia_maps_to_produce", "produce_lia_map",
            "dem_warp_resampling_method", "use_resampled_dem", "resample_dem_factor_x",
            "resample_dem_factor_y", "distribute_area", "inner_margin_ratio", "outer_margin_ratio",
            "min_gamma_area", "calibration_factor", "cache_dem_by")}
        formats = {**{f"fname_fmt.{k}": v for k, v in p.fname_fmt.items()},
                   **{f"dname_fmt.{k}": v for k, v in p.dname_fmt.items()},
                   **{f"creation_options.{k}": v for k, v in p.creation_options.items()},
                   **{f"nodata.{k}": v for k, v in self.nodatas.items()},
                   **{f"disable_streaming.{k}": v for k, v in self.disable_streaming.items()}}
        filtering = {"filter": self.filter or "none", **({} if not self.filter else {
            "keep_non_filtered_products": self.keep_non_filtered_products, **self.filter_options})}
        storage = {"endpoint_url": r.storage.endpoint_url, "region": r.storage.region,
                   "anonymous": r.storage.anonymous, "verify_ssl": r.storage.verify_ssl,
                   "addressing_style": r.storage.addressing_style,
                   **_s3_limits(self.storage_options)}
        stac = {"catalog": r.stac.catalog, "api_url": r.stac.api_url, "public_url": r.stac.public_url,
                "publish": r.stac.publish}
        return [("Paths", paths), ("DataSource", source), ("Processing", {**processing, **formats}),
                ("Mask", {"generate_border_mask": r.mask.generate_border_mask}),
                ("Quicklook", vars(r.quicklook)), ("Filtering", filtering),
                ("Metadata", dict(r.metadata)), ("Storage", storage), ("Stac", stac)]


def _s3_limits(storage_options: dict[str, object]) -> dict[str, object]:
    """The time limits every S3 request runs under, `[Storage]`'s or the defaults."""
    s3 = S3Config.resolve(storage_options)
    return {"connect_timeout": f"{s3.connect_timeout:g} s", "read_timeout": f"{s3.read_timeout:g} s",
            "max_attempts": s3.max_attempts}
