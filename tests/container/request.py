"""The small request of the container test, as a user writes it: a `.cfg` whose inputs and
outputs are all in object storage (the S3 API server), planned as the workflow's first pod does.

One synthetic GRD over Toulouse (600 × 800 pixels) in `s1_images`, nothing to download, flat SRTM
tiles in `dem_dir`, σ° at 60 m onto 31TCJ with border masks, quicklooks and the static STAC
catalog. `[Storage]` names the endpoint; the credentials are only in the environment.
"""

from __future__ import annotations

from pathlib import Path

from s1tiling_cloud.config import load_request
from s1tiling_cloud.config.model import Request
from s1tiling_cloud.geo.s2tile import S2Tile
from s1tiling_cloud.plan.model import Plan
from s1tiling_cloud.plan.request import plan_request
from s1tiling_cloud.testing import SyntheticGRD, write_dem_tiles, write_grd
from tests.s3server import REGION, upload

TILE = "31TCJ"
RESOLUTION = 60.0
SPEC = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800, sigma0_db=-12.0)

CONFIG = """\
[Paths]
s1_images : {inputs}/s1
dem_dir : {inputs}/dem
output : {run}/output
tmp : {run}/tmp

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
nb_parallel_processes : 1
ram_per_process : 1024
nb_otb_threads : 1

[Storage]
endpoint_url : {endpoint}
region : {region}

[Stac]
publish : True
"""


def upload_inputs(endpoint: str, bucket: str, folder: Path) -> str:
    """Write the product and the DEM tiles under `folder`, upload them to `bucket`; the s3://
    prefix holding `s1/` and `dem/`."""
    write_grd(SPEC, folder / "s1")
    lon0, lat0, lon1, lat1 = S2Tile.from_name(TILE).footprint.bounds
    write_dem_tiles(0.0, (lat0 - 0.05, lat1 + 0.05), (lon0 - 0.05, lon1 + 0.05), folder / "dem",
                    kind="srtm3")
    upload(endpoint, bucket, folder / "s1", "inputs")
    upload(endpoint, bucket, folder / "dem", "inputs")
    return f"s3://{bucket}/inputs"


def config_text(endpoint: str, inputs: str, run: str) -> str:
    """The `.cfg` of the request: inputs under `inputs`, outputs and tmp under `run`."""
    return CONFIG.format(inputs=inputs, run=run, endpoint=endpoint, region=REGION, tile=TILE,
                         day=SPEC.start[:10], resolution=RESOLUTION, gridspacing=4 * RESOLUTION)


def small_request(endpoint: str, inputs: str, run: str) -> Request:
    return load_request(f"{run}/request.cfg", text=config_text(endpoint, inputs, run))


def small_plan(endpoint: str, inputs: str, run: str) -> Plan:
    """The plan of the request (its checks, the scan of `s1_images` on S3, the DAG)."""
    return plan_request(small_request(endpoint, inputs, run), "s1_process")
