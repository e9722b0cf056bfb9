"""The Sentinel-1 SAFE reader: an xarray backend (`engine="s1safe"`) and its helpers."""

from .calibration import calibrate, calibration_lut
from .noise import noise_lut
from .product import Sentinel1Product


def open_dataset(product, group: str | None = None, storage_options: dict | None = None):
    """`xr.open_dataset(product, engine="s1safe", group=group)` without going through xarray."""
    return Sentinel1Product(product, storage_options).open_group(group)


__all__ = ["Sentinel1Product", "calibrate", "calibration_lut", "noise_lut", "open_dataset"]
