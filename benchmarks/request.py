"""The whole request, as a user runs it: `s1tiling-cloud process CFG` (and `lia`, `gamma-area`)
in a fresh process per engine, native against `[Processing] engine: otb`, on full-size
synthetic products and a fully covered S2 tile at 10 m.

Per case and engine: the time of each node (the runner's "[i/n] label: status (s)" lines),
the wall time of the command, the CPU time of its whole process tree (the pool's workers
included: every process of the tree sampled from /proc every 0.2 s, and the rusage of the
waited-for children, whichever is larger), the peak resident memory of the tree (sum of its
processes' RSS at the worst sample), and the native/OTB ratios.

Cases (`--cases`, comma-separated; all by default):
- `one`: one dual-pol product on one tile, σ° VV+VH with border masks;
- `pair`: two products of one day (consecutive slices, each covering half of the tile);
- `three`: one product on each of three dates (12 days apart) on the tile;
- `normlim`: σ° NORMLIM (the sin LIA map is made in the request);
- `rtc`: γ° RTC (the γ-area map is made in the request).

What runs in place of S1Tiling's OTB applications that Debian's OTB lacks: with `engine: otb`
the chain (SARCalibration, ResetMargin, OrthoRectification, Synthetize, BandMath +
BinaryMorphologicalOperation) runs OTB's applications; the heights, the LIA map
(SARComputeLocalIncidenceAngle) and the γ-area map (SARGammaAreaImageEstimation), NORMLIM's
and RTC's products, are made by the native engine in both runs (S1Tiling's DiapOTB modules are
not in Debian), so for `normlim` and `rtc` the ratio compares the chain's part only.

With `--sarsen EXE` the `rtc` case is also compared with sarsen's terrain-flattened γ° (`sarsen
rtc`), the other open RTC tool of the field, installed apart (not a dependency of the project).
sarsen needs over half an hour per polarisation for a whole tile here, so it is run on two
centred crops of the tile and its figures extrapolated to the tile (`run_sarsen` says how);
the report marks them so.

Products (5 full-size GRDs, 16,700 × 25,000, VV+VH, ~1.6 GB each) and flat SRTM tiles are made
once in the work folder (`--keep` reuses them) and not timed. The machine's load (other jobs)
changes the wall time more than the CPU time: both are printed.

    .venv/bin/python benchmarks/request.py [--cases one,pair] [--engines native,otb]
        [--tile 31TCJ] [--keep DIR] [--json PATH] [--sarsen /tmp/sarsen/bin/sarsen]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("one", "pair", "three", "normlim", "rtc")
ENGINES = ("native", "otb")
#: What the native engine is compared with: S1Tiling's OTB chain, and sarsen for γ° RTC.
REFERENCES = ("otb", "sarsen")
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_NODE_LINE = re.compile(r"\[\d+/\d+\] (?P<label>.+): (?P<status>[a-z ]+) \((?P<seconds>[\d.]+) s\)")

#: Each product: (start, absolute orbit, latitude offset of its centre from the tile's (°)).
#: The pair's slices follow each other on one pass (descending: the northern one first).
PRODUCTS = {
    "d1": ("2020-01-08T04:41:50", 30704, 0.0),
    "pair_n": ("2020-01-20T04:41:25", 30879, 0.75),
    "pair_s": ("2020-01-20T04:41:50", 30879, -0.75),
    "d2": ("2020-02-01T04:41:50", 31054, 0.0),
    "d3": ("2020-02-13T04:41:50", 31229, 0.0),
}


@dataclass(frozen=True)
class Case:
    program: str
    products: tuple[str, ...]
    first_date: str
    last_date: str
    calibration: str = "sigma"


CASE_SPECS = {
    "one": Case("process", ("d1",), "2020-01-08", "2020-01-08"),
    "pair": Case("process", ("pair_n", "pair_s"), "2020-01-20", "2020-01-20"),
    "three": Case("process", ("d1", "d2", "d3"), "2020-01-08", "2020-02-13"),
    "normlim": Case("process", ("d1",), "2020-01-08", "2020-01-08", "normlim"),
    "rtc": Case("process", ("d1",), "2020-01-08", "2020-01-08", "gamma_naught_rtc"),
}

_CONFIG = """\
[Paths]
output : {folder}/output
s1_images : {folder}/s1
tmp : {folder}/tmp
dem_dir : {dem_dir}

[DataSource]
download : False
roi_by_tiles : {tile}
polarisation : VV-VH
relative_orbit_list : 7
first_date : {first_date}
last_date : {last_date}

[Mask]
generate_border_mask : True

[Processing]
engine : {engine}
calibration : {calibration}
remove_thermal_noise : True
output_spatial_resolution : 10.0
orthorectification_gridspacing : 40
tiles : {tile}
nb_parallel_processes : 2
ram_per_process : 4096
nb_otb_threads : 2
"""


def make_products(folder: Path, tile_name: str, names: set[str]) -> dict[str, Path]:
    """The full-size GRDs `names` in `folder/products` (kept and reused), and flat SRTM tiles
    (0 m over the geoid) around the tile in `folder/dem`."""
    from s1tiling_cloud.geo import S2Tile
    from s1tiling_cloud.testing import SyntheticGRD, write_dem_tiles, write_grd

    tile = S2Tile.from_name(tile_name)
    centre = tile.footprint.centroid
    made = {}
    for index, name in enumerate(sorted(names)):
        start, orbit, north = PRODUCTS[name]
        where = folder / "products" / name
        found = sorted(where.glob("S1*.SAFE")) if where.is_dir() else []
        if not found:
            clock = time.perf_counter()
            spec = SyntheticGRD.full_size(centre.y + north, centre.x, sigma0_db=-12.0,
                                          seed=7 + index, start=start, absolute_orbit=orbit)
            found = [write_grd(spec, where)]
            print(f"{name}: made in {time.perf_counter() - clock:.0f} s", file=sys.stderr)
        made[name] = found[0]
    dem = folder / "dem"
    if not any(dem.glob("*.hgt")):
        lon0, lat0, lon1, lat1 = tile.footprint.bounds
        write_dem_tiles(0.0, (lat0 - 0.5, lat1 + 0.5), (lon0 - 0.5, lon1 + 0.5), dem, kind="srtm3")
    return made


def case_folder(work: Path, case: str, engine: str, tile: str, products: dict[str, Path]) -> Path:
    """A fresh request folder: its products linked in `s1/`, empty output and tmp, the .cfg."""
    spec = CASE_SPECS[case]
    folder = work / "runs" / f"{case}-{engine}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "s1").mkdir(parents=True)
    for name in spec.products:
        (folder / "s1" / products[name].name).symlink_to(products[name])
    (folder / "request.cfg").write_text(_CONFIG.format(
        folder=folder, dem_dir=work / "dem", tile=tile, first_date=spec.first_date,
        last_date=spec.last_date, engine=engine, calibration=spec.calibration))
    return folder


def _tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _sample(pid: int) -> tuple[float, int] | None:
    """(user + system CPU seconds, RSS bytes) of one process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as statm:
            rss = int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS, rss


def _measure(command: list[str], folder: Path, env: dict[str, str]) -> dict:
    """Run `command` in `folder`: its wall time, the CPU of its process tree (sampled, and the
    waited-for children's rusage, whichever is larger), its peak RSS and its stderr."""
    before = os.times()
    started = time.perf_counter()
    with open(folder / "stderr.log", "a") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                                   cwd=folder, env=env)
        cpu: dict[int, float] = {}
        peak_rss = 0
        while process.poll() is None:
            total_rss = 0
            for pid in _tree(process.pid):
                figures = _sample(pid)
                if figures is not None:
                    cpu[pid] = max(cpu.get(pid, 0.0), figures[0])
                    total_rss += figures[1]
            peak_rss = max(peak_rss, total_rss)
            time.sleep(0.2)
        stdout = process.stdout.read()
    wall = time.perf_counter() - started
    after = os.times()
    waited_cpu = (after.children_user - before.children_user
                  + after.children_system - before.children_system)
    stderr = (folder / "stderr.log").read_text()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stdout}\n"
                           f"{stderr[-4000:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(max(sum(cpu.values()), waited_cpu), 2),
            "cpu_sampled_s": round(sum(cpu.values()), 2), "cpu_waited_s": round(waited_cpu, 2),
            "peak_rss_mib": round(peak_rss / 2**20), "stdout": stdout, "stderr": stderr}


def run_request(folder: Path, program: str) -> dict:
    """`s1tiling-cloud PROGRAM request.cfg` in a fresh process: wall, CPU and peak RSS of its
    process tree, and the nodes' times."""
    command = [str(Path(sys.executable).with_name("s1tiling-cloud")), program,
               str(folder / "request.cfg")]
    figures = _measure(command, folder, {**os.environ, "PYTHONPATH": str(ROOT)})
    stdout, stderr = figures.pop("stdout"), figures.pop("stderr")
    figures["nodes"] = [{"label": m["label"], "status": m["status"], "seconds": float(m["seconds"])}
                        for m in _NODE_LINE.finditer(stderr)]
    figures["situation"] = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    return figures


#: The square windows of the tile (pixels a side, centred) sarsen is run on: on this machine it
#: takes ~10 s per 1024² block, over half an hour for a whole 10980² tile and polarisation.
SARSEN_CROPS = (1024, 2048)


def run_sarsen(sarsen: Path, work: Path, tile: str, product: Path) -> dict:
    """sarsen's terrain-flattened γ° (`sarsen rtc`, Small's area projection) of `product`,
    extrapolated to the whole tile, VV + VH.

    sarsen makes its output on the grid of the DEM it is given: here the tile's DEM + geoid
    heights at 10 m (made beforehand by s1tiling-cloud's `heights` stage, not timed; the
    native request's time includes its own heights node), cut to centred squares of
    `SARSEN_CROPS` pixels. Each crop's VV run is measured in a fresh process; wall, CPU and
    wall and CPU are fitted as `fixed + per_pixel × pixels` through the two crops and evaluated
    at the tile's pixel count; VV + VH is twice that (sarsen takes one measurement group per
    run and redoes the geometry for each). Peak RSS is the larger crop's, not extrapolated
    (sarsen works chunk by chunk)."""
    import rasterio
    from rasterio.windows import Window

    from s1tiling_cloud.stages.heights import heights

    folder = work / "runs" / "rtc-sarsen"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    full = folder / "heights.tif"
    heights(tile, 10.0, str(full), {"dem_dir": str(work / "dem")})
    runs = []
    with rasterio.open(full) as source:
        tile_pixels = source.width * source.height
        for side in SARSEN_CROPS:
            window = Window((source.width - side) // 2, (source.height - side) // 2, side, side)
            dem = folder / f"heights_{side}.tif"
            profile = {**source.profile, "width": side, "height": side,
                       "transform": source.window_transform(window)}
            with rasterio.open(dem, "w", **profile) as crop:
                crop.write(source.read(1, window=window), 1)
            figures = _measure([str(sarsen), "rtc", str(product), "IW/VV", str(dem),
                                "--output-urlpath", str(folder / f"gamma0_rtc_vv_{side}.tif")],
                               folder, dict(os.environ))
            figures.pop("stdout"), figures.pop("stderr")
            runs.append({"label": f"sarsen rtc VV {side}²", "status": "ran",
                         "seconds": figures["wall_s"], "pixels": side * side, **figures})

    def whole_tile(key: str) -> float:
        (p0, v0), (p1, v1) = [(r["pixels"], r[key]) for r in runs]
        per_pixel = (v1 - v0) / (p1 - p0)
        return v0 + per_pixel * (tile_pixels - p0)

    return {"wall_s": round(2 * whole_tile("wall_s"), 1), "cpu_s": round(2 * whole_tile("cpu_s"), 1),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "extrapolated": True,
            "nodes": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--tile", default="31TCJ")
    parser.add_argument("--keep", type=Path, help="work (and keep the products) in this folder")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--sarsen", type=Path,
                        help="sarsen's executable: the rtc case also runs `sarsen rtc` (installed "
                             "apart, e.g. `python3 -m venv /tmp/sarsen && /tmp/sarsen/bin/pip "
                             "install sarsen`; not a dependency of the project)")
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    engines = [e for e in args.engines.split(",") if e]
    for name in cases:
        if name not in CASE_SPECS:
            parser.error(f"unknown case {name!r}; one of {', '.join(CASES)}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="s1request-"))
    work.mkdir(parents=True, exist_ok=True)
    products = make_products(work, args.tile, {p for c in cases for p in CASE_SPECS[c].products})
    results: dict[str, dict] = {}
    for case in cases:
        results[case] = {}
        for engine in engines:
            folder = case_folder(work, case, engine, args.tile, products)
            figures = run_request(folder, CASE_SPECS[case].program)
            results[case][engine] = figures
            print(f"{case} {engine}: {figures['wall_s']} s wall, {figures['cpu_s']} s CPU, "
                  f"{figures['peak_rss_mib']} MiB", file=sys.stderr)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        if case == "rtc" and args.sarsen:
            figures = run_sarsen(args.sarsen, work, args.tile, products[CASE_SPECS[case].products[0]])
            results[case]["sarsen"] = figures
            print(f"{case} sarsen: {figures['wall_s']} s wall, {figures['cpu_s']} s CPU, "
                  f"{figures['peak_rss_mib']} MiB", file=sys.stderr)
        native = results[case].get("native")
        for reference in REFERENCES:
            if native and reference in results[case]:
                other = results[case][reference]
                results[case][f"{reference}_over_native"] = {
                    "wall": round(other["wall_s"] / native["wall_s"], 2),
                    "cpu": round(other["cpu_s"] / native["cpu_s"], 2)}
    report(results, args.tile)
    if args.json:
        args.json.write_text(json.dumps({"tile": args.tile, "cpus": os.cpu_count(),
                                         "load_average": os.getloadavg(), "cases": results},
                                        indent=2))


def report(results: dict[str, dict], tile: str) -> None:
    print(f"\nWhole requests on {tile} at 10 m, full-size GRDs, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| case | run | wall s | CPU s | peak RSS MiB | other/native wall | other/native CPU |")
    print("|---|---|---|---|---|---|---|")
    for case, runs in results.items():
        for name in (*ENGINES, "sarsen"):
            if name not in runs:
                continue
            row, ratio = runs[name], runs.get(f"{name}_over_native", {})
            name = f"{name} (extrapolated)" if row.get("extrapolated") else name
            print(f"| {case} | {name} | {row['wall_s']} | {row['cpu_s']} | "
                  f"{row['peak_rss_mib']} | {ratio.get('wall', '')} | {ratio.get('cpu', '')} |")
    print("\nPer node (seconds):")
    for case, runs in results.items():
        for name in (*ENGINES, "sarsen"):
            if name in runs:
                nodes = ", ".join(f"{n['label']} {n['seconds']}" for n in runs[name]["nodes"])
                print(f"- {case} {name}: {nodes}")


if __name__ == "__main__":
    main()
