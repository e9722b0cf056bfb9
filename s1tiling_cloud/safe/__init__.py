"""The Sentinel-1 SAFE reader: an xarray backend (`engine="s1safe"`) and its helpers.

The names below load on first use (`lazy.lazy_exports`). Only the groups' Datasets need xarray
(with pandas, a large import): a reader of the manifest alone (the search's scan of the product
cache) or of numpy groups and measurement windows (`Sentinel1Product.metadata`, `.measurement`:
the ortho stage's pod) does not pay for it.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "Sentinel1Product": ".product",
    "calibrate": ".calibration",
    "calibration_lut": ".calibration",
    "noise_lut": ".noise",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


def open_dataset(product, group: str | None = None, storage_options: dict | None = None):
    """`xr.open_dataset(product, engine="s1safe", group=group)` without going through xarray."""
    from .product import Sentinel1Product

    return Sentinel1Product(product, storage_options).open_group(group)


__all__ = ["Sentinel1Product", "calibrate", "calibration_lut", "noise_lut", "open_dataset"]
