"""The ingest stage: eodag downloads a product from the S3 API server once, verified, into a
local or an s3:// cache; a second ingest does not contact the provider; a broken product on
the provider's side is a typed error with S1Tiling's exit code."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from s1tiling_cloud import exits
from s1tiling_cloud.exceptions import (
    CorruptedDataSAFEError,
    DownloadTimeoutError,
    exit_code_for,
)
from s1tiling_cloud.safe import Sentinel1Product
from s1tiling_cloud.search import cache_uri, eodag_compat, find_products
from s1tiling_cloud.search.eodag_search import search_tile
from s1tiling_cloud.stages.ingest import ingest
from s1tiling_cloud.stages.registry import run_stage
from tests.providers.stac_provider import (
    publish_products,
    unreachable_catalog_url,
    write_eodag_config,
)
from tests.s3server import s3_client, storage_options

from .conftest import TILE, make_request

pytestmark = pytest.mark.s3


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def candidates(dag, tmp_path_factory):
    """The search's candidates over 31TCJ, by product id."""
    found = search_tile(dag, make_request(tmp_path_factory.mktemp("request")), TILE)
    return {c.id: c for c in found}


@pytest.fixture
def unreachable_config(tmp_path, s3_server) -> str:
    """An eodag configuration whose provider cannot be reached at all."""
    return str(write_eodag_config(tmp_path / "dead.yml", "deadstac", unreachable_catalog_url(),
                                  "http://127.0.0.1:9"))


def unreachable(product: dict) -> dict:
    """The product as a plan carries it, but pointing at nothing: a download would fail."""
    moved = copy.deepcopy(product)
    for asset in moved["eodag"]["assets"].values():
        asset["href"] = "s3://no-such-bucket/nothing"
    moved["eodag"]["properties"]["eodag:provider"] = "deadstac"
    return moved


def test_ingest_into_a_local_cache_once(candidates, archive, provider, tmp_path, unreachable_config):
    product = json.loads(json.dumps(candidates[archive.id("C")].to_dict()))  # as a plan carries it
    destination = cache_uri(str(tmp_path / "s1"), archive.id("C"))
    result = run_stage("ingest", {"product": product, "destination": destination,
                                  "eodag_config": str(provider.config), "wait_minutes": 0.01,
                                  "timeout_minutes": 0.02})
    assert (result.stage, result.outputs, result.skipped) == ("ingest", [destination], False)
    assert result.details["files"] == len(digests(archive.paths["C"]))
    assert digests(Path(destination)) == digests(archive.paths["C"])
    assert sorted(p.name for p in (tmp_path / "s1").iterdir()) == [Path(destination).name]
    assert Sentinel1Product(destination).polarisations("IW") == ["VV", "VH"]
    # Again: the cache answers, the (now unreachable) provider is not asked.
    again = ingest(unreachable(product), destination, eodag_config=unreachable_config)
    assert (again.outputs, again.skipped) == ([destination], True)


def test_ingest_into_an_s3_cache_once(candidates, archive, provider, s3_server, tmp_path,
                                      unreachable_config):
    options = storage_options(s3_server)
    client = s3_client(s3_server)
    client.create_bucket(Bucket="cache")
    product = candidates[archive.id("D")].to_dict()
    destination = cache_uri("s3://cache/s1", archive.id("D"))
    assert destination == f"s3://cache/s1/{archive.id('D')}.SAFE"
    result = ingest(product, destination, eodag_config=str(provider.config),
                    storage_options=options)
    assert (result.outputs, result.skipped) == ([destination], False)
    listed = client.list_objects_v2(Bucket="cache", Prefix=f"s1/{archive.id('D')}.SAFE/")
    keys = {o["Key"].split(".SAFE/", 1)[1] for o in listed["Contents"]}
    assert keys == set(digests(archive.paths["D"]))
    assert Sentinel1Product(destination, storage_options=options).manifest.relative_orbit == 73
    again = ingest(unreachable(product), destination, eodag_config=unreachable_config,
                   storage_options=options)
    assert again.skipped
    # The search now finds D in the s3:// cache: the planner will not ingest it again.
    request = make_request(tmp_path, s1_images="s3://cache/s1")
    outcome = find_products(request, dag=eodag_compat.open_gateway(provider.config),
                            storage_options=options)
    located = {c.id: c.location for c in outcome.per_tile[TILE]}
    assert located[archive.id("D")] == destination
    assert located[archive.id("C")] is None


@pytest.fixture(scope="module")
def broken_provider(archive, s3_server, tmp_path_factory):
    """A provider where C lacks its manifest and B has no file at all (offline)."""
    broken, offline = archive.id("C"), archive.id("B")
    url = publish_products([archive.paths["C"], archive.paths["B"]], "provider", "broken",
                           s3_server, missing_manifest=[broken], offline=[offline])
    config = write_eodag_config(tmp_path_factory.mktemp("broken") / "eodag.yml", "badstac", url,
                                s3_server)
    found = search_tile(eodag_compat.open_gateway(config),
                        make_request(tmp_path_factory.mktemp("request")), TILE)
    return config, {c.id: c for c in found}


def test_a_product_without_manifest_is_corrupted(broken_provider, archive, tmp_path):
    config, found = broken_provider
    destination = cache_uri(str(tmp_path / "s1"), archive.id("C"))
    with pytest.raises(CorruptedDataSAFEError, match="no manifest.safe") as caught:
        ingest(found[archive.id("C")].to_dict(), destination, eodag_config=str(config))
    assert exit_code_for(caught.value) == exits.CORRUPTED_DATA_SAFE == 71
    assert list((tmp_path / "s1").iterdir()) == []  # nothing published, no scratch left


def test_an_offline_product_is_a_download_timeout(broken_provider, archive, tmp_path):
    config, found = broken_provider
    destination = cache_uri(str(tmp_path / "s1"), archive.id("B"))
    with pytest.raises(DownloadTimeoutError) as caught:
        ingest(found[archive.id("B")].to_dict(), destination, eodag_config=str(config),
               wait_minutes=0.01, timeout_minutes=0.02)
    assert exit_code_for(caught.value) == exits.OFFLINE_DATA
    assert archive.id("B") in str(caught.value)
    # Counted as S1Tiling counts it: a failed download that is a timeout, alone: exit 68.
    situation = exits.Situation(nb_download_failures=1, nb_download_timeouts=1)
    assert situation.code == exits.OFFLINE_DATA
    assert not Path(destination).exists()


@pytest.mark.parametrize("kind", ["measurement", "annotation"])
def test_a_file_whose_md5_is_not_the_manifests_is_a_corrupted_product(archive, kind, tmp_path):
    """4 KB of 0xFF in a file (its size unchanged): the manifest's MD5 tells, at ingest."""
    import shutil

    from s1tiling_cloud.search.ingest import verify_safe_folder

    product = tmp_path / Path(archive.paths["C"]).name
    shutil.copytree(archive.paths["C"], product)
    assert verify_safe_folder(product, archive.id("C")).files  # intact: accepted
    victim = next(p for p in sorted((product / kind).glob("*")) if p.is_file())
    data = bytearray(victim.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = b"\xff" * len(data[middle:middle + 4096])
    victim.write_bytes(bytes(data))
    with pytest.raises(CorruptedDataSAFEError) as caught:
        verify_safe_folder(product, archive.id("C"))
    assert exit_code_for(caught.value) == 71
    assert victim.name in str(caught.value) and "MD5" in str(caught.value)
