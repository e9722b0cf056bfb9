"""A plan's parts as child Argo `Workflow`s: one DAG task per plan node, `depends` mirroring
`node.depends`, each task a pod running `s1tiling-cloud stage NODE.stage --args JSON`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hera.workflows import DAG, Container, Parameter, Step, Steps, Task, Workflow
from hera.workflows import models as m

from ..config.scenario import scenario as scenario_of
from ..plan.model import Node, Plan
from ..stages.registry import stage, stage_arguments
from . import podspec
from .defaults import (
    DEFAULT_PROVIDER_KEY,
    LABEL_LEVEL,
    LABEL_PARENT,
    LABEL_PART,
    LABEL_SCENARIO,
    ArgoSettings,
)
from .names import child_name, object_name, slug, task_names
from .split import Part, split_plan

Template = Container | Steps

#: The command of every stage pod: exactly what the local runner calls, through the CLI.
STAGE_COMMAND = ["s1tiling-cloud", "stage", "{{inputs.parameters.stage}}",
                 "--args", "{{inputs.parameters.args}}"]


@dataclass(frozen=True)
class ParentRef:
    """The workflow that launches the children.

    Parameters
    ----------
    name : str
        Its name (the children's label and name prefix).
    uid : str, optional
        Its uid: it makes the parent the children's owner, so that deleting it deletes them.
    """

    name: str
    uid: str | None = None


def provider_of(node: Node) -> str:
    """The eodag provider an ingest node downloads from, in lower case: `provider` in its args
    or in its product (the candidate, or eodag's GeoJSON `properties.eodag_provider`); the
    default key when the product is already somewhere (nothing to download)."""
    found = node.args.get("provider")
    product = node.args.get("product")
    if not found and isinstance(product, Mapping):
        properties = product.get("properties")
        found = product.get("provider") or (
            properties.get("eodag_provider") if isinstance(properties, Mapping) else None)
    return str(found).lower() if found else DEFAULT_PROVIDER_KEY


def semaphore_key(node: Node, keys: Iterable[str]) -> str:
    """The semaphore ConfigMap key of an ingest node: its provider's name as is (`cop_dataspace`)
    when the ConfigMap has one, else `default` (Argo errors the node on a missing key:
    "Sync configuration key '…' not found in ConfigMap", workflow/controller/controller.go)."""
    provider = provider_of(node)
    return provider if provider in set(keys) else DEFAULT_PROVIDER_KEY


def template_name(node: Node, settings: ArgoSettings) -> str:
    kind = stage(node.stage).pod_kind
    if kind == "ingest":
        return f"stage-ingest-{slug(semaphore_key(node, settings.semaphore_keys))}"
    return f"stage-{kind}"


def _stage_templates(name: str, node: Node, settings: ArgoSettings) -> list[Template]:
    """The templates a node's task calls: its pod's, retried by Argo with its kind's policy.

    An ingest's download slot (a semaphore) must be held only while its pod runs: Argo takes a
    template's lock for the node of the template that holds it and, with a `retryStrategy` on
    the same template, that is the Retry node, released once every attempt ended
    (workflow/controller/operator.go `executeTemplate`). So an ingest task calls a `steps`
    wrapper carrying the retries, whose one step is the pod holding the semaphore: each attempt
    takes and frees a slot, and none is held through the backoff waits.
    """
    kind = stage(node.stage).pod_kind
    inputs = [Parameter(name="stage"), Parameter(name="args")]
    if kind != "ingest":
        return [podspec.container_template(name, settings, kind, command=STAGE_COMMAND, inputs=inputs)]
    key = m.ConfigMapKeySelector(name=settings.semaphore_configmap,
                                 key=semaphore_key(node, settings.semaphore_keys))
    sync = m.Synchronization(semaphores=[m.SemaphoreRef(config_map_key_ref=key)])
    attempt = podspec.container_template(f"{name}-pod", settings, kind, command=STAGE_COMMAND,
                                         eodag=True, synchronization=sync, inputs=inputs, retried=False)
    policy = settings.retry_policies[kind]
    wrapper = Steps(name=name, inputs=inputs, annotations=podspec.longest_run(policy),
                    retry_strategy=podspec.retry_strategy(policy, by_exit_code=False),
                    sub_steps=[Step(name="download", template=attempt.name, arguments={
                        "stage": "{{inputs.parameters.stage}}", "args": "{{inputs.parameters.args}}"})])
    return [wrapper, attempt]


def _tiles(nodes: list[Node]) -> list[str]:
    return sorted({str(n.args["tile"]) for n in nodes if isinstance(n.args.get("tile"), str)})


def part_workflow(plan: Plan, part: Part, *, settings: ArgoSettings, parent: ParentRef | None = None,
                  total: int = 1) -> Workflow:
    """One child workflow: the part's nodes as DAG tasks (dependencies outside the part ran
    before it: they are in a level-0 part)."""
    if not part.nodes:
        raise ValueError(f"{part.name} has no node: Argo refuses a DAG without tasks")
    inside = part.ids
    names = task_names(part.nodes)
    templates: dict[str, Template] = {}
    tasks = []
    for node in part.nodes:
        template = template_name(node, settings)
        if template not in templates:
            templates.update((t.name, t) for t in _stage_templates(template, node, settings))
        depends = " && ".join(names[d] for d in node.depends if d in inside) or None
        args = json.dumps(stage_arguments(node.stage, node.args, plan.storage_options), sort_keys=True)
        tasks.append(Task(name=names[node.id], template=template, depends=depends,
                          arguments={"stage": node.stage, "args": args}))
    scenario_template = scenario_of(plan.scenario).template
    labels = {LABEL_SCENARIO: plan.scenario, LABEL_PART: part.name, LABEL_LEVEL: str(part.level),
              "app.kubernetes.io/name": "s1tiling-cloud"}
    tiles = _tiles(part.nodes)
    title = f"{plan.scenario} {' '.join(tiles[:8])}{' …' if len(tiles) > 8 else ''} ({part.name} of {total})"
    annotations = {"workflows.argoproj.io/title": title.replace("  ", " "),
                   "workflows.argoproj.io/description": f"{len(part.nodes)} stage calls"
                                                        f"{', shared inputs' if part.level == 0 else ''}"}
    naming: dict[str, Any] = {}
    if parent:
        labels[LABEL_PARENT] = parent.name
        naming["name"] = child_name(parent.name, parent.uid, part.name)
        if parent.uid:
            naming["owner_references"] = [m.OwnerReference(
                api_version="argoproj.io/v1alpha1", kind="Workflow", name=parent.name, uid=parent.uid,
                block_owner_deletion=True)]
    else:
        naming["generate_name"] = object_name(scenario_template, part.name) + "-"
    return Workflow(
        **naming,
        namespace=settings.namespace,
        labels=labels,
        annotations=annotations,
        entrypoint="main",
        service_account_name=settings.stage_service_account,  # stage pods only: no API rights
        parallelism=settings.parallelism,
        pod_gc=podspec.pod_gc(),
        ttl_strategy=podspec.ttl_strategy(settings),
        security_context=podspec.pod_security_context(settings),
        volumes=[podspec.scratch_volume()],
        templates=[*templates.values(), DAG(name="main", tasks=tasks)],
    )


def part_workflows(plan: Plan, *, image: str | None = None, namespace: str | None = None,
                   service_account: str | None = None, max_nodes: int | None = None,
                   max_bytes: int | None = None, parent: ParentRef | None = None,
                   settings: ArgoSettings | None = None) -> list[tuple[Part, Workflow]]:
    """The plan as child workflows, level-0 ("shared") parts first, each with its part.

    Parameters
    ----------
    plan : Plan
        The plan (`plan_request`), usually without what is already done.
    image, namespace : str, optional
        The pods' image and the workflows' namespace; by default the settings'.
    service_account : str, optional
        The stage pods' ServiceAccount (children hold nothing else); by default the settings'.
    max_nodes, max_bytes : int, optional
        The most stage calls, and bytes of manifest, in one child; by default the settings'.
    parent : ParentRef, optional
        The launching workflow, owner of the children.
    settings : ArgoSettings, optional
        The deployment's settings; by default `ArgoSettings()`.

    Returns
    -------
    list of (Part, Workflow)
        Each part of the split plan and its child workflow.
    """
    chosen = (settings or ArgoSettings()).with_(image=image, namespace=namespace,
                                                stage_service_account=service_account,
                                                max_nodes=max_nodes, max_bytes=max_bytes)
    parts = split_plan(plan, max_nodes=chosen.max_nodes, max_bytes=chosen.max_bytes)
    return [(part, part_workflow(plan, part, settings=chosen, parent=parent, total=len(parts)))
            for part in parts]


def plan_to_workflows(plan: Plan, *, image: str | None = None, namespace: str | None = None,
                      service_account: str | None = None, max_nodes: int | None = None,
                      max_bytes: int | None = None, parent: ParentRef | None = None,
                      settings: ArgoSettings | None = None) -> list[Workflow]:
    """The plan as child workflows, level-0 ("shared") parts first.

    Parameters
    ----------
    plan, image, namespace, service_account, max_nodes, max_bytes, parent, settings
        As in `part_workflows`.

    Returns
    -------
    list of Workflow
    """
    return [workflow for _, workflow in part_workflows(
        plan, image=image, namespace=namespace, service_account=service_account, max_nodes=max_nodes,
        max_bytes=max_bytes, parent=parent, settings=settings)]
