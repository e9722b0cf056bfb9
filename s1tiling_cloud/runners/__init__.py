"""Runners consume a plan: `local` runs it on this machine in a process pool (the embedded
default). The Argo runner (`s1tiling_cloud.argo`) maps it onto Argo Workflows; its pods run
this package's worker, so `argo` imports `runners`, never the reverse."""

from .local import run_plan
from .report import RunReport, RunSituation

__all__ = ["RunReport", "RunSituation", "run_plan"]
