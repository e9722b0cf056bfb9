"""Runners consume a plan: `local` runs it on this machine in a process pool (the embedded
default); the Argo runner maps it onto Argo Workflows."""

from .local import run_plan
from .report import RunReport, RunSituation

__all__ = ["RunReport", "RunSituation", "run_plan"]
