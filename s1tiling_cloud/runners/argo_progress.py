"""Progress of a stage in an Argo pod, through Argo's progress file.

Argo sets `ARGO_PROGRESS_FILE` in every pod's main container and reads `N/M` from it (the last
line written) to show the node's progress in the UI and in `argo get`. Outside a pod the
variable is unset and reporting does nothing, so stages call it unconditionally.

Who calls it: `s1tiling_cloud.cli.stage` (the pods' command; not `stages.registry.run_stage`,
which in-process callers use) does `report_progress(0, 1)` before the stage and
`report_progress(1, 1)` after it; `argo.pods` reports a followed child workflow's progress as
it polls. A long stage (ortho by blocks, ingest by bytes) could call
`report_progress(done, total)` as it goes; none does yet.
"""

from __future__ import annotations

import os
from pathlib import Path

PROGRESS_ENV = "ARGO_PROGRESS_FILE"


def progress_path() -> Path | None:
    value = os.environ.get(PROGRESS_ENV)
    return Path(value) if value else None


def report_progress(done: int, total: int, path: str | os.PathLike | None = None) -> bool:
    """Write `done/total` to Argo's progress file; whether it was written (False outside Argo)."""
    target = Path(path) if path else progress_path()
    if target is None or total <= 0:
        return False
    done = max(0, min(int(done), int(total)))
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        tmp.write_text(f"{done}/{int(total)}\n")
        os.replace(tmp, target)  # the executor never reads half a line
    except OSError:
        return False
    return True

