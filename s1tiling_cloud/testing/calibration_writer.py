"""The calibration annotation (``annotation/calibration/calibration-....xml``).

One ``calibrationVector`` every ~1 s of lines (the last one past the image end, as ESA's) on a
40-pixel grid ending at the last pixel, holding sigmaNought, betaNought, gamma and dn; the
values come from ``radiometry.compute_luts`` and validate against ESA's
``s1-level-1-calibration.xsd``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .annotation_writer import ads_header
from .product_geometry import ProductGeometry
from .radiometry import Luts
from .xmlutil import E, array, f6, int_array, times


def calibration(geo: ProductGeometry, luts: Luts, pol: str) -> ET.Element:
    """The whole ``<calibration>`` document of one polarisation."""
    az = times(geo.datetimes(geo.line_seconds(luts.cal_lines)))
    vectors = []
    for k, line in enumerate(luts.cal_lines):
        vectors.append(E(
            "calibrationVector",
            E("azimuthTime", str(az[k])),
            E("line", int(line)),
            int_array("pixel", luts.cal_pixels),
            array("sigmaNought", luts.sigma[k]),
            array("betaNought", luts.beta[k]),
            array("gamma", luts.gamma[k]),
            array("dn", luts.dn[k]),
        ))
    return E(
        "calibration",
        ads_header(geo, pol),
        E("calibrationInformation", E("absoluteCalibrationConstant", f6(1.0))),
        E("calibrationVectorList", vectors, count=len(vectors)),
    )
