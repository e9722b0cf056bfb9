"""Publishing one product: its item into the static catalog, then (optionally) into a STAC API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..store import Store
from .api_client import StacApiClient
from .item import ProductFiles, build_item, collection_id, item_dict, item_id
from .static_catalog import StaticCatalog, api_view, collection_uri, item_uri

__all__ = ["Published", "published_documents", "publish_product", "push_to_api"]


@dataclass(frozen=True)
class Published:
    """Where an item went: its document's URI, its collection, and what the API did."""

    item_id: str
    collection_id: str
    item_uri: str
    api: str | None = None


def publish_product(files: ProductFiles, catalog_uri: str, *, api_url: str | None = None,
                    public_url: str | None = None,
                    storage_options: Mapping[str, Any] | None = None,
                    processing: Mapping[str, Any] | None = None) -> Published:
    """Build the item of `files`, add it to the static catalog, push it to `api_url` if given."""
    item = item_dict(build_item(files, Store(storage_options), public_url=public_url,
                                processing=processing))
    catalog = StaticCatalog(catalog_uri, storage_options)
    collection = catalog.add_item(item)
    api = push_to_api(api_url, collection, item) if api_url else None
    return Published(item["id"], item["collection"], catalog.item_uri(item["collection"], item["id"]),
                     api)


def published_documents(catalog_uri: str, product_uri: str, calibration: str, filtered: bool
                        ) -> list[str]:
    """The documents publishing the product of `product_uri` writes (its item, its collection,
    the root catalog), known before it runs: what a plan promises of a publish node.
    `calibration`: the product's `CALIBRATION` tag; `filtered`: a despeckled product."""
    collection = collection_id({"CALIBRATION": calibration, "FILTERED": "true" if filtered else ""})
    return [item_uri(catalog_uri, collection, item_id(product_uri)),
            collection_uri(catalog_uri, collection), catalog_uri]


def push_to_api(api_url: str, collection: Mapping[str, Any], item: Mapping[str, Any]) -> str:
    """Upsert the collection, then the item; what happened to the item ('created'/'updated')."""
    client = StacApiClient(api_url)
    client.upsert_collection(api_view(collection))
    return client.upsert_item(api_view(item))
