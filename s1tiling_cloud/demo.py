"""The bundled example: a synthetic Sentinel-1 GRD over Toulouse taken through the S1Tiling
chain onto S2 tile 31TCJ, offline, as a user runs it: a product in `DIR/s1`, SRTM DEM tiles in
`DIR/dem`, a `DIR/demo.cfg` request (no download, σ°, border masks and quicklooks), then the
request planned and run by the local runner into `DIR/output`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .geo.s2tile import S2Tile
from .plan.model import Plan
from .runners.report import RunReport

TILE = "31TCJ"
_CONFIG = """\
# The s1tiling-cloud demo: S1Tiling's .cfg keys (see docs/config.md).
[Paths]
output : {output}
s1_images : {s1_images}
tmp : {tmp}
dem_dir : {dem_dir}

[DataSource]
download : False
roi_by_tiles : {tile}
polarisation : VV-VH
first_date : {day}
last_date : {day}

[Mask]
generate_border_mask : True

[Quicklook]
generate : True

[Processing]
calibration : sigma
remove_thermal_noise : True
output_spatial_resolution : {resolution}
orthorectification_gridspacing : {gridspacing}
tiles : {tile}
nb_parallel_processes : {processes}
ram_per_process : 2048
nb_otb_threads : 1

[Stac]
publish : {publish}
{storage}"""


@dataclass
class DemoRun:
    product: Path
    config: Path
    plan: Plan
    report: RunReport


def demo_config(*, output: str, s1_images: str, tmp: str, dem_dir: str, day: str,
                resolution: float = 10.0, processes: int = 2, publish: bool = True,
                endpoint_url: str | None = None, region: str | None = None) -> str:
    """The demo's `.cfg` text for these folders (local or s3://; `endpoint_url` and `region`
    make its `[Storage]` section, the credentials staying in the environment)."""
    storage = ""
    if endpoint_url:
        storage = f"\n[Storage]\nendpoint_url : {endpoint_url}\n"
        storage += f"region : {region}\n" if region else ""
    return _CONFIG.format(output=output, s1_images=s1_images, tmp=tmp, dem_dir=dem_dir, tile=TILE,
                          day=day, resolution=resolution, gridspacing=4 * resolution,
                          processes=processes, publish=publish, storage=storage)


def demo_dem_tiles(folder: Path) -> None:
    """Flat SRTM3 tiles (0 m over the geoid) over the tile and a margin, once."""
    from .testing import write_dem_tiles

    if folder.is_dir() and any(folder.glob("*.hgt")):
        return
    lon0, lat0, lon1, lat1 = S2Tile.from_name(TILE).footprint.bounds
    write_dem_tiles(0.0, (lat0 - 0.05, lat1 + 0.05), (lon0 - 0.05, lon1 + 0.05), folder, kind="srtm3")


def write_demo(out_dir: str | os.PathLike, lines: int = 3000, samples: int = 4000,
               resolution: float = 10.0, processes: int = 2, publish: bool = True) -> tuple[Path, Path]:
    """Write the example product, its DEM and `demo.cfg` in `out_dir` (kept if there)."""
    from .testing import SyntheticGRD, write_grd

    out = Path(out_dir).resolve()
    (out / "s1").mkdir(parents=True, exist_ok=True)
    existing = sorted((out / "s1").glob("S1*_IW_GRDH_*.SAFE"))
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=lines, samples=samples, sigma0_db=-12.0)
    product = existing[0] if existing else write_grd(spec, out / "s1")
    demo_dem_tiles(out / "dem")
    config = out / "demo.cfg"
    config.write_text(demo_config(output=f"{out}/output", s1_images=f"{out}/s1", tmp=f"{out}/tmp",
                                  dem_dir=f"{out}/dem", day=spec.start[:10], resolution=resolution,
                                  processes=processes, publish=publish))
    return product, config


def run_demo(out_dir: str | os.PathLike, lines: int = 3000, samples: int = 4000,
             resolution: float = 10.0, processes: int = 2, progress: bool | None = None,
             publish: bool = True) -> DemoRun:
    """Write the example (`write_demo`), then plan and run `demo.cfg` with the local runner."""
    from .config import load_request
    from .plan.request import plan_request
    from .runners.local import run_plan

    product, config = write_demo(out_dir, lines, samples, resolution, processes, publish)
    request = load_request(config)
    plan = plan_request(request, "s1_process")
    report = run_plan(plan, processes=request.processing.nb_parallel_processes, progress=progress)
    return DemoRun(product, config, plan, report)
