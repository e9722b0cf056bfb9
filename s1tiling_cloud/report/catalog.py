"""What the report shows of each product, read from the static STAC catalog (local or s3://).

The catalog is the one record that both runners leave (the local runner next to the outputs,
an Argo campaign in its bucket), so the page is rebuilt from it alone: catalog → collections →
items, each item's tile grid (`proj:*`), footprint, polarisations, orbit and assets. Quicklooks
are read and kept as bytes, to be inlined: the page opens with no network.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ConfigurationError
from ..stac.documents import JsonDocuments
from ..stac.hrefs import resolve_href
from ..store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asset:
    key: str
    title: str
    href: str  # absolute URI
    size: int | None
    roles: tuple[str, ...]


@dataclass
class Product:
    """One STAC item: a tile × orbit × acquisition product."""

    id: str
    href: str  # the item document's URI
    collection: str
    tile: str
    datetime: str
    platform: str
    relative_orbit: int | None
    orbit_state: str
    polarisations: list[str]
    epsg: int | None
    bbox: list[float] | None  # proj:bbox (tile grid, map coordinates)
    footprint: list[list[float]]  # exterior ring of the valid data (lon, lat)
    valid_fraction: float | None
    assets: list[Asset] = field(default_factory=list)
    quicklooks: dict[str, bytes] = field(default_factory=dict)  # polarisation → JPEG


def read_catalog(catalog_uri: str, storage_options: dict[str, Any] | None = None
                 ) -> tuple[dict[str, Any], list[Product]]:
    """(the root catalog, its products sorted by tile, date, orbit) from `catalog_uri`."""
    documents = JsonDocuments(storage_options)
    store = Store(storage_options)
    root = documents.read(catalog_uri)
    if root is None:
        raise ConfigurationError(f"no STAC catalog at {catalog_uri}")
    products = [_product(item, uri, store) for uri, item in _items(documents, catalog_uri, root)]
    products.sort(key=lambda p: (p.tile, p.datetime, p.relative_orbit or 0, p.id))
    return root, products


def _items(documents: JsonDocuments, uri: str, document: dict[str, Any], depth: int = 0
           ) -> Iterator[tuple[str, dict[str, Any]]]:
    if depth > 4:
        return
    for link in document.get("links", []):
        href = resolve_href(uri, link["href"])
        if link.get("rel") == "item":
            item = documents.read(href)
            if item is None:
                log.warning("the item %s listed in %s is missing", href, uri)
                continue
            yield href, item
        elif link.get("rel") == "child":
            child = documents.read(href)
            if child is not None:
                yield from _items(documents, href, child, depth + 1)


def _product(item: dict[str, Any], uri: str, store: Store) -> Product:
    props = item.get("properties", {})
    tile = f"{props.get('mgrs:utm_zone', '')}{props.get('mgrs:latitude_band', '')}" \
           f"{props.get('mgrs:grid_square', '')}"
    code = str(props.get("proj:code") or "")
    geometry = item.get("geometry") or {}
    ring = _exterior(geometry)
    product = Product(
        id=item["id"], href=uri, collection=item.get("collection", ""), tile=tile,
        datetime=props.get("datetime") or props.get("start_datetime") or "",
        platform=props.get("platform", ""), relative_orbit=props.get("sat:relative_orbit"),
        orbit_state=props.get("sat:orbit_state", ""),
        polarisations=list(props.get("sar:polarizations", [])),
        epsg=int(code.split(":")[1]) if code.upper().startswith("EPSG:") else None,
        bbox=props.get("proj:bbox"), footprint=ring,
        valid_fraction=props.get("s1tiling:valid_fraction"))
    for key, asset in item.get("assets", {}).items():
        href = resolve_href(uri, asset["href"])
        product.assets.append(Asset(key, asset.get("title", key), href, asset.get("file:size"),
                                    tuple(asset.get("roles", []))))
        if key.startswith("quicklook_"):
            try:
                product.quicklooks[key.split("_", 1)[1].upper()] = store.read_bytes(href)
            except (FileNotFoundError, OSError) as error:
                log.warning("quicklook %s unreadable: %s", href, error)
    return product


def _exterior(geometry: dict[str, Any]) -> list[list[float]]:
    """The exterior ring of a Polygon, or of a MultiPolygon's largest part."""
    coords = geometry.get("coordinates") or []
    if geometry.get("type") == "Polygon" and coords:
        return coords[0]
    if geometry.get("type") == "MultiPolygon" and coords:
        return max((polygon[0] for polygon in coords), key=len)
    return []
