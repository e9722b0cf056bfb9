"""Stage `ia` (S1Tiling's S1IAMap): the incidence angle of an S2 tile for one relative orbit on
the ellipsoid (no DEM: every pixel at height 0, the ellipsoid's normal), as `IA_` (uint16
100 × degrees, nodata 0), `cos_IA_`, `sin_IA_`, `tan_IA_` (float32, nodata NaN), the ones asked
in `outputs`. The orbit is found as for `lia` (`geo.orbit_source`); the geometry is exact on a
160 m lattice and interpolated between (`engine.native.lia_lattice`), or exact at every pixel
with `lattice=False`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..engine.native import angle_encoding
from ..engine.native.lia import DEFAULT_BLOCK_ROWS, ia_blocks
from ..engine.native.lia_lattice import ia_lattice
from ..geo import Grid
from ..geo.orbit_source import map_orbit
from ..outputs.metadata import Provenance, complete_tags, ia_tags
from ..outputs.names import IA_MAP_KINDS
from .base import StageCall, StageResult
from .maps import check_kinds


@dataclasses.dataclass(frozen=True)
class IAParams:
    resolution: float = 10.0
    orbit_margin_s: float = 600.0
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    block_rows: int = DEFAULT_BLOCK_ROWS
    overviews: bool = False
    lattice: bool = True  # as LIAParams.lattice


def ia(product: str | None, tile: str, outputs: Mapping[str, str],
       params: IAParams | Mapping[str, Any] | None = None, eof_dir: str | None = None,
       storage_options: Mapping[str, Any] | None = None, *, relative_orbit: int | None = None,
       platforms: Sequence[str] = (), orbit_direction: str | None = None) -> StageResult:
    """Write the ellipsoid IA maps of `tile` for `product`'s orbit (or, with no product, a
    pass of `relative_orbit` found in `eof_dir`): `outputs` maps any of `IA`, `cos_IA`,
    `sin_IA`, `tan_IA` to URIs (S1Tiling's `ia_maps_to_produce`)."""
    call = StageCall("ia", storage_options)
    params = call.params(IAParams, params)
    check_kinds(outputs, IA_MAP_KINDS)
    store = call.store
    source = map_orbit(product, eof_dir, tile=tile, relative_orbit=relative_orbit,
                       platforms=platforms, orbit_direction=orbit_direction,
                       margin_s=params.orbit_margin_s, storage_options=store.storage_options)
    provenance = Provenance("ia", {**dataclasses.asdict(params), "tile": tile,
                                   "orbit_file": source.file}, list(source.inputs))
    if reused := call.reused(list(outputs.values()), provenance):
        return reused
    grid = Grid.from_tile(tile, params.resolution)
    clock = time.perf_counter()
    if params.lattice:
        degrees = ia_lattice(grid, source.orbit)
    else:
        degrees = np.full(grid.shape, np.nan, np.float32)
        for block in ia_blocks(grid, source.orbit, block_rows=params.block_rows):
            degrees[block.rows] = block.degrees
    compute_s = round(time.perf_counter() - clock, 3)
    written = []
    for name, uri in outputs.items():
        kind = IA_MAP_KINDS[name]
        tags = complete_tags(ia_tags(kind, tile_name=tile, orbit_direction=source.orbit_direction,
                                     relative_orbit=source.relative_orbit,
                                     spatial_resolution=params.resolution, eof_file=source.file),
                             extra=params.metadata, provenance=provenance)
        if kind == "deg":
            values, nodata = angle_encoding.x100(degrees), 0
        else:
            values, nodata = angle_encoding.trig(degrees, kind), float("nan")
        store.write_cog(uri, values, crs=grid.crs, transform=grid.transform, nodata=nodata,
                        tags=tags, overviews="auto" if params.overviews else None)
        written.append(uri)
    return call.done(written, compute_s=compute_s,
                     valid_fraction=round(np.count_nonzero(np.isfinite(degrees)) / degrees.size, 6))

