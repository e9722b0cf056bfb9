"""STAC publication: items with SAR metadata, collections, a static catalog, a STAC API push."""

from .api_client import StacApiClient
from .item import ProductFiles, build_item, collection_id, item_dict, item_id
from .publication import Published, publish_product
from .rebuild import rebuild_catalog
from .static_catalog import StaticCatalog
from .validate import offline_validator, problems, validate_catalog

__all__ = ["ProductFiles", "Published", "StacApiClient", "StaticCatalog", "build_item",
           "collection_id", "item_dict", "item_id", "offline_validator", "problems",
           "publish_product", "rebuild_catalog", "validate_catalog"]
