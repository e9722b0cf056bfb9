"""Stage `gamma_area` (S1GammaAreaMap): per tile × relative orbit, from the GRD products of one pass of
that orbit over the tile (S1Tiling's best-covering same-day pair) and the tile's ellipsoidal
heights (the `heights` stage), writes `GAMMA_AREA_{tile}_{orbit}.tif`, float32, one band, nodata
NaN, as S1Tiling: the γ area (m², `DATA_TYPE=meters^2`) of the radar pixel seen at each tile
pixel, A_γ = G · C · A_σ,E, where (engine `gamma_area_blocks`, per radar cell)
- G = Σ A_γ(DEM facets) / Σ A_γ,E(ellipsoid facets) (flat terrain → 1),
- C = Σ A_γ,E / Σ A_σ,E (cos θ_E of the radar cell),
- A_σ,E = range × azimuth pixel spacing: the radar pixel's area on the ellipsoid (a GRD's
  pixels are ground range), recorded as `ELLIPSOID_PIXEL_AREA` (ours);
`DEM_INFO` is the heights' tag (`[Paths] dem_info`, as the `heights` stage wrote it), as for
`lia`; and, when `mask_output` is given, a uint8 layover (1) / shadow (2) mask (255 outside).

See `engine.native.gamma_area` for the derivation and the algorithm; `rtc` applies the map.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..engine.native.gamma_area import (
    DEFAULT_BLOCK_ROWS,
    DEFAULT_CELL_FACTOR,
    DEFAULT_OUTER_MARGIN_RATIO,
    OUTSIDE,
    gamma_area_blocks,
    margin_pixels,
)
from ..exceptions import ConfigurationError, NotCompatibleInput
from ..geo import Grid, TileProjector
from ..outputs.metadata import Provenance, complete_tags, gamma_area_tags
from ..outputs.names import S1Image
from ..safe import Sentinel1Product
from .base import StageCall, StageResult, input_identity
from .maps import tile_heights

#: Our key of a γ-area map: the radar pixel's area on the ellipsoid, A_σ,E (m²).
PIXEL_AREA_KEY = "ELLIPSOID_PIXEL_AREA"


@dataclasses.dataclass(frozen=True)
class GammaAreaParams:
    """`distribute_area` and `outer_margin_ratio`: S1Tiling's `[Processing]` keys (see
    `gamma_area_blocks` and `margin_pixels`); `halo`: the margin in pixels instead, given with
    `outer_margin_ratio` None (both given: ConfigurationError, rather than one silently
    ignored; so is a negative margin)."""

    resolution: float = 10.0
    block_rows: int = DEFAULT_BLOCK_ROWS
    cell_factor: float = DEFAULT_CELL_FACTOR
    halo: int | None = None
    distribute_area: bool = True
    outer_margin_ratio: float | None = DEFAULT_OUTER_MARGIN_RATIO
    dem_info: str = ""  # unused: `DEM_INFO` is the heights' tag, as `lia`'s (older plans set it)
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    overviews: bool = False

    def __post_init__(self) -> None:
        if self.halo is not None and self.outer_margin_ratio is not None:
            raise ConfigurationError(
                f"gamma_area: halo ({self.halo} pixels) replaces outer_margin_ratio "
                f"({self.outer_margin_ratio}): give outer_margin_ratio None with it")
        for name in ("halo", "outer_margin_ratio"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ConfigurationError(f"gamma_area: {name} is >= 0, not {value}")


def gamma_area(product: str | Sequence[str], tile: str, heights_uri: str, output: str,
               params: GammaAreaParams | Mapping[str, Any] | None = None,
               mask_output: str | None = None,
               storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Write the γ-area map of `tile` for the relative orbit of `product` (one product, or the
    products of one pass in time order: S1Tiling's best-covering same-day pair; a pixel comes
    from the first product that sees it), and its mask."""
    call = StageCall("gamma_area", storage_options)
    params = call.params(GammaAreaParams, params)
    products = [product] if isinstance(product, str) else list(product)
    if not products:
        raise NotCompatibleInput("a γ-area map needs at least one S1 product")
    store = call.store
    heights_tags = store.read_tags(heights_uri)
    outputs = [output] + ([mask_output] if mask_output else [])
    provenance = Provenance("gamma_area", {**dataclasses.asdict(params), "tile": tile,
                                           "heights": input_identity(heights_tags)},
                            [*products, heights_uri])
    if reused := call.reused(outputs, provenance):
        return reused
    grid = Grid.from_tile(tile, params.resolution)
    heights = tile_heights(store, heights_uri, grid)
    values = np.full(grid.shape, np.nan, np.float32)
    mask = np.full(grid.shape, OUTSIDE, np.uint8)
    images, pixel_areas = [], []
    margin = (params.halo if params.outer_margin_ratio is None
              else margin_pixels(grid, params.outer_margin_ratio))
    clock = time.perf_counter()
    for uri in products:
        s1 = Sentinel1Product(uri, store.storage_options)
        if s1.manifest.product_type != "GRD":
            raise NotCompatibleInput(f"{s1.name} is a {s1.manifest.product_type}, not a GRD")
        swath = s1.swaths[0]
        pol = s1.polarisations(swath)[0]
        projector = TileProjector.open(s1, f"{swath}/{pol}")
        info = s1.info(swath)
        pixel_area = float(info["range_pixel_spacing"]) * float(info["azimuth_pixel_spacing"])
        if pixel_areas and pixel_area != pixel_areas[0]:  # before computing this product's part
            raise NotCompatibleInput(f"the products of one γ-area map differ in pixel size: {products}")
        pixel_areas.append(pixel_area)
        for block in gamma_area_blocks(grid, heights, projector, block_rows=params.block_rows,
                                       pad=margin, cell_factor=params.cell_factor,
                                       distribute_area=params.distribute_area):
            free = mask[block.rows] == OUTSIDE  # not seen by an earlier product of the pass
            seen = free & (block.mask != OUTSIDE)
            area = block.gamma_area * block.cos_reference * pixel_area  # A_γ = G · C · A_σ,E
            values[block.rows][seen] = area[seen]
            mask[block.rows][seen] = block.mask[seen]
        measurement = os.path.basename(s1.file(swath, pol, "measurement").href)
        images.append(S1Image(measurement, s1.manifest.orbit_state, product=s1.name,
                              relative_orbit=s1.manifest.relative_orbit))
    del heights
    compute_s = round(time.perf_counter() - clock, 3)
    tags = gamma_area_tags(images, tile_name=tile, spatial_resolution=params.resolution,
                           dem_info=heights_tags.get("DEM_INFO", ""))
    tags[PIXEL_AREA_KEY] = f"{pixel_areas[0]:.6g}"
    tags = complete_tags(tags, extra=params.metadata, provenance=provenance)
    overviews = "auto" if params.overviews else None
    store.write_cog(output, values, crs=grid.crs, transform=grid.transform, nodata=float("nan"),
                    tags=tags, band_descriptions=["gamma_area"], overviews=overviews)
    if mask_output:
        mask_tags = {**tags, "IMAGE_TYPE": "MASK",
                     "DATA_TYPE": "1 layover, 2 shadow, 3 both, 255 outside the image",
                     "TIFFTAG_IMAGEDESCRIPTION": "Layover/shadow mask on S2 grid"}
        store.write_cog(mask_output, mask, crs=grid.crs, transform=grid.transform,
                        nodata=OUTSIDE, tags=mask_tags, overviews=overviews)
    valid = np.isfinite(values)
    return call.done(outputs, compute_s=compute_s,
                     valid_fraction=round(float(valid.mean()), 6),
                     layover_fraction=round(float(np.mean(mask[valid] & 1)), 6) if valid.any() else 0,
                     shadow_fraction=round(float(np.mean((mask[valid] & 2) > 0)), 6)
                     if valid.any() else 0)
