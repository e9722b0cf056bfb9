"""Precise and restituted orbit files (ESA Earth Explorer `.EOF`: AUX_POEORB, AUX_RESORB):
their names, the files of a folder, which of them cover a period, and their state vectors.

Every module that deals with orbit files goes through here, so a file name is parsed by one
pattern and files are chosen by one rule (`choose_eofs`): the search decides what to download
with it, the stages which file gives a product's orbit. A file's name says its mission, its
kind, its processing time and its validity window; its content is a day of state vectors every
10 s (UTC, TAI and UT1 stamps, ECEF position and velocity, absolute orbit). The folder of orbit
files may be local or an s3:// prefix (a pod finds them in object storage).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from lxml import etree

from ..exceptions import DownloadEOFFileError
from ..outputs.names import relative_orbit as relative_orbit_of
from ..store import Store
from .orbit import Orbit

__all__ = [
    "EOFCandidate",
    "StateVectors",
    "as_utc",
    "cached_eofs",
    "choose_eofs",
    "eof_names",
    "eof_preference",
    "file_orbits",
    "list_eofs",
    "needed_eofs",
    "parse_eof_name",
    "product_eofs",
    "read_eof",
    "uncovered",
]

# S1A_OPER_AUX_POEORB_OPOD_20210203T122423_V20210113T225942_20210115T005942.EOF; a provider
# may name the product without `.EOF`, or zipped, or as a SAFE.
_NAME = re.compile(
    r"(?P<mission>S1[A-D])_OPER_AUX_(?P<kind>POEORB|RESORB)_OPOD_(?P<created>\d{8}T\d{6})_"
    r"V(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})(?:\.EOF)?(?:\.zip|\.SAFE)?$")


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def as_utc(value: datetime | np.datetime64 | str) -> datetime:
    """A UTC datetime from an ISO text (`Z` allowed), a numpy datetime64 or a datetime
    (naive: UTC)."""
    if isinstance(value, np.datetime64):
        value = np.datetime_as_string(np.datetime64(value, "us"))
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --------------------------------------------------------------------------- names

@dataclass(frozen=True)
class EOFCandidate:
    """One orbit file: in a folder (`location`) or at a provider (`eodag`, its GeoJSON)."""

    id: str  # S1A_OPER_AUX_POEORB_OPOD_20200129T120405_V20200107T225942_20200109T005942
    platform: str  # "S1A"
    kind: str  # "POEORB" | "RESORB"
    created: datetime  # processing time, UTC
    valid_from: datetime
    valid_to: datetime
    absolute_orbits: tuple[int, int] | None = None  # first and last vector's, when known
    location: str | None = None
    provider: str | None = None
    eodag: dict[str, Any] | None = None

    @property
    def file_name(self) -> str:
        return f"{self.id}.EOF"

    def intersects(self, start: datetime, stop: datetime) -> bool:
        return self.valid_from <= stop and start <= self.valid_to

    def covers(self, start: datetime, stop: datetime) -> bool:
        return self.valid_from <= start and stop <= self.valid_to

    def has_relative_orbit(self, relative_orbit: int, margin: int = -1) -> bool:
        """Whether the file spans `relative_orbit`; True when its orbits are unknown.

        `margin=-1` (S1Tiling's): the orbit must lie strictly inside the file's first and last
        orbits, which hold only part of a revolution.
        """
        if self.absolute_orbits is None:
            return True
        first, last = self.absolute_orbits
        spanned = range(first - margin, last + margin + 1)
        return relative_orbit in {relative_orbit_of(self.platform, n) for n in spanned}

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("created", "valid_from", "valid_to"):
            data[key] = data[key].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EOFCandidate:
        values = dict(data)
        for key in ("created", "valid_from", "valid_to"):
            values[key] = as_utc(values[key])
        if values.get("absolute_orbits") is not None:
            values["absolute_orbits"] = tuple(values["absolute_orbits"])
        return cls(**values)


def parse_eof_name(name: str, **fields: Any) -> EOFCandidate | None:
    """The candidate an orbit file's name (or path, or product id) describes; None if it is
    not one. `fields` fill the rest (`location`, `eodag`...)."""
    match = _NAME.search(name.rstrip("/").rsplit("/", 1)[-1])
    if not match:
        return None
    stem = match.group(0).removesuffix(".zip").removesuffix(".SAFE").removesuffix(".EOF")
    return EOFCandidate(id=stem, platform=match["mission"], kind=match["kind"],
                        created=_stamp(match["created"]), valid_from=_stamp(match["start"]),
                        valid_to=_stamp(match["stop"]), **fields)


# --------------------------------------------------------------------------- folders

def list_eofs(eof_dir: str | os.PathLike, platform: str | None = None,
              storage_options: Mapping[str, Any] | None = None, *,
              kinds: Sequence[str] = ("POEORB", "RESORB")) -> list[EOFCandidate]:
    """The orbit files directly in `eof_dir` (a folder or an s3:// prefix; none if absent).

    Parameters
    ----------
    eof_dir : str or os.PathLike
        The folder or prefix.
    platform : str, optional
        Only this mission's files ("S1A").
    storage_options : mapping, optional
        S3 settings (`store.S3Config`).
    kinds : sequence of str
        The kinds kept ("POEORB", "RESORB").

    Returns
    -------
    list of EOFCandidate
        With their `location`, sorted by validity then processing time.
    """
    found = []
    for entry in Store(storage_options).list(eof_dir, "*.EOF"):
        candidate = parse_eof_name(entry.name, location=entry.uri)
        if candidate and candidate.kind in kinds and (
                platform is None or candidate.platform == platform.upper()):
            found.append(candidate)
    return sorted(found, key=lambda c: (c.valid_from, c.valid_to, c.created))


def eof_names(eof_dir: str | os.PathLike,
              storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """The names of the orbit files directly in `eof_dir`, sorted (mission, then processing)."""
    return sorted(c.file_name for c in list_eofs(eof_dir, storage_options=storage_options))


def cached_eofs(eof_dir: str, platform: str | None = None,
                storage_options: Mapping[str, Any] | None = None, *,
                relative_orbit: int | None = None) -> list[EOFCandidate]:
    """The precise orbit files (POEORB) in `eof_dir`, of `platform` when given; with
    `relative_orbit`, those spanning it (their orbits read from the files)."""
    found = list_eofs(eof_dir, platform, storage_options, kinds=("POEORB",))
    if relative_orbit is not None:
        found = [c for c in (dataclasses.replace(c, absolute_orbits=file_orbits(
            c.location, storage_options)) for c in found) if c.has_relative_orbit(relative_orbit)]
    return found


# --------------------------------------------------------------------------- choosing

def uncovered(candidates: Iterable[EOFCandidate], start: datetime,
              stop: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [start, stop] that no candidate's validity covers (empty: all covered)."""
    start, stop = as_utc(start), as_utc(stop)
    gaps: list[tuple[datetime, datetime]] = []
    cursor = start
    for candidate in sorted(candidates, key=lambda c: c.valid_from):
        if candidate.valid_to < cursor:
            continue
        if candidate.valid_from > stop:
            break
        if candidate.valid_from > cursor:
            gaps.append((cursor, candidate.valid_from))
        cursor = candidate.valid_to
        if cursor >= stop:
            return gaps
    return [*gaps, (cursor, stop)]


def eof_preference(platform: str | None, cursor: datetime,
                   stop: datetime) -> Callable[[EOFCandidate], tuple]:
    """The sort key of the one rule of file choice (greater: better), for the files that are
    to give the orbit from `cursor` to `stop`.

    In order: the requested mission's; valid at the cursor; covering all of [cursor, stop]
    alone (S1Tiling's and eof's practice: one file when one covers the period, even a
    restituted one); a precise (POEORB) before a restituted (RESORB) one; reaching furthest
    towards `stop` (fewer files); the newest processing.
    """
    def key(c: EOFCandidate) -> tuple:
        return (platform is None or c.platform == platform.upper(),
                c.valid_from <= cursor <= c.valid_to, c.covers(cursor, stop),
                c.kind == "POEORB", min(c.valid_to, stop), c.created)
    return key


def choose_eofs(candidates: Sequence[EOFCandidate], platform: str | None, start: datetime | str,
                stop: datetime | str) -> tuple[list[EOFCandidate], list[tuple[datetime, datetime]]]:
    """The fewest files that cover [start, stop], and what stays uncovered.

    The one rule of file choice (`eof_preference`). From the start onwards, each step keeps the
    best of the files valid at the cursor for what remains of the period: one file when one
    covers it; two or more are chosen only where no single one covers the period.
    """
    start, stop = as_utc(start), as_utc(stop)
    pool = [c for c in candidates if c.intersects(start, stop)]
    chosen: list[EOFCandidate] = []
    cursor = start
    while True:
        valid = [c for c in pool if c.valid_from <= cursor <= c.valid_to and c not in chosen]
        if not valid:
            return chosen, uncovered(chosen, start, stop)
        best = max(valid, key=eof_preference(platform, cursor, stop))
        chosen.append(best)
        if best.valid_to >= stop:
            return chosen, []
        cursor = best.valid_to


def needed_eofs(eof_dir: str, platform: str, start: datetime | str, stop: datetime | str, *,
                storage_options: Mapping[str, Any] | None = None,
                relative_orbit: int | None = None) -> list[tuple[datetime, datetime]]:
    """What of [start, stop] the cached precise orbit files of `platform` (spanning
    `relative_orbit` when given) leave uncovered.

    Empty: the cache covers the period and nothing is to be searched (S1Tiling's rule).
    """
    cached = cached_eofs(eof_dir, platform, storage_options, relative_orbit=relative_orbit)
    return uncovered(cached, as_utc(start), as_utc(stop))


def product_eofs(eof_dir: str | os.PathLike, mission: str, start: np.datetime64 | datetime,
                 stop: np.datetime64 | datetime,
                 storage_options: Mapping[str, Any] | None = None) -> list[EOFCandidate]:
    """The orbit files of `mission` in `eof_dir` that cover a product's [start, stop], by
    `choose_eofs` (one file unless none covers it alone); DownloadEOFFileError when they leave
    part of it uncovered."""
    candidates = list_eofs(eof_dir, mission, storage_options)
    chosen, gaps = choose_eofs(candidates, mission, as_utc(start), as_utc(stop))
    if gaps or not chosen:
        raise DownloadEOFFileError(
            f"No orbit file for {mission} covering {start} - {stop} in {os.fspath(eof_dir)}")
    return chosen


# --------------------------------------------------------------------------- contents

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

    @classmethod
    def merged(cls, parts: Sequence[StateVectors]) -> StateVectors:
        """The vectors of several files in time order, each time once (the first file's)."""
        times = np.concatenate([p.times for p in parts])
        _, first = np.unique(times, return_index=True)  # sorted by time

        def take(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts])[first]

        return cls(take("times"), take("positions"), take("velocities"), take("ut1"),
                   take("absolute_orbits"))


def _utc_text(text: str) -> str:
    return text.split("=", 1)[1] if "=" in text else text


def read_eof(source: str | os.PathLike | bytes,
             storage_options: Mapping[str, Any] | None = None) -> StateVectors:
    """Parse an EOF file (bytes, a path or an s3:// URI); DownloadEOFFileError naming it when
    it is not XML (a cached file cut short, or not an orbit file): it must be fetched again."""
    data = source if isinstance(source, bytes) else Store(storage_options).read_bytes(source)
    what = "EOF" if isinstance(source, bytes) else os.fspath(source)
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as error:
        raise DownloadEOFFileError(f"{what} is not a readable orbit file ({error}): remove it "
                                   "so that it is fetched again") from error
    osvs = root.findall(".//{*}List_of_OSVs/{*}OSV")
    if not osvs:
        raise DownloadEOFFileError(f"{what} holds no state vector")

    def column(tag: str) -> np.ndarray:
        return np.array([float(o.findtext(f"{{*}}{tag}")) for o in osvs])

    return StateVectors(
        times=np.array([_utc_text(o.findtext("{*}UTC")) for o in osvs], dtype="datetime64[ns]"),
        positions=np.stack([column(t) for t in ("X", "Y", "Z")], axis=-1),
        velocities=np.stack([column(t) for t in ("VX", "VY", "VZ")], axis=-1),
        ut1=np.array([_utc_text(o.findtext("{*}UT1") or "NaT") for o in osvs],
                     dtype="datetime64[ns]"),
        absolute_orbits=np.array([int(o.findtext("{*}Absolute_Orbit") or -1) for o in osvs]),
    )


def file_orbits(location: str, storage_options: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """The absolute orbits of an orbit file's first and last state vectors."""
    orbits = read_eof(location, storage_options).absolute_orbits
    if orbits[0] < 0 or orbits[-1] < 0:
        raise DownloadEOFFileError(f"{location} holds no state vector with an orbit number")
    return int(orbits[0]), int(orbits[-1])
