"""Request + search outcome → plan: the DAG of stage calls of a scenario, as S1Tiling's workflows chain them.

`build_plan` is pure and deterministic: the same request and outcome give the same plan, node
for node, so a re-plan maps onto the same work and the same files. Names and folders are
S1Tiling's (`outputs.names.Naming` with the request's `fname_fmt`/`dname_fmt`).

s1_process, per tile (nodes in this order):
- `ingest` once per product to download, whatever the number of tiles it covers;
- `heights` (DEM + geoid on the tile grid), read by every ortho and map of the tile;
- `lia` (normlim) or `gamma_area` (gamma_naught_rtc) once per tile × relative orbit, from the
  product covering most of the tile;
- `ortho` per product × tile, every requested polarisation at once (`outputs` keyed by the
  product's upper-case polarisation names, as the SAFE reader names them); the ortho of the
  only product of its day writes the day's products (S1Tiling only renames that image), and
  with the native engine one `ortho` per tile × relative orbit × day writes those of a day with
  several products (`ortho/{tile}/{orbit}/{day}`: each product orthorectified and merged in
  memory, no per-image image);
- per tile × relative orbit × day × polarisation: with OTB's engine, `concatenate` of a day
  with several products; then `normlim` / `rtc`, `despeckle`, `mask`, `quicklook` as
  configured; with the native engine there is no `mask` node: the node writing a final product
  (the day's ortho, `concatenate`, `normlim` / `rtc`) writes its border mask too, from the
  pixels in memory;
- `publish` per tile × relative orbit × day when `[Stac] publish`.

s1_process_lia / s1_process_ia: the maps of each relative orbit from the product covering
most of the tile; a tile no product covers gets its maps from the precise orbit files of
`eof_dir` (S1Tiling ≥ 1.3), one per listed relative orbit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from ..config.model import Request
from ..config.scenario import Scenario
from ..config.scenario import scenario as scenario_of
from ..config.values import ALL_TILES
from ..exceptions import ConfigurationError
from ..outputs.metadata import default_dem_info
from ..outputs.names import (
    CALIBRATION_LUT,
    FINAL_CALIBRATION_TYPE,
    IA_MAP_KINDS,
    Naming,
    default_dirs,
    tile_fields,
)
from ..search.model import S1Candidate, SearchOutcome
from ..stac.publication import published_documents
from ..stages import registry
from ..store import join
from .model import Node, Plan
from .products import (
    Acquisition,
    acquisitions,
    best_acquisition,
    best_coverage,
    by_orbit,
    polarisations_of,
    s1_image,
)

#: `ia_maps_to_produce` values → the `ia` stage's output keys (S1Tiling's IA kinds): the
#: inverse of `outputs.names.IA_MAP_KINDS`.
IA_NAME_OF_KIND = {value: name for name, value in IA_MAP_KINDS.items()}


def cache_uri(s1_images: str, product_id: str) -> str:
    """Where an ingested product lands: `{s1_images}/{id}.SAFE` (`search.ingest.cache_uri`'s
    rule, without importing the search and eodag into a plan's reader)."""
    return join(s1_images, f"{product_id}.SAFE")


def build_plan(request: Request, outcome: SearchOutcome, scenario: str | Scenario = "s1_process", *,
               dl_wait: float = 2, dl_timeout: float = 20) -> Plan:
    """The plan of `scenario` for `request` over the products `outcome` kept per tile.

    `scenario` is a `config.scenario.Scenario` or its name (ValueError for an unknown one);
    `dl_wait`/`dl_timeout` (minutes) go to the ingest nodes (eodag's retry wait and timeout).
    """
    chosen = scenario_of(scenario)
    builder = _Builder(request, dl_wait, dl_timeout)
    for tile in sorted(outcome.per_tile):
        candidates = sorted(outcome.per_tile[tile], key=lambda c: (c.start, c.id))
        if not candidates:
            continue
        if chosen.makes_products:
            builder.process_tile(tile, candidates)
        else:
            builder.maps_tile(tile, candidates, chosen)
    if chosen.maps_from_orbit_files:
        # S1Tiling ≥ 1.3: without S1 products, the maps come from the precise orbit files.
        for tile in sorted(set(request.processing.tiles) - {ALL_TILES}):
            if not outcome.per_tile.get(tile):
                builder.eof_maps_tile(tile, chosen)
    return Plan(scenario=chosen.name, nodes=builder.ordered(),
                storage_options=request.storage.storage_options(), request=request.to_dict(),
                search=_search_summary(outcome))


def _search_summary(outcome: SearchOutcome) -> dict[str, Any]:
    kept = {c.id for cs in outcome.per_tile.values() for c in cs}
    return {"found": outcome.found, "kept": len(kept),
            "per_tile": {t: sorted(c.id for c in cs) for t, cs in sorted(outcome.per_tile.items())},
            "discarded": [list(d) for d in outcome.discarded],
            "search_failures": outcome.search_failures}


def product_key(naming: Naming, fields: Mapping[str, str]) -> str:
    """The S2 product's name without polarisation nor extension (`s1a_31TCJ_DES_007_…`): what
    the report names when a product cannot be made."""
    name = naming.filename("final", {**fields, "polarisation": ""})
    name = re.sub(r"__+", "_", name).replace("_.", ".").strip("_")
    return name.rsplit(".", 1)[0]


class _Builder:
    """Accumulates the nodes of one plan; each `add` is idempotent per node id."""

    def __init__(self, request: Request, dl_wait: float, dl_timeout: float) -> None:
        self.request = request
        self.dl_wait = dl_wait
        self.dl_timeout = dl_timeout
        processing = request.processing
        paths = request.paths
        self.calibration = processing.calibration
        self.lut = CALIBRATION_LUT.get(self.calibration, self.calibration)
        self.final_calibration = FINAL_CALIBRATION_TYPE.get(self.calibration, self.calibration)
        self.naming = Naming(self.calibration, dict(processing.fname_fmt), dict(processing.dname_fmt))
        self.dirs = default_dirs(paths.output, paths.tmp, lia_dir=paths.lia_dir, ia_dir=paths.ia_dir,
                                 gamma_area_dir=paths.gamma_area_dir, eof_dir=paths.eof)
        self.metadata = dict(request.metadata)
        self.resolution = float(processing.output_spatial_resolution)
        #: The finishing stages' engine argument: none for the default (native) engine.
        self.engine = {} if processing.engine == "native" else {"engine": processing.engine}
        #: Whether the stage writing a final product writes its border mask (native engine);
        #: with OTB's, `mask` nodes run S1Tiling's applications on the products read back.
        self.masks_with_products = (request.mask.generate_border_mask
                                    and processing.engine == "native")
        #: Whether one ortho writes the day's products of a day with several (native engine);
        #: with OTB's, an ortho per product and `concatenate` nodes run S1Tiling's applications.
        self.fuses_days = processing.engine == "native"
        self.nodes: dict[str, Node] = {}
        self.writers: dict[str, str] = {}
        self.order: list[str] = []

    # ---- bookkeeping -------------------------------------------------------------------

    def add(self, node: Node, shared: Iterable[str] = ()) -> Node:
        """Add `node` (or merge its products into the node of that id). Each output has one
        writer, since two would overwrite or delete each other; `shared`: outputs that several
        nodes update together by design (a catalog's collections and root, under its lock)."""
        found = self.nodes.get(node.id)
        if found is not None:
            found.products = sorted({*found.products, *node.products})
            return found
        node.products = sorted(set(node.products))
        node.kind = registry.stage(node.stage).pod_kind  # KeyError for a stage nothing runs
        for output in dict.fromkeys(o for o in node.outputs if o not in shared):  # in order
            writer = self.writers.setdefault(output, node.id)
            if writer != node.id:
                raise ConfigurationError(
                    f"{node.id} and {writer} would both write {output}: give them different "
                    "names with fname_fmt.* / dname_fmt.*")
        self.nodes[node.id] = node
        self.order.append(node.id)
        return node

    def ordered(self) -> list[Node]:
        """Ingest nodes first (downloads start at once), then the tiles' nodes in order."""
        ingest = [i for i in self.order if self.nodes[i].stage == "ingest"]
        rest = [i for i in self.order if self.nodes[i].stage != "ingest"]
        return [self.nodes[i] for i in sorted(ingest) + rest]

    # ---- shared nodes ------------------------------------------------------------------

    def product(self, candidate: S1Candidate, products: Sequence[str]) -> tuple[str, list[str]]:
        """Where the product is read from, and the ingest node it waits for (if downloaded)."""
        if candidate.location:
            return candidate.location, []
        uri = cache_uri(self.request.paths.s1_images, candidate.id)
        node = self.add(Node(
            id=f"ingest/{candidate.id}", stage="ingest",
            label=f"ingest {candidate.platform.lower()} {candidate.day} {candidate.relative_orbit:03d}",
            args={"product": candidate.to_dict(), "destination": uri,
                  "eodag_config": self.request.data_source.eodag_config,
                  "wait_minutes": self.dl_wait, "timeout_minutes": self.dl_timeout},
            outputs=[uri], products=list(products)))
        return uri, [node.id]

    def eof(self, candidate: S1Candidate, products: Sequence[str]) -> list[str]:
        """The `eof` node fetching the precise orbit file of `candidate`'s day, when
        `[Paths] eof_dir` is set and `download` is on (the maps then read the orbit from there;
        without `eof_dir` they use the product annotation's state vectors): its id, or none."""
        eof_dir = self.request.paths.eof_dir
        if not (eof_dir and self.request.data_source.download):
            return []
        # One node per platform and UTC day: a precise orbit file covers a whole day (and an
        # hour either side), so every acquisition of that day shares it.
        day = candidate.start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        node = self.add(Node(
            id=f"eof/{candidate.platform}/{day:%Y%m%d}", stage="eof",
            label=f"eof {candidate.platform.lower()} {day:%Y%m%d}",
            args={"platform": candidate.platform, "start": day.isoformat(),
                  "stop": (day + timedelta(days=1, seconds=-1)).isoformat(), "eof_dir": eof_dir,
                  "eodag_config": self.request.data_source.eodag_config,
                  "wait_minutes": self.dl_wait, "timeout_minutes": self.dl_timeout},
            products=list(products)))
        return [node.id]

    def dem_params(self) -> dict[str, Any]:
        paths = self.request.paths
        return {"dem_dir": paths.dem_dir, "dem_format": paths.dem_source_format,
                "dem_database": paths.dem_database,
                "geoid_file": paths.geoid_file,
                "resampling": self.request.processing.dem_warp_resampling_method,
                "info": self.dem_info()}

    def s2_tmp(self, tile: str) -> str:
        return self.naming.folder("orthorectification", {**self.dirs, "tile_name": tile})

    def heights(self, tile: str, products: Sequence[str]) -> Node:
        uri = f"{self.s2_tmp(tile)}/DEM_GEOID_projected_on_{tile}.tif"
        return self.add(Node(
            id=f"heights/{tile}", stage="heights", label=f"heights {tile}",
            args={"tile": tile, "resolution": self.resolution, "out_uri": uri, "dem": self.dem_params()},
            outputs=[uri], products=list(products), intermediate=True))

    def map_fields(self, tile: str, candidate: S1Candidate) -> dict[str, str]:
        pol = candidate.polarisations[0].lower() if candidate.polarisations else "vv"
        return tile_fields([s1_image(candidate, pol)], tile)

    def map_input(self, tile: str, orbit: int, candidates: Sequence[S1Candidate],
                  products: Sequence[str]) -> tuple[S1Candidate, str, list[str]]:
        chosen = best_coverage(tile, candidates)
        uri, depends = self.product(chosen, products)
        return chosen, uri, depends

    def lia(self, tile: str, orbit: int, candidates: Sequence[S1Candidate], products: Sequence[str],
            heights: Node, *, degrees: bool) -> Node:
        chosen, uri, depends = self.map_input(tile, orbit, candidates, products)
        depends = [*depends, *self.eof(chosen, products)]
        fields = self.map_fields(tile, chosen)
        kinds = ["sin_LIA"] + (["LIA"] if degrees else [])
        outputs = {k: self.naming.path("lia_product", {**fields, "LIA_kind": k}, self.dirs) for k in kinds}
        processing = self.request.processing
        return self.add(Node(
            id=f"lia/{tile}/{orbit:03d}", stage="lia", label=f"lia {tile} {orbit:03d}",
            args={"product": uri, "tile": tile, "heights_uri": heights.outputs[0], "outputs": outputs,
                  "params": {"resolution": self.resolution, "metadata": self.metadata,
                             "dem_resampling_method": processing.dem_warp_resampling_method,
                             "geoid_interpolator": processing.orthorectification_interpolation_method},
                  "eof_dir": self.request.paths.eof_dir},
            depends=[*depends, heights.id], outputs=list(outputs.values()), products=list(products)))

    def ia(self, tile: str, orbit: int, candidates: Sequence[S1Candidate], products: Sequence[str]) -> Node:
        chosen, uri, depends = self.map_input(tile, orbit, candidates, products)
        depends = [*depends, *self.eof(chosen, products)]
        fields = self.map_fields(tile, chosen)
        kinds = [IA_NAME_OF_KIND[k] for k in self.request.processing.ia_maps_to_produce]
        outputs = {k: self.naming.path("ia_product", {**fields, "IA_kind": k}, self.dirs) for k in kinds}
        return self.add(Node(
            id=f"ia/{tile}/{orbit:03d}", stage="ia", label=f"ia {tile} {orbit:03d}",
            args={"product": uri, "tile": tile, "outputs": outputs,
                  "params": {"resolution": self.resolution, "metadata": self.metadata},
                  "eof_dir": self.request.paths.eof_dir},
            depends=depends, outputs=list(outputs.values()), products=list(products)))

    def gamma_area(self, tile: str, orbit: int, candidates: Sequence[S1Candidate],
                   products: Sequence[str], heights: Node) -> Node:
        """The γ-area map from the pass (one product, or a same-day pair) covering most of the
        tile, as S1Tiling selects it."""
        chosen = best_acquisition(tile, candidates)
        uris, depends = [], []
        for candidate in chosen:
            uri, waits = self.product(candidate, products)
            uris.append(uri)
            depends += waits
        output = self.naming.path("gamma_area_product", self.map_fields(tile, chosen[0]), self.dirs)
        return self.add(Node(
            id=f"gamma_area/{tile}/{orbit:03d}", stage="gamma_area",
            label=f"gamma_area {tile} {orbit:03d}",
            args={"product": uris[0] if len(uris) == 1 else uris, "tile": tile,
                  "heights_uri": heights.outputs[0], "output": output,
                  "params": {"resolution": self.resolution, "metadata": self.metadata,
                             "distribute_area": self.request.processing.distribute_area,
                             "outer_margin_ratio": self.request.processing.outer_margin_ratio}},
            depends=[*depends, heights.id], outputs=[output], products=list(products)))

    def dem_info(self) -> str:
        paths = self.request.paths
        return paths.dem_info or default_dem_info(paths.dem_dir)

    # ---- scenarios ---------------------------------------------------------------------

    def maps_tile(self, tile: str, candidates: list[S1Candidate], scenario: Scenario) -> None:
        """S1LIAMap / S1IAMap / S1GammaAreaMap: the maps of each relative orbit of the tile."""
        orbits = by_orbit(candidates)
        names = {orbit: self.map_names(tile, orbit, scenario, group) for orbit, group in orbits.items()}
        heights = None
        if scenario.needs_heights:
            heights = self.heights(tile, [n for ns in names.values() for n in ns])
        for orbit, group in orbits.items():
            if scenario.map_stage == "lia":
                self.lia(tile, orbit, group, names[orbit], heights,
                         degrees=self.request.processing.produce_lia_map)
            elif scenario.map_stage == "ia":
                self.ia(tile, orbit, group, names[orbit])
            else:
                self.gamma_area(tile, orbit, group, names[orbit], heights)

    def eof_maps_tile(self, tile: str, scenario: Scenario) -> None:
        """The maps of each listed relative orbit of a tile that no S1 product covers, from the
        orbit files of `eof_dir` (default `{output}/_EOF`; fetched first when downloading:
        `eof_range`)."""
        source = self.request.data_source
        lia_map = scenario.map_stage == "lia"
        outputs_of: dict[int, dict[str, str]] = {}
        for orbit in source.relative_orbit_list:
            fields = {"tile_name": tile, "orbit": f"{orbit:03d}"}
            if lia_map:
                kinds = ["sin_LIA"] + (["LIA"] if self.request.processing.produce_lia_map else [])
                outputs_of[orbit] = {k: self.naming.path("lia_product", {**fields, "LIA_kind": k},
                                                         self.dirs) for k in kinds}
            else:
                kinds = [IA_NAME_OF_KIND[i] for i in self.request.processing.ia_maps_to_produce]
                outputs_of[orbit] = {k: self.naming.path("ia_product", {**fields, "IA_kind": k},
                                                         self.dirs) for k in kinds}
        names = {o: [os.path.basename(next(iter(out.values()))).rsplit(".", 1)[0]]
                 for o, out in outputs_of.items()}
        every = [n for ns in names.values() for n in ns]
        depends = self.eof_range(every)
        heights = self.heights(tile, every) if scenario.needs_heights else None
        for orbit, outputs in outputs_of.items():
            stage = "lia" if lia_map else "ia"
            params: dict[str, Any] = {"resolution": self.resolution, "metadata": self.metadata}
            if lia_map:
                processing = self.request.processing
                params.update(dem_resampling_method=processing.dem_warp_resampling_method,
                              geoid_interpolator=processing.orthorectification_interpolation_method)
            args: dict[str, Any] = {
                "product": None, "tile": tile, "outputs": outputs, "params": params,
                "eof_dir": self.request.paths.eof, "relative_orbit": orbit,
                "platforms": list(source.platform_list), "orbit_direction": source.orbit_direction}
            if heights is not None:
                args["heights_uri"] = heights.outputs[0]
            self.add(Node(
                id=f"{stage}/{tile}/{orbit:03d}", stage=stage,
                label=f"{stage} {tile} {orbit:03d} (orbit files)", args=args,
                depends=[*depends, *([heights.id] if heights is not None else [])],
                outputs=list(outputs.values()), products=names[orbit]))

    def eof_range(self, products: Sequence[str]) -> list[str]:
        """When downloading, `eof` nodes fetching each platform's precise orbit files over the
        first repeat cycle (12 days) of the dates: every relative orbit passes once in it."""
        source = self.request.data_source
        if not source.download:
            return []
        first = datetime.combine(source.first_date, time.min, UTC)
        last = min(datetime.combine(source.last_date, time.max, UTC),
                   first + timedelta(days=12, seconds=-1))
        ids = []
        for platform in source.platform_list or ["S1A"]:
            node = self.add(Node(
                id=f"eof/{platform}/{first:%Y%m%d}-{last:%Y%m%d}", stage="eof",
                label=f"eof {platform.lower()} {first:%Y%m%d}-{last:%Y%m%d}",
                args={"platform": platform, "start": first.isoformat(), "stop": last.isoformat(),
                      "eof_dir": self.request.paths.eof,
                      "eodag_config": source.eodag_config, "wait_minutes": self.dl_wait,
                      "timeout_minutes": self.dl_timeout},
                products=list(products)))
            ids.append(node.id)
        return ids

    def map_names(self, tile: str, orbit: int, scenario: Scenario, group: list[S1Candidate]) -> list[str]:
        fields = self.map_fields(tile, best_coverage(tile, group))
        if scenario.map_stage == "lia":
            name = self.naming.filename("lia_product", {**fields, "LIA_kind": "sin_LIA"})
        elif scenario.map_stage == "ia":
            kind = IA_NAME_OF_KIND[self.request.processing.ia_maps_to_produce[0]]
            name = self.naming.filename("ia_product", {**fields, "IA_kind": kind})
        else:
            name = self.naming.filename("gamma_area_product", fields)
        return [name.rsplit(".", 1)[0]]

    def process_tile(self, tile: str, candidates: list[S1Candidate]) -> None:
        requested = self.request.data_source.polarisations
        groups = acquisitions(tile, candidates)
        keys = {g.key: self.acquisition_key(g, requested) for g in groups}
        heights = self.heights(tile, list(keys.values()))
        maps: dict[int, Node] = {}
        for orbit, group in by_orbit(candidates).items():
            products = [keys[g.key] for g in groups if g.relative_orbit == orbit]
            if self.calibration == "normlim":
                maps[orbit] = self.lia(tile, orbit, group, products, heights,
                                       degrees=self.request.processing.produce_lia_map)
            elif self.calibration == "gamma_naught_rtc":
                maps[orbit] = self.gamma_area(tile, orbit, group, products, heights)
        orthos: dict[str, Node] = {}
        for group in groups:
            if len(group.products) > 1 and self.fuses_days:
                day = self.day_ortho(group, requested, heights, [keys[group.key]])
                orthos.update({candidate.id: day for candidate in group.products})
                continue
            for candidate in group.products:
                orthos[candidate.id] = self.ortho(tile, candidate, requested, heights, [keys[group.key]],
                                                  alone=len(group.products) == 1)
        for group in groups:
            self.acquisition(group, requested, orthos, maps.get(group.relative_orbit), keys[group.key])

    def acquisition_key(self, group: Acquisition, requested: Sequence[str]) -> str:
        pols = [p for c in group.products for p in polarisations_of(c, requested)] or list(requested)
        images = [s1_image(c, pols[0]) for c in group.products]
        return product_key(self.naming, {**tile_fields(images, group.tile),
                                         "calibration_type": self.final_calibration})

    def ortho(self, tile: str, candidate: S1Candidate, requested: Sequence[str], heights: Node,
              products: Sequence[str], alone: bool = False) -> Node:
        """`alone`: the only product of its day, whose images are the day's products (S1Tiling
        moves the file): the ortho writes them under the products' names and tags, and no
        concatenation follows."""
        uri, depends = self.product(candidate, products)
        final = alone and self.naming.in_s1  # its images are final products
        outputs, masks = {}, {}
        for pol in polarisations_of(candidate, requested):
            fields = tile_fields([s1_image(candidate, pol)], tile)
            outputs[pol.upper()] = (self.day_product_path(fields) if alone else self.naming.path(
                "orthorectification", {**fields, "calibration_type": self.lut}, self.dirs))
            if final and self.masks_with_products:
                masks[pol.upper()] = self.mask_path(fields)
        return self.add(Node(
            id=f"ortho/{tile}/{candidate.id}", stage="ortho",
            label=f"ortho {tile} {candidate.platform.lower()} {candidate.day}",
            args={"product": uri, "tile": tile, "heights_uri": heights.outputs[0], "outputs": outputs,
                  "params": {**self.ortho_params(), **self.day_product_params(alone, final)},
                  **({"masks": masks} if masks else {})},
            depends=[*depends, heights.id], outputs=[*outputs.values(), *masks.values()],
            products=list(products), intermediate=not final))

    def day_ortho(self, group: Acquisition, requested: Sequence[str], heights: Node,
                  products: Sequence[str]) -> Node:
        """The ortho of a day with several products (native engine): the products, in time
        order, orthorectified and merged into the day's products (and their masks, when
        final), as their orthos and concatenations would make them."""
        tile, where = group.tile, f"{group.tile}/{group.relative_orbit:03d}/{group.day}"
        uris, depends = [], []
        for candidate in group.products:
            uri, waits = self.product(candidate, products)
            uris.append(uri)
            depends += waits
        final = self.naming.in_s1  # the day's products are final products
        outputs, masks = {}, {}
        for pol in requested:
            members = [c for c in group.products if pol in polarisations_of(c, [pol])]
            if not members:
                continue
            fields = tile_fields([s1_image(c, pol) for c in members], tile)
            outputs[pol.upper()] = self.day_product_path(fields)
            if final and self.masks_with_products:
                masks[pol.upper()] = self.mask_path(fields)
        platforms = "+".join(dict.fromkeys(c.platform.lower() for c in group.products))
        return self.add(Node(
            id=f"ortho/{where}", stage="ortho",
            label=f"ortho {tile} {platforms} {group.day}",
            args={"product": uris, "tile": tile, "heights_uri": heights.outputs[0],
                  "outputs": outputs,
                  "params": {**self.ortho_params(), **self.day_product_params(True, final)},
                  **({"masks": masks} if masks else {})},
            depends=[*depends, heights.id], outputs=[*outputs.values(), *masks.values()],
            products=list(products), intermediate=not final))

    @staticmethod
    def day_product_params(alone: bool, final: bool) -> dict[str, bool]:
        """The ortho's params saying what its images are: per-image images (none), the day's
        final products, or the day's products NORMLIM / γ° RTC reads (intermediates)."""
        if not alone:
            return {}
        return {"day_product": True} if final else {"day_product": True, "intermediate": True}

    def mask_path(self, fields: Mapping[str, str]) -> str:
        """Where the border mask of the final product of `fields` goes."""
        return self.naming.path("mask", {**fields, "calibration_type": self.final_calibration},
                                self.dirs)

    def day_product_path(self, fields: Mapping[str, str]) -> str:
        """Where the day's product of a tile × orbit × day × polarisation goes (`fields`): the
        final product when S1Tiling names it so (`in_s1`), else the concatenation in tmp that
        NORMLIM / γ° RTC read."""
        in_s1 = self.naming.in_s1
        return self.naming.path(
            "final" if in_s1 else "concatenation",
            {**fields, "calibration_type": self.calibration if in_s1 else self.lut}, self.dirs)

    def ortho_params(self) -> dict[str, Any]:
        processing = self.request.processing
        params: dict[str, Any] = {
            "calibration": self.lut, "remove_thermal_noise": processing.remove_thermal_noise,
            "lower_signal_value": processing.lower_signal_value, "resolution": self.resolution,
            "interpolation": processing.orthorectification_interpolation_method,
            "override_azimuth_cut": processing.override_azimuth_cut_threshold_to,
            "dem_info": self.dem_info(), "metadata": self.metadata, "engine": processing.engine}
        if processing.engine == "otb":
            from ..geo.geoid import default_geoid_file

            params["dem_dir"] = self.request.paths.dem_dir
            params["geoid_file"] = self.request.paths.geoid_file or str(default_geoid_file())
        return params

    def acquisition(self, group: Acquisition, requested: Sequence[str], orthos: Mapping[str, Node],
                    correction: Node | None, key: str) -> None:
        """The chain of one tile × orbit × day, per polarisation, then its publication."""
        request = self.request
        tile, where = group.tile, f"{group.tile}/{group.relative_orbit:03d}/{group.day}"
        published: dict[str, dict[str, str]] = {"products": {}, "masks": {}, "quicklooks": {}}
        filtered = False  # whether the published products are the despeckled ones
        publish_depends: list[str] = []
        for pol in requested:
            members = [c for c in group.products if pol in polarisations_of(c, [pol])]
            if not members:
                continue
            fields = tile_fields([s1_image(c, pol) for c in members], tile)
            label = f"{tile} {pol} {group.relative_orbit:03d} {group.day}"
            inputs = [orthos[c.id].args["outputs"][pol.upper()] for c in members]
            in_s1 = self.naming.in_s1
            mask = self.mask_path(fields) if request.mask.generate_border_mask else None
            # the mask written with the final product (else by a `mask` node)
            fused = mask if self.masks_with_products else None
            if len({orthos[c.id].id for c in group.products}) == 1:  # the day's ortho wrote it
                node = orthos[members[0].id]
                final = node.args["outputs"][pol.upper()]
            else:
                final = self.day_product_path(fields)
                with_mask = fused if correction is None else None
                node = self.add(Node(
                    id=f"concatenate/{where}/{pol}", stage="concatenate",
                    label=f"concatenate {label}",
                    args={"inputs": inputs, "output": final, "tile": tile,
                          "params": {"metadata": self.metadata, **self.engine,
                                     **({} if in_s1 else {"intermediate": True})},
                          **({"mask": with_mask} if with_mask else {})},
                    depends=[orthos[c.id].id for c in members],
                    outputs=[final, *([with_mask] if with_mask else [])], products=[key],
                    intermediate=not in_s1))
            final_fields = {**fields, "calibration_type": self.final_calibration}
            filtering = request.filtering
            despeckled = bool(filtering.filter) and filtering.filter.lower() != "none"
            keep = (filtering.keep_non_filtered_products or request.mask.generate_border_mask
                    or not despeckled or in_s1)
            if correction is not None:
                node = self.correction(node, final, correction, final_fields, where, pol, label,
                                       key, keep, fused)
                final = node.outputs[0]
            published["products"][pol] = final
            publish_depends.append(node.id)
            if despeckled:
                filtered_uri = self.naming.path("filtered", {**final_fields,
                                                         "filter_method": filtering.filter.lower()},
                                            self.dirs)
                done = self.add(Node(
                    id=f"despeckle/{where}/{pol}", stage="despeckle", label=f"despeckle {label}",
                    args={"product": final, "output": filtered_uri,
                          "params": {"method": filtering.filter.lower(),
                                     "window_radius": filtering.window_radius,
                                     "nblooks": filtering.nblooks, "deramp": filtering.deramp,
                                     **self.engine}},
                    depends=[node.id], outputs=[filtered_uri], products=[key]))
                if not keep:
                    published["products"][pol] = filtered_uri
                    filtered = True
                    publish_depends.append(done.id)
            if mask and not fused:
                done = self.add(Node(
                    id=f"mask/{where}/{pol}", stage="mask", label=f"mask {label}",
                    args={"product": final, "output": mask, **self.engine}, depends=[node.id],
                    outputs=[mask],
                    products=[key]))
                publish_depends.append(done.id)
            if mask:
                published["masks"][pol] = mask
            if request.quicklook.generate:
                quicklook = self.naming.path("quicklook", final_fields, self.dirs)
                q = request.quicklook
                done = self.add(Node(
                    id=f"quicklook/{where}/{pol}", stage="quicklook", label=f"quicklook {label}",
                    args={"product": final, "output": quicklook,
                          "params": {"ratio": q.ratio, "scale_vv": q.scale_vv, "scale_vh": q.scale_vh,
                                     "scale_hv": q.scale_hv, "scale_hh": q.scale_hh}},
                    depends=[node.id], outputs=[quicklook], products=[key]))
                published["quicklooks"][pol] = quicklook
                publish_depends.append(done.id)
        if request.stac.publish and published["products"]:
            self.publish(group, where, published, correction, publish_depends, key, filtered)

    def correction(self, concatenated: Node, product: str, correction: Node,
                   fields: Mapping[str, str], where: str, pol: str, label: str, key: str,
                   keep: bool, mask: str | None = None) -> Node:
        """NORMLIM (β° × sin LIA) or γ° RTC of the day's product `product` (written by the
        node `concatenated`): the final product, and its border `mask` when given."""
        final = self.naming.path("final", fields, self.dirs)
        if correction.stage == "lia":
            stage = "normlim"
            params = {"lower_signal_value": self.request.processing.lower_signal_value,
                      "metadata": self.metadata}
            args = {"product": product, "sin_lia_uri": correction.args["outputs"]["sin_LIA"],
                    "output": final, "params": params}
        else:
            stage = "rtc"
            args = {"product": product, "gamma_area_uri": correction.args["output"],
                    "output": final,
                    "params": {"metadata": self.metadata,
                               "calibration_factor": self.request.processing.calibration_factor,
                               "min_gamma_area": self.request.processing.min_gamma_area}}
        if mask:
            args["mask"] = mask
        return self.add(Node(
            id=f"{stage}/{where}/{pol}", stage=stage, label=f"{stage} {label}", args=args,
            depends=[concatenated.id, correction.id], outputs=[final, *([mask] if mask else [])],
            products=[key], intermediate=not keep))

    def publish(self, group: Acquisition, where: str, published: Mapping[str, dict[str, str]],
                correction: Node | None, depends: list[str], key: str, filtered: bool) -> None:
        stac = self.request.stac
        catalog = stac.catalog or f"{self.request.paths.output.rstrip('/')}/catalog.json"
        maps: dict[str, str] = {}
        if correction is not None and correction.stage == "lia":
            maps = dict(correction.args["outputs"])
        elif correction is not None:
            maps = {"gamma_area": correction.args["output"]}
        if correction is not None:
            depends = [*depends, correction.id]
        inputs = [{"id": c.id, "href": c.location or cache_uri(self.request.paths.s1_images, c.id),
                   "provider": c.provider} for c in group.products]
        documents = published_documents(catalog, next(iter(published["products"].values())),
                                        self.final_calibration, filtered)
        self.add(Node(
            id=f"publish/{where}", stage="publish",
            label=f"publish {group.tile} {group.relative_orbit:03d} {group.day}",
            args={"products": published["products"], "catalog": catalog, "masks": published["masks"],
                  "quicklooks": published["quicklooks"], "maps": maps, "inputs": inputs,
                  "api_url": stac.api_url, "public_url": stac.public_url,
                  "processing": {"engine": self.request.processing.engine}},
            depends=sorted(set(depends)), outputs=documents, products=[key]), shared=documents[1:])
