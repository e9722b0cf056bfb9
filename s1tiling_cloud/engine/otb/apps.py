"""Run one Orfeo ToolBox application with a parameter dict.

``run_app("SARCalibration", {"in": tiff, "out": [out, "float"], "lut": "sigma",
"removenoise": True})`` runs it in-process through ``otbApplication`` when those bindings can be
imported, else as the ``otbcli_SARCalibration`` subprocess (Debian's ``otb-bin`` has no Python
bindings). Values: ``str``/numbers as they are, ``bool`` as ``true``/``false``, lists/tuples
as several words (``-il a.tif b.tif``; ``-out path float`` gives the output pixel type).

Failures are typed: `MissingApplication` (exit 77) when the application is not installed,
`OTBApplicationError` carrying OTB's own message when it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...exceptions import Error, MissingApplication

#: Pixel types OTB accepts after an output image parameter.
PIXEL_TYPES = ("uint8", "uint16", "int16", "uint32", "int32", "float", "double", "cint16",
               "cint32", "cfloat", "cdouble")


class OTBApplicationError(Error):
    """An OTB application failed; `message` is OTB's own (its FATAL/exception lines)."""

    def __init__(self, app: str, message: str, returncode: int | None = None,
                 command: Sequence[str] = ()) -> None:
        self.app = app
        self.message = message
        self.returncode = returncode
        self.command = list(command)
        code = f" (exit {returncode})" if returncode is not None else ""
        super().__init__(f"OTB {app} failed{code}: {message}")


@dataclass(frozen=True)
class AppRun:
    """What a run did: the command (or the in-process app name) and OTB's log."""

    app: str
    command: list[str]
    log: str
    seconds: float


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def command_line(app: str, params: Mapping[str, Any]) -> list[str]:
    """``otbcli_APP -key value …`` for `params` (None values are left out)."""
    words = [f"otbcli_{app}"]
    for key, value in params.items():
        if value is None:
            continue
        words.append(f"-{key}")
        if isinstance(value, (list, tuple)):
            words += [_word(v) for v in value]
        else:
            words.append(_word(value))
    return words


def _bindings():
    try:
        import otbApplication  # type: ignore[import-not-found]
    except ImportError:
        return None
    return otbApplication


def available(app: str) -> bool:
    """Whether `app` can be run here (bindings or ``otbcli_APP`` on PATH)."""
    bindings = _bindings()
    if bindings is not None:
        return app in bindings.Registry.GetAvailableApplications()
    return shutil.which(f"otbcli_{app}") is not None


def require(*apps: str) -> None:
    """`MissingApplication` naming every app of `apps` that cannot be run."""
    missing = {app: "OTB application not installed (Debian: otb-bin)" for app in apps
               if not available(app)}
    if missing:
        raise MissingApplication(missing, ["otb engine"])


_FAILURE = re.compile(r"\((FATAL|CRITICAL|ERROR)\)|exception|error", re.IGNORECASE)


def otb_message(log: str) -> str:
    """The lines of OTB's log that say why it failed (the whole tail when none does)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    found = [line for line in lines if _FAILURE.search(line) and "(INFO)" not in line]
    return "\n".join(found or lines[-10:]) or "no message"


def run_app(app: str, params: Mapping[str, Any], *, ram_mb: int | None = None,
            threads: int | None = None, env: Mapping[str, str] | None = None,
            timeout: float | None = None, use_bindings: bool | None = None) -> AppRun:
    """Run OTB application `app` with `params`; see the module's doc.

    `ram_mb` sets ``OTB_MAX_RAM_HINT``, `threads` ``ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS`` (for
    subprocesses); `env` replaces the subprocess environment (tests use it to hide OTB).
    `use_bindings`: None = when importable.
    """
    import time

    started = time.perf_counter()
    bindings = _bindings() if use_bindings in (None, True) else None
    if use_bindings and bindings is None:
        raise MissingApplication({app: "otbApplication (OTB's Python bindings) not importable"},
                                 ["otb engine"])
    if bindings is not None:
        return _run_in_process(bindings, app, params, started)
    environment = dict(os.environ if env is None else env)
    if ram_mb is not None:
        environment["OTB_MAX_RAM_HINT"] = str(int(ram_mb))
    if threads is not None:
        environment["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"] = str(int(threads))
    command = command_line(app, params)
    executable = shutil.which(command[0], path=environment.get("PATH", os.defpath))
    if executable is None:
        raise MissingApplication({app: f"{command[0]} not found on PATH"}, ["otb engine"])
    returncode, log = _run_guarded([executable, *command[1:]], environment, timeout, app, command)
    if returncode != 0 or "(FATAL)" in log:
        raise OTBApplicationError(app, otb_message(log), returncode, command)
    return AppRun(app, command, log, time.perf_counter() - started)


#: The script that runs each OTB command line so that it dies with the worker (`guard.py`).
GUARD = str(Path(__file__).with_name("guard.py"))


def _run_guarded(argv: list[str], environment: Mapping[str, str], timeout: float | None,
                 app: str, command: list[str]) -> tuple[int, str]:
    """(exit status, stdout + stderr) of `argv` run under `guard.py`, in a process group of
    its own: whatever ends this process (an error, SIGTERM unwinding the stage, a timeout, a
    SIGKILL of the worker) ends the OTB application and every process it started."""
    process = subprocess.Popen([sys.executable, "-I", GUARD, *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(environment),
                               process_group=0)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as error:
        _stop(process)
        raise OTBApplicationError(app, f"timed out after {timeout} s", None, command) from error
    except BaseException:  # SIGTERM's SystemExit, Ctrl-C: the application stops with us
        _stop(process)
        raise
    return process.returncode, (stdout or "") + (stderr or "")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the guard (it kills the application's process group), then SIGKILL to the
    guard's own group, and reap it."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum) if signum == signal.SIGKILL else process.send_signal(signum)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=5)
            break
        except subprocess.TimeoutExpired:
            continue
    if process.stdout:
        process.stdout.close()
    if process.stderr:
        process.stderr.close()


def _run_in_process(bindings, app: str, params: Mapping[str, Any], started: float) -> AppRun:
    import time

    application = bindings.Registry.CreateApplication(app)
    if application is None:
        raise MissingApplication({app: "not in otbApplication's registry"}, ["otb engine"])
    try:
        for key, value in params.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple)) and len(value) == 2 and value[1] in PIXEL_TYPES \
                    and application.GetParameterType(key) == bindings.ParameterType_OutputImage:
                application.SetParameterString(key, _word(value[0]))
                application.SetParameterOutputImagePixelType(
                    key, getattr(bindings, f"ImagePixelType_{value[1]}"))
            elif isinstance(value, (list, tuple)):
                application.SetParameterStringList(key, [_word(v) for v in value])
            elif isinstance(value, bool):
                application.SetParameterInt(key, int(value))
            else:
                application.SetParameterString(key, _word(value))
        application.ExecuteAndWriteOutput()
    except RuntimeError as error:  # the bindings raise OTB's exceptions as RuntimeError
        raise OTBApplicationError(app, str(error), None, [app]) from error
    return AppRun(app, [app], "", time.perf_counter() - started)
