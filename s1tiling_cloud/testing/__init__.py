"""Synthetic Sentinel-1 products with known truth, for tests, demos and benchmarks.

>>> from s1tiling_cloud.testing import SyntheticGRD, write_grd
>>> spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=800, samples=1200)
>>> path = write_grd(spec, "/tmp/products")            # doctest: +SKIP

A product is a pure function of its spec: ESA's SAFE layout and file names, an orbit that sees
the scene centre at mid-swath, a geolocation grid and slant<->ground polynomials consistent
with the package's geometry core, calibration and noise LUTs, and a measurement whose
calibrated, denoised mean is the σ° asked for.
"""

from .product_geometry import ProductGeometry, compute_geometry
from .radiometry import Luts, compute_luts
from .spec import ProductNames, SyntheticGRD
from .synthetic import example_product, write_grd

__all__ = [
    "ProductGeometry",
    "ProductNames",
    "Luts",
    "SyntheticGRD",
    "compute_geometry",
    "compute_luts",
    "example_product",
    "write_grd",
]
