"""Measurement windows: the memory-mapped path (local, uncompressed, stripped TIFFs, as ESA
writes them) gives exactly what GDAL reads, whatever the order of the strips in the file, and
the other files (compressed, tiled) keep GDAL's path."""

from __future__ import annotations

import gc
import threading
import warnings

import fsspec
import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window
from xarray.core import indexing

from s1tiling_cloud.safe.location import FsspecOpener
from s1tiling_cloud.safe.measurement import MeasurementArray

SHAPE = (300, 257)


def write(path, values: np.ndarray, *, bottom_up: bool = False, **profile) -> str:
    """A TIFF of `values`; `bottom_up` writes its strips last line first, so that the strips
    lie in the file in reverse order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver="GTiff", height=SHAPE[0], width=SHAPE[1], count=1,
                           dtype=values.dtype, **profile) as dataset:
            rows = range(SHAPE[0] - 1, -1, -1) if bottom_up else range(SHAPE[0])
            for row in rows:
                dataset.write(values[row:row + 1], 1, window=Window(0, row, SHAPE[1], 1))
    return str(path)


@pytest.fixture
def values() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 65535, SHAPE, dtype=np.uint16)


@pytest.mark.parametrize("bottom_up", [False, True])
def test_stripped_tiffs_are_mapped_and_read_exactly(tmp_path, values, bottom_up):
    path = write(tmp_path / "m.tiff", values, bottom_up=bottom_up, blockysize=1)
    array = MeasurementArray(path)
    assert array.line_offsets is not None  # the mapped path
    assert np.array_equal(array._read((slice(17, 290), slice(5, 250))), values[17:290, 5:250])
    assert np.array_equal(array._read((slice(0, 300, 7), slice(None))), values[::7])
    assert np.array_equal(array._read((np.array([3, 9, 4]), 8)), values[[3, 9, 4], 8])


@pytest.mark.parametrize("profile", [{"compress": "deflate", "blockysize": 1},
                                     {"tiled": True, "blockxsize": 64, "blockysize": 64}])
def test_compressed_or_tiled_tiffs_keep_gdal(tmp_path, values, profile):
    array = MeasurementArray(write(tmp_path / "m.tiff", values, **profile))
    assert array.line_offsets is None
    assert np.array_equal(array._read((slice(17, 290), slice(5, 250))), values[17:290, 5:250])


class _Recording(FsspecOpener):
    """The opener, keeping every file it opened."""

    def __init__(self, fs) -> None:
        super().__init__(fs)
        self.files: list = []

    def open(self, path: str, mode: str = "rb", **kwds):
        handle = super().open(path, mode, **kwds)
        self.files.append(handle._file)
        return handle


def test_an_opener_dataset_closed_in_another_thread_closes_its_file(tmp_path, values):
    """rasterio keeps an opener's registration in the opening thread's context: the file cache
    closing the dataset from another thread (dask, the garbage collector) used to fail there,
    leaving the file open and GDAL printing "ERROR 3: ….tiff: I/O error"."""
    opener = _Recording(fsspec.filesystem("file"))
    arrays = []
    opened = threading.Thread(target=lambda: arrays.append(
        MeasurementArray(write(tmp_path / "m.tiff", values), opener)))
    opened.start()
    opened.join()
    np.testing.assert_array_equal(arrays[0][indexing.BasicIndexer((slice(0, 5), slice(None)))],
                                  values[:5])
    assert opener.files and not all(f.closed for f in opener.files)
    arrays.clear()  # the last user goes: the file cache closes the dataset, in this thread
    gc.collect()
    assert all(f.closed for f in opener.files)
