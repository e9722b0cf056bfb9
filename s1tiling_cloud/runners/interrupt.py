"""Stopping a run on SIGTERM (what Kubernetes sends on eviction) and SIGINT (Ctrl-C).

While a run goes on, either signal raises `Interrupted` in the runner's main thread: the runner
then stops its workers (SIGTERM, a grace period, then SIGKILL), reports what was done as
S1Tiling does, and exits with 128 + the signal's number (130, 143), the shell's code for a
process ended by that signal. A worker never publishes a partial object: its writes go to
temporary names published in one step (`store.atomic_path`), removed by the next run if the
worker was killed before it could.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: Seconds a worker has to end on SIGTERM (its `finally` blocks remove its temporary files)
#: before it is killed.
GRACE_SECONDS = 5.0


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error of the run
    """The run received `signum`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM and SIGINT raise `Interrupted` in this (main) thread while the block runs; the
    former handlers come back after it. Elsewhere than in the main thread: no change."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame) -> None:
        for sig in SIGNALS:  # a second signal while stopping must not cut the report short
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, former in previous.items():
            signal.signal(sig, former)


def stop_workers(pool: Executor, grace: float = GRACE_SECONDS) -> None:
    """End every worker process of `pool` now (SIGTERM, then SIGKILL after `grace` seconds),
    and the pool with them."""
    # ProcessPoolExecutor has no public way to end busy workers: shutdown() waits for them.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(grace)
        if process.is_alive():
            log.warning("worker %s did not end on SIGTERM: killing it", process.pid)
            process.kill()
            process.join(grace)
    # Waited for: the pool's manager thread, its workers dead, ends at once. Left running, it
    # could close its wake-up pipe while the interpreter's exit hook writes to it (Python
    # 3.11 does not lock that write): "OSError: Bad file descriptor" printed at exit.
    pool.shutdown(wait=True, cancel_futures=True)
