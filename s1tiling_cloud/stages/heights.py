"""Stage `heights`: ellipsoidal heights (DEM + geoid) on an S2 tile grid, once per tile.

S1Tiling projects the DEM and the geoid on each tile and sums them (`DEM+GEOID_projected_on_
{tile}`); every orthorectification and LIA map of the tile then reads this one raster.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from typing import Any

from ..geo import DemSource, Geoid, Grid, ellipsoid_heights
from ..outputs.metadata import Provenance, complete_tags
from ..store import Store
from .base import StageResult, params_from, reusable, timed


@dataclasses.dataclass(frozen=True)
class DemParams:
    """S1Tiling's DEM keys (`[Paths] dem_dir, dem_database, dem_format, geoid_file`,
    `[Processing] dem_warp_resampling_method`)."""

    dem_dir: str
    dem_format: str | None = None
    dem_database: str | None = None
    geoid_file: str | None = None
    resampling: str = "cubic"

    @property
    def dem_info(self) -> str:
        return os.path.basename(str(self.dem_dir).rstrip("/"))


def heights(tile: str, resolution: float, out_uri: str, dem: DemParams | Mapping[str, Any],
            storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Write the heights above the WGS84 ellipsoid of `tile` at `resolution` (float32 COG)."""
    started = time.perf_counter()
    dem = params_from(DemParams, dem)
    store = Store(storage_options)
    grid = Grid.from_tile(tile, resolution)
    source = DemSource.from_config(dem.dem_dir, dem.dem_database, dem.dem_format,
                                   storage_options=store.storage_options)
    selection = source.require(grid, margin=4)
    provenance = Provenance("heights", {"tile": tile, "resolution": resolution,
                                        "dem": dataclasses.asdict(dem)}, selection.uris)
    if reusable(store, [out_uri], provenance):
        return StageResult("heights", [out_uri], skipped=True)
    geoid = Geoid.open(dem.geoid_file, storage_options=store.storage_options)
    values = ellipsoid_heights(grid, source, geoid, resampling=dem.resampling)
    tags = complete_tags({"IMAGE_TYPE": "HEIGHT", "DATA_TYPE": "height above the WGS84 "
                          "ellipsoid (m)", "DEM_INFO": dem.dem_info,
                          "DEM_LIST": ",".join(os.path.basename(u) for u in selection.uris),
                          "S2_TILE_CORRESPONDING_CODE": tile},
                         provenance=provenance)
    store.write_cog(out_uri, values, crs=grid.crs, transform=grid.transform, nodata=float("nan"),
                    tags=tags, overviews=None, compress="ZSTD")
    return timed("heights", [out_uri], started, dem_tiles=len(selection.uris))
