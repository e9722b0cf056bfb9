"""Precise and restituted orbit files (ESA Earth Explorer `.EOF`: AUX_POEORB, AUX_RESORB).

An EOF holds a day of state vectors every 10 s (UTC, TAI and UT1 stamps, ECEF position and
velocity). We pick the file whose validity covers a product and keep the vectors around it,
so `Orbit` interpolates exactly as it does with the annotation's vectors. The folder of
orbit files may be local or an s3:// prefix (a pod finds them in object storage).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from lxml import etree

from ..exceptions import DownloadEOFFileError
from ..store import S3Config, Store, is_remote, join
from .orbit import Orbit

# S1A_OPER_AUX_POEORB_OPOD_20210203T122423_V20210113T225942_20210115T005942.EOF
_EOF_NAME = re.compile(
    r"^(?P<mission>S1[A-D])_OPER_AUX_(?P<kind>POEORB|RESORB)_OPOD_(?P<created>\d{8}T\d{6})_"
    r"V(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})\.EOF$"
)


@dataclass(frozen=True)
class StateVectors:
    """State vectors of an EOF: UTC times, ECEF positions (m) and velocities (m/s)."""

    times: np.ndarray  # datetime64[ns] UTC
    positions: np.ndarray  # (n, 3)
    velocities: np.ndarray  # (n, 3)
    ut1: np.ndarray  # datetime64[ns], the file's UT1 stamps (an IERS-derived UT1 source)
    absolute_orbits: np.ndarray

    def around(self, start: np.datetime64, stop: np.datetime64, margin_s: float = 60.0):
        """The vectors within [start − margin, stop + margin]."""
        margin = np.timedelta64(int(margin_s * 1e9), "ns")
        keep = (self.times >= np.datetime64(start, "ns") - margin) & (
            self.times <= np.datetime64(stop, "ns") + margin)
        return StateVectors(self.times[keep], self.positions[keep], self.velocities[keep],
                            self.ut1[keep], self.absolute_orbits[keep])

    def orbit(self) -> Orbit:
        return Orbit.from_state_vectors(self.times, self.positions, self.velocities)


def _stamp(text: str) -> str:
    return text.split("=", 1)[1] if "=" in text else text


def read_eof(source: str | os.PathLike | bytes,
             storage_options: Mapping[str, Any] | None = None) -> StateVectors:
    """Parse an EOF file (bytes, a path or an s3:// URI)."""
    data = source if isinstance(source, bytes) else Store(storage_options).read_bytes(source)
    root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True))
    osvs = root.findall(".//{*}List_of_OSVs/{*}OSV")
    if not osvs:
        raise DownloadEOFFileError(f"{source if not isinstance(source, bytes) else 'EOF'} holds "
                                   "no state vector")

    def column(tag: str) -> np.ndarray:
        return np.array([float(o.findtext(f"{{*}}{tag}")) for o in osvs])

    return StateVectors(
        times=np.array([_stamp(o.findtext("{*}UTC")) for o in osvs], dtype="datetime64[ns]"),
        positions=np.stack([column(t) for t in ("X", "Y", "Z")], axis=-1),
        velocities=np.stack([column(t) for t in ("VX", "VY", "VZ")], axis=-1),
        ut1=np.array([_stamp(o.findtext("{*}UT1") or "NaT") for o in osvs], dtype="datetime64[ns]"),
        absolute_orbits=np.array([int(o.findtext("{*}Absolute_Orbit") or -1) for o in osvs]),
    )


def eof_names(eof_dir: str | os.PathLike,
              storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """The `.EOF` file names directly in `eof_dir` (a folder or an s3:// prefix); none if it
    is absent."""
    if is_remote(eof_dir):
        import s3fs

        fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False,
                               **S3Config.resolve(storage_options).s3fs_options())
        try:
            entries = fs.ls(_bucket_path(eof_dir), detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        names = [entry.rstrip("/").rsplit("/", 1)[-1] for entry in entries]
    else:
        folder = Path(os.fspath(eof_dir).removeprefix("file://"))
        names = [path.name for path in folder.glob("*.EOF")] if folder.is_dir() else []
    return sorted(name for name in names if name.endswith(".EOF"))


def find_eof(eof_dir: str | os.PathLike, mission: str, start: np.datetime64,
             stop: np.datetime64, storage_options: Mapping[str, Any] | None = None) -> Path | str:
    """The orbit file of `mission` (e.g. "S1A") whose validity covers [start, stop]: precise
    (POEORB) before restituted (RESORB), then the most recently created. A `Path` in a local
    folder, an s3:// URI under a prefix."""
    start, stop = np.datetime64(start, "s"), np.datetime64(stop, "s")
    candidates = []
    for name in eof_names(eof_dir, storage_options):
        match = _EOF_NAME.match(name)
        if not match or match["mission"] != mission.upper():
            continue
        valid_from = np.datetime64(_iso(match["start"]), "s")
        valid_to = np.datetime64(_iso(match["stop"]), "s")
        if valid_from <= start and stop <= valid_to:
            candidates.append((match["kind"] == "POEORB", match["created"], name))
    if not candidates:
        raise DownloadEOFFileError(
            f"No orbit file for {mission} covering {start} - {stop} in {eof_dir}")
    found = join(os.fspath(eof_dir), max(candidates)[2])
    return found if is_remote(found) else Path(found)


def _bucket_path(uri: str | os.PathLike) -> str:
    """`bucket/key` of an s3:// URI, as s3fs names it."""
    parts = urlsplit(os.fspath(uri))
    return f"{parts.netloc}{parts.path}".rstrip("/")


def _iso(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:6]}-{compact[6:8]}T{compact[9:11]}:{compact[11:13]}:{compact[13:15]}"


def orbit_for_product(eof_dir: str | os.PathLike, mission: str, start: np.datetime64,
                      stop: np.datetime64, margin_s: float = 60.0,
                      storage_options: Mapping[str, Any] | None = None) -> Orbit:
    """The interpolated precise orbit around a product's acquisition."""
    path = find_eof(eof_dir, mission, start, stop, storage_options)
    vectors = read_eof(path, storage_options).around(start, stop, margin_s)
    return vectors.orbit()
