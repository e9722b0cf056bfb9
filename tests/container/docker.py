"""Docker for the container test: a daemon that answers, the image built by docker/build.sh, and
a stage run in its own container as an Argo pod runs it.

The daemon is Debian's `dockerd`, started by docker/dockerd.sh when none answers (it needs root);
the image is built offline by docker/build.sh, which reuses an image built from the same inputs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 900
STAGE_TIMEOUT_S = 300


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


def ensure_daemon() -> str | Unavailable:
    """The docker CLI once a daemon answers (started by docker/dockerd.sh if need be)."""
    cli = docker_cli()
    if cli is None:
        return Unavailable("no docker CLI (apt-get install docker.io)")
    done = subprocess.run(["bash", str(ROOT / "docker" / "dockerd.sh")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DOCKER": cli}, check=False)
    if done.returncode != 0:
        return Unavailable(f"no Docker daemon can run here: {done.stderr.strip()[-1500:]}")
    return cli


def build_image(cli: str) -> str:
    """The image's tag, built by docker/build.sh (or reused: same inputs, same tag)."""
    done = subprocess.run(["bash", str(ROOT / "docker" / "build.sh")], capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT_S, cwd=ROOT, check=False,
                          env={**os.environ, "DOCKER": os.environ.get("DOCKER", "")})
    if done.returncode != 0:
        raise RuntimeError(f"docker/build.sh failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]


def pod_command(stage: str, arguments: Mapping) -> list[str]:
    """What the WorkflowTemplate gives a stage's pod (after the image's entrypoint)."""
    return ["stage", stage, "--args", json.dumps(arguments, sort_keys=True)]


def run_in_container(cli: str, image: str, stage: str, arguments: Mapping,
                     environment: Mapping[str, str], *, extra: Sequence[str] = ()) -> dict:
    """Run one stage in a fresh container shaped like a pod (non-root, read-only root
    filesystem, /tmp as the only writable place, no capability) on the host's network, where
    the S3 server listens; its one-line JSON result."""
    command = [cli, "run", "--rm", "--network", "host", "--read-only",
               "--tmpfs", "/tmp:rw,size=2g,mode=1777", "--cap-drop", "ALL",
               "--security-opt", "no-new-privileges", *extra]
    for name, value in environment.items():
        command += ["--env", f"{name}={value}"]
    command += [image, *pod_command(stage, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=STAGE_TIMEOUT_S,
                          check=False)
    if done.returncode != 0:
        raise AssertionError(f"stage {stage} in its container ended with {done.returncode}:\n"
                             f"{done.stderr[-4000:]}")
    lines = done.stdout.splitlines()
    assert len(lines) == 1, f"a pod's stdout is its one JSON line, not {done.stdout!r}"
    return json.loads(lines[0])
