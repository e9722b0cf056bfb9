"""Collections, one per calibration kind, whose extents and summaries grow with their items.

A collection is updated by merging one item into it (`merge_item`), a pure and idempotent
function of the JSON documents: the static catalog applies it inside a transaction, possibly
several times when publishers race (see `documents.py`), and merging an item already merged
changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pystac

from .item import CALIBRATION_KINDS

__all__ = ["SUMMARISED", "merge_item", "new_collection"]

#: Item properties whose values a collection summarises (list-valued ones by element).
SUMMARISED = ("platform", "constellation", "instruments", "gsd", "sar:instrument_mode",
              "sar:frequency_band", "sar:center_frequency", "sar:product_type",
              "sar:polarizations", "sar:observation_direction", "sat:orbit_state",
              "sat:relative_orbit", "mgrs:utm_zone", "mgrs:latitude_band", "mgrs:grid_square",
              "proj:code", "s1tiling:calibration")
_LICENSE = "https://sentinel.esa.int/documents/247904/690755/Sentinel_Data_Legal_Notice"


def new_collection(collection_id: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """An empty collection for `collection_id`, its extent that of its first item."""
    kind = next((title for key, (name, title) in CALIBRATION_KINDS.items()
                 if collection_id.removeprefix("s1tiling-").removesuffix("-filtered") == name),
                "backscatter")
    filtered = collection_id.endswith("-filtered")
    start, end = _interval(item)
    collection = pystac.Collection(
        id=collection_id,
        title=f"Sentinel-1 {kind} on Sentinel-2 tiles" + (", despeckled" if filtered else ""),
        description=(f"Sentinel-1 IW GRD {kind}, calibrated, orthorectified and concatenated "
                     f"onto Sentinel-2 MGRS tiles by S1Tiling's chain (s1tiling-cloud)"
                     + ("; speckle filtered" if filtered else "") + ". One item per tile, "
                     "relative orbit and acquisition day; one asset per polarisation."),
        extent=pystac.Extent(pystac.SpatialExtent([item.get("bbox") or [-180.0, -90.0, 180.0, 90.0]]),
                             pystac.TemporalExtent([[start, end]])),
        license="other",
        keywords=["sentinel-1", "sar", "backscatter", "s1tiling", "analysis-ready"],
        providers=[pystac.Provider("s1tiling-cloud", roles=[pystac.ProviderRole.PROCESSOR]),
                   pystac.Provider("ESA", roles=[pystac.ProviderRole.PRODUCER,
                                                 pystac.ProviderRole.LICENSOR],
                                   url="https://sentinel.esa.int")],
    )
    collection.add_link(pystac.Link("license", _LICENSE, media_type="application/pdf",
                                    title="Legal notice on the use of Copernicus Sentinel data"))
    document = collection.to_dict(include_self_link=False, transform_hrefs=False)
    document["summaries"] = {}
    return document


def merge_item(collection: Mapping[str, Any], item: Mapping[str, Any], item_href: str,
               extra_links: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The collection with `item` linked (at `item_href`), its extent and summaries widened."""
    out = copy.deepcopy(dict(collection))
    links = out.setdefault("links", [])
    for link in extra_links:
        if not any(existing.get("rel") == link["rel"] for existing in links):
            links.append(dict(link))
    if not any(link.get("rel") == "item" and link.get("href") == item_href for link in links):
        links.append({"rel": "item", "href": item_href, "type": pystac.MediaType.GEOJSON,
                      "title": item["id"]})
    extent = out["extent"]
    if item.get("bbox"):
        box = extent["spatial"]["bbox"][0]
        merged = [min(box[0], item["bbox"][0]), min(box[1], item["bbox"][1]),
                  max(box[2], item["bbox"][2]), max(box[3], item["bbox"][3])]
        extent["spatial"]["bbox"][0] = merged
    start, end = _interval(item)
    old_start, old_end = extent["temporal"]["interval"][0]
    extent["temporal"]["interval"][0] = [_iso(min(_parse(old_start), start)),
                                         _iso(max(_parse(old_end), end))]
    summaries = out.setdefault("summaries", {})
    for key in SUMMARISED:
        value = item["properties"].get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        summaries[key] = sorted(set(summaries.get(key, [])) | set(values))
    return out


def _interval(item: Mapping[str, Any]) -> tuple[datetime, datetime]:
    props = item["properties"]
    start = props.get("start_datetime") or props["datetime"]
    end = props.get("end_datetime") or props["datetime"]
    return _parse(start), _parse(end)


def _parse(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(value: datetime) -> str:
    return pystac.utils.datetime_to_str(value)
