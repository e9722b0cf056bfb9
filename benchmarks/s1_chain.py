"""The σ° chain of a request, node by node as its plan runs it, on full-size products and a
fully covered S2 tile at 10 m: per node the wall time, the CPU time, the peak memory and the
share spent encoding COGs.

The request is `benchmarks/request.py`'s case (`--case`; by default `one`: one full-size
dual-polarisation GRD on 31TCJ, σ° VV+VH with border masks), and so are its inputs (the GRDs,
16,700 × 25,000, VV+VH, ~1.6 GB each, and flat SRTM tiles, made once in the work folder and
reused with `--keep`; not timed). Its stage calls are the plan's: `plan_request` builds it
as `s1tiling-cloud plan --json` does, so the arguments cannot drift from what a run passes.
Each node then runs, in the plan's order, as `s1tiling-cloud stage NAME --args JSON` in a
fresh process with the pods' GDAL settings (`argo.defaults.POD_ENV`: the block cache bound),
as an Argo pod runs it (the local runner makes the same calls in its pool's workers, without
the process start, with the same GDAL settings unless the user set others). For `one`:
`heights` (DEM + geoid on the tile, once per tile), `ortho` (calibration with thermal noise removal, margins,
orthorectification, and both polarisations written as the day's products, DEFLATE with
overviews, with their border masks: a one-product day has no concatenation) and `publish`
(the STAC item); in `pair` the two orthos write intermediates and a `concatenate` per
polarisation writes the day's product and its border mask.

The whole plan runs once untimed first (numba's cache made and warm, as a worker's), then
again, timed, with every node's outputs removed before it runs. Per node: the process's wall
time, the stage's own seconds (after the imports), the CPU seconds and peak RSS of the
process (its rusage), and, for the stages that report it (ortho), the sum of its writers'
`write_*_s` seconds over the stage's: the two polarisations are encoded in two threads that
overlap each other and the compute, so this share can pass 100 % (the encoding's weight, not
a part of the wall time).

Issue 4's target on a 2-core machine: the product × tile chain (calibration with thermal noise
removal, margins, orthorectification, COG writing) for both polarisations in ≤ 15 s wall and
≤ 4 GB peak memory: the `ortho` node of `one`.

    .venv/bin/python benchmarks/s1_chain.py [--case one] [--tile 31TCJ] [--json PATH]
        [--keep DIR]
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

from request import CASE_SPECS, case_folder, make_products  # benchmarks/ is first on sys.path
from stage_process import ROOT, run_stage

sys.path.insert(1, str(ROOT))  # this tree's package, as its stage processes import it

TARGET_WALL_S = 15.0
TARGET_RSS_MIB = 4096


def plan_of(config: Path):
    """The plan of the request `config`, as `s1tiling-cloud plan --json CONFIG` makes it."""
    from s1tiling_cloud.api import request_of
    from s1tiling_cloud.plan.request import plan_request

    return plan_request(request_of(str(config)), "s1_process")


def pod_gdal_env() -> dict[str, str]:
    """The GDAL settings of every Argo pod (`argo.defaults.POD_ENV`)."""
    from s1tiling_cloud.argo.defaults import POD_ENV

    return {name: value for name, value in POD_ENV.items() if name.startswith("GDAL_")}


def run_plan(plan) -> list[dict]:
    """Every node of `plan` in its order, each in a fresh stage process with the pods' GDAL
    settings, after its outputs are removed: the node's figures."""
    figures, env = [], pod_gdal_env()
    for node in plan.topological():
        run = run_stage(node.stage, node.args, fresh=node.outputs, env=env)
        details = run["result"]["details"]
        written = sum(v for k, v in details.items() if k.startswith("write_") and k.endswith("_s"))
        figures.append({
            "node": node.id, "label": node.label, "stage": node.stage,
            "wall_s": round(run["process_wall_s"], 2), "stage_s": round(run["wall_s"], 2),
            "cpu_s": round(run["cpu_s"], 2), "max_rss_mib": round(run["max_rss_mib"]),
            "encoding_share": round(written / run["wall_s"], 3) if written else None,
            "details": details})
        print(f"{node.label}: {figures[-1]['wall_s']} s", file=sys.stderr)
    return figures


def report(case: str, tile: str, nodes: list[dict]) -> dict:
    """The figures of the run, with the totals and issue 4's target on the one-product ortho."""
    figures = {"case": case, "tile": tile, "cpus": os.cpu_count(), "env": pod_gdal_env(),
               "load_average": round(os.getloadavg()[0], 1), "nodes": nodes,
               "total_wall_s": round(sum(n["wall_s"] for n in nodes), 2),
               "total_cpu_s": round(sum(n["cpu_s"] for n in nodes), 2),
               "max_rss_mib": max(n["max_rss_mib"] for n in nodes)}
    orthos = [n for n in nodes if n["stage"] == "ortho"]
    if case == "one" and orthos:
        ortho = orthos[0]
        figures["target"] = {"wall_s": TARGET_WALL_S, "rss_mib": TARGET_RSS_MIB,
                             "wall_ratio": round(ortho["wall_s"] / TARGET_WALL_S, 2),
                             "rss_ratio": round(ortho["max_rss_mib"] / TARGET_RSS_MIB, 2)}
    return figures


#: The ortho stage's steps in the order they run (its result's details come sorted by name).
STEPS = ("project", "calibrate", "resample", "write", "mask")


def _step_order(item: tuple[str, object]) -> tuple[int, str]:
    step = item[0].split("_")[0]
    return (STEPS.index(step) if step in STEPS else len(STEPS), item[0])


def print_table(figures: dict) -> None:
    print(f"\nσ° chain of case `{figures['case']}` on {figures['tile']} at 10 m (10980 × 10980), "
          f"each node a fresh stage process ({' '.join(f'{k}={v}' for k, v in figures['env'].items())}"
          f"), {figures['cpus']} CPUs, load average {figures['load_average']} at the end")
    print("| node | wall s | stage's own s | CPU s | peak RSS MiB | COG encoding share |\n"
          "|---|---|---|---|---|---|")
    for node in figures["nodes"]:
        share = "—" if node["encoding_share"] is None else f"{node['encoding_share']:.0%}"
        print(f"| {node['label']} | {node['wall_s']:.2f} | {node['stage_s']:.2f} | "
              f"{node['cpu_s']:.2f} | {node['max_rss_mib']} | {share} |")
        if node["stage"] == "ortho":
            for key, value in sorted(node["details"].items(), key=_step_order):
                if key.endswith("_s"):
                    print(f"| ↳ {key[:-2]} | | {value:.2f} | | | |")
    print(f"| **all nodes, one after the other** | **{figures['total_wall_s']:.2f}** | | "
          f"**{figures['total_cpu_s']:.2f}** | {figures['max_rss_mib']} | |")
    if "target" in figures:
        ortho = next(n for n in figures["nodes"] if n["stage"] == "ortho")
        target = figures["target"]
        print(f"\nIssue 4's target (the ortho node, both polarisations): wall {ortho['wall_s']:.2f} s "
              f"(target {TARGET_WALL_S:g} s; ratio {target['wall_ratio']}), peak RSS "
              f"{ortho['max_rss_mib']} MiB (target {TARGET_RSS_MIB}; ratio {target['rss_ratio']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", default="one", choices=[c for c, s in CASE_SPECS.items()
                                                          if s.calibration == "sigma"])
    parser.add_argument("--tile", default="31TCJ")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="s1chain-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        clock = time.perf_counter()
        products = make_products(work, args.tile, set(CASE_SPECS[args.case].products))
        print(f"inputs ready in {time.perf_counter() - clock:.1f} s", file=sys.stderr)
        folder = case_folder(work, args.case, "native", args.tile, products)
        plan = plan_of(folder / "request.cfg")
        run_plan(plan)  # numba's cache made and loaded once, untimed
        figures = report(args.case, args.tile, run_plan(plan))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
