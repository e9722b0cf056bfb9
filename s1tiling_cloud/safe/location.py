"""Where a SAFE product lives: a folder, its manifest, a zip, or any fsspec URL (s3://...).

Everything else in the reader sees a product only through `SafeLocation`: read a member by
its path relative to the SAFE root, and get what rasterio needs to open a measurement lazily
(a local path, a GDAL `/vsizip/` path, or an fsspec opener for remote and zipped objects).
"""

from __future__ import annotations

import functools
import os
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.zip import ZipFileSystem
from rasterio.abc import FileContainer

from ..exceptions import CorruptedDataSAFEError, NotSentinel1ProductError

MANIFEST = "manifest.safe"
# Remote files are read in 4 MiB blocks: s3fs's default (50 MiB read-ahead, one block kept)
# fetched a whole 200 MB TIFF to read a 1000x1000 window, as GDAL seeks between the strip
# tables near the start and the data further on.
REMOTE_OPEN_OPTIONS = {"block_size": 4 * 2**20}


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
        return posixpath.join(self.root, posixpath.normpath(relpath).removeprefix("./"))

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
        options = {} if isinstance(self.fs, ZipFileSystem) else REMOTE_OPEN_OPTIONS
        return self.member(relpath), FsspecOpener(self.fs, **options)


class _Handle:
    """An fsspec file that is equal only to itself.

    rasterio keeps each open file's exit stack in a dict keyed by the file object, and fsspec
    read-mode files compare equal (and hash equal) when they are the same remote object: two
    datasets on one TIFF (`IW/VV` and `IW`, or bursts) then share one key, and closing either
    closes the other's handle ("I/O operation on closed file").
    """

    def __init__(self, file) -> None:
        self._file = file

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FsspecOpener(FileContainer):
    """rasterio's `opener=` over an fsspec filesystem: identity-keyed handles, set block size.

    Equal (and hashing equal) for the same filesystem and options, so that xarray's file cache
    finds an unpickled copy's open dataset again in a worker process.
    """

    def __init__(self, fs: fsspec.AbstractFileSystem, **open_options: Any) -> None:
        self.fs = fs
        self.open_options = open_options

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FsspecOpener) and other.fs == self.fs
                and other.open_options == self.open_options)

    def __hash__(self) -> int:
        return hash((self.fs, tuple(sorted(self.open_options.items()))))

    def open(self, path: str, mode: str = "rb", **kwds: Any) -> _Handle:
        return _Handle(self.fs.open(path, mode, **{**self.open_options, **kwds}))

    def isfile(self, path: str) -> bool:
        return self.fs.isfile(path)

    def isdir(self, path: str) -> bool:
        return self.fs.isdir(path)

    def ls(self, path: str) -> list[str]:
        return self.fs.ls(path, detail=False)

    def mtime(self, path: str) -> int:
        return 0

    def rm(self, path: str) -> None:
        raise PermissionError(f"read-only opener: {path}")

    def size(self, path: str) -> int:
        return self.fs.size(path)


#: Block size for the one pass over a remote zip that checks its CRCs.
CRC_READ_BLOCK = 16 * 2**20


def _zip_crc_failure(fs: fsspec.AbstractFileSystem, path: str, text: str) -> str | None:
    """The first member of the zip `path` whose data fails its CRC (None: all good).

    GDAL's /vsizip/ and fsspec's windowed reads take stored members without checking their
    CRC, so a damaged measurement would give wrong pixels and no error. The check reads the
    whole zip once per process and version of the object (size, and modification time or S3
    ETag): for a remote zip that is one download of it, the price of knowing the pixels are
    the product's. A zip that cannot be read through (truncated, a broken deflate stream, a
    compression zipfile lacks) is a CorruptedDataSAFEError naming `text`; other read errors
    (the network's) propagate, and as the cache keeps only completed passes, the next opening
    tries again.
    """
    info = fs.info(path)
    version = str(info.get("ETag") or info.get("LastModified") or info.get("mtime") or "")
    try:
        return _crc_failure_of_version(fs, path, int(info.get("size") or 0), version)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as error:
        raise CorruptedDataSAFEError(text, f"not a readable zip ({error})") from error


@functools.lru_cache(maxsize=64)
def _crc_failure_of_version(fs: fsspec.AbstractFileSystem, path: str, size: int,
                            version: str) -> str | None:
    """One complete pass (lru_cache keeps results, never exceptions: a failed read is not
    remembered as a good zip)."""
    options = {} if _is_local(fs) else {"block_size": CRC_READ_BLOCK, "cache_type": "readahead"}
    with fs.open(path, "rb", **options) as handle, zipfile.ZipFile(handle) as archive:
        return archive.testzip()


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def _strip_manifest(path: str) -> str:
    return path[: -len(MANIFEST)].rstrip("/") if path.endswith(MANIFEST) else path.rstrip("/")


def open_location(url: str | os.PathLike, storage_options: dict | None = None, *,
                  check_crc: bool = True) -> SafeLocation:
    """Resolve a user's location to a SafeLocation, with typed errors for bad input.

    `check_crc` (zips only): read the whole zip first to check every member's CRC (see
    `_zip_crc_failure`). Opening a product to process it keeps it; the plan's scan of
    `s1_images`, which reads only each manifest (small, and one that is damaged fails to
    parse), turns it off so as not to read N products of 1-4 GB at every plan.
    """
    storage_options = dict(storage_options or {})
    text = os.fspath(url)
    if isinstance(url, Path) or "://" not in text:
        text = str(Path(text).expanduser().resolve())
    fs, path = fsspec.core.url_to_fs(text, **storage_options)
    path = _strip_manifest(path)
    if not fs.exists(path):
        raise FileNotFoundError(f"No such product: {text}")
    if path.lower().endswith(".zip") and fs.isfile(path):
        return _open_zip(text, fs, path, storage_options, check_crc)
    if not fs.isdir(path):
        raise NotSentinel1ProductError(text, "neither a SAFE folder, a manifest.safe nor a zip")
    if not fs.exists(posixpath.join(path, MANIFEST)):
        raise NotSentinel1ProductError(text, f"no {MANIFEST} in this folder")
    return SafeLocation(text, fs, path, storage_options=storage_options)


def _open_zip(text: str, fs, path: str, storage_options: dict, check_crc: bool) -> SafeLocation:
    local = path if _is_local(fs) else None
    bad = _zip_crc_failure(fs, path, text) if check_crc else None
    if bad is not None:
        raise CorruptedDataSAFEError(text, f"zip member {bad} fails its CRC check")
    try:
        archive = ZipFileSystem(fo=local or fs.open(path, "rb", **REMOTE_OPEN_OPTIONS))
        names = [info["name"] for info in archive.find("", detail=True).values()]
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise CorruptedDataSAFEError(text, f"not a readable zip ({error})") from error
    manifests = sorted((n for n in names if posixpath.basename(n) == MANIFEST), key=len)
    if not manifests:
        raise NotSentinel1ProductError(text, f"the zip holds no {MANIFEST}")
    root = posixpath.dirname(manifests[0])
    return SafeLocation(text, archive, root, local_zip=local, storage_options=storage_options)
