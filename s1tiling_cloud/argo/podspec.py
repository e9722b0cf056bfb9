"""The pieces every pod shares, as Hera objects: security, scratch volume, env, secrets, sizes."""

from __future__ import annotations

from collections.abc import Sequence

from hera.workflows import Container, Env, Parameter, Resources, RetryStrategy, SecretEnvFrom
from hera.workflows import models as m

from ..config.secrets import EXTRA_VARIABLE
from .defaults import ANNOTATION_LONGEST_RUN, POD_ENV, ArgoSettings, RetryPolicy, seconds

TMP_VOLUME = "tmp"


def pod_security_context(settings: ArgoSettings) -> m.PodSecurityContext:
    """Non-root pods; fsGroup lets the non-root user write the /tmp emptyDir."""
    uid = settings.run_as_user
    return m.PodSecurityContext(run_as_non_root=True, run_as_user=uid, run_as_group=uid,
                                fs_group=uid, seccomp_profile=m.SeccompProfile(type="RuntimeDefault"))


def container_security_context() -> m.SecurityContext:
    """Read-only root filesystem, no privilege escalation, no capability."""
    return m.SecurityContext(read_only_root_filesystem=True, allow_privilege_escalation=False,
                             capabilities=m.Capabilities(drop=["ALL"]))


def scratch_volume() -> m.Volume:
    """The only writable place of a pod: /tmp (sized per pod through ephemeral-storage)."""
    return m.Volume(name=TMP_VOLUME, empty_dir=m.EmptyDirVolumeSource())


def scratch_mount() -> m.VolumeMount:
    return m.VolumeMount(name=TMP_VOLUME, mount_path="/tmp")


def pod_gc() -> m.PodGC:
    """Delete pods that succeeded (logs are gone, results are in object storage); keep failed
    ones for `kubectl logs` until the workflow itself is deleted."""
    return m.PodGC(strategy="OnPodSuccess")


def ttl_strategy(settings: ArgoSettings) -> m.TTLStrategy:
    return m.TTLStrategy(seconds_after_success=settings.seconds_after_success,
                         seconds_after_failure=settings.seconds_after_failure)


def secret_sources(settings: ArgoSettings, *, eodag: bool) -> list[SecretEnvFrom]:
    """Credentials only from Secrets (AWS_* for object storage; EODAG__* for providers).

    Optional: a cluster may grant object storage by workload identity instead of keys.
    """
    sources = [SecretEnvFrom(name=settings.s3_secret, optional=True)]
    if eodag:
        sources.append(SecretEnvFrom(name=settings.eodag_secret, optional=True))
    return sources


def pod_env(settings: ArgoSettings, extra: dict[str, str] | None = None) -> list[Env]:
    values = {EXTRA_VARIABLE: settings.secret_variables, **POD_ENV, **(extra or {})}
    return [Env(name=name, value=value) for name, value in values.items()]


def resources(settings: ArgoSettings, kind: str) -> Resources:
    size = settings.pod_sizes[kind]
    return Resources(cpu_request=size.cpu, memory_request=size.memory, memory_limit=size.memory_limit,
                     ephemeral_request=size.ephemeral, ephemeral_limit=size.ephemeral_limit)


def retry_strategy(policy: RetryPolicy, *, by_exit_code: bool = True) -> RetryStrategy:
    """`by_exit_code=False`: retry any failure (a wrapper's attempts carry no exit code: Argo's
    `lastRetry.exitCode` is then -1, operator.go `buildRetryStrategyLocalScope`)."""
    return RetryStrategy(limit=policy.limit, retry_policy="Always",
                         expression=policy.expression if by_exit_code else None,
                         backoff=m.Backoff(duration=policy.duration, factor=policy.factor,
                                           max_duration=policy.max_duration))


def active_deadline(policy: RetryPolicy) -> int | None:
    """Seconds one pod of `policy` may run before Kubernetes stops it (the template's
    `activeDeadlineSeconds`: Argo's controller copies it into each pod's spec,
    workflow/controller/workflowpod.go `createWorkflowPod`, and allows it on leaf templates
    only, validate.go `validateNonLeaf`): the policy's longest run; None where there is no
    bound (a launcher follows its child for as long as it runs)."""
    return seconds(policy.longest_run) if policy.longest_run else None


def longest_run(policy: RetryPolicy) -> dict[str, str] | None:
    """The template annotation that `checks.check_retry_budgets` reads."""
    return {ANNOTATION_LONGEST_RUN: policy.longest_run} if policy.longest_run else None


def container_template(name: str, settings: ArgoSettings, kind: str, *, command: Sequence[str],
                       inputs: Sequence[Parameter] = (), outputs: Sequence[Parameter] = (),
                       env: dict[str, str] | None = None, eodag: bool = False,
                       image: str | None = None, retry: str | None = None, retried: bool = True,
                       synchronization: m.Synchronization | None = None) -> Container:
    """A pod template with every production default applied (`retry`: the retry policy's
    name, when it is not `kind`'s; `retried=False`: none, a wrapper retries it)."""
    policy = settings.retry_policies[retry or kind]
    return Container(
        name=name,
        image=image or settings.image,
        image_pull_policy=settings.image_pull_policy,
        command=list(command),
        inputs=list(inputs) or None,
        outputs=list(outputs) or None,
        env=pod_env(settings, env),
        env_from=secret_sources(settings, eodag=eodag),
        resources=resources(settings, kind),
        retry_strategy=retry_strategy(policy) if retried else None,
        annotations=longest_run(policy) if retried else None,
        active_deadline_seconds=active_deadline(policy),
        security_context=container_security_context(),
        volume_mounts=[scratch_mount()],
        synchronization=synchronization,
    )
