"""Argo's official JSON schema, offline, with its known defects corrected.

The schema file (`api/jsonschema/schema.json` of argo-workflows, 600 kB) is neither in the
repository nor in the package: the caller gives its path (the tests do). What the package itself
builds is checked by Hera's models and by `argo.checks` (names, references, parameters).
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


@functools.lru_cache(maxsize=4)
def load_schema(path: str, strict: bool = True) -> dict[str, Any]:
    """The corrected (and, with `strict`, closed) schema of the file at `path`."""
    schema = json.loads(Path(path).read_text())
    definitions = schema["definitions"]
    definitions[INT_OR_STRING] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    if strict:
        for definition in definitions.values():
            if "properties" in definition and "additionalProperties" not in definition:
                definition["additionalProperties"] = False
    return schema


@functools.lru_cache(maxsize=16)
def _validator(kind: str, path: str, strict: bool) -> Draft202012Validator:
    schema = copy.copy(load_schema(path, strict))
    schema.pop("oneOf", None)
    schema["$ref"] = f"#/definitions/{DEFINITION.format(kind=kind)}"
    return Draft202012Validator(schema)


def schema_errors(document: Mapping[str, Any], *, path: str | os.PathLike, strict: bool = True) -> list[str]:
    """Where `document` (an Argo kind) breaks the schema: `spec.templates.0.name: message`.

    `path`: Argo's `schema.json`; `strict`: unknown fields are errors (typos), not ignored.
    """
    kind = str(document.get("kind") or "")
    if kind not in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"):
        return [f"kind: {kind!r} is not an Argo kind"]
    validator = _validator(kind, str(path), strict)
    return [f"{'.'.join(map(str, error.absolute_path)) or '(document)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))]
