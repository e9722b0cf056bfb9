"""The `mask` stage on one full S2 tile at 10 m (10980 × 10980): a σ° product whose valid area
ends on a ragged, noisy edge (as an orthorectified swath does), read, opened by S1Tiling's ball
of radius 5 and written as a uint8 COG. Wall and CPU seconds of the stage in a fresh process
(its second run: numba's cache warm, as a long-running worker has), and of the opening alone.

    .venv/bin/python benchmarks/mask_tile.py [--repeat 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from stage_process import run_stage  # benchmarks/ is the script's folder, first on sys.path

SIZE = 10980


def product(seed: int = 3) -> np.ndarray:
    """σ°-like float32 values right of a slanted edge that wanders by a few pixels, with a few
    isolated zeros inside (the pixels an opening removes or keeps)."""
    rng = np.random.default_rng(seed)
    rows = np.arange(SIZE)[:, None]
    edge = 2000 + 0.3 * rows + rng.integers(0, 8, (SIZE, 1))
    image = rng.gamma(1.0, 0.05, (SIZE, SIZE)).astype(np.float32)
    image[np.arange(SIZE)[None, :] <= edge] = 0.0
    image[rng.random((SIZE, SIZE)) < 1e-3] = 0.0
    return image


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from s1tiling_cloud.engine.native.mask import border_mask
    from s1tiling_cloud.geo import Grid
    from s1tiling_cloud.store import Store

    image = product()
    border_mask(image[:64, :64])  # numba's cache loaded
    opening = []
    for _ in range(args.repeat):
        cpu, wall = _cpu_s(resource.RUSAGE_SELF), time.perf_counter()
        border_mask(image)
        opening.append((time.perf_counter() - wall, _cpu_s(resource.RUSAGE_SELF) - cpu))
    with tempfile.TemporaryDirectory(prefix="mask-tile-") as name:
        grid = Grid.from_tile("31TCJ", 10.0)
        source, output = os.path.join(name, "s0.tif"), os.path.join(name, "mask.tif")
        Store().write_cog(source, image, crs=grid.crs, transform=grid.transform, nodata=0.0,
                          overviews=None)
        del image
        arguments = {"product": source, "output": output}
        run_stage("mask", arguments, fresh=[output])  # numba's cache and the file cache warm
        stage = []
        for _ in range(args.repeat):
            cpu = _cpu_s(resource.RUSAGE_CHILDREN)
            figures = run_stage("mask", arguments, fresh=[output])
            stage.append((figures["wall_s"], _cpu_s(resource.RUSAGE_CHILDREN) - cpu,
                          figures["max_rss_mib"]))
    result = {
        "opening": {"wall_s": round(statistics.median(r[0] for r in opening), 2),
                    "cpu_s": round(statistics.median(r[1] for r in opening), 2)},
        "stage": {"wall_s": round(statistics.median(r[0] for r in stage), 2),
                  "cpu_s": round(statistics.median(r[1] for r in stage), 2),
                  "max_rss_mib": round(max(r[2] for r in stage))},
    }
    print(f"\nBorder mask of a full 10 m tile ({SIZE}²), median of {args.repeat}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    print("| what | wall s | CPU s |\n|---|---|---|")
    print(f"| opening (`engine.native.mask.border_mask`) | {result['opening']['wall_s']} | "
          f"{result['opening']['cpu_s']} |")
    print(f"| `mask` stage (fresh process: read, open, write the COG; "
          f"peak {result['stage']['max_rss_mib']} MiB) | {result['stage']['wall_s']} | "
          f"{result['stage']['cpu_s']} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
