"""Runners consume a plan: `local` runs it on this machine in a process pool (the embedded
default). The Argo runner (`s1tiling_cloud.argo`) maps it onto Argo Workflows; its pods run
this package's worker, so `argo` imports `runners`, never the reverse.

The names below load on first use (`lazy.lazy_exports`): a stage pod that only reports its
progress (`runners.argo_progress`) does not import the local runner, the planner and STAC.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "RunReport": ".report",
    "RunSituation": ".report",
    "run_plan": ".local",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
