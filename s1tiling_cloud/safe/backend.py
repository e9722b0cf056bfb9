"""The `s1safe` xarray backend: `xr.open_dataset(product, group=...)` and `xr.open_datatree`."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from typing import Any

import xarray as xr
from xarray.backends import BackendEntrypoint

from .product import Sentinel1Product


def _looks_like_safe(text: str) -> bool:
    base = posixpath.basename(text.rstrip("/"))
    if base == "manifest.safe":
        base = posixpath.basename(posixpath.dirname(text.rstrip("/")))
    return base.upper().startswith("S1") and (
        base.upper().endswith(".SAFE") or base.lower().endswith(".zip")
    )


class S1SafeBackendEntrypoint(BackendEntrypoint):
    """Opens Sentinel-1 SAFE products (folder, manifest.safe, .zip, fsspec URLs)."""

    description = "Sentinel-1 SAFE products (all modes, SLC and GRD) as groups of datasets"
    url = "https://github.com/s1tiling-cloud/s1tiling-cloud"
    open_dataset_parameters = ("filename_or_obj", "group", "storage_options", "drop_variables")

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        try:
            return _looks_like_safe(os.fspath(filename_or_obj))
        except TypeError:
            return False

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: str | os.PathLike,
        *,
        group: str | None = None,
        storage_options: dict | None = None,
        drop_variables: str | Iterable[str] | None = None,
    ) -> xr.Dataset:
        product = Sentinel1Product(filename_or_obj, storage_options)
        ds = product.open_group(group)
        if drop_variables:
            ds = ds.drop_vars(drop_variables, errors="ignore")
        ds.set_close(None)
        return ds

    def open_groups_as_dict(
        self,
        filename_or_obj: str | os.PathLike,
        *,
        storage_options: dict | None = None,
        drop_variables: str | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, xr.Dataset]:
        product = Sentinel1Product(filename_or_obj, storage_options)
        out = {"/": product.open_group("")}
        for group in product.groups:
            ds = product.open_group(group)
            if drop_variables:
                ds = ds.drop_vars(drop_variables, errors="ignore")
            out["/" + group] = ds
        return out

    def open_datatree(self, filename_or_obj, **kwargs) -> xr.DataTree:
        return xr.DataTree.from_dict(self.open_groups_as_dict(filename_or_obj, **kwargs))
