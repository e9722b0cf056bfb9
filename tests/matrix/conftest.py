"""The scenario × situation matrix: S1Tiling's programs run end to end through their commands
(`S1Processor`, `S1LIAMap`…, as console scripts: a subprocess each), with the local runner, on
small synthetic products already in `s1_images` (no download), over 31TCJ unless said.

Products (200 × 250 pixels at 40 m: ~8 × 10 km, seconds to process) by role:

* `A`: S1A, 2020-01-08 04:41:50, absolute orbit 30704 (relative 7, descending);
* `A_next`: the next slice of the same pass (a same-day pair with `A`);
* `A_later`: the same place 12 days later (absolute 30879, relative 7);
* `A_asc`: relative orbit 73, ascending, 2020-01-09;
* `A_vv`: a VV-only (1SSV) product on 2020-01-08 (another pass time, same orbit);
* `C_old` / `C_new`: S1C before and after its re-phasing (absolute 8000 / 8100: offsets
  172 / 99), `D`: S1D (absolute 2000, offset 42);
* `coast`: S1A over 32VKM (Norway's coast, 59.9 N 4.6 E), whose western cells are sea;
* `equator`: S1A over 34MCE, whose north edge is the equator.

DEM: flat SRTM3 cells at 0 m, only those that hold land for `coast`, only the southern row
for `equator`. Maps from orbit files: the EOF of `A`'s orbit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import rasterio

from s1tiling_cloud.geo.s2tile import S2Tile
from s1tiling_cloud.report import PAGE, RUN_FACTS
from s1tiling_cloud.testing import SyntheticGRD, write_dem_tiles, write_grd
from tests.providers.eof_provider import write_eof

ROOT = Path(__file__).resolve().parents[2]
TILE = "31TCJ"
#: Output spacing of the requests: coarse, so that a run takes seconds.
RESOLUTION = 300

_BASE = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=250, pixel_spacing=40.0,
                     speckle=False)


def _at(tile: str, **changes) -> SyntheticGRD:
    centre = S2Tile.from_name(tile).footprint.centroid
    return _BASE.replace(**{"center_lat": centre.y, "center_lon": centre.x, **changes})


SPECS: dict[str, SyntheticGRD] = {
    "A": _BASE,
    # 1.2 s later, ~8 km further along the descending track: the next slice of the pass.
    "A_next": _BASE.replace(center_lat=43.6 - 0.0708, center_lon=1.44 - 0.0172,
                            start="2020-01-08T04:41:51.200"),
    "A_later": _BASE.replace(start="2020-01-20T04:41:50", absolute_orbit=30704 + 175),
    "A_asc": _BASE.replace(start="2020-01-09T17:50:00", absolute_orbit=30770,
                           orbit_direction="ASCENDING"),
    "A_vv": _BASE.replace(start="2020-01-08T04:40:10", polarisations=("VV",)),
    "C_old": _BASE.replace(platform="S1C", start="2026-05-01T04:41:50", absolute_orbit=8000),
    "C_new": _BASE.replace(platform="S1C", start="2026-07-01T04:41:50", absolute_orbit=8100),
    "D": _BASE.replace(platform="S1D", start="2026-07-02T04:41:50", absolute_orbit=2000),
    "coast": _at("32VKM", center_lon=4.6, start="2020-02-01T05:30:00", absolute_orbit=31061),
    "equator": _at("34MCE", center_lat=-0.3, start="2020-03-01T04:00:00", absolute_orbit=31481),
}


@dataclass
class Archive:
    """The products by role, the DEM folders and the orbit files."""

    folder: Path
    products: dict[str, Path]
    dem: Path
    eof: Path

    def relative_orbit(self, role: str) -> int:
        return SPECS[role].relative_orbit

    def s1_images(self, folder: Path, roles) -> Path:
        """A `s1_images` folder holding the products of `roles` (links: written once)."""
        target = folder / "s1"
        target.mkdir(parents=True, exist_ok=True)
        for role in roles:
            (target / self.products[role].name).symlink_to(self.products[role])
        return target


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Archive:
    folder = tmp_path_factory.mktemp("matrix")
    products = {role: write_grd(spec, folder / "products") for role, spec in SPECS.items()}
    dem = folder / "dem"
    lon0, lat0, lon1, lat1 = S2Tile.from_name(TILE).footprint.bounds
    write_dem_tiles(0.0, (lat0, lat1), (lon0, lon1), dem, kind="srtm3")
    write_dem_tiles(0.0, (59.1, 60.9), (4.1, 5.9), dem, kind="srtm3")  # 32VKM's land cells
    write_dem_tiles(0.0, (-0.9, -0.1), (19.1, 20.9), dem, kind="srtm3")  # 34MCE: S01 only
    eof = folder / "eof"
    write_eof(eof, SPECS["A"])
    return Archive(folder, products, dem, eof)


CONFIG = """\
[Paths]
output : {root}/out
s1_images : {s1_images}
tmp : {root}/tmp
dem_dir : {dem}
{extra_paths}
[DataSource]
download : False
roi_by_tiles : ALL
polarisation : {polarisation}
first_date : {first}
last_date : {last}
relative_orbit_list : {orbits}
{extra_source}
[Mask]
generate_border_mask : {mask}

[Processing]
calibration : {calibration}
remove_thermal_noise : True
output_spatial_resolution : {resolution}
orthorectification_gridspacing : {gridspacing}
tiles : {tiles}
nb_parallel_processes : 2
ram_per_process : 1024
nb_otb_threads : 1
produce_lia_map : True
{extra_processing}
[Filtering]
filter : {filter}
window_radius : 1
nblooks : 4.0
keep_non_filtered_products : True

[Metadata]
PROJECT : s1tiling-cloud matrix

[Stac]
publish : {publish}
"""


def write_config(root: Path, s1_images: Path, dem: Path, *, calibration: str = "sigma",
                 tiles: str = TILE, polarisation: str = "VV-VH", first: str = "2020-01-01",
                 last: str = "2026-12-31", orbits: str = "", mask: bool = True,
                 filter: str = "none", extra_paths: str = "", extra_source: str = "",
                 extra_processing: str = "", publish: bool = False) -> Path:
    path = root / "request.cfg"
    path.write_text(CONFIG.format(
        root=root, s1_images=s1_images, dem=dem, calibration=calibration, tiles=tiles,
        polarisation=polarisation, first=first, last=last, orbits=orbits, mask=mask,
        filter=filter, resolution=RESOLUTION, gridspacing=4 * RESOLUTION,
        extra_paths=extra_paths, extra_source=extra_source, extra_processing=extra_processing,
        publish=publish))
    return path


@dataclass
class Run:
    code: int
    output: str


def run_program(name: str, config: Path, *options: str, timeout: float = 600) -> Run:
    """S1Tiling's command `name` (its console script's entry point) on `config`, where S1Tiling
    runs it: in the request's folder."""
    code = (f"import sys; from s1tiling_cloud.cli import {name}; "
            f"sys.argv = [{name!r}, *sys.argv[1:]]; {name}()")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code, str(config), *options], cwd=config.parent,
                          env=env, capture_output=True, text=True, timeout=timeout)
    return Run(done.returncode, done.stdout + done.stderr)


#: The run's page (`index.html` and its facts), written into `out/` by a run that made something.
RUN_PAGE = frozenset({PAGE, RUN_FACTS})


def outputs(root: Path) -> set[str]:
    """Every file under `root/out`, relative to it, but the run's page."""
    out = root / "out"
    found = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} if out.exists() else set()
    return found - RUN_PAGE


def tags(path: Path) -> dict[str, str]:
    with rasterio.open(path) as dataset:
        return dataset.tags()


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def run_cell(tmp_path: Path, archive: Archive, roles, program: str = "S1Processor",
             **options) -> tuple[Run, set[str]]:
    """One cell: `program` on a request over the products of `roles`; its run and outputs."""
    config = write_config(tmp_path, archive.s1_images(tmp_path, roles), archive.dem, **options)
    run = run_program(program, config)
    found = outputs(tmp_path)
    if found:  # products made: the run's page says so beside them
        assert {name for name in RUN_PAGE if (tmp_path / "out" / name).is_file()} == RUN_PAGE
    return run, found
