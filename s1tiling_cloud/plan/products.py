"""What the planner knows of a product before reading it: its S1 images and how they group.

A plan is made from the search's `S1Candidate`s only (nothing is downloaded or opened), so the
name fields of every output are derived from the candidate: platform, start, stop, orbits and
direction. The measurement name S1Tiling parses (`s1a-iw-grd-vv-<start>-<stop>-<abs>-<dt>-001`)
is rebuilt from them, the data-take id from the product id when it parses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import shapely.wkt

from ..geo.s2tile import S2Tile
from ..outputs.names import ProductName, S1Image
from ..search.model import S1Candidate

_STAMP = "%Y%m%dt%H%M%S"


def _datatake(candidate: S1Candidate) -> str:
    try:
        return ProductName.parse(candidate.id).datatake.lower()
    except ValueError:
        return "000000"


def s1_image(candidate: S1Candidate, polarisation: str) -> S1Image:
    """The S1 image of `candidate` in `polarisation`, with the names S1Tiling gives it."""
    measurement = (f"{candidate.platform.lower()}-iw-grd-{polarisation.lower()}-"
                   f"{candidate.start.strftime(_STAMP)}-{candidate.stop.strftime(_STAMP)}-"
                   f"{candidate.absolute_orbit:06d}-{_datatake(candidate)}-001.tiff")
    return S1Image(measurement, candidate.orbit_direction, product=candidate.id,
                   relative_orbit=candidate.relative_orbit,
                   absolute_orbit=candidate.absolute_orbit)


def polarisations_of(candidate: S1Candidate, requested: Sequence[str]) -> list[str]:
    """The requested polarisations the product has, in the request's order."""
    have = {p.lower() for p in candidate.polarisations}
    return [p for p in requested if p in have]


@dataclass(frozen=True)
class Acquisition:
    """The products of one tile, relative orbit and start day: one S2 product per polarisation
    (S1Tiling's `YYYYMMDD#orbit` group; usually one product, or a pair across a slice limit)."""

    tile: str
    relative_orbit: int
    day: str
    products: tuple[S1Candidate, ...]  # by start time

    @property
    def key(self) -> str:
        return f"{self.tile}/{self.relative_orbit:03d}/{self.day}"


def acquisitions(tile: str, candidates: Iterable[S1Candidate]) -> list[Acquisition]:
    """The candidates of a tile grouped by (relative orbit, day), in (day, orbit) order."""
    groups: dict[tuple[str, int], list[S1Candidate]] = {}
    for candidate in candidates:
        groups.setdefault((candidate.day, candidate.relative_orbit), []).append(candidate)
    return [Acquisition(tile, orbit, day, tuple(sorted(group, key=lambda c: (c.start, c.id))))
            for (day, orbit), group in sorted(groups.items())]


def best_coverage(tile: str, candidates: Iterable[S1Candidate]) -> S1Candidate:
    """The product that covers most of the tile (S1Tiling's choice of the map's input);
    ties go to the earliest, then the smallest id, so that the choice is stable."""
    s2 = S2Tile.from_name(tile)

    def coverage(candidate: S1Candidate) -> float:
        try:
            return s2.coverage(shapely.wkt.loads(candidate.footprint))
        except (shapely.errors.ShapelyError, ValueError, TypeError):
            return 0.0

    return min(candidates, key=lambda c: (-round(coverage(c), 9), c.start, c.id))


def best_acquisition(tile: str, candidates: Iterable[S1Candidate]) -> tuple[S1Candidate, ...]:
    """The products of the day (one pass) whose footprints together cover most of the tile
    (S1Tiling's best-covering pair for the γ-area map), in time order; ties: the earliest."""
    s2 = S2Tile.from_name(tile)

    def coverage(group: Acquisition) -> float:
        try:
            union = shapely.union_all([shapely.wkt.loads(c.footprint) for c in group.products])
            return s2.coverage(union)
        except (shapely.errors.ShapelyError, ValueError, TypeError):
            return 0.0

    groups = acquisitions(tile, candidates)
    return min(groups, key=lambda g: (-round(coverage(g), 9), g.day, g.relative_orbit)).products


def by_orbit(candidates: Iterable[S1Candidate]) -> dict[int, list[S1Candidate]]:
    """The candidates per relative orbit, orbits in increasing order."""
    found: dict[int, list[S1Candidate]] = {}
    for candidate in candidates:
        found.setdefault(candidate.relative_orbit, []).append(candidate)
    return dict(sorted(found.items()))
