"""The request, as typed values: one dataclass per `.cfg` section, as S1Tiling reads them.

These are the contract between the configuration parser (`config.parse`), the planner and the
runners: every key of S1Tiling's `.cfg` has a field here with S1Tiling's default, plus the
keys of our own (`[Processing] engine`, `[Storage]`, `[Stac]`). Paths are strings because they
may be object-storage URIs (`s3://bucket/prefix`). Nothing here reads files or the environment.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import date

from ..engine.native import DEFAULT_OUTER_MARGIN_RATIO


@dataclass
class PathsSection:
    """`[Paths]`."""

    output: str
    s1_images: str
    tmp: str
    dem_dir: str
    dem_database: str | None = None  # None: 1-degree cells computed from the grid (no gpkg)
    dem_format: str = "{id}.hgt"
    dem_info: str | None = None  # None: basename of dem_dir
    geoid_file: str | None = None  # None: EGM96 from proj-data (`geo.geoid`)
    lia: str | None = None  # None: {output}/_LIA
    ia: str | None = None  # None: {output}/_IA
    gamma_area: str | None = None  # None: {output}/_GAMMA_AREA
    eof_dir: str | None = None  # None: {output}/_EOF

    @property
    def dem_source_format(self) -> str | None:
        """`dem_format` as `geo.dem.DemSource.from_config` takes it: None for S1Tiling's default
        without a database, which lets `dem_dir` be a folder of `{id}.hgt` or one raster."""
        if self.dem_format == "{id}.hgt" and self.dem_database is None:
            return None
        return self.dem_format

    @property
    def lia_dir(self) -> str:
        return self.lia or f"{self.output.rstrip('/')}/_LIA"

    @property
    def ia_dir(self) -> str:
        return self.ia or f"{self.output.rstrip('/')}/_IA"

    @property
    def gamma_area_dir(self) -> str:
        return self.gamma_area or f"{self.output.rstrip('/')}/_GAMMA_AREA"

    @property
    def eof(self) -> str:
        return self.eof_dir or f"{self.output.rstrip('/')}/_EOF"


@dataclass
class DataSourceSection:
    """`[DataSource]`."""

    download: bool
    roi_by_tiles: list[str]  # ["ALL"] for all tiles to process
    first_date: date
    last_date: date
    polarisation: str  # VV-VH, HH-HV, VV, VH, HH, HV
    eodag_config: str | None = None
    platform_list: list[str] = field(default_factory=list)  # ["S1A", ...]; empty: no filter
    orbit_direction: str | None = None  # "ASC" | "DES" | None
    relative_orbit_list: list[int] = field(default_factory=list)
    tile_to_product_overlap_ratio: int = 0  # percent; 0: no filter
    nb_parallel_downloads: int = 1
    #: `roi_by_tiles` as written in the file (S1Tiling's `Configuration.roi_by_tiles` string).
    roi_by_tiles_option: str = field(default="", compare=False)

    @property
    def polarisations(self) -> list[str]:
        """The requested polarisations, lower case: "VV-VH" -> ["vv", "vh"]."""
        return [p.lower() for p in self.polarisation.split("-")]


@dataclass
class MaskSection:
    generate_border_mask: bool


@dataclass
class QuicklookSection:
    generate: bool = False
    ratio: int = 5
    scale_vv: float = 0.5
    scale_vh: float = 0.05
    scale_hv: float = 0.5
    scale_hh: float = 0.5


@dataclass
class FilteringSection:
    filter: str | None = None  # lee | frost | gammamap | kuan; None: no despeckling
    window_radius: int | None = None
    deramp: float | None = None
    nblooks: float | None = None
    keep_non_filtered_products: bool = True


@dataclass
class ProcessingSection:
    """`[Processing]`; `fname_fmt`, `dname_fmt`, `creation_options`, `nodata` and
    `disable_streaming` hold the dotted keys (`fname_fmt.concatenation` -> {"concatenation": …})."""

    calibration: str  # sigma | beta | gamma | dn | normlim | gamma_naught_rtc
    remove_thermal_noise: bool
    output_spatial_resolution: float
    orthorectification_gridspacing: float
    tiles: list[str]  # after tiles_list_in_file; ["ALL"] allowed
    nb_parallel_processes: int
    ram_per_process: int
    nb_otb_threads: int
    lower_signal_value: float = 1e-7
    orthorectification_interpolation_method: str = "nn"
    tiles_list_in_file: str | None = None
    tiles_shapefile: str | None = None
    mode: str | None = None
    cache_dem_by: str = "symlink"
    override_azimuth_cut_threshold_to: bool | None = None
    produce_lia_map: bool = False
    ia_maps_to_produce: list[str] = field(default_factory=lambda: ["deg"])
    dem_warp_resampling_method: str = "cubic"
    use_resampled_dem: bool = True
    resample_dem_factor_x: float = 2.0
    resample_dem_factor_y: float = 2.0
    distribute_area: bool = True  # S1Tiling: False; see docs/coming-from-s1tiling.md
    inner_margin_ratio: float = 0.01
    outer_margin_ratio: float = DEFAULT_OUTER_MARGIN_RATIO
    min_gamma_area: float = 1.0
    calibration_factor: float = 1.0
    nodata: dict[str, str] = field(default_factory=dict)
    fname_fmt: dict[str, str] = field(default_factory=dict)
    dname_fmt: dict[str, str] = field(default_factory=dict)
    creation_options: dict[str, str] = field(default_factory=dict)
    disable_streaming: dict[str, bool] = field(default_factory=dict)
    #: Ours: "native" (numpy + numba, default) or "otb" (Orfeo ToolBox's applications).
    engine: str = "native"


@dataclass
class StorageSection:
    """`[Storage]` (ours): how to reach object storage. Credentials never come from the file:
    only from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)."""

    endpoint_url: str | None = None
    region: str | None = None
    anonymous: bool = False
    verify_ssl: bool = True
    addressing_style: str | None = None  # "path" | "virtual"
    #: Time limits of every S3 request; None: `store`'s defaults (`S3_CONNECT_TIMEOUT_S`...).
    connect_timeout: float | None = None  # seconds to connect
    read_timeout: float | None = None  # seconds S3 may stay silent
    max_attempts: int | None = None  # tries of one request, the first included

    def storage_options(self) -> dict[str, object]:
        """The `storage_options` mapping that `store.Store` and every stage take (no secrets)."""
        values: dict[str, object] = {}
        # s3fs's (botocore's) spelling, which `store.S3Config` reads; absent when not set.
        config: dict[str, object] = {}
        if self.connect_timeout is not None:
            config["connect_timeout"] = self.connect_timeout
        if self.read_timeout is not None:
            config["read_timeout"] = self.read_timeout
        if self.max_attempts is not None:
            config["retries"] = {"total_max_attempts": self.max_attempts}
        if config:
            values["config_kwargs"] = config
        if self.endpoint_url:
            values["endpoint_url"] = self.endpoint_url
        if self.region:
            values["region"] = self.region
        if self.anonymous:
            values["anon"] = True
        if self.addressing_style:
            values["virtual_hosting"] = self.addressing_style == "virtual"
        if not self.verify_ssl:
            values["client_kwargs"] = {"verify": False}
        return values


@dataclass
class StacSection:
    """`[Stac]` (ours): where products are published as STAC."""

    catalog: str | None = None  # None: {output}/catalog.json, the static catalog
    api_url: str | None = None  # a STAC API with the Transactions extension
    public_url: str | None = None  # https base that replaces s3://bucket in asset hrefs
    publish: bool = True


@dataclass
class Request:
    """A whole `.cfg`: the sections, the `[Metadata]` extras, and where it came from."""

    paths: PathsSection
    data_source: DataSourceSection
    mask: MaskSection
    processing: ProcessingSection
    quicklook: QuicklookSection = field(default_factory=QuicklookSection)
    filtering: FilteringSection = field(default_factory=FilteringSection)
    metadata: dict[str, str] = field(default_factory=dict)
    storage: StorageSection = field(default_factory=StorageSection)
    stac: StacSection = field(default_factory=StacSection)
    source: str | None = None  # the .cfg path, for error messages

    def to_dict(self) -> dict:
        """Plain JSON-able values (dates as ISO strings): what travels in a plan or a pod."""
        def plain(value):
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value
        return plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> Request:
        """The request `to_dict` gave (a plan's `request`): what a pod rebuilds it from."""
        values = copy.deepcopy(dict(data))
        sections = {
            "paths": PathsSection, "data_source": DataSourceSection, "mask": MaskSection,
            "processing": ProcessingSection, "quicklook": QuicklookSection,
            "filtering": FilteringSection, "storage": StorageSection, "stac": StacSection,
        }
        for name, section in sections.items():
            if name in values:
                values[name] = section(**values[name])
        source = values.get("data_source")
        if source is not None:
            source.first_date = _as_date(source.first_date)
            source.last_date = _as_date(source.last_date)
        return cls(**values)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
