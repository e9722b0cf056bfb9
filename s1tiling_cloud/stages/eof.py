"""The `eof` stage: the precise orbit files of one mission over a period, in the EOF cache.

S1Tiling's step 5 of the LIA workflow: the orbit files are searched in
`eof_dir` first; when the cached ones cover [start, stop], nothing else happens (the provider
is not contacted). Otherwise eodag searches `S1_AUX_POEORB`, the fewest files of the mission
that cover the period are chosen (`geo.eof.choose_eofs`), downloaded, checked (an Earth
Explorer file with state vectors) and published into `eof_dir` atomically: a local rename or
one S3 PutObject. The outputs are the URIs of the files that cover the period, usually one
for a product's acquisition. No file covering the period: `DownloadEOFFileError` (exit 67).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from ..exceptions import ConfigurationError, DownloadEOFFileError
from ..geo.eof import EOFCandidate, as_utc, cached_eofs, choose_eofs, uncovered
from ..search import eodag_compat as compat
from ..search.candidates import normalise_platform
from ..search.eof import search_eofs
from ..store import Store, join
from .base import StageCall, StageResult

__all__ = ["fetch_eof"]

log = logging.getLogger(__name__)


def fetch_eof(platform: str, start: str, stop: str, eof_dir: str,
              eodag_config: str | None = None, wait_minutes: float = 2,
              timeout_minutes: float = 20,
              storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Make `eof_dir` hold the precise orbit files of `platform` covering [start, stop] (ISO
    times, UTC); returns their URIs, `skipped` when the cache already covered the period.

    `eodag_config`: eodag's user configuration (None: eodag's defaults; the provider is eodag's
    choice by priority, cop_dataspace for S1Tiling); `wait_minutes`/`timeout_minutes`: eodag's
    download retry wait and give-up time, as for the `ingest` stage.
    """
    call = StageCall("eof", storage_options)
    platform = normalise_platform(platform)
    first, last = as_utc(start), as_utc(stop)
    if last < first:  # a bad argument: exit 72, as a bad parameter of any stage
        raise ConfigurationError(f"the period ends ({stop}) before it starts ({start})")
    cached = cached_eofs(eof_dir, platform, storage_options)
    if not uncovered(cached, first, last):
        chosen, _ = choose_eofs(cached, platform, first, last)
        return call.done([c.location for c in chosen], skipped=True,
                             files=[c.file_name for c in chosen], downloaded=0)
    dag = compat.open_gateway(eodag_config)
    try:
        found = search_eofs(dag, platform, first, last)
    except Exception as error:
        raise DownloadEOFFileError(f"Cannot search precise orbit files of {platform} between "
                                   f"{first} and {last}: {type(error).__name__}: {error}") from error
    known = {c.id for c in cached}
    own = [c for c in found if c.platform == platform and c.id not in known]
    chosen, gaps = choose_eofs([*cached, *own], platform, first, last)
    if gaps:
        raise DownloadEOFFileError(
            f"No precise orbit file of {platform} covers {', '.join(f'{a} - {b}' for a, b in gaps)}"
            f" ({len(found)} found by the search, {len(cached)} in {eof_dir})")
    store = call.store
    locations, downloaded = [], 0
    for candidate in chosen:
        if candidate.location is None:
            candidate = _download(candidate, eof_dir, store, dag, wait_minutes, timeout_minutes)
            downloaded += 1
        locations.append(candidate.location)
    return call.done(locations, files=[c.file_name for c in chosen], downloaded=downloaded)


def _download(candidate: EOFCandidate, eof_dir: str, store: Store, dag, wait: float,
              timeout: float) -> EOFCandidate:
    """eodag's download into a scratch folder, the file checked, then published in `eof_dir`."""
    from eodag.utils import ProgressCallback

    scratch = tempfile.mkdtemp(prefix=".eof-")
    try:
        try:
            product = compat.product_from_dict(candidate.eodag or {})
            downloaded = Path(dag.download(product, output_dir=scratch, extract=True,
                                           delete_archive=True, wait=wait, timeout=timeout,
                                           progress_callback=ProgressCallback(disable=True)))
        except Exception as error:
            raise DownloadEOFFileError(f"Cannot download {candidate.file_name}: "
                                       f"{type(error).__name__}: {error}") from error
        local = _orbit_file(downloaded, candidate)
        target = join(eof_dir, candidate.file_name)
        store.publish(local, target, content_type="application/xml")
        log.info("%s downloaded into %s", candidate.file_name, eof_dir)
        return dataclasses.replace(candidate, location=target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _orbit_file(downloaded: Path, candidate: EOFCandidate) -> Path:
    """The orbit file in what eodag wrote (the file, or a folder holding it), once checked."""
    files = [downloaded] if downloaded.is_file() else sorted(downloaded.rglob("*.EOF"))
    matching = [f for f in files if f.name == candidate.file_name] or files
    if not matching or matching[0].suffix != ".EOF":
        raise DownloadEOFFileError(f"The download of {candidate.file_name} holds no .EOF file")
    try:
        root = etree.fromstring(matching[0].read_bytes(), parser=etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as error:
        raise DownloadEOFFileError(f"{candidate.file_name} is not an orbit file: {error}") from error
    first = root.find(".//{*}List_of_OSVs/{*}OSV")
    if first is None or first.find("{*}UTC") is None or first.find("{*}X") is None:
        raise DownloadEOFFileError(f"{candidate.file_name} holds no state vector")
    return matching[0]
