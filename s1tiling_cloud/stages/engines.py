"""Which engine runs a stage's science: "native" (numpy + numba, the default) or "otb"
(S1Tiling's Orfeo ToolBox applications). Shared by the stages that offer both."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..config.processing import ENGINES
from ..exceptions import ConfigurationError

__all__ = ["ENGINES", "check_engine", "otb_finishing", "without_native_engine"]


def check_engine(engine: str) -> None:
    """ConfigurationError (exit 72) unless `engine` is one of `ENGINES`."""
    if engine not in ENGINES:
        raise ConfigurationError(f"unknown engine {engine!r}; one of {', '.join(ENGINES)}")


def without_native_engine(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` for a provenance record: "engine" only when it is not the default, so that
    outputs the native engine made before engines existed are not taken for stale ones."""
    values = dict(params)
    if values.get("engine", "native") == "native":
        values.pop("engine", None)
    return values


def otb_finishing(engine: str) -> ModuleType | None:
    """`engine.otb.finishing` once its applications are known to be installed (else
    `MissingApplication`, exit 77, before any work), or None for the native engine."""
    check_engine(engine)
    if engine != "otb":
        return None
    from ..engine.otb import finishing
    from ..engine.otb.apps import require

    require(*finishing.FINISHING_APPS)
    return finishing
