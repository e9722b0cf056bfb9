"""The bundled example: a synthetic Sentinel-1 GRD over tile 31TCJ taken through the S1Tiling
chain, offline, as a user runs it: a product in `DIR/s1`, SRTM DEM tiles in `DIR/dem`, a
`DIR/demo.cfg` request (no download, σ°, border masks and quicklooks), then the request planned
and run by the local runner into `DIR/output`, whose `index.html` shows what was made.

The product sees the demo landscape (`testing.demo_scene`: water, fields, forest, a town, hills
and a steep massif, corner reflectors) at 20 m pixels over ~100 × 100 km, most of the tile,
and the outputs are made at 20 m: big enough to look like an acquisition, small enough to run
in a couple of minutes on two cores."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .geo.s2tile import S2Tile
from .plan.model import Plan
from .runners.report import RunReport

TILE = "31TCJ"
#: The product's size (pixels of PIXEL_SPACING metres), the outputs' resolution (m), and the
#: quicklooks' size (% of the outputs').
LINES, SAMPLES, PIXEL_SPACING = 5000, 5000, 20.0
RESOLUTION = 20.0
QUICKLOOK_RATIO = 10
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
ratio : {ratio}

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
                endpoint_url: str | None = None, region: str | None = None,
                quicklook_ratio: int = 5) -> str:
    """The demo's `.cfg` text for these folders (local or s3://; `endpoint_url` and `region`
    make its `[Storage]` section, the credentials staying in the environment)."""
    storage = ""
    if endpoint_url:
        storage = f"\n[Storage]\nendpoint_url : {endpoint_url}\n"
        storage += f"region : {region}\n" if region else ""
    return _CONFIG.format(output=output, s1_images=s1_images, tmp=tmp, dem_dir=dem_dir, tile=TILE,
                          day=day, resolution=resolution, gridspacing=4 * resolution,
                          processes=processes, publish=publish, storage=storage,
                          ratio=quicklook_ratio)


def demo_scene():
    """The demo landscape, centred on the tile."""
    from .testing.demo_scene import DemoScene

    centre = S2Tile.from_name(TILE).footprint.centroid
    return DemoScene(round(centre.y, 4), round(centre.x, 4))


def demo_dem_tiles(folder: Path, relief: bool = False) -> None:
    """SRTM3 tiles over the tile and a margin, once: the demo scene's relief, or flat (0 m
    over the geoid)."""
    from .testing import write_dem_tiles

    if folder.is_dir() and any(folder.glob("*.hgt")):
        return
    lon0, lat0, lon1, lat1 = S2Tile.from_name(TILE).footprint.bounds
    write_dem_tiles(demo_scene().height if relief else 0.0, (lat0 - 0.05, lat1 + 0.05),
                    (lon0 - 0.05, lon1 + 0.05), folder, kind="srtm3")


def demo_spec(lines: int = LINES, samples: int = SAMPLES):
    """The demo product's spec (`testing.SyntheticGRD`) over the demo scene."""
    from .testing.demo_scene import demo_spec as spec_of

    return spec_of(demo_scene(), lines, samples, PIXEL_SPACING)


def write_demo(out_dir: str | os.PathLike, lines: int = LINES, samples: int = SAMPLES,
               resolution: float = RESOLUTION, processes: int = 2, publish: bool = True
               ) -> tuple[Path, Path]:
    """Write the example product, its DEM and `demo.cfg` in `out_dir` (kept if there)."""
    from .testing import write_grd

    out = Path(out_dir).resolve()
    (out / "s1").mkdir(parents=True, exist_ok=True)
    existing = sorted((out / "s1").glob("S1*_IW_GRDH_*.SAFE"))
    spec = demo_spec(lines, samples)
    product = existing[0] if existing else write_grd(spec, out / "s1")
    demo_dem_tiles(out / "dem", relief=True)
    config = out / "demo.cfg"
    config.write_text(demo_config(output=f"{out}/output", s1_images=f"{out}/s1", tmp=f"{out}/tmp",
                                  dem_dir=f"{out}/dem", day=spec.start[:10], resolution=resolution,
                                  processes=processes, publish=publish,
                                  quicklook_ratio=QUICKLOOK_RATIO))
    return product, config


def run_demo(out_dir: str | os.PathLike, lines: int = LINES, samples: int = SAMPLES,
             resolution: float = RESOLUTION, processes: int = 2, progress: bool | None = None,
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
