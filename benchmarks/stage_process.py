"""One stage run as an Argo pod runs it: `s1tiling-cloud stage NAME --args JSON` in a fresh
process, with its own figures: the process's wall time (start, imports and the stage), the
stage's own seconds (its result's `seconds`, after the imports), its CPU seconds and its peak
resident memory (the rusage of that one process, from `os.wait4`, so that figures of earlier
children never mix in).

The benchmarks that time stages (`s1_chain.py`, `maps_tile.py`, `mask_tile.py`) share it, so
that they measure one thing the same way; it is not part of the package (benchmarks/ is the
scripts' folder, first on their `sys.path`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_stage(name: str, arguments: Mapping, fresh: Iterable[str] = (),
              env: Mapping[str, str] | None = None) -> dict:
    """Run stage `name` in a fresh `s1tiling-cloud stage` process and measure it.

    Parameters
    ----------
    name : str
        The stage's name (`ortho`, `heights`, …).
    arguments : mapping
        Its keyword arguments, as a plan node's `args` (JSON-like).
    fresh : iterable of str
        Files removed first, so that the stage computes them instead of reusing them.
    env : mapping, optional
        Variables added to this process's environment for the stage's process.

    Returns
    -------
    dict
        ``result`` (the stage's result, as printed), ``wall_s`` (the stage's own seconds),
        ``process_wall_s`` (the whole process), ``cpu_s`` (user + system of the process) and
        ``max_rss_mib`` (its peak resident memory).

    Raises
    ------
    RuntimeError
        When the stage fails, or reuses its outputs instead of computing them.
    """
    for path in fresh:
        Path(path).unlink(missing_ok=True)
    command = [str(Path(sys.executable).with_name("s1tiling-cloud")), "stage", name, "--args",
               json.dumps(arguments)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True,
                                   env=environment)
        _, status, usage = os.wait4(process.pid, 0)  # this one process's rusage
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        printed, log = stdout.read(), stderr.read()
    if process.returncode != 0:
        raise RuntimeError(f"stage {name} exited {process.returncode}:\n{log[-4000:]}")
    result = json.loads(printed.strip().splitlines()[-1])
    if result["skipped"]:
        raise RuntimeError(f"{name} reused its outputs instead of computing them")
    return {"result": result, "wall_s": result["seconds"], "process_wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_mib": usage.ru_maxrss / 1024}
