"""The scan of the product cache when nothing is downloaded: SAFE folders, eodag-style folders
and zips, locally and under an s3:// prefix."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from s1tiling_cloud.search import find_products
from s1tiling_cloud.search.local_scan import scan_products
from tests.s3server import storage_options, upload

from .conftest import OTHER_TILE, TILE, make_request

BROKEN = "S1A_IW_GRDH_1SDV_20200115T000000_20200115T000025_030800_038600_ABCD.SAFE"


@pytest.fixture
def cache(archive, tmp_path):
    """A, B, D, E as SAFE folders, C as a zip, a SAFE without manifest, a stray file."""
    s1 = tmp_path / "s1"
    s1.mkdir()
    for role in ("A", "B", "D", "E"):
        shutil.copytree(archive.paths[role], s1 / archive.paths[role].name)
    shutil.make_archive(str(s1 / archive.id("C")), "zip", archive.folder, archive.paths["C"].name)
    (s1 / BROKEN / "measurement").mkdir(parents=True)
    (s1 / "README.txt").write_text("not a product")
    return s1


def locations(candidates) -> dict[str, str | None]:
    return {c.id: c.location for c in candidates}


def test_scan_finds_folders_and_zips(cache, archive, tmp_path):
    source = make_request(tmp_path, download=False).data_source
    found, skipped = scan_products(str(cache), source)
    assert locations(found) == {
        **{archive.id(r): str(cache / archive.paths[r].name) for r in ("A", "B", "D", "E")},
        archive.id("C"): str(cache / f"{archive.id('C')}.zip")}
    c = next(x for x in found if x.id == archive.id("C"))
    assert (c.relative_orbit, c.orbit_direction, c.polarisations) == (7, "DES", ["vv", "vh"])
    assert [entry for entry, _ in skipped] == [BROKEN]


def test_the_scan_does_not_read_whole_zips(cache, archive, tmp_path, monkeypatch):
    """The scan reads a zip's manifest only: no CRC pass (a full read, a download for s3://)."""
    from s1tiling_cloud.safe import location

    def whole_read(*args):
        raise AssertionError("the scan read a whole zip")

    monkeypatch.setattr(location, "_zip_crc_failure", whole_read)
    source = make_request(tmp_path, download=False).data_source
    found, _ = scan_products(str(cache), source)
    assert archive.id("C") in locations(found)


@pytest.mark.parametrize(("criteria", "roles"), [
    ({"orbit_direction": "ASC"}, {"D"}),
    ({"relative_orbit_list": [7]}, {"A", "B", "C"}),
    ({"first_date": date(2020, 1, 9), "last_date": date(2020, 1, 12)}, {"D", "E"}),
    ({"platform_list": ["S1B"]}, set()),
])
def test_scan_filters(cache, archive, tmp_path, criteria, roles):
    source = make_request(tmp_path, download=False, **criteria).data_source
    found, _ = scan_products(str(cache), source)
    assert set(locations(found)) == {archive.id(r) for r in roles}


def test_find_products_without_download(cache, archive, tmp_path):
    request = make_request(tmp_path, download=False, s1_images=str(cache))
    outcome = find_products(request)
    assert set(locations(outcome.per_tile[TILE])) == {archive.id(r) for r in "ABCD"}
    assert all(c.location for c in outcome.per_tile[TILE])
    # tiles: ALL -> every tile the cache's products cover
    everything = find_products(make_request(tmp_path, download=False, s1_images=str(cache),
                                            tiles=["ALL"]))
    assert {TILE, OTHER_TILE} <= set(everything.per_tile)
    assert set(locations(everything.per_tile[OTHER_TILE])) == {archive.id("E")}


@pytest.mark.s3
def test_scan_an_s3_cache(archive, s3_server, tmp_path):
    for role in ("A", "D"):
        upload(s3_server, "scan", archive.paths[role], "s1")
    source = make_request(tmp_path, download=False).data_source
    found, _ = scan_products("s3://scan/s1", source, storage_options=storage_options(s3_server))
    assert locations(found) == {archive.id(r): f"s3://scan/s1/{archive.paths[r].name}"
                                for r in ("A", "D")}
