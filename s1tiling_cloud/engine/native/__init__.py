"""The native engine: numpy + numba, float64 geometry, float32 products."""

#: S1Tiling's `[Processing] outer_margin_ratio`: the DEM margin around a tile whose facets count
#: in its γ-area map, as a ratio of the tile's larger side (0.04 of 109.8 km: 4.4 km). Here, not
#: in `gamma_area`, so that the configuration's defaults take it without importing numba.
DEFAULT_OUTER_MARGIN_RATIO = 0.04
