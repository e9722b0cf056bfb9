"""Small inputs for the per-tile stage tests: ortho-like images and tile products written with
`Store.write_cog` and S1Tiling's tags, as the `ortho` and `concatenate` stages write them."""

from __future__ import annotations

import numpy as np
from affine import Affine

from s1tiling_cloud.outputs.metadata import Provenance, backscatter_tags, complete_tags
from s1tiling_cloud.outputs.names import ProductName, S1Image
from s1tiling_cloud.store import Store

TILE = "33NWB"
CRS = "EPSG:32633"
TRANSFORM = Affine(10.0, 0.0, 499980.0, 0.0, -10.0, 100020.0)
# Two consecutive products of one datatake (same day, relative orbit 7, descending).
PRODUCT_1 = "S1A_IW_GRDH_1SDV_20200108T044150_20200108T044215_030704_038506_5C57"
PRODUCT_2 = "S1A_IW_GRDH_1SDV_20200108T044215_20200108T044240_030704_038506_F2A1"
# The same relative orbit one cycle (12 days, 175 orbits) later.
PRODUCT_NEXT_CYCLE = "S1A_IW_GRDH_1SDV_20200120T044150_20200120T044215_030879_038600_AAAA"
USER_METADATA = {"PROJECT": "demo"}  # a `[Metadata]` key, carried down the chain


def image(product: str, polarisation: str = "vh") -> S1Image:
    p = ProductName.parse(product)
    measurement = (f"s1a-iw-grd-{polarisation}-{p.start:%Y%m%dt%H%M%S}-{p.stop:%Y%m%dt%H%M%S}-"
                   f"{p.absolute_orbit:06d}-{p.datatake.lower()}-002.tiff")
    return S1Image(measurement, "DESCENDING", product=f"s3://raw/{product}.SAFE")


def _write(store: Store, uri: str, values: np.ndarray, tags: dict, provenance: Provenance) -> str:
    return store.write_cog(uri, np.asarray(values, np.float32), crs=CRS, transform=TRANSFORM,
                           nodata=0.0, tags=complete_tags(tags, extra=USER_METADATA,
                                                          provenance=provenance))


def write_ortho(uri: str, values: np.ndarray, product: str, polarisation: str = "vh", *,
                store: Store | None = None, tile: str = TILE, version: int = 1) -> str:
    """An `ortho` output: one S1 image on the tile (`IMAGE_TYPE=GRD`); `version` changes its
    provenance, as a re-run of `ortho` with other params would."""
    tags = backscatter_tags([image(product, polarisation)], tile_name=tile, calibration="sigma",
                            noise_removed=True, lower_signal_value=1e-7, interpolator="nn",
                            spatial_resolution=10.0, dem_info="SRTM_30_hgt", concatenated=False)
    provenance = Provenance("ortho", {"tile": tile, "polarisation": polarisation,
                                      "version": version}, [f"s3://raw/{product}.SAFE"])
    return _write(store or Store(), uri, values, tags, provenance)


def write_product(uri: str, values: np.ndarray, polarisation: str = "vh", *,
                  store: Store | None = None, version: int = 1) -> str:
    """A final tile product (the day's concatenation of two images)."""
    images = [image(PRODUCT_1, polarisation), image(PRODUCT_2, polarisation)]
    tags = backscatter_tags(images, tile_name=TILE, calibration="sigma", noise_removed=True,
                            lower_signal_value=1e-7, interpolator="nn", spatial_resolution=10.0,
                            dem_info="SRTM_30_hgt")
    provenance = Provenance("concatenate", {"version": version}, ["a.tif", "b.tif"])
    return _write(store or Store(), uri, values, tags, provenance)
