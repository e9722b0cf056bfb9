"""A request living in object storage: s3:// paths, `[Storage]`, a tiles file and DEM tiles in a
bucket, against the real S3 API server (`moto_server` over HTTP); credentials from the environment."""

from __future__ import annotations

import uuid

import pytest

from s1tiling_cloud.config import Configuration, load_request
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import write_dem_tiles
from tests.s3server import KEY, REGION, SECRET, s3_client, upload

from .conftest import MINIMAL_CFG, edit_cfg

pytestmark = pytest.mark.s3


@pytest.fixture
def bucket(s3_server):
    name = f"cfg-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=name)
    return name


@pytest.fixture
def aws_env(monkeypatch, s3_server):
    """Credentials and the endpoint where S3 clients look for them: the environment."""
    for name, value in {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                        "AWS_ENDPOINT_URL": s3_server, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


def s3_request_text(bucket: str, endpoint: str, **extra: str) -> str:
    return edit_cfg(MINIMAL_CFG, {
        ("Paths", "output"): f"s3://{bucket}/out", ("Paths", "s1_images"): f"s3://{bucket}/raw",
        ("Paths", "tmp"): f"s3://{bucket}/tmp", ("Paths", "dem_dir"): f"s3://{bucket}/dem",
        ("Paths", "eof_dir"): f"s3://{bucket}/eof",
        ("Processing", "tiles_list_in_file"): f"s3://{bucket}/requests/tiles.txt",
        ("Processing", "tiles"): None,
        ("Storage", "endpoint_url"): endpoint, ("Storage", "region"): REGION,
        ("Storage", "addressing_style"): "path",
        **{("Storage", key): value for key, value in extra.items()},
    })


def test_request_read_from_a_bucket_reaches_its_storage(s3_server, bucket, aws_env, tmp_path):
    client = s3_client(s3_server)
    client.put_object(Bucket=bucket, Key="requests/tiles.txt", Body=b"31TCJ\n33NWB\n")
    client.put_object(Bucket=bucket, Key="requests/campaign.cfg",
                      Body=s3_request_text(bucket, s3_server, verify_ssl="False").encode())

    request = load_request(f"s3://{bucket}/requests/campaign.cfg", environ={})
    assert request.source == f"s3://{bucket}/requests/campaign.cfg"
    assert request.processing.tiles == ["31TCJ", "33NWB"]
    assert (request.paths.tmp, request.paths.eof, request.paths.lia_dir) == (
        f"s3://{bucket}/tmp", f"s3://{bucket}/eof", f"s3://{bucket}/out/_LIA")
    options = request.storage.storage_options()
    assert options == {"endpoint_url": s3_server, "region": REGION, "virtual_hosting": False,
                       "client_kwargs": {"verify": False}}

    store = Store(options, scratch_dir=tmp_path)
    assert store.s3.verify is False and store.storage_options["client_kwargs"]["verify"] is False
    store.write_bytes(f"{request.paths.output}/probe.txt", b"written with the request's storage")
    assert store.read_bytes(f"{request.paths.output}/probe.txt") == b"written with the request's storage"


def test_dem_tiles_in_a_bucket(s3_server, bucket, aws_env, tmp_path):
    local = tmp_path / "dem"
    for path in write_dem_tiles(80.0, (43, 45), (0, 2), local, kind="srtm3"):
        if path.name != "N44E000.hgt":  # one is missing from the bucket
            upload(s3_server, bucket, path, prefix="dem")
    s3_client(s3_server).put_object(Bucket=bucket, Key="requests/tiles.txt", Body=b"31TCJ\n")
    text = s3_request_text(bucket, s3_server)
    config = Configuration.from_text(text, f"s3://{bucket}/requests/campaign.cfg", environ={})
    dems = config.get_dems_covering_s2_tile("31TCJ", check=False)
    assert sorted(dems) == ["N43E000", "N43E001", "N44E000", "N44E001"]
    assert dems["N43E001"]["uri"] == f"s3://{bucket}/dem/N43E001.hgt" and dems["N43E001"]["exists"]
    assert [name for name, info in dems.items() if not info["exists"]] == ["N44E000"]
