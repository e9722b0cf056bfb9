"""The measurement TIFF of one polarisation, as ESA writes it.

A plain (non-georeferenced) uint16 TIFF of lines x samples, striped and uncompressed like
ESA's, with the tags the processing chains look for -- ``TIFFTAG_IMAGEDESCRIPTION``
("Sentinel-1A IW GRD HR L1": Orfeo ToolBox only recognises a Sentinel-1 image by this prefix),
``TIFFTAG_SOFTWARE`` ("Sentinel-1 IPF 003.20": S1Tiling reads the IPF version from it),
``TIFFTAG_DATETIME`` -- and the geolocation grid as GeoTIFF GCPs in EPSG:4326 (pixel = column,
line = row, x = longitude, y = latitude, z = height), as ESA does.

The image is written block by block of lines, so memory stays bounded at any size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.windows import Window

from .annotation_writer import ImageStatistics
from .product_geometry import ProductGeometry
from .scene import SceneSynthesizer

#: Lines per block written (25,000 samples x 512 lines x 2 bytes = 25 MB per block).
BLOCK_LINES = 512
#: Every n-th line enters the image statistics (a sample is enough for ESA's two numbers).
STATISTICS_LINE_STEP = 4


def gcps(geo: ProductGeometry) -> list[GroundControlPoint]:
    """The geolocation grid as GCPs, ids 1..n in the annotation's order."""
    g = geo.grid
    out = []
    for i, line in enumerate(g.lines):
        for j, pixel in enumerate(g.pixels):
            out.append(GroundControlPoint(
                row=float(line), col=float(pixel), x=float(g.longitude[i, j]),
                y=float(g.latitude[i, j]), z=float(g.height[i, j]), id=str(len(out) + 1),
            ))
    return out


def tiff_datetime(t: np.datetime64) -> str:
    """``YYYY:MM:DD HH:MM:SS``, the TIFF DateTime format."""
    s = np.datetime_as_string(np.datetime64(t, "s"), unit="s")
    return s.replace("-", ":").replace("T", " ")


def write_measurement(
    path: Path,
    geo: ProductGeometry,
    synth: SceneSynthesizer,
    processing_time: np.datetime64,
    on_block: Callable[[int, np.ndarray], None] | None = None,
    compress: str | None = None,
) -> ImageStatistics:
    """Write the DN image; return its statistics. ``on_block(row0, dn)`` sees every block."""
    spec = geo.spec
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(
        driver="GTiff", width=spec.samples, height=spec.lines, count=1, dtype="uint16",
        interleave="band", tiled=False, gcps=gcps(geo), crs=CRS.from_epsg(4326),
    )
    if compress:
        profile["compress"] = compress
    total = 0.0
    total2 = 0.0
    count = 0
    with rasterio.open(path, "w", **profile) as dst:
        dst.update_tags(
            TIFFTAG_IMAGEDESCRIPTION=spec.tiff_description,
            TIFFTAG_SOFTWARE=spec.tiff_software,
            TIFFTAG_DATETIME=tiff_datetime(processing_time),
        )
        for row0, dn in synth.blocks(BLOCK_LINES):
            dst.write(dn, 1, window=Window(0, row0, spec.samples, dn.shape[0]))
            sample = dn[(-row0) % STATISTICS_LINE_STEP :: STATISTICS_LINE_STEP].astype(np.float64)
            total += float(sample.sum())
            total2 += float(np.square(sample).sum())
            count += sample.size
            if on_block is not None:
                on_block(row0, dn)
    mean = total / count
    return ImageStatistics(mean=mean, std=float(np.sqrt(max(total2 / count - mean * mean, 0.0))))
