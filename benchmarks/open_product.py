"""Open a full-size product and read a 1000×1000 window of its measurement: s1safe against
xarray-sentinel (the reference reader), on disk, from a zip, and through S3.

The product is the real Rome GRD of ../shared/fixtures (IW, VV, 16705 × 26102 uint16). Each
case runs in a fresh Python process, as a worker would: imports and xarray's discovery of its
installed engines first (the same ~2 s for both readers; the RSS baseline), then
`xr.open_dataset(location, group="IW/VV")` ("open", cold), the window in the middle of the
image ("window"), and the same open again in that process ("warm open"). Timing runs (median
of --repeat) have tracemalloc off; one more run per case measures the Python peak
(tracemalloc, numpy included) of each phase. Max RSS is `resource.getrusage` of the timing
runs, total and above the after-imports baseline. S3 is a `moto_server` on 127.0.0.1 started
by this script (tests/s3server.py); "S3 req" counts the HTTP requests it logged for one run.

    .venv/bin/python benchmarks/open_product.py [--json PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import s3server  # noqa: E402 (tests/s3server.py: the same server the tests use)

SAFE_DIR = ROOT.parent / "shared" / "fixtures" / "safe"
GRD_ROME = "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
GROUP = "IW/VV"
WINDOW = 1000
BUCKET = "benchmark"


# -- the measured process ------------------------------------------------------------------------
def _child(spec: dict) -> dict:
    """Open, read the window, report; runs in a fresh interpreter."""
    import resource
    import time
    import tracemalloc
    import warnings

    import numpy as np
    import xarray as xr

    import s1tiling_cloud.safe  # noqa: F401

    if spec["reader"] == "xarray-sentinel":
        import xarray_sentinel  # noqa: F401

    warnings.simplefilter("ignore")
    xr.backends.list_engines()  # imports every installed backend (rioxarray…): not the reader's

    def rss_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def open_():
        kwargs = {"group": GROUP, "engine": spec["engine"]}
        if spec.get("storage_options"):
            kwargs["storage_options"] = spec["storage_options"]
        return xr.open_dataset(spec["location"], **kwargs)

    out = {"rss_imports_mib": rss_mib()}
    if spec["trace"]:
        tracemalloc.start()
    start = time.perf_counter()
    ds = open_()
    out["open_s"] = time.perf_counter() - start
    if spec["trace"]:
        out["py_peak_open_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()
    out["rss_open_mib"] = rss_mib()
    data = ds["measurement"]
    lines, pixels = data.shape
    rows = slice(lines // 2 - WINDOW // 2, lines // 2 + WINDOW // 2)
    cols = slice(pixels // 2 - WINDOW // 2, pixels // 2 + WINDOW // 2)
    start = time.perf_counter()
    window = np.asarray(data[rows, cols].values)
    out["window_s"] = time.perf_counter() - start
    if spec["trace"]:
        out["py_peak_window_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["rss_window_mib"] = rss_mib()
    start = time.perf_counter()
    open_()
    out["warm_open_s"] = time.perf_counter() - start
    out["shape"] = list(data.shape)
    out["window_shape"] = list(window.shape)
    out["window_sum"] = float(window.astype(np.float64).sum())
    return out


def _run_child(spec: dict, env: dict) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                            capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        kind, _, text = last.partition(": ")
        return {"error": f"{kind.rsplit('.', 1)[-1]}: {text[:70]}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- the cases -----------------------------------------------------------------------------------
def _make_zip(safe: Path, folder: Path) -> Path:
    """A zip laid out as ESA's: `X.SAFE/...` members, deflated."""
    target = folder / (safe.stem + ".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(safe.rglob("*")):
            archive.write(path, f"{safe.name}/{path.relative_to(safe).as_posix()}")
    return target


def _cases(safe: Path, zipped: Path, s3_folder: str, s3_zip: str, options: dict) -> list[dict]:
    ours = {"reader": "s1safe", "engine": "s1safe"}
    ref = {"reader": "xarray-sentinel", "engine": "sentinel-1"}
    xs_zip = f"zip://{safe.name}::{zipped}"
    xs_s3_zip = f"zip://{safe.name}::{s3_zip}"
    return [
        {**ours, "where": "folder", "location": str(safe)},
        {**ref, "where": "folder", "location": str(safe)},
        {**ours, "where": "zip", "location": str(zipped)},
        {**ref, "where": "zip", "location": xs_zip},
        {**ours, "where": "s3 folder", "location": s3_folder, "storage_options": options},
        {**ref, "where": "s3 folder", "location": s3_folder, "storage_options": options},
        {**ours, "where": "s3 zip", "location": s3_zip, "storage_options": options},
        {**ref, "where": "s3 zip", "location": xs_s3_zip, "storage_options": options},
    ]


def _requests(server: s3server.S3Server) -> int:
    text = server.log.read_text(errors="replace")
    return sum(text.count(f'"{verb} ') for verb in ("GET", "HEAD"))


def measure(repeat: int) -> dict:
    safe = SAFE_DIR / GRD_ROME
    if not safe.is_dir():
        sys.exit(f"fixture not found: {safe}")
    server = s3server.start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            zipped = _make_zip(safe, Path(tmp))
            s3_folder = s3server.upload(server.endpoint, BUCKET, safe, "l1c")
            s3_zip = s3server.upload(server.endpoint, BUCKET, zipped, "l1c")
            options = s3server.storage_options(server.endpoint)
            # xarray-sentinel hands rasterio an s3:// URL: GDAL's /vsis3/ needs these
            env = {**os.environ, **s3server.gdal_env(server.endpoint)}
            _run_child({**_cases(safe, zipped, s3_folder, s3_zip, options)[0], "trace": False},
                       env)  # warm-up, discarded: fills the OS file cache
            rows = []
            for spec in _cases(safe, zipped, s3_folder, s3_zip, options):
                runs = []
                for _ in range(repeat):
                    before = _requests(server)
                    runs.append(_run_child({**spec, "trace": False}, env))
                    runs[-1]["s3_requests"] = _requests(server) - before
                row = {k: v for k, v in spec.items() if k != "storage_options"}
                if any("error" in r for r in runs):
                    row["error"] = next(r["error"] for r in runs if "error" in r)
                else:
                    traced = _run_child({**spec, "trace": True}, env)
                    row.update({
                        "open_s": statistics.median(r["open_s"] for r in runs),
                        "window_s": statistics.median(r["window_s"] for r in runs),
                        "warm_open_s": statistics.median(r["warm_open_s"] for r in runs),
                        "py_peak_open_mib": traced["py_peak_open_mib"],
                        "py_peak_window_mib": traced["py_peak_window_mib"],
                        "rss_max_mib": max(r["rss_window_mib"] for r in runs),
                        "rss_over_imports_mib": max(r["rss_window_mib"] - r["rss_imports_mib"]
                                                    for r in runs),
                        "s3_requests": runs[-1]["s3_requests"] if "s3" in spec["where"] else 0,
                        "shape": runs[0]["shape"], "window_sum": runs[0]["window_sum"],
                        "runs": [{k: r[k] for k in ("open_s", "window_s", "warm_open_s")}
                                 for r in runs],
                    })
                rows.append(row)
                print(f"  {row['reader']:16s} {row['where']:10s} "
                      + (row.get("error") or f"open {row['open_s']:.2f}s window "
                         f"{row['window_s']:.3f}s"), file=sys.stderr)
    finally:
        s3server.stop_server(server)
    return {"product": GRD_ROME, "group": GROUP, "window": [WINDOW, WINDOW], "repeat": repeat,
            "python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "cases": rows}


# -- report --------------------------------------------------------------------------------------
def _ratio(a: dict, b: dict, key: str) -> str:
    if key not in a or key not in b or not b[key]:
        return "—"
    return f"{a[key] / b[key]:.2f}"


def table(figures: dict) -> str:
    head = ("| where | reader | open s | window s | warm open s | py peak open MiB "
            "| py peak window MiB | max RSS MiB | RSS over imports MiB | S3 req |")
    lines = [head, "|---" * 10 + "|"]
    for r in figures["cases"]:
        if "error" in r:
            lines.append(f"| {r['where']} | {r['reader']} | cannot: {r['error']} "
                         + "| n/a " * 8 + "|")
            continue
        lines.append(
            f"| {r['where']} | {r['reader']} | {r['open_s']:.3f} | {r['window_s']:.3f} "
            f"| {r['warm_open_s']:.3f} "
            f"| {r['py_peak_open_mib']:.1f} | {r['py_peak_window_mib']:.1f} "
            f"| {r['rss_max_mib']:.0f} | {r['rss_over_imports_mib']:.0f} | {r['s3_requests']} |")
    lines += ["", "Ratios s1safe / xarray-sentinel (below 1: s1safe is faster or smaller):", "",
              "| where | open | window | warm open | py peak open | py peak window "
              "| RSS over imports |", "|---|---|---|---|---|---|---|"]
    by = {(r["where"], r["reader"]): r for r in figures["cases"]}
    for where in dict.fromkeys(r["where"] for r in figures["cases"]):
        a, b = by[(where, "s1safe")], by[(where, "xarray-sentinel")]
        cells = [_ratio(a, b, k) for k in ("open_s", "window_s", "warm_open_s", "py_peak_open_mib",
                                           "py_peak_window_mib", "rss_over_imports_mib")]
        lines.append(f"| {where} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--json", type=Path, default=None, help="write the figures there")
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per case (median)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return
    figures = measure(args.repeat)
    print(f"{GRD_ROME}, group {GROUP}, {WINDOW}×{WINDOW} window, median of {args.repeat} "
          f"fresh processes, {figures['cpus']} CPUs\n")
    print(table(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
