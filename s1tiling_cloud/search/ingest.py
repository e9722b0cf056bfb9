"""Download one Sentinel-1 product into the product cache, once, verified, atomically.

The cache (`[Paths] s1_images`) holds `{id}.SAFE` folders, locally or under an s3:// prefix.
A product is downloaded by eodag into a scratch folder, verified (manifest, every measurement
present, of its declared size and readable), then published: locally by renaming the folder
into place (atomic), on S3 file by file with `manifest.safe` last, so that a present manifest
always means a complete product. A product whose manifest is in the cache is not downloaded
again, and the provider is not contacted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio
from rasterio.errors import RasterioError
from rasterio.windows import Window

from ..exceptions import (
    CorruptedDataSAFEError,
    DownloadS1FileError,
    DownloadTimeoutError,
    NotSentinel1ProductError,
)
from ..safe.location import MANIFEST
from ..safe.manifest import Manifest, parse_manifest
from ..store import is_remote, join, scratch_prefix
from . import eodag_compat as compat
from .listing import filesystem
from .model import S1Candidate

__all__ = ["IngestOutcome", "cache_uri", "ingest_product", "is_in_cache", "verify_safe_folder"]

log = logging.getLogger(__name__)


@dataclass
class IngestOutcome:
    """Where the product is now, and whether this call downloaded it."""

    location: str
    downloaded: bool
    files: int = 0
    bytes: int = 0


def cache_uri(s1_images: str, product_id: str) -> str:
    """Where the cache keeps a product: `{s1_images}/{id}.SAFE`."""
    return join(s1_images, f"{product_id}.SAFE")


def is_in_cache(location: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    """Whether a cached product is complete: its manifest is there (it is published last)."""
    if location.lower().endswith(".zip"):
        fs, path = filesystem(location, storage_options)
        return fs.isfile(path)
    fs, path = filesystem(join(location, MANIFEST), storage_options)
    return fs.exists(path)


def ingest_product(product: Mapping[str, Any], destination: str, *,
                   eodag_config: str | None = None, wait_minutes: float = 2,
                   timeout_minutes: float = 20,
                   storage_options: Mapping[str, Any] | None = None, dag=None) -> IngestOutcome:
    """Make `product` (an `S1Candidate.to_dict()`) available at `destination`, once."""
    candidate = S1Candidate.from_dict(dict(product))
    for location in (destination, candidate.location):
        if location and is_in_cache(location, storage_options):
            log.info("%s is already at %s", candidate.id, location)
            return IngestOutcome(location, downloaded=False)
    if not candidate.eodag:
        raise _noted(DownloadS1FileError(candidate.id), "no eodag description to download it from")
    local = not is_remote(destination)
    if local:
        os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    work = tempfile.mkdtemp(prefix=scratch_prefix(".ingest-"),
                            dir=os.path.dirname(os.path.abspath(destination)) if local else None)
    try:
        downloaded = _download(candidate, work, dag or compat.open_gateway(eodag_config),
                               wait_minutes, timeout_minutes)
        root = _safe_root(Path(downloaded), candidate.id)
        manifest = verify_safe_folder(root, candidate.id)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in files)
        if local:
            _publish_locally(root, destination)
        else:
            _publish_to_object_storage(root, files, destination, storage_options)
        log.info("%s: %d files, %d bytes at %s (%s)", candidate.id, len(files), size,
                 destination, manifest.platform)
        return IngestOutcome(destination, downloaded=True, files=len(files), bytes=size)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _download(candidate: S1Candidate, folder: str, dag, wait: float, timeout: float) -> str:
    """eodag's download into `folder`; its failures as S1Tiling's typed errors."""
    from eodag.utils import ProgressCallback

    try:
        eo_product = compat.product_from_dict(candidate.eodag)
        return dag.download(eo_product, output_dir=folder, extract=True, delete_archive=True,
                            wait=wait, timeout=timeout,
                            progress_callback=ProgressCallback(disable=True))
    except Exception as error:
        kind = (DownloadTimeoutError if compat.is_timeout(error) or compat.is_offline(error)
                else DownloadS1FileError)
        raise _noted(kind(candidate.id), f"{type(error).__name__}: {error}") from error


def _noted(error: DownloadS1FileError, note: str) -> DownloadS1FileError:
    """The error with why, as a note (S1Tiling's message names only the product)."""
    error.add_note(note)
    return error


def _safe_root(downloaded: Path, product_id: str) -> Path:
    """The folder holding `manifest.safe` in what eodag wrote (a folder, maybe a zip)."""
    if downloaded.is_file() and zipfile.is_zipfile(downloaded):
        target = downloaded.with_suffix(".extracted")
        try:
            with zipfile.ZipFile(downloaded) as archive:
                archive.extractall(target)
        except (zipfile.BadZipFile, EOFError, OSError) as error:
            raise CorruptedDataSAFEError(product_id, f"unreadable zip: {error}") from error
        downloaded = target
    elif downloaded.is_file():
        raise CorruptedDataSAFEError(product_id, f"the download is a file, not a SAFE: {downloaded}")
    manifests = sorted(downloaded.rglob(MANIFEST), key=lambda p: len(p.parts))
    if not manifests:
        raise CorruptedDataSAFEError(product_id, f"the download holds no {MANIFEST}")
    return manifests[0].parent


def verify_safe_folder(root: Path, product_id: str) -> Manifest:
    """A local SAFE folder's manifest, after checking every file it lists.

    Every file must have the MD5 the manifest declares (`dataObject` checksums); each
    measurement must exist, have the declared size, and give pixels to GDAL; otherwise the
    product is corrupted (exit 71, naming the file) and must be fetched again.
    """
    try:
        manifest = parse_manifest((root / MANIFEST).read_bytes(), str(root))
    except (NotSentinel1ProductError, ValueError, OSError) as error:
        raise CorruptedDataSAFEError(product_id, f"unreadable {MANIFEST}: {error}") from error
    measurements = [f for f in manifest.files if f.kind == "measurement"]
    if not measurements:
        raise CorruptedDataSAFEError(product_id, "the manifest lists no measurement")
    for data in manifest.files:  # ESA's MD5 of each file: a flipped byte is caught here, once
        path = root / data.href
        if data.md5 and path.is_file() and _md5(path) != data.md5:
            raise CorruptedDataSAFEError(
                product_id, f"{data.href}: its MD5 is not the manifest's {data.md5} (corrupted)")
    for data in measurements:
        path = root / data.href
        if not path.is_file():
            raise CorruptedDataSAFEError(product_id, f"missing {data.href}")
        if data.size > 0 and path.stat().st_size != data.size:
            raise CorruptedDataSAFEError(
                product_id, f"{data.href} has {path.stat().st_size} bytes, not {data.size}")
        try:
            with rasterio.open(path) as dataset:
                dataset.read(1, window=Window(0, 0, 1, 1))
        except RasterioError as error:
            raise CorruptedDataSAFEError(product_id, f"unreadable {data.href}: {error}") from error
    return manifest


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _publish_locally(root: Path, destination: str) -> None:
    """Rename the verified folder into place; an incomplete leftover there is replaced."""
    target = Path(destination)
    if target.exists():
        if (target / MANIFEST).exists():  # another run published it meanwhile
            return
        shutil.rmtree(target)
    os.replace(root, target)


def _publish_to_object_storage(root: Path, files: list[Path], destination: str,
                               storage_options: Mapping[str, Any] | None) -> None:
    """Upload file by file, the manifest last: its presence says the product is complete."""
    fs, prefix = filesystem(destination, storage_options)
    ordered = [p for p in files if p.name != MANIFEST or p.parent != root] + [root / MANIFEST]
    for path in ordered:
        fs.put_file(str(path), f"{prefix}/{path.relative_to(root).as_posix()}")
