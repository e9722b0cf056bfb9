"""The native engine: numpy + numba, float64 geometry, float32 products."""
