"""The thermal-noise annotation (``annotation/calibration/noise-....xml``), both IPF layouts.

IPF >= 2.90: ``noiseRangeVectorList`` (noiseRangeLut on a 40-pixel grid plus the sub-swath
boundary pixels, every ~1 s and at the last line) and ``noiseAzimuthVectorList`` (one block per
sub-swath with its first/last line and sample and a noiseAzimuthLut every 10 lines); it
validates against ESA's ``s1-level-1-noise.xsd``. Older IPFs: ``noiseVectorList`` with
``noiseLut`` only (the range LUT; their products have no azimuth term).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .annotation_writer import ads_header
from .product_geometry import ProductGeometry
from .radiometry import Luts
from .xmlutil import E, array, int_array, times


def noise(geo: ProductGeometry, luts: Luts, pol: str) -> ET.Element:
    """The whole ``<noise>`` document of one polarisation."""
    az = times(geo.datetimes(geo.line_seconds(luts.noise_lines)))
    new = geo.spec.new_noise_layout
    vectors = []
    for k, line in enumerate(luts.noise_lines):
        vectors.append(E(
            "noiseRangeVector" if new else "noiseVector",
            E("azimuthTime", str(az[k])),
            E("line", int(line)),
            int_array("pixel", luts.noise_pixels),
            array("noiseRangeLut" if new else "noiseLut", luts.noise_range[k]),
        ))
    if not new:
        return E("noise", ads_header(geo, pol),
                 E("noiseVectorList", vectors, count=len(vectors)))
    blocks = []
    for sw, lines, lut in zip(luts.subswaths, luts.azimuth_lines, luts.azimuth_lut, strict=True):
        blocks.append(E(
            "noiseAzimuthVector",
            E("swath", sw.name),
            E("firstAzimuthLine", sw.first_line),
            E("firstRangeSample", sw.first_sample),
            E("lastAzimuthLine", sw.last_line),
            E("lastRangeSample", sw.last_sample),
            int_array("line", lines),
            array("noiseAzimuthLut", lut),
        ))
    return E(
        "noise",
        ads_header(geo, pol),
        E("noiseRangeVectorList", vectors, count=len(vectors)),
        E("noiseAzimuthVectorList", blocks, count=len(blocks)),
    )
