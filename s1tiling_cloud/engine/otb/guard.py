"""A guard between a worker and one OTB command line: the command dies with the worker.

Run as a script (``python guard.py COMMAND ARGS...``, never imported by the package: it starts
without loading s1tiling_cloud). Debian's ``otbcli_*`` are shell scripts that start
``otbApplicationLauncherCommandLine`` as their own child, so the kernel's parent-death signal
(``PR_SET_PDEATHSIG``, cleared on fork) set on the script would not reach the launcher doing
the work: after a SIGKILL of the worker, it would go on writing for minutes.

The guard asks the kernel for SIGTERM when its parent (the worker) ends, however it ends, starts
the command in a process group of its own, and on SIGTERM, SIGINT or SIGHUP kills that whole
group with SIGKILL before it exits. Otherwise it waits for the command and exits with its
status (128 + the signal's number when a signal ended it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

#: prctl(2) option: the signal this process gets when its parent ends (Linux).
_PR_SET_PDEATHSIG = 1


def _ask_for_sigterm_when_orphaned() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def main(command: list[str]) -> int:
    """Run `command` in its own process group; its exit status, or 128 + a signal's number.

    Parameters
    ----------
    command : list of str
        The program and its arguments.
    """
    parent = os.getppid()
    _ask_for_sigterm_when_orphaned()
    child: subprocess.Popen | None = None

    def stop(signum: int, frame) -> None:
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        os._exit(128 + signum)

    stopping = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    for signum in stopping:
        signal.signal(signum, stop)
    if os.getppid() != parent:  # the worker died before the kernel was asked to tell us
        return 128 + signal.SIGTERM
    # No signal between the start of the command and `child` being set: it would leave the
    # command running. The command itself starts with no signal blocked.
    signal.pthread_sigmask(signal.SIG_BLOCK, stopping)
    try:
        child = subprocess.Popen(command, process_group=0, preexec_fn=lambda: signal.pthread_sigmask(
            signal.SIG_UNBLOCK, stopping))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
    status = child.wait()
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
