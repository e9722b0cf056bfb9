"""s1tiling-cloud: S1Tiling's Sentinel-1 processing, cloud-native.

The public surface: `s1tiling_cloud.api` (S1Tiling's entry points, `s1_process`, ...),
`s1tiling_cloud.argo` (the same requests on Argo Workflows), and the `s1tiling-cloud` command
with S1Tiling's program names (`S1Processor`, ...). `__version__` is the package's version.
"""

from .lazy import defer_module

__version__ = "0.1.0"

# rasterio imports boto3 at start-up (~0.4 s of a stage pod's start) for sessions used only on
# S3 paths; it now loads there, on first use (`lazy.defer_module`).
defer_module("boto3")
# numba imports scipy.linalg.cython_blas (all of scipy.linalg, ~0.4 s) when it loads its first
# kernel, only to see that BLAS is there; it loads when something calls into it.
defer_module("scipy.linalg.cython_blas")
# numba imports yaml at start-up for a `.numba_config.yaml` that is never there.
defer_module("yaml")
