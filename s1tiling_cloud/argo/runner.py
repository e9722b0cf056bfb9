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

from ..config.scenario import SCENARIOS
from .children import ParentRef, part_workflows, plan_to_workflows
from .client import ArgoServer, Submitted, create_config_map, submission, submit_text
from .client import watch as _watch
from .defaults import ArgoSettings
from .situation import situation_from_workflow, workflow_exit_code
from .templates import workflow_template

__all__ = [
    "ArgoServer", "ArgoSettings", "ParentRef", "Submitted", "part_workflows",
    "plan_to_workflows", "render_all", "render_yaml", "situation_from_workflow", "submission", "submit",
    "watch", "workflow_exit_code", "workflow_template",
]

def render_yaml(workflows: Workflow | Iterable[Workflow]) -> str:
    """YAML of one or more workflows, as `hera generate yaml` writes them.

    Parameters
    ----------
    workflows : Workflow or iterable of Workflow
        Workflows, WorkflowTemplates or both.

    Returns
    -------
    str
        Their YAML documents, '---' between two.
    """
    items = [workflows] if isinstance(workflows, Workflow) else list(workflows)
    return "---\n".join(w.to_yaml() for w in items)


def render_all(out_dir: str | os.PathLike, settings: ArgoSettings | None = None) -> list[Path]:
    """Write every scenario's WorkflowTemplate to `out_dir/<scenario>.yaml`.

    The same files as `hera generate yaml workflows/ --to out_dir` (one module per scenario in
    the repository's `workflows/`; the chart includes `workflows/rendered/`).

    Parameters
    ----------
    out_dir : str or os.PathLike
        Folder to write into (created if missing).
    settings : ArgoSettings, optional
        The deployment's settings; by default `ArgoSettings()`.

    Returns
    -------
    list of Path
        The files written, one per scenario.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario in SCENARIOS:
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
    """Submit a request to an Argo server, as a Workflow of the scenario's WorkflowTemplate.

    Parameters
    ----------
    config_path : str or os.PathLike
        The request (`.cfg`), checked here before anything reaches the cluster.
    host, namespace, token : str, optional
        The Argo server; by default `ARGO_SERVER`, `ARGO_NAMESPACE` (else `argo`), `ARGO_TOKEN`.
    scenario : str, default "s1_process"
        The program, by API name or S1Tiling's name (`S1LIAMap`).
    use_config_map : bool, default False
        Send the `.cfg` in a ConfigMap (Kubernetes API, kubeconfig credentials) that the
        Workflow reads its `config` parameter from, instead of the parameter's value.
    verify_ssl : bool, optional
        Verify the server's certificate; by default unless `ARGO_INSECURE_SKIP_VERIFY` is set.
    parameters : mapping of str to str, optional
        Other WorkflowTemplate parameters (`image`, `max-nodes`).
    config_map_api : optional
        The Kubernetes CoreV1Api to create the ConfigMap with; by default the kubeconfig's.

    Returns
    -------
    Submitted
        The workflow's name, namespace and UI link.

    Raises
    ------
    ConfigurationError
        (72) The `.cfg` is invalid, no server is given, or the scenario is unknown.
    """
    server = ArgoServer.resolve(host, namespace, token, verify_ssl)
    text = _read_config(config_path)
    config_map = create_config_map(text, server.namespace, api=config_map_api) if use_config_map else None
    return submit_text(text, server=server, scenario=scenario, config_map=config_map,
                       parameters=parameters)


def watch(name: str, *, host: str | None = None, namespace: str | None = None, token: str | None = None,
          verify_ssl: bool | None = None, poll_seconds: float = 10.0, timeout_seconds: float | None = None,
          on_progress: Callable[[str, int, int], None] | None = None) -> int:
    """Follow a submission to its end, and S1Tiling's exit code for it.

    Parameters
    ----------
    name : str
        The submitted workflow's name (what `submit` returned).
    host, namespace, token, verify_ssl : optional
        The Argo server, as in `submit`.
    poll_seconds : float, default 10
        Seconds between two looks.
    timeout_seconds : float, optional
        Give up after this long; by default never.
    on_progress : callable, optional
        Called at each look with the phase, the nodes done and the nodes in all.

    Returns
    -------
    int
        The exit code of the workflow and its children (`workflow_exit_code`).

    Raises
    ------
    ConfigurationError
        (72) No server is given.
    TimeoutError
        Still running after `timeout_seconds`.
    """
    server = ArgoServer.resolve(host, namespace, token, verify_ssl)
    return _watch(name, server=server, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds,
                  on_progress=on_progress)
