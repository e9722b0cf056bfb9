"""A Cloud-Optimized GeoTIFF with new metadata, its compressed tiles copied as they are.

A day with one product needs no concatenation: S1Tiling renames the orthorectified file. Here
the product's tags differ from the image's (`IMAGE_TYPE`, the provenance, ...), and GDAL can
change tags only by rewriting the IFD at the end of the file, which breaks the COG layout (IFDs
before the data), or by decoding and encoding every pixel again (COG driver), the cost this
module avoids. A GDAL COG is: header, GDAL's "ghost" structural metadata, every IFD with its
out-of-line values, then the tile data. The new file is the same with IFD 0's metadata tags
(GDAL_METADATA, ImageDescription, ...) replaced by those GDAL writes for the new tags, the
IFDs laid out again, and the tile data copied byte for byte at a shifted offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["NotRetaggable", "retag", "metadata_entries"]

#: TIFF tags that hold GDAL's dataset/band metadata: DocumentName, ImageDescription, Make,
#: Model, PageName, Software, DateTime, Artist, HostComputer, Copyright, GDAL_METADATA.
METADATA_TAGS = frozenset({269, 270, 271, 272, 285, 305, 306, 315, 316, 33432, 42112})
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
               13: 4, 16: 8, 17: 8, 18: 8}
_OFFSET_TAGS = (273, 324)  # StripOffsets, TileOffsets: where the data is
_SUBIFDS = 330


class NotRetaggable(ValueError):
    """The file is not laid out as a COG whose IFDs all precede the data."""


@dataclass
class _Entry:
    tag: int
    type: int
    count: int
    value: bytes  # count × size bytes


@dataclass(frozen=True)
class _Format:
    order: str  # "<" or ">"
    big: bool

    @property
    def header_size(self) -> int:
        return 16 if self.big else 8

    @property
    def entry_size(self) -> int:
        return 20 if self.big else 12

    @property
    def inline(self) -> int:
        return 8 if self.big else 4

    def count_size(self) -> int:
        return 8 if self.big else 2

    def unpack(self, code: str, data: bytes | memoryview, offset: int):
        return struct.unpack_from(self.order + code, data, offset)[0]

    @property
    def offset_code(self) -> str:
        return "Q" if self.big else "I"


def _format(data: bytes | memoryview) -> _Format:
    order = {b"II": "<", b"MM": ">"}.get(bytes(data[:2]))
    if order is None:
        raise NotRetaggable("not a TIFF file")
    magic = struct.unpack_from(order + "H", data, 2)[0]
    if magic not in (42, 43):
        raise NotRetaggable("not a TIFF file")
    return _Format(order, magic == 43)


def _read_ifds(data: bytes | memoryview, fmt: _Format) -> tuple[list[list[_Entry]], int, int]:
    """Every IFD's entries, the first IFD's offset, and where the last IFD byte (value
    included) ends."""
    first = fmt.unpack(fmt.offset_code, data, 4 if not fmt.big else 8)
    ifds: list[list[_Entry]] = []
    end = 0
    offset = first
    while offset:
        if len(ifds) > 64:
            raise NotRetaggable("too many IFDs")
        count = fmt.unpack("Q" if fmt.big else "H", data, offset)
        position = offset + fmt.count_size()
        entries = []
        for _ in range(count):
            tag, kind = struct.unpack_from(fmt.order + "HH", data, position)
            n = fmt.unpack("Q" if fmt.big else "I", data, position + 4)
            size = _TYPE_SIZES.get(kind)
            if size is None:
                raise NotRetaggable(f"unknown TIFF type {kind} (tag {tag})")
            length = size * n
            if length <= fmt.inline:
                start = position + (12 if fmt.big else 8)
                value = bytes(data[start:start + length])
            else:
                where = fmt.unpack(fmt.offset_code, data, position + (12 if fmt.big else 8))
                value = bytes(data[where:where + length])
                end = max(end, where + length)
            if tag == _SUBIFDS:
                raise NotRetaggable("SubIFDs are not supported")
            entries.append(_Entry(tag, kind, n, value))
            position += fmt.entry_size
        end = max(end, position + fmt.inline)
        ifds.append(entries)
        offset = fmt.unpack(fmt.offset_code, data, position)
    return ifds, first, end


def _offsets(entry: _Entry, fmt: _Format) -> list[int]:
    code = {4: "I", 16: "Q", 3: "H"}[entry.type]
    return list(struct.unpack(fmt.order + code * entry.count, entry.value))


def metadata_entries(tiff: bytes) -> list[_Entry]:
    """The metadata tags of the first IFD of a TIFF (what GDAL wrote for its tags)."""
    fmt = _format(tiff)
    ifds, _, _ = _read_ifds(tiff, fmt)
    return [e for e in ifds[0] if e.tag in METADATA_TAGS]


def retag(data: bytes | memoryview, replacement: list[_Entry]) -> tuple[bytes, int]:
    """The new file is `head + data[rest:]` for the returned `(head, rest)`: `data` with its
    first IFD's metadata tags replaced by `replacement` (`metadata_entries` of a TIFF GDAL
    wrote with the new tags), its tiles untouched. NotRetaggable unless every IFD precedes the
    tile data."""
    fmt = _format(data)
    ifds, first, old_end = _read_ifds(data, fmt)
    data_start = min((min(_offsets(e, fmt)) for ifd in ifds for e in ifd
                      if e.tag in _OFFSET_TAGS and e.count), default=len(data))
    if old_end > data_start or first < fmt.header_size:
        raise NotRetaggable("the IFDs do not all precede the image data (not a COG layout)")
    ifds[0] = sorted([e for e in ifds[0] if e.tag not in METADATA_TAGS] + list(replacement),
                     key=lambda e: e.tag)
    # Sizes first (they do not depend on the offsets), then the shift of the data.
    new_end = first
    for entries in ifds:
        new_end += _ifd_size(entries, fmt)
    shift = new_end - old_end
    out = bytearray(data[:first])  # header and GDAL's ghost area, as they were
    position = first
    for index, entries in enumerate(ifds):
        size = _ifd_size(entries, fmt)
        next_ifd = position + size if index + 1 < len(ifds) else 0
        out += _ifd_bytes(entries, fmt, position, next_ifd, shift)
        position += size
    if len(out) != new_end:
        raise AssertionError("IFD layout size mismatch")
    return bytes(out), old_end


def _padded(length: int) -> int:
    return length + (length & 1)


def _ifd_size(entries: list[_Entry], fmt: _Format) -> int:
    size = fmt.count_size() + len(entries) * fmt.entry_size + fmt.inline
    return size + sum(_padded(len(e.value)) for e in entries if len(e.value) > fmt.inline)


def _ifd_bytes(entries: list[_Entry], fmt: _Format, position: int, next_ifd: int,
               shift: int) -> bytes:
    head = bytearray(struct.pack(fmt.order + ("Q" if fmt.big else "H"), len(entries)))
    values = bytearray()
    values_at = position + fmt.count_size() + len(entries) * fmt.entry_size + fmt.inline
    for entry in entries:
        value = entry.value
        if entry.tag in _OFFSET_TAGS:
            code = {4: "I", 16: "Q", 3: "H"}[entry.type]
            moved = [v + shift for v in _offsets(entry, fmt)]
            try:
                value = struct.pack(fmt.order + code * entry.count, *moved)
            except struct.error:
                raise NotRetaggable("shifted offsets overflow their TIFF type") from None
        head += struct.pack(fmt.order + "HH" + ("Q" if fmt.big else "I"), entry.tag, entry.type,
                            entry.count)
        if len(value) <= fmt.inline:
            head += value + bytes(fmt.inline - len(value))
        else:
            head += struct.pack(fmt.order + fmt.offset_code, values_at + len(values))
            values += value + bytes(len(value) & 1)
    head += struct.pack(fmt.order + fmt.offset_code, next_ifd)
    return bytes(head + values)
