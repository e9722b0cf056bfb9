"""Synthetic Sentinel-1 products with known truth, for tests, demos and benchmarks.

>>> from s1tiling_cloud.geo import Grid
>>> from s1tiling_cloud.testing import SyntheticGRD, Target, target_truth, write_grd
>>> spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=800, samples=1200,
...                     targets=[Target(43.6, 1.44, rcs_db=30)], dem=lambda lat, lon: 200 + 0 * lat)
>>> path = write_grd(spec, "/tmp/products")            # doctest: +SKIP
>>> truth = target_truth(spec, Grid.from_tile("31TCJ", 10.0))   # doctest: +SKIP

A product is a pure function of its spec: ESA's SAFE layout and file names, an orbit that sees
the scene centre at mid-swath, a geolocation grid and slant<->ground polynomials consistent
with the package's geometry core (line times with the IPF's bistatic convention), calibration
and noise LUTs, and a measurement whose calibrated, denoised mean is the σ° asked for, on a
flat scene or a DEM (+ geoid), with bright point targets at known places.

Also: `write_dem_tiles` (SRTM ``.hgt`` tiles of a height function, which
``geo.DemSource.tiles`` reads), and `repaint`, which rewrites the measurement of a real product
with a synthetic scene placed by that product's own geolocation grid (`esa_target_truth`).
"""

from .dem_tiles import write_dem_tiles, write_flat_dem, write_flat_dem_tiles
from .product_geometry import ProductGeometry, compute_geometry
from .radiometry import Luts, compute_luts
from .repaint import esa_target_truth, repaint
from .spec import ProductNames, SyntheticGRD
from .synthetic import example_product, target_truth, write_grd
from .targets import Target, TargetTruth, centroid
from .terrain import Terrain

__all__ = [
    "Luts",
    "ProductGeometry",
    "ProductNames",
    "SyntheticGRD",
    "Target",
    "TargetTruth",
    "Terrain",
    "centroid",
    "compute_geometry",
    "compute_luts",
    "esa_target_truth",
    "example_product",
    "repaint",
    "target_truth",
    "write_dem_tiles",
    "write_flat_dem",
    "write_flat_dem_tiles",
    "write_grd",
]
