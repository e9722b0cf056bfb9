"""The stage calls of a small request, as plain JSON-able (stage, arguments) pairs on S3 URIs.

It is demo.py's chain (heights -> ortho -> concatenate -> mask -> quicklook, per polarisation)
onto tile 31TCJ, with inputs and outputs in object storage. Arguments carry no credentials:
like a pod, each run finds them in its environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from s1tiling_cloud.outputs.names import Naming, S1Image, default_dirs, tile_fields
from s1tiling_cloud.safe import Sentinel1Product
from s1tiling_cloud.testing import SyntheticGRD, write_grd

TILE = "31TCJ"
RESOLUTION = 60.0
StageCall = tuple[str, dict]


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """A small synthetic GRD over Toulouse and a flat DEM (0 m over the geoid) around 31TCJ."""
    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800,
                                     sigma0_db=-12.0), folder / "s1")
    dem = folder / "dem" / "dem.tif"
    dem.parent.mkdir(parents=True, exist_ok=True)
    step = 1 / 240  # 15 arc-seconds over 0..3 E, 42..45 N
    with rasterio.open(dem, "w", driver="GTiff", height=720, width=720, count=1, dtype="int16",
                       crs="EPSG:4326", nodata=-32768, compress="deflate",
                       transform=from_origin(0.0, 45.0, step, step)) as dataset:
        dataset.write(np.zeros((1, 720, 720), np.int16))
    return product, dem


def demo_chain(product: Path, product_uri: str, dem_uri: str, out_uri: str) -> list[StageCall]:
    """demo.py's calls for `product` (read locally for its names), on the given URIs."""
    s1 = Sentinel1Product(product)
    dirs = default_dirs(f"{out_uri}/products", f"{out_uri}/tmp")
    naming = Naming("sigma")
    heights_uri = f"{dirs['tmp_dir']}/S2/{TILE}/heights.tif"
    calls: list[StageCall] = [("heights", {"tile": TILE, "resolution": RESOLUTION,
                                           "out_uri": heights_uri, "dem": {"dem_dir": dem_uri}})]
    images = {pol: S1Image(os.path.basename(s1.file("IW", pol, "measurement").href),
                           s1.manifest.orbit_state, product=s1.name,
                           relative_orbit=s1.manifest.relative_orbit)
              for pol in s1.polarisations("IW")}
    orthos = {pol: naming.path("orthorectification",
                               {**tile_fields([image], TILE), "calibration_type": "sigma"}, dirs)
              for pol, image in images.items()}
    calls.append(("ortho", {"product": product_uri, "tile": TILE, "heights_uri": heights_uri,
                            "outputs": orthos,
                            "params": {"resolution": RESOLUTION, "dem_info": "flat test DEM"}}))
    for pol, image in images.items():
        fields = tile_fields([image], TILE)
        final = naming.path("final", fields, dirs)
        calls.append(("concatenate", {"inputs": [orthos[pol]], "output": final, "tile": TILE}))
        calls.append(("mask", {"product": final, "output": naming.path("mask", fields, dirs)}))
        calls.append(("quicklook", {"product": final,
                                    "output": naming.path("quicklook", fields, dirs)}))
    return calls
