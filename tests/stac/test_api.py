"""Publication to a real STAC API (stac-fastapi-pgstac on PostgreSQL 15 + PostGIS), searched with
pystac-client on bbox, datetime, `sat:relative_orbit` and `sar:polarizations`."""

from __future__ import annotations

import pytest
from pystac_client import Client

from s1tiling_cloud.stages.publish import publish


def _publish(made, catalog: str, api_url: str) -> list[str]:
    return [publish(files.products, catalog, masks=files.masks, quicklooks=files.quicklooks,
                    inputs=files.inputs, api_url=api_url).details["api"] for files in made]


@pytest.fixture(scope="module")
def api(chain, stac_api, tmp_path_factory):
    catalog = str(tmp_path_factory.mktemp("api") / "catalog.json")
    assert _publish(chain[1], catalog, stac_api) == ["created"] * 4
    assert _publish(chain[1], catalog, stac_api) == ["updated"] * 4  # idempotent re-run
    return Client.open(stac_api)


def _ids(search) -> list[str]:
    return sorted(item.id for item in search.items())


def test_search_on_bbox_and_datetime(api):
    everything = _ids(api.search(collections=["s1tiling-sigma0"], max_items=100))
    assert len(everything) == 4  # re-publishing made no duplicate
    assert _ids(api.search(bbox=[1.3, 43.5, 1.6, 43.9])) == everything
    assert _ids(api.search(bbox=[5.0, 40.0, 6.0, 41.0])) == []
    assert _ids(api.search(datetime="2020-01-08T00:00:00Z/2020-01-10T00:00:00Z")) == [
        "s1a_31TCJ_ASC_024_20200109t173010", "s1a_31TCJ_DES_007_20200108t044150"]
    collection = api.get_collection("s1tiling-sigma0")
    assert collection.summaries.get_list("sat:relative_orbit") == [7, 24]


def test_search_on_sar_and_sat_properties(api):
    assert _ids(api.search(query={"sat:relative_orbit": {"eq": 7}})) == [
        "s1a_31TCJ_DES_007_20200108t044150", "s1a_31TCJ_DES_007_20200120t044150"]
    orbit_24 = {"op": "=", "args": [{"property": "sat:relative_orbit"}, 24]}
    assert len(_ids(api.search(filter=orbit_24, filter_lang="cql2-json"))) == 2
    has_vh = {"op": "a_contains", "args": [{"property": "sar:polarizations"}, ["VH"]]}
    assert len(_ids(api.search(filter=has_vh, filter_lang="cql2-json"))) == 4
    has_hh = {"op": "a_contains", "args": [{"property": "sar:polarizations"}, ["HH"]]}
    assert _ids(api.search(filter=has_hh, filter_lang="cql2-json")) == []
    item = next(api.search(ids=["s1a_31TCJ_DES_007_20200108t044150"]).items())
    assert item.properties["mgrs:grid_square"] == "CJ"
    assert any(link.rel == "derived_from" for link in item.links)
