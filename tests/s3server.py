"""A real S3 API server for tests and benchmarks: `moto_server` on 127.0.0.1, by PID.

DESIGN.md asks for the real server, not moto's in-process `mock_aws`: s3fs, boto3 and GDAL's
`/vsis3/` must talk HTTP to it exactly as they would to a cloud bucket. The module is both a
pytest plugin (the session-scoped `s3_server` fixture) and a plain library that
`benchmarks/open_product.py` imports to start and stop the same server outside pytest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = "127.0.0.1"
REGION = "us-east-1"
KEY = SECRET = "testing"


@dataclass
class S3Server:
    """A running `moto_server` subprocess and where it answers."""

    process: subprocess.Popen
    endpoint: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def _moto_server_command(port: int) -> list[str]:
    """The `moto_server` of the running interpreter's environment, else `python -m moto.server`."""
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", HOST, "-p", str(port)]
    found = shutil.which("moto_server")
    if found:
        return [found, "-H", HOST, "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when its starter dies, even killed or crashed."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/", timeout=1) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:  # any HTTP answer means the server is up
        return error.code < 500
    except OSError:
        return False


def start_server(timeout: float = 30.0, attempts: int = 3) -> S3Server:
    """Start `moto_server` on a free loopback port and wait until it answers over HTTP.

    The port is chosen by binding port 0 then released, so another process may take it before
    moto does: a server that dies at start is retried on a new port.
    """
    env = {**os.environ, "NO_PROXY": HOST, "no_proxy": HOST}
    last_log = ""
    for _ in range(attempts):
        port = _free_port()
        endpoint = f"http://{HOST}:{port}"
        log = Path(tempfile.mkstemp(prefix="moto_server-", suffix=".log")[1])
        with log.open("wb") as sink:  # a file, not a pipe: moto logs every request
            process = subprocess.Popen(
                _moto_server_command(port), stdout=sink, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        server = S3Server(process, endpoint, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(endpoint):
                return server
            time.sleep(0.1)
        stop_server(server)
        last_log = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"moto_server did not answer after {attempts} attempts:\n{last_log}")


def stop_server(server: S3Server, timeout: float = 10.0) -> None:
    """Stop the server by its PID: SIGTERM, then SIGKILL if it lingers."""
    if server.process.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.process.wait(timeout)
    server.log.unlink(missing_ok=True)


def storage_options(endpoint: str) -> dict:
    """s3fs options that reach the test server (explicit keys: never the user's AWS profile)."""
    return {"key": KEY, "secret": SECRET,
            "client_kwargs": {"endpoint_url": endpoint, "region_name": REGION}}


def gdal_env(endpoint: str) -> dict[str, str]:
    """GDAL config for `/vsis3/` against the test server (path-style, plain HTTP)."""
    host = endpoint.split("://", 1)[1]
    return {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint, "AWS_S3_ENDPOINT": host, "AWS_HTTPS": "NO",
            "AWS_VIRTUAL_HOSTING": "FALSE", "AWS_NO_SIGN_REQUEST": "NO"}


def s3_client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=KEY, aws_secret_access_key=SECRET)


def upload(endpoint: str, bucket: str, source: str | os.PathLike, prefix: str = "") -> str:
    """Create `bucket` if needed and upload a file or a folder under `prefix`; its s3:// URL.

    A folder keeps its own name: uploading `X.SAFE` under `p` gives `s3://bucket/p/X.SAFE`.
    """
    client = s3_client(endpoint)
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)
    source = Path(source)
    key = "/".join(p for p in (prefix.strip("/"), source.name) if p)
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                client.upload_file(str(path), bucket, f"{key}/{path.relative_to(source).as_posix()}")
    else:
        client.upload_file(str(source), bucket, key)
    return f"s3://{bucket}/{key}"


@pytest.fixture(scope="session")
def s3_server():
    """Endpoint URL of a `moto_server` running for the whole test session."""
    server = start_server()
    try:
        yield server.endpoint
    finally:
        stop_server(server)
