"""S1Tiling's filters of one tile's candidates (its "Filtering before download").

In order: products that miss the tile; `discard_small_redundant` (same start: keep the last
identifier); pairing by `day#relative_orbit`; the coverage ratio of each pair. Products already
in the cache get their `location`, so they are not downloaded again. Groups whose outputs exist
are kept: what is already done is decided on the plan (`runners.remaining`). Every discard is
returned as (product id, tile, reason).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence

from shapely import wkt

from ..config.model import Request
from ..geo.s2tile import S2Tile
from ..store import join
from .listing import Listing, filesystem
from .model import S1Candidate

__all__ = [
    "Discard",
    "apply_filters",
    "discard_outside",
    "discard_small_redundant",
    "filter_coverage",
    "group_key",
    "mark_cached",
    "pair_by_day_and_orbit",
    "tile_coverage",
]

Discard = tuple[str, str, str]  # (product id, tile, reason)
CACHE_SUFFIXES = (".SAFE", "", ".zip")


def tile_coverage(candidate: S1Candidate, tile: S2Tile) -> float:
    """Percentage of the tile's area the product covers, computed in the tile's UTM zone."""
    return 100.0 * tile.coverage(wkt.loads(candidate.footprint))


def group_key(candidate: S1Candidate) -> str:
    """S1Tiling's pairing key: start day and relative orbit (`20200108#007`)."""
    return f"{candidate.day}#{candidate.relative_orbit:03d}"


def discard_outside(candidates: Sequence[S1Candidate], tile: S2Tile
                    ) -> tuple[list[S1Candidate], list[Discard]]:
    """Products whose footprint misses the tile (a bounding-box search finds some)."""
    kept, discarded = [], []
    for candidate in candidates:
        if wkt.loads(candidate.footprint).intersects(tile.footprint):
            kept.append(candidate)
        else:
            discarded.append((candidate.id, tile.name, "footprint does not intersect the tile"))
    return kept, discarded


def discard_small_redundant(candidates: Sequence[S1Candidate], tile: str
                            ) -> tuple[list[S1Candidate], list[Discard]]:
    """Of products starting at the same second, keep the last in identifier order (#47).

    Such products are re-processings of one acquisition (another CRC, another stop time).
    """
    by_start: dict[tuple[str, str], list[S1Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_start[(candidate.platform, candidate.start.strftime("%Y%m%dT%H%M%S"))].append(candidate)
    kept, discarded = [], []
    for group in by_start.values():
        ordered = sorted(group, key=lambda c: c.id)
        kept.append(ordered[-1])
        discarded += [(c.id, tile, f"redundant with {ordered[-1].id} (same start)")
                      for c in ordered[:-1]]
    return sorted(kept, key=lambda c: c.id), discarded


def pair_by_day_and_orbit(candidates: Sequence[S1Candidate], tile: S2Tile
                          ) -> tuple[dict[str, list[S1Candidate]], list[Discard]]:
    """Groups of at most two products per `day#relative_orbit`, in start order.

    S1Tiling asserts on a third product; here the two that cover most of the tile are kept.
    """
    groups: dict[str, list[S1Candidate]] = defaultdict(list)
    for candidate in candidates:
        groups[group_key(candidate)].append(candidate)
    discarded: list[Discard] = []
    for key, group in groups.items():
        if len(group) > 2:
            ranked = sorted(group, key=lambda c: (-tile_coverage(c, tile), c.id))
            discarded += [(c.id, tile.name, f"a third product for {key}") for c in ranked[2:]]
            group[:] = ranked[:2]
        group.sort(key=lambda c: c.start)
    return dict(sorted(groups.items())), discarded


def filter_coverage(groups: Mapping[str, list[S1Candidate]], tile: S2Tile, ratio: float
                    ) -> tuple[dict[str, list[S1Candidate]], list[Discard]]:
    """Keep a group iff the sum of its products' coverages (%) reaches `ratio` (0: keep all)."""
    if not ratio:
        return dict(groups), []
    kept, discarded = {}, []
    for key, group in groups.items():
        total = sum(tile_coverage(c, tile) for c in group)
        if total >= ratio:
            kept[key] = group
        else:
            discarded += [(c.id, tile.name, f"{key} covers {total:.2f}% of the tile < {ratio}%")
                          for c in group]
    return kept, discarded


def mark_cached(candidates: Sequence[S1Candidate], s1_images: str, listing: Listing
                ) -> list[S1Candidate]:
    """Candidates with `location` set when the product is already in `s1_images`.

    A folder counts only with its `manifest.safe` (the ingest stage writes it last); a zip as
    it is (it is verified when opened).
    """
    names = listing.names(s1_images)
    result = []
    for candidate in candidates:
        location = candidate.location
        if location is None:
            location = _cached_location(candidate.id, s1_images, names, listing)
        result.append(dataclasses.replace(candidate, location=location))
    return result


def _cached_location(product_id: str, s1_images: str, names: set[str], listing: Listing
                     ) -> str | None:
    for suffix in CACHE_SUFFIXES:
        if f"{product_id}{suffix}" not in names:
            continue
        uri = join(s1_images, f"{product_id}{suffix}")
        if suffix == ".zip":
            return uri
        fs, path = filesystem(join(uri, "manifest.safe"), listing.storage_options)
        if fs.exists(path):
            return uri
    return None


def apply_filters(candidates: Sequence[S1Candidate], request: Request, tile: str, *,
                  listing: Listing | None = None) -> tuple[list[S1Candidate], list[Discard]]:
    """All of S1Tiling's filters for one tile: the products to use, and the discards. Every
    group is kept, done or not: what is already done is decided on the plan
    (`runners.remaining`), from every output it promises."""
    listing = listing or Listing(request.storage.storage_options())
    s2tile = S2Tile.from_name(tile)
    kept, discarded = discard_outside(candidates, s2tile)
    kept, dropped = discard_small_redundant(kept, tile)
    discarded += dropped
    groups, dropped = pair_by_day_and_orbit(kept, s2tile)
    discarded += dropped
    groups, dropped = filter_coverage(groups, s2tile,
                                      request.data_source.tile_to_product_overlap_ratio)
    discarded += dropped
    result = [candidate for group in groups.values() for candidate in group]
    return mark_cached(result, request.paths.s1_images, listing), discarded
