"""Precise orbit files through eodag: the choice among several files, the cache (local and
s3://) that spares the provider, exit 67 when nothing matches, and LIA maps from a fetched EOF.

The provider is real eodag with a `StaticStacSearch` provider over a catalog of orbit files on
the moto S3 API server (`tests.providers.eof_provider`), downloads by `AwsDownload`. The orbit files
sample the same analytic orbit as the synthetic product's annotation (`write_eof`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import numpy as np
import pytest
import rasterio

from s1tiling_cloud.exceptions import DownloadEOFFileError, exit_code_for
from s1tiling_cloud.geo import Grid
from s1tiling_cloud.geo.eof import (
    EOFCandidate,
    choose_eofs,
    needed_eofs,
    parse_eof_name,
    uncovered,
)
from s1tiling_cloud.search import eodag_compat
from s1tiling_cloud.search.eof import search_eofs
from s1tiling_cloud.stages.eof import fetch_eof
from s1tiling_cloud.stages.lia import lia
from s1tiling_cloud.stages.registry import STAGES, run_stage
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from tests.providers.eof_provider import publish_eofs, write_eof, write_eof_eodag_config
from tests.providers.stac_provider import unreachable_catalog_url
from tests.s3server import storage_options

PROVIDER, DEAD = "eofstac", "deadeofstac"
SPEC = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800, pixel_spacing=40.0,
                    speckle=False)  # S1A, 2020-01-08T04:41:50, absolute orbit 30704 (relative 7)
START, STOP = "2020-01-08T04:41:50Z", "2020-01-08T04:41:54Z"


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class OrbitFiles:
    paths: dict[str, Path]
    config: Path  # the eodag configuration of the provider serving them
    dead_config: Path  # a provider that cannot be reached
    endpoint: str

    def name(self, role: str) -> str:
        return self.paths[role].name


@pytest.fixture(scope="module", autouse=True)
def eof_providers():
    """The providers of this module, next to the search tests' (`eodag_home`)."""
    names = json.loads(os.environ.get("EODAG_PROVIDERS_WHITELIST", "[]"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EODAG_PROVIDERS_WHITELIST", json.dumps([*names, PROVIDER, DEAD]))
        yield


@pytest.fixture(scope="module")
def orbit_files(tmp_path_factory, s3_server) -> OrbitFiles:
    """Five orbit files around the product; only `reprocessed` is the right one for it."""
    folder = tmp_path_factory.mktemp("provider-eof")
    decoy = {"step_s": 60.0}  # files never read for geometry: one vector a minute
    paths = {
        # the product's day, processed twice: the newer processing wins
        "first": write_eof(folder, SPEC, created=_day("2020-01-28T12:00:00"), **decoy),
        "reprocessed": write_eof(folder, SPEC, created=_day("2020-03-02T08:00:00")),
        # the days before and after: their windows end / start outside the acquisition
        "day_before": write_eof(folder, SPEC, valid_from=_day("2020-01-06T22:59:42"),
                                valid_to=_day("2020-01-08T00:59:42"), **decoy),
        "day_after": write_eof(folder, SPEC, valid_from=_day("2020-01-08T22:59:42"),
                               valid_to=_day("2020-01-10T00:59:42"), **decoy),
        # another mission, newest of all: not the requested platform's
        "other_mission": write_eof(folder, SPEC, mission="S1B",
                                   created=_day("2020-04-01T08:00:00"), **decoy),
    }
    url = publish_eofs(list(paths.values()), "provider", "eof", s3_server)
    config = write_eof_eodag_config(folder / "eodag.yml", PROVIDER, url, s3_server)
    dead = write_eof_eodag_config(folder / "dead.yml", DEAD, unreachable_catalog_url(), s3_server,
                                  timeout=2)
    return OrbitFiles(paths, config, dead, s3_server)


# --- choice rules, without a provider ------------------------------------------------------

def _named(name: str) -> EOFCandidate:
    candidate = parse_eof_name(name)
    assert candidate is not None
    return candidate


def test_names_coverage_and_choice():
    older = _named("S1A_OPER_AUX_POEORB_OPOD_20200128T120000_V20200107T225942_20200109T005942.EOF")
    newer = _named("S1A_OPER_AUX_POEORB_OPOD_20200302T080000_V20200107T225942_20200109T005942")
    next_day = _named("s3://b/eof/S1A_OPER_AUX_POEORB_OPOD_20200129T120000_V20200108T225942_"
                      "20200110T005942.EOF")
    other = _named("S1B_OPER_AUX_POEORB_OPOD_20200401T080000_V20200108T225942_20200110T005942.EOF")
    assert parse_eof_name("S1A_IW_GRDH_1SDV_20200108T044150_20200108T044215_030704_038506_A4E9") is None
    assert (older.platform, older.kind, older.valid_from) == ("S1A", "POEORB", _day("2020-01-07T22:59:42"))
    assert EOFCandidate.from_dict(json.loads(json.dumps(newer.to_dict()))) == newer

    # A product's acquisition: the newer processing of the same window.
    assert choose_eofs([older, newer, next_day], "S1A", START, STOP) == ([newer], [])
    # In the 2 h both days' files cover: the newest intersecting (the next day's), of the
    # requested mission though another mission's file is processed later.
    overlap = ("2020-01-08T23:30:00Z", "2020-01-08T23:31:00Z")
    assert choose_eofs([older, next_day, other], "S1A", *overlap) == ([next_day], [])
    assert choose_eofs([older, next_day, other], "S1B", *overlap) == ([other], [])
    # A long period: a chain of files; a hole is reported.
    assert choose_eofs([older, next_day], "S1A", "2020-01-08T00:00:00Z",
                       "2020-01-09T12:00:00Z") == ([older, next_day], [])
    assert uncovered([older], _day("2020-01-08T00:00:00"), _day("2020-01-09T12:00:00")) == [
        (_day("2020-01-09T00:59:42"), _day("2020-01-09T12:00:00"))]
    assert uncovered([older], _day("2020-01-07T20:00:00"), _day("2020-01-07T21:00:00")) == [
        (_day("2020-01-07T20:00:00"), _day("2020-01-07T21:00:00"))]
    assert uncovered([], _day("2020-01-08T01:00:00"), _day("2020-01-08T01:00:00")) != []

    # Relative orbits: strictly inside the file's first and last (S1Tiling's margin −1).
    spanning = EOFCandidate(**{**older.__dict__, "absolute_orbits": (30690, 30706)})
    assert spanning.has_relative_orbit(7) and not spanning.has_relative_orbit(9)
    assert not spanning.has_relative_orbit(168)  # the first orbit, partly in the file
    across = EOFCandidate(**{**older.__dict__, "absolute_orbits": (30869, 30879)})  # 172..7
    assert across.has_relative_orbit(175) and across.has_relative_orbit(1)
    assert not across.has_relative_orbit(172) and not across.has_relative_orbit(100)


def test_one_file_covering_the_period_beats_two():
    """A RESORB covering the whole acquisition beats a POEORB covering its start only (which
    would need a second file merged in); among files that cover it, the POEORB."""
    poeorb_start = _named("S1A_OPER_AUX_POEORB_OPOD_20200128T120000_V20200107T044000_"
                          "20200108T044152.EOF")
    poeorb_rest = _named("S1A_OPER_AUX_POEORB_OPOD_20200128T130000_V20200108T044151_"
                         "20200109T044100.EOF")
    resorb = _named("S1A_OPER_AUX_RESORB_OPOD_20200108T060000_V20200108T030000_"
                    "20200108T063000.EOF")
    assert choose_eofs([poeorb_start, poeorb_rest, resorb], "S1A", START, STOP) == ([resorb], [])
    poeorb_all = _named("S1A_OPER_AUX_POEORB_OPOD_20200128T140000_V20200107T225942_"
                        "20200109T005942.EOF")
    assert choose_eofs([poeorb_start, resorb, poeorb_all], "S1A", START, STOP) == (
        [poeorb_all], [])
    # no single file: the chain of the precise ones
    assert choose_eofs([poeorb_start, poeorb_rest], "S1A", START, STOP) == (
        [poeorb_start, poeorb_rest], [])


def test_a_malformed_cached_eof_is_a_typed_error(tmp_path):
    from s1tiling_cloud.exceptions import DownloadEOFFileError
    from s1tiling_cloud.geo.eof import file_orbits, read_eof

    broken = tmp_path / "S1A_OPER_AUX_POEORB_OPOD_20200128T120000_V20200107T225942_20200109T005942.EOF"
    broken.write_text("<Earth_Explorer_File><Data_Block>")  # cut short
    with pytest.raises(DownloadEOFFileError, match=broken.name):
        read_eof(str(broken))
    with pytest.raises(DownloadEOFFileError, match=broken.name):
        file_orbits(str(broken))


# --- eodag search ---------------------------------------------------------------------------

def test_search_finds_the_intersecting_files_best_first(orbit_files):
    dag = eodag_compat.open_gateway(orbit_files.config)
    found = search_eofs(dag, "S1A", START, STOP, provider=PROVIDER)
    names = [c.file_name for c in found]
    assert names == [orbit_files.name(r) for r in ("reprocessed", "first", "other_mission")]
    assert found[0].provider == PROVIDER and found[0].eodag is not None
    assert found[0].absolute_orbits is not None
    # The product's day spans orbits 30700..30716, relative 4..20 with S1A's offset; the S1B
    # file carries the same numbers, which are relative 50..66 with S1B's.
    assert found[0].absolute_orbits == (30700, 30716)
    assert [c.file_name for c in search_eofs(dag, "S1A", START, STOP, relative_orbit=7)] == [
        orbit_files.name("reprocessed"), orbit_files.name("first")]
    assert search_eofs(dag, "S1A", START, STOP, relative_orbit=90) == []
    assert [c.platform for c in search_eofs(dag, "S1B", START, STOP)] == ["S1B", "S1A", "S1A"]


# --- the stage ------------------------------------------------------------------------------

def test_fetch_into_a_local_cache_once(orbit_files, tmp_path):
    eof_dir = str(tmp_path / "_EOF")
    assert needed_eofs(eof_dir, "S1A", START, STOP) != []
    result = fetch_eof("S1A", START, STOP, eof_dir, eodag_config=str(orbit_files.config))
    expected = f"{eof_dir}/{orbit_files.name('reprocessed')}"
    assert result.outputs == [expected] and not result.skipped
    assert result.details["downloaded"] == 1
    assert sorted(os.listdir(eof_dir)) == [orbit_files.name("reprocessed")]  # no leftover
    assert Path(expected).read_bytes() == orbit_files.paths["reprocessed"].read_bytes()
    assert needed_eofs(eof_dir, "S1A", START, STOP) == []
    assert needed_eofs(eof_dir, "S1A", START, STOP, relative_orbit=7) == []
    assert needed_eofs(eof_dir, "S1A", START, STOP, relative_orbit=8) == []
    assert needed_eofs(eof_dir, "S1A", START, STOP, relative_orbit=90) != []
    assert needed_eofs(eof_dir, "S1B", START, STOP) != []

    # Re-run: the cache covers the period; a provider that cannot be reached is not asked.
    again = fetch_eof("S1A", START, STOP, eof_dir, eodag_config=str(orbit_files.dead_config))
    assert again.skipped and again.outputs == [expected] and again.details["downloaded"] == 0
    # ... while a period the cache lacks goes to it, and fails there: exit 67.
    with pytest.raises(DownloadEOFFileError) as caught:
        fetch_eof("S1A", "2020-01-09T04:41:50Z", "2020-01-09T04:42:15Z", eof_dir,
                  eodag_config=str(orbit_files.dead_config))
    assert exit_code_for(caught.value) == 67


def test_fetch_into_an_s3_cache_once(orbit_files):
    options = storage_options(orbit_files.endpoint)
    client = boto3.client("s3", endpoint_url=orbit_files.endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket="eof-cache")
    eof_dir = "s3://eof-cache/out/_EOF"
    arguments = {"platform": "s1a", "start": START, "stop": STOP, "eof_dir": eof_dir,
                 "eodag_config": str(orbit_files.config), "storage_options": options}
    result = run_stage("eof", arguments)
    name = orbit_files.name("reprocessed")
    assert result.outputs == [f"{eof_dir}/{name}"] and result.details["downloaded"] == 1
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="eof-cache")["Contents"]]
    assert keys == [f"out/_EOF/{name}"]
    assert Store(options).read_bytes(result.outputs[0]) == orbit_files.paths["reprocessed"].read_bytes()

    again = run_stage("eof", {**arguments, "eodag_config": str(orbit_files.dead_config)})
    assert again.skipped and again.outputs == result.outputs


def test_nothing_matching_is_exit_67(orbit_files, tmp_path):
    assert STAGES["eof"].target == "s1tiling_cloud.stages.eof:fetch_eof"
    with pytest.raises(DownloadEOFFileError, match="No precise orbit file of S1A") as caught:
        run_stage("eof", {"platform": "S1A", "start": "2021-06-01T05:00:00Z",
                          "stop": "2021-06-01T05:00:25Z", "eof_dir": str(tmp_path / "_EOF"),
                          "eodag_config": str(orbit_files.config)})
    assert exit_code_for(caught.value) == 67
    assert not (tmp_path / "_EOF").exists() or not os.listdir(tmp_path / "_EOF")


# --- end to end: LIA from the fetched orbit file --------------------------------------------

TILE, RES = "31TCJ", 600.0


def _flat_heights(path: Path) -> str:
    grid = Grid.from_tile(TILE, RES)
    Store().write_cog(str(path), np.zeros(grid.shape, np.float32), crs=grid.crs,
                      transform=grid.transform, nodata=float("nan"), overviews=None,
                      tags={"IMAGE_TYPE": "HEIGHT", "DEM_INFO": "flat", "DEM_LIST": "flat.tif"})
    return str(path)


def _read(uri: str):
    with rasterio.open(uri) as dataset:
        return dataset.read(1), dataset.tags()


def test_lia_from_the_fetched_eof_is_the_annotation_one(orbit_files, tmp_path):
    """Both orbits sample one analytic orbit: the annotation's vectors at full precision, the
    EOF's at 1 µm (%.6f), on other instants (every 10 s from 22:59:42). Lagrange interpolation
    over 6 vectors is good to ~0.3 µm on either, so the satellite positions differ by ~1 µm
    over ~800 km: ~1e-12 rad of look angle, far below float32's resolution of sin(LIA)
    (2^-24 = 6e-8 in [0.5, 1)). So the maps may differ by one float32 step on sin(LIA) (a value
    rounding right at a half), and the uint16 100 × degrees by at most 1 there. Measured: the
    maps are identical (31TCJ at 600 m, 183² pixels).
    """
    product = str(write_grd(SPEC, tmp_path / "s1"))
    eof_dir = str(tmp_path / "_EOF")
    fetched = fetch_eof(SPEC.platform, START, STOP, eof_dir, eodag_config=str(orbit_files.config))
    heights = _flat_heights(tmp_path / "heights.tif")
    maps = {}
    for source, orbit_dir in (("annotation", None), ("eof", eof_dir)):
        outputs = {k: str(tmp_path / source / f"{k}_{TILE}_007.tif") for k in ("sin_LIA", "LIA")}
        lia(product, TILE, heights, outputs, {"resolution": RES}, eof_dir=orbit_dir)
        maps[source] = {k: _read(uri) for k, uri in outputs.items()}
    sin_a, tags_a = maps["annotation"]["sin_LIA"]
    sin_e, tags_e = maps["eof"]["sin_LIA"]
    assert tags_e["EOF_FILE"] == os.path.basename(fetched.outputs[0])
    assert tags_a["EOF_FILE"] == Path(product).name.removesuffix(".SAFE")
    assert np.isfinite(sin_a).all() and np.isfinite(sin_e).all()  # the whole tile is seen
    assert sin_a.min() > 0.5 and sin_a.max() < 0.8  # IW incidences, flat ground
    np.testing.assert_allclose(sin_e, sin_a, rtol=0, atol=6e-8)
    deg_a, deg_e = (maps[s]["LIA"][0].astype(int) for s in ("annotation", "eof"))
    assert np.abs(deg_e - deg_a).max() <= 1 and (deg_e == deg_a).mean() > 0.99
