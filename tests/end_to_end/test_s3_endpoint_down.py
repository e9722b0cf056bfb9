"""The fault matrix's storage cell: the S3 endpoint goes down, then comes back.

The run's `[Storage]` endpoint is a `TcpGate` in front of the tests' S3 server (whose objects
would be lost if it were stopped). With the gate closed a run ends promptly with the typed
error that names the endpoint (78, one line, no traceback) and leaves no process behind; with
the gate open again a re-run completes exactly the outputs of an uninterrupted run: the same
keys, rasters with the same pixels and tags, the STAC documents, and no temporary object.

Every wait has a timeout, and the clients' retries are bounded through their environment, so
that a hang fails the test instead of blocking it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

import pytest

from tests.runners.test_faults import _described, group_pids, wait_for
from tests.tcp_gate import TcpGate

from .conftest import (
    GOOD_BUCKET,
    PAIR,
    TILE,
    assert_same_rasters,
    cli_command,
    download,
    keys,
    rasters,
    run_cli,
    write_request,
)

pytestmark = [pytest.mark.s3, pytest.mark.slow]

#: botocore's and GDAL's retries and timeouts, bounded (a refused connection fails at once).
BOUNDED = {"AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "standard",
           "GDAL_HTTP_CONNECTTIMEOUT": "5", "GDAL_HTTP_TIMEOUT": "20"}
#: How long a run with its endpoint down may take to give up (it takes seconds).
GIVE_UP_S = 240


@pytest.fixture
def gate(moto):
    host, port = moto.endpoint.split("://", 1)[1].rsplit(":", 1)
    found = TcpGate((host, int(port)))
    try:
        yield found
    finally:
        found.close()


def _temporary(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return ".tmp" in name or name.startswith((".ingest-", "s1tc-"))


def _run_to_end(config, env, cwd, *, while_running=None) -> tuple[int, str, int]:
    """Run the CLI in its own process group until it ends (`GIVE_UP_S` at most: a hang fails);
    `while_running(process)` is called once it has started. Its code, output and pid."""
    process = subprocess.Popen(cli_command(config), env=env, cwd=cwd, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        if while_running is not None:
            while_running(process)
        output, _ = process.communicate(timeout=GIVE_UP_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"a run with its endpoint down did not end in {GIVE_UP_S} s:\n{output[-4000:]}")
    # No worker outlives the run.
    assert wait_for(lambda: not group_pids(process.pid), 60), _described(group_pids(process.pid))
    return process.returncode, output, process.pid


def _heights_made(client) -> bool:
    """Whether the tile's heights are in tmp: the pair's day ortho, which reads them, is next."""
    return any(k.endswith(".tif") for k in keys(client, GOOD_BUCKET, f"tmp/S2/{TILE}/"))


@pytest.mark.parametrize("when", ["before the run", "mid-run"])
def test_s3_endpoint_down_then_back(when, good_run, moto, gate, provider, cli_env, tmp_path):
    client = moto.client()
    bucket = GOOD_BUCKET  # its own bucket: the products' provenance tags name their inputs
    reference = rasters(download(client, bucket, "out/", tmp_path / "reference"))
    # The pair's products, STAC item included, are to be made again.
    for key in [k for k in keys(client, bucket, "out/") if PAIR[0] in k]:
        client.delete_object(Bucket=bucket, Key=key)
    # The good run's request, but through the gate (the provider's catalog, another service,
    # stays reachable).
    config = write_request(tmp_path / "request.cfg", bucket=bucket, endpoint=gate.endpoint,
                           eodag_config=provider.configs["good"])
    env = {**cli_env, **BOUNDED}

    def close_mid_run(process) -> None:
        assert wait_for(lambda: _heights_made(client) or process.poll() is not None, 180)
        assert process.poll() is None, "the run ended before the endpoint went down"
        gate.close()

    if when == "before the run":
        gate.close()
    code, output, _ = _run_to_end(config, env, tmp_path,
                                  while_running=close_mid_run if when == "mid-run" else None)
    assert code == 78, output[-4000:]
    assert f"StorageUnreachableError: the storage endpoint {gate.endpoint} cannot be reached" \
        in output, output[-4000:]
    assert "Traceback" not in output, output[-4000:]

    gate.open()
    again = run_cli(config, env, moto, timeout=300)
    assert again.code == 0, again.output[-4000:]
    assert_same_rasters(rasters(download(client, bucket, "out/", tmp_path / "again")), reference)
    # The exact set of outputs (STAC item, collection, catalog included), nothing temporary.
    assert keys(client, bucket, "out/") == sorted(k for k in good_run.objects if k.startswith("out/"))
    assert not [k for k in keys(client, bucket) if _temporary(k)]
    assert not [k for k in keys(client, bucket, "tmp/") if k.endswith(".tif")]
