"""Which 1-degree cells hold land: what decides whether a missing DEM tile is sea.

SRTM and Copernicus DEM publish no tile over open sea (and SRTM none north of 60°N), and OTB
takes the geoid where it has no DEM. So a cell without a DEM tile is fine when it is all sea,
and a `MissingDEMError` when it holds land. Land comes from the `global-land-mask` package:
the GLOBE mask at 30" (1/120°), shipped as one compressed boolean array (True: ocean), rows from
90°N southwards, columns from 180°W eastwards.

The package's own module decompresses the whole array (~0.9 GB) when imported; here the
array is streamed from its file instead, and only the rows of the asked cells are looked at,
so memory stays at a few rows whatever the cells. Answers are cached per process.
"""

from __future__ import annotations

import functools
import importlib.resources
import zipfile
from collections.abc import Iterable

import numpy as np

__all__ = ["LandMaskUnavailable", "cells_with_land", "has_land"]

_PACKAGE = "global_land_mask"
_FILE = "globe_combined_mask_compressed.npz"
#: Samples per degree of the GLOBE mask.
_PER_DEGREE = 120


class LandMaskUnavailable(RuntimeError):
    """The land/sea mask cannot be read (the `global-land-mask` package is missing or changed)."""


@functools.cache
def _layout() -> tuple[str, int, int, int]:
    """(file, rows, columns, offset of row 0 in the `mask.npy` member) of the package's mask."""
    try:
        path = str(importlib.resources.files(_PACKAGE) / _FILE)
    except ModuleNotFoundError as error:
        raise LandMaskUnavailable("deciding land from sea needs the `global-land-mask` package "
                                  "(pip install global-land-mask)") from error
    try:
        with zipfile.ZipFile(path) as archive:
            with archive.open("lat.npy") as member:
                lat = np.load(member)
            with archive.open("lon.npy") as member:
                lon = np.load(member)
            with archive.open("mask.npy") as member:
                np.lib.format.read_magic(member)
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                offset = member.tell()
    except (OSError, KeyError, ValueError) as error:
        raise LandMaskUnavailable(f"unreadable land/sea mask {path}: {error}") from error
    rows, columns = shape
    expected = (180 * _PER_DEGREE, 360 * _PER_DEGREE)
    if (shape != expected or fortran or dtype != np.bool_ or lat[0] != 90.0 or lon[0] != -180.0
            or not np.isclose(lat[0] - lat[1], 1 / _PER_DEGREE)):
        raise LandMaskUnavailable(f"unexpected layout of the land/sea mask {path}: "
                                  f"{shape} {dtype} from ({lat[0]}, {lon[0]})")
    return path, rows, columns, offset


def _rows_of(south: int) -> tuple[int, int]:
    """Rows [first, stop) of the samples with south < lat <= south + 1 (row k is 90 − k/120)."""
    first = (89 - south) * _PER_DEGREE
    return first, first + _PER_DEGREE


def _columns_of(west: int) -> slice:
    """Columns of the samples with west <= lon < west + 1 (column k is −180 + k/120)."""
    first = ((west + 180) % 360) * _PER_DEGREE
    return slice(first, first + _PER_DEGREE)


def has_land(south: int, west: int) -> bool:
    """Whether the cell [south, south+1] × [west, west+1] (degrees) holds any land sample."""
    return (south, west) in cells_with_land([(south, west)])


def cells_with_land(cells: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The cells among `cells` ((south, west) corners, degrees) that hold any land sample.

    One forward pass over the compressed rows, north to south, reading only the cells' rows.
    """
    asked = {(int(s), int(w)) for s, w in cells}
    unknown = asked - set(_KNOWN)
    if unknown:
        _KNOWN.update(_read_cells(unknown))
    return {cell for cell in asked if _KNOWN[cell]}


#: Cells already read in this process: (south, west) → holds land.
_KNOWN: dict[tuple[int, int], bool] = {}


def _read_cells(cells: set[tuple[int, int]]) -> dict[tuple[int, int], bool]:
    path, _, columns, offset = _layout()
    wanted: dict[int, list[int]] = {}
    for south, west in cells:
        if not -90 <= south < 90:
            raise ValueError(f"no 1-degree cell starts at latitude {south}")
        wanted.setdefault(south, []).append(west)
    found: dict[tuple[int, int], bool] = {}
    with zipfile.ZipFile(path) as archive, archive.open("mask.npy") as member:
        for south in sorted(wanted, reverse=True):  # north first: the stream only goes forward
            first, stop = _rows_of(south)
            member.seek(offset + first * columns)
            block = np.frombuffer(member.read((stop - first) * columns), dtype=np.bool_)
            block = block.reshape(stop - first, columns)
            found.update(((south, west), not block[:, _columns_of(west)].all())
                         for west in wanted[south])
    return found
