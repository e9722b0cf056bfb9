"""JSON documents of a static catalog, read and updated safely by concurrent publishers.

Items are written whole, once per product (one atomic write; two writers of one item write the
same thing). The shared documents (root catalog, collections) are read-modify-written by every
publisher, so an update is a transaction, `update(uri, mutate)`:

- local disk: an exclusive `flock` on a lock file beside the document, then an atomic
  replace (temporary file, fsync, `os.replace`): readers never see torn JSON, writers queue.
- S3: optimistic concurrency with conditional writes: read the document and its ETag, write
  the new one with `If-Match: <ETag>` (`If-None-Match: *` when creating it); on 412/409 another
  publisher won, so read again and retry after a random back-off. After a write, the document
  is read back and must already contain the change (`mutate` of it changes nothing): a store
  whose conditional writes are not atomic (moto's server checks then writes) or not
  read-after-write consistent would lose an update silently; the read-back catches it.

`mutate` receives a copy of the current document (None if there is none) and returns the new
one; it must be idempotent (applying it twice is applying it once), which the read-back relies on.
"""

from __future__ import annotations

import copy
import fcntl
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import StacPublicationError
from ..store import S3Config, Store, is_remote

__all__ = ["JsonDocuments", "dumps"]

log = logging.getLogger(__name__)

JSON_MEDIA_TYPE = "application/json"
Mutation = Callable[[dict[str, Any] | None], dict[str, Any] | None]
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


def dumps(document: Mapping[str, Any]) -> bytes:
    """Stable, readable JSON (sorted keys would reorder STAC's conventional field order)."""
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


class JsonDocuments:
    """Reads, writes and transactionally updates JSON documents by URI (local or s3://)."""

    def __init__(self, storage_options: Mapping[str, Any] | None = None, *,
                 timeout_s: float = 300.0, max_backoff_s: float = 0.5) -> None:
        self.store = Store(storage_options)
        self.timeout_s = timeout_s
        self.max_backoff_s = max_backoff_s
        self._client = None

    # ----------------------------------------------------------- plain reads and writes

    def read(self, uri: str) -> dict[str, Any] | None:
        """The document, or None if there is none."""
        if is_remote(uri):
            return self._s3_get(uri)[0]
        try:
            with open(_local(uri), "rb") as f:
                return json.loads(f.read())
        except FileNotFoundError:
            return None

    def write(self, uri: str, document: Mapping[str, Any]) -> None:
        """Write a whole document atomically (one PutObject, or a replace on disk)."""
        self.store.write_bytes(uri, dumps(document), JSON_MEDIA_TYPE)

    def find(self, folder: str, suffix: str = ".json") -> Iterator[str]:
        """URIs of the documents under a folder (recursively), sorted; hidden files (a
        publisher's temporaries and locks) left out."""
        for entry in self.store.list(folder, f"*{suffix}", recursive=True):
            if not entry.name.startswith("."):
                yield entry.uri

    # ----------------------------------------------------------- transactions

    def update(self, uri: str, mutate: Mutation) -> dict[str, Any] | None:
        """Apply `mutate` to the stored document atomically; returns what is stored after it."""
        if is_remote(uri):
            return self._s3_update(uri, mutate)
        return self._local_update(uri, mutate)

    def _local_update(self, uri: str, mutate: Mutation) -> dict[str, Any] | None:
        path = _local(uri)
        folder, name = os.path.split(path)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f".{name}.lock"), "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                current = self.read(path)
                new = mutate(copy.deepcopy(current))
                if new is not None and new != current:
                    self.write(path, new)
                return new if new is not None else current
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _s3_update(self, uri: str, mutate: Mutation) -> dict[str, Any] | None:
        deadline = time.monotonic() + self.timeout_s
        attempt = 0
        while True:
            current, etag = self._s3_get(uri)
            new = mutate(copy.deepcopy(current))
            if new is None or new == current:
                return current
            if self._s3_put_if(uri, new, etag):
                stored, _ = self._s3_get(uri)
                if stored is not None and mutate(copy.deepcopy(stored)) == stored:
                    return stored
                log.warning("update of %s was lost by the store; retrying", uri)
            attempt += 1
            if time.monotonic() > deadline:
                raise StacPublicationError(f"could not update {uri} within {self.timeout_s:.0f} s "
                                           f"({attempt} conflicting attempts)")
            time.sleep(random.uniform(0, min(self.max_backoff_s, 0.01 * 2 ** min(attempt, 8))))

    # ----------------------------------------------------------- S3 primitives

    def _s3(self):
        if self._client is None:
            self._client = _botocore_client(self.store.s3)
        return self._client

    def _s3_get(self, uri: str) -> tuple[dict[str, Any] | None, str | None]:
        bucket, key = _bucket_key(uri)
        client = self._s3()
        try:
            response = client.get_object(Bucket=bucket, Key=key)
        except client.exceptions.NoSuchKey:
            return None, None
        with response["Body"] as body:
            return json.loads(body.read()), response["ETag"]

    def _s3_put_if(self, uri: str, document: Mapping[str, Any], etag: str | None) -> bool:
        """Write only if the object is still `etag` (absent when None); False if it is not."""
        import botocore.exceptions

        bucket, key = _bucket_key(uri)
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self._s3().put_object(Bucket=bucket, Key=key, Body=dumps(document),
                                  ContentType=JSON_MEDIA_TYPE, **condition)
        except botocore.exceptions.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code in _CONFLICT_CODES or status in _CONFLICT_CODES or code == "NoSuchKey":
                return False
            raise
        return True


def _local(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path if parts.scheme == "file" else uri


def _bucket_key(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    return parts.netloc, parts.path.lstrip("/")


def _botocore_client(config: S3Config):
    """A botocore S3 client configured as the store's s3fs is (botocore comes with s3fs)."""
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    options: dict[str, Any] = {"s3": {"addressing_style": "virtual" if config.virtual_hosting
                                      else "path"},
                               # the store's time limits (`S3Config`), as its s3fs has them
                               "connect_timeout": config.connect_timeout,
                               "read_timeout": config.read_timeout,
                               "retries": {"total_max_attempts": config.max_attempts,
                                           "mode": "standard"}}
    if config.anon:
        options["signature_version"] = UNSIGNED
    credentials = {}
    if config.key and config.secret:
        credentials = {"aws_access_key_id": config.key, "aws_secret_access_key": config.secret,
                       "aws_session_token": config.token}
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=config.endpoint_url, region_name=config.region or "us-east-1",
        config=Config(**options), verify=config.verify, **credentials)
