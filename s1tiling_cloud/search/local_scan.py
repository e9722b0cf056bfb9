"""The products already in `s1_images` (local folder or s3:// prefix), when nothing is
downloaded (`[DataSource] download: False`), as S1Tiling's local scan.

Entries named `S1*_IW_GRD*` (a `.SAFE` folder, a folder as eodag names it, or a `.zip`) whose
name's start date is in the dates; each is opened for its manifest (orbit, direction,
footprint, polarisations), and kept when it matches the request. An entry without a manifest
is skipped, as S1Tiling does; one that cannot be read is reported.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping
from typing import Any

from ..config.model import DataSourceSection
from ..exceptions import CorruptedDataSAFEError, NotSentinel1ProductError
from ..outputs.names import ProductName
from ..safe.location import MANIFEST, open_location
from ..safe.manifest import parse_manifest
from ..store import S3Config, is_remote, join
from .candidates import candidate_from_manifest
from .eodag_search import matches_request
from .listing import Listing
from .model import S1Candidate

__all__ = ["scan_products"]

log = logging.getLogger(__name__)
_PATTERN = "S1*_IW_GRD*"


def scan_products(s1_images: str, source: DataSourceSection, *,
                  storage_options: Mapping[str, Any] | None = None,
                  listing: Listing | None = None,
                  unreadable: list[tuple[str, str]] | None = None,
                  ) -> tuple[list[S1Candidate], list[tuple[str, str]]]:
    """The products of `s1_images` that match `source`'s dates, orbits and platforms.

    Parameters
    ----------
    s1_images : str
        The product cache: a local folder or an s3:// prefix.
    source : DataSourceSection
        The request's `[DataSource]`: its dates and filters.
    storage_options : Mapping, optional
        How to reach `s1_images` on S3 (when `listing` is not given).
    listing : Listing, optional
        The listing to use (shared with the filters).
    unreadable : list, optional
        Where to append (location, reason) for each product that cannot be read
        (`CorruptedDataSAFEError`); it is also in the skipped entries.

    Returns
    -------
    tuple
        (candidates with `location` set, [(entry, reason)] for entries that were skipped).
    """
    listing = listing or Listing(storage_options)
    options = (S3Config.resolve(listing.storage_options).s3fs_options()
               if is_remote(s1_images) else {})
    candidates: dict[str, S1Candidate] = {}
    skipped: list[tuple[str, str]] = []
    for entry in sorted(listing.names(s1_images)):
        if not fnmatch.fnmatch(entry, _PATTERN):
            continue
        try:
            name = ProductName.parse(entry)
        except ValueError:
            skipped.append((entry, "not a Sentinel-1 product name"))
            continue
        if not source.first_date <= name.start.date() <= source.last_date:
            continue
        if name.name in candidates:  # the same product as a folder and a zip: keep the first
            continue
        location = join(s1_images, entry)
        try:
            candidate = _candidate(location, name.name, options)
        except (NotSentinel1ProductError, FileNotFoundError) as error:
            skipped.append((entry, f"no usable manifest: {error}"))
            continue
        except CorruptedDataSAFEError as error:
            skipped.append((entry, str(error)))
            if unreadable is not None:
                unreadable.append((location, error.details or str(error)))
            continue
        if matches_request(candidate, source):
            candidates[name.name] = candidate
    return sorted(candidates.values(), key=lambda c: c.id), skipped


def _candidate(location: str, product_id: str, storage_options: dict[str, Any]) -> S1Candidate:
    # the manifest only: no CRC pass over the whole zip (the stages check it when they open it)
    safe = open_location(location, storage_options, check_crc=False)
    manifest = parse_manifest(safe.read(MANIFEST), safe.url)
    return candidate_from_manifest(manifest, product_id, location)
