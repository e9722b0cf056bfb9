"""Stage `lia`: the local incidence angle maps of an S2 tile for one relative orbit (the
ellipsoid's incidence angle, `ia`, is its own stage, in `ia.py`).

`lia` (S1Tiling's S1LIAMap, LIA workflow steps 5–7): the local incidence angle between the
ground normal (from the tile's ellipsoidal heights, the `heights` stage's COG) and the
ground → satellite direction at zero Doppler, written as
- `sin_LIA_{tile}_{orbit}.tif`: float32, sin(LIA), nodata NaN;
- `LIA_{tile}_{orbit}.tif`: uint16, round(100 × degrees). **Nodata is 0** (S1Tiling asks for
  NaN, which an uint16 cannot hold); a valid angle below 0.005° is written 1.

The orbit comes from the state vectors of `product`'s annotation, or from a precise orbit file
of `eof_dir` (a folder or an s3:// prefix: `S1x_OPER_AUX_POEORB_*.EOF`, the newest covering the
product) when given. The maps depend on the relative orbit only, so any product of that orbit
over the tile gives them; pixels whose zero-Doppler time falls outside the orbit's state vectors
(± `orbit_margin_s` around the product for an EOF) are nodata. Without a product (S1Tiling ≥
1.3's S1LIAMap/S1IAMap from orbit files alone), the pass of the relative orbit over the tile
is found in the precise orbit files of `eof_dir` (`geo.orbit_source`). The geometry is exact on a 160 m
lattice and interpolated between (`engine.native.lia_lattice`, within 0.001° of the exact
per-pixel maps of `engine.native.lia`, which `lattice=False` computes).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..engine.native import angle_encoding
from ..engine.native.lia import DEFAULT_BLOCK_ROWS, lia_blocks
from ..engine.native.lia_lattice import lia_lattice
from ..geo import Grid
from ..geo.orbit_source import map_orbit
from ..outputs.metadata import Provenance, complete_tags, lia_tags
from ..outputs.names import LIA_MAP_KINDS
from .base import StageCall, StageResult, input_identity
from .maps import check_kinds, tile_heights


@dataclasses.dataclass(frozen=True)
class LIAParams:
    """What changes an LIA map; the DEM keys only fill S1Tiling's tags (`DEM_INFO` and
    `DEM_LIST` default to the heights COG's own tags)."""

    resolution: float = 10.0
    normal: str = "full"  # "full" | "range_plane" (S1Tiling's docs' projected normal)
    orbit_margin_s: float = 600.0
    dem_resampling_method: str = "cubic"
    geoid_interpolator: str = "linear"
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    block_rows: int = DEFAULT_BLOCK_ROWS
    overviews: bool = False
    #: The geometry from a 160 m lattice (`lia_lattice`: within 0.001° of the exact maps, 10×
    #: faster); False: exact at every pixel (`lia_blocks`).
    lattice: bool = True

    def __post_init__(self) -> None:
        if self.normal not in ("full", "range_plane"):
            raise ValueError(f"normal must be 'full' or 'range_plane', not {self.normal!r}")


def lia(product: str | None, tile: str, heights_uri: str, outputs: Mapping[str, str],
        params: LIAParams | Mapping[str, Any] | None = None, eof_dir: str | None = None,
        storage_options: Mapping[str, Any] | None = None, *, relative_orbit: int | None = None,
        platforms: Sequence[str] = (), orbit_direction: str | None = None) -> StageResult:
    """Write the LIA maps of `tile` for `product`'s orbit (or, with no product, a pass of
    `relative_orbit` found in `eof_dir`): `outputs` maps `sin_LIA` and/or `LIA` to URIs."""
    call = StageCall("lia", storage_options)
    params = call.params(LIAParams, params)
    check_kinds(outputs, LIA_MAP_KINDS)
    store = call.store
    heights_tags = store.read_tags(heights_uri)
    source = map_orbit(product, eof_dir, tile=tile, relative_orbit=relative_orbit,
                       platforms=platforms, orbit_direction=orbit_direction,
                       margin_s=params.orbit_margin_s, storage_options=store.storage_options)
    provenance = Provenance("lia", {**dataclasses.asdict(params), "tile": tile,
                                    "heights": input_identity(heights_tags),
                                    "orbit_file": source.file},
                            [*source.inputs, heights_uri])
    if reused := call.reused(list(outputs.values()), provenance):
        return reused
    grid = Grid.from_tile(tile, params.resolution)
    heights = tile_heights(store, heights_uri, grid)
    clock = time.perf_counter()
    if params.lattice:
        degrees = lia_lattice(grid, heights, source.orbit, normal=params.normal)
    else:
        degrees = np.full(grid.shape, np.nan, np.float32)
        for block in lia_blocks(grid, heights, source.orbit, normal=params.normal,
                                block_rows=params.block_rows):
            degrees[block.rows] = block.degrees
    del heights
    compute_s = round(time.perf_counter() - clock, 3)
    dem_list = [d.strip() for d in heights_tags.get("DEM_LIST", "").split(",") if d.strip()]
    written = []
    for name, uri in outputs.items():
        kind = LIA_MAP_KINDS[name]
        tags = lia_tags(kind, tile_name=tile, orbit_direction=source.orbit_direction,
                        relative_orbit=source.relative_orbit,
                        spatial_resolution=params.resolution,
                        dem_info=heights_tags.get("DEM_INFO", ""), dem_list=dem_list,
                        dem_resampling_method=params.dem_resampling_method,
                        eof_file=source.file, geoid_interpolator=params.geoid_interpolator)
        tags = complete_tags(tags, extra=params.metadata, provenance=provenance)
        if kind == "sin":
            values, nodata = angle_encoding.trig(degrees, "sin"), float("nan")
        else:
            values, nodata = angle_encoding.x100(degrees), 0
        store.write_cog(uri, values, crs=grid.crs, transform=grid.transform, nodata=nodata,
                        tags=tags, overviews="auto" if params.overviews else None)
        written.append(uri)
    valid = np.count_nonzero(np.isfinite(degrees))
    return call.done(written, compute_s=compute_s,
                     valid_fraction=round(valid / degrees.size, 6),
                     lia_range=[round(float(np.nanmin(degrees)), 4),
                                round(float(np.nanmax(degrees)), 4)] if valid else None)


def map_name(kind: str, tile: str, relative_orbit: int) -> str:
    """S1Tiling's default map name (`{LIA_kind}_{tile_name}_{orbit}.tif`)."""
    return os.path.basename(f"{kind}_{tile}_{int(relative_orbit):03d}.tif")
