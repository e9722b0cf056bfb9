"""The Argo runner: a request as Argo Workflows, with Hera.

- `workflow_template(scenario)`: the static WorkflowTemplate of a scenario (what the chart
  installs; `workflows/` defines them for `hera generate yaml workflows/`);
- `plan_to_workflows(plan, ...)`: a plan as child Workflows (what the planning pod creates);
- `submission(...)`, `submit(config_path, ...)`: the small Workflow that references the
  template with the request, created on an Argo server;
- `watch(name, ...)`: follows a submission and ends with S1Tiling's exit code;
- `situation_from_workflow(workflow)`: S1Tiling's `Situation` from a workflow's nodes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from hera.workflows import Workflow

from .children import ParentRef, part_workflows, plan_to_workflows
from .client import ArgoServer, Submitted, create_config_map, submission, submit_text
from .client import watch as _watch
from .defaults import TEMPLATE_NAMES, ArgoSettings
from .situation import situation_from_workflow, workflow_exit_code
from .templates import workflow_template

__all__ = [
    "ArgoServer", "ArgoSettings", "ParentRef", "Submitted", "TEMPLATE_NAMES", "part_workflows",
    "plan_to_workflows", "render_all", "render_yaml", "situation_from_workflow", "submission", "submit",
    "watch", "workflow_exit_code", "workflow_template",
]

def render_yaml(workflows: Workflow | Iterable[Workflow]) -> str:
    """YAML of one or more workflows, as `hera generate yaml` writes them ('---' between)."""
    items = [workflows] if isinstance(workflows, Workflow) else list(workflows)
    return "---\n".join(w.to_yaml() for w in items)


def render_all(out_dir: str | os.PathLike, settings: ArgoSettings | None = None) -> list[Path]:
    """Write every scenario's WorkflowTemplate to `out_dir/<scenario>.yaml`: the same files as
    `hera generate yaml workflows/ --to out_dir` (one module per scenario in the repository's
    `workflows/`; the chart includes `workflows/rendered/`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario in TEMPLATE_NAMES:
        path = out / f"{scenario}.yaml"
        path.write_text(render_yaml(workflow_template(scenario, settings)))
        written.append(path)
    return written


def _read_config(config_path: str | os.PathLike) -> str:
    """The `.cfg`'s text, checked here first: a bad request fails before reaching the cluster."""
    from ..config.parse import load_request

    text = Path(config_path).read_text()
    load_request(config_path, text=text)
    return text


def submit(config_path: str | os.PathLike, *, host: str | None = None, namespace: str | None = None,
           token: str | None = None, scenario: str = "s1_process", use_config_map: bool = False,
           verify_ssl: bool | None = None, parameters: Mapping[str, str] | None = None,
           config_map_api=None) -> Submitted:
    """Submit a request to an Argo server: its name, namespace and UI link.

    With `use_config_map`, the `.cfg` goes into a ConfigMap (Kubernetes API, kubeconfig
    credentials) that the Workflow reads its `config` parameter from.
    """
    server = ArgoServer.resolve(host, namespace, token, verify_ssl)
    text = _read_config(config_path)
    config_map = create_config_map(text, server.namespace, api=config_map_api) if use_config_map else None
    return submit_text(text, server=server, scenario=scenario, config_map=config_map,
                       parameters=parameters)


def watch(name: str, *, host: str | None = None, namespace: str | None = None, token: str | None = None,
          verify_ssl: bool | None = None, poll_seconds: float = 10.0, timeout_seconds: float | None = None,
          on_progress: Callable[[str, int, int], None] | None = None) -> int:
    """Follow a submission to its end; S1Tiling's exit code for it."""
    server = ArgoServer.resolve(host, namespace, token, verify_ssl)
    return _watch(name, server=server, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds,
                  on_progress=on_progress)
