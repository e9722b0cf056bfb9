"""Ground → radar for every pixel of a full 10 m Sentinel-2 tile (10980 × 10980, 120.6 million
pixels) on a real GRD product, with a synthetic height field: the fast mode (coarse lattice +
interpolation) against the exact mode (every pixel solved).

The exact mode is timed on a subset of the rows (every ``--subset``-th row, 1/10 by default) and
extrapolated to the tile; the fast mode runs on the full tile (float64 outputs, the same into the
arrays of a previous call, float32 outputs), and its error is measured against the exact mode on
that subset (every pixel of those rows). Wall and CPU times are both given: on a shared machine
the CPU time is the steadier figure. The first call's numba compilation is timed apart, in fresh
processes with an empty, then a filled, numba cache.

    .venv/bin/python benchmarks/ground_to_radar.py [--json PATH] [--tile 33TTG] [--subset 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numba
import numpy as np

from s1tiling_cloud.geo.tile_projection import (
    Grid,
    TileProjector,
    default_levels,
    radar_window,
)

ROOT = Path(__file__).resolve().parents[1]
SAFE_DIR = ROOT.parent / "shared" / "fixtures" / "safe"
GRD_ROME = "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"


def synthetic_heights(grid: Grid, block: int = 512) -> np.ndarray:
    """Ellipsoidal heights (float32) between ~0 and ~2500 m: a sum of sinusoids of 37 km down to
    1.3 km wavelength, built in row blocks (no full-size float64 temporary)."""
    rows, cols = grid.shape
    out = np.empty(grid.shape, np.float32)
    x, _ = grid.xy(0, np.arange(cols))
    for r0 in range(0, rows, block):
        r1 = min(rows, r0 + block)
        _, y = grid.xy(np.arange(r0, r1)[:, None], 0)
        out[r0:r1] = _field(x[None, :], y)
    return out


def _field(x, y):
    return (1250.0 + 700.0 * np.sin(2 * np.pi * x / 37e3) * np.cos(2 * np.pi * y / 23e3)
            + 350.0 * np.sin(2 * np.pi * x / 7.1e3 + 1.0)
            + 200.0 * np.sin(2 * np.pi * (x + y) / 1.3e3))


def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def timed(fn, *args, **kwargs):
    """(result, wall s, CPU s of the process, peak of the numpy memory allocated during the call
    over what was allocated before, MiB)."""
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    _, peak = tracemalloc.get_traced_memory()
    return out, wall, cpu, (peak - before) / 2**20


_FIRST_CALL = """
import json, sys, time
t0 = time.perf_counter()
from s1tiling_cloud.geo.tile_projection import Grid, TileProjector, _fast_kernel
projector = TileProjector.open(sys.argv[1], sys.argv[2])
grid = Grid.from_tile(sys.argv[3], 2000.0)
heights = __import__("numpy").full(grid.shape, 500.0, "float32")
t1 = time.perf_counter()
projector.project(grid, heights)
t2 = time.perf_counter()
projector.project(grid, heights)
t3 = time.perf_counter()
print(json.dumps({"import_open_s": t1 - t0, "first_s": t2 - t1, "second_s": t3 - t2,
                  "misses": sum(_fast_kernel.stats.cache_misses.values()),
                  "hits": sum(_fast_kernel.stats.cache_hits.values())}))
"""


def first_calls(product: str, group: str, tile: str) -> dict:
    """The fast mode's first call (float32 heights, float64 outputs) in fresh processes: with an
    empty numba cache (compilation of every kernel it runs), then with that cache filled."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        for name in ("cold_cache", "warm_cache"):
            run = subprocess.run([sys.executable, "-c", _FIRST_CALL, product, group, tile],
                                 env=env, capture_output=True, text=True, check=True)
            out[name] = json.loads(run.stdout.strip().splitlines()[-1])
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--product", default=str(SAFE_DIR / GRD_ROME))
    ap.add_argument("--group", default="IW/VV")
    ap.add_argument("--tile", default="33TTG")
    ap.add_argument("--resolution", type=float, default=10.0)
    ap.add_argument("--subset", type=int, default=10, help="exact mode on every N-th row")
    ap.add_argument("--step", type=int, default=None, help="lattice step (pixels) of fast mode")
    ap.add_argument("--levels", type=int, default=None, help="height levels of fast mode")
    ap.add_argument("--json", type=Path, default=None, help="write the figures there")
    args = ap.parse_args(argv)

    load_start = os.getloadavg()
    figures: dict = {"machine": {"cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
                                 "python": sys.version.split()[0], "numba": numba.__version__,
                                 "platform": platform.platform()}}
    # First calls in fresh processes: numba compilation, then loading from its on-disk cache.
    figures["first_call"] = first_calls(args.product, args.group, args.tile)

    tracemalloc.start()
    figures["rss_before_mib"] = rss_peak_mib()
    projector, t_open, _, _ = timed(TileProjector.open, args.product, args.group)
    grid = Grid.from_tile(args.tile, args.resolution)
    heights, t_heights, _, _ = timed(synthetic_heights, grid)
    n = heights.size
    h_lo, h_hi = float(heights.min()), float(heights.max())
    levels = args.levels or default_levels(h_hi - h_lo)
    projector.project(Grid.from_tile(args.tile, 2000.0), 500.0)  # warm the caches
    coarse, t_coarse, _, _ = timed(projector.solve_coarse, grid, (h_lo, h_hi), step=args.step,
                                   levels=levels)
    figures.update(product=Path(args.product).name, group=args.group, tile=args.tile,
                   resolution_m=args.resolution, shape=list(grid.shape), pixels=n,
                   heights_m=[h_lo, h_hi], step_pixels=coarse.steps[0],
                   step_m=coarse.steps[0] * grid.resolution_m, levels=levels, open_s=t_open,
                   heights_s=t_heights,
                   coarse={"nodes": int(coarse.values[0].size), "solve_s": t_coarse})

    # Fast mode, full tile, float64 and float32 outputs (best of 2 runs each).
    runs = {}
    for dtype in (np.float64, np.float32):
        best = None
        for _ in range(2):
            line = pixel = None  # one pair of outputs alive at a time: the RSS peak is honest
            (line, pixel), wall, cpu, traced = timed(projector.project, grid, heights,
                                                     step=args.step, levels=levels, dtype=dtype)
            if best is None or wall < best["wall_s"]:
                best = {"wall_s": wall, "cpu_s": cpu, "points_per_s": n / wall,
                        "points_per_cpu_s": n / cpu, "traced_peak_mib": traced}
        best["rss_peak_mib"] = rss_peak_mib()
        runs[np.dtype(dtype).name] = best
        if dtype is np.float64:
            fast_line, fast_pixel = line, pixel
            # the same into the arrays of the last run: no page faults of fresh memory
            _, wall, cpu, traced = timed(projector.project, grid, heights, step=args.step,
                                         levels=levels, out=(line, pixel))
            runs["float64_reused"] = {"wall_s": wall, "cpu_s": cpu, "points_per_s": n / wall,
                                      "points_per_cpu_s": n / cpu, "traced_peak_mib": traced,
                                      "rss_peak_mib": rss_peak_mib()}
        else:
            f32 = max(max(np.nanmax(np.abs(a[r:r + 512] - b[r:r + 512]), initial=0.0)
                          for r in range(0, a.shape[0], 512))  # no full-size temporaries
                      for a, b in ((line, fast_line), (pixel, fast_pixel)))
            runs["float32"]["max_rounding_vs_float64"] = float(f32)
        del line, pixel
    figures["fast"] = runs
    figures["valid_pixels"] = int(np.isfinite(fast_line).sum())
    window = radar_window(fast_line, fast_pixel, projector.image_shape)
    lattice_window = projector.window(grid, heights)
    figures["window"] = None if window is None else [window.line_start, window.line_stop,
                                                     window.pixel_start, window.pixel_stop]
    figures["lattice_window"] = None if lattice_window is None else [
        lattice_window.line_start, lattice_window.line_stop, lattice_window.pixel_start,
        lattice_window.pixel_stop]

    # Exact mode on every `subset`-th row, extrapolated; fast mode's error on those rows.
    sub = grid[:: args.subset]
    sub_h = np.ascontiguousarray(heights[:: args.subset])
    (exact_line, exact_pixel), wall, cpu, traced = timed(projector.project, sub, sub_h,
                                                         mode="exact")
    m = sub_h.size
    figures["exact"] = {"measured_pixels": m, "measured_rows": sub.shape[0], "wall_s_measured": wall,
                        "cpu_s_measured": cpu, "points_per_s": m / wall, "points_per_cpu_s": m / cpu,
                        "wall_s_extrapolated": wall * n / m, "cpu_s_extrapolated": cpu * n / m,
                        "traced_peak_mib": traced, "rss_peak_mib": rss_peak_mib()}
    fl, fp = fast_line[:: args.subset], fast_pixel[:: args.subset]
    both = np.isfinite(fl) & np.isfinite(exact_line)
    dl = np.abs(fl - exact_line)[both]
    dp = np.abs(fp - exact_pixel)[both]
    figures["error"] = {
        "compared_pixels": int(both.sum()),
        "mask_disagreements": int((np.isfinite(fl) != np.isfinite(exact_line)).sum()),
        "line_max": float(dl.max()), "line_p999": float(np.percentile(dl, 99.9)),
        "pixel_max": float(dp.max()), "pixel_p999": float(np.percentile(dp, 99.9)),
    }
    figures["speedup_fast_vs_exact"] = figures["exact"]["wall_s_extrapolated"] / runs["float64"]["wall_s"]
    figures["rss_peak_mib"] = rss_peak_mib()
    figures["machine"]["loadavg_1min"] = [load_start[0], os.getloadavg()[0]]
    print_table(figures, args.subset)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    return figures


def print_table(f: dict, subset: int) -> None:
    e, x, err, first = f["fast"], f["exact"], f["error"], f["first_call"]
    mach = f["machine"]
    print(f"\nground → radar: {f['product']} {f['group']}, tile {f['tile']} at {f['resolution_m']:g} m "
          f"({f['shape'][0]}×{f['shape'][1]} = {f['pixels'] / 1e6:.1f} M pixels, "
          f"{f['valid_pixels'] / 1e6:.1f} M inside the image), synthetic heights "
          f"{f['heights_m'][0]:.0f}–{f['heights_m'][1]:.0f} m")
    print(f"machine: {mach['cpus']} CPUs, {mach['numba_threads']} numba threads, 1-min load average "
          f"{mach['loadavg_1min'][0]:.1f} at start, {mach['loadavg_1min'][1]:.1f} at end (a load "
          f"above the CPU count means shared CPUs: compare the CPU-time columns)")
    print(f"fast lattice: a node every {f['step_pixels']:.1f} px ({f['step_m']:.0f} m), "
          f"{f['levels']} height levels, {f['coarse']['nodes']} nodes solved exactly in "
          f"{f['coarse']['solve_s']:.3f} s")
    print(f"first fast call in a fresh process (64 × 64 px): {first['cold_cache']['first_s']:.1f} s "
          f"with an empty numba cache (compilation), {first['warm_cache']['first_s']:.2f} s with "
          f"the cache filled (then {first['warm_cache']['second_s'] * 1e3:.0f} ms a call)\n")
    rows = [
        ("mode", "wall (s)", "Mpoints/s", "CPU (s)", "Mpoints/CPU-s", "numpy peak (MiB)", "RSS peak (MiB)"),
        (f"exact, 1/{subset} of the rows", f"{x['wall_s_measured']:.1f}", f"{x['points_per_s'] / 1e6:.2f}",
         f"{x['cpu_s_measured']:.1f}", f"{x['points_per_cpu_s'] / 1e6:.2f}",
         f"{x['traced_peak_mib']:.0f}", f"{x['rss_peak_mib']:.0f}"),
        ("exact, full tile (extrapolated)", f"{x['wall_s_extrapolated']:.0f}", "",
         f"{x['cpu_s_extrapolated']:.0f}", "", "", ""),
    ]
    labels = {"float64": "fast, full tile, float64 out",
              "float64_reused": "fast, same, into reused arrays",
              "float32": "fast, full tile, float32 out"}
    for name, label in labels.items():
        r = e[name]
        rows.append((label, f"{r['wall_s']:.2f}", f"{r['points_per_s'] / 1e6:.1f}",
                     f"{r['cpu_s']:.2f}", f"{r['points_per_cpu_s'] / 1e6:.1f}",
                     f"{r['traced_peak_mib']:.0f}", f"{r['rss_peak_mib']:.0f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) if k == 0 else c.rjust(w)
                        for k, (c, w) in enumerate(zip(r, widths, strict=True))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\nspeed-up fast/exact (wall): {f['speedup_fast_vs_exact']:.0f}×")
    print(f"fast vs exact on the {err['compared_pixels'] / 1e6:.2f} M valid pixels of every {subset}th row: "
          f"|Δline| max {err['line_max']:.1e}, 99.9th pct {err['line_p999']:.1e}; "
          f"|Δpixel| max {err['pixel_max']:.1e}, 99.9th pct {err['pixel_p999']:.1e}; "
          f"inside/outside disagreements: {err['mask_disagreements']}")
    print(f"float32 outputs round by at most {e['float32']['max_rounding_vs_float64']:.1e}")
    for name, w in (("tight", f["window"]), ("from the lattice", f["lattice_window"])):
        print(f"radar window ({name}): lines {w[0]}:{w[1]}, pixels {w[2]}:{w[3]}" if w else "no window")
    print("numpy peak: memory allocated by numpy during the call (tracemalloc; numba's own "
          "allocations are small); RSS peak: the process so far (the 0.45 GiB heights, "
          f"{f['rss_before_mib']:.0f} MiB of interpreter and libraries before the benchmark, and "
          "during the float32 and exact runs the float64 results kept for comparison)")


if __name__ == "__main__":
    main()
