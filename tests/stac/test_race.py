"""Two publishers racing on one static catalog lose no item and never leave torn JSON.

Real processes, on local disk (file lock + atomic replace) and on the S3 API server
(conditional writes with If-Match / If-None-Match, read back after writing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from s1tiling_cloud.stac.documents import JsonDocuments
from s1tiling_cloud.stac.item import build_item, item_dict
from s1tiling_cloud.stac.static_catalog import StaticCatalog
from s1tiling_cloud.stac.validate import validate_catalog
from s1tiling_cloud.store import Store
from tests.s3server import gdal_env, s3_client, storage_options

REPO = Path(__file__).resolve().parents[2]


def _race(template: Path, catalog: str, count: int, options: dict | None, env: dict) -> None:
    start = time.time() + 3.0
    workers = [subprocess.Popen([sys.executable, "-m", "tests.stac.race_worker", str(template),
                                 catalog, prefix, str(count), str(start), json.dumps(options or {})],
                                cwd=REPO, env={**os.environ, **env}, stderr=subprocess.PIPE)
               for prefix in ("a", "b")]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors.decode()[-3000:]


def _check(catalog: str, options: dict | None, expected: int, schema_dir: Path) -> None:
    items = [doc["id"] for _, doc in StaticCatalog(catalog, options).items()]
    assert sorted(items) == sorted(f"{p}-{i:03d}" for p in "ab" for i in range(expected))
    documents = JsonDocuments(options)
    for uri in documents.find(catalog.rsplit("/", 1)[0]):
        assert documents.read(uri) is not None  # every document parses
    report = validate_catalog(catalog, schema_dir=schema_dir, storage_options=options)
    assert report.ok and report.items == 2 * expected, report.errors[:3]


@pytest.fixture(scope="module")
def template(chain, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("race") / "item.json"
    path.write_text(json.dumps(item_dict(build_item(chain[1][0], Store()))))
    return path


def test_two_local_publishers_lose_nothing(template, tmp_path, schema_dir):
    catalog = str(tmp_path / "catalog.json")
    _race(template, catalog, 40, None, {})
    _check(catalog, None, 40, schema_dir)


@pytest.mark.s3
def test_two_s3_publishers_lose_nothing(template, s3_server, schema_dir):
    s3_client(s3_server).create_bucket(Bucket="race")
    options = storage_options(s3_server)
    catalog = "s3://race/stac/catalog.json"
    _race(template, catalog, 25, options, gdal_env(s3_server))
    _check(catalog, options, 25, schema_dir)
