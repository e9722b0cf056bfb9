"""Shared test fixtures: where `../shared` is, and the real products in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.s3server"]  # the `s3_server` fixture: moto_server over HTTP

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"
SAFE_DIR = FIXTURES / "safe"
#: Argo's JSON schema and the STAC extension schemas: upstream files, not in the repository nor in
#: the package; the tests hand them to the validators (and skip without them).
ARGO_SCHEMA = Path(os.environ.get("S1TILING_ARGO_SCHEMA") or SHARED / "schemas" / "argo" / "schema.json")
STAC_SCHEMAS = Path(os.environ.get("S1TILING_STAC_SCHEMAS") or SHARED / "schemas" / "stac")

GRD_ROME = "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
GRD_2021 = "S1B_IW_GRDH_1SDV_20210401T052623_20210401T052648_026269_032297_ECC8.SAFE"
SLC_2021 = "S1B_IW_SLC__1SDV_20210401T052622_20210401T052650_026269_032297_EFA4.SAFE"
SLC_2021_ZIP = "S1B_IW_SLC__1SDV_20210401T052622_20210401T052650_026269_032297_EFA4.zip"
SLC_2022 = "S1A_IW_SLC__1SDV_20220104T170557_20220104T170624_041314_04E951_F1F1.SAFE"
ALL_PRODUCTS = [GRD_ROME, GRD_2021, SLC_2021, SLC_2021_ZIP, SLC_2022]

needs_fixtures = pytest.mark.skipif(
    not SAFE_DIR.is_dir(), reason=f"real Sentinel-1 fixtures not found at {SAFE_DIR}"
)


@pytest.fixture
def fixture_path():
    """Path of a named product of ../shared/fixtures/safe (skips when ../shared is absent)."""
    if not SAFE_DIR.is_dir():
        pytest.skip(f"real Sentinel-1 fixtures not found at {SAFE_DIR}")

    def path(name: str) -> Path:
        return SAFE_DIR / name

    return path
