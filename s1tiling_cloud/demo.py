"""The bundled example: a synthetic Sentinel-1 GRD over Toulouse taken through the S1Tiling
chain onto S2 tile 31TCJ with the same stages a cluster runs (heights, ortho, concatenate,
border mask, quicklook), offline and in about a minute on a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from .outputs.names import Naming, S1Image, default_dirs, tile_fields
from .safe import Sentinel1Product
from .stages.base import StageResult
from .stages.concatenate import concatenate
from .stages.heights import heights
from .stages.mask import border_mask
from .stages.ortho import ortho
from .stages.quicklook import quicklook

TILE = "31TCJ"


@dataclass
class DemoRun:
    product: Path
    results: list[StageResult]


def _flat_dem(path: Path, west: float, north: float) -> None:
    """A 0 m DEM (heights over the geoid) around the scene: 3° × 3° at 3 arc-seconds."""
    with rasterio.open(path, "w", driver="GTiff", height=3600, width=3600, count=1,
                       dtype="int16", crs="EPSG:4326", nodata=-32768, compress="deflate",
                       transform=from_origin(west, north, 1 / 1200, 1 / 1200)) as dataset:
        dataset.write(np.zeros((1, 3600, 3600), np.int16))


def run_demo(out_dir: str | os.PathLike, lines: int = 3000, samples: int = 4000,
             resolution: float = 10.0) -> DemoRun:
    """Make the example product and its DEM in `out_dir`, then produce its 31TCJ products."""
    from .testing import SyntheticGRD, write_grd

    out = Path(out_dir).resolve()
    (out / "s1").mkdir(parents=True, exist_ok=True)
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=lines, samples=samples,
                        sigma0_db=-12.0)
    existing = sorted((out / "s1").glob("S1*_IW_GRDH_*.SAFE"))
    product = existing[0] if existing else write_grd(spec, out / "s1")
    dem = out / "dem" / "dem.tif"
    if not dem.exists():
        dem.parent.mkdir(parents=True, exist_ok=True)
        _flat_dem(dem, 0.0, 45.0)

    s1 = Sentinel1Product(product)
    dirs = default_dirs(str(out / "products"), str(out / "tmp"))
    naming = Naming("sigma")
    results = [heights(TILE, resolution, f"{dirs['tmp_dir']}/S2/{TILE}/heights.tif",
                       {"dem_dir": str(dem)})]
    images = {pol: S1Image(os.path.basename(s1.file("IW", pol, "measurement").href),
                           s1.manifest.orbit_state, product=s1.name,
                           relative_orbit=s1.manifest.relative_orbit)
              for pol in s1.polarisations("IW")}
    ortho_uris = {pol: naming.path("orthorectification",
                                   {**tile_fields([image], TILE), "calibration_type": "sigma"},
                                   dirs)
                  for pol, image in images.items()}
    results.append(ortho(str(product), TILE, results[0].outputs[0], ortho_uris,
                         {"resolution": resolution, "dem_info": "flat demo DEM"}))
    for pol, image in images.items():
        fields = tile_fields([image], TILE)
        final = naming.path("final", fields, dirs)
        results.append(concatenate([ortho_uris[pol]], final, TILE))
        results.append(border_mask(final, naming.path("mask", fields, dirs)))
        results.append(quicklook(final, naming.path("quicklook", fields, dirs)))
    return DemoRun(product, results)
