"""The static WorkflowTemplates, one per scenario (S1Tiling's commands).

A submission is a tiny Workflow that references one of them with the request's `.cfg` as the
`config` parameter (a literal, or from a ConfigMap). Its DAG:

    plan ─┬─> shared (withParam: level-0 parts) ─┬─> parts (withParam: level-1 parts)
          └──────────────────────────────────────┘

`plan` computes the plan, splits it, writes the plan and one child-workflow manifest per part
to object storage, and outputs the lists of manifest URIs; each `launch` pod creates one child
workflow (owned by this one) and follows it to its end.
"""

from __future__ import annotations

import json

from hera.workflows import DAG, Parameter, Task, WorkflowTemplate
from hera.workflows import models as m

from ..config.scenario import scenario as scenario_of
from . import podspec
from .defaults import LABEL_SCENARIO, ArgoSettings

OUTPUTS_DIR = "/tmp/outputs"
#: The `.cfg` travels in this environment variable of the planning pod (not on its command line).
CONFIG_ENV = "S1TILING_CFG"
#: Parts that end in failure still let the next level run: their tiles fail, not the others
#: (S1Tiling goes on with the other tiles and counts the failures).
AFTER_SHARED = "plan && (shared.Succeeded || shared.Skipped || shared.Failed || shared.Errored)"


def _parameters(settings: ArgoSettings) -> list[Parameter]:
    return [
        Parameter(name="config", description="The request: an S1Tiling .cfg file's text"),
        Parameter(name="image", value=settings.image, description="Image of every pod"),
        Parameter(name="max-nodes", value=str(settings.max_nodes),
                  description="Most stage calls in one child workflow"),
        Parameter(name="parallelism", value=str(settings.parallelism or 0),
                  description="Most pods at once in one child workflow (0: no bound)"),
        Parameter(name="semaphore-keys",
                  value=json.dumps(sorted(settings.semaphore_keys), separators=(",", ":")),
                  description="Keys of the download semaphore ConfigMap (JSON list); other "
                              "providers share 'default'"),
        Parameter(name="argo-server", value=settings.argo_server,
                  description="Argo Server URL the launchers read offloaded node statuses from"),
    ]


def _plan_template(scenario: str, settings: ArgoSettings):
    command = ["s1tiling-cloud", "workflow", "plan-pod", "--scenario", scenario,
               "--workflow-name", "{{workflow.name}}", "--namespace", "{{workflow.namespace}}",
               "--image", "{{workflow.parameters.image}}",
               "--service-account", "{{workflow.serviceAccountName}}",
               "--stage-service-account", settings.stage_service_account,
               "--max-nodes", "{{workflow.parameters.max-nodes}}",
               "--parallelism", "{{workflow.parameters.parallelism}}",
               "--s3-secret", settings.s3_secret, "--eodag-secret", settings.eodag_secret,
               "--semaphore-configmap", settings.semaphore_configmap,
               "--semaphore-keys", "{{workflow.parameters.semaphore-keys}}",
               "--workflow-uid", "{{workflow.uid}}",
               "--outputs-dir", OUTPUTS_DIR]
    outputs = [Parameter(name=name, value_from=m.ValueFrom(path=f"{OUTPUTS_DIR}/{name}.json"))
               for name in ("shared-parts", "parts", "storage-options")]
    return podspec.container_template(
        "plan", settings, "control", retry="plan", command=command, outputs=outputs,
        eodag=settings.search_credentials,
        image="{{workflow.parameters.image}}", env={CONFIG_ENV: "{{workflow.parameters.config}}"})


def _launch_template(settings: ArgoSettings):
    command = ["s1tiling-cloud", "workflow", "launch", "{{inputs.parameters.manifest}}",
               "--storage-options", "{{inputs.parameters.storage-options}}",
               "--owner-name", "{{workflow.name}}", "--owner-uid", "{{workflow.uid}}",
               "--namespace", "{{workflow.namespace}}",
               "--argo-server", "{{workflow.parameters.argo-server}}"]
    return podspec.container_template(
        "launch", settings, "control", command=command, image="{{workflow.parameters.image}}",
        inputs=[Parameter(name="manifest"), Parameter(name="storage-options")])


def _launch_task(name: str, parts: str, depends: str) -> Task:
    return Task(name=name, template="launch", depends=depends,
                with_param=f"{{{{tasks.plan.outputs.parameters.{parts}}}}}",
                arguments={"manifest": "{{item}}",
                           "storage-options": "{{tasks.plan.outputs.parameters.storage-options}}"})


def workflow_template(scenario: str = "s1_process", settings: ArgoSettings | None = None) -> WorkflowTemplate:
    """The WorkflowTemplate of a scenario: a planning pod, then the launchers of its children.

    Parameters
    ----------
    scenario : str, default "s1_process"
        The program, by API name or S1Tiling's name (`S1LIAMap`).
    settings : ArgoSettings, optional
        The deployment's settings; by default `ArgoSettings()`.

    Returns
    -------
    WorkflowTemplate
        Named as the registry says (`Scenario.template`).

    Raises
    ------
    ValueError
        An unknown scenario.
    """
    template = scenario_of(scenario)
    scenario = template.name
    chosen = settings or ArgoSettings()
    main = DAG(name="main", tasks=[
        Task(name="plan", template="plan"),
        _launch_task("shared", "shared-parts", "plan"),
        _launch_task("parts", "parts", AFTER_SHARED),
    ])
    return WorkflowTemplate(
        name=template.template,
        namespace=chosen.namespace,
        labels={LABEL_SCENARIO: scenario, "app.kubernetes.io/name": "s1tiling-cloud"},
        annotations={"workflows.argoproj.io/title": f"S1Tiling {scenario}",
                     "workflows.argoproj.io/description":
                         "Plans the request, then runs its stage calls as child workflows"},
        entrypoint="main",
        arguments=_parameters(chosen),
        service_account_name=chosen.service_account,
        pod_gc=podspec.pod_gc(),
        ttl_strategy=podspec.ttl_strategy(chosen),
        security_context=podspec.pod_security_context(chosen),
        volumes=[podspec.scratch_volume()],
        templates=[main, _plan_template(scenario, chosen), _launch_template(chosen)],
    )
