"""What every stage shares: its result and the re-run rule (outputs whose provenance matches
are reused, not recomputed). The stages themselves are listed in `registry`."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import time
from collections.abc import Mapping
from typing import Any

from ..outputs.metadata import Provenance
from ..store import Store


@dataclasses.dataclass
class StageResult:
    """What a stage did: its outputs (URIs), whether it reused them, and a few figures."""

    stage: str
    outputs: list[str]
    skipped: bool = False
    seconds: float = 0.0
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def reusable(store: Store, outputs: list[str], provenance: Provenance) -> bool:
    """Whether every output exists and records this very provenance (the re-run rule)."""
    return all(store.provenance_matches(uri, provenance) for uri in outputs)


def input_identity(tags: Mapping[str, str]) -> str:
    """What identifies the content of an input, for the re-run rule: its provenance hash.

    An input URI can be rewritten (a re-run of the stage that made it), so the URI alone does not
    say whether an output made from it is stale. An input with no provenance (made by another
    tool) is identified by a hash of its tags, which hold its generation time.
    """
    if "PROVENANCE_HASH" in tags:
        return str(tags["PROVENANCE_HASH"])
    text = json.dumps({str(k): str(v) for k, v in tags.items()}, sort_keys=True)
    return "tags-sha256:" + hashlib.sha256(text.encode()).hexdigest()


def timed(stage: str, outputs: list[str], started: float, **details: Any) -> StageResult:
    return StageResult(stage, outputs, seconds=round(time.perf_counter() - started, 3),
                       details=details)


def params_from(cls: type, values: Mapping[str, Any] | Any) -> Any:
    """A params dataclass from a JSON-like mapping (nested dataclasses included)."""
    if dataclasses.is_dataclass(values):
        return values
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise TypeError(f"{cls.__name__} has no parameter(s) {sorted(unknown)}")
    kwargs = {}
    for name, value in values.items():
        kind = fields[name].type
        nested = _dataclass_named(cls, kind)
        kwargs[name] = params_from(nested, value) if nested and isinstance(value, Mapping) else value
    return cls(**kwargs)


def _dataclass_named(owner: type, annotation: Any) -> type | None:
    """The dataclass an annotation (a string under `from __future__ import annotations`) names."""
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    candidate = getattr(importlib.import_module(owner.__module__), name.split(" ")[0], None)
    return candidate if dataclasses.is_dataclass(candidate) else None
