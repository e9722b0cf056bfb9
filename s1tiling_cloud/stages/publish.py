"""Stage `publish`: one final product (its polarisations, masks, quicklooks, maps) as a STAC item.

The item goes into the static catalog next to the data (`catalog`: the root `catalog.json`,
local or s3://), and into a STAC API with the Transactions extension when `api_url` is given.
Idempotent: a re-run rewrites the same item and finds it already in its collection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..stac.item import ProductFiles
from ..stac.publication import publish_product
from .base import StageCall, StageResult

STAGE = "publish"


def publish(products: Mapping[str, str], catalog: str, masks: Mapping[str, str] | None = None,
            quicklooks: Mapping[str, str] | None = None, maps: Mapping[str, str] | None = None,
            inputs: Sequence[Mapping[str, Any]] = (), api_url: str | None = None,
            public_url: str | None = None, storage_options: Mapping[str, Any] | None = None,
            processing: Mapping[str, Any] | None = None) -> StageResult:
    """Publish the product whose polarisations are `products` (polarisation -> COG URI).

    `inputs`: the S1 products used (`{"id", "href", "provider"}`), linked as `derived_from`;
    `public_url`: https base replacing `s3://bucket` in asset hrefs; `processing`: what the
    tags do not say, recorded as `s1tiling:*` properties (e.g. `{"engine": "otb"}`).
    """
    call = StageCall(STAGE, storage_options)
    files = ProductFiles(dict(products), dict(masks or {}), dict(quicklooks or {}), dict(maps or {}),
                         [dict(source) for source in inputs])
    done = publish_product(files, catalog, api_url=api_url, public_url=public_url,
                           storage_options=storage_options, processing=processing)
    return call.done([done.item_uri], item=done.item_id, collection=done.collection_id,
                     api=done.api)
