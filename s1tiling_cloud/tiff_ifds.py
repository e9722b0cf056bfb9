"""A TIFF file's image file directories (IFDs) read, and their offset arrays set in place.

`cog_tiles` takes the IFDs GDAL's COG driver wrote for a dataset (in a file without tiles) and
sets the offsets and sizes of the tiles it compressed itself where GDAL left zeros: every
other byte of GDAL's header stays as GDAL wrote it. Only what a GDAL COG holds is read: classic
or BigTIFF, either byte order, a chain of IFDs, no SubIFDs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["Entry", "Layout", "NotATiff", "TILE_OFFSETS", "TILE_BYTE_COUNTS", "layout",
           "integers", "read_ifds", "set_offsets"]

TILE_OFFSETS, TILE_BYTE_COUNTS = 324, 325
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
               13: 4, 16: 8, 17: 8, 18: 8}
_OFFSET_CODES = {3: "H", 4: "I", 16: "Q"}  # SHORT, LONG, LONG8
_SUBIFDS = 330


class NotATiff(ValueError):
    """The bytes are not a TIFF file this module reads."""


@dataclass
class Entry:
    """One IFD entry: its tag, TIFF type, count, value (count × type size bytes) and where in
    the file the value lies (in the entry itself when it fits there)."""
    tag: int
    type: int
    count: int
    value: bytes
    at: int


@dataclass(frozen=True)
class Layout:
    """A TIFF's byte order and flavour, which fix every size and offset field."""
    order: str  # "<" or ">"
    big: bool

    @property
    def entry_size(self) -> int:
        return 20 if self.big else 12

    @property
    def inline(self) -> int:
        """The bytes of a value held in the entry itself."""
        return 8 if self.big else 4

    @property
    def count_size(self) -> int:
        return 8 if self.big else 2

    @property
    def offset_code(self) -> str:
        return "Q" if self.big else "I"

    def unpack(self, code: str, data: bytes | memoryview, offset: int) -> int:
        return struct.unpack_from(self.order + code, data, offset)[0]


def layout(data: bytes | memoryview) -> Layout:
    """The byte order and flavour of the TIFF `data` starts with."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(data[:2]))
    if order is None:
        raise NotATiff("not a TIFF file")
    magic = struct.unpack_from(order + "H", data, 2)[0]
    if magic not in (42, 43):
        raise NotATiff("not a TIFF file")
    return Layout(order, magic == 43)


def read_ifds(data: bytes | memoryview) -> tuple[Layout, list[list[Entry]], int, int]:
    """The TIFF's layout, every IFD's entries, the first IFD's offset, and where the last IFD
    byte (its out-of-line values included) ends."""
    try:
        return _read_ifds(data)
    except struct.error:
        raise NotATiff("truncated TIFF file") from None


def _read_ifds(data: bytes | memoryview) -> tuple[Layout, list[list[Entry]], int, int]:
    fmt = layout(data)
    first = fmt.unpack(fmt.offset_code, data, 8 if fmt.big else 4)
    ifds: list[list[Entry]] = []
    end = 0
    offset = first
    while offset:
        if len(ifds) > 64:
            raise NotATiff("too many IFDs")
        count = fmt.unpack("Q" if fmt.big else "H", data, offset)
        position = offset + fmt.count_size
        entries = []
        for _ in range(count):
            tag, kind = struct.unpack_from(fmt.order + "HH", data, position)
            n = fmt.unpack(fmt.offset_code, data, position + 4)
            size = _TYPE_SIZES.get(kind)
            if size is None:
                raise NotATiff(f"unknown TIFF type {kind} (tag {tag})")
            if tag == _SUBIFDS:
                raise NotATiff("SubIFDs are not supported")
            length = size * n
            value_at = position + (12 if fmt.big else 8)
            if length > fmt.inline:
                value_at = fmt.unpack(fmt.offset_code, data, value_at)
                end = max(end, value_at + length)
                if end > len(data):
                    raise NotATiff("truncated TIFF file")
            entries.append(Entry(tag, kind, n, bytes(data[value_at:value_at + length]),
                                 value_at))
            position += fmt.entry_size
        end = max(end, position + fmt.inline)
        ifds.append(entries)
        offset = fmt.unpack(fmt.offset_code, data, position)
    return fmt, ifds, first, end


def integers(entry: Entry, fmt: Layout) -> list[int]:
    """The integers of a SHORT, LONG or LONG8 entry (offsets, byte counts, sizes, codes)."""
    return list(struct.unpack(fmt.order + _OFFSET_CODES[entry.type] * entry.count, entry.value))


def set_offsets(data: bytearray, entry: Entry, values: list[int], fmt: Layout) -> None:
    """Write `values` over the offsets or byte counts entry `entry` of the TIFF `data`, in the
    entry's own type and place (`NotATiff` if their number differs or one does not fit)."""
    if len(values) != entry.count:
        raise NotATiff(f"{len(values)} values for an entry of {entry.count}")
    try:
        struct.pack_into(fmt.order + _OFFSET_CODES[entry.type] * entry.count, data, entry.at,
                         *values)
    except struct.error:
        raise NotATiff(f"an offset does not fit TIFF type {entry.type}") from None
