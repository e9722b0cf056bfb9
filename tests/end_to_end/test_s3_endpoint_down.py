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

import numpy as np
import pytest

from tests.runners.test_faults import _described, group_pids, wait_for
from tests.tcp_gate import TcpGate

from .conftest import (
    GOOD_BUCKET,
    PAIR,
    cli_command,
    download,
    keys,
    run_cli,
    write_request,
)
from .test_request_through_eodag import rasters

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


def test_s3_endpoint_down_then_back(good_run, moto, gate, provider, cli_env, tmp_path):
    client = moto.client()
    bucket = GOOD_BUCKET  # its own bucket: the products' provenance tags name their inputs
    reference = rasters(download(client, bucket, "out/", tmp_path / "reference"))
    # The pair's products, STAC item included, are to be made again.
    for key in [k for k in keys(client, bucket, "out/") if PAIR[0] in k]:
        client.delete_object(Bucket=bucket, Key=key)
    # The good run's request, but for this bucket and through the gate (the provider's catalog,
    # another service, stays reachable).
    config = write_request(tmp_path / "request.cfg", bucket=bucket, endpoint=gate.endpoint,
                           eodag_config=provider.configs["good"])
    env = {**cli_env, **BOUNDED}

    gate.close()
    process = subprocess.Popen(cli_command(config), env=env, cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=GIVE_UP_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"a run with its endpoint down did not end in {GIVE_UP_S} s:\n{output[-4000:]}")
    assert process.returncode == 78, output[-4000:]
    assert f"StorageUnreachableError: the storage endpoint {gate.endpoint} cannot be reached" \
        in output, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    # No worker outlives the run.
    assert wait_for(lambda: not group_pids(process.pid), 60), _described(group_pids(process.pid))

    gate.open()
    again = run_cli(config, env, moto, timeout=300)
    assert again.code == 0, again.output[-4000:]
    made = rasters(download(client, bucket, "out/", tmp_path / "again"))
    assert sorted(made) == sorted(reference)
    for name, (pixels, tags) in reference.items():
        np.testing.assert_array_equal(made[name][0], pixels, err_msg=name)
        assert made[name][1] == tags, name
    # The exact set of outputs (STAC item, collection, catalog included), nothing temporary.
    assert keys(client, bucket, "out/") == sorted(k for k in good_run.objects if k.startswith("out/"))
    assert not [k for k in keys(client, bucket) if _temporary(k)]
    assert not [k for k in keys(client, bucket, "tmp/") if k.endswith(".tif")]
