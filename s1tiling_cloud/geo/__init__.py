"""Geometry: the S2 tile grid, the ellipsoid, orbits and range-Doppler."""

from .radar_geometry import RadarGeometry
from .s2tile import S2Tile

__all__ = ["RadarGeometry", "S2Tile"]
