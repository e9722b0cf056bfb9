"""The runner tests' products: two small synthetic GRDs over 31TCJ and flat DEM tiles, made
once per session and read by every test (a test that spoils a product copies it first)."""

from __future__ import annotations

import pytest

from tests.plan.requests import write_scene


@pytest.fixture(scope="session")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    products, dem = write_scene(folder)
    return products, dem
