"""The product × tile σ° chain of the native engine on a full-size dual-polarisation GRD and one
fully covered S2 tile at 10 m: time per stage, peak memory, and the share spent encoding COGs.

Issue 4's target on a 2-core machine: the whole chain (calibration with thermal noise removal,
margins, orthorectification, COG writing) for both polarisations in ≤ 15 s wall and ≤ 4 GB
peak memory. The synthetic product (16,700 × 25,000, VV+VH) is centred on the tile and made
first (not timed); the tile's heights (DEM + geoid, once per tile and reused by every product)
are timed apart. The per-image ortho images are intermediates (no overviews, as S1Tiling keeps
them in tmp); the same stage writing final COGs with internal overviews is timed too, with the
concatenation of a day with that one image (its tiles copied under the product's tags). Each
stage runs in a fresh process with a warm numba cache (one untimed warm-up run first), as a
worker would; peak memory is that process's max RSS.

    .venv/bin/python benchmarks/s1_chain.py [--tile 31TCJ] [--json PATH] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STAGE_RUNNER = """
import json, resource, sys, time
from s1tiling_cloud.stages.registry import run_stage
started = time.perf_counter()
result = run_stage(sys.argv[1], json.loads(sys.argv[2]))
wall = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"result": json.loads(result.to_json()), "wall_s": wall, "max_rss_mib": rss}))
"""


def run_stage(name: str, arguments: dict, fresh: list[str] = ()) -> dict:
    """One stage in a fresh Python process: its result, wall time and peak RSS. The files in
    `fresh` are removed first, so that the stage computes instead of reusing them."""
    for path in fresh:
        Path(path).unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", STAGE_RUNNER, name, json.dumps(arguments)],
                          check=True, capture_output=True, text=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["result"]["skipped"]:
        raise RuntimeError(f"{name} reused its outputs instead of computing them")
    return figures


def make_inputs(folder: Path, tile_name: str, relief=None) -> tuple[str, str]:
    """A full-size dual-pol GRD centred on the tile, and a DEM raster around it: 4° at 12
    arc-seconds, flat, or `relief(rows, cols)` metres (integer pixel indices)."""
    import rasterio
    from rasterio.transform import from_origin

    from s1tiling_cloud.geo import S2Tile
    from s1tiling_cloud.testing import SyntheticGRD, write_grd

    tile = S2Tile.from_name(tile_name)
    centre = tile.footprint.centroid
    spec = SyntheticGRD.full_size(centre.y, centre.x, sigma0_db=-12.0, seed=7)
    product = write_grd(spec, folder / "s1")
    west, north = np.floor(centre.x) - 2, np.floor(centre.y) + 2
    size = 1200
    rows, cols = np.mgrid[0:size, 0:size]
    heights = np.zeros((size, size)) if relief is None else relief(rows, cols)
    dem = folder / "dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", height=size, width=size, count=1, dtype="int16",
                       crs="EPSG:4326", transform=from_origin(west, north, 4 / size, 4 / size),
                       nodata=-32768) as dataset:
        dataset.write(heights.astype(np.int16)[None])
    return str(product), str(dem)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tile", default="31TCJ")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="s1chain-"))
    folder.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    product, dem = make_inputs(folder, args.tile)
    print(f"inputs made in {time.perf_counter() - clock:.1f} s: {product}", file=sys.stderr)
    heights_uri = str(folder / "heights.tif")
    heights = run_stage("heights", {"tile": args.tile, "resolution": 10.0, "out_uri": heights_uri,
                                    "dem": {"dem_dir": dem}}, fresh=[heights_uri])
    outputs = {"VV": str(folder / "vv.tif"), "VH": str(folder / "vh.tif")}
    arguments = {"product": product, "tile": args.tile, "heights_uri": heights_uri,
                 "outputs": outputs, "params": {"resolution": 10.0}}
    warmup = {p: u + ".warmup.tif" for p, u in outputs.items()}
    run_stage("ortho", {**arguments, "outputs": warmup}, fresh=list(warmup.values()))
    ortho = run_stage("ortho", arguments, fresh=list(outputs.values()))
    # the same encoded as final products (DEFLATE, internal overviews), as the plan asks when a
    # day has one image (the concatenation then copies its tiles: no re-encode)
    finals = {p: u + ".final.tif" for p, u in outputs.items()}
    final = run_stage("ortho", {**arguments, "params": {"resolution": 10.0, "overviews": True,
                                                        "compress": "DEFLATE"},
                                "outputs": finals}, fresh=list(finals.values()))
    copied = run_stage("concatenate", {"inputs": [finals["VV"]], "output": str(folder / "day.tif"),
                                       "tile": args.tile}, fresh=[str(folder / "day.tif")])
    details = ortho["result"]["details"]
    write_s = sum(v for k, v in details.items() if k.startswith("write_"))
    figures = {
        "tile": args.tile,
        "heights_wall_s": round(heights["wall_s"], 2),
        "heights_max_rss_mib": round(heights["max_rss_mib"]),
        "ortho_wall_s": round(ortho["wall_s"], 2),
        "ortho_max_rss_mib": round(ortho["max_rss_mib"]),
        "ortho_stage_s": details,
        "cog_encoding_share": round(write_s / ortho["wall_s"], 3),
        "ortho_with_overviews_wall_s": round(final["wall_s"], 2),
        "ortho_with_overviews_max_rss_mib": round(final["max_rss_mib"]),
        "one_image_day_concatenation_wall_s": round(copied["wall_s"], 2),
        "target_wall_s": 15.0,
        "target_rss_mib": 4096,
    }
    figures["wall_ratio_to_target"] = round(figures["ortho_wall_s"] / 15.0, 2)
    figures["rss_ratio_to_target"] = round(figures["ortho_max_rss_mib"] / 4096, 2)
    print(f"\nProduct × tile σ° chain, VV+VH, {args.tile} at 10 m (10980 × 10980), 2 CPUs")
    print("| step | seconds |\n|---|---|")
    for key, value in details.items():
        if key.endswith("_s"):
            print(f"| {key[:-2]} | {value:.2f} |")
    print(f"| **ortho stage, wall** | **{figures['ortho_wall_s']:.2f}** "
          f"(target 15; ratio {figures['wall_ratio_to_target']}) |")
    print(f"| peak RSS | {figures['ortho_max_rss_mib']} MiB (target 4096; ratio "
          f"{figures['rss_ratio_to_target']}) |")
    print(f"| COG encoding share (in a thread, overlapping compute) | "
          f"{figures['cog_encoding_share']:.0%} |")
    print(f"| ortho stage writing final COGs with overviews | "
          f"{figures['ortho_with_overviews_wall_s']:.2f} s, "
          f"{figures['ortho_with_overviews_max_rss_mib']} MiB |")
    print(f"| the day's product from that image (tiles copied, one polarisation) | "
          f"{figures['one_image_day_concatenation_wall_s']:.2f} s |")
    print(f"| heights (once per tile) | {figures['heights_wall_s']:.2f} s, "
          f"{figures['heights_max_rss_mib']} MiB |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
