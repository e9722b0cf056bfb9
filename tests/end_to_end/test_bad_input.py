"""Bad input through the real CLI: S1Tiling's exit code for each, and nothing an earlier good
run wrote is lost. Each test runs on its own copy of the good run's bucket (outputs, records,
product cache), so that what it finds afterwards can only come from the bad run."""

from __future__ import annotations

import itertools
import json

import pytest

from .conftest import (
    ASCENDING,
    GOOD_BUCKET,
    MISSING_DEM,
    PAIR,
    TILE,
    clone_bucket,
    keys,
    output_keys,
    run_cli,
    snapshot,
    write_request,
)

pytestmark = [pytest.mark.s3, pytest.mark.slow]

_COPIES = itertools.count()
COLLECTION = "out/s1tiling-sigma0/collection.json"
#: G's acquisition: (stamp, direction_orbit).
G = ("20200121t175000", ASCENDING[1])


def _copy_of_good_run(good_run, moto) -> tuple[str, dict[str, str]]:
    """A bucket holding what the good run left: its name and its objects (key -> SHA-256)."""
    client = moto.client()
    bucket = f"after-good-run-{next(_COPIES)}"
    clone_bucket(client, GOOD_BUCKET, bucket)
    before = snapshot(client, bucket)
    assert before.keys() == good_run.objects.keys()
    return bucket, before


@pytest.fixture
def copy_of_good_run(good_run, moto):
    return _copy_of_good_run(good_run, moto)


@pytest.fixture(scope="module")
def shared_copy_of_good_run(good_run, moto):
    """One copy for the runs that must write nothing at all (each test checks it)."""
    return _copy_of_good_run(good_run, moto)


def test_a_corrupted_product_gives_71_and_every_other_product(copy_of_good_run, provider, archive,
                                                              moto, cli_env, tmp_path):
    """The broken catalog: C has no manifest, G (orbit 73, 2020-01-21) is sound; the pair and D
    are already made, and stay as they are."""
    bucket, before = copy_of_good_run
    config = write_request(tmp_path / "request.cfg", bucket=bucket, endpoint=moto.endpoint,
                           eodag_config=provider.configs["broken"],
                           DataSource={"last_date": "2020-01-31"})
    run = run_cli(config, cli_env, moto)
    assert run.code == 71, run.output[-4000:]
    client = moto.client()
    after = snapshot(client, bucket)
    # Nothing already written is lost: products, quicklooks, items and the product cache are
    # byte-equal; only the collection (the catalog's shared document) gains G's item, and the
    # runner's records (tmp) and its page (run.json, index.html) follow what it did.
    products = {k: v for k, v in before.items() if not k.startswith("tmp/") and k != COLLECTION
                and k not in ("out/index.html", "out/run.json")}
    assert {k: after.get(k) for k in products} == products
    links = json.loads(client.get_object(Bucket=bucket, Key=COLLECTION)["Body"].read())["links"]
    items = sorted(link["href"].split("/")[1] for link in links if link["rel"] == "item")
    assert items == sorted(f"s1a_{TILE}_{orbit}_{stamp}" for stamp, orbit in (PAIR, ASCENDING, G))
    made = sorted(k for k in set(after) - set(before) if k.startswith("out/"))
    assert made == sorted(output_keys(*G))  # G's products: every other product is made
    assert not [k for k in after if k.startswith("out/") and "20200120" in k]
    assert f"Computation failure: 's1a_{TILE}_DES_007_20200120t044150' cannot be produced because " \
           "of CorruptedDataSAFEError" in run.output
    # C is not in the cache (nothing unverified is published); G was ingested once. Of the
    # intermediates, only the tile's heights are kept: C's ortho needs them at the next run.
    cache = {k.split("/")[1] for k in after if k.startswith("s1/")}
    assert cache == {f"{archive.id(r)}.SAFE" for r in "ABDG"}
    assert [k for k in after if k.startswith("tmp/") and k.endswith(".tif")] == [
        f"tmp/S2/{TILE}/DEM_GEOID_projected_on_{TILE}.tif"]
    reads = run.product_reads("broken")
    assert set(reads.values()) == {1}
    assert {k.split("/")[2] for k in reads} == {f"{archive.id(r)}.SAFE" for r in "CG"}


@pytest.mark.parametrize(("case", "code", "message"), [
    ("missing DEM tile", 75, "MissingDEMError: Some DEM tiles are missing, exiting..."),
    ("unknown tile", 73, "NoS2TileError"),
    ("bad key value", 72, "orbit_direction"),
    ("unreachable provider", 67, "1 search failures"),
])
def test_bad_input_exit_codes(case, code, message, shared_copy_of_good_run, provider, moto, cli_env,
                              tmp_path):
    bucket, before = shared_copy_of_good_run
    changes = {
        "missing DEM tile": {"Paths": {"dem_dir": "s3://dem/srtm-partial"}},
        "unknown tile": {"Processing": {"tiles": "31TZV"}, "DataSource": {"roi_by_tiles": "31TZV"}},
        "bad key value": {"DataSource": {"orbit_direction": "NORTH"}},
        "unreachable provider": {"DataSource": {"eodag_config": str(provider.configs["dead"]),
                                                "last_date": "2020-01-31"}},
    }[case]
    config = write_request(tmp_path / "request.cfg", bucket=bucket, endpoint=moto.endpoint,
                           eodag_config=provider.configs["good"], **changes)
    run = run_cli(config, cli_env, moto)
    assert run.code == code, run.output[-4000:]
    assert message in run.output
    if case == "missing DEM tile":
        assert MISSING_DEM.removesuffix(".hgt") in run.output
    if case == "bad key value":
        assert "NORTH" in run.output and str(config) in run.output
    # Nothing written at all: the earlier outputs are intact, byte for byte.
    assert run.writes() == []
    assert snapshot(moto.client(), bucket) == before
    assert keys(moto.client(), bucket, "out/") == sorted(k for k in before if k.startswith("out/"))
