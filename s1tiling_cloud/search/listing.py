"""Names in a folder or under an s3:// prefix: one listing instead of a request per name.

The filters ask "is this product in the cache?" and "do these outputs exist?" for every
candidate; on object storage a listing per folder answers all of them at once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import fsspec

from ..store import S3Config, Store, is_remote

__all__ = ["Listing", "filesystem"]


def filesystem(uri: str, storage_options: Mapping[str, Any] | None = None):
    """(fsspec filesystem, path inside it) for a local path or an s3:// URI."""
    if is_remote(uri):
        options = S3Config.resolve(storage_options).s3fs_options()
        fs, path = fsspec.core.url_to_fs(uri, skip_instance_cache=True, use_listings_cache=False,
                                         **options)
        return fs, path
    fs = fsspec.filesystem("file")
    return fs, os.path.abspath(uri.removeprefix("file://"))


class Listing:
    """Cached listings of folders, by URI (local or s3://), made by `Store.list`."""

    def __init__(self, storage_options: Mapping[str, Any] | None = None) -> None:
        self.storage_options = dict(storage_options or {})
        self._store = Store(self.storage_options)
        self._names: dict[str, set[str]] = {}

    def names(self, folder: str) -> set[str]:
        """The entry names (files and sub-folders) directly in `folder`; empty if it is absent."""
        key = folder.rstrip("/")
        if key not in self._names:
            self._names[key] = {entry.name for entry in self._store.list(key)}
        return self._names[key]
