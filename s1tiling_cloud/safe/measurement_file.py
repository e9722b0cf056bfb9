"""Window reads of a measurement TIFF: only the window an index asks for is read (numpy and
rasterio only: `measurement.MeasurementArray` is the same reader as xarray's lazy array).

rasterio opens the TIFF through GDAL — directly on disk, by `/vsizip/` inside a local zip, or
through an fsspec file (S3, zip inside S3) — and reads a window per indexing request. The
dataset stays open until `close` (a later read opens it again) and is reopened after pickling.

ESA's GRD TIFFs on a local disk are uncompressed, one line per strip: such a file is read
directly instead, a window's line at a time from the strips' offsets, straight into the
window's array (GDAL reads every strip whole through its block cache: 2.3 s for a 12900 ×
13000 window; a memory map of the file costs a page fault every few pages, twice the system
time of `pread`).
"""

from __future__ import annotations

import contextvars
import os
import threading
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
import rasterio.windows

from ..exceptions import CorruptedDataSAFEError
from ..georeferencing import not_georeferenced_ok

_DTYPES = {"complex_int16": np.dtype(np.complex64)}


def open_tiff(path: str, mode: str = "r", opener: Any = None):
    """rasterio's dataset of a measurement TIFF (`opener`: rasterio's, for fsspec files), quiet
    about the missing georeferencing of ESA's TIFFs."""
    with not_georeferenced_ok():
        if opener is None:
            return rasterio.open(path, mode)
        return _ClosedWhereOpened(rasterio.open(path, mode, opener=opener))


class _ClosedWhereOpened:
    """A dataset opened through a Python `opener`, closed in the context that opened it.

    rasterio registers an opener in a context variable of the opening thread, and its
    `close()` looks the registration up again. The file cache closes a dataset whenever its
    last user goes away, often in another thread (a dask worker, the garbage collector): the
    lookup then fails, the file is never closed and GDAL prints "ERROR 3: ….tiff: I/O error".
    The copy of the opening context kept here holds the registration for `close()`.
    """

    def __init__(self, dataset) -> None:
        self._dataset = dataset
        self._context = contextvars.copy_context()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dataset, name)

    def close(self) -> None:
        self._context.run(self._dataset.close)


class MeasurementFile:
    """A (line, pixel) view of band 1 of a measurement TIFF: ``file[rows, columns]`` reads that
    window (each index an int, a slice or an integer array) as a numpy array.

    Parameters
    ----------
    path : str
        The TIFF's path, or its name for `opener`.
    opener : callable, optional
        rasterio's file opener for a file that GDAL cannot reach by path (fsspec).
    product : str, optional
        The product's location, for error messages.
    """

    def __init__(self, path: str, opener: Any = None, product: str = "") -> None:
        self.path = path
        self.product = product
        self._opener = opener
        self._opened = None
        self._lock = threading.Lock()
        try:
            dataset = self._dataset()
        except rasterio.errors.RasterioIOError as error:
            raise CorruptedDataSAFEError(product or path, f"unreadable measurement {path}: "
                                         f"{error}") from error
        self.shape = (dataset.height, dataset.width)
        name = dataset.dtypes[0]
        self.dtype = _DTYPES[name] if name in _DTYPES else np.dtype(name)
        self.tags = dataset.tags()
        self.block_shape = dataset.block_shapes[0]
        self.line_offsets = _strip_offsets(dataset, path) if opener is None else None
        if self.line_offsets is not None:
            self.close()  # its lines are read with `pread`: GDAL's handle is not needed

    def _dataset(self):
        """The open rasterio dataset (opened on first use, kept until `close`)."""
        if self._opened is None:
            self._opened = open_tiff(self.path, "r", self._opener)
        return self._opened

    def close(self) -> None:
        """Close the dataset, if open (a later read opens it again)."""
        opened, self._opened = getattr(self, "_opened", None), None
        if opened is not None:
            opened.close()

    def __del__(self) -> None:
        self.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        state["_opened"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __getitem__(self, key) -> np.ndarray:
        return self._read(key if isinstance(key, tuple) else (key, slice(None)))

    def _read(self, key: tuple) -> np.ndarray:
        """Read the bounding window of an outer index, then pick the asked rows and columns."""
        windows, picks, squeeze = [], [], []
        for axis, k in enumerate(key):
            size = self.shape[axis]
            if isinstance(k, slice):
                start, stop, step = k.indices(size)
                count = len(range(start, stop, step))
                if count == 0:
                    return np.empty(self._result_shape(key), dtype=self.dtype)
                windows.append((start, start + (count - 1) * step + 1))
                picks.append(slice(None, None, step))
                squeeze.append(False)
            elif isinstance(k, (int, np.integer)):
                k = int(_in_range(np.asarray(k), size, axis))
                windows.append((k, k + 1))
                picks.append(slice(None))
                squeeze.append(True)
            else:
                k = np.asarray(k, dtype=np.int64)
                if k.size == 0:
                    return np.empty(self._result_shape(key), dtype=self.dtype)
                k = _in_range(k, size, axis)
                low, high = int(k.min()), int(k.max()) + 1
                windows.append((low, high))
                picks.append(k - low)
                squeeze.append(False)
        try:
            if self.line_offsets is not None:
                data = self._read_lines(*windows)
            else:
                window = rasterio.windows.Window.from_slices(*windows)
                with self._lock:
                    data = self._dataset().read(1, window=window, out_dtype=self.dtype)
        except (rasterio.errors.RasterioError, ValueError, OSError) as error:
            # a truncated or damaged file: the product is corrupted, and this file says where
            raise CorruptedDataSAFEError(self.product or self.path, f"cannot read measurement "
                                         f"{self.path} (truncated or damaged): {error}") from error
        if any(not (isinstance(p, slice) and p.step in (None, 1)) for p in picks):
            data = data[np.ix_(*[_as_index(p, n) for p, n in zip(picks, data.shape, strict=True)])]
        return data.squeeze(axis=tuple(i for i, s in enumerate(squeeze) if s))

    def _read_lines(self, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
        """A window read line by line (one `pread` each) from the lines' offsets in the file."""
        little = self.dtype.newbyteorder("<")
        out = np.empty((rows[1] - rows[0], cols[1] - cols[0]), little)
        start = cols[0] * little.itemsize
        size = out.shape[1] * little.itemsize
        with open(self.path, "rb", buffering=0) as file:
            fd = file.fileno()
            for i, offset in enumerate(self.line_offsets[rows[0]:rows[1]]):
                if os.preadv(fd, [out[i]], int(offset) + start) != size:
                    raise OSError(f"line {rows[0] + i} is cut short: the file is truncated")
        return out.astype(self.dtype, copy=False)

    def _result_shape(self, key: tuple) -> tuple:
        shape = []
        for axis, k in enumerate(key):
            if isinstance(k, slice):
                shape.append(len(range(*k.indices(self.shape[axis]))))
            elif not isinstance(k, (int, np.integer)):
                shape.append(len(k))
        return tuple(shape)



def _strip_offsets(dataset, path: str) -> np.ndarray | None:
    """The file offset of each line when `path` is a local, little-endian, uncompressed,
    single-band, stripped TIFF of real (not complex) samples; else None."""
    if (not os.path.isfile(path) or dataset.count != 1 or dataset.compression is not None
            or dataset.is_tiled or np.dtype(dataset.dtypes[0]).kind not in "uif"):
        return None
    with open(path, "rb") as f:
        if f.read(2) != b"II":
            return None
    rows = dataset.block_shapes[0][0]
    row_bytes = dataset.width * np.dtype(dataset.dtypes[0]).itemsize
    strips = []
    for strip in range(-(-dataset.height // rows)):
        value = dataset.get_tag_item(f"BLOCK_OFFSET_0_{strip}", "TIFF", bidx=1)
        if not value:
            return None
        strips.append(int(value))
    line = np.arange(dataset.height)
    offsets = np.asarray(strips, np.int64)[line // rows] + (line % rows) * row_bytes
    if offsets.max() + row_bytes > os.path.getsize(path):
        return None
    return offsets


def _as_index(pick, length: int) -> np.ndarray:
    return np.arange(length)[pick] if isinstance(pick, slice) else pick


def _in_range(index: np.ndarray, size: int, axis: int) -> np.ndarray:
    """`index` with negative positions counted from the end (numpy's rule); `IndexError` for a
    position outside the axis (a read there would return memory never written)."""
    index = np.where(index < 0, index + size, index)
    if index.size and (index.min() < 0 or index.max() >= size):
        raise IndexError(f"index out of range for axis {axis} of size {size}")
    return index
