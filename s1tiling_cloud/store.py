"""Where products live: URIs (`/path`, `file://`, `s3://bucket/key`), atomic writes, COGs.

Stages exchange nothing but URIs, and a killed stage must leave no partial final object
(docs/architecture.md). So every write goes to a temporary local file first and is published in one step:
`os.replace` inside the target folder (same filesystem, atomic), or one S3 `PutObject` of the
complete file (an object appears whole or not at all). Whether an output is up to date is the
stages' rule (`stages.base.provenance_matches`); storage only reads and writes.

S3 settings come from an s3fs-style `storage_options` dict (`key`, `secret`, `token`, `anon`,
`endpoint_url`, `client_kwargs={"endpoint_url", "region_name"}`, `virtual_hosting` or
`config_kwargs={"s3": {"addressing_style"}, "connect_timeout", "read_timeout",
"retries": {"total_max_attempts"}}`) and, for what it does not say, from the environment (the
endpoint from `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else GDAL's `AWS_S3_ENDPOINT` +
`AWS_HTTPS`; `AWS_REGION`, `AWS_VIRTUAL_HOSTING`, `AWS_NO_SIGN_REQUEST`, `AWS_MAX_ATTEMPTS`).

Every S3 request is bounded, by s3fs/botocore and by GDAL's `/vsis3/` alike: an endpoint that
accepts connections but never answers (a dead proxy, a partition, a load balancer without a
backend) would otherwise hold a run for ever (GDAL's curl has no timeout by default) or for many
minutes (botocore's retries times s3fs's own). `S3Config` holds the three numbers, once, and
writes them in each client's words (`S3_CONNECT_TIMEOUT_S`, `S3_READ_TIMEOUT_S`,
`S3_MAX_ATTEMPTS` say why these defaults).
Credentials are never read here: botocore and GDAL find them in the environment (or IRSA, or
the instance profile) themselves; only credentials given explicitly are passed on, and they
are never part of a repr or a log line.
"""

from __future__ import annotations

import builtins
import fnmatch
import logging
import math
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import numpy as np
import rasterio
import rasterio.errors
import rasterio.shutil
from affine import Affine
from rasterio.session import Session
from rasterio.windows import Window

from .exceptions import StorageUnreachableError
from .georeferencing import not_georeferenced_ok

__all__ = [
    "Entry",
    "S3Config",
    "Store",
    "gdal_path",
    "is_jpeg",
    "is_remote",
    "join",
]

log = logging.getLogger(__name__)

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
_SINGLE_PUT_LIMIT = 5 * 2**30  # S3's limit for one PutObject
_PREDICTORS = {1: "NO", 2: "STANDARD", 3: "FLOATING_POINT"}
#: GDAL's raster block cache of a stage's process (a pod, a local worker), in MB. GDAL's default
#: is 5 % of the memory it finds (the machine's, or a container's limit where GDAL reads it): a
#: stage reading whole tiles fills it with blocks it never reads again, so its peak would depend
#: on the machine. Measured on a 23 GiB machine (default 1.2 GB), five alternating runs each:
#: the concatenation of a same-day pair's 10 m VV peaks at 2088–2104 MiB by default, 1181–1182
#: MiB with 64 MB, for no more CPU (median 13.4 s and 11.9 s); ortho and heights peak the same
#: either way (docs/argo.md). Set as `GDAL_CACHEMAX` in every pod and, unless the user set it,
#: in the local runner's workers.
GDAL_CACHE_MB = 64
#: numba's threading layer for a stage's process (a pod, a local worker): a stage launches
#: numba's parallel kernels from two threads at once (the ortho's writers compute each
#: polarisation's border mask while the next one is calibrated), which numba's `workqueue`
#: layer does not survive (it aborts the process); `threadsafe` takes TBB or OpenMP and says
#: so clearly where neither is installed. Set as `NUMBA_THREADING_LAYER` like `GDAL_CACHE_MB`.
NUMBA_THREADING_LAYER = "threadsafe"
ArrayLike = np.ndarray | Callable[[Window], np.ndarray]


#: Seconds to open a TCP (and TLS) connection to S3. A reachable endpoint connects in
#: milliseconds, a loaded one in well under a second; 10 s is far above that, and short enough
#: that an address nothing answers at fails within a minute. (botocore's default is 60 s.)
S3_CONNECT_TIMEOUT_S = 10.0
#: Seconds S3 may stay silent: before the first byte of an answer, or between two bytes of it
#: (not a bound on a whole transfer: a large object still streams for as long as it needs).
#: botocore's own default, which every boto3 user's store answers within: S3 answers a request
#: in tens of milliseconds, a busy MinIO or Ceph a large PutObject in seconds.
S3_READ_TIMEOUT_S = 60.0
#: Tries of one S3 request, the first included (botocore's "standard" retry mode: throttling,
#: 5xx, connection errors and timeouts, with jittered exponential backoff; GDAL: that many
#: tries minus one as `GDAL_HTTP_MAX_RETRY`). The AWS SDKs' standard default: a silent
#: endpoint gives up after about `S3_MAX_ATTEMPTS × S3_READ_TIMEOUT_S` (3 minutes) per request.
S3_MAX_ATTEMPTS = 3
#: Bytes a second an upload may be as slow as (one MiB/s, far below any store's network):
#: with the timeouts, what bounds a PutObject (`S3Config.upload_deadline`), which a read timeout
#: does not bound while the request's body is being sent.
S3_MIN_UPLOAD_RATE = 2**20
#: GDAL's first wait before retrying a request, in seconds (it doubles at each retry).
_GDAL_RETRY_DELAY_S = 1


def _truthy(value: Any) -> bool:
    return str(value).strip().upper() in ("1", "YES", "TRUE", "ON", "Y")


# --------------------------------------------------------------------------- S3 settings

@dataclass(frozen=True)
class S3Config:
    """S3 endpoint, region, addressing, time limits and (only when given explicitly)
    credentials."""

    endpoint_url: str | None = None
    region: str | None = None
    virtual_hosting: bool = True
    anon: bool = False
    verify: bool = True  # TLS certificate checks (`[Storage] verify_ssl`)
    connect_timeout: float = S3_CONNECT_TIMEOUT_S  # `[Storage] connect_timeout`
    read_timeout: float = S3_READ_TIMEOUT_S  # `[Storage] read_timeout`
    max_attempts: int = S3_MAX_ATTEMPTS  # `[Storage] max_attempts`
    key: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def resolve(cls, storage_options: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> S3Config:
        """Explicit options first, then the environment for what they leave unsaid."""
        so = dict(storage_options or {})
        env = os.environ if environ is None else environ
        client = dict(so.get("client_kwargs") or {})
        endpoint = so.get("endpoint_url") or client.get("endpoint_url")
        if not endpoint:
            endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if not endpoint and env.get("AWS_S3_ENDPOINT"):  # GDAL's: a host, maybe with a scheme
            host = env["AWS_S3_ENDPOINT"]
            scheme = "https" if _truthy(env.get("AWS_HTTPS", "YES")) else "http"
            endpoint = host if "://" in host else f"{scheme}://{host}"
        region = (so.get("region") or so.get("region_name") or client.get("region_name")
                  or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"))
        # s3fs's own spelling, as `s3fs_options` writes it: options round-trip through a Store.
        config = dict(so.get("config_kwargs") or {})
        style = dict(config.get("s3") or {}).get("addressing_style")
        # botocore's `total_max_attempts` counts every try, its `max_attempts` the retries.
        retries = dict(config.get("retries") or {})
        attempts = retries.get("total_max_attempts") or (
            int(retries["max_attempts"]) + 1 if retries.get("max_attempts") is not None
            else env.get("AWS_MAX_ATTEMPTS") or S3_MAX_ATTEMPTS)
        if "virtual_hosting" in so:
            virtual = _truthy(so["virtual_hosting"])
        elif style in ("virtual", "path"):
            virtual = style == "virtual"
        elif "AWS_VIRTUAL_HOSTING" in env:
            virtual = _truthy(env["AWS_VIRTUAL_HOSTING"])
        else:  # AWS: virtual-hosted style; custom endpoints (MinIO, Ceph, moto): path style
            virtual = endpoint is None
        anon = _truthy(so.get("anon", env.get("AWS_NO_SIGN_REQUEST", "NO")))
        verify = _truthy(so.get("verify", client.get("verify", True)))
        return cls(endpoint_url=endpoint.rstrip("/") if endpoint else None, region=region,
                   virtual_hosting=virtual, anon=anon, verify=verify,
                   connect_timeout=_positive(config.get("connect_timeout", S3_CONNECT_TIMEOUT_S),
                                             "connect_timeout"),
                   read_timeout=_positive(config.get("read_timeout", S3_READ_TIMEOUT_S),
                                          "read_timeout"),
                   max_attempts=int(_positive(attempts, "max_attempts")),
                   key=so.get("key"), secret=so.get("secret"), token=so.get("token"))

    def s3fs_options(self) -> dict[str, Any]:
        """Keyword arguments for `s3fs.S3FileSystem` (the `storage_options` other modules take)."""
        client: dict[str, Any] = {}
        if self.endpoint_url:
            client["endpoint_url"] = self.endpoint_url
        if self.region:
            client["region_name"] = self.region
        if not self.verify:
            client["verify"] = False
        options: dict[str, Any] = {
            "client_kwargs": client,
            "config_kwargs": {"s3": {"addressing_style": "virtual" if self.virtual_hosting
                                     else "path"},
                              "connect_timeout": self.connect_timeout,
                              "read_timeout": self.read_timeout,
                              "retries": {"total_max_attempts": self.max_attempts,
                                          "mode": "standard"}},
        }
        if self.anon:
            options["anon"] = True
        for name in ("key", "secret", "token"):
            if getattr(self, name):
                options[name] = getattr(self, name)
        return options

    def upload_deadline(self, size: int) -> float:
        """Seconds one upload of `size` bytes may take, its tries included: each try may
        connect, send at `S3_MIN_UPLOAD_RATE` at least, and wait `read_timeout` for the answer."""
        one_try = self.connect_timeout + self.read_timeout + size / S3_MIN_UPLOAD_RATE
        return self.max_attempts * one_try

    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration options for `/vsis3/` (no credentials: see `gdal_session`).

        The time limits in curl's words: `GDAL_HTTP_CONNECTTIMEOUT`, and a request aborted
        when less than a byte a second came for `read_timeout` seconds (`GDAL_HTTP_LOW_SPEED_*`:
        silence, like botocore's read timeout, rather than `GDAL_HTTP_TIMEOUT`'s bound on a
        whole transfer), retried `max_attempts - 1` times.
        """
        options = {"AWS_VIRTUAL_HOSTING": "TRUE" if self.virtual_hosting else "FALSE",
                   "GDAL_HTTP_CONNECTTIMEOUT": _seconds(self.connect_timeout),
                   "GDAL_HTTP_LOW_SPEED_TIME": _seconds(self.read_timeout),
                   "GDAL_HTTP_LOW_SPEED_LIMIT": "1",
                   "GDAL_HTTP_MAX_RETRY": str(self.max_attempts - 1),
                   "GDAL_HTTP_RETRY_DELAY": str(_GDAL_RETRY_DELAY_S)}
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            options["AWS_S3_ENDPOINT"] = parts.netloc + parts.path.rstrip("/")
            options["AWS_HTTPS"] = "NO" if parts.scheme == "http" else "YES"
        if self.region:
            options["AWS_REGION"] = self.region
        if self.anon:
            options["AWS_NO_SIGN_REQUEST"] = "YES"
        if not self.verify:
            options["GDAL_HTTP_UNSAFESSL"] = "YES"
        return options

    def gdal_session(self) -> Session | None:
        """A rasterio session carrying explicit credentials to GDAL; None: GDAL finds its own."""
        if self.key and self.secret and not self.anon:
            return _StaticAWSCredentials(self.key, self.secret, self.token)
        return None


def _positive(value: Any, name: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"S3 {name} must be a positive number, not {value!r}")
    return number


def _seconds(value: float) -> str:
    """Whole seconds for curl (which takes no fractions), at least 1."""
    return str(max(1, math.ceil(value)))


class _StaticAWSCredentials(Session):
    """Explicit credentials for GDAL, without boto3 (which rasterio's AWSSession needs)."""

    def __init__(self, key: str, secret: str, token: str | None) -> None:
        self._options = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
        if token:
            self._options["AWS_SESSION_TOKEN"] = token

    def __repr__(self) -> str:
        return "_StaticAWSCredentials(<hidden>)"

    @classmethod
    def hascreds(cls, config: Mapping[str, Any]) -> bool:
        return "AWS_ACCESS_KEY_ID" in config and "AWS_SECRET_ACCESS_KEY" in config

    @property
    def credentials(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self._options.items()}

    def get_credential_options(self) -> dict[str, str]:
        return dict(self._options)


# --------------------------------------------------------------------------- URIs

def _split(uri: str | os.PathLike) -> tuple[str, str]:
    """(`file`, local path) or (`s3`, `bucket/key`)."""
    text = os.fspath(uri)
    parts = urlsplit(text)
    if parts.scheme in ("", "file") or len(parts.scheme) == 1:
        return "file", (parts.path if parts.scheme == "file" else text)
    if parts.scheme in ("s3", "s3a"):
        if not parts.netloc:
            raise ValueError(f"an s3:// URI needs a bucket: {text!r}")
        return "s3", f"{parts.netloc}/{parts.path.lstrip('/')}".rstrip("/")
    raise ValueError(f"unsupported URI scheme {parts.scheme!r} in {text!r} (local, file://, s3://)")


def gdal_path(uri: str | os.PathLike) -> str:
    """The name GDAL opens: the local path, or `/vsis3/bucket/key` for `s3://bucket/key`."""
    scheme, path = _split(uri)
    return path if scheme == "file" else f"/vsis3/{path}"


def is_remote(uri: str | os.PathLike) -> bool:
    """Whether a URI names an object in object storage (`s3://`) rather than a local file."""
    return urlsplit(os.fspath(uri)).scheme in ("s3", "s3a")


def join(base: str | os.PathLike, name: str) -> str:
    """`name` (maybe with sub-folders) under a folder or an `s3://` prefix."""
    scheme, path = _split(base)
    if scheme == "file":
        return os.path.join(path, name)
    return os.fspath(base).rstrip("/") + "/" + name.lstrip("/")


def _fsync_dir(folder: str) -> None:
    with suppress(OSError):  # some filesystems cannot open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: What GDAL may write beside a file it creates (the COG driver's overviews, PAM sidecars).
_SIDECARS = ("", ".aux.xml", ".ovr", ".ovr.tmp", ".msk", ".tmp.ovr.tmp")
#: A temporary name of this module: `.{final name}.{pid}-{12 hex}.tmp`, plus GDAL's sidecars;
#: the writer's pid says whether it may still be in use.
_TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)-[0-9a-f]{12}\.tmp(?:\..*)?$")
#: Scratch folders of this module and of the ingest stage: `{prefix}{pid}-{random}`.
_SCRATCH = re.compile(r"^(?:s1tc-|s1tc-stage-|\.ingest-)(?P<pid>\d+)-")


def temporary_name(name: str) -> str:
    """The hidden name a file is written under before it is published as `name`."""
    return f".{name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"


def scratch_prefix(prefix: str) -> str:
    """`tempfile.mkdtemp`'s prefix for a scratch folder that a later run may remove."""
    return f"{prefix}{os.getpid()}-"


def _remove_quietly(tmp: str) -> None:
    """Remove a temporary file and whatever GDAL made beside it (without listing its folder:
    an output folder may hold thousands of files)."""
    for suffix in _SIDECARS:
        with suppress(FileNotFoundError, IsADirectoryError):
            os.remove(tmp + suffix)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed writer no one reaped yet (a container's init may never) is a zombie
        with builtins.open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def remove_stale_temporaries(folders: Sequence[str]) -> list[str]:
    """Remove, from local `folders`, the temporary files and scratch folders that a killed
    writer left (its process is gone); the paths removed. Object storage needs none: an object
    is written whole in one request."""
    removed = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            match = _TEMPORARY.match(entry.name) or _SCRATCH.match(entry.name)
            if match is None or _process_alive(int(match["pid"])):
                continue
            with suppress(FileNotFoundError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.remove(entry.path)
                removed.append(entry.path)
    return removed


#: Below this many free bytes, a failed write counts as a full disk (GDAL does not always say
#: "No space left on device": "TIFFWriteDirectoryTagData: IO error writing tag data").
LOW_SPACE = 16 * 2**20


def low_on_space(uri: str | os.PathLike) -> bool:
    """Whether the local filesystem where `uri` would be written has almost no space left."""
    if is_remote(uri):
        return False
    folder = os.path.dirname(os.path.abspath(os.fspath(uri)))
    while folder and not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE
    except OSError:
        return False


# --------------------------------------------------------------------------- the store

@dataclass(frozen=True)
class Entry:
    """One thing a listing found: a file (an object) or, listing one level, a sub-folder."""

    uri: str  # a local path under a local folder, `s3://bucket/key` under an s3:// prefix
    name: str  # the last part of `uri`
    size: int | None  # bytes; None for a folder
    mtime: float | None  # seconds since the epoch (an object's LastModified); None for a folder
    is_dir: bool = False



class Store:
    """Reads and atomically writes objects by URI, locally or on S3, with one configuration."""

    def __init__(self, storage_options: Mapping[str, Any] | None = None, *,
                 scratch_dir: str | os.PathLike | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.s3 = S3Config.resolve(storage_options, environ)
        self.scratch_dir = os.fspath(scratch_dir) if scratch_dir is not None else None
        self._s3fs = None

    def __repr__(self) -> str:
        return f"Store({self.s3!r}, scratch_dir={self.scratch_dir!r})"

    @property
    def storage_options(self) -> dict[str, Any]:
        """s3fs options for modules that open URIs themselves (e.g. the SAFE reader)."""
        return self.s3.s3fs_options()

    def _s3(self):
        if self._s3fs is None:
            import s3fs

            fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False,
                                   **self.s3.s3fs_options())
            # botocore retries each request (`max_attempts`); s3fs's own loop around it would
            # multiply the tries (5 by default: 15 × 60 s against a silent endpoint).
            fs.retries = 1
            self._s3fs = fs
        return self._s3fs

    # ----------------------------------------------------------- reading

    def exists(self, uri: str | os.PathLike) -> bool:
        scheme, path = _split(uri)
        if scheme == "file":
            return os.path.isfile(path)
        fs = self._s3()
        fs.invalidate_cache(path)
        try:  # not `fs.isfile`: it answers False for an endpoint that cannot be reached
            return fs.info(path)["type"] == "file"
        except (FileNotFoundError, PermissionError):
            return False

    def list(self, prefix: str | os.PathLike, pattern: str | None = None, *,
             recursive: bool = False, page_size: int = 1000) -> builtins.list[Entry]:
        """What lies in a folder or under an s3:// prefix, sorted by URI; empty if it is absent.

        One listing answers many "does it exist?" questions (a request per name would be slow
        on object storage); the modules that ask about many names list through here.

        Parameters
        ----------
        prefix : str or os.PathLike
            A local folder, `file://` URI or `s3://bucket/key` prefix (read as a folder: the
            entries are those under `prefix/`).
        pattern : str, optional
            A shell-style pattern (`fnmatch`, e.g. `"*.EOF"`) the entry *name* must match.
        recursive : bool
            False: the files and sub-folders directly in `prefix`. True: every file below it,
            at any depth (no folder entries).
        page_size : int
            Keys asked for per S3 `ListObjectsV2` request (S3 returns at most 1000); the
            listing follows the continuation tokens to the end.

        Returns
        -------
        list of Entry
        """
        scheme, path = _split(prefix)
        entries = self._list_local(path, recursive) if scheme == "file" else \
            self._list_s3(path, recursive, page_size)
        if pattern is not None:
            entries = [e for e in entries if fnmatch.fnmatchcase(e.name, pattern)]
        return sorted(entries, key=lambda e: e.uri)

    @staticmethod
    def _list_local(folder: str, recursive: bool) -> builtins.list[Entry]:
        found = []
        if recursive:
            for root, _, names in os.walk(folder):
                for name in names:
                    path = os.path.join(root, name)
                    with suppress(FileNotFoundError):  # removed while listing
                        info = os.stat(path)
                        found.append(Entry(path, name, info.st_size, info.st_mtime))
            return found
        try:
            scan = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return []
        for item in scan:
            with suppress(FileNotFoundError):
                if item.is_dir():
                    found.append(Entry(item.path, item.name, None, None, is_dir=True))
                else:
                    info = item.stat()
                    found.append(Entry(item.path, item.name, info.st_size, info.st_mtime))
        return found

    def _list_s3(self, path: str, recursive: bool, page_size: int) -> builtins.list[Entry]:
        bucket, _, key = path.partition("/")
        key_prefix = f"{key}/" if key else ""
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": key_prefix, "MaxKeys": page_size}
        if not recursive:
            request["Delimiter"] = "/"
        fs = self._s3()
        found = []
        while True:
            try:
                page = fs.call_s3("list_objects_v2", **request)
            except FileNotFoundError:  # no such bucket
                return []
            for item in page.get("Contents", []):
                name = item["Key"][len(key_prefix):]
                if not name or name.endswith("/"):  # a "folder marker" object
                    continue
                found.append(Entry(f"s3://{bucket}/{item['Key']}", name.rsplit("/", 1)[-1],
                                   int(item["Size"]), item["LastModified"].timestamp()))
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(key_prefix):].rstrip("/")
                found.append(Entry(f"s3://{bucket}/{key_prefix}{name}", name, None, None,
                                   is_dir=True))
            if not page.get("IsTruncated"):
                return found
            request["ContinuationToken"] = page["NextContinuationToken"]

    def read_bytes(self, uri: str | os.PathLike) -> bytes:
        scheme, path = _split(uri)
        if scheme == "file":
            with builtins.open(path, "rb") as f:
                return f.read()
        return self._s3().cat_file(path)

    def open(self, uri: str | os.PathLike, mode: str = "rb"):
        """A file object to read; for `"wb"`/`"w"`, a context manager publishing on success.

        Writing through fsspec directly is not atomic: s3fs uploads what was written when an
        exception closes the file. Here the content goes to a temporary file, published only
        when the `with` block ends normally.
        """
        if any(c in mode for c in "wax+"):
            if mode not in ("w", "wb"):
                raise ValueError(f"unsupported write mode {mode!r} (only 'w' and 'wb')")
            return self._open_for_writing(uri, mode)
        scheme, path = _split(uri)
        if scheme == "file":
            return builtins.open(path, mode)
        return self._s3().open(path, mode)

    @contextmanager
    def _open_for_writing(self, uri, mode: str) -> Iterator[BinaryIO]:
        with self.atomic_path(uri) as tmp, builtins.open(tmp, mode) as f:
            yield f

    def remove(self, uri: str | os.PathLike) -> None:
        scheme, path = _split(uri)
        if scheme == "file":
            with suppress(FileNotFoundError):
                os.remove(path)
        else:
            fs = self._s3()
            if fs.isfile(path):
                fs.rm_file(path)
            fs.invalidate_cache(path)
            self.forget(uri)

    # ----------------------------------------------------------- GDAL

    def gdal_env(self, **options: Any) -> rasterio.Env:
        """A `rasterio.Env` in which GDAL reaches this store's S3 as s3fs does.

        Also: no directory listing nor sidecar probing on open (requests saved on every COG;
        `open_raster` turns probing back on for JPEGs, whose metadata is in `.aux.xml`), and
        the time limits and retries of every HTTP request (`S3Config.gdal_options`).
        """
        config: dict[str, Any] = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
                                  **self.s3.gdal_options()}
        config.update(options)
        return rasterio.Env(session=self.s3.gdal_session(), **config)

    gdal_path = staticmethod(gdal_path)

    def forget(self, uri: str | os.PathLike) -> None:
        """Make this process's GDAL forget what it cached of an S3 object (and its sidecar).

        GDAL keeps sizes and blocks of `/vsis3/` files for the life of the process, so an
        object replaced since (a re-run, another pod) would be read stale. GDAL drops the cache
        of a file listed in `CPL_VSIL_CURL_NON_CACHED` when a handle on it is closed: open and
        close one. No-op for local files.
        """
        path = self.gdal_path(uri)
        if not path.startswith("/vsis3/"):
            return
        options = {"CPL_VSIL_CURL_NON_CACHED": f"{path}:{path}.aux.xml",
                   "GDAL_DISABLE_READDIR_ON_OPEN": "YES" if is_jpeg(uri) else "EMPTY_DIR"}
        with self.gdal_env(**options), not_georeferenced_ok():
            try:
                rasterio.open(path).close()
            except Exception as error:  # any outcome closes the handle, which is all we need
                log.debug("forgetting %s: %s", path, error)

    @contextmanager
    def open_raster(self, uri: str | os.PathLike, *, fresh: bool = True, **options: Any):
        """Open a raster for reading with this store's GDAL settings.

        `fresh`: first drop what GDAL cached of it (see `forget`); pass False for inputs that
        never change (SAFE measurements, DEMs) to save a request.
        """
        if fresh:
            self.forget(uri)
        if is_jpeg(uri):  # its georeferencing and metadata are in the `.aux.xml` sidecar
            options.setdefault("GDAL_DISABLE_READDIR_ON_OPEN", "YES")
        # NUM_THREADS: GDAL decodes a COG's tiles on every core (a 10980² float32 DEFLATE tile
        # reads in 0.4 s instead of 1.6 s on 2 cores).
        with self.gdal_env(**options):
            try:
                dataset = rasterio.open(self.gdal_path(uri), NUM_THREADS="ALL_CPUS")
            except rasterio.errors.RasterioIOError:
                # GDAL says "does not exist" of an object it got no answer about (a timeout):
                # ask S3 itself, whose client says when the endpoint does not answer.
                if is_remote(uri):
                    self.exists(uri)
                raise
            with dataset:
                yield dataset

    def read_tags(self, uri: str | os.PathLike) -> dict[str, str]:
        """Dataset metadata (default domain); for JPEG quicklooks, with their `.aux.xml`."""
        with not_georeferenced_ok(), self.open_raster(uri) as dataset:
            return dict(dataset.tags())

    # ----------------------------------------------------------- atomic publication

    def _scratch(self) -> str:
        if self.scratch_dir is not None:
            os.makedirs(self.scratch_dir, exist_ok=True)
        return tempfile.mkdtemp(prefix=scratch_prefix("s1tc-"), dir=self.scratch_dir)

    @contextmanager
    def atomic_path(self, uri: str | os.PathLike, content_type: str | None = None, *,
                    durable: bool = True) -> Iterator[str]:
        """A temporary local path to write; published as `uri` in one step if no exception.

        Local: a hidden file in the target folder, then `os.replace` (atomic on one
        filesystem). S3: a file in the scratch folder, then one PutObject. On an exception
        nothing is published and the temporary files are removed. `durable`: synced to disk
        before and after the rename (off for bookkeeping a crash may lose, e.g. run records).
        """
        scheme, path = _split(uri)
        if scheme == "file":
            folder, name = os.path.split(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            tmp = os.path.join(folder, temporary_name(name))
            try:
                yield tmp
                self._publish_local(tmp, path, durable)
            finally:
                _remove_quietly(tmp)
        else:
            scratch = self._scratch()
            try:
                tmp = os.path.join(scratch, os.path.basename(path) or "object")
                yield tmp
                self._put(tmp, path, content_type)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

    @staticmethod
    def _publish_local(tmp: str, path: str, durable: bool = True) -> None:
        if durable:
            with builtins.open(tmp, "rb+") as f:
                os.fsync(f.fileno())  # the content is on disk before the name points to it
        os.replace(tmp, path)
        if durable:
            _fsync_dir(os.path.dirname(os.path.abspath(path)))
        log.debug("published %s", path)

    def _put(self, local: str, path: str, content_type: str | None) -> None:
        """One PutObject of the complete file (S3 shows an object whole or not at all)."""
        fs = self._s3()
        bucket, key, _ = fs.split_path(path)
        size = os.path.getsize(local)
        extra = {"ContentType": content_type} if content_type else {}
        # The read timeout does not cover an upload: the client waits for S3's "100 Continue",
        # then for room to send, without a limit. A deadline for the whole call does (`timeout`
        # is fsspec's: the call is cancelled, its connection closed, and nothing is published).
        deadline = self.s3.upload_deadline(size)
        try:
            if size < _SINGLE_PUT_LIMIT:
                with builtins.open(local, "rb") as body:  # streamed, not read into memory
                    fs.call_s3("put_object", Bucket=bucket, Key=key, Body=body,
                               ContentLength=size, timeout=deadline, **extra)
            else:  # > 5 GiB: multipart; the object appears only on completion, aborted on error
                fs.put_file(local, path, timeout=deadline, **extra)
        except TimeoutError as error:  # fsspec's FSTimeoutError is one
            raise StorageUnreachableError(
                self.s3.endpoint_url or "of S3",
                f"no answer to the upload of s3://{path} in {deadline:g} s") from error
        fs.invalidate_cache(path)
        self.forget(f"s3://{path}")
        log.debug("published s3://%s", path)

    def publish(self, local_path: str | os.PathLike, uri: str | os.PathLike,
                content_type: str | None = None) -> None:
        """Publish a finished local file (e.g. written by OTB) atomically; the file is kept."""
        with self.atomic_path(uri, content_type) as tmp:
            shutil.copyfile(local_path, tmp)

    def write_bytes(self, uri: str | os.PathLike, data: bytes,
                    content_type: str | None = None, *, durable: bool = True) -> None:
        with self.atomic_path(uri, content_type, durable=durable) as tmp, builtins.open(tmp, "wb") as f:
            f.write(data)

    # ----------------------------------------------------------- rasters

    def write_cog(self, uri: str | os.PathLike, array: ArrayLike, *, crs: Any, transform: Affine,
                  nodata: float | None, dtype: Any = None, tags: Mapping[str, str] | None = None,
                  band_descriptions: Sequence[str] | None = None,
                  overviews: int | str | None = "auto", predictor: int | None = None,
                  compress: str = "DEFLATE", blocksize: int = 512,
                  overview_resampling: str | None = None, shape: tuple[int, ...] | None = None,
                  num_threads: str | int = "ALL_CPUS",
                  creation_options: Mapping[str, Any] | None = None) -> str:
        """Write a Cloud-Optimized GeoTIFF with GDAL's COG driver, atomically.

        An array's overviews are computed here as the driver computes them (`cog_overviews`:
        the same pixels, for less CPU than the driver's temporary compressed overviews). One
        band in DEFLATE level 1 has its tiles compressed here (`cog_tiles`: ISA-L in threads,
        the driver writing the header and IFDs; the driver's file but for the DEFLATE streams);
        other arrays are read by the driver where they lie (no copy). A pixel-producing
        function, creation options asking the driver for more than encoding (`OVERVIEWS`,
        `TILING_SCHEME`, ...) or overviews `cog_overviews` does not reproduce leave all the
        work to the driver.

        `array`: `(rows, cols)` or `(bands, rows, cols)`; or a function of a `Window` giving
        that window's pixels, called strip by strip (then `shape` and `dtype` are required and
        at most one strip of pixels is in memory besides GDAL's). DEFLATE with PREDICTOR 3
        (floats) or 2 (integers) unless told; internal overviews (`"auto"`: halvings down to
        the block size; an int: that many; 0/None: none), averaged for floats and nearest for
        integers; tags (TIFFTAG_* become TIFF tags), band descriptions and nodata are written
        at creation: editing them later would break the COG layout.
        """
        count, height, width, dtype = _geometry(array, shape, dtype)
        if predictor is None:
            predictor = 3 if np.issubdtype(dtype, np.floating) else 2
        options: dict[str, Any] = {"COMPRESS": compress, "BLOCKSIZE": blocksize,
                                   "BIGTIFF": "IF_SAFER", "NUM_THREADS": num_threads}
        if compress.upper() in ("DEFLATE", "LZW", "ZSTD", "LZMA"):
            options["PREDICTOR"] = _PREDICTORS[predictor]
        if compress.upper() in ("DEFLATE", "ZSTD"):
            # Level 1: 4x faster than DEFLATE's default 6 on speckled float32 tiles for files
            # 2% larger (measured: 2.1 s vs 8.0 s, 381 vs 374 MiB for a 10980² σ° tile).
            options["LEVEL"] = 1
        if overviews in (None, 0, "none", "NONE"):
            options["OVERVIEWS"] = "NONE"
        else:
            options["OVERVIEWS"] = "IGNORE_EXISTING"
            if overviews not in ("auto", "AUTO"):
                options["OVERVIEW_COUNT"] = int(overviews)
            options["OVERVIEW_RESAMPLING"] = overview_resampling or (
                "AVERAGE" if np.issubdtype(dtype, np.floating) else "NEAREST")
        options.update(creation_options or {})
        if _in_memory(array, options, creation_options, dtype, nodata):
            pixels = np.ascontiguousarray(
                np.asarray(array).astype(dtype, copy=False).reshape(count, height, width))
            with self.atomic_path(uri, COG_MEDIA_TYPE) as tmp:
                _copy_from_memory(pixels, tmp, options, crs=crs, transform=transform,
                                  nodata=nodata, tags=tags or {},
                                  band_descriptions=band_descriptions or ())
            return os.fspath(uri)
        profile = {"count": count, "height": height, "width": width, "dtype": dtype,
                   "crs": crs, "transform": transform, "nodata": nodata}
        with (self.atomic_path(uri, COG_MEDIA_TYPE) as tmp,
              rasterio.Env(GDAL_PAM_ENABLED="NO"),  # everything in the TIFF, no .aux.xml
              _staged(array, profile, blocksize, self.scratch_dir) as staged):
            if tags:
                staged.update_tags(**{str(k): str(v) for k, v in tags.items()})
            for index, description in enumerate(band_descriptions or (), start=1):
                staged.set_band_description(index, description)
            rasterio.shutil.copy(staged, tmp, driver="COG", **options)
        return os.fspath(uri)

    def write_jpeg(self, uri: str | os.PathLike, pixels: np.ndarray, *, crs: Any = None,
                   transform: Affine | None = None, tags: Mapping[str, str] | None = None,
                   quality: int = 75, comment: str | None = None) -> str:
        """A one-band Byte JPEG (a quicklook) with its metadata in GDAL's `.aux.xml` sidecar.

        `comment` goes inside the JPEG (its COM marker: the quicklook stage puts its provenance
        there, `stages.base.jpeg_comment`), and the sidecar is published after the image: a
        JPEG whose sidecar is missing or stale never passes for up to date.

        Parameters
        ----------
        uri : str or path
            Where the JPEG goes (its sidecar: `uri` + ".aux.xml").
        pixels : numpy.ndarray
            The image, uint8, 2-D.
        crs, transform : optional
            Its georeferencing (the transform of these very pixels).
        tags : mapping, optional
            Its metadata (default domain).
        quality : int
            JPEG quality (GDAL's `QUALITY`).
        comment : str, optional
            The JPEG's comment (GDAL's `COMMENT`).
        """
        byte = np.asarray(pixels)
        if byte.ndim != 2 or byte.dtype != np.uint8:
            raise ValueError(f"a JPEG quicklook is one uint8 band, not {byte.dtype} {byte.shape}")
        out_h, out_w = byte.shape
        all_tags = {str(k): str(v) for k, v in (tags or {}).items()}
        options: dict[str, Any] = {"QUALITY": quality}
        if comment:
            options["COMMENT"] = comment
        profile = {"driver": "MEM", "count": 1, "height": out_h, "width": out_w,
                   "dtype": "uint8"}
        if crs is not None:
            profile["crs"] = crs
        if transform is not None:
            profile["transform"] = transform
        scheme, path = _split(uri)
        scratch = self._scratch()
        try:
            tmp = os.path.join(scratch, os.path.basename(path))
            with (not_georeferenced_ok(),  # a quicklook's georeferencing is optional
                  rasterio.open("quicklook", "w", **profile) as mem):
                mem.write(byte, 1)
                mem.update_tags(**all_tags)
                rasterio.shutil.copy(mem, tmp, driver="JPEG", **options)
            sidecar = tmp + ".aux.xml"
            if not os.path.exists(sidecar):
                raise RuntimeError(f"GDAL wrote no metadata sidecar for {uri}")
            # The image first, its sidecar (holding the provenance) last.
            with self.atomic_path(uri, "image/jpeg") as target:
                shutil.move(tmp, target)
            with self.atomic_path(f"{os.fspath(uri)}.aux.xml", "application/xml") as target:
                shutil.move(sidecar, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return os.fspath(uri)


def is_jpeg(uri: str | os.PathLike) -> bool:
    """Whether `uri` names a JPEG (a quicklook)."""
    return os.fspath(uri).lower().endswith((".jpg", ".jpeg"))



def _geometry(array: ArrayLike, shape: tuple[int, ...] | None, dtype: Any):
    """(bands, rows, cols, dtype) of what is to be written."""
    if callable(array) and not isinstance(array, np.ndarray):
        if shape is None or dtype is None:
            raise ValueError("a pixel-producing function needs `shape` and `dtype`")
        dims = tuple(shape)
    else:
        array = np.asarray(array)
        dims = array.shape
        dtype = array.dtype if dtype is None else dtype
    if len(dims) == 2:
        dims = (1, *dims)
    if len(dims) != 3 or min(dims) < 1:
        raise ValueError(f"cannot write an array of shape {dims}: (rows, cols) or (bands, rows, cols)")
    return dims[0], dims[1], dims[2], np.dtype(dtype)


#: COG driver options that change the pixels or the grid (reprojection, tiling schemes) or the
#: overviews: given any of them, the COG driver does all the work itself (`_staged`).
_DRIVER_ONLY_OPTIONS = frozenset({
    "OVERVIEWS", "OVERVIEW_COUNT", "OVERVIEW_RESAMPLING", "RESAMPLING", "WARP_RESAMPLING",
    "TILING_SCHEME", "TARGET_SRS", "EXTENT", "RES", "ALIGNED_LEVELS", "ZOOM_LEVEL",
    "ZOOM_LEVEL_STRATEGY", "ADD_ALPHA", "STATISTICS"})


def _in_memory(array: ArrayLike, options: Mapping[str, Any],
               creation_options: Mapping[str, Any] | None, dtype: np.dtype,
               nodata: float | None) -> bool:
    """Whether `_copy_from_memory` writes this COG (else the COG driver reads `_staged`): the
    pixels are an array, no option asks the driver for more than compressing them, and the
    overviews asked for are ones `cog_overviews` computes as the driver would."""
    if callable(array) and not isinstance(array, np.ndarray):
        return False
    if nodata is not None and math.isinf(nodata):  # no VRT spelling GDAL reads for sure
        return False
    if any(str(key).upper() in _DRIVER_ONLY_OPTIONS for key in creation_options or {}):
        return False
    from .cog_overviews import readable, supported

    if not readable(dtype):
        return False
    return (options["OVERVIEWS"] == "NONE"
            or supported(dtype, options["OVERVIEW_RESAMPLING"], nodata))


def _copy_from_memory(pixels: np.ndarray, tmp: str, options: Mapping[str, Any],
                      *, crs: Any, transform: Affine, nodata: float | None,
                      tags: Mapping[str, str], band_descriptions: Sequence[str]) -> None:
    """Write `pixels` (bands, rows, cols) as a COG at `tmp`, their overviews computed here
    (`cog_overviews`); `cog_tiles` compresses the tiles when it can, into the header and IFDs
    the COG driver writes for the same dataset without its tiles; else the driver reads the
    pixels and overviews from memory through a VRT and compresses them."""
    from rasterio.crs import CRS

    from . import cog_tiles
    from .cog_overviews import build, overview_shapes, vrt_xml

    options = dict(options)
    levels: list[np.ndarray] = []
    if options["OVERVIEWS"] != "NONE":
        count = options.pop("OVERVIEW_COUNT", None)
        _, height, width = pixels.shape
        shapes = overview_shapes(height, width, int(options["BLOCKSIZE"]),
                                 None if count is None else int(count))
        levels = build(pixels, shapes, options.pop("OVERVIEW_RESAMPLING"), nodata)
        options["OVERVIEWS"] = "FORCE_USE_EXISTING"
    dataset = partial(vrt_xml, pixels, levels,
                      crs_wkt=CRS.from_user_input(crs).to_wkt() if crs else None,
                      transform=transform.to_gdal(), nodata=nodata,
                      tags={str(k): str(v) for k, v in tags.items()},
                      band_descriptions=list(band_descriptions))
    encoding = {k: v for k, v in options.items() if k != "OVERVIEWS"}
    if cog_tiles.encodable(pixels.dtype, pixels.shape[0], encoding):
        # GDAL writes the IFDs of the same dataset without its tiles, cog_tiles the tiles.
        _copy_vrt(dataset(empty=True), tmp, {**options, "SPARSE_OK": "TRUE"})
        with builtins.open(tmp, "rb") as file:
            stub = file.read()
        try:
            cog_tiles.write(tmp, stub, [pixels[0]] + [level[0] for level in levels], encoding)
            return
        except cog_tiles.NotLaidOut:
            pass  # GDAL writes it all
    _copy_vrt(dataset(), tmp, options)


def _copy_vrt(xml: str, tmp: str, options: Mapping[str, Any]) -> None:
    """The COG driver's copy of the VRT `xml` at `tmp`."""
    # GDAL_MEM_ENABLE_OPEN: the VRT's sources are MEM datasets named by their buffers' address.
    with (rasterio.Env(GDAL_PAM_ENABLED="NO", GDAL_MEM_ENABLE_OPEN="YES"),
          not_georeferenced_ok(), rasterio.open(xml) as source):
        rasterio.shutil.copy(source, tmp, driver="COG", **options)


@contextmanager
def _staged(array: ArrayLike, profile: dict[str, Any], blocksize: int, scratch_dir: str | None):
    """A GDAL dataset holding the pixels, for the COG driver to copy when it does all the work
    (`_in_memory` says when).

    An array goes into a MEM dataset. A pixel-producing function fills a tiled GeoTIFF in a
    scratch folder strip by strip, so a whole tile never needs to be in memory.
    """
    count, height, width = profile["count"], profile["height"], profile["width"]
    dtype = profile["dtype"]
    if not callable(array) or isinstance(array, np.ndarray):
        data = np.asarray(array).astype(dtype, copy=False).reshape(count, height, width)
        with rasterio.open("staged", "w", driver="MEM", **profile) as dataset:
            dataset.write(data)
            yield dataset
        return
    if scratch_dir is not None:
        os.makedirs(scratch_dir, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=scratch_prefix("s1tc-stage-"), dir=scratch_dir)
    try:
        with rasterio.open(os.path.join(folder, "staged.tif"), "w", driver="GTiff", tiled=True,
                           blockxsize=blocksize, blockysize=blocksize, BIGTIFF="IF_SAFER",
                           **profile) as dataset:
            for row in range(0, height, blocksize):
                window = Window(0, row, width, min(blocksize, height - row))
                block = np.asarray(array(window))
                expected = (count, window.height, width)
                if block.size != np.prod(expected):
                    raise ValueError(f"the pixel function gave shape {block.shape} for {window}, "
                                     f"expected {expected}")
                dataset.write(block.astype(dtype, copy=False).reshape(expected), window=window)
            yield dataset
    finally:
        shutil.rmtree(folder, ignore_errors=True)

