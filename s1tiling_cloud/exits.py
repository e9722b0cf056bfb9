"""S1Tiling's exit codes and the `Situation` that turns a run's failure counts into one."""

from __future__ import annotations

from dataclasses import dataclass

OK = 0
TASK_FAILED = 66
DOWNLOAD_ERROR = 67
OFFLINE_DATA = 68
OUTPUT_DISK_FULL = 69
TMP_DISK_FULL = 70
CORRUPTED_DATA_SAFE = 71
CONFIG_ERROR = 72
NO_S2_TILE = 73
NO_S1_IMAGE = 74
MISSING_DEM = 75
MISSING_GEOID = 76
MISSING_APP = 77
UNKNOWN_REASON = 78
#: The codes S1Tiling ends with; a pod's other codes (137 after a kill at its deadline, 1 of a
#: crashed interpreter) are not S1Tiling's answers and read as `UNKNOWN_REASON`.
S1TILING_CODES = frozenset({OK, *range(TASK_FAILED, UNKNOWN_REASON + 1)})
#: Not S1Tiling's: a run stopped by a signal (SIGINT, SIGTERM) ends as the shell says a process
#: killed by it does, 128 + the signal's number: 130 (SIGINT), 143 (SIGTERM).
INTERRUPTED_BASE = 128


def interrupted(signum: int) -> int:
    """The exit code of a run stopped by signal `signum`."""
    return INTERRUPTED_BASE + int(signum)


def translate_exception_into_exit_code(exception: BaseException) -> int:
    """S1Tiling's name for `exceptions.exit_code_for`: the exit code an exception ends a run
    with (78 for anything unexpected)."""
    from .exceptions import exit_code_for

    return exit_code_for(exception)


@dataclass(frozen=True)
class Situation:
    """Failure counts of a run; `code` is the exit code S1Tiling would return for them.

    Parameters
    ----------
    nb_computation_errors, nb_search_failures, nb_download_failures, nb_download_timeouts : int
        The steps that failed, the searches that failed after their retries, the downloads that
        failed, and those of them that timed out (offline products).
    """

    nb_computation_errors: int = 0
    nb_search_failures: int = 0
    nb_download_failures: int = 0
    nb_download_timeouts: int = 0

    @property
    def code(self) -> int:
        if self.nb_computation_errors > 0:
            return TASK_FAILED
        if self.nb_download_failures > self.nb_download_timeouts or self.nb_search_failures > 0:
            return DOWNLOAD_ERROR
        if self.nb_download_timeouts > 0:
            return OFFLINE_DATA
        return OK

    def __str__(self) -> str:
        return (
            f"Situation: {self.nb_computation_errors} computations errors. "
            f"{self.nb_search_failures} search failures. "
            f"{self.nb_download_failures} download failures. "
            f"{self.nb_download_timeouts} download timeouts"
        )
