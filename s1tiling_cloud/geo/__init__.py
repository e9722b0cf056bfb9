"""Geometry: the S2 tile grid, the ellipsoid, orbits, range-Doppler, DEM and geoid heights."""

from .dem import DemSource
from .geoid import Geoid
from .grid import Grid
from .heights import ellipsoid_heights
from .radar_geometry import RadarGeometry
from .s2tile import S2Tile
from .tile_projection import TileProjector

__all__ = ["DemSource", "Geoid", "Grid", "RadarGeometry", "S2Tile", "TileProjector",
           "ellipsoid_heights"]
