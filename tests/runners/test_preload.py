"""The local runner's workers are forked by a forkserver that imported every stage once
(`runners.preload`), started before planning (`start_workers`): a worker's first node does not
import them again, and the environment set before the start is the workers'.

Each case runs in a fresh interpreter: a forkserver is started once per process, and the test
process may already have one.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json, os, sys
from s1tiling_cloud.runners.local import _pool, start_workers
os.environ["S1TILING_PRELOAD_PROBE"] = "set before the start"
start_workers()
main_has = [m for m in ("numba", "s1tiling_cloud.stages.ortho") if m in sys.modules]
pool = _pool(1)
seen = pool.submit(eval, "[m for m in sys.argv[1:] if m in __import__('sys').modules]").result()
frozen = pool.submit(gc.get_freeze_count).result()
env = pool.submit(os.getenv, "S1TILING_PRELOAD_PROBE").result()
pool.shutdown()
print(json.dumps({"main": main_has, "worker": seen, "frozen": frozen, "env": env}))
"""
#: Modules a worker must find loaded before it runs anything.
PRELOADED = ["s1tiling_cloud.runners.worker", "s1tiling_cloud.stages.heights",
             "s1tiling_cloud.stages.ortho", "s1tiling_cloud.stages.publish",
             "s1tiling_cloud.geo.dem_warp", "s1tiling_cloud.geo.geoid_kernels", "numba"]


def test_workers_start_with_the_stages_imported_and_frozen():
    probe = PROBE.replace("sys.argv[1:]", repr(PRELOADED))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["worker"] == PRELOADED
    assert found["frozen"] > 10_000  # the preloaded modules' objects, out of the collector's passes
    assert found["env"] == "set before the start"
    assert found["main"] == []  # the runner's process imports none of it
