"""What a worker process runs for one node: the stage, and its error turned into plain data.

Stage errors do not cross the process boundary as exceptions (S1Tiling's exceptions take
constructor arguments that pickling does not restore); the worker sends back what the runner
needs: the error's class, message, exit code and its category for `Situation`'s counts.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import traceback
from collections.abc import Mapping
from typing import Any

from .. import exceptions
from ..stages.base import run_stage, stage_function

log = logging.getLogger(__name__)

#: Categories of failure, as S1Tiling counts them (`exits.Situation`).
COMPUTATION = "computation"
CORRUPTED = "corrupted"  # a computation error that asks the user to remove a SAFE (exit 71)
DOWNLOAD_FAILURE = "download_failure"
DOWNLOAD_TIMEOUT = "download_timeout"


def takes_storage_options(stage: str) -> bool:
    return "storage_options" in inspect.signature(stage_function(stage)).parameters


def stage_arguments(stage: str, args: Mapping[str, Any],
                    storage_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The node's arguments plus the plan's storage options, when the stage takes them."""
    arguments = dict(args)
    if storage_options and takes_storage_options(stage) and "storage_options" not in arguments:
        arguments["storage_options"] = dict(storage_options)
    return arguments


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


def describe(error: BaseException) -> dict[str, Any]:
    return {"type": type(error).__name__, "message": str(error), "category": category_of(error),
            "exit_code": exceptions.exit_code_for(error),
            "traceback": "".join(traceback.format_exception(error))}


def execute(stage: str, args: Mapping[str, Any],
            storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run one node; never raises for a stage error: {"ok": True, "result": …} or
    {"ok": False, "error": describe(error)}."""
    try:
        result = run_stage(stage, stage_arguments(stage, args, storage_options))
    except Exception as error:  # every stage error is reported, none ends the run
        log.debug("stage %s failed", stage, exc_info=True)
        return {"ok": False, "error": describe(error)}
    return {"ok": True, "result": dataclasses.asdict(result)}
