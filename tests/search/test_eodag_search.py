"""The search through eodag: a real gateway, a `StaticStacSearch` provider over a catalog on
the moto S3 API server, S1Tiling's criteria, pages, retries and filters."""

from __future__ import annotations

import socket
import threading
from datetime import date
from pathlib import Path

import pytest
from shapely import wkt

from s1tiling_cloud import exits
from s1tiling_cloud.safe.manifest import parse_manifest
from s1tiling_cloud.search import SearchFailedError, eodag_compat, find_products
from s1tiling_cloud.search.eodag_search import search_tile
from tests.providers.stac_provider import unreachable_catalog_url, write_eodag_config

from .conftest import OTHER_TILE, PROVIDER, TILE, make_request

pytestmark = pytest.mark.s3


def ids(candidates) -> set[str]:
    return {c.id for c in candidates}


def last_of_a(archive) -> str:
    """Of A and its re-processing A2 (same start), the one S1Tiling keeps: the last id."""
    return max(archive.id("A"), archive.id("A2"))


def test_search_finds_the_products_over_the_tile(dag, archive, tmp_path):
    found = search_tile(dag, make_request(tmp_path), TILE)
    assert ids(found) == {archive.id(r) for r in ("A", "A2", "B", "C", "D")}
    assert [c.id for c in found] == sorted(ids(found))
    a = next(c for c in found if c.id == archive.id("A"))
    manifest = parse_manifest((archive.paths["A"] / "manifest.safe").read_bytes(), "A")
    assert (a.platform, a.relative_orbit, a.absolute_orbit, a.orbit_direction) == ("S1A", 7, 30704, "DES")
    assert a.polarisations == ["vv", "vh"]
    assert a.start.isoformat() == "2020-01-08T04:41:50+00:00" and a.start.tzinfo is not None
    assert wkt.loads(a.footprint).equals_exact(wkt.loads(manifest.footprint_wkt), 1e-6)
    assert a.provider == PROVIDER and a.location is None
    assert a.eodag["id"] == a.id  # enough for the ingest stage to download it later
    d = next(c for c in found if c.id == archive.id("D"))
    assert (d.orbit_direction, d.relative_orbit) == ("ASC", 73)


@pytest.mark.parametrize(("criteria", "roles"), [
    ({"orbit_direction": "DES"}, {"A", "A2", "B", "C"}),
    ({"relative_orbit_list": [73]}, {"D"}),           # one orbit: asked to the provider
    ({"relative_orbit_list": [7, 73]}, {"A", "A2", "B", "C", "D"}),  # a list: filtered here
    ({"platform_list": ["S1B"]}, set()),
    ({"platform_list": ["S1A", "S1B"]}, {"A", "A2", "B", "C", "D"}),
    ({"first_date": date(2020, 1, 20),
      "last_date": date(2020, 1, 20)}, {"C"}),  # dates are inclusive
    ({"polarisation": "HH-HV"}, set()),
])
def test_search_criteria(dag, archive, tmp_path, criteria, roles):
    found = search_tile(dag, make_request(tmp_path, **criteria), TILE)
    assert ids(found) == {archive.id(r) for r in roles}


def test_pages_until_a_short_one(dag, archive, tmp_path):
    """A static catalog answers every page with everything: paging stops on no new product."""
    request = make_request(tmp_path)
    assert ids(search_tile(dag, request, TILE, items_per_page=2)) == ids(search_tile(dag, request, TILE))


def test_find_products_per_tile(dag, archive, tmp_path):
    request = make_request(tmp_path, tiles=[TILE, OTHER_TILE])
    outcome = find_products(request, dag=dag)
    first = min(archive.id("A"), archive.id("A2"))
    assert ids(outcome.per_tile[TILE]) == {last_of_a(archive), archive.id("B"), archive.id("C"),
                                           archive.id("D")}
    assert ids(outcome.per_tile[OTHER_TILE]) == {archive.id("E")}
    assert [(p, t) for p, t, _ in outcome.discarded] == [(first, TILE)]
    assert "redundant" in outcome.discarded[0][2]
    assert outcome.found == 6 and outcome.search_failures == 0
    assert all(c.location is None for c in outcome.per_tile[TILE])


def test_find_products_coverage_ratio(dag, archive, tmp_path):
    """Each product covers ~6 % of 31TCJ: only the pair of 2020-01-08 reaches 10 %."""
    outcome = find_products(make_request(tmp_path, tile_to_product_overlap_ratio=10), dag=dag)
    assert ids(outcome.per_tile[TILE]) == {last_of_a(archive), archive.id("B")}
    reasons = {p: r for p, _, r in outcome.discarded}
    assert "20200120#007 covers" in reasons[archive.id("C")]
    assert "20200109#073 covers" in reasons[archive.id("D")]


def test_find_products_keeps_done_outputs_and_finds_the_cache(dag, archive, tmp_path):
    request = make_request(tmp_path)
    tile_dir = Path(request.paths.output) / TILE
    tile_dir.mkdir(parents=True)
    for pol in ("vv", "vh"):  # the pair's products exist: kept all the same (the plan decides)
        (tile_dir / f"s1a_{TILE}_{pol}_DES_007_20200108txxxxxx.tif").write_bytes(b"")
    cached = Path(request.paths.s1_images) / f"{archive.id('C')}.SAFE"
    cached.mkdir(parents=True)
    (cached / "manifest.safe").write_bytes((archive.paths["C"] / "manifest.safe").read_bytes())
    outcome = find_products(request, dag=dag)
    kept = {c.id: c for c in outcome.per_tile[TILE]}
    assert set(kept) == {last_of_a(archive), archive.id("B"), archive.id("C"), archive.id("D")}
    assert kept[archive.id("C")].location == str(cached)
    assert kept[archive.id("D")].location is None
    assert not [r for _, _, r in outcome.discarded if "exist already" in r]


def test_unreachable_provider_is_a_search_failure(tmp_path, s3_server):
    config = write_eodag_config(tmp_path / "eodag.yml", "deadstac", unreachable_catalog_url(),
                                s3_server)
    request = make_request(tmp_path, eodag_config=str(config), tiles=[TILE, OTHER_TILE])
    outcome = find_products(request)  # the gateway comes from [DataSource] eodag_config
    assert outcome.search_failures == 2 and outcome.per_tile == {}
    assert exits.Situation(nb_search_failures=outcome.search_failures).code == exits.DOWNLOAD_ERROR


@pytest.fixture
def silent_server():
    """A catalog URL whose server accepts connections and never answers; its connection count."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/s1/catalog.json", accepted
    server.close()
    for connection in accepted:
        connection.close()


def test_timeouts_are_retried_then_fail(tmp_path, s3_server, silent_server):
    url, accepted = silent_server
    config = write_eodag_config(tmp_path / "eodag.yml", "slowstac", url, s3_server, timeout=1)
    dag = eodag_compat.open_gateway(config)
    with pytest.raises(SearchFailedError, match="2 timeouts"):
        search_tile(dag, make_request(tmp_path), TILE, max_retries=2)
    assert len(accepted) == 2  # one request per attempt
