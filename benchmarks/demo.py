"""The quick start's example end to end (`s1tiling-cloud demo DIR`, setup excluded): wall time
of writing the example (product, DEM tiles, demo.cfg) and of the local run, and the run's time
per stage (summed over its nodes, which overlap on two workers).

Issue 18's target: under 2 minutes on 2 cores. Run it with `taskset -c 0,1` on a bigger machine
to hold it to two cores; say how loaded the machine was (the load average is printed).

    .venv/bin/python benchmarks/demo.py [--keep DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="folder to keep the example in")
    parser.add_argument("--json", type=Path, help="write the numbers as JSON here")
    args = parser.parse_args()

    from s1tiling_cloud.demo import run_demo, write_demo

    folder = args.keep or Path(tempfile.mkdtemp(prefix="demo-bench-"))
    load = os.getloadavg()
    started = time.perf_counter()
    write_demo(folder)
    written = time.perf_counter()
    run = run_demo(folder, progress=False)  # the product is there: run_demo only runs it
    done = time.perf_counter()
    stages: dict[str, float] = {}
    for outcome in run.report.outcomes.values():
        stages[outcome.stage] = round(stages.get(outcome.stage, 0.0) + outcome.seconds, 1)
    numbers = {
        "write_example_s": round(written - started, 1), "run_s": round(done - written, 1),
        "total_s": round(done - started, 1), "stages_s": stages, "code": run.report.code,
        "cpus": len(os.sched_getaffinity(0)), "load_average_before": [round(v, 2) for v in load],
    }
    print(json.dumps(numbers, indent=1))
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1) + "\n")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
