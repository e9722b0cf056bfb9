"""Rebuild the static catalog from the outputs alone (`s1tiling-cloud catalog rebuild`).

The outputs carry what an item needs (tags, grid, pixels), so a catalog lost, damaged or made
before publication existed can be made again. Final products are the GeoTIFFs with
`IMAGE_TYPE=BACKSCATTERING` under the output folder; their border masks, quicklooks and the
maps their tags name (`LIA_FILE`, `GAMMA_AREA_FILE`) are found by S1Tiling's naming rules. The
S1 inputs' hrefs are not in the outputs: the `derived_from` links of an item already in the
catalog are kept.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import rasterio.errors

from ..outputs.names import mask_name
from ..store import Store
from .hrefs import sibling
from .item import ProductFiles, build_item, collection_id, item_dict, item_id
from .publication import push_to_api
from .static_catalog import StaticCatalog

__all__ = ["RebuildReport", "product_files", "rebuild_catalog"]

log = logging.getLogger(__name__)
_CORRECTION_SUFFIX = re.compile(r"_(?:NormLim|GammaNaughtRTC|[A-Za-z]+_filtered|filtered|[a-z]+)$")


@dataclass
class RebuildReport:
    catalog: str
    items: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def rebuild_catalog(out_dir: str, catalog_uri: str | None = None, *,
                    storage_options: Mapping[str, Any] | None = None,
                    public_url: str | None = None, api_url: str | None = None,
                    processing: Mapping[str, Any] | None = None) -> RebuildReport:
    """Write `catalog_uri` (default `out_dir/catalog.json`) anew from the products in `out_dir`."""
    catalog_uri = catalog_uri or sibling(out_dir.rstrip("/") + "/catalog.json", "catalog.json")
    store = Store(storage_options)
    catalog = StaticCatalog(catalog_uri, storage_options)
    report = RebuildReport(catalog_uri)
    items = []
    for files in product_files(out_dir, store, report):
        try:
            tags = store.read_tags(next(iter(files.products.values())))
            key = (collection_id(tags), item_id(next(iter(files.products.values()))))
            old = catalog.documents.read(catalog.item_uri(*key)) or {}
            inputs = [{"id": link.get("title", ""), "href": link["href"],
                       "provider": link.get("s1tiling:provider")}
                      for link in old.get("links", []) if link.get("rel") == "derived_from"]
            files = ProductFiles(files.products, files.masks, files.quicklooks, files.maps, inputs)
            items.append(item_dict(build_item(files, store, public_url=public_url,
                                              processing=processing)))
        except (rasterio.errors.RasterioError, KeyError, ValueError) as error:
            report.skipped.append(f"{sorted(files.products.values())}: {error}")
    collections = catalog.replace_all(items)
    report.items = [item["id"] for item in items]
    report.collections = sorted(collections)
    if api_url:
        for item in items:
            push_to_api(api_url, collections[item["collection"]], item)
    return report


def product_files(out_dir: str, store: Store, report: RebuildReport | None = None
                  ) -> Iterator[ProductFiles]:
    """The final products under `out_dir`, grouped by item, with their masks, quicklooks, maps."""
    files = [entry.uri for entry in store.list(out_dir, recursive=True)]
    by_name = {uri.rsplit("/", 1)[-1]: uri for uri in files}
    groups: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for uri in files:
        name = uri.rsplit("/", 1)[-1]
        if not name.endswith(".tif") or name.endswith("_BorderMask.tif"):
            continue
        try:
            tags = store.read_tags(uri)
        except rasterio.errors.RasterioError as error:
            if report is not None:
                report.skipped.append(f"{uri}: {error}")
            continue
        if tags.get("IMAGE_TYPE") != "BACKSCATTERING" or "POLARIZATION" not in tags:
            continue
        groups[(uri.rsplit("/", 1)[0], item_id(uri))][tags["POLARIZATION"].lower()] = uri
    for (_, _), products in sorted(groups.items()):
        masks, quicklooks, maps = {}, {}, {}
        for pol, uri in products.items():
            name = uri.rsplit("/", 1)[-1]
            if mask_name(name) in by_name:
                masks[pol] = by_name[mask_name(name)]
            stem = name.rsplit(".", 1)[0]
            for candidate in (stem, _CORRECTION_SUFFIX.sub("", stem)):
                if f"{candidate}_quicklook.jpg" in by_name:
                    quicklooks[pol] = by_name[f"{candidate}_quicklook.jpg"]
                    break
            tags = store.read_tags(uri)
            for key, kind in (("LIA_FILE", None), ("GAMMA_AREA_FILE", "gamma_area")):
                if tags.get(key) in by_name:
                    maps[kind or _map_kind(tags[key])] = by_name[tags[key]]
        yield ProductFiles(products, masks, quicklooks, maps)


def _map_kind(name: str) -> str:
    """`sin_LIA_31TCJ_007.tif` → `sin_LIA`; `LIA_31TCJ_007.tif` → `LIA`."""
    return "sin_LIA" if name.startswith("sin_LIA") else "LIA"
