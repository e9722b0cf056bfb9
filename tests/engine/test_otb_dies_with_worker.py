"""An OTB command line ends with the worker that started it, however the worker ends.

Debian's `otbcli_*` are shell scripts that start the launcher as their own child; the fake
`otbcli_Sleep` here does the same with a long `sleep`, and writes both pids. A worker process
(a real Python interpreter calling `run_app`) is then killed (SIGKILL) or stopped (SIGTERM,
unwinding as the runner's workers do): neither the script nor its child may survive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl")

FAKE_OTBCLI = """#!/bin/sh
echo $$ > "{pids}/script"
sleep 300 &
echo $! > "{pids}/launcher"
wait
"""

WORKER = """
import signal, sys
from s1tiling_cloud.engine.otb.apps import run_app
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # as a worker
run_app("Sleep", {{}}, env={{"PATH": {bin!r} + ":/usr/bin:/bin"}}, use_bindings=False)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, waiting for its parent to reap it.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(predicate, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_the_application_and_its_children_die_with_the_worker(tmp_path, signum):
    pids, bin_dir = tmp_path / "pids", tmp_path / "bin"
    pids.mkdir()
    bin_dir.mkdir()
    script = bin_dir / "otbcli_Sleep"
    script.write_text(FAKE_OTBCLI.format(pids=pids))
    script.chmod(0o755)
    worker = subprocess.Popen([sys.executable, "-c", WORKER.format(bin=str(bin_dir))])
    started: dict[str, int] = {}
    try:
        _wait_for(lambda: (pids / "launcher").exists() and (pids / "launcher").read_text().strip(),
                  "the fake application to start")
        started = {name: int((pids / name).read_text()) for name in ("script", "launcher")}
        assert all(_alive(pid) for pid in started.values())
        os.kill(worker.pid, signum)
        worker.wait(60)
        _wait_for(lambda: not any(_alive(pid) for pid in started.values()),
                  f"{started} to end after the worker's {signal.Signals(signum).name}")
    finally:  # a failed test leaves nothing running either
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        for pid in started.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
