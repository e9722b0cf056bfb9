"""Semantic checks of an Argo document: what no JSON schema can say, and what Argo's
controller would refuse or mishandle (each rule cites the Argo source it encodes).

Each check returns messages (empty: it passes). `semantic_errors` runs them all; tests mutate
a good document and see each one fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..config.secrets import EXTRA_VARIABLE
from .defaults import ANNOTATION_LONGEST_RUN, retry_budget, seconds
from .names import DNS_LABEL, MAX_OBJECT_NAME, MAX_TASK_NAME, TASK_NAME

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


#: Kubernetes label values: 63 characters at most, alphanumerics at both ends.
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
#: A CronWorkflow's name: its workflows append `-{unix time}` (validate.go
#: `maxCharsInCronWorkflowName`).
MAX_CRON_NAME = 52
#: Characters `generateName` leaves for the random suffix Kubernetes appends.
GENERATED_SUFFIX = 5
#: Words of Argo's expression language (expr-lang) that cannot name a variable.
_EXPR_WORDS = {"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith", "true",
               "false", "nil", "let", "if", "else"}
_EXPR_TOKEN = re.compile(r"\s*(?:(&&|\|\||!|\(|\))|([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z]+))?)")


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


def check_dags_not_empty(document: Mapping[str, Any]) -> list[str]:
    """Argo refuses a DAG template without tasks ("templates.main must have at least one task",
    workflow/validate/validate.go `validateDAG`): a plan with nothing to do makes no child."""
    return [f"templates.{name} must have at least one task"
            for name, template in _templates(document).items()
            if "dag" in template and not (template["dag"] or {}).get("tasks")]


def check_object_names(document: Mapping[str, Any]) -> list[str]:
    """Names Kubernetes and Argo accept: `metadata.name` a DNS-1123 label of at most 63
    characters (Argo's `maxCharsInObjectName`, workflow/validate/validate.go: the name becomes
    the `workflows.argoproj.io/workflow` label of every pod), 52 for a CronWorkflow
    (`maxCharsInCronWorkflowName`), `generateName` leaving room for the random suffix, label
    values at most 63 characters."""
    metadata = document.get("metadata") or {}
    errors = []
    name, generated = metadata.get("name"), metadata.get("generateName")
    longest = MAX_CRON_NAME if document.get("kind") == "CronWorkflow" else MAX_OBJECT_NAME
    if name is not None and (len(name) > longest or not DNS_LABEL.match(name)):
        errors.append(f"metadata.name {name!r} is not a DNS-1123 label of at most {longest} characters")
    if generated is not None and (len(generated) > MAX_OBJECT_NAME - GENERATED_SUFFIX
                                  or not DNS_LABEL.match(generated.rstrip("-") or "-")):
        errors.append(f"metadata.generateName {generated!r} leaves no valid {MAX_OBJECT_NAME}-character name")
    for key, value in (metadata.get("labels") or {}).items():
        if len(str(value)) > MAX_OBJECT_NAME or not _LABEL_VALUE.match(str(value)):
            errors.append(f"label {key}={value!r} is not a valid label value")
    return errors


def _parse_depends(tokens: list[tuple[str, str, str]]) -> None:
    """Recursive descent over `or := and ('||' and)*; and := unary ('&&' unary)*;
    unary := '!' unary | '(' or ')' | name`; raises ValueError."""
    position = 0

    def peek() -> str:
        return tokens[position][0] if position < len(tokens) else ""

    def expect(symbol: str) -> None:
        nonlocal position
        if peek() != symbol:
            raise ValueError(f"expected {symbol!r} at token {position + 1}")
        position += 1

    def unary() -> None:
        nonlocal position
        if peek() == "!":
            position += 1
            unary()
        elif peek() == "(":
            position += 1
            disjunction()
            expect(")")
        elif peek() == "name":
            position += 1
        else:
            raise ValueError(f"expected a task at token {position + 1}")

    def conjunction() -> None:
        nonlocal position
        unary()
        while peek() == "&&":
            position += 1
            unary()

    def disjunction() -> None:
        nonlocal position
        conjunction()
        while peek() == "||":
            position += 1
            conjunction()

    disjunction()
    if position != len(tokens):
        raise ValueError(f"unexpected {tokens[position][1]!r}")


def depends_errors(expression: str, tasks: Iterable[str], check_targets: bool = True) -> list[str]:
    """Why Argo could not evaluate a `depends` expression: the controller replaces every '-' of
    it by '_' (workflow/controller/dag.go `evaluateDependsLogic`) and evaluates it with expr, so
    each task must become an identifier (no leading digit, which validate.go also refuses, no
    expr keyword) and the whole must parse; results are Argo's (workflow/common/ancestry.go
    `ValidateTaskResults`). `check_targets=False`: leave unknown tasks and results to
    `check_depends`, which `semantic_errors` runs too."""
    rewritten = expression.replace("-", "_")
    known = {t.replace("-", "_") for t in tasks}
    tokens, errors, position = [], [], 0
    while position < len(rewritten.rstrip()):
        found = _EXPR_TOKEN.match(rewritten, position)
        if not found or found.end() == position:
            return [f"cannot read {rewritten[position:]!r} after Argo's '-' to '_' rewrite"]
        position = found.end()
        symbol, name, result = found.groups()
        if symbol:
            tokens.append((symbol, symbol, ""))
            continue
        tokens.append(("name", name, result or ""))
        if name in _EXPR_WORDS:
            errors.append(f"{name!r} is a word of Argo's expression language, not a task")
        elif check_targets and name not in known:
            errors.append(f"{name!r} names no task once '-' becomes '_'")
        if check_targets and result and result not in _DEPENDS_RESULTS:
            errors.append(f"task result {result!r} of {name!r} is not one of Argo's")
    try:
        _parse_depends(tokens)
    except ValueError as error:
        errors.append(f"{rewritten!r} does not parse: {error}")
    return errors


def check_depends_expressions(document: Mapping[str, Any]) -> list[str]:
    errors = []
    for tname, template in _templates(document).items():
        if not template.get("dag"):
            continue
        names = [t.get("name") or "" for t in _tasks(template)]
        uses_depends = any(t.get("depends") for t in _tasks(template))
        if uses_depends:
            errors += [f"{tname}.{n}: name cannot begin with a digit when using 'depends' (validate.go)"
                       for n in names if n[:1].isdigit()]
        for task in _tasks(template):
            expression = task.get("depends")
            if expression:
                errors += [f"{tname}.{task.get('name')}: depends {expression!r}: {e}"
                           for e in depends_errors(expression, names, check_targets=False)]
    return errors


def _synchronizations(template: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    sync = template.get("synchronization") or {}
    yield from sync.get("semaphores") or []
    if sync.get("semaphore"):
        yield sync["semaphore"]


def semaphore_keys(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(ConfigMap, key) of every semaphore the document's templates and spec hold."""
    found = set()
    holders = [*_templates(document).values(), _spec(document)]
    for holder in holders:
        for semaphore in _synchronizations(holder):
            ref = semaphore.get("configMapKeyRef") or {}
            if ref:
                found.add((ref.get("name"), ref.get("key")))
    return found


def check_semaphore_keys(document: Mapping[str, Any], config_maps: Mapping[str, Mapping[str, Any]]
                         ) -> list[str]:
    """Every semaphore key the document references exists, with an integer, in `config_maps`
    (name -> data, e.g. what the chart installs): otherwise Argo errors the node with
    "Sync configuration key '…' not found in ConfigMap" (workflow/controller/controller.go's
    semaphore limit getter, workflow/sync/)."""
    errors = []
    for name, key in sorted(semaphore_keys(document)):
        data = config_maps.get(name)
        if data is None:
            missing = f"semaphore ConfigMap {name!r} is not installed"
            errors += [] if missing in errors else [missing]
        elif key not in data:
            errors.append(f"Sync configuration key {key!r} not found in ConfigMap {name!r}")
        elif not str(data[key]).strip().isdigit():
            errors.append(f"semaphore {name}/{key} is {data[key]!r}, not an integer")
    return errors


def check_locks_not_held_through_retries(document: Mapping[str, Any]) -> list[str]:
    """No template holds a semaphore or mutex and retries: Argo takes the lock for the node of
    the template, which with a `retryStrategy` is the Retry node, and frees it only once every
    attempt ended (workflow/controller/operator.go `executeTemplate`): the slot would stay taken
    through every backoff wait. Retry a wrapper around the locking template instead."""
    return [f"{name}: holds a lock through its retries (synchronization and retryStrategy on one template)"
            for name, template in _templates(document).items()
            if template.get("synchronization") and template.get("retryStrategy")]


def check_retry_budgets(document: Mapping[str, Any]) -> list[str]:
    """No `retryStrategy.backoff.maxDuration` shorter than the template's attempts: Argo counts
    it from the FIRST attempt's start (workflow/controller/operator.go `processNodeRetries`,
    argo-workflows#13044), so it must cover (limit + 1) × the longest run (the template's
    `s1tiling-cloud/longest-run` annotation) plus every backoff wait, or a slow attempt that
    fails is never retried."""
    errors = []
    for name, template in _templates(document).items():
        strategy = template.get("retryStrategy") or {}
        backoff = strategy.get("backoff") or {}
        if not backoff.get("maxDuration"):
            continue
        longest = ((template.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_LONGEST_RUN)
        if not longest:
            errors.append(f"{name}: maxDuration {backoff['maxDuration']} with no {ANNOTATION_LONGEST_RUN} "
                          "annotation to check it against")
            continue
        limit = int(strategy.get("limit") or 0)
        first, factor = seconds(str(backoff.get("duration") or "0")), int(backoff.get("factor") or 1)
        needed = retry_budget(limit, first, factor, seconds(longest))
        if seconds(str(backoff["maxDuration"])) < needed:
            errors.append(f"{name}: maxDuration {backoff['maxDuration']} is shorter than {limit + 1} "
                          f"attempts of {longest} and their waits ({needed} s): Argo counts it from "
                          "the first start")
    return errors


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
                name = env.get("name") or ""
                # EXTRA_VARIABLE lists the names of credential variables, never a value.
                if _SECRET_NAME.search(name) and "value" in env and name != EXTRA_VARIABLE:
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
                    secret_values: Iterable[str] = (),
                    config_maps: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Every semantic check's messages (`config_maps`: what the cluster holds, to check the
    semaphore keys against)."""
    return [*check_entrypoint(document), *check_object_names(document), *check_names(document),
            *check_dags_not_empty(document), *check_template_references(document),
            *check_depends(document), *check_depends_expressions(document),
            *check_parameter_references(document), *check_retry_budgets(document),
            *check_locks_not_held_through_retries(document),
            *check_size(document, max_nodes=max_nodes, max_bytes=max_bytes),
            *check_secrets(document, secret_values),
            *(check_semaphore_keys(document, config_maps) if config_maps is not None else [])]
