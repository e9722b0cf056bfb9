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
from s1tiling_cloud.demo import demo_config, demo_dem_tiles
from s1tiling_cloud.plan.model import Plan
from s1tiling_cloud.plan.request import plan_request
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from tests.s3server import REGION, upload

RESOLUTION = 60.0
SPEC = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800, sigma0_db=-12.0)



def upload_inputs(endpoint: str, bucket: str, folder: Path) -> str:
    """Write the product and the DEM tiles under `folder`, upload them to `bucket`; the s3://
    prefix holding `s1/` and `dem/`."""
    write_grd(SPEC, folder / "s1")
    demo_dem_tiles(folder / "dem")
    upload(endpoint, bucket, folder / "s1", "inputs")
    upload(endpoint, bucket, folder / "dem", "inputs")
    return f"s3://{bucket}/inputs"


def config_text(endpoint: str, inputs: str, run: str) -> str:
    """The demo's `.cfg` with inputs under `inputs`, outputs and tmp under `run`, one process."""
    return demo_config(output=f"{run}/output", s1_images=f"{inputs}/s1", tmp=f"{run}/tmp",
                       dem_dir=f"{inputs}/dem", day=SPEC.start[:10], resolution=RESOLUTION,
                       processes=1, endpoint_url=endpoint, region=REGION)


def small_request(endpoint: str, inputs: str, run: str) -> Request:
    return load_request(f"{run}/request.cfg", text=config_text(endpoint, inputs, run))


def small_plan(endpoint: str, inputs: str, run: str) -> Plan:
    """The plan of the request (its checks, the scan of `s1_images` on S3, the DAG)."""
    return plan_request(small_request(endpoint, inputs, run), "s1_process")
