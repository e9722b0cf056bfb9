"""A Sentinel-1 archive behind a real eodag provider, a `.cfg` on object storage, and one good
run of `s1tiling-cloud process` that the end-to-end tests share.

Everything talks HTTP to one `moto_server` started here with `tests.s3server.start_server`
(the same server the `s3_server` fixture starts, but ours alone): its request log is the
evidence of what each run read and wrote, so no other test may share it.

The archive (synthetic GRDM products, 600 x 800 pixels at 40 m, on S2 tile 31TCJ unless said):

* A, B: two consecutive slices of one pass (2020-01-08, relative orbit 7, descending): a pair;
* C: the same place 12 days later (2020-01-20): outside the request's dates;
* D: another orbit (2020-01-09, relative orbit 73, ascending);
* E: a product over another tile (31TFP);
* G: orbit 73 again on 2020-01-21, only in the broken catalog (`test_bad_input`).

Buckets: `provider` (the SAFE products and the STAC catalogs eodag searches), `dem` (SRTM3
tiles: `srtm/` complete, `srtm-partial/` one tile short) and `e2e` (the good run's
`s1_images`, `tmp` and `output`). DEM tiles are on object storage too, read through /vsis3/.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.geo.s2tile import S2Tile
from s1tiling_cloud.testing import SyntheticGRD, write_dem_tiles, write_grd
from tests.providers.stac_provider import (
    publish_products,
    unreachable_catalog_url,
    write_eodag_config,
)
from tests.s3server import KEY, REGION, SECRET, S3Server, s3_client, start_server, stop_server

TILE = "31TCJ"
OTHER_TILE = "31TFP"
#: Output spacing of the requests: coarse, so that a whole run takes seconds.
RESOLUTION = 120
PROVIDERS = {"good": "e2estac", "broken": "badstac", "dead": "deadstac"}
GOOD_BUCKET = "e2e"
DEM_BUCKET = "dem"
#: The SRTM cell left out of `srtm-partial/`: 31TCJ needs it.
MISSING_DEM = "N44E001.hgt"

WRITES = frozenset({"PUT", "POST", "DELETE"})
_LOG_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[0-9.]+(?:\x1b\[[0-9;]*m)*" (\d{3})')


# --------------------------------------------------------------------------- the S3 API server

@dataclass(frozen=True)
class Call:
    """One HTTP request the S3 server answered."""

    method: str
    bucket: str
    key: str
    query: str
    status: int


class RequestLog:
    """moto_server's own access log, read between two marks (byte offsets)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Wait until the log stops growing: the server writes a request's line after its
        response, so a client that just exited may still have lines to come."""
        size, deadline = self.mark(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(quiet)
            if (now := self.mark()) == size:
                return
            size = now

    def since(self, mark: int, until: int | None = None) -> list[Call]:
        with self.path.open("rb") as log:
            log.seek(mark)
            text = log.read(None if until is None else until - mark).decode(errors="replace")
        calls = []
        for found in _LOG_LINE.finditer(text):
            method, target, status = found.groups()
            path, _, query = target.partition("?")
            bucket, _, key = path.lstrip("/").partition("/")
            calls.append(Call(method, bucket, key, query, int(status)))
        return calls


@dataclass
class Moto:
    server: S3Server
    log: RequestLog

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def client(self):
        return s3_client(self.endpoint)


@pytest.fixture(scope="package")
def moto():
    server = start_server()
    try:
        yield Moto(server, RequestLog(server.log))
    finally:
        stop_server(server)


def keys(client, bucket: str, prefix: str = "") -> list[str]:
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(o["Key"] for o in page.get("Contents", []))
    return sorted(found)


def snapshot(client, bucket: str, prefix: str = "") -> dict[str, str]:
    """Every object under `prefix`: its key and the SHA-256 of its bytes."""
    return {key: hashlib.sha256(client.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
            for key in keys(client, bucket, prefix)}


def clone_bucket(client, source: str, target: str) -> None:
    """A new bucket holding a server-side copy of every object of `source`."""
    client.create_bucket(Bucket=target)
    for key in keys(client, source):
        client.copy_object(Bucket=target, Key=key, CopySource={"Bucket": source, "Key": key})


def rasters(folder: Path) -> dict[str, tuple[np.ndarray, dict[str, str]]]:
    """Every raster under `folder`: its pixels and its tags but the generation time."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".tif", ".jpg"):
            with rasterio.open(path) as dataset:
                tags = dataset.tags()
                tags.pop("TIFFTAG_DATETIME")
                found[path.relative_to(folder).as_posix()] = (dataset.read(), tags)
    return found


def assert_same_rasters(made: dict, reference: dict) -> None:
    """The same rasters as `reference` (`rasters`): names, pixels and tags."""
    assert sorted(made) == sorted(reference)
    for name, (pixels, tags) in reference.items():
        np.testing.assert_array_equal(made[name][0], pixels, err_msg=name)
        assert made[name][1] == tags, name


def download(client, bucket: str, prefix: str, folder: Path) -> Path:
    """Objects under `prefix` into `folder` (same relative paths): rasters with their sidecars."""
    for key in keys(client, bucket, prefix):
        target = folder / key[len(prefix):].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, key, str(target))
    return folder


# --------------------------------------------------------------------------- the archive

@dataclass
class Archive:
    """The written SAFE folders by role (A, B, C, D, E, G)."""

    paths: dict[str, Path] = field(default_factory=dict)

    def id(self, role: str) -> str:
        return self.paths[role].name.removesuffix(".SAFE")

    def files(self, role: str) -> list[str]:
        """The product's files, relative to its SAFE folder."""
        folder = self.paths[role]
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _specs() -> dict[str, SyntheticGRD]:
    base = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800,
                        pixel_spacing=40.0, speckle=False)
    other = S2Tile.from_name(OTHER_TILE).footprint.centroid
    ascending = base.replace(start="2020-01-09T17:50:00", absolute_orbit=30770,
                             orbit_direction="ASCENDING")
    return {
        "A": base,
        # The next slice: 3.6 s later, 24 km further along the descending track.
        "B": base.replace(center_lat=43.6 - 0.2123, center_lon=1.44 - 0.0515,
                          start="2020-01-08T04:41:53.600"),
        "C": base.replace(start="2020-01-20T04:41:50", absolute_orbit=30704 + 175),
        "D": ascending,
        "E": base.replace(center_lat=other.y, center_lon=other.x, start="2020-01-12T05:00:00",
                          absolute_orbit=30761),
        "G": ascending.replace(start="2020-01-21T17:50:00", absolute_orbit=30770 + 175),
    }


@pytest.fixture(scope="package")
def archive(tmp_path_factory) -> Archive:
    folder = tmp_path_factory.mktemp("archive")
    found = Archive({role: write_grd(spec, folder) for role, spec in _specs().items()})
    assert len({found.id(r) for r in found.paths}) == len(found.paths)
    return found


@dataclass
class Provider:
    """eodag configurations (by kind: good, broken, dead) and the product prefixes."""

    configs: dict[str, Path]

    @staticmethod
    def product_prefix(catalog: str, product_id: str) -> str:
        return f"{catalog}/products/{product_id}.SAFE/"


@pytest.fixture(scope="package")
def provider(archive, moto, tmp_path_factory) -> Provider:
    """The good catalog (A, B, C, D, E), the broken one (A, B, D, G and C without its
    manifest), and a provider that cannot be reached; an eodag configuration for each."""
    folder = tmp_path_factory.mktemp("eodag")
    good = publish_products([archive.paths[r] for r in "ABCDE"], "provider", "s1", moto.endpoint)
    broken = publish_products([archive.paths[r] for r in "ABCDG"], "provider", "broken",
                              moto.endpoint, missing_manifest=[archive.id("C")])
    urls = {"good": good, "broken": broken, "dead": unreachable_catalog_url()}
    return Provider({kind: write_eodag_config(folder / f"{kind}.yml", PROVIDERS[kind], url,
                                              moto.endpoint)
                     for kind, url in urls.items()})


@pytest.fixture(scope="package")
def dem(moto, tmp_path_factory) -> None:
    """Flat SRTM3 tiles over 31TCJ and a margin: `s3://dem/srtm/`, and `srtm-partial/`
    without `MISSING_DEM`."""
    folder = tmp_path_factory.mktemp("dem")
    lon0, lat0, lon1, lat1 = S2Tile.from_name(TILE).footprint.bounds
    tiles = write_dem_tiles(0.0, (lat0 - 0.05, lat1 + 0.05), (lon0 - 0.05, lon1 + 0.05), folder,
                            kind="srtm3")
    assert MISSING_DEM in {t.name for t in tiles}
    client = moto.client()
    client.create_bucket(Bucket=DEM_BUCKET)
    for tile in tiles:
        client.upload_file(str(tile), DEM_BUCKET, f"srtm/{tile.name}")
        if tile.name != MISSING_DEM:
            client.upload_file(str(tile), DEM_BUCKET, f"srtm-partial/{tile.name}")


# --------------------------------------------------------------------------- requests and runs

_REQUEST = {
    "Paths": {"output": "s3://{bucket}/out", "s1_images": "s3://{bucket}/s1",
              "tmp": "s3://{bucket}/tmp", "dem_dir": "s3://dem/srtm"},
    "DataSource": {"download": "True", "eodag_config": "{eodag_config}", "roi_by_tiles": TILE,
                   "polarisation": "VV-VH", "first_date": "2020-01-01", "last_date": "2020-01-15"},
    "Mask": {"generate_border_mask": "True"},
    "Quicklook": {"generate": "True"},
    "Processing": {"calibration": "sigma", "remove_thermal_noise": "True",
                   "output_spatial_resolution": str(RESOLUTION),
                   "orthorectification_gridspacing": str(4 * RESOLUTION), "tiles": TILE,
                   "nb_parallel_processes": "1", "ram_per_process": "1024", "nb_otb_threads": "1"},
    "Metadata": {"PROJECT": "s1tiling-cloud end-to-end"},
    "Storage": {"endpoint_url": "{endpoint}", "region": REGION, "addressing_style": "path"},
    "Stac": {"publish": "True"},
}


def write_request(path: Path, *, bucket: str, endpoint: str, eodag_config: Path,
                  **changes: dict[str, str]) -> Path:
    """The test request as a `.cfg` file; `changes` by section, e.g.
    `DataSource={"last_date": "2020-01-31"}`. No credentials in it: they come from the
    environment."""
    fields = {"bucket": bucket, "endpoint": endpoint, "eodag_config": eodag_config}
    lines = []
    for section, values in _REQUEST.items():
        lines.append(f"[{section}]")
        for key, value in {**values, **changes.get(section, {})}.items():
            lines.append(f"{key}: {value.format(**fields)}")
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def cli_command(config: Path) -> list[str]:
    script = Path(sys.executable).with_name("s1tiling-cloud")
    program = str(script) if script.exists() else shutil.which("s1tiling-cloud")
    if program is None:
        pytest.skip("the s1tiling-cloud command is not installed (pip install -e .)")
    return [program, "process", str(config)]


@pytest.fixture(scope="package")
def cli_env(tmp_path_factory) -> dict[str, str]:
    """The CLI's environment: S3 credentials (never in the .cfg), eodag's home in a temporary
    folder, and only the tests' providers (eodag would ask real ones when one finds nothing)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EODAG_"))}
    home = tmp_path_factory.mktemp("eodag-home")
    scratch = tmp_path_factory.mktemp("scratch")  # what a killed run leaves stays in pytest's tmp
    env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": str(home / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
                "EODAG_CFG_DIR": str(home), "EODAG_PROVIDERS_WHITELIST": json.dumps(list(PROVIDERS.values())),
                "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "COLUMNS": "200",
                "TMPDIR": str(scratch)})
    return env


@dataclass
class CliRun:
    code: int
    output: str  # stdout and stderr (the log) together
    calls: list[Call]

    def writes(self, bucket: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method in WRITES and bucket in (None, c.bucket)]

    def product_reads(self, catalog: str = "s1") -> Counter[str]:
        """GET requests per key of the provider's SAFE products (the downloads)."""
        return Counter(c.key for c in self.calls if c.method == "GET" and c.bucket == "provider"
                       and c.key.startswith(f"{catalog}/products/"))


def run_cli(config: Path, env: dict[str, str], moto: Moto, timeout: float = 300) -> CliRun:
    """`s1tiling-cloud process CONFIG` in a subprocess; its exit code, output and requests."""
    mark = moto.log.mark()
    done = subprocess.run(cli_command(config), env=env, cwd=config.parent, capture_output=True,
                          text=True, timeout=timeout)
    moto.log.settle()
    return CliRun(done.returncode, done.stdout + done.stderr, moto.log.since(mark))


@dataclass
class GoodRun:
    config: Path
    run_env: dict[str, str]
    run: CliRun
    objects: dict[str, str]  # the bucket's objects after the run: key -> SHA-256


@pytest.fixture(scope="package")
def good_run(moto, provider, dem, cli_env, tmp_path_factory) -> GoodRun:
    """The request through eodag into `s3://e2e`, run once by the CLI for every test."""
    client = moto.client()
    client.create_bucket(Bucket=GOOD_BUCKET)
    config = write_request(tmp_path_factory.mktemp("request") / "request.cfg", bucket=GOOD_BUCKET,
                           endpoint=moto.endpoint, eodag_config=provider.configs["good"])
    run = run_cli(config, cli_env, moto)
    assert run.code == 0, run.output[-6000:]
    return GoodRun(config, cli_env, run, snapshot(client, GOOD_BUCKET))


def final_names(stamp: str, orbit: str) -> list[str]:
    """The tile's final products of one acquisition: both polarisations and their masks."""
    names = [f"s1a_{TILE}_{pol}_{orbit}_{stamp}.tif" for pol in ("vv", "vh")]
    return names + [n.replace(".tif", "_BorderMask.tif") for n in names]


def quicklook_names(stamp: str, orbit: str) -> list[str]:
    names = [f"s1a_{TILE}_{pol}_{orbit}_{stamp}_quicklook.jpg" for pol in ("vv", "vh")]
    return names + [n + ".aux.xml" for n in names]


def output_keys(stamp: str, orbit: str) -> list[str]:
    """`out/` keys of one acquisition's products (rasters, quicklooks, STAC item)."""
    item = f"s1a_{TILE}_{orbit}_{stamp}"
    return ([f"out/{TILE}/{n}" for n in final_names(stamp, orbit)]
            + [f"out/_QL/{n}" for n in quicklook_names(stamp, orbit)]
            + [f"out/s1tiling-sigma0/{item}/{item}.json"])


PAIR = ("20200108txxxxxx", "DES_007")
ASCENDING = ("20200109t175000", "ASC_073")
