"""What one orthorectified image is, shared by the `ortho` stage's two paths (one product,
`ortho`; the products of one day fused, `day_fusion`): the params that change it, its tags,
and how it is written with its border mask.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..engine.native.calibrate import LUT_OF_CALIBRATION
from ..engine.native.resample import INTERPOLATION_NAMES
from ..exceptions import NotCompatibleInput
from ..geo import Grid
from ..outputs.metadata import Provenance, backscatter_tags, complete_tags
from ..outputs.names import S1Image
from ..safe import Sentinel1Product
from ..store import Store
from .day_product import PRODUCT_ENCODING
from .engines import check_engine
from .mask import write_product_mask

# S1Tiling's `orthorectification_interpolation_method` names and ours (one table, the
# resampler's; "cubic" is the resampler's own alias and not an S1Tiling name).
INTERPOLATORS = {name: method for name, method in INTERPOLATION_NAMES.items() if name != "cubic"}


@dataclasses.dataclass(frozen=True)
class OrthoParams:
    """The `[Processing]` keys that change an orthorectified image."""

    calibration: str = "sigma"
    remove_thermal_noise: bool = True
    lower_signal_value: float = 1e-7
    resolution: float = 10.0
    interpolation: str = "nn"
    override_azimuth_cut: bool | None = None
    dem_info: str = ""
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # Per-image orthorectified images are intermediates (S1Tiling keeps them in tmp and the
    # concatenation makes the product), so by default they get no overviews: 2x faster writes.
    overviews: bool = False
    #: The COG codec. The per-image images are intermediates, re-encoded by the concatenation
    #: with S1Tiling's DEFLATE; ZSTD (level 1, predictor 3) writes them 40% faster for a
    #: smaller file (measured on a speckled 10980² σ°: 1.5 s, 307 MiB vs 2.5 s, 315 MiB).
    compress: str = "ZSTD"
    #: "native" (numpy + numba) or "otb" (S1Tiling's chain with Orfeo ToolBox's applications).
    engine: str = "native"
    #: The otb engine only: the DEM tiles folder (S1Tiling's `dem_dir`; OTB reads SRTM-named
    #: tiles) and the geoid file OTB adds to them. The native engine reads `heights_uri`.
    dem_dir: str | None = None
    geoid_file: str | None = None
    #: The images are the day's products (tile × orbit × day): of the only product of its day
    #: (S1Tiling only renames that image), or of the day's products merged in memory
    #: (`day_fusion`); written under the products' names and tags
    #: (`day_product.day_product_tags`) and encoded as products are (`Store.write_cog`'s
    #: DEFLATE and overviews): no concatenation follows.
    day_product: bool = False
    #: With `day_product`: the day's products are intermediates that NORMLIM or γ° RTC reads
    #: once (the β° / σ° in tmp), so they are encoded as the per-image images are (`overviews`,
    #: `compress`; `day_product.INTERMEDIATE_ENCODING`), not as products.
    intermediate: bool = False

    def __post_init__(self) -> None:
        if self.calibration not in LUT_OF_CALIBRATION:
            raise ValueError(f"unknown calibration {self.calibration!r}")
        if self.interpolation not in INTERPOLATORS:
            raise ValueError(f"unknown interpolation {self.interpolation!r}; one of "
                             f"{sorted(INTERPOLATORS)}")
        if self.lower_signal_value <= 0:
            raise ValueError("lower_signal_value must be > 0")
        check_engine(self.engine)
        if self.engine == "otb" and not (self.dem_dir and self.geoid_file):
            raise ValueError("the otb engine needs dem_dir and geoid_file")

    def provenance_params(self) -> dict[str, Any]:
        """The params a product's provenance records (the native engine's as before)."""
        values = dataclasses.asdict(self)
        if self.engine == "native":
            for name in ("engine", "dem_dir", "geoid_file"):
                values.pop(name)
        if not self.day_product:  # the per-image intermediates keep their old record
            values.pop("day_product")
        if not self.intermediate:
            values.pop("intermediate")
        return values

    def encoding(self) -> dict[str, Any]:
        """`Store.write_cog`'s encoding arguments: a product's (DEFLATE, overviews) for a
        day's final product, else these params' (an intermediate's: ZSTD, no overviews)."""
        if self.day_product and not self.intermediate:
            return dict(PRODUCT_ENCODING)
        return {"overviews": "auto" if self.overviews else None, "compress": self.compress}


def image_tags(s1: Sentinel1Product, swath: str, pol: str, tile: str, params: OrthoParams,
               provenance: Provenance) -> dict:
    """The tags of the orthorectified image of one product and polarisation (`IMAGE_TYPE=GRD`),
    as a per-image ortho writes them: what a day's product's tags are made from.

    Parameters
    ----------
    s1 : Sentinel1Product
        The product.
    swath, pol : str
        Its measurement.
    tile : str
        The S2 tile.
    params : OrthoParams
        The stage's params.
    provenance : Provenance
        What the image records.
    """
    measurement = os.path.basename(s1.file(swath, pol, "measurement").href)
    image_info = S1Image(measurement, s1.manifest.orbit_state, product=s1.name,
                         relative_orbit=s1.manifest.relative_orbit)
    tags = backscatter_tags([image_info], tile_name=tile,
                            calibration=LUT_OF_CALIBRATION[params.calibration],
                            noise_removed=params.remove_thermal_noise,
                            lower_signal_value=params.lower_signal_value,
                            interpolator=params.interpolation,
                            spatial_resolution=params.resolution,
                            dem_info=params.dem_info, concatenated=False)
    return complete_tags(tags, extra=params.metadata, provenance=provenance)


def write_image(store: Store, uri: str, values: np.ndarray, grid: Grid, tags: dict,
                params: OrthoParams, figures: dict, key: str, mask: str | None = None) -> list[str]:
    """Write the image `uri` (`values` on `grid`, tagged `tags`, encoded as `params` say), and
    its border mask `mask` when given: the URIs written. `figures[key]`: the write's seconds
    (and the mask's under `key` with `mask_` for `write_`)."""
    clock = time.perf_counter()
    store.write_cog(uri, values, crs=grid.crs, transform=grid.transform, nodata=0.0, tags=tags,
                    **params.encoding())
    figures[key] = round(time.perf_counter() - clock, 3)
    if mask is None:
        return [uri]
    clock = time.perf_counter()
    write_product_mask(store, uri, mask, values, crs=grid.crs, transform=grid.transform)
    figures[key.replace("write_", "mask_")] = round(time.perf_counter() - clock, 3)
    return [uri, mask]


def open_grd(uri: str, store: Store) -> Sentinel1Product:
    """The GRD product at `uri`; `NotCompatibleInput` for another type (S1Tiling's chain
    orthorectifies GRD products only)."""
    s1 = Sentinel1Product(uri, store.storage_options)
    if s1.manifest.product_type != "GRD":
        raise NotCompatibleInput(f"{s1.name} is a {s1.manifest.product_type}: the S1Tiling "
                                 "chain orthorectifies GRD products")
    return s1
