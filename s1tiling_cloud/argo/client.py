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

from ..config.scenario import scenario as scenario_of
from ..exceptions import ConfigurationError
from .defaults import LABEL_PARENT, LABEL_SCENARIO
from .situation import DONE_PHASES, workflow_exit_code
from .transient import API_BACKOFF, Backoff, with_retries

CONFIG_KEY = "request.cfg"


@dataclass(frozen=True)
class ArgoServer:
    """An Argo Server, under whose base href both its REST API and its UI are served.

    Parameters
    ----------
    host : str
        Its URL, ending with the base href and '/' (`https://example.org/argo/`).
    namespace : str
        The namespace its workflows run in.
    token : str, optional
        Bearer token; none for a server without authentication.
    verify_ssl : bool, default True
        Verify the server's certificate.
    """

    host: str
    namespace: str
    token: str | None = None
    verify_ssl: bool = True

    @classmethod
    def resolve(cls, host: str | None = None, namespace: str | None = None, token: str | None = None,
                verify_ssl: bool | None = None, base_href: str | None = None) -> ArgoServer:
        """Options first, then the environment (`ARGO_SERVER`, `ARGO_BASE_HREF`,
        `ARGO_NAMESPACE`, `ARGO_TOKEN`, `ARGO_INSECURE_SKIP_VERIFY`), as the `argo` CLI reads them."""
        host = host or os.environ.get("ARGO_SERVER")
        if not host:
            raise ConfigurationError("no Argo server: give --server or set ARGO_SERVER")
        if not host.startswith(("http://", "https://")):
            host = f"https://{host}"
        href = (base_href if base_href is not None else os.environ.get("ARGO_BASE_HREF", "")).strip("/")
        insecure = os.environ.get("ARGO_INSECURE_SKIP_VERIFY", "").lower() in ("1", "true", "yes")
        return cls(host.rstrip("/") + "/" + (f"{href}/" if href else ""),
                   namespace or os.environ.get("ARGO_NAMESPACE") or "argo",
                   token or os.environ.get("ARGO_TOKEN") or None,
                   (not insecure) if verify_ssl is None else verify_ssl)

    def service(self) -> WorkflowsService:
        return WorkflowsService(host=self.host, namespace=self.namespace, token=self.token,
                                verify_ssl=self.verify_ssl)

    def link(self, name: str) -> str:
        """The workflow's page in the Argo UI (under the server's base href)."""
        return f"{self.host}workflows/{self.namespace}/{name}"

    def _get(self, path: str, params: Mapping[str, str | None]) -> dict:
        """GET of the REST API as plain JSON: a field-limited answer is no complete `Workflow`,
        which Hera's models would refuse (they require `spec`)."""
        import requests

        headers = {}
        if self.token:
            bearer = self.token.startswith("Bearer ")
            headers["Authorization"] = self.token if bearer else f"Bearer {self.token}"
        response = requests.get(self.host + path, params={k: v for k, v in params.items() if v},
                                headers=headers, verify=self.verify_ssl, timeout=120)
        response.raise_for_status()
        return response.json()

    def workflow(self, name: str, fields: str | None = None, backoff: Backoff = API_BACKOFF,
                 sleep: Callable[[float], None] = time.sleep) -> dict:
        """GetWorkflow: with no `fields`, its nodes hydrated (compressed or offloaded ones)."""
        return with_retries(lambda: self._get(f"api/v1/workflows/{self.namespace}/{name}",
                                              {"fields": fields}), f"get workflow {name}", backoff, sleep)

    def children(self, parent: str, fields: str | None = None, backoff: Backoff = API_BACKOFF,
                 sleep: Callable[[float], None] = time.sleep) -> list[dict]:
        """The parent's child workflows (label `s1tiling-cloud/parent`)."""
        found = with_retries(lambda: self._get(f"api/v1/workflows/{self.namespace}", {
            "listOptions.labelSelector": f"{LABEL_PARENT}={parent}", "fields": fields}),
            f"list the children of {parent}", backoff, sleep)
        return list(found.get("items") or [])


def config_map_name(config_text: str) -> str:
    """A content-addressed name: the same request, the same ConfigMap."""
    return "s1tiling-request-" + hashlib.sha256(config_text.encode()).hexdigest()[:12]


def submission(config_text: str | None, scenario: str = "s1_process", *, namespace: str | None = None,
               config_map: str | None = None, parameters: Mapping[str, str] | None = None) -> Workflow:
    """The Workflow a submission creates: the scenario's WorkflowTemplate and the request.

    Parameters
    ----------
    config_text : str or None
        The `.cfg`'s text, sent as the `config` parameter's value (None with `config_map`).
    scenario : str, default "s1_process"
        The program, by API name or S1Tiling's name (`S1LIAMap`).
    namespace : str, optional
        The Workflow's namespace.
    config_map : str, optional
        Read the `.cfg` from this ConfigMap's `request.cfg` key instead (for requests too large
        to travel in a Workflow).
    parameters : mapping of str to str, optional
        Other WorkflowTemplate parameters (`image`, `max-nodes`); None values are left out.

    Returns
    -------
    Workflow

    Raises
    ------
    ConfigurationError
        (72) An unknown scenario.
    """
    try:
        template = scenario_of(scenario)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    if config_map:
        config = Parameter(name="config", value_from=m.ValueFrom(
            config_map_key_ref=m.ConfigMapKeySelector(name=config_map, key=CONFIG_KEY)))
    else:
        config = Parameter(name="config", value=config_text)
    extra = [Parameter(name=k, value=str(v)) for k, v in (parameters or {}).items() if v is not None]
    return Workflow(generate_name=f"{template.template}-", namespace=namespace,
                    labels={LABEL_SCENARIO: template.name},
                    workflow_template_ref=m.WorkflowTemplateRef(name=template.template),
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
    """A submitted workflow.

    Parameters
    ----------
    name, namespace : str
        The workflow's name and namespace.
    link : str
        Its page in the Argo UI.
    """

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


#: What `watch` polls: phases and progress, not every node's status (a child's nodes are
#: ~1 KB each; Argo Server's `fields` keeps the rest on the server).
POLL_FIELDS = "metadata.name,status.phase,status.progress"
POLL_CHILD_FIELDS = ",".join(f"items.{f}" for f in POLL_FIELDS.split(","))


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
          on_progress: Callable[[str, int, int], None] | None = None,
          sleep: Callable[[float], None] = time.sleep) -> int:
    """Follow a submission to its end; its exit code (`situation.workflow_exit_code`).

    Polls phases and progress only; once everything ended, reads the parent and each child
    whole through GetWorkflow, which serves their nodes however Argo stored them.
    """
    started = time.monotonic()
    while True:
        workflow = server.workflow(name, POLL_FIELDS, sleep=sleep)
        children = server.children(name, POLL_CHILD_FIELDS, sleep=sleep)
        phase = (workflow.get("status") or {}).get("phase") or "Pending"
        if on_progress:
            on_progress(phase, *progress_of(workflow, children))
        if phase in DONE_PHASES and all(
                (c.get("status") or {}).get("phase") in DONE_PHASES for c in children):
            full = [server.workflow(c["metadata"]["name"], sleep=sleep) for c in children]
            return workflow_exit_code(server.workflow(name, sleep=sleep), full)
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise TimeoutError(f"workflow {name} still {phase} after {timeout_seconds} s")
        sleep(poll_seconds)
