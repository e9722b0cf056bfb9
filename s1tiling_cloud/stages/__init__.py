"""The units of work. A stage is a pure, idempotent function of input URIs and a small params
object that writes its outputs to URIs and returns a JSON-able `StageResult`; the local runner,
an Argo pod (`s1tiling-cloud stage NAME`) and a notebook all call the same function."""

from .base import StageResult
from .registry import STAGES, Stage, run_stage

__all__ = ["STAGES", "Stage", "StageResult", "run_stage"]
