"""Every stage, once: its name, function, params, the pod it needs and how runners schedule it.

The planner names stages, the local runner runs them in worker processes, Argo renders one pod
per call and `s1tiling-cloud stage NAME` runs one: all of them look a stage up here, so a stage
is added, renamed or resized in one place. A stage's module is imported only when its function
is asked for, so that a pod loads only the stage it runs.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from ..exceptions import ConfigurationError
from .base import StageResult

#: The pod kinds a stage asks for (their sizes are the deployment's: `argo.defaults.POD_SIZES`).
#: "ingest": downloads (one provider slot each); "ortho": orthorectification of a product;
#: "map": geometry of a whole tile in float64 planes; "light": one to three bands of a tile.
POD_KINDS = ("ingest", "ortho", "map", "light")


@dataclasses.dataclass(frozen=True)
class Stage:
    """What callers look a stage up for.

    Parameters
    ----------
    name : str
        The stage's name: plan nodes' `stage`, `s1tiling-cloud stage NAME`.
    module : str
        The module that holds the stage, named as the stage (`s1tiling_cloud.stages.NAME`).
    function : str
        The function of `module` that runs the stage (its name, unless a builtin would clash).
    params : str | None
        The keyword argument that holds the stage's params object, if it has one.
    params_type : str | None
        The dataclass (of `module`) that `params` is parsed into.
    pod_kind : str
        The pod it runs in, one of `POD_KINDS`.
    serial : bool
        Whether at most one call of it runs at a time (it updates shared documents).
    partial_inputs : tuple of str
        Its list or mapping arguments that may lose an input that produced nothing (an ortho
        of a tile outside the product's valid area writes nothing); the first one must keep
        at least one input for the call to run.
    """

    name: str
    module: str
    function: str
    params: str | None = None
    params_type: str | None = None
    pod_kind: str = "light"
    serial: bool = False
    partial_inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.pod_kind not in POD_KINDS:
            raise ValueError(f"stage {self.name}: pod kind {self.pod_kind!r} is not one of {POD_KINDS}")

    @property
    def target(self) -> str:
        """`module:function`, as an entry point names it."""
        return f"{self.module}:{self.function}"

    def load(self) -> Callable[..., StageResult]:
        """The stage's function (its module imported now)."""
        return getattr(importlib.import_module(self.module), self.function)

    def load_params_type(self) -> type | None:
        """The stage's params dataclass, or None when it takes no params object."""
        if self.params_type is None:
            return None
        return getattr(importlib.import_module(self.module), self.params_type)


def _stage(name: str, function: str | None = None, **facts: Any) -> Stage:
    return Stage(name, f"{__package__}.{name}", function or name, **facts)


#: Pod kinds: "map" holds five or six float64 planes of a tile's geometry; `heights` is
#: "light": it warps the DEM into one float32 band of the tile (482 MB at 10 m) with GDAL's
#: buffers bounded to 128 MB and adds the geoid block by block, well inside a light pod's
#: 2 GiB; its warp's threads still use the node's idle cores (pods have no CPU limit). Moving
#: it from "map" also gives it the light pods' retry bound (`argo.defaults.RETRY_POLICIES`:
#: `longest_run` 30 min instead of 1 h), ample for a stage of seconds to a minute.
STAGES: dict[str, Stage] = {stage.name: stage for stage in (
    _stage("ingest", pod_kind="ingest"),
    _stage("eof", "fetch_eof", pod_kind="ingest"),
    _stage("heights", params="dem", params_type="DemParams", pod_kind="light"),
    _stage("ortho", params="params", params_type="OrthoParams", pod_kind="ortho"),
    _stage("concatenate", params="params", params_type="ConcatParams",
           partial_inputs=("inputs",)),
    _stage("mask"),
    _stage("despeckle", params="params", params_type="FilterParams"),
    _stage("quicklook", params="params", params_type="QuicklookParams"),
    _stage("lia", params="params", params_type="LIAParams", pod_kind="map"),
    _stage("ia", params="params", params_type="IAParams", pod_kind="map"),
    _stage("normlim", params="params", params_type="NormlimParams", pod_kind="map"),
    _stage("gamma_area", params="params", params_type="GammaAreaParams", pod_kind="map"),
    _stage("rtc", params="params", params_type="RTCParams", pod_kind="map"),
    _stage("publish", serial=True, partial_inputs=("products", "masks", "quicklooks")),
)}


def stage(name: str) -> Stage:
    """The stage called `name`; `ConfigurationError` (72) naming the known ones otherwise (a
    plan written by another version, or edited by hand)."""
    try:
        return STAGES[name]
    except KeyError:
        raise ConfigurationError(f"unknown stage {name!r}; one of {', '.join(sorted(STAGES))}") from None


def stage_function(name: str) -> Callable[..., StageResult]:
    """The function of stage `name` (its module imported now)."""
    return stage(name).load()


def stage_arguments(name: str, args: Mapping[str, Any],
                    storage_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keyword arguments of a call of stage `name`: a node's `args` plus the plan's
    `storage_options` (never credentials), unless the node gives its own.

    Parameters
    ----------
    name : str
        The stage (every stage takes `storage_options`).
    args : mapping
        The node's arguments.
    storage_options : mapping or None
        The plan's `[Storage]` options.
    """
    stage(name)
    arguments = dict(args)
    if storage_options and "storage_options" not in arguments:
        arguments["storage_options"] = dict(storage_options)
    return arguments


def run_stage(name: str, arguments: Mapping[str, Any]) -> StageResult:
    """Run stage `name` with JSON-like keyword `arguments` (what `s1tiling-cloud stage NAME`
    receives)."""
    return stage_function(name)(**arguments)
