"""The local runner's own cost: a plan of N tiles × one year whose stages do nothing.

Builds the s1_process plan of `--tiles` tiles (one relative orbit, an acquisition every
`--repeat` days for a year, VV + VH, border masks; products already in the cache, so no
download), replaces the stage call by a no-op that returns the node's output URIs, and runs it
with `--processes` worker processes: what is left is the scheduler (what is already done,
readiness, records, intermediates, progress). Printed per size: nodes, seconds to plan, seconds
to run, nodes per second; the sizes double up to `--tiles` so that growth shows (linear: the
nodes per second stay flat).

    .venv/bin/python benchmarks/scheduler.py [--tiles 100] [--processes 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from s1tiling_cloud.config.model import (  # noqa: E402
    DataSourceSection,
    MaskSection,
    PathsSection,
    ProcessingSection,
    Request,
)
from s1tiling_cloud.plan import build_plan  # noqa: E402
from s1tiling_cloud.search.model import S1Candidate, SearchOutcome  # noqa: E402

ZONES, BANDS, COLUMNS, ROWS = ("30", "31", "32"), "TU", "BCDEFGHJKL", "MNPQRSTUV"


def tile_names(count: int) -> list[str]:
    names = [f"{z}{b}{c}{r}" for z in ZONES for b in BANDS for c in COLUMNS for r in ROWS]
    return names[:count]


def candidates(tile: str, repeat: int, root: str) -> list[S1Candidate]:
    """One product per acquisition of a year (relative orbit 8), already in the cache."""
    found = []
    start = datetime(2025, 1, 3, 5, 50, 12, tzinfo=UTC)
    for step in range(0, 365, repeat):
        begin = start + timedelta(days=step)
        orbit = 55000 + step // repeat * 175
        name = (f"S1A_IW_GRDH_1SDV_{begin:%Y%m%dT%H%M%S}_"
                f"{begin + timedelta(seconds=25):%Y%m%dT%H%M%S}_{orbit:06d}_06B1C2_{tile[-4:]}")
        found.append(S1Candidate(id=name, platform="S1A", start=begin,
                                 stop=begin + timedelta(seconds=25), relative_orbit=8,
                                 absolute_orbit=orbit, orbit_direction="DES",
                                 polarisations=["vv", "vh"], footprint="POLYGON EMPTY",
                                 location=f"{root}/s1/{name}.SAFE", provider="local"))
    return found


def request_for(tiles: list[str], root: str) -> Request:
    return Request(
        paths=PathsSection(output=f"{root}/out", s1_images=f"{root}/s1", tmp=f"{root}/tmp",
                           dem_dir=f"{root}/dem"),
        data_source=DataSourceSection(download=False, roi_by_tiles=list(tiles),
                                      first_date=date(2025, 1, 1), last_date=date(2025, 12, 31),
                                      polarisation="VV-VH"),
        mask=MaskSection(generate_border_mask=True),
        processing=ProcessingSection(calibration="sigma", output_spatial_resolution=10.0,
                                     tiles=list(tiles), remove_thermal_noise=True,
                                     orthorectification_gridspacing=40.0, nb_parallel_processes=2,
                                     ram_per_process=4096, nb_otb_threads=1))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def noop(stage: str, args: dict[str, Any], storage_options: Any = None) -> dict[str, Any]:
    """A stage that does nothing and says it wrote every URI of its arguments."""
    outputs = [s for s in _strings(args) if s.endswith(".tif")]
    return {"ok": True, "result": {"stage": stage, "outputs": outputs, "skipped": False,
                                   "seconds": 0.0, "details": {}}}


def measure(tiles: int, repeat: int, processes: int) -> dict[str, Any]:
    from s1tiling_cloud.runners import local

    with tempfile.TemporaryDirectory(prefix="scheduler-bench-") as root:
        names = tile_names(tiles)
        started = time.perf_counter()
        outcome = SearchOutcome(per_tile={t: candidates(t, repeat, root) for t in names})
        plan = build_plan(request_for(names, root), outcome)
        planned = time.perf_counter() - started
        local.execute = noop  # the workers get it by reference: this module's `noop`
        started = time.perf_counter()
        report = local.run_plan(plan, processes=processes, progress=False)
        ran = time.perf_counter() - started
        assert report.code == 0, report.lines()[-3:]
    return {"tiles": tiles, "nodes": len(plan.nodes), "plan_s": round(planned, 2),
            "run_s": round(ran, 2), "nodes_per_s": round(len(plan.nodes) / ran, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=12, help="days between acquisitions")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = sorted({max(1, options.tiles // 4), max(1, options.tiles // 2), options.tiles})
    rows = []
    print(f"{'tiles':>6} {'nodes':>7} {'plan s':>8} {'run s':>8} {'nodes/s':>9}")
    for size in sizes:
        row = measure(size, options.repeat, options.processes)
        rows.append(row)
        print(f"{row['tiles']:>6} {row['nodes']:>7} {row['plan_s']:>8} {row['run_s']:>8} "
              f"{row['nodes_per_s']:>9}", flush=True)
    if options.json:
        options.json.write_text(json.dumps({"machine": platform.platform(), "processes":
                                            options.processes, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
