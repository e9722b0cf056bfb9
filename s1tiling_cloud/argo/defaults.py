"""Production defaults of every pod: sizes, retries, security, secrets, housekeeping.

They are data, gathered in `ArgoSettings`, so that a deployment changes them in one place
(the chart passes its values to the WorkflowTemplates' parameters and `ArgoSettings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import __version__, exits
from ..store import GDAL_CACHE_MB, NUMBA_THREADING_LAYER

#: Image every pod runs (docker/ builds it; the chart may override it).
DEFAULT_IMAGE = f"s1tiling-cloud:{__version__}"
#: Names the chart creates (helm/): ServiceAccount, Secrets, semaphore ConfigMap.
DEFAULT_SERVICE_ACCOUNT = "s1tiling-cloud-workflow"
#: The stage pods' identity (child workflows): only what Argo's executor needs, so that a pod
#: parsing downloaded data cannot create workflows.
DEFAULT_STAGE_SERVICE_ACCOUNT = "s1tiling-cloud-stage"
DEFAULT_S3_SECRET = "s1tiling-cloud-s3"
DEFAULT_EODAG_SECRET = "s1tiling-cloud-eodag"
DEFAULT_SEMAPHORE_CONFIGMAP = "s1tiling-cloud-semaphores"
#: Key of the semaphore ConfigMap used for products whose provider is unknown or not listed.
DEFAULT_PROVIDER_KEY = "default"
#: Concurrent downloads per provider key: the chart's `semaphores.limits` defaults (its
#: ConfigMap's keys). The planning pod receives the installed keys as the `semaphore-keys`
#: template parameter and sends every other provider to `default`.
SEMAPHORE_LIMITS: dict[str, int] = {DEFAULT_PROVIDER_KEY: 2, "cop_dataspace": 4}
#: Template annotation: the longest one attempt of the template is expected to run. Argo counts
#: `retryStrategy.backoff.maxDuration` from the first attempt's start (operator.go), so
#: `checks.check_retry_budgets` requires maxDuration to cover every attempt at this length.
ANNOTATION_LONGEST_RUN = "s1tiling-cloud/longest-run"
#: Argo refuses objects over 1 MiB (etcd); stay well under it, status grows as pods run.
DEFAULT_MAX_BYTES = 512 * 1024
DEFAULT_MAX_NODES = 1000

LABEL_PREFIX = "s1tiling-cloud"
LABEL_PARENT = f"{LABEL_PREFIX}/parent"
LABEL_PART = f"{LABEL_PREFIX}/part"
LABEL_LEVEL = f"{LABEL_PREFIX}/level"
LABEL_SCENARIO = f"{LABEL_PREFIX}/scenario"

#: Exit codes worth a retry: provider/download errors, offline products (retrieved later from
#: long-term archive), a full scratch disk (the retry may land on another node), and the
#: unexpected (78: object-storage resets and timeouts end there). Never bad input:
#: 71 corrupted SAFE, 72 configuration, 73 no S2 tile, 74 no S1 image, 75/76 missing DEM/geoid,
#: 77 missing application, 69 full output storage.
TRANSIENT_EXIT_CODES: tuple[int, ...] = (exits.DOWNLOAD_ERROR, exits.OFFLINE_DATA,
                                         exits.TMP_DISK_FULL, exits.UNKNOWN_REASON)
#: A stage that does not download: only storage hiccups (78), a lost node (Error) or /tmp full.
TRANSIENT_STAGE_EXIT_CODES: tuple[int, ...] = (exits.TMP_DISK_FULL, exits.UNKNOWN_REASON)
NEVER_RETRIED_EXIT_CODES: tuple[int, ...] = (
    exits.OUTPUT_DISK_FULL, exits.CORRUPTED_DATA_SAFE, exits.CONFIG_ERROR, exits.NO_S2_TILE,
    exits.NO_S1_IMAGE, exits.MISSING_DEM, exits.MISSING_GEOID, exits.MISSING_APP)


@dataclass(frozen=True)
class PodSize:
    """Requests and limits of one kind of pod (Kubernetes quantities).

    No CPU limit: throttling only slows a batch pod down; the request is what the scheduler
    packs on. Memory limit = measured (or computed) peak + headroom, request = peak.
    """

    cpu: str
    memory: str
    memory_limit: str
    ephemeral: str
    ephemeral_limit: str


#: Pod kind (each stage's is in `stages.registry`) -> size. "ortho": measured peak 2.9 GiB
#: (2959 MiB, `s1tiling-cloud stage ortho` of a full-size dual-pol GRD onto a 10980² tile at
#: 10 m, both polarisations written as the day's products with their border masks; the same
#: with GDAL's block cache bounded or not: the stage reads and writes outside it), and 2.9 GiB
#: too (2943 MiB) for the ortho of a same-day pair that fuses both products into the day's
#: products and masks (`stages.day_fusion`); request 3 GiB, limit 4 GiB (~38 % headroom).
#: "light": measured peaks 0.8 GiB (heights), 1.2 GiB (concatenate of a same-day pair, one
#: polarisation, with `POD_ENV`'s GDAL cache bound; OTB's engine's plans only) and
#: 0.4 GiB (publish), under the 2 GiB request. The others are computed from array sizes (one
#: 10980² float32 band is 482 MB; float64 geometry 964 MB) and await their own benchmarks:
#: "map" holds five or six float64 planes of geometry;
#: "ingest" streams a product (~1.7 GB zip) through /tmp into object storage;
#: "control" is the planning and launching pods (JSON and API calls only).
POD_SIZES: dict[str, PodSize] = {
    "ingest": PodSize("250m", "512Mi", "1Gi", "8Gi", "10Gi"),
    "ortho": PodSize("2", "3Gi", "4Gi", "2Gi", "4Gi"),
    "light": PodSize("1", "2Gi", "3Gi", "2Gi", "4Gi"),
    "map": PodSize("2", "6Gi", "8Gi", "2Gi", "4Gi"),
    "control": PodSize("100m", "256Mi", "512Mi", "256Mi", "1Gi"),
}

def seconds(duration: str) -> int:
    """`90`, `30s`, `5m`, `1h30m` as seconds (the forms Argo's `ParseStringToDuration` reads)."""
    import re

    if duration.isdigit():
        return int(duration)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    if not parts or not duration:
        raise ValueError(f"not a duration: {duration!r}")
    h, m, s = (int(x or 0) for x in parts.groups())
    return 3600 * h + 60 * m + s


def duration(total: int) -> str:
    """Seconds as Go's duration text (`6h31m`, `45s`)."""
    h, rest = divmod(int(total), 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"


def retry_budget(limit: int, first_wait_s: int, factor: int, longest_run_s: int) -> int:
    """Seconds from a first attempt's start to the end of its last retry: `limit + 1` attempts
    of `longest_run_s` and Argo's backoff waits between them, `first_wait_s` × `factor`^i."""
    return (limit + 1) * longest_run_s + sum(first_wait_s * factor ** i for i in range(limit))


@dataclass(frozen=True)
class RetryPolicy:
    """Argo `retryStrategy` of one kind of pod (exponential backoff).

    `longest_run`: the longest one attempt is expected to run (None: no bound, e.g. a launcher
    that follows its child for as long as it runs). Argo measures `maxDuration` from the first
    attempt's start, not per wait (workflow/controller/operator.go, argo-workflows#13044): it is
    derived so that every attempt can run `longest_run` and every backoff wait still happen.
    """

    limit: int
    duration: str
    factor: int
    longest_run: str | None
    exit_codes: tuple[int, ...]

    @property
    def max_duration(self) -> str | None:
        if self.longest_run is None:
            return None
        return duration(retry_budget(self.limit, seconds(self.duration), self.factor,
                                     seconds(self.longest_run)))

    @property
    def expression(self) -> str:
        """Retry a lost pod (Error) or a transient exit code; never bad input."""
        codes = ", ".join(str(code) for code in self.exit_codes)
        return (f"lastRetry.status == 'Error' || (lastRetry.status == 'Failed' && "
                f"asInt(lastRetry.exitCode) in [{codes}])")


#: Longest runs: ingest streams ~1.7 GB and waits for offline products (eodag's dl_timeout,
#: 20 min); ortho of a full tile and the maps take minutes (benchmarks/) with wide margins;
#: planning searches providers. The launchers have no bound: they follow a child for hours.
RETRY_POLICIES: dict[str, RetryPolicy] = {
    # Providers throttle, time out and serve offline products later: insist, slowly.
    "ingest": RetryPolicy(5, "1m", 2, "1h", TRANSIENT_EXIT_CODES),
    "ortho": RetryPolicy(2, "30s", 2, "1h", TRANSIENT_STAGE_EXIT_CODES),
    "light": RetryPolicy(2, "30s", 2, "30m", TRANSIENT_STAGE_EXIT_CODES),
    "map": RetryPolicy(2, "30s", 2, "1h", TRANSIENT_STAGE_EXIT_CODES),
    "plan": RetryPolicy(3, "10s", 2, "30m", (exits.UNKNOWN_REASON,)),
    "control": RetryPolicy(3, "10s", 2, None, (exits.UNKNOWN_REASON,)),
}

#: The variables the pods get from the Secrets (`podspec.secret_sources`) that are credentials
#: though their names do not say so (config/secrets.py recognises AWS_ACCESS_KEY_ID,
#: AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and eodag's `…__AUTH__…` by name): never expanded
#: by `%(VAR)s` in a request, masked in logs. Not `AWS_*`: it would mask AWS_REGION and the
#: endpoint in every log line. The chart's `secrets.variables`; `ArgoSettings.secret_variables`.
DEFAULT_SECRET_VARIABLES = "EODAG__*"

#: Environment of every pod: caches and scratch on the /tmp emptyDir (read-only root fs), GDAL's
#: block cache bounded (`GDAL_CACHE_MB`), numba's thread-safe threading layer
#: (`NUMBA_THREADING_LAYER`), and (`podspec.pod_env`)
#: `S1TILING_CLOUD_SECRET_VARIABLES`.
POD_ENV: dict[str, str] = {
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "XDG_CACHE_HOME": "/tmp/.cache",
    "NUMBA_CACHE_DIR": "/tmp/.cache/numba",
    "PYTHONUNBUFFERED": "1",
    "GDAL_CACHEMAX": str(GDAL_CACHE_MB),
    "NUMBA_THREADING_LAYER": NUMBA_THREADING_LAYER,
}


@dataclass(frozen=True)
class ArgoSettings:
    """Everything a rendered workflow depends on besides the plan; `with_` changes some.

    Parameters
    ----------
    image, image_pull_policy : str
        Every pod's image, and when Kubernetes pulls it.
    namespace : str, optional
        The workflows' namespace.
    service_account, stage_service_account : str
        The planning and launching pods' ServiceAccount; the stage pods'.
    s3_secret, eodag_secret, semaphore_configmap : str
        The chart's Secrets and download-semaphore ConfigMap.
    secret_variables : str
        `S1TILING_CLOUD_SECRET_VARIABLES` of every pod (`DEFAULT_SECRET_VARIABLES`); the
        planning pod passes its own on to the child workflows it renders.
    search_credentials : bool
        Whether the planning pod gets the eodag Secret: only for a provider whose search needs
        credentials (cop_dataspace, peps, geodes and creodias search Sentinel-1 GRD without);
        the chart's `secrets.eodag.forSearch` does the same to the installed templates (it
        adds the Secret to their planning pod's YAML).
    semaphore_keys : tuple of str
        The keys of that ConfigMap (providers with their own download limit).
    argo_server : str
        The Argo Server the launchers read offloaded node statuses from ("": none).
    max_nodes, max_bytes : int
        The most stage calls, and bytes of manifest, in one child workflow.
    parallelism : int, optional
        Pods of one child running at once (None: as many as the cluster schedules).
    run_as_user : int
        The pods' user id.
    seconds_after_success, seconds_after_failure : int
        How long Argo keeps a finished workflow.
    pod_sizes, retry_policies : dict
        Resources and retries per pod kind.
    """

    image: str = DEFAULT_IMAGE
    image_pull_policy: str = "IfNotPresent"
    namespace: str | None = None
    service_account: str = DEFAULT_SERVICE_ACCOUNT
    stage_service_account: str = DEFAULT_STAGE_SERVICE_ACCOUNT
    s3_secret: str = DEFAULT_S3_SECRET
    eodag_secret: str = DEFAULT_EODAG_SECRET
    search_credentials: bool = False
    secret_variables: str = DEFAULT_SECRET_VARIABLES
    semaphore_configmap: str = DEFAULT_SEMAPHORE_CONFIGMAP
    semaphore_keys: tuple[str, ...] = tuple(sorted(SEMAPHORE_LIMITS))
    argo_server: str = ""
    max_nodes: int = DEFAULT_MAX_NODES
    max_bytes: int = DEFAULT_MAX_BYTES
    parallelism: int | None = None
    run_as_user: int = 1000
    seconds_after_success: int = 24 * 3600
    seconds_after_failure: int = 7 * 24 * 3600
    pod_sizes: dict[str, PodSize] = field(default_factory=lambda: dict(POD_SIZES))
    retry_policies: dict[str, RetryPolicy] = field(default_factory=lambda: dict(RETRY_POLICIES))

    def with_(self, **changes) -> ArgoSettings:
        """A copy with `changes` (None values ignored, so CLI options pass through)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
