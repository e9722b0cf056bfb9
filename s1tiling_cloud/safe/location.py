"""Where a SAFE product lives: a folder, its manifest, a zip, or any fsspec URL (s3://...).

Everything else in the reader sees a product only through `SafeLocation`: read a member by
its path relative to the SAFE root, and get what rasterio needs to open a measurement lazily
(a local path, a GDAL `/vsizip/` path, or an fsspec opener for remote and zipped objects).
"""

from __future__ import annotations

import os
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.zip import ZipFileSystem

from ..exceptions import CorruptedDataSAFEError, NotSentinel1ProductError

MANIFEST = "manifest.safe"


@dataclass
class SafeLocation:
    """A SAFE product's root inside a filesystem."""

    url: str
    fs: fsspec.AbstractFileSystem
    root: str  # path of the SAFE folder inside `fs` ("" for the root of a zip)
    local_zip: str | None = None  # set when the product is a zip on local disk
    storage_options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Product name without extension, e.g. `S1B_IW_GRDH_1SDV_..._5371`."""
        base = posixpath.basename(self.root.rstrip("/")) or posixpath.basename(self.url)
        for suffix in (".SAFE", ".zip", ".safe"):
            base = base.removesuffix(suffix)
        return base

    def member(self, relpath: str) -> str:
        return posixpath.join(self.root, posixpath.normpath(relpath).lstrip("./"))

    def exists(self, relpath: str) -> bool:
        return self.fs.exists(self.member(relpath))

    def read(self, relpath: str) -> bytes:
        path = self.member(relpath)
        try:
            with self.fs.open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise CorruptedDataSAFEError(self.url, f"cannot read {relpath}: {error}") from error

    def raster(self, relpath: str) -> tuple[str, Any]:
        """(path, opener) for `rasterio.open`: native GDAL paths where possible, else fsspec."""
        if self.local_zip is not None:
            return f"/vsizip/{self.local_zip}/{self.member(relpath)}", None
        if _is_local(self.fs):
            return self.member(relpath), None
        return self.member(relpath), self.fs


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def _strip_manifest(path: str) -> str:
    return path[: -len(MANIFEST)].rstrip("/") if path.endswith(MANIFEST) else path.rstrip("/")


def open_location(url: str | os.PathLike, storage_options: dict | None = None) -> SafeLocation:
    """Resolve a user's location to a SafeLocation, with typed errors for bad input."""
    storage_options = dict(storage_options or {})
    text = os.fspath(url)
    if isinstance(url, Path) or "://" not in text:
        text = str(Path(text).expanduser().resolve())
    fs, path = fsspec.core.url_to_fs(text, **storage_options)
    path = _strip_manifest(path)
    if not fs.exists(path):
        raise FileNotFoundError(f"No such product: {text}")
    if path.lower().endswith(".zip") and fs.isfile(path):
        return _open_zip(text, fs, path, storage_options)
    if not fs.isdir(path):
        raise NotSentinel1ProductError(text, "neither a SAFE folder, a manifest.safe nor a zip")
    if not fs.exists(posixpath.join(path, MANIFEST)):
        raise NotSentinel1ProductError(text, f"no {MANIFEST} in this folder")
    return SafeLocation(text, fs, path, storage_options=storage_options)


def _open_zip(text: str, fs, path: str, storage_options: dict) -> SafeLocation:
    local = path if _is_local(fs) else None
    try:
        archive = ZipFileSystem(fo=local or fs.open(path, "rb"))
        names = [info["name"] for info in archive.find("", detail=True).values()]
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise CorruptedDataSAFEError(text, f"not a readable zip ({error})") from error
    manifests = sorted((n for n in names if posixpath.basename(n) == MANIFEST), key=len)
    if not manifests:
        raise NotSentinel1ProductError(text, f"the zip holds no {MANIFEST}")
    root = posixpath.dirname(manifests[0])
    return SafeLocation(text, archive, root, local_zip=local, storage_options=storage_options)
