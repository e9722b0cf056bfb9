"""Semantic checks of an Argo document: what no JSON schema can say.

Each check returns messages (empty: it passes). `semantic_errors` runs them all; tests mutate
a good document and see each one fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .names import MAX_TASK_NAME, TASK_NAME

ARGO_MAX_BYTES = 1024 * 1024
_REFERENCE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_DEPENDS_TOKEN = re.compile(r"[A-Za-z0-9][-A-Za-z0-9]*(?:\.[A-Za-z]+)?")
_DEPENDS_RESULTS = {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned",
                    "AnySucceeded", "AllFailed"}
#: Environment variable names that must come from a Secret, never a literal value.
_SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|ACCESS_KEY|API_KEY|CREDENTIAL)", re.I)
#: Values that look like credentials wherever they are.
_SECRET_VALUE = re.compile(r"(AKIA|ASIA)[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
                           r"aws_secret_access_key\s*[=:]|(?:^|\W)eyJ[A-Za-z0-9_-]{20,}\.")


def _spec(document: Mapping[str, Any]) -> Mapping[str, Any]:
    return document.get("spec") or {}


def _templates(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {t.get("name"): t for t in _spec(document).get("templates") or []}


def _tasks(template: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if template.get("dag"):
        return list(template["dag"].get("tasks") or [])
    return [step for group in template.get("steps") or [] for step in group]


def _declared(parameters: Iterable[Mapping[str, Any]] | None) -> set[str]:
    return {p.get("name") for p in parameters or []}


def check_entrypoint(document: Mapping[str, Any]) -> list[str]:
    spec = _spec(document)
    if spec.get("workflowTemplateRef"):
        return []
    entry = spec.get("entrypoint")
    if not entry:
        return ["spec.entrypoint is missing"]
    return [] if entry in _templates(document) else [f"entrypoint {entry!r} names no template"]


def check_names(document: Mapping[str, Any]) -> list[str]:
    errors, seen = [], set()
    for name in (t.get("name") for t in _spec(document).get("templates") or []):
        if name in seen:
            errors.append(f"template {name!r} is defined twice")
        seen.add(name)
    for tname, template in _templates(document).items():
        names = [t.get("name") or "" for t in _tasks(template)]
        for name in names:
            if not TASK_NAME.match(name) or len(name) > MAX_TASK_NAME:
                errors.append(f"{tname}: task name {name!r} is not a valid Argo task name")
        errors += [f"{tname}: task {n!r} is defined twice" for n in sorted(set(names))
                   if names.count(n) > 1]
    return errors


def check_template_references(document: Mapping[str, Any]) -> list[str]:
    templates = _templates(document)
    errors = []
    for tname, template in templates.items():
        for task in _tasks(template):
            target = task.get("template")
            if target is None and not (task.get("templateRef") or task.get("inline")):
                errors.append(f"{tname}.{task.get('name')}: no template")
            elif target is not None and target not in templates:
                errors.append(f"{tname}.{task.get('name')}: template {target!r} does not exist")
    on_exit = _spec(document).get("onExit")
    if on_exit and on_exit not in templates:
        errors.append(f"onExit template {on_exit!r} does not exist")
    return errors


def depends_targets(expression: str) -> set[str]:
    """Task names an Argo `depends` expression refers to (`a && (b.Failed || c)`)."""
    names = set()
    for token in _DEPENDS_TOKEN.findall(expression):
        name, _, result = token.partition(".")
        if result and result not in _DEPENDS_RESULTS:
            names.add(token)  # an unknown result is reported as an unknown target
        else:
            names.add(name)
    return names


def check_depends(document: Mapping[str, Any]) -> list[str]:
    errors = []
    for tname, template in _templates(document).items():
        if not template.get("dag"):
            continue
        tasks = {t.get("name") for t in _tasks(template)}
        for task in _tasks(template):
            targets = depends_targets(task.get("depends") or "") | set(task.get("dependencies") or [])
            errors += [f"{tname}.{task.get('name')}: depends on {t!r}, which is not a task of the DAG"
                       for t in sorted(targets - tasks)]
            if task.get("name") in targets:
                errors.append(f"{tname}.{task.get('name')}: depends on itself")
    return errors


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}.{i}")


def _outputs_of(templates: Mapping[str, Mapping[str, Any]], task: Mapping[str, Any]) -> set[str] | None:
    template = templates.get(task.get("template") or "")
    if template is None:
        return None  # templateRef: declared elsewhere
    return _declared((template.get("outputs") or {}).get("parameters"))


def check_parameter_references(document: Mapping[str, Any]) -> list[str]:
    """Every `{{inputs.parameters.x}}`, `{{workflow.parameters.x}}`, `{{tasks.t.outputs...}}`
    and `{{item}}` resolves; every task passes the inputs its template needs, and no other."""
    spec = _spec(document)
    templates = _templates(document)
    global_parameters = _declared((spec.get("arguments") or {}).get("parameters"))
    errors = []
    for tname, template in templates.items():
        inputs = _declared((template.get("inputs") or {}).get("parameters"))
        tasks = {t.get("name"): t for t in _tasks(template)}
        own = {k: v for k, v in template.items() if k not in ("dag", "steps")}
        for where, text in _strings(own, tname):
            errors += _unresolved(text, where, inputs, global_parameters, {}, templates, item=False)
        for task in tasks.values():
            looped = any(task.get(k) is not None for k in ("withParam", "withItems", "withSequence"))
            errors += [e for where, text in _strings(task, f"{tname}.{task.get('name')}")
                       for e in _unresolved(text, where, inputs, global_parameters, tasks, templates,
                                            item=looped)]
            errors += _task_arguments(tname, task, templates)
    return errors


def _unresolved(text: str, where: str, inputs: set[str], global_parameters: set[str],
                tasks: Mapping[str, Mapping[str, Any]], templates: Mapping[str, Mapping[str, Any]],
                *, item: bool) -> list[str]:
    errors = []
    for reference in _REFERENCE.findall(text):
        parts = reference.split(".")
        if parts[:2] == ["inputs", "parameters"] and parts[2] not in inputs:
            errors.append(f"{where}: {{{{{reference}}}}} is not an input of the template")
        elif parts[:2] == ["workflow", "parameters"] and parts[2] not in global_parameters:
            errors.append(f"{where}: {{{{{reference}}}}} is not a workflow parameter")
        elif parts[0] in ("item",) and not item:
            errors.append(f"{where}: {{{{item}}}} outside a withParam/withItems task")
        elif parts[0] in ("tasks", "steps") and len(parts) >= 3:
            task = tasks.get(parts[1])
            if task is None:
                errors.append(f"{where}: {{{{{reference}}}}} names no task of this DAG")
            elif parts[2:4] == ["outputs", "parameters"]:
                declared = _outputs_of(templates, task)
                if declared is not None and parts[4] not in declared:
                    errors.append(f"{where}: {{{{{reference}}}}} is not an output of {parts[1]!r}")
    return errors


def _task_arguments(tname: str, task: Mapping[str, Any], templates: Mapping[str, Mapping[str, Any]]
                    ) -> list[str]:
    template = templates.get(task.get("template") or "")
    if template is None:
        return []
    wanted = {p.get("name"): p for p in (template.get("inputs") or {}).get("parameters") or []}
    given = _declared((task.get("arguments") or {}).get("parameters"))
    where = f"{tname}.{task.get('name')}"
    errors = [f"{where}: passes {name!r}, not an input of {task.get('template')!r}"
              for name in sorted(given - set(wanted))]
    errors += [f"{where}: does not pass {name!r}, which {task.get('template')!r} needs"
               for name, p in sorted(wanted.items())
               if name not in given and "value" not in p and "default" not in p and "valueFrom" not in p]
    return errors


def check_size(document: Mapping[str, Any], *, max_nodes: int = 1000, max_bytes: int = ARGO_MAX_BYTES
               ) -> list[str]:
    errors = []
    tasks = sum(len(_tasks(t)) for t in _templates(document).values())
    if tasks > max_nodes:
        errors.append(f"{tasks} tasks: more than {max_nodes} nodes in one workflow")
    size = len(json.dumps(document, separators=(",", ":")))
    if size >= max_bytes:
        errors.append(f"{size} bytes: not under {max_bytes} (Argo stores a workflow in one object)")
    return errors


def check_secrets(document: Mapping[str, Any], secret_values: Iterable[str] = ()) -> list[str]:
    """No credential in the document: secret-like env vars only from Secrets, nothing that
    looks like a key, and none of `secret_values` (e.g. the submitter's own credentials)."""
    errors = []
    for where, text in _strings(document):
        if _SECRET_VALUE.search(text):
            errors.append(f"{where}: looks like a credential")
        errors += [f"{where}: holds a secret value" for s in secret_values if s and len(s) >= 4 and s in text]
    for template in _templates(document).values():
        for container in _containers(template):
            for env in container.get("env") or []:
                if _SECRET_NAME.search(env.get("name") or "") and "value" in env:
                    errors.append(f"{template.get('name')}: env {env.get('name')} has a literal value "
                                  "(credentials come from Secrets)")
    return errors


def _containers(template: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("container", "script"):
        if template.get(key):
            yield template[key]
    yield from template.get("initContainers") or []
    yield from template.get("sidecars") or []
    yield from (template.get("containerSet") or {}).get("containers") or []


def semantic_errors(document: Mapping[str, Any], *, max_nodes: int = 1000, max_bytes: int = ARGO_MAX_BYTES,
                    secret_values: Iterable[str] = ()) -> list[str]:
    """Every semantic check's messages."""
    return [*check_entrypoint(document), *check_names(document), *check_template_references(document),
            *check_depends(document), *check_parameter_references(document),
            *check_size(document, max_nodes=max_nodes, max_bytes=max_bytes),
            *check_secrets(document, secret_values)]
