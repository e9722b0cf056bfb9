"""The Sentinel-1 SAFE reader: an xarray backend (`engine="s1safe"`) and its helpers.

The names below load on first use (`lazy.lazy_exports`): the product's groups are xarray
Datasets, and xarray (with pandas) is a large import that a reader of the manifest alone (the
search's scan of the product cache, a stage pod that needs no SAFE) does not pay for.
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
