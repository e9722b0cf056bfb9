"""Docker for the container test: a daemon that answers and the image built by docker/build.sh
(a pod's `docker run` is in `pods.py`).

The daemon is Debian's `dockerd`, started by docker/dockerd.sh when none answers (it needs root);
the image is built offline by docker/build.sh, which reuses an image built from the same inputs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 900


@dataclass(frozen=True)
class Unavailable:
    """Why containers cannot run here (a skip reason)."""

    reason: str


def docker_cli() -> str | None:
    """The docker CLI to talk to the daemon with (any version: the API is negotiated)."""
    for candidate in (os.environ.get("DOCKER"), "docker", "/usr/bin/docker"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@dataclass(frozen=True)
class Daemon:
    """The docker CLI to use, and the pid of the daemon this test session started (None: one
    was already running, and is left as it was)."""

    cli: str
    started: int | None = None


def ensure_daemon() -> Daemon | Unavailable:
    """The docker CLI once a daemon answers (started by docker/dockerd.sh if need be)."""
    cli = docker_cli()
    if cli is None:
        return Unavailable("no docker CLI (apt-get install docker.io)")
    done = subprocess.run(["bash", str(ROOT / "docker" / "dockerd.sh")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DOCKER": cli}, check=False)
    if done.returncode != 0:
        return Unavailable(f"no Docker daemon can run here: {done.stderr.strip()[-1500:]}")
    words = (done.stdout.strip().splitlines() or [""])[-1].split()
    started = int(words[1]) if len(words) == 2 and words[0] == "started" else None
    return Daemon(cli, started)


def stop_daemon(pid: int, timeout: float = 30.0) -> None:
    """Stop the daemon the test session started (SIGTERM, then SIGKILL), and wait for it."""
    import signal
    import time

    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def build_image(cli: str) -> str:
    """The image's tag, built by docker/build.sh (or reused: same inputs, same tag)."""
    done = subprocess.run(["bash", str(ROOT / "docker" / "build.sh")], capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT_S, cwd=ROOT, check=False,
                          env={**os.environ, "DOCKER": os.environ.get("DOCKER", "")})
    if done.returncode != 0:
        raise RuntimeError(f"docker/build.sh failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]
