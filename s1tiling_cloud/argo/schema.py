"""Argo's official JSON schema, offline, with its known defects corrected.

The schema file (`api/jsonschema/schema.json` of argo-workflows) is not in this repository:
`../shared/schemas/argo/schema.json` from the project's root, or `S1TILING_ARGO_SCHEMA`.
Corrections applied when loading (the file is never edited):
- `IntOrString` is declared a string: `retryStrategy.limit: 3` would fail; it is either;
- strict variant: `additionalProperties: false` on every definition with `properties`, so a
  typo (`entrypint`, `retrys`) is an error instead of a silently ignored field.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

DEFINITION = "io.argoproj.workflow.v1alpha1.{kind}"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


def default_schema_path() -> Path:
    env = os.environ.get("S1TILING_ARGO_SCHEMA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "argo" / "schema.json"


@functools.lru_cache(maxsize=4)
def load_schema(path: str | None = None, strict: bool = True) -> dict[str, Any]:
    """The corrected (and, with `strict`, closed) schema."""
    schema = json.loads(Path(path or default_schema_path()).read_text())
    definitions = schema["definitions"]
    definitions[INT_OR_STRING] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    if strict:
        for definition in definitions.values():
            if "properties" in definition and "additionalProperties" not in definition:
                definition["additionalProperties"] = False
    return schema


@functools.lru_cache(maxsize=16)
def _validator(kind: str, path: str | None, strict: bool) -> Draft202012Validator:
    schema = copy.copy(load_schema(path, strict))
    schema.pop("oneOf", None)
    schema["$ref"] = f"#/definitions/{DEFINITION.format(kind=kind)}"
    return Draft202012Validator(schema)


def schema_errors(document: Mapping[str, Any], *, strict: bool = True, path: str | os.PathLike | None = None
                  ) -> list[str]:
    """Where `document` (an Argo kind) breaks the schema: `spec.templates.0.name: message`."""
    kind = str(document.get("kind") or "")
    if kind not in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"):
        return [f"kind: {kind!r} is not an Argo kind"]
    validator = _validator(kind, str(path) if path else None, strict)
    return [f"{'.'.join(map(str, error.absolute_path)) or '(document)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))]
