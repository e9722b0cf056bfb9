"""Fixtures of the STAC tests: a small end-to-end run, the offline schemas, a real STAC API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import STAC_SCHEMAS
from tests.stac import pgstac_server
from tests.stac.chain import run_chain

SCHEMAS = STAC_SCHEMAS


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    """(products folder, [ProductFiles]) of 4 products: 2 relative orbits × 2 days on 31TCJ."""
    return run_chain(tmp_path_factory.mktemp("stac-chain"))


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip(f"STAC extension schemas not found at {SCHEMAS}")
    return SCHEMAS


@pytest.fixture(scope="session")
def stac_api():
    """URL of stac-fastapi-pgstac (Transactions) on PostgreSQL 15 + PostGIS, for the session."""
    reason = pgstac_server.missing_reason()
    if reason:
        pytest.skip(reason)
    api = pgstac_server.start()
    try:
        yield api.url
    finally:
        pgstac_server.stop(api)
