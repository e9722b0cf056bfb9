"""Submitting a request to an Argo server and following it, through Hera's `WorkflowsService`.

Server, namespace and token come from the options or from `ARGO_SERVER`, `ARGO_NAMESPACE`,
`ARGO_TOKEN` (as the `argo` CLI reads them); the token never appears in what is printed.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hera.workflows import Parameter, Workflow, WorkflowsService
from hera.workflows import models as m

from ..exceptions import ConfigurationError
from .defaults import LABEL_PARENT, LABEL_SCENARIO, TEMPLATE_NAMES
from .situation import DONE_PHASES, workflow_exit_code

CONFIG_KEY = "request.cfg"


@dataclass(frozen=True)
class ArgoServer:
    host: str
    namespace: str
    token: str | None = None
    verify_ssl: bool = True

    @classmethod
    def resolve(cls, host: str | None = None, namespace: str | None = None, token: str | None = None,
                verify_ssl: bool | None = None) -> ArgoServer:
        """Options first, then the environment (`ARGO_SERVER`, `ARGO_NAMESPACE`, `ARGO_TOKEN`,
        `ARGO_INSECURE_SKIP_VERIFY`)."""
        host = host or os.environ.get("ARGO_SERVER")
        if not host:
            raise ConfigurationError("no Argo server: give --server or set ARGO_SERVER")
        if not host.startswith(("http://", "https://")):
            host = f"https://{host}"
        insecure = os.environ.get("ARGO_INSECURE_SKIP_VERIFY", "").lower() in ("1", "true", "yes")
        return cls(host.rstrip("/") + "/", namespace or os.environ.get("ARGO_NAMESPACE") or "argo",
                   token or os.environ.get("ARGO_TOKEN") or None,
                   (not insecure) if verify_ssl is None else verify_ssl)

    def service(self) -> WorkflowsService:
        return WorkflowsService(host=self.host, namespace=self.namespace, token=self.token,
                                verify_ssl=self.verify_ssl)

    def link(self, name: str) -> str:
        """The workflow's page in the Argo UI."""
        return f"{self.host}workflows/{self.namespace}/{name}"


def config_map_name(config_text: str) -> str:
    """A content-addressed name: the same request, the same ConfigMap."""
    return "s1tiling-request-" + hashlib.sha256(config_text.encode()).hexdigest()[:12]


def submission(config_text: str | None, scenario: str = "s1_process", *, namespace: str | None = None,
               config_map: str | None = None, parameters: Mapping[str, str] | None = None) -> Workflow:
    """The Workflow a submission creates: the scenario's WorkflowTemplate and the request.

    The `.cfg` goes as the `config` parameter's value, or, with `config_map`, from that
    ConfigMap's `request.cfg` key (for requests too large to travel in a Workflow).
    """
    if scenario not in TEMPLATE_NAMES:
        raise ConfigurationError(f"unknown scenario {scenario!r}; one of {', '.join(TEMPLATE_NAMES)}")
    if config_map:
        config = Parameter(name="config", value_from=m.ValueFrom(
            config_map_key_ref=m.ConfigMapKeySelector(name=config_map, key=CONFIG_KEY)))
    else:
        config = Parameter(name="config", value=config_text)
    extra = [Parameter(name=k, value=str(v)) for k, v in (parameters or {}).items() if v is not None]
    return Workflow(generate_name=f"{TEMPLATE_NAMES[scenario]}-", namespace=namespace,
                    labels={LABEL_SCENARIO: scenario},
                    workflow_template_ref=m.WorkflowTemplateRef(name=TEMPLATE_NAMES[scenario]),
                    arguments=[config, *extra])


def create_config_map(config_text: str, namespace: str, *, api: Any = None) -> str:
    """Store the `.cfg` in a ConfigMap (Kubernetes API, the kubeconfig's credentials); its name.

    Labelled as Argo requires for parameters read from ConfigMaps.
    """
    from kubernetes import client, config

    if api is None:
        config.load_kube_config()
        api = client.CoreV1Api()
    name = config_map_name(config_text)
    body = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels={
            "workflows.argoproj.io/configmap-type": "Parameter", "app.kubernetes.io/name": "s1tiling-cloud"}),
        data={CONFIG_KEY: config_text})
    try:
        api.create_namespaced_config_map(namespace, body)
    except client.exceptions.ApiException as error:
        if error.status != 409:  # 409: its name is its content's hash, so it is already right
            raise
    return name


@dataclass(frozen=True)
class Submitted:
    name: str
    namespace: str
    link: str


def submit_text(config_text: str, *, server: ArgoServer, scenario: str = "s1_process",
                config_map: str | None = None, parameters: Mapping[str, str] | None = None) -> Submitted:
    workflow = submission(config_text, scenario, namespace=server.namespace, config_map=config_map,
                          parameters=parameters)
    created = server.service().create_workflow(
        m.WorkflowCreateRequest(workflow=workflow.build(), namespace=server.namespace),
        namespace=server.namespace)
    name = created.metadata.name
    return Submitted(name, server.namespace, server.link(name))


def fetch(server: ArgoServer, name: str) -> tuple[dict, list[dict]]:
    """The workflow and its child workflows, as plain dicts (the REST API's JSON)."""
    service = server.service()
    workflow = service.get_workflow(name, namespace=server.namespace)
    children = service.list_workflows(namespace=server.namespace, label_selector=f"{LABEL_PARENT}={name}")
    as_dict = lambda w: w.dict(by_alias=True, exclude_none=True)  # noqa: E731
    return as_dict(workflow), [as_dict(c) for c in children.items or []]


def progress_of(workflow: Mapping[str, Any], children: list[Mapping[str, Any]]) -> tuple[int, int]:
    """(done, total) pods: of the children once they exist, else of the workflow itself."""
    done = total = 0
    for w in children or [workflow]:
        value = str((w.get("status") or {}).get("progress") or "0/0")
        a, _, b = value.partition("/")
        done, total = done + int(a or 0), total + int(b or 0)
    return done, total


def watch(name: str, *, server: ArgoServer, poll_seconds: float = 10.0,
          timeout_seconds: float | None = None,
          on_progress: Callable[[str, int, int], None] | None = None) -> int:
    """Follow a submission to its end; its exit code (`situation.workflow_exit_code`)."""
    started = time.monotonic()
    while True:
        workflow, children = fetch(server, name)
        phase = (workflow.get("status") or {}).get("phase") or "Pending"
        if on_progress:
            on_progress(phase, *progress_of(workflow, children))
        if phase in DONE_PHASES and all(
                (c.get("status") or {}).get("phase") in DONE_PHASES for c in children):
            return workflow_exit_code(workflow, children)
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise TimeoutError(f"workflow {name} still {phase} after {timeout_seconds} s")
        time.sleep(poll_seconds)
