"""Planning a request (the local `process` before its first node) checks the geoid and selects
the DEM tiles without loading numba: ~0.15 s of the run's start, in the main process, for
kernels only the stages' workers run.

A fresh interpreter imports what `process` imports (cli, api), opens the geoid and selects a
tile's DEM cells as `plan.request` does, and lists what was imported.
"""

from __future__ import annotations

import subprocess
import sys

from tests.geo.test_dem import write_hgt

PROBE = """
import sys
import s1tiling_cloud.api  # noqa: F401 - what `process` imports before it plans
from s1tiling_cloud.geo import Grid
from s1tiling_cloud.geo.dem import DemSource
from s1tiling_cloud.geo.geoid import Geoid
Geoid.open(None)
grid = Grid.from_tile("31TCJ", 60.0)
selection = DemSource.from_config(sys.argv[1]).require(grid, margin=4)
assert selection.uris, "no DEM tile selected"
print("IMPORTED", " ".join(m for m in ("numba", "llvmlite") if m in sys.modules))
"""


def test_planning_does_not_import_numba(tmp_path):
    for south in (42, 43, 44):  # 31TCJ: 0.5-1.9° E, 43.2-44.2° N, and a margin
        for west in (-1, 0, 1, 2):
            write_hgt(tmp_path, south, west, hole=False)
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "IMPORTED", done.stdout
