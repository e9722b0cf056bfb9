"""The `ingest` stage: one Sentinel-1 product downloaded into the product cache, once.

The plan holds one ingest node per product to download, whatever the number of tiles it
covers; its `product` argument is the search's `S1Candidate.to_dict()` (with the eodag
description), its `destination` is `search.ingest.cache_uri(s1_images, id)`. Errors:
`DownloadTimeoutError` (offline product, timeout: exit 68 alone), `DownloadS1FileError` (67),
`CorruptedDataSAFEError` (71).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..search.ingest import ingest_product
from .base import StageCall, StageResult

__all__ = ["ingest"]


def ingest(product: Mapping[str, Any], destination: str, eodag_config: str | None = None,
           wait_minutes: float = 2, timeout_minutes: float = 20,
           storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Download `product` into `destination` (`{s1_images}/{id}.SAFE`) unless it is there.

    `wait_minutes`/`timeout_minutes` are eodag's retry wait and give-up time for products
    that are not available yet (S1Tiling's `--eodag_download_wait` / `_timeout`).
    """
    call = StageCall("ingest", storage_options)
    outcome = ingest_product(product, destination, eodag_config=eodag_config,
                             wait_minutes=wait_minutes, timeout_minutes=timeout_minutes,
                             storage_options=storage_options)
    return call.done([outcome.location], skipped=not outcome.downloaded,
                         product=str(product.get("id")), files=outcome.files, bytes=outcome.bytes)
