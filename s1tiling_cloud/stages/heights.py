"""Stage `heights`: ellipsoidal heights (DEM + geoid) on an S2 tile grid, once per tile.

S1Tiling projects the DEM and the geoid on each tile and sums them (`DEM+GEOID_projected_on_
{tile}`); every orthorectification and LIA map of the tile then reads this one raster.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from ..geo import DemSource, Geoid, Grid, ellipsoid_heights
from ..outputs.metadata import (
    GEOID_STANDS_IN,
    Provenance,
    complete_tags,
    default_dem_info,
    dem_info,
)
from .base import StageCall, StageResult


@dataclasses.dataclass(frozen=True)
class DemParams:
    """S1Tiling's DEM keys (`[Paths] dem_dir, dem_database, dem_format, geoid_file`,
    `[Processing] dem_warp_resampling_method`)."""

    dem_dir: str
    dem_format: str | None = None
    dem_database: str | None = None
    geoid_file: str | None = None
    resampling: str = "cubic"
    #: `[Paths] dem_info`, the tile's `DEM_INFO` tag ("": the folder's name). A tag only, so
    #: not in the provenance (S1Tiling does not recompute for metadata either): when only it
    #: changes, the heights and the maps copying their tag (LIA, γ area) are reused with the
    #: old name (remove them for the new one); the products, whose params name it, are redone.
    info: str = ""

    @property
    def dem_info(self) -> str:
        return self.info or default_dem_info(self.dem_dir)


def heights(tile: str, resolution: float, out_uri: str, dem: DemParams | Mapping[str, Any],
            storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Write the heights above the WGS84 ellipsoid of `tile` at `resolution` (float32 COG)."""
    call = StageCall("heights", storage_options)
    dem = call.params(DemParams, dem)
    store = call.store
    grid = Grid.from_tile(tile, resolution)
    # The geoid first: with both missing, S1Tiling reports the geoid (76) before the DEM (75).
    geoid = Geoid.open(dem.geoid_file, storage_options=store.storage_options)
    source = DemSource.from_config(dem.dem_dir, dem.dem_database, dem.dem_format,
                                   storage_options=store.storage_options)
    selection = source.require(grid, margin=4)
    recorded = {k: v for k, v in dataclasses.asdict(dem).items() if k != "info"}
    provenance = Provenance("heights", {"tile": tile, "resolution": resolution, "dem": recorded},
                            selection.uris)
    if reused := call.reused([out_uri], provenance):
        return reused
    # Where no DEM tile is (the sea), the height over the geoid is 0, as OTB takes it.
    geoid_note = selection.geoid_stands_in
    values = ellipsoid_heights(grid, source, geoid, resampling=dem.resampling,
                               fill_height=0.0 if geoid_note else None)
    extra = {GEOID_STANDS_IN: geoid_note} if geoid_note else {}
    tags = complete_tags({"IMAGE_TYPE": "HEIGHT", "DATA_TYPE": "height above the WGS84 "
                          "ellipsoid (m)", "DEM_INFO": dem_info(dem.dem_info, extra),
                          "DEM_LIST": ",".join(os.path.basename(u) for u in selection.uris),
                          "S2_TILE_CORRESPONDING_CODE": tile, **extra},
                         provenance=provenance)
    store.write_cog(out_uri, values, crs=grid.crs, transform=grid.transform, nodata=float("nan"),
                    tags=tags, overviews=None, compress="ZSTD")
    return call.done([out_uri], dem_tiles=len(selection.uris))
