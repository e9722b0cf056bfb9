"""Two COGs compared as GDAL's COG driver lays them out: the same bytes up to the first tile but
the tiles' offsets and sizes, the same bytes in every tile once decompressed, and both laid out
as the driver lays a COG: IFDs first, then the tiles, smallest overview first, each level
row-major, each tile framed by its size before and its last 4 bytes after, nothing between."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from s1tiling_cloud.tiff_ifds import TILE_BYTE_COUNTS, TILE_OFFSETS, integers, read_ifds


def tiles(path: str | Path) -> tuple[bytes, list[list[bytes]]]:
    """The bytes before the tiles with the tiles' offsets and sizes zeroed, and every IFD's
    tiles as stored (compressed); asserts the driver's layout."""
    data = Path(path).read_bytes()
    fmt, ifds, _, end = read_ifds(data)
    head = bytearray(data[:end])
    stored: list[list[bytes]] = []
    where = []
    for level, entries in enumerate(ifds):
        tags = {e.tag: e for e in entries}
        for tag in (TILE_OFFSETS, TILE_BYTE_COUNTS):
            entry = tags[tag]
            head[entry.at:entry.at + len(entry.value)] = bytes(len(entry.value))
        offsets = integers(tags[TILE_OFFSETS], fmt)
        counts = integers(tags[TILE_BYTE_COUNTS], fmt)
        stored.append([data[o:o + c] for o, c in zip(offsets, counts, strict=True)])
        where += [(o, c, -level, index) for index, (o, c) in enumerate(zip(offsets, counts,
                                                                              strict=True))]
    position = end
    order = []
    for offset, count, level, index in sorted(where):
        assert offset == position + 4, "tiles not contiguous after the IFDs"
        assert struct.unpack_from(fmt.order + "I", data, position)[0] == count
        assert data[offset + count:offset + count + 4] == data[offset + count - 4:offset + count]
        position = offset + count + 4
        order.append((level, index))
    assert position == len(data), "bytes after the last tile"
    assert order == sorted(order), "tiles not smallest overview first, row-major"
    return bytes(head), stored


def same_tiles(mine: str | Path, gdal: str | Path) -> bool:
    """Whether `mine` is `gdal` but for its DEFLATE streams (and so their offsets): asserted
    part by part, so that a failure says which part differs."""
    head, stored = tiles(mine)
    gdal_head, gdal_stored = tiles(gdal)
    assert head == gdal_head
    assert [len(level) for level in stored] == [len(level) for level in gdal_stored]
    for level, (ours, theirs) in enumerate(zip(stored, gdal_stored, strict=True)):
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert zlib.decompress(a) == zlib.decompress(b), (level, index)
    return True
