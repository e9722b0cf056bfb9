"""What a worker process runs for one node: the stage, and its error turned into plain data;
and how a worker process starts (`start_worker`): bound to the runner's life.

Stage errors do not cross the process boundary as exceptions (S1Tiling's exceptions take
constructor arguments that pickling does not restore); the worker sends back what the runner
needs: the error's class, message, exit code and its category for `Situation`'s counts.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from typing import Any

from .. import exceptions
from ..stages.registry import run_stage, stage_arguments
from .unreachable import storage_unreachable

log = logging.getLogger(__name__)

#: Categories of failure, as S1Tiling counts them (`exits.Situation`).
COMPUTATION = "computation"
CORRUPTED = "corrupted"  # a computation error that asks the user to remove a SAFE (exit 71)
DOWNLOAD_FAILURE = "download_failure"
DOWNLOAD_TIMEOUT = "download_timeout"


def category_of(error: BaseException) -> str:
    """How S1Tiling counts `error`: download timeout, download failure, corrupted SAFE, or a
    computation error."""
    if isinstance(error, exceptions.DownloadTimeoutError):
        return DOWNLOAD_TIMEOUT
    if isinstance(error, exceptions.DownloadS1FileError | exceptions.DownloadEOFFileError):
        return DOWNLOAD_FAILURE
    if isinstance(error, exceptions.CorruptedDataSAFEError):
        return CORRUPTED
    return COMPUTATION


#: How a full disk shows: errno ENOSPC, or GDAL's words for it.
_DISK_FULL_WORDS = ("No space left on device", "Free disk space available is")


def disk_full(error: BaseException) -> bool:
    """Whether `error` (or what caused it) is a full disk."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if any(words in str(seen) for words in _DISK_FULL_WORDS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe(error: BaseException) -> dict[str, Any]:
    return {"type": type(error).__name__, "message": str(error), "category": category_of(error),
            "exit_code": exceptions.exit_code_for(error), "disk_full": disk_full(error),
            "traceback": "".join(traceback.format_exception(error)),
            "unreachable": getattr(error, "endpoint", None)
            if isinstance(error, exceptions.StorageUnreachableError) else None}


def execute(stage: str, args: Mapping[str, Any],
            storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run one node; never raises for a stage error: {"ok": True, "result": …} or
    {"ok": False, "error": describe(error)}."""
    try:
        result = run_stage(stage, stage_arguments(stage, args, storage_options))
    except Exception as error:  # every stage error is reported, none ends the run
        log.debug("stage %s failed", stage, exc_info=True)
        from ..store import Store

        endpoint = Store(storage_options).s3.endpoint_url if storage_options else None
        return {"ok": False, "error": describe(storage_unreachable(error, endpoint) or error)}
    except _Stopped as stop:  # SIGTERM in a worker: the stage's `finally` blocks have run
        os._exit(stop.code)
    return {"ok": True, "result": dataclasses.asdict(result)}


#: prctl(2) option: the signal this process gets when its parent ends (Linux).
_PR_SET_PDEATHSIG = 1
#: Seconds between two checks that the runner still lives.
WATCH_SECONDS = 1.0


def start_worker(runner_pid: int) -> None:
    """Pool initializer: the worker ends with the runner, even when the runner is SIGKILLed.

    The kernel sends SIGKILL when the worker's parent (the forkserver, which itself ends as
    soon as the runner does) dies (`PR_SET_PDEATHSIG`); a thread also watches the runner's pid
    (where prctl is missing, or under a parent that outlives the runner). SIGINT is the
    runner's to handle (Ctrl-C reaches the whole process group): the worker ignores it and is
    stopped by the runner. SIGTERM ends the worker through Python, so that its `finally`
    blocks remove its temporary files.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watching thread alone
            log.debug("no prctl: workers rely on the watching thread", exc_info=True)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_on_sigterm)
    if not _alive(runner_pid):  # the runner died before prctl took effect
        os._exit(128 + signal.SIGKILL)
    threading.Thread(target=_watch, args=(runner_pid,), name="watch-runner", daemon=True).start()


class _Stopped(SystemExit):
    """SIGTERM in a worker process: unwinds the stage, then the process ends (the pool would
    otherwise send it back as the node's result and go on)."""


def _end_on_sigterm(signum: int, frame) -> None:
    raise _Stopped(128 + signum)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user took the pid: ours is gone
        return False
    return True


def _watch(runner_pid: int) -> None:
    while _alive(runner_pid):
        time.sleep(WATCH_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)
