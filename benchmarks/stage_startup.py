"""A stage pod's fixed cost: `s1tiling-cloud stage NAME --args JSON` in a fresh process, as each
Argo pod runs it (process start, imports, numba's cache load, the stage's own bookkeeping), on
inputs so small that the work itself is negligible. Per stage: the median wall and CPU seconds
of `--repeat` runs (CPU: the rusage of the waited-for child). Target (issue 15): ≤ 2 s.

Stages: `mask` computing (numba kernels loaded from the cache, a COG written), `mask` finding
its output already made (the re-run rule: imports and a tag read), `concatenate` of one image
(merged and encoded), `ortho` of a 600 × 800 GRD at 60 m (the SAFE reader, the projector),
`heights` of a tile at 60 m from one small DEM file (the DEM warp, the geoid), `publish` of one
image into a static catalog (the STAC item, its collection; re-runs rewrite the same item).

    .venv/bin/python benchmarks/stage_startup.py [--repeat 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(name: str, arguments: dict, remove: list[str] = ()) -> tuple[float, float]:
    for path in remove:
        Path(path).unlink(missing_ok=True)
    command = [str(Path(sys.executable).with_name("s1tiling-cloud")), "stage", name, "--args",
               json.dumps(arguments)]
    cpu, wall = _child_cpu(), time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ,
                                                                  "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - wall, _child_cpu() - cpu


def inputs(folder: Path) -> dict[str, dict]:
    """The stages' arguments on small inputs (made once, untimed)."""
    import rasterio
    from affine import Affine

    from s1tiling_cloud.stages.heights import heights
    from s1tiling_cloud.stages.ortho import ortho
    from s1tiling_cloud.testing import SyntheticGRD, write_grd

    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800),
                        folder / "s1")
    dem = folder / "dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", height=400, width=600, count=1, dtype="int16",
                       crs="EPSG:4326", transform=Affine(1 / 200, 0, 0, 0, -1 / 200, 45.0),
                       nodata=-32768) as dataset:
        dataset.write(np.zeros((1, 400, 600), np.int16))
    heights_uri = str(folder / "heights.tif")
    heights("31TCJ", 60.0, heights_uri, {"dem_dir": str(dem)})
    image = str(folder / "vv.tif")
    params = {"resolution": 60.0, "overviews": True, "compress": "DEFLATE"}
    ortho(str(product), "31TCJ", heights_uri, {"VV": image}, params)
    return {
        "ortho": {"product": str(product), "tile": "31TCJ", "heights_uri": heights_uri,
                  "outputs": {"VV": str(folder / "vv2.tif")}, "params": params},
        "concatenate": {"inputs": [image], "output": str(folder / "product.tif"),
                        "tile": "31TCJ"},
        "mask": {"product": image, "output": str(folder / "mask.tif")},
        "heights": {"tile": "31TCJ", "resolution": 60.0, "out_uri": str(folder / "h2.tif"),
                    "dem": {"dem_dir": str(dem)}},
        "publish": {"products": {"VV": image}, "catalog": str(folder / "catalog" / "catalog.json")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory(prefix="startup-") as name:
        folder = Path(name)
        arguments = inputs(folder)
        cases = [("mask (computes)", "mask", [arguments["mask"]["output"]]),
                 ("mask (reuses its output)", "mask", []),
                 ("concatenate (one image)", "concatenate", [arguments["concatenate"]["output"]]),
                 ("ortho (600 × 800 GRD, 60 m)", "ortho", list(arguments["ortho"]["outputs"].values())),
                 ("heights (60 m tile, one DEM file)", "heights", [arguments["heights"]["out_uri"]]),
                 ("publish (one image, static catalog)", "publish", [])]
        for label, stage, remove in cases:
            run(stage, arguments[stage], remove)  # numba's cache and the OS's file cache warm
            runs = [run(stage, arguments[stage], remove) for _ in range(args.repeat)]
            figures[label] = {"wall_s": round(statistics.median(r[0] for r in runs), 2),
                              "cpu_s": round(statistics.median(r[1] for r in runs), 2)}
    print(f"\nStage pod fixed cost (`s1tiling-cloud stage`, fresh process, median of {args.repeat}), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("| stage | wall s | CPU s |\n|---|---|---|")
    for label, row in figures.items():
        print(f"| {label} | {row['wall_s']} | {row['cpu_s']} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
