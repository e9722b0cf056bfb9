"""Geometry: the S2 tile grid, the ellipsoid, orbits, range-Doppler, DEM and geoid heights.

The names below load on first use (`lazy.lazy_exports`): a module that needs `geo.grid` alone
does not pay for xarray and pandas (`radar_geometry`'s), ~0.8 s of a stage pod's start.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "DemSource": ".dem",
    "Geoid": ".geoid",
    "Grid": ".grid",
    "RadarGeometry": ".radar_geometry",
    "S2Tile": ".s2tile",
    "TileProjector": ".tile_projection",
    "ellipsoid_heights": ".heights",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
