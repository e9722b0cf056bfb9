"""What the local runner's forkserver imports once, before it forks any worker: every stage's
module and the heights' kernel modules, so that a worker starts its first node with them
imported instead of importing them (~0.6 CPU s, and numba's libLLVM) in each worker process.
The kernels' compiled code is loaded at their first call, in the worker: loading a parallel
kernel starts numba's threads, which a fork must not copy.

The runner starts the forkserver early (`local.start_workers`), while this process reads the
request and plans: these imports then overlap the planning on another core. They are made
with the garbage collector off and frozen afterwards (`gc.freeze`): the forked workers' own
collections skip them, and their pages stay shared with the forkserver (copy-on-write).

Forking after these imports is safe: numba's and GDAL's threads start on their first use, in
the worker; the one thread they start (numpy's OpenBLAS pool) is handled by OpenBLAS's own
fork handlers, a worker's BLAS working as before. A module that fails to import here is left to
the worker, which imports it again and reports its error as the node's.
"""

from __future__ import annotations

import importlib
from contextlib import suppress

from ..lazy import imports_frozen

#: Imported besides the stages' modules: the worker's entry point, and the heights' kernel
#: modules (imported by the heights stage only when it computes).
_MODULES = ("s1tiling_cloud.runners.worker", "s1tiling_cloud.geo.dem_warp",
            "s1tiling_cloud.geo.geoid_kernels")


def preload() -> None:
    """Import the worker, every registered stage's module and the heights' kernels, frozen out
    of the garbage collector's passes (`lazy.imports_frozen`)."""
    with imports_frozen():
        # A module failing here is left to the worker: it imports it again, its node reports it.
        for name in _MODULES:
            with suppress(Exception):
                importlib.import_module(name)
        from ..stages.registry import STAGES, stage_function

        for name in STAGES:
            with suppress(Exception):
                stage_function(name)


preload()
