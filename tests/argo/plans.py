"""Realistic plans for the Argo tests, made by the real planner (`plan.build.build_plan`) from
candidates as a provider search returns them (no product files needed: nothing runs)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from s1tiling_cloud.config.model import (
    DataSourceSection,
    MaskSection,
    PathsSection,
    ProcessingSection,
    QuicklookSection,
    Request,
    StacSection,
    StorageSection,
)
from s1tiling_cloud.plan.build import build_plan
from s1tiling_cloud.plan.model import Plan
from s1tiling_cloud.search.model import S1Candidate, SearchOutcome

FOOTPRINT = "POLYGON((0 42, 4 42, 4 45, 0 45, 0 42))"
STORAGE = StorageSection(endpoint_url="http://minio.storage:9000", region="eu-west-1")


def request(tiles: list[str], *, calibration: str = "sigma", days: int = 1) -> Request:
    first = date(2021, 12, 1)
    return Request(
        paths=PathsSection(output="s3://campaign/out", s1_images="s3://campaign/s1", tmp="s3://campaign/tmp",
                           dem_dir="s3://dem/srtm"),
        data_source=DataSourceSection(download=True, roi_by_tiles=list(tiles), first_date=first,
                                      last_date=first + timedelta(days=days), polarisation="VV-VH"),
        mask=MaskSection(generate_border_mask=True),
        processing=ProcessingSection(calibration=calibration, remove_thermal_noise=True,
                                     output_spatial_resolution=10.0, orthorectification_gridspacing=40.0,
                                     tiles=list(tiles), nb_parallel_processes=2, ram_per_process=4096,
                                     nb_otb_threads=2),
        quicklook=QuicklookSection(generate=True),
        stac=StacSection(publish=True),
        storage=STORAGE)


def candidate(day: int, orbit: int = 22, provider: str = "cop_dataspace", slice_: int = 0) -> S1Candidate:
    start = datetime(2021, 12, 1, 5, 11, 22, tzinfo=UTC) + timedelta(days=day, seconds=25 * slice_)
    stop = start + timedelta(seconds=25)
    stamp = f"{start:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}"
    pid = f"S1B_IW_GRDH_1SDV_{stamp}_030148_039993_{day:02d}{slice_:02d}"
    return S1Candidate(id=pid, platform="S1B", start=start, stop=stop, relative_orbit=orbit,
                       absolute_orbit=30148 + day, orbit_direction="DES", polarisations=["vv", "vh"],
                       footprint=FOOTPRINT, provider=provider,
                       eodag={"type": "Feature", "id": pid, "geometry": None,
                              "properties": {"eodag_provider": provider, "title": pid}})


def campaign(tiles: list[str], days: int, *, shared: bool = True, calibration: str = "sigma",
             scenario: str = "s1_process") -> Plan:
    """`days` acquisitions per tile; with `shared`, neighbouring tiles see the same products
    (one ingest for both), else each tile has its own products."""
    per_tile = {}
    for t, tile in enumerate(tiles):
        per_tile[tile] = [candidate(day, provider="cop_dataspace" if day % 2 else "peps",
                                    slice_=0 if shared else t) for day in range(days)]
    outcome = SearchOutcome(per_tile=per_tile, found=sum(map(len, per_tile.values())))
    return build_plan(request(tiles, calibration=calibration, days=days), outcome, scenario)
