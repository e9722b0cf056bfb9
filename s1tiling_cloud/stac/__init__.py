"""STAC publication: items with SAR metadata, collections, a static catalog, a STAC API push.

The names below load on first use (`lazy.lazy_exports`): the planner and the `publish` stage
need the items and the catalog, not the validator (pystac's validation, jsonschema) nor the
rebuild.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "ProductFiles": ".item",
    "Published": ".publication",
    "StacApiClient": ".api_client",
    "StaticCatalog": ".static_catalog",
    "build_item": ".item",
    "collection_id": ".item",
    "item_dict": ".item",
    "item_id": ".item",
    "offline_validator": ".validate",
    "problems": ".validate",
    "publish_product": ".publication",
    "rebuild_catalog": ".rebuild",
    "validate_catalog": ".validate",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
