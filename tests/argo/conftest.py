"""Fixtures of the Argo tests: Argo's schema (skips without ../shared), a request file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ARGO_SCHEMA

REQUEST_CFG = """\
[Paths]
output: s3://campaign/out
s1_images: s3://campaign/s1
tmp: s3://campaign/tmp
dem_dir: s3://dem/srtm
[DataSource]
download: True
roi_by_tiles: 33TTG
polarisation: VV-VH
first_date: 2021-12-01
last_date: 2021-12-31
[Mask]
generate_border_mask: True
[Processing]
calibration: sigma
remove_thermal_noise: True
output_spatial_resolution: 10.
orthorectification_gridspacing: 40
tiles: 33TTG
nb_parallel_processes: 2
ram_per_process: 4096
nb_otb_threads: 4
[Storage]
endpoint_url: http://minio.storage:9000
"""


@pytest.fixture(scope="session")
def argo_schema() -> Path:
    if not ARGO_SCHEMA.is_file():
        pytest.skip(f"Argo's JSON schema not found at {ARGO_SCHEMA} (../shared/schemas/argo, "
                    "or $S1TILING_ARGO_SCHEMA)")
    return ARGO_SCHEMA


@pytest.fixture
def request_cfg(tmp_path: Path) -> Path:
    path = tmp_path / "request.cfg"
    path.write_text(REQUEST_CFG)
    return path
