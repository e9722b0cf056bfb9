"""A small end-to-end run for the STAC tests: synthetic S1 products → the stages → tile products.

Two relative orbits (one descending, one ascending) on two days each, over Toulouse onto tile
31TCJ at 60 m (1830² pixels): the same stages a cluster runs (heights, ortho, concatenate, mask,
quicklook), in a few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

from s1tiling_cloud.outputs.names import Naming, S1Image, default_dirs, tile_fields
from s1tiling_cloud.safe import Sentinel1Product
from s1tiling_cloud.stac.item import ProductFiles
from s1tiling_cloud.stages.concatenate import concatenate
from s1tiling_cloud.stages.heights import heights
from s1tiling_cloud.stages.mask import mask as border_mask
from s1tiling_cloud.stages.ortho import ortho
from s1tiling_cloud.stages.quicklook import quicklook
from s1tiling_cloud.testing import SyntheticGRD, write_flat_dem, write_grd

TILE = "31TCJ"
RESOLUTION = 60.0
#: (start, absolute orbit, direction): relative orbits 7 (DES) and 24 (ASC), 12 days apart.
ACQUISITIONS = [("2020-01-08T04:41:50", 30704, "DESCENDING"),
                ("2020-01-20T04:41:50", 30879, "DESCENDING"),
                ("2020-01-09T17:30:10", 30721, "ASCENDING"),
                ("2020-01-21T17:30:10", 30896, "ASCENDING")]


def _flat_dem(path: Path) -> None:
    write_flat_dem(path, 0.0, 45.0, 1 / 400, 1200, 1200)


def run_chain(root: Path) -> tuple[Path, list[ProductFiles]]:
    """Make the products under `root/products`; (that folder, the products' files)."""
    out = root / "products"
    dem = root / "dem.tif"
    _flat_dem(dem)
    dirs = default_dirs(str(out), str(root / "tmp"))
    naming = Naming("sigma")
    height_map = heights(TILE, RESOLUTION, f"{dirs['tmp_dir']}/S2/{TILE}/heights.tif",
                         {"dem_dir": str(dem)}).outputs[0]
    made = []
    for index, (start, orbit, direction) in enumerate(ACQUISITIONS):
        spec = SyntheticGRD(center_lat=43.6 + 0.05 * index, center_lon=1.44, lines=600,
                            samples=800, start=start, absolute_orbit=orbit,
                            orbit_direction=direction, seed=index)
        product = write_grd(spec, root / "s1")
        s1 = Sentinel1Product(product)
        images = {pol: S1Image(os.path.basename(s1.file("IW", pol, "measurement").href),
                               s1.manifest.orbit_state, product=s1.name,
                               relative_orbit=s1.manifest.relative_orbit)
                  for pol in s1.polarisations("IW")}
        ortho_uris = {pol: naming.path("orthorectification",
                                       {**tile_fields([image], TILE), "calibration_type": "sigma"},
                                       dirs) for pol, image in images.items()}
        ortho(str(product), TILE, height_map, ortho_uris,
              {"resolution": RESOLUTION, "dem_info": "flat test DEM"})
        products, masks, quicklooks = {}, {}, {}
        for pol, image in images.items():
            fields = tile_fields([image], TILE)
            products[pol] = naming.path("final", fields, dirs)
            masks[pol] = naming.path("mask", fields, dirs)
            quicklooks[pol] = naming.path("quicklook", fields, dirs)
            concatenate([ortho_uris[pol]], products[pol], TILE)
            border_mask(products[pol], masks[pol])
            quicklook(products[pol], quicklooks[pol])
        made.append(ProductFiles(products, masks, quicklooks,
                                 inputs=[{"id": s1.name, "href": str(product),
                                          "provider": "synthetic"}]))
    return out, made
