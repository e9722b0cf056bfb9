"""The pods of a plan, read from the Workflows that Argo would run (`argo.children`), and each
run as its own `docker run`.

Nothing here re-derives a pod from the plan: the command, its parameters, the environment, the
user, the read-only root filesystem, the /tmp emptyDir and the dropped capabilities are taken
from the rendered Workflow documents, with Argo's `{{inputs.parameters.NAME}}` substitution.
Only the Secrets (`envFrom`) are given by the caller, as the cluster would inject them.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from s1tiling_cloud.argo.children import part_workflows
from s1tiling_cloud.plan.model import Plan

STAGE_TIMEOUT_S = 300
_PARAMETER = re.compile(r"\{\{\s*inputs\.parameters\.([\w-]+)\s*\}\}")


@dataclass(frozen=True)
class Pod:
    """One DAG task of a rendered Workflow, as the container it becomes."""

    workflow: str
    task: str
    depends: tuple[str, ...]
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    read_only_root: bool = False
    no_new_privileges: bool = False
    drop_capabilities: tuple[str, ...] = ()
    empty_dirs: tuple[str, ...] = ()

    @property
    def stage(self) -> str:
        return self.command[self.command.index("stage") + 1]

    @property
    def arguments(self) -> str:
        return self.command[self.command.index("--args") + 1]


def _substitute(text: str, parameters: Mapping[str, str]) -> str:
    """Argo's substitution of `{{inputs.parameters.NAME}}` (an unknown name is an error)."""
    return _PARAMETER.sub(lambda match: parameters[match[1]], text)


def _depends(expression: str | None) -> tuple[str, ...]:
    """The task names of a `depends` made of `a && b` (what `argo.children` writes)."""
    if not expression:
        return ()
    names = tuple(term.strip() for term in expression.split("&&"))
    assert all(re.fullmatch(r"[\w.-]+", name) for name in names), expression
    return names


def workflow_pods(document: Mapping[str, Any]) -> list[Pod]:
    """The pods of one rendered Workflow, in the order of its DAG's tasks."""
    spec = document["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    pod_security = spec.get("securityContext") or {}
    user = (f"{pod_security['runAsUser']}:{pod_security.get('runAsGroup', pod_security['runAsUser'])}"
            if "runAsUser" in pod_security else None)
    empty_dirs = {v["name"] for v in spec.get("volumes") or [] if "emptyDir" in v}
    dag = templates[spec["entrypoint"]]["dag"]
    pods = []
    for task in dag["tasks"]:
        template = templates[task["template"]]
        parameters = {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters", [])}
        if "steps" in template:  # a wrapper carrying the retries (ingest): its one step is the pod
            [[step]] = template["steps"]
            parameters = {p["name"]: _substitute(p["value"], parameters)
                          for p in step["arguments"]["parameters"]}
            template = templates[step["template"]]
        container = template["container"]
        security = container.get("securityContext") or {}
        pods.append(Pod(
            workflow=document["metadata"].get("name") or document["metadata"]["generateName"],
            task=task["name"],
            depends=_depends(task.get("depends")),
            command=tuple(_substitute(part, parameters) for part in container["command"]),
            env={e["name"]: e["value"] for e in container.get("env") or [] if "value" in e},
            user=user,
            read_only_root=bool(security.get("readOnlyRootFilesystem")),
            no_new_privileges=security.get("allowPrivilegeEscalation") is False,
            drop_capabilities=tuple((security.get("capabilities") or {}).get("drop") or ()),
            empty_dirs=tuple(m["mountPath"] for m in container.get("volumeMounts") or []
                             if m["name"] in empty_dirs),
        ))
    return pods


def in_dependency_order(pods: list[Pod]) -> Iterator[Pod]:
    """Each pod after those its task depends on (Argo's order for a DAG run one at a time)."""
    done: set[str] = set()
    pending = list(pods)
    while pending:
        ready = [p for p in pending if all(d in done for d in p.depends)]
        assert ready, f"a cycle among {[p.task for p in pending]}"
        for pod in ready:
            done.add(pod.task)
            yield pod
        pending = [p for p in pending if p.task not in done]


def plan_pods(plan: Plan, image: str) -> list[Pod]:
    """Every pod of `plan`'s child Workflows (shared parts first), each in dependency order."""
    pods: list[Pod] = []
    for _, workflow in part_workflows(plan, image=image):
        pods.extend(in_dependency_order(workflow_pods(workflow.to_dict())))
    return pods


def docker_command(cli: str, image: str, pod: Pod, secrets: Mapping[str, str]) -> list[str]:
    """`docker run` of `pod`: its template's user, filesystem, capabilities and env, the
    Secrets' variables, the host's network (where the S3 server listens)."""
    command = [cli, "run", "--rm", "--network", "host"]
    if pod.user:
        command += ["--user", pod.user]
    if pod.read_only_root:
        command.append("--read-only")
    for path in pod.empty_dirs:
        command += ["--tmpfs", f"{path}:rw,size=2g,mode=1777"]
    for capability in pod.drop_capabilities:
        command += ["--cap-drop", capability]
    if pod.no_new_privileges:
        command += ["--security-opt", "no-new-privileges"]
    for name, value in {**pod.env, **secrets}.items():
        command += ["--env", f"{name}={value}"]
    # A container's `command` replaces the image's entrypoint, as in Kubernetes.
    return [*command, "--entrypoint", pod.command[0], image, *pod.command[1:]]


def run_pod(cli: str, image: str, pod: Pod, secrets: Mapping[str, str]) -> dict:
    """Run `pod` in a fresh container; its stage's one-line JSON result."""
    done = subprocess.run(docker_command(cli, image, pod, secrets), capture_output=True, text=True,
                          timeout=STAGE_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise AssertionError(f"pod {pod.task} ({pod.stage}) ended with {done.returncode}:\n"
                             f"{done.stderr[-4000:]}")
    lines = done.stdout.splitlines()
    assert len(lines) == 1, f"a pod's stdout is its one JSON line, not {done.stdout!r}"
    return json.loads(lines[0])
