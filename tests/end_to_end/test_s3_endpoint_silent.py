"""The fault matrix's storage cell, silent: an S3 endpoint that accepts connections and never
answers (a dead proxy, a partition, a load balancer without a backend).

The endpoint is a `TcpGate` in front of the tests' S3 server, `silence()`d: it accepts every
connection and holds it without a byte back. Its time limits come from the configuration
(`[Storage] connect_timeout`, `read_timeout`, `max_attempts`, made small here), as a user sets
them. Each client gives up within them, and the run says so as the endpoint-down case does:
`StorageUnreachableError` naming the endpoint, exit code 78; what was written before stays whole.

Every call runs in a thread joined with a generous limit, only so that a hang fails the test
instead of blocking it (no duration is asserted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from affine import Affine

from s1tiling_cloud.config.model import StorageSection
from s1tiling_cloud.exceptions import StorageUnreachableError
from s1tiling_cloud.runners.unreachable import storage_unreachable
from s1tiling_cloud.store import Store
from tests.s3server import KEY, REGION, SECRET, s3_client
from tests.tcp_gate import TcpGate

from .conftest import keys, write_request
from .test_s3_endpoint_down import _run_to_end

#: Small limits, as `[Storage]` takes them: a silent request fails after about a second.
LIMITS = {"connect_timeout": "1", "read_timeout": "1", "max_attempts": "1"}
#: How long one store call may take before the test calls it a hang (it takes seconds).
HANG_S = 120


@pytest.fixture
def gate(s3_server):
    host, port = s3_server.split("://", 1)[1].rsplit(":", 1)
    found = TcpGate((host, int(port)))
    try:
        yield found
    finally:
        found.close()


def _store(endpoint: str, scratch) -> Store:
    """A store configured as a request's `[Storage]` with `LIMITS` configures it."""
    section = StorageSection(endpoint_url=endpoint, region=REGION, addressing_style="path",
                             connect_timeout=float(LIMITS["connect_timeout"]),
                             read_timeout=float(LIMITS["read_timeout"]),
                             max_attempts=int(LIMITS["max_attempts"]))
    options = {**section.storage_options(), "key": KEY, "secret": SECRET}
    return Store(options, scratch_dir=scratch, environ={})


def _unreachable(call: Callable[[], Any], endpoint: str) -> StorageUnreachableError:
    """The typed error `call` ends with (in a thread: a hang fails the test, not the run)."""
    outcome: dict[str, BaseException] = {}

    def target() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 (whatever it is, the test judges it)
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_S)
    assert not thread.is_alive(), f"a call to a silent endpoint did not end in {HANG_S} s"
    assert "error" in outcome, "a call to a silent endpoint succeeded"
    typed = storage_unreachable(outcome["error"], endpoint)
    assert isinstance(typed, StorageUnreachableError), repr(outcome["error"])
    assert typed.endpoint == endpoint
    return typed


@pytest.mark.s3
def test_s3fs_calls_give_up_on_a_silent_endpoint(s3_server, gate, tmp_path):  # noqa: F811
    bucket = "silent-s3fs"
    client = s3_client(s3_server)
    client.create_bucket(Bucket=bucket)
    store = _store(gate.endpoint, tmp_path / "scratch")
    kept = f"s3://{bucket}/kept.json"
    store.write_bytes(kept, b'{"written": "before"}')

    gate.silence()
    _unreachable(lambda: store.exists(kept), gate.endpoint)
    _unreachable(lambda: store.read_bytes(kept), gate.endpoint)
    _unreachable(lambda: store.write_bytes(kept, b'{"written": "during"}'), gate.endpoint)
    _unreachable(lambda: store.write_bytes(f"s3://{bucket}/new.json", b"{}"), gate.endpoint)

    # Nothing written is lost or half-replaced, nothing new half-written, no scratch left.
    gate.open()
    assert store.read_bytes(kept) == b'{"written": "before"}'
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["kept.json"]
    assert not list((tmp_path / "scratch").iterdir())


@pytest.mark.s3
def test_gdal_reads_give_up_on_a_silent_endpoint(s3_server, gate, tmp_path):  # noqa: F811
    bucket = "silent-gdal"
    s3_client(s3_server).create_bucket(Bucket=bucket)
    store = _store(gate.endpoint, tmp_path / "scratch")
    uri = f"s3://{bucket}/sigma.tif"
    pixels = np.arange(64 * 48, dtype=np.float32).reshape(64, 48)
    store.write_cog(uri, pixels, crs="EPSG:32631", transform=Affine(10, 0, 5e5, 0, -10, 5e6),
                    nodata=0, tags={"WRITTEN": "before"}, overviews=None)

    gate.silence()
    # `read_tags` first drops what GDAL cached of the object (an open that fails quietly),
    # then opens it with `open_raster`: both within the limits.
    _unreachable(lambda: store.read_tags(uri), gate.endpoint)

    gate.open()
    assert store.read_tags(uri)["WRITTEN"] == "before"
    with store.open_raster(uri) as dataset:
        np.testing.assert_array_equal(dataset.read(1), pixels)


@pytest.mark.s3
@pytest.mark.slow
def test_a_run_against_a_silent_endpoint_ends_with_the_typed_error(moto, provider, cli_env,
                                                                   tmp_path):
    """A whole request, its `[Storage]` endpoint silent from the start: exit 78, one line
    naming the endpoint, no traceback, no worker left, nothing written to its bucket."""
    client = moto.client()
    bucket = "silent-run"
    client.create_bucket(Bucket=bucket)
    host, port = moto.endpoint.split("://", 1)[1].rsplit(":", 1)
    gate = TcpGate((host, int(port)))
    try:
        config = write_request(tmp_path / "request.cfg", bucket=bucket, endpoint=gate.endpoint,
                               eodag_config=provider.configs["good"], Storage=LIMITS)
        gate.silence()
        code, output, _ = _run_to_end(config, cli_env, tmp_path)
    finally:
        gate.close()
    assert code == 78, output[-4000:]
    assert f"StorageUnreachableError: the storage endpoint {gate.endpoint} cannot be reached" \
        in output, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    assert keys(client, bucket) == []
