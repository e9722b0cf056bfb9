"""The pod Argo's controller builds for a container template, and the `restricted` Pod Security
Standard checked on it.

The pod (workflow/controller/workflowpod.go, v3.6/v3.7 `createWorkflowPod`): the template's
container as `main`, plus the executor's `init` (always: it copies argoexec into
/var/run/argo) and `wait` containers, both built by `newExecContainer` with the controller's
`executor.securityContext` and nothing else; the pod's securityContext is the template's, else
the workflow's; volumes `var-run-argo` and `tmp-dir-argo` (emptyDir) are added.

The rules (https://kubernetes.io/docs/concepts/security/pod-security-standards/, Baseline and
Restricted profiles), for every container and init container: no `privileged`, no host
namespaces, ports or paths, capabilities only from the baseline list and, restricted, `drop:
[ALL]` with at most NET_BIND_SERVICE added; `allowPrivilegeEscalation: false`; `runAsNonRoot:
true` (pod or container) and never uid 0; seccomp `RuntimeDefault` or `Localhost` (pod or
container), never `Unconfined`; only the restricted volume types; only Default /proc mount and
safe sysctls; SELinux types and AppArmor profiles left to the runtime default.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

EXECUTOR_IMAGE = "quay.io/argoproj/argoexec"
ARGO_VOLUMES = ({"name": "var-run-argo", "emptyDir": {}}, {"name": "tmp-dir-argo", "emptyDir": {}})
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def _executor(name: str, security_context: Mapping[str, Any] | None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": EXECUTOR_IMAGE,
                                 "command": ["argoexec", name],
                                 "volumeMounts": [{"name": "var-run-argo", "mountPath": "/var/run/argo"}]}
    if security_context:
        container["securityContext"] = copy.deepcopy(dict(security_context))
    return container


def argo_pod(document: Mapping[str, Any], template_name: str,
             executor_security_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The pod spec Argo's controller would create for `template_name` of `document` (a
    Workflow or WorkflowTemplate), with the controller's `executor.securityContext`."""
    spec = document.get("spec") or {}
    template = next(t for t in spec.get("templates") or [] if t.get("name") == template_name)
    main = copy.deepcopy(template.get("container") or template.get("script"))
    if main is None:
        raise ValueError(f"{template_name} is not a container or script template")
    main["name"] = "main"
    main.setdefault("volumeMounts", []).append({"name": "var-run-argo", "mountPath": "/var/run/argo"})
    pod: dict[str, Any] = {
        "initContainers": [_executor("init", executor_security_context),
                           *copy.deepcopy(template.get("initContainers") or [])],
        "containers": [_executor("wait", executor_security_context), main,
                       *copy.deepcopy(template.get("sidecars") or [])],
        "volumes": [*copy.deepcopy(spec.get("volumes") or []),
                    *copy.deepcopy(template.get("volumes") or []), *copy.deepcopy(ARGO_VOLUMES)],
        "serviceAccountName": template.get("serviceAccountName") or spec.get("serviceAccountName"),
    }
    security = template.get("securityContext") or spec.get("securityContext")
    if security:
        pod["securityContext"] = copy.deepcopy(security)
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key) is not None:
            pod[key] = spec[key]
    return pod


def _containers(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from pod.get("initContainers") or []
    yield from pod.get("containers") or []
    yield from pod.get("ephemeralContainers") or []


def restricted_violations(pod: Mapping[str, Any]) -> list[str]:
    """Why `pod` (a PodSpec) would be refused in a namespace enforcing `restricted`."""
    errors = []
    pod_sc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            errors.append(f"pod: {key} must be unset or false (baseline: host namespaces)")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if kinds - RESTRICTED_VOLUMES:
            errors.append(f"volume {volume.get('name')}: type {sorted(kinds)} is not allowed "
                          "(restricted: volume types)")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            errors.append(f"pod: sysctl {sysctl.get('name')} is not a safe one (baseline: sysctls)")
    errors += _context_violations("pod", pod_sc, pod_level=True)
    for container in _containers(pod):
        where = f"container {container.get('name')}"
        sc = container.get("securityContext") or {}
        if sc.get("privileged"):
            errors.append(f"{where}: privileged (baseline)")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            errors.append(f"{where}: hostPort (baseline: host ports)")
        if sc.get("procMount") not in (None, "Default"):
            errors.append(f"{where}: procMount {sc['procMount']} (baseline: /proc mount type)")
        if sc.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{where}: allowPrivilegeEscalation must be false "
                          "(restricted: privilege escalation)")
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            errors.append(f"{where}: capabilities must drop ALL (restricted: capabilities)")
        added = set(capabilities.get("add") or [])
        if added - {"NET_BIND_SERVICE"}:
            errors.append(f"{where}: adds capabilities {sorted(added - {'NET_BIND_SERVICE'})} "
                          "(restricted: only NET_BIND_SERVICE)")
        if (sc.get("runAsNonRoot") is not True and pod_sc.get("runAsNonRoot") is not True) or \
                sc.get("runAsNonRoot") is False:
            errors.append(f"{where}: runAsNonRoot must be true in the pod or the container (restricted)")
        seccomp = ((sc.get("seccompProfile") or {}).get("type")
                   or (pod_sc.get("seccompProfile") or {}).get("type"))
        if seccomp not in ("RuntimeDefault", "Localhost"):
            errors.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost (restricted)")
        errors += _context_violations(where, sc, pod_level=False)
    return errors


def _context_violations(where: str, sc: Mapping[str, Any], *, pod_level: bool) -> list[str]:
    errors = []
    if sc.get("runAsUser") == 0:
        errors.append(f"{where}: runAsUser 0 (restricted: running as non-root user)")
    if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        errors.append(f"{where}: seccompProfile Unconfined (restricted)")
    if (sc.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
        errors.append(f"{where}: SELinux type {(sc.get('seLinuxOptions') or {}).get('type')} (baseline)")
    if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        errors.append(f"{where}: AppArmor profile Unconfined (baseline)")
    return errors
