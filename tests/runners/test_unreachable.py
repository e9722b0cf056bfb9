"""`runners.unreachable`: each S3 client's words for an endpoint that is down become one typed
error naming the endpoint; other errors are left alone. The clients are real, talking to a
loopback port nothing listens on."""

from __future__ import annotations

import socket

import pytest
import rasterio

from s1tiling_cloud.exceptions import StorageUnreachableError, exit_code_for
from s1tiling_cloud.runners.unreachable import storage_unreachable
from s1tiling_cloud.store import Store


@pytest.fixture
def dead_endpoint() -> str:
    with socket.socket() as sock:  # a port that was free: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _options(endpoint: str) -> dict:
    return {"key": "testing", "secret": "testing", "endpoint_url": endpoint, "region": "us-east-1",
            "addressing_style": "path"}


def test_botocore_under_s3fs(dead_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(Exception) as raised:
        Store(_options(dead_endpoint)).exists("s3://bucket/key.tif")
    error = storage_unreachable(raised.value)
    assert isinstance(error, StorageUnreachableError), repr(raised.value)
    assert dead_endpoint in str(error) and exit_code_for(error) == 78


def test_gdal_vsis3(dead_endpoint):
    store = Store(_options(dead_endpoint))
    with store.gdal_env(GDAL_HTTP_MAX_RETRY="0"), \
            pytest.raises(rasterio.errors.RasterioIOError) as raised:
        rasterio.open(store.gdal_path("s3://bucket/key.tif"))
    error = storage_unreachable(raised.value, endpoint=dead_endpoint)
    assert isinstance(error, StorageUnreachableError), str(raised.value)
    assert dead_endpoint in str(error)


def test_other_errors_are_left_alone():
    assert storage_unreachable(FileNotFoundError("s3://bucket/key.tif")) is None
    assert storage_unreachable(ValueError("refused")) is None


def test_a_stage_that_cannot_reach_the_storage_ends_the_run_with_78(dead_endpoint):
    from s1tiling_cloud.runners.report import FAILED, NodeOutcome, situation_of
    from s1tiling_cloud.runners.worker import describe

    error = describe(StorageUnreachableError(dead_endpoint, "refused"))
    situation = situation_of([NodeOutcome("n", "ortho", "ortho", FAILED, error=error)])
    assert situation.unreachable == dead_endpoint
    assert (situation.nb_computation_errors, situation.code) == (1, 78)
