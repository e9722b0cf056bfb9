"""Requests and search outcomes built in Python for the plan and runner tests: a synthetic
product's candidate as the search would return it, and a `.cfg`-like request around it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from s1tiling_cloud.config.model import (
    DataSourceSection,
    MaskSection,
    PathsSection,
    ProcessingSection,
    QuicklookSection,
    Request,
    StacSection,
)
from s1tiling_cloud.safe import Sentinel1Product
from s1tiling_cloud.search.model import S1Candidate, SearchOutcome


def _utc(value: np.datetime64) -> datetime:
    return datetime.fromisoformat(str(value.astype("datetime64[us]"))).replace(tzinfo=UTC)


def local_candidate(product: str | Path, location: str | None = None) -> S1Candidate:
    """The candidate of a product on disk (what a scan of `s1_images` finds)."""
    s1 = Sentinel1Product(str(product))
    m = s1.manifest
    return S1Candidate(
        id=s1.name, platform=f"S1{m.mission_letter}", start=_utc(m.start_time),
        stop=_utc(m.stop_time), relative_orbit=m.relative_orbit, absolute_orbit=m.absolute_orbit,
        orbit_direction="DES" if m.orbit_state.lower().startswith("d") else "ASC",
        polarisations=[p.lower() for p in m.polarizations], footprint=m.footprint_wkt,
        location=str(location or product), provider="local")


def remote_candidate(candidate: S1Candidate) -> S1Candidate:
    """The same product as a search of a provider finds it: to be downloaded."""
    return dataclasses.replace(candidate, location=None, provider="test",
                               eodag={"type": "Feature", "id": candidate.id, "properties": {}})


def make_request(root: str, *, tiles=("31TCJ",), calibration: str = "sigma", resolution: float = 60.0,
                 dem_dir: str | None = None, mask: bool = True, quicklook: bool = False,
                 publish: bool = False, polarisation: str = "VV-VH", day: date = date(2020, 1, 8),
                 nb_parallel_processes: int = 2, **processing) -> Request:
    root = root.rstrip("/")
    return Request(
        paths=PathsSection(output=f"{root}/out", s1_images=f"{root}/s1", tmp=f"{root}/tmp",
                           dem_dir=dem_dir or f"{root}/dem"),
        data_source=DataSourceSection(download=False, roi_by_tiles=list(tiles), first_date=day,
                                      last_date=day, polarisation=polarisation,
                                      relative_orbit_list=[7] if calibration == "normlim" else []),
        mask=MaskSection(generate_border_mask=mask),
        processing=ProcessingSection(calibration=calibration, remove_thermal_noise=True,
                                     output_spatial_resolution=resolution,
                                     orthorectification_gridspacing=4 * resolution, tiles=list(tiles),
                                     nb_parallel_processes=nb_parallel_processes, ram_per_process=1024,
                                     nb_otb_threads=1, **processing),
        quicklook=QuicklookSection(generate=quicklook),
        stac=StacSection(publish=publish),
        metadata={"PROJECT": "s1tiling-cloud tests"})


def outcome_for(per_tile: dict[str, list[S1Candidate]], **values) -> SearchOutcome:
    found = len({c.id for cs in per_tile.values() for c in cs})
    return SearchOutcome(per_tile=per_tile, found=found, **values)


#: Two products of relative orbit 7 over 31TCJ, 12 days apart (small: seconds to process).
SCENE_PRODUCTS = (("2020-01-08T04:41:50", 30704), ("2020-01-20T04:41:50", 30879))


def write_scene(folder: Path) -> tuple[list[Path], Path]:
    """The products of `SCENE_PRODUCTS` in `folder/s1` and flat SRTM3 tiles in `folder/dem`."""
    from s1tiling_cloud.geo.s2tile import S2Tile
    from s1tiling_cloud.testing import SyntheticGRD, write_dem_tiles, write_grd

    products = [write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800,
                                       start=start, absolute_orbit=orbit), folder / "s1")
                for start, orbit in SCENE_PRODUCTS]
    lon0, lat0, lon1, lat1 = S2Tile.from_name("31TCJ").footprint.bounds
    write_dem_tiles(0.0, (lat0 - 0.05, lat1 + 0.05), (lon0 - 0.05, lon1 + 0.05), folder / "dem",
                    kind="srtm3")
    return products, folder / "dem"


CONFIG = """\
[Paths]
output : {root}/out
s1_images : {s1_images}
tmp : {root}/tmp
dem_dir : {dem_dir}

[DataSource]
download : False
roi_by_tiles : {tiles}
polarisation : VV-VH
first_date : 2020-01-01
last_date : 2020-01-31
relative_orbit_list : 7

[Mask]
generate_border_mask : True

[Processing]
calibration : {calibration}
remove_thermal_noise : True
output_spatial_resolution : 60
orthorectification_gridspacing : 240
tiles : {tiles}
nb_parallel_processes : {processes}
ram_per_process : 1024
nb_otb_threads : 1
produce_lia_map : True

[Metadata]
PROJECT : s1tiling-cloud tests

[Stac]
publish : False
"""


def write_config(path: Path, *, root: Path, s1_images: Path, dem_dir: Path, tiles: str = "31TCJ",
                 calibration: str = "sigma", processes: int = 1) -> Path:
    path.write_text(CONFIG.format(root=root, s1_images=s1_images, dem_dir=dem_dir, tiles=tiles,
                                  calibration=calibration, processes=processes))
    return path
