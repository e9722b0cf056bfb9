"""The ``preview/`` folder: KML map overlay, HTML product preview and PNG quick-look.

The quick-look is ESA's kind of picture (about 1,000 pixels across, co-pol in red, cross-pol in
green, their ratio in blue, or grey for one polarisation), built from the DN blocks as they are
written, so it costs no second pass over the image.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio

from ..georeferencing import not_georeferenced_ok
from .product_geometry import ProductGeometry
from .spec import ProductNames

#: Target width of the quick-look (pixels).
QUICKLOOK_SIZE = 1000


class QuickLook:
    """Accumulates decimated DN lines of each polarisation, then writes the PNG."""

    def __init__(self, lines: int, samples: int, pols: tuple[str, ...]) -> None:
        self.step = max(1, math.ceil(max(lines, samples) / QUICKLOOK_SIZE))
        self.pols = pols
        self.rows = len(range(0, lines, self.step))
        self.cols = len(range(0, samples, self.step))
        self.data = {p: np.zeros((self.rows, self.cols), dtype=np.float32) for p in pols}

    def add(self, pol: str, row0: int, dn: np.ndarray) -> None:
        """Keep the block's lines that fall on the decimated grid."""
        first = (-row0) % self.step
        picked = dn[first :: self.step, :: self.step].astype(np.float32)
        r = (row0 + first) // self.step
        self.data[pol][r : r + picked.shape[0]] = picked

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)

        def stretch(a: np.ndarray) -> np.ndarray:
            valid = a > 0
            if not valid.any():
                return np.zeros(a.shape, dtype=np.uint8)
            lo, hi = np.percentile(a[valid], [2, 98])
            out = np.clip((a - lo) / max(hi - lo, 1e-6) * 255.0, 0, 255)
            return np.where(valid, out, 0).astype(np.uint8)

        co = self.data[self.pols[0]]
        if len(self.pols) == 1:
            bands = [stretch(co)] * 3
        else:
            cross = self.data[self.pols[1]]
            ratio = np.where(cross > 0, co / np.maximum(cross, 1.0), 0.0)
            bands = [stretch(co), stretch(cross), stretch(ratio)]
        with (not_georeferenced_ok(),  # a quick-look is not georeferenced, on purpose
              rasterio.open(path, "w", driver="PNG", width=self.cols, height=self.rows, count=3,
                            dtype="uint8") as dst):
            dst.write(np.stack(bands))
        for aux in path.parent.glob(path.name + ".aux.xml"):
            aux.unlink()
        return path


def map_overlay(geo: ProductGeometry) -> bytes:
    """``map-overlay.kml``: the quick-look draped on the footprint (lon,lat order)."""
    corners = " ".join(f"{lon:.6f},{lat:.6f}" for lat, lon in geo.footprint())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
  <Document>
    <name>Sentinel-1 Map Overlay</name>
    <Folder>
      <name>Sentinel-1 Scene Overlay</name>
      <GroundOverlay>
        <name>Sentinel-1 Image Overlay</name>
        <Icon>
          <href>quick-look.png</href>
        </Icon>
        <gx:LatLonQuad>
          <coordinates>{corners}</coordinates>
        </gx:LatLonQuad>
      </GroundOverlay>
    </Folder>
  </Document>
</kml>
""".encode()


def product_preview(geo: ProductGeometry, names: ProductNames) -> bytes:
    """``product-preview.html``: a small human-readable page, as ESA ships.

    It names the product without its unique identifier, which is the CRC of the manifest that
    lists this page's checksum.
    """
    stem = names.base
    items = "\n".join(
        f'        <li><a href="../{href}">{href}</a></li>'
        for pol in sorted(geo.spec.polarisations)
        for href in (names.annotation(pol), names.calibration(pol), names.noise(pol),
                     names.measurement(pol))
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
  <head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8"/>
    <title>{stem}</title>
  </head>
  <body>
    <h2>{stem}</h2>
    <img src="quick-look.png" alt="quick-look"/>
    <ul>
        <li><a href="../manifest.safe">manifest.safe</a></li>
{items}
    </ul>
  </body>
</html>
""".encode()
