"""The static catalog next to the data: root catalog → one collection per kind → items.

Layout (relative links, no self links: the catalog can be copied or served from anywhere)::

    catalog.json
    s1tiling-sigma0/collection.json
    s1tiling-sigma0/s1a_31TCJ_DES_007_20200108t044150/s1a_31TCJ_DES_007_20200108t044150.json

Publishing an item writes its own document (whole, atomically), then merges it into its
collection and links the collection from the root, each in a transaction (`documents.py`), in
that order: a link never points at a document not yet written, and racing publishers lose no
item.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pystac

from .collection import merge_item, new_collection
from .documents import JsonDocuments
from .hrefs import relative_href, resolve_href, sibling

__all__ = ["StaticCatalog", "api_view", "collection_uri", "item_uri"]

_JSON = pystac.MediaType.JSON
#: Link relations that only make sense inside the static catalog's tree.
_TREE_RELS = {"root", "parent", "self", "child", "item", "collection"}


def collection_uri(catalog_uri: str, collection_id: str) -> str:
    return sibling(catalog_uri, collection_id, "collection.json")


def item_uri(catalog_uri: str, collection_id: str, item_id: str) -> str:
    return sibling(catalog_uri, collection_id, item_id, f"{item_id}.json")


class StaticCatalog:
    """A static STAC catalog rooted at `catalog_uri` (`…/catalog.json`, local or s3://)."""

    def __init__(self, catalog_uri: str, storage_options: Mapping[str, Any] | None = None, *,
                 catalog_id: str = "s1tiling-cloud",
                 description: str = "Sentinel-1 backscatter on Sentinel-2 tiles (S1Tiling chain)",
                 documents: JsonDocuments | None = None) -> None:
        self.uri = catalog_uri
        self.catalog_id = catalog_id
        self.description = description
        self.documents = documents or JsonDocuments(storage_options)

    def collection_uri(self, collection_id: str) -> str:
        return collection_uri(self.uri, collection_id)

    def item_uri(self, collection_id: str, item_id: str) -> str:
        return item_uri(self.uri, collection_id, item_id)

    # ----------------------------------------------------------- publishing

    def add_item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Publish an item (a dict with its `collection`); returns its collection after it."""
        collection_id = item["collection"]
        item_uri = self.item_uri(collection_id, item["id"])
        collection_uri = self.collection_uri(collection_id)
        self.documents.write(item_uri, self._item_document(item, item_uri, collection_uri))
        href = relative_href(collection_uri, item_uri)

        def add_to_collection(current: dict[str, Any] | None) -> dict[str, Any]:
            base = current if current is not None else new_collection(collection_id, item)
            return merge_item(base, item, href, self._tree_links(collection_uri))

        collection = self.documents.update(collection_uri, add_to_collection)
        self.documents.update(self.uri, lambda current: self._with_child(
            current, relative_href(self.uri, collection_uri), collection["title"]))
        return collection

    def replace_all(self, items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """Write the catalog anew from `items` (rebuild): collections hold exactly these items.

        Not meant to run while publishers add items: it overwrites the shared documents.
        """
        collections: dict[str, dict[str, Any]] = {}
        for item in items:
            collection_id = item["collection"]
            item_uri = self.item_uri(collection_id, item["id"])
            collection_uri = self.collection_uri(collection_id)
            self.documents.write(item_uri, self._item_document(item, item_uri, collection_uri))
            base = collections.get(collection_id) or new_collection(collection_id, item)
            collections[collection_id] = merge_item(base, item, relative_href(collection_uri, item_uri),
                                                    self._tree_links(collection_uri))
        root = self._with_child(None, None, None)
        for collection_id, collection in sorted(collections.items()):
            collection_uri = self.collection_uri(collection_id)
            self.documents.write(collection_uri, collection)
            root = self._with_child(root, relative_href(self.uri, collection_uri), collection["title"])
        self.documents.write(self.uri, root)
        return collections

    # ----------------------------------------------------------- reading

    def read(self) -> dict[str, Any] | None:
        return self.documents.read(self.uri)

    def collections(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(URI, document) of each collection the root links to."""
        root = self.read() or {"links": []}
        for link in root["links"]:
            if link.get("rel") == "child":
                uri = resolve_href(self.uri, link["href"])
                document = self.documents.read(uri)
                if document is not None:
                    yield uri, document

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(URI, document) of every item the collections link to."""
        for collection_uri, collection in self.collections():
            for link in collection["links"]:
                if link.get("rel") == "item":
                    uri = resolve_href(collection_uri, link["href"])
                    document = self.documents.read(uri)
                    if document is not None:
                        yield uri, document

    # ----------------------------------------------------------- documents

    def _tree_links(self, document_uri: str) -> list[dict[str, Any]]:
        root = relative_href(document_uri, self.uri)
        return [{"rel": "root", "href": root, "type": _JSON},
                {"rel": "parent", "href": root, "type": _JSON}]

    def _item_document(self, item: Mapping[str, Any], item_uri: str,
                       collection_uri: str) -> dict[str, Any]:
        document = dict(item)
        to_collection = relative_href(item_uri, collection_uri)
        document["links"] = [
            {"rel": "root", "href": relative_href(item_uri, self.uri), "type": _JSON},
            {"rel": "parent", "href": to_collection, "type": _JSON},
            {"rel": "collection", "href": to_collection, "type": _JSON},
            *[link for link in item.get("links", []) if link.get("rel") not in _TREE_RELS],
        ]
        return document

    def _with_child(self, current: dict[str, Any] | None, href: str | None,
                    title: str | None) -> dict[str, Any]:
        root = current if current is not None else pystac.Catalog(
            id=self.catalog_id, description=self.description,
            title="s1tiling-cloud products").to_dict(include_self_link=False, transform_hrefs=False)
        links = root.setdefault("links", [])
        if not any(link.get("rel") == "root" for link in links):
            links.insert(0, {"rel": "root", "href": "./" + self.uri.rstrip("/").rsplit("/", 1)[-1],
                             "type": _JSON})
        if href and not any(link.get("rel") == "child" and link.get("href") == href
                            for link in links):
            links.append({"rel": "child", "href": href, "type": _JSON, "title": title})
        return root


def api_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """A document for a STAC API: the static tree's links dropped (the API makes its own)."""
    out = dict(document)
    out["links"] = [link for link in document.get("links", []) if link.get("rel") not in _TREE_RELS]
    return out
