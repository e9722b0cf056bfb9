"""A DEFLATE COG whose tiles are compressed here, in threads, and laid out as GDAL lays them.

Compressing is most of a product's write. GDAL writes a 10980² float32 σ° product with
overviews (DEFLATE level 1, libdeflate) in 7.2–8.2 CPU s, libdeflate's own share ~3.8 s at full
resolution and ~1.3 s for the overviews. ISA-L's level 1 compresses the same predicted bytes in
about a third of libdeflate's time, into files <1% larger (0.856 against 0.849 MB per 512² σ°
tile): the whole write takes 3.0 CPU s here. The pixels, the predictor's bytes, the tags and
the layout stay GDAL's; only the DEFLATE streams (and so the tiles' offsets) differ.

GDAL still writes everything but the tiles: the COG driver copies a dataset of the same shape,
tags and overviews whose bands have no source (all no-data) with `SPARSE_OK=TRUE`, so it writes
the header, its structural metadata and every IFD, and no tile (0.1 s). `write` sets, in place,
the offsets and sizes of the tiles compressed here where GDAL left zeros.

GDAL's COG layout (3.10, checked in tests/test_cog_tiles.py): the IFDs, full resolution first,
then each overview, largest first, with their values; then every IFD's tile offsets and sizes;
then the tiles, smallest overview first and the full resolution last, each level row-major,
each tile preceded by its size (uint32) and followed by its last 4 bytes again (the structural
metadata says so: `BLOCK_LEADER`, `BLOCK_TRAILER`). A partial tile is padded with zero bytes.
Predictor 3 writes each tile row's bytes most significant first, one plane per byte, then
differences the row's bytes; predictor 2 (bytes) differences the row.
"""

from __future__ import annotations

import math
import os
import struct
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from isal import isal_zlib

from .tiff_ifds import (
    TILE_BYTE_COUNTS,
    TILE_OFFSETS,
    Entry,
    Layout,
    NotATiff,
    integers,
    read_ifds,
    set_offsets,
)

__all__ = ["NotLaidOut", "encodable", "write"]

#: ISA-L's compression level used for GDAL's DEFLATE `LEVEL=1`, the only level encoded here.
_ISAL_LEVEL = 1
#: Tiles compressed ahead of the one being written, per thread: enough to keep the threads busy
#: while the writer waits on the oldest (each ~1 MB for a 512² float32 tile).
_AHEAD = 4
#: The creation options `Store.write_cog` sets for the encoding; any other asks GDAL for more.
_ENCODING_OPTIONS = frozenset({"COMPRESS", "BLOCKSIZE", "BIGTIFF", "NUM_THREADS", "PREDICTOR",
                               "LEVEL"})
#: TIFF tags `write` relies on: TileWidth, TileLength, Compression (8: DEFLATE), Predictor.
_TILE_WIDTH, _TILE_LENGTH, _COMPRESSION, _PREDICTOR = 322, 323, 259, 317
#: The structural metadata of a COG whose tiles are framed as `write` frames them.
_FRAMING = (b"BLOCK_LEADER=SIZE_AS_UINT4", b"BLOCK_TRAILER=LAST_4_BYTES_REPEATED")
#: Past this many bytes a classic (not Big) TIFF cannot point at a tile.
_CLASSIC_LIMIT = 2**32


class NotLaidOut(ValueError):
    """The COG driver's file is not the tile-less COG `write` fills (then GDAL writes it)."""


def encodable(dtype: np.dtype, bands: int, options: dict) -> bool:
    """Whether `write` writes a COG with these creation options (else GDAL does it all):
    one band, DEFLATE at level 1, predictor 1, 2 on bytes or 3 on floats, and no option
    beyond those `Store.write_cog` sets for the encoding."""
    if bands != 1 or any(str(key).upper() not in _ENCODING_OPTIONS for key in options):
        return False
    if str(options.get("COMPRESS", "")).upper() != "DEFLATE" or str(options.get("LEVEL")) != "1":
        return False
    dtype = np.dtype(dtype)
    if dtype.byteorder == ">" or (dtype.byteorder == "=" and sys.byteorder != "little"):
        return False  # the kernel reads little-endian pixels, as TIFF's "II" files hold them
    predictor = _predictor(options)
    return (predictor == 1 or (predictor == 2 and dtype.itemsize == 1)
            or (predictor == 3 and dtype.kind == "f"))


def _predictor(options: dict) -> int:
    return {"NO": 1, "1": 1, "STANDARD": 2, "2": 2, "FLOATING_POINT": 3, "3": 3}.get(
        str(options.get("PREDICTOR", "NO")).upper(), 0)


def write(path: str, stub: bytes, images: Sequence[np.ndarray], options: dict) -> None:
    """Write at `path` the COG whose IFDs GDAL wrote in `stub` (tile-less, `SPARSE_OK=TRUE`),
    with the tiles of `images` (the full resolution then each overview, (rows, cols) each)
    compressed here. `NotLaidOut` if `stub` is not such a file for these images, or if the
    tiles overflow a classic TIFF (the file at `path` is then incomplete: write it again)."""
    try:
        fmt, ifds, _, end = read_ifds(stub)
    except NotATiff as error:
        raise NotLaidOut(str(error)) from None
    blocksize = int(options.get("BLOCKSIZE", 512))
    grids = [(-(-image.shape[0] // blocksize), -(-image.shape[1] // blocksize))
             for image in images]
    _check(stub, ifds, fmt, end, grids, blocksize, _predictor(options))
    # The tiles in file order: smallest overview first, full resolution last, row-major.
    order = [(level, index) for level in reversed(range(len(images)))
             for index in range(grids[level][0] * grids[level][1])]
    offsets = [[0] * (rows * cols) for rows, cols in grids]
    counts = [[0] * (rows * cols) for rows, cols in grids]
    encoder = _Encoder(images, grids, blocksize, _predictor(options))
    position = end
    with open(path, "wb") as out:
        out.seek(end)
        for (level, index), tile in zip(order, encoder.tiles(order, _threads(options)),
                                        strict=True):
            size = len(tile)
            if not fmt.big and position + size + 8 > _CLASSIC_LIMIT:
                raise NotLaidOut("the tiles do not fit a classic TIFF")
            out.write(struct.pack(fmt.order + "I", size))
            out.write(tile)
            out.write(tile[-4:])
            offsets[level][index], counts[level][index] = position + 4, size
            position += size + 8
        out.seek(0)
        out.write(_header(stub, ifds, fmt, offsets, counts))


def _header(stub: bytes, ifds: list[list[Entry]], fmt: Layout, offsets: list[list[int]],
            counts: list[list[int]]) -> bytearray:
    """GDAL's header and IFDs with the tiles' offsets and sizes set where GDAL left zeros."""
    head = bytearray(stub)
    try:
        for entries, level_offsets, level_counts in zip(ifds, offsets, counts, strict=True):
            for entry in entries:
                if entry.tag == TILE_OFFSETS:
                    set_offsets(head, entry, level_offsets, fmt)
                elif entry.tag == TILE_BYTE_COUNTS:
                    set_offsets(head, entry, level_counts, fmt)
    except NotATiff as error:
        raise NotLaidOut(str(error)) from None
    return head


def _check(stub: bytes, ifds: list[list[Entry]], fmt: Layout, end: int,
           grids: list[tuple[int, int]], blocksize: int, predictor: int) -> None:
    """`NotLaidOut` unless `stub` is GDAL's tile-less COG of images tiled as `grids`."""
    if len(ifds) != len(grids):
        raise NotLaidOut(f"{len(ifds)} IFDs for {len(grids)} images")
    if len(stub) != end:
        raise NotLaidOut("the COG driver wrote tiles (or more than the IFDs)")
    if not all(framing in stub[:min(end, 1024)] for framing in _FRAMING):
        raise NotLaidOut("the COG driver frames its tiles otherwise")
    for entries, (rows, cols) in zip(ifds, grids, strict=True):
        tags = {e.tag: e for e in entries}
        if (TILE_OFFSETS not in tags or TILE_BYTE_COUNTS not in tags
                or tags[TILE_OFFSETS].count != rows * cols
                or _number(tags.get(_TILE_WIDTH), fmt) != blocksize
                or _number(tags.get(_TILE_LENGTH), fmt) != blocksize
                or _number(tags.get(_COMPRESSION), fmt) != 8
                or (_number(tags.get(_PREDICTOR), fmt) or 1) != predictor):
            raise NotLaidOut("an IFD is not tiled and encoded as the images")


def _number(entry: Entry | None, fmt: Layout) -> int | None:
    """The value of a one-number SHORT or LONG entry (None if absent or otherwise)."""
    if entry is None or entry.count != 1 or entry.type not in (3, 4):
        return None
    return integers(entry, fmt)[0]


def _threads(options: dict) -> int:
    """GDAL's `NUM_THREADS`: a number, or `ALL_CPUS` (those this process may use)."""
    value = str(options.get("NUM_THREADS", "ALL_CPUS")).upper()
    return int(value) if value.isdigit() and int(value) > 0 else _cpus()


def _cpus() -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup CPU quota (a pod's CPU
    limit, which the affinity does not show)."""
    cpus = len(os.sched_getaffinity(0))
    try:
        with open("/sys/fs/cgroup/cpu.max") as limits:
            quota, period = limits.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus


class _Encoder:
    """Each tile's predicted bytes compressed by ISA-L, in threads (both release the GIL)."""

    def __init__(self, images: Sequence[np.ndarray], grids: list[tuple[int, int]],
                 blocksize: int, predictor: int):
        # Each image as rows of bytes: the kernels work on bytes whatever the pixel type.
        self.rows = [np.ascontiguousarray(image).view(np.uint8) for image in images]
        self.item = images[0].dtype.itemsize
        self.grids = grids
        self.blocksize = blocksize
        self.predictor = predictor
        self.local = threading.local()

    def tiles(self, order: list[tuple[int, int]], threads: int) -> Iterator[bytes]:
        """The compressed tiles in `order`, at most `_AHEAD` per thread in flight."""
        with ThreadPoolExecutor(threads, thread_name_prefix="cog-tiles") as pool:
            pending: deque = deque()
            for key in order:
                pending.append(pool.submit(self._tile, *key))
                if len(pending) >= _AHEAD * threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _tile(self, level: int, index: int) -> bytes:
        buffer = getattr(self.local, "buffer", None)
        if buffer is None:
            buffer = self.local.buffer = np.empty((self.blocksize, self.blocksize * self.item),
                                                  np.uint8)
        row, col = divmod(index, self.grids[level][1])
        _predict(self.rows[level], row * self.blocksize, col * self.blocksize * self.item,
                 self.item, self.predictor, buffer)
        return isal_zlib.compress(buffer, _ISAL_LEVEL)


@numba.njit(nogil=True, cache=True)
def _predict(image: np.ndarray, top: int, left: int, item: int, predictor: int,
             out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The tile of `image` (rows of bytes) at (`top`, `left` bytes) as TIFF's predictor writes
    it into `out` (tile rows of bytes), zero bytes past the image's edges."""
    rows, width = image.shape
    size, row_bytes = out.shape
    pixels = row_bytes // item
    valid = min(row_bytes, width - left)
    for i in range(size):
        line = out[i]
        if top + i >= rows:
            line[:] = 0
            continue
        source = image[top + i]
        if predictor == 3:  # one plane per byte, most significant first (little-endian input)
            for j in range(valid // item):
                base = left + j * item
                for b in range(item):
                    line[(item - 1 - b) * pixels + j] = source[base + b]
            for j in range(valid // item, pixels):
                for b in range(item):
                    line[b * pixels + j] = 0
        else:
            line[:valid] = source[left:left + valid]
            line[valid:] = 0
        if predictor >= 2:
            previous = line[0]
            for j in range(1, row_bytes):
                current = line[j]
                line[j] = current - previous
                previous = current
