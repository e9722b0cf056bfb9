"""The chart rendered by Helm's own engine (helm-python-sdk bundles Helm's Go SDK), and the
validation of every manifest: `kubernetes-validate --strict` for core kinds, Argo's JSON schema
(IntOrString corrected, strict) for Argo kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "s1tiling-cloud"
KUBERNETES_VERSION = "1.30"
ARGO_API = "argoproj.io/v1alpha1"


def render(values: dict[str, Any] | None = None, *, name: str = "s1", namespace: str = "eo"
           ) -> list[dict[str, Any]]:
    """The chart's manifests for `values`, in template order (NOTES.txt left out)."""
    import helm_python as helm

    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values or {}, name=name, namespace=namespace, is_install=True)
    documents = []
    for template in sorted(rendered):
        if template.endswith("NOTES.txt"):
            continue
        documents += [d for d in yaml.safe_load_all(rendered[template]) if d]
    return documents


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def validation_errors(document: dict[str, Any]) -> list[str]:
    """Why `document` would be refused (empty: valid)."""
    where = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
    if document.get("apiVersion") == ARGO_API:
        from s1tiling_cloud.argo.schema import schema_errors
        from tests.conftest import ARGO_SCHEMA

        return [f"{where}: {e}" for e in schema_errors(document, path=ARGO_SCHEMA, strict=True)]
    import kubernetes_validate

    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{where}: {'.'.join(map(str, error.path))}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{where}: {error.message}"]
    return []
