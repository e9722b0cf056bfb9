"""The measurement as xarray's lazy array: `MeasurementArray` reads windows as
`measurement_file.MeasurementFile` does, for xarray's indexers, with xarray's file cache (the
dataset is closed and reopened as the cache decides, and after pickling: dask, process pools).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.backends.file_manager import CachingFileManager
from xarray.core import indexing

from .measurement_file import MeasurementFile, open_tiff


class MeasurementArray(MeasurementFile, BackendArray):
    """A (line, pixel) view of band 1 of a measurement TIFF, read window by window."""

    def __init__(self, path: str, opener: Any = None, product: str = "") -> None:
        kwargs = {"opener": opener} if opener is not None else {}
        # An explicit mode: without one, xarray compares its "no mode" sentinel by identity,
        # which fails after unpickling, and a worker process would call
        # open_tiff(mode=<omitted>).
        self._manager = CachingFileManager(open_tiff, path, mode="r", kwargs=kwargs)
        super().__init__(path, opener, product)

    def _dataset(self):
        return self._manager.acquire()

    def close(self) -> None:
        """Close the file cache's dataset, if open (a later read opens it again)."""
        self._manager.close()

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._read
        )


def measurement_variable(array: MeasurementArray, name: str, attrs: dict) -> xr.Variable:
    """The lazy xarray variable of a measurement, with GDAL's preferred chunking as encoding."""
    data = indexing.LazilyIndexedArray(array)
    variable = xr.Variable(("line", "pixel"), data, attrs)
    variable.encoding["preferred_chunks"] = preferred_chunks(array.shape, array.block_shape,
                                                             array.dtype.itemsize)
    return variable


def preferred_chunks(shape: tuple[int, int], block: tuple[int, int], itemsize: int,
                     target_bytes: int = 64 * 2**20) -> dict[str, int]:
    """Dask chunks of whole TIFF blocks, about `target_bytes` each: ESA's TIFFs are stripped
    one line per block, and one chunk per line would make 16,700 chunks of a GRD."""
    rows, cols = block
    if cols < shape[1]:  # tiled: square groups of tiles
        side = max(1, int((target_bytes / (rows * cols * itemsize)) ** 0.5))
        return {"line": min(shape[0], rows * side), "pixel": min(shape[1], cols * side)}
    lines = max(1, target_bytes // (shape[1] * itemsize * rows)) * rows
    return {"line": min(shape[0], lines), "pixel": shape[1]}
