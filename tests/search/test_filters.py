"""S1Tiling's per-tile filters on candidates built in Python, with footprints placed exactly
in the tile's UTM zone (so that coverages are known)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box

from s1tiling_cloud.exceptions import NoS2TileError
from s1tiling_cloud.geo.s2tile import TILE_SIZE, S2Tile
from s1tiling_cloud.search import requested_tiles
from s1tiling_cloud.search.filters import (
    apply_filters,
    discard_small_redundant,
    filter_coverage,
    group_key,
    mark_cached,
    pair_by_day_and_orbit,
    tile_coverage,
)
from s1tiling_cloud.search.listing import Listing
from s1tiling_cloud.search.model import S1Candidate

from .conftest import TILE, make_request

GRID = S2Tile.from_name(TILE)


def footprint(west: float, east: float, south: float = 0.0, north: float = 1.0) -> str:
    """A lon/lat footprint covering a fraction of the tile: [west, east] x [south, north] of it."""
    xmin, ymin = GRID.ulx, GRID.uly - TILE_SIZE
    rect = box(xmin + west * TILE_SIZE, ymin + south * TILE_SIZE,
               xmin + east * TILE_SIZE, ymin + north * TILE_SIZE)
    to_lonlat = Transformer.from_crs(GRID.epsg, 4326, always_xy=True)
    return shapely.transform(shapely.segmentize(rect, 1000.0), to_lonlat.transform,
                             interleaved=False).wkt


def candidate(start: str, *, orbit: int = 7, crc: str = "AAAA", area: str | None = None,
              direction: str = "DES", pols=("vv", "vh")) -> S1Candidate:
    begin = datetime.strptime(start, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    end = begin + timedelta(seconds=25)
    absolute = 30625 + 73 + orbit - 1  # S1A: relative = (absolute - 73) % 175 + 1
    stamp = f"{begin:%Y%m%dT%H%M%S}_{end:%Y%m%dT%H%M%S}"
    return S1Candidate(id=f"S1A_IW_GRDH_1SDV_{stamp}_{absolute:06d}_038506_{crc}", platform="S1A",
                       start=begin, stop=end, relative_orbit=orbit, absolute_orbit=absolute,
                       orbit_direction=direction, polarisations=list(pols),
                       footprint=area or footprint(0.0, 1.0))


def test_coverage_is_computed_in_the_tile_projection():
    assert tile_coverage(candidate("20200108T044150", area=footprint(0.0, 0.3)), GRID) == (
        pytest.approx(30.0, abs=0.05))
    assert tile_coverage(candidate("20200108T044150", area=footprint(0.2, 0.7, 0.5, 1.0)), GRID) == (
        pytest.approx(25.0, abs=0.05))
    far = "POLYGON ((10 50, 11 50, 11 51, 10 51, 10 50))"
    assert tile_coverage(candidate("20200108T044150", area=far), GRID) == 0.0


def test_discard_small_redundant_keeps_the_last_identifier():
    first, again = candidate("20200108T044150", crc="AAAA"), candidate("20200108T044150", crc="BBBB")
    later = candidate("20200108T044215")
    kept, discarded = discard_small_redundant([again, later, first], TILE)
    assert kept == [again, later]
    assert discarded == [(first.id, TILE, f"redundant with {again.id} (same start)")]


def test_pairs_by_day_and_relative_orbit():
    north, south = candidate("20200108T044150"), candidate("20200108T044215")
    other_orbit = candidate("20200108T173000", orbit=110, direction="ASC")
    next_day = candidate("20200109T044150")
    groups, discarded = pair_by_day_and_orbit([south, other_orbit, north, next_day], GRID)
    assert groups == {"20200108#007": [north, south], "20200108#110": [other_orbit],
                      "20200109#007": [next_day]}
    assert discarded == [] and group_key(north) == "20200108#007"


def test_a_third_product_of_a_pass_is_dropped():
    big = candidate("20200108T044150", area=footprint(0.0, 0.6))
    small = candidate("20200108T044215", area=footprint(0.6, 0.7))
    medium = candidate("20200108T044240", area=footprint(0.7, 1.0))
    groups, discarded = pair_by_day_and_orbit([big, small, medium], GRID)
    assert groups == {"20200108#007": [big, medium]}
    assert discarded == [(small.id, TILE, "a third product for 20200108#007")]


def test_coverage_ratio_sums_a_pair():
    pair = [candidate("20200108T044150", area=footprint(0.0, 0.3)),
            candidate("20200108T044215", area=footprint(0.2, 0.7, 0.5, 1.0))]
    single = [candidate("20200120T044150", area=footprint(0.0, 0.3))]
    groups = {"20200108#007": pair, "20200120#007": single}
    kept, discarded = filter_coverage(groups, GRID, 50)
    assert kept == {"20200108#007": pair}
    assert discarded == [(single[0].id, TILE, "20200120#007 covers 30.00% of the tile < 50%")]
    assert filter_coverage(groups, GRID, 0) == (groups, [])


def test_groups_whose_outputs_exist_are_kept(tmp_path):
    """What is done is decided on the plan (`runners.remaining`), not by the search."""
    request = make_request(tmp_path)
    folder = tmp_path / "out" / TILE
    folder.mkdir(parents=True)
    pair = [candidate("20200108T044150"), candidate("20200108T044215")]
    for pol in ("vv", "vh"):
        (folder / f"s1a_{TILE}_{pol}_DES_007_20200108txxxxxx.tif").touch()
    kept, discarded = apply_filters(pair, request, TILE)
    assert [c.id for c in kept] == [c.id for c in pair] and discarded == []


def test_cached_products_get_their_location(tmp_path):
    s1 = tmp_path / "s1"
    safe, eodag_layout, partial, zipped, absent = (
        candidate(f"2020010{d}T044150") for d in range(1, 6))
    for name, manifest in ((f"{safe.id}.SAFE", True), (eodag_layout.id, True),
                           (f"{partial.id}.SAFE", False)):
        (s1 / name).mkdir(parents=True)
        if manifest:
            (s1 / name / "manifest.safe").write_text("<xfdu/>")
    (s1 / f"{zipped.id}.zip").write_bytes(b"PK")
    marked = mark_cached([safe, eodag_layout, partial, zipped, absent], str(s1), Listing())
    assert [c.location for c in marked] == [str(s1 / f"{safe.id}.SAFE"), str(s1 / eodag_layout.id),
                                            None, str(s1 / f"{zipped.id}.zip"), None]


def test_apply_filters_in_order(tmp_path):
    request = make_request(tmp_path, tile_to_product_overlap_ratio=20)
    outside = candidate("20200105T044150", area="POLYGON ((10 50, 11 50, 11 51, 10 51, 10 50))")
    first = candidate("20200108T044150", area=footprint(0.0, 0.3), crc="AAAA")
    redone = candidate("20200108T044150", area=footprint(0.0, 0.3), crc="BBBB")
    second = candidate("20200108T044215", area=footprint(0.3, 0.4))
    thin = candidate("20200120T044150", area=footprint(0.0, 0.1))
    kept, discarded = apply_filters([outside, first, redone, second, thin], request, TILE)
    assert kept == [redone, second]
    assert [(p, reason.split(" ")[0]) for p, _, reason in discarded] == [
        (outside.id, "footprint"), (first.id, "redundant"), (thin.id, "20200120#007")]


def test_requested_tiles(tmp_path):
    assert requested_tiles(make_request(tmp_path, tiles=["31tcj", "33NWB"])) == ["31TCJ", "33NWB"]
    assert requested_tiles(make_request(tmp_path, tiles=["31TCJ", "33NWB"],
                                        roi_by_tiles=["33NWB"])) == ["33NWB"]
    assert requested_tiles(make_request(tmp_path, tiles=["ALL"], roi_by_tiles=["31TCJ"])) == ["31TCJ"]
    assert requested_tiles(make_request(tmp_path, download=False, tiles=["ALL"])) is None
    assert requested_tiles(make_request(tmp_path, tiles=["31TCJ", "99ZZZ"])) == ["31TCJ"]
    with pytest.raises(NoS2TileError):
        requested_tiles(make_request(tmp_path, tiles=["99ZZZ"]))


@pytest.mark.parametrize(("asked", "pols", "kept"), [
    ("VV-VH", ("vv",), True),        # a 1SSV product gives the VV of a VV-VH request (S1Tiling)
    ("VV-VH", ("vv", "vh"), True),
    ("VH", ("vv",), False),
    ("HH-HV", ("vv", "vh"), False),
    ("HH-HV", ("hh",), True),
])
def test_a_product_is_kept_for_any_polarisation_asked_that_it_has(tmp_path, asked, pols, kept):
    from s1tiling_cloud.search.eodag_search import matches_request

    source = make_request(tmp_path, polarisation=asked).data_source
    assert matches_request(candidate("20200108T044150", pols=pols), source) is kept


@pytest.mark.parametrize(("platform", "absolute", "relative"), [
    ("S1A", 30704, 7), ("S1B", 30148, 22), ("S1C", 8018, 147), ("S1C", 8019, 46), ("S1D", 100, 59)])
def test_candidates_of_every_platform(platform, absolute, relative):
    from s1tiling_cloud.search.candidates import normalise_platform
    from s1tiling_cloud.search.eodag_search import matches_request

    assert normalise_platform(f"sentinel-1{platform[-1].lower()}") == platform
    found = dataclasses.replace(candidate("20260701T044150"), platform=platform,
                                absolute_orbit=absolute, relative_orbit=relative)
    request = make_request(Path("/tmp/unused"), platform_list=[platform], relative_orbit_list=[relative],
                           first_date=datetime(2026, 7, 1).date(), last_date=datetime(2026, 7, 1).date())
    assert matches_request(found, request.data_source)
    other = "S1A" if platform != "S1A" else "S1C"
    assert not matches_request(found, dataclasses.replace(request.data_source, platform_list=[other]))
