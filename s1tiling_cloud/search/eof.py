"""Precise orbit files (EOF): which ones a period needs, the cache of them, and their search
through eodag (`S1_AUX_POEORB`), as S1Tiling manages them (LIA workflow, step 5).

The cache (`[Paths] eof_dir`, local or s3://) holds `S1x_OPER_AUX_POEORB_OPOD_*.EOF` files;
their names say the mission, the processing time and the validity window. When the cached files
of a mission cover the whole period, nothing is searched. Otherwise eodag is asked for the
orbit files of the period and, among several matches, S1Tiling keeps the newest one
intersecting the range, then the one of the requested mission; a newer processing of the same
validity replaces an older one.

>>> needed_eofs("/data/_EOF", "S1A", start, stop)        # [] once the cache covers the period
>>> search_eofs(dag, "S1A", start, stop)[0]               # the best match first
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from ..exceptions import DownloadEOFFileError
from ..outputs.names import relative_orbit as relative_orbit_of
from . import eodag_compat as compat
from .listing import filesystem

__all__ = [
    "EOF_COLLECTION",
    "EOFCandidate",
    "as_utc",
    "cached_eofs",
    "choose_eofs",
    "file_orbits",
    "needed_eofs",
    "parse_eof_name",
    "search_eofs",
    "uncovered",
]

log = logging.getLogger(__name__)

#: eodag's collection of Sentinel-1 precise orbit files (eodag 3: the product type).
EOF_COLLECTION = "S1_AUX_POEORB"
#: How far the query reaches around the period: a POEORB is valid 26 h, and providers of
#: static catalogs keep only the files whose validity lies *inside* the query's dates.
QUERY_MARGIN = timedelta(days=2)
#: A search result's property [first, last]: the absolute orbits of its first and last state
#: vectors. Providers do not say them for orbit files (then the relative orbit is checked on the
#: files, `file_orbits`); the tests' provider does, and eodag keeps it when mapped.
ORBITS_PROPERTY = "s1tiling:absolute_orbits"

_NAME = re.compile(
    r"(?P<mission>S1[A-D])_OPER_AUX_(?P<kind>POEORB|RESORB)_OPOD_(?P<created>\d{8}T\d{6})_"
    r"V(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})(?:\.EOF)?(?:\.zip|\.SAFE)?$")


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def as_utc(value: datetime | str) -> datetime:
    """A UTC datetime from an ISO text (`Z` allowed) or a datetime (naive: UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class EOFCandidate:
    """One orbit file: in the cache (`location`) or at a provider (`eodag`, its GeoJSON)."""

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


def file_orbits(location: str, storage_options: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """The absolute orbits of an orbit file's first and last state vectors."""
    fs, path = filesystem(location, storage_options)
    with fs.open(path, "rb") as stream:
        root = etree.fromstring(stream.read(), parser=etree.XMLParser(huge_tree=True))
    orbits = root.findall(".//{*}List_of_OSVs/{*}OSV/{*}Absolute_Orbit")
    if not orbits:
        raise DownloadEOFFileError(f"{location} holds no state vector with an orbit number")
    return int(orbits[0].text), int(orbits[-1].text)


def cached_eofs(eof_dir: str, platform: str | None = None,
                storage_options: Mapping[str, Any] | None = None, *,
                relative_orbit: int | None = None) -> list[EOFCandidate]:
    """The precise orbit files (POEORB) in `eof_dir`, of `platform` when given; with
    `relative_orbit`, those spanning it (their orbits read from the files)."""
    fs, path = filesystem(eof_dir, storage_options)
    try:
        entries = fs.ls(path, detail=False)
    except (FileNotFoundError, NotADirectoryError):
        return []
    base = eof_dir.rstrip("/")
    found = []
    for entry in entries:
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        if not name.endswith(".EOF"):
            continue
        candidate = parse_eof_name(name, location=f"{base}/{name}")
        if candidate and candidate.kind == "POEORB" and (
                platform is None or candidate.platform == platform.upper()):
            found.append(candidate)
    if relative_orbit is not None:
        found = [c for c in (dataclasses.replace(c, absolute_orbits=file_orbits(
            c.location, storage_options)) for c in found) if c.has_relative_orbit(relative_orbit)]
    return sorted(found, key=lambda c: (c.valid_from, c.valid_to, c.created))


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


def needed_eofs(eof_dir: str, platform: str, start: datetime | str, stop: datetime | str, *,
                storage_options: Mapping[str, Any] | None = None,
                relative_orbit: int | None = None) -> list[tuple[datetime, datetime]]:
    """What of [start, stop] the cached precise orbit files of `platform` (spanning
    `relative_orbit` when given) leave uncovered.

    Empty: the cache covers the period and nothing is to be searched (S1Tiling's rule).
    """
    cached = cached_eofs(eof_dir, platform, storage_options, relative_orbit=relative_orbit)
    return uncovered(cached, as_utc(start), as_utc(stop))


def _requested(candidate: EOFCandidate, platform: str | None) -> bool:
    return platform is None or candidate.platform == platform.upper()


def _preference(candidate: EOFCandidate, platform: str | None) -> tuple:
    """Best last: the requested mission, the newest validity, the newest processing."""
    return (_requested(candidate, platform), candidate.valid_from, candidate.valid_to,
            candidate.created)


def choose_eofs(candidates: Sequence[EOFCandidate], platform: str | None, start: datetime | str,
                stop: datetime | str) -> tuple[list[EOFCandidate], list[tuple[datetime, datetime]]]:
    """The fewest files that cover [start, stop], and what stays uncovered.

    From the start onwards, each step keeps, among the files valid at the cursor, the one valid
    the longest (the newest intersecting the rest of the range), the requested mission's first,
    the newest processing among equals.
    """
    start, stop = as_utc(start), as_utc(stop)
    pool = [c for c in candidates if c.intersects(start, stop)]
    chosen: list[EOFCandidate] = []
    cursor = start
    while True:
        valid = [c for c in pool if c.valid_from <= cursor <= c.valid_to and c not in chosen]
        if not valid:
            return chosen, uncovered(chosen, start, stop)
        best = max(valid, key=lambda c: (_requested(c, platform), c.valid_to, c.created))
        chosen.append(best)
        if best.valid_to >= stop:
            return chosen, []
        cursor = best.valid_to


def _orbit_range(properties: Mapping[str, Any]) -> tuple[int, int] | None:
    """First and last absolute orbits, when the provider says them (`ORBITS_PROPERTY`)."""
    value = properties.get(ORBITS_PROPERTY)
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def _candidate(product: Any) -> EOFCandidate | None:
    properties = dict(product.properties)
    name = str(properties.get("id") or properties.get("title") or "")
    return parse_eof_name(name, absolute_orbits=_orbit_range(properties),
                          provider=getattr(product, "provider", None), eodag=product.as_dict())


def _query(start: datetime, stop: datetime, provider: str | None) -> dict[str, Any]:
    key = "collection" if compat.EODAG_MAJOR >= 4 else "productType"
    query: dict[str, Any] = {
        key: EOF_COLLECTION, "raise_errors": True,
        "start": (start - QUERY_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (stop + QUERY_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if provider:
        query["provider"] = provider
    return query


def search_eofs(dag, platform: str | None, start: datetime | str, stop: datetime | str,
                relative_orbit: int | None = None, *,
                provider: str | None = None) -> list[EOFCandidate]:
    """The precise orbit files eodag finds for [start, stop], best first.

    Every mission is asked for (satellites of one constellation share the tracks, and S1Tiling
    accepts another mission's file for an orbit); the requested `platform` comes first, then
    the newest validity, then the newest processing. Only POEORB files intersecting the period
    are kept, and, with `relative_orbit`, those that span it (when the provider says which
    orbits a file spans; otherwise it is checked on the file).
    """
    start, stop = as_utc(start), as_utc(stop)
    results = dag.search_all(**_query(start, stop, provider))
    found: dict[str, EOFCandidate] = {}
    for product in results:
        candidate = _candidate(product)
        if candidate is None:
            log.warning("ignoring a search result that is not an orbit file: %s",
                        product.properties.get("id"))
            continue
        if candidate.kind != "POEORB" or not candidate.intersects(start, stop):
            continue
        if relative_orbit is not None and not candidate.has_relative_orbit(relative_orbit):
            continue
        found.setdefault(candidate.id, candidate)
    ranked = sorted(found.values(), key=lambda c: _preference(c, platform), reverse=True)
    log.info("%d precise orbit files found for %s - %s", len(ranked), start, stop)
    return ranked
