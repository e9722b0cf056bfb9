"""A Sentinel-1 data provider for tests: SAFE products in an S3 API server, a static STAC
catalog over them, and the eodag configuration that searches and downloads them.

The tests use eodag itself, with a provider of type `StaticStacSearch` over a
catalog served from the test S3 server and downloads by `AwsDownload` from it. This module
builds that provider from products made by `s1tiling_cloud.testing.write_grd`:

>>> url = publish_products([safe_a, safe_b], "provider", "s1", endpoint)   # doctest: +SKIP
>>> write_eodag_config(tmp / "eodag.yml", "teststac", url, endpoint)        # doctest: +SKIP

Item properties carry the names and values eodag 4 uses for Sentinel-1 (`platform` "S1A",
`sat:orbit_state` "descending", `sar:polarizations` ["VV", "VH"]...), so that eodag's
property filters work on them. The catalog is public (moto answers anonymous GETs); the
products are read with the credentials written in the eodag configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import yaml

from s1tiling_cloud.safe.manifest import Manifest, parse_manifest

__all__ = [
    "MOTO_KEY",
    "MOTO_SECRET",
    "item_for",
    "publish_products",
    "unreachable_catalog_url",
    "write_eodag_config",
]

#: moto's test credentials (any non-empty value works with moto; never real ones).
MOTO_KEY = MOTO_SECRET = "testing"
REGION = "us-east-1"
COLLECTION = "S1_SAR_GRD"
_SAR = "https://stac-extensions.github.io/sar/v1.0.0/schema.json"
_SAT = "https://stac-extensions.github.io/sat/v1.0.0/schema.json"


def s3_client(endpoint: str, key: str = MOTO_KEY, secret: str = MOTO_SECRET):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def _iso(value: Any) -> str:
    return str(value.astype("datetime64[us]")) + "Z"


def _product_name(path: Path) -> str:
    return path.name.removesuffix(".SAFE").removesuffix(".zip")


def item_for(manifest: Manifest, product_id: str, href: str) -> dict[str, Any]:
    """A STAC item for one product: its manifest facts under the SAR and SAT extensions."""
    lons = [lon for lon, _ in manifest.footprint]
    lats = [lat for _, lat in manifest.footprint]
    start, stop = _iso(manifest.start_time), _iso(manifest.stop_time)
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [_SAR, _SAT],
        "id": product_id,
        "collection": COLLECTION,
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in manifest.footprint]]},
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "properties": {
            "datetime": start,
            "start_datetime": start,
            "end_datetime": stop,
            "platform": f"S1{manifest.mission_letter}",
            "constellation": "SENTINEL1",
            "instruments": ["c-sar"],
            "sat:relative_orbit": manifest.relative_orbit,
            "sat:absolute_orbit": manifest.absolute_orbit,
            "sat:orbit_state": manifest.orbit_state,
            "sar:instrument_mode": manifest.instrument_mode,
            "sar:polarizations": list(manifest.polarizations),
            "sar:product_type": manifest.product_type,
            "sar:frequency_band": "C",
        },
        "assets": {
            "product": {"href": href, "title": "SAFE product folder", "roles": ["data"]},
        },
        "links": [],
    }


def _upload_folder(client, folder: Path, bucket: str, key: str, skip: Collection[str]) -> None:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in skip:
            client.upload_file(str(path), bucket, f"{key}/{relative}")


def put_json(client, bucket: str, key: str, document: dict[str, Any]) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(document, indent=1).encode(),
                      ContentType="application/json", ACL="public-read")


class CatalogOnS3:
    """A static STAC catalog being written to the S3 API server: items under `items/`, then
    `catalog.json` linking them (what eodag's `StaticStacSearch` reads)."""

    def __init__(self, s3_endpoint: str, bucket: str, prefix: str) -> None:
        self.client = s3_client(s3_endpoint)
        with contextlib.suppress(self.client.exceptions.BucketAlreadyOwnedByYou):
            self.client.create_bucket(Bucket=bucket)
        self.endpoint, self.bucket, self.base = s3_endpoint, bucket, prefix.strip("/")
        self.links = [{"rel": "root", "href": "./catalog.json", "type": "application/json"},
                      {"rel": "self", "href": f"{self.url}", "type": "application/json"}]

    @property
    def url(self) -> str:
        return f"{self.endpoint}/{self.bucket}/{self.base}/catalog.json"

    def add_item(self, name: str, item: dict[str, Any]) -> None:
        item["links"] = [{"rel": "root", "href": "../catalog.json", "type": "application/json"},
                         {"rel": "parent", "href": "../catalog.json", "type": "application/json"}]
        put_json(self.client, self.bucket, f"{self.base}/items/{name}.json", item)
        self.links.append({"rel": "item", "href": f"./items/{name}.json",
                           "type": "application/geo+json"})

    def close(self, description: str) -> str:
        """Write `catalog.json`; its URL."""
        catalog = {"type": "Catalog", "stac_version": "1.0.0",
                   "id": f"{self.bucket}-{self.base}".replace("/", "-"),
                   "description": description, "links": self.links}
        put_json(self.client, self.bucket, f"{self.base}/catalog.json", catalog)
        return self.url


def publish_products(products: Sequence[str | os.PathLike], bucket: str, prefix: str,
                     s3_endpoint: str, *, missing_manifest: Collection[str] = (),
                     offline: Collection[str] = ()) -> str:
    """Upload SAFE folders to `s3://bucket/prefix/products/` and a static catalog over them.

    Returns the catalog's HTTP URL on the S3 API server (what `StaticStacSearch` reads).
    `missing_manifest`: product names whose `manifest.safe` is not uploaded, while their item
    still says what the manifest said: a broken product on the provider's side.
    `offline`: product names listed in the catalog but with no file uploaded (eodag then says
    the product is not available, as for an offline product).
    """
    catalog = CatalogOnS3(s3_endpoint, bucket, prefix)
    for product in map(Path, products):
        name = _product_name(product)
        if not (product / "manifest.safe").is_file():
            raise ValueError(f"{product} is not a SAFE folder with a manifest")
        manifest = parse_manifest((product / "manifest.safe").read_bytes(), str(product))
        key = f"{catalog.base}/products/{name}.SAFE"
        skip = {"manifest.safe"} if name in missing_manifest else set()
        if name not in offline:
            _upload_folder(catalog.client, product, bucket, key, skip)
        catalog.add_item(name, item_for(manifest, name, f"s3://{bucket}/{key}"))
    return catalog.close("Sentinel-1 IW GRD products for tests")


def unreachable_catalog_url() -> str:
    """A catalog URL on a loopback port where nothing listens: every search there fails."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nowhere/catalog.json"


def write_eodag_config(path: str | os.PathLike, provider_name: str, catalog_url: str,
                       s3_endpoint: str, *, credentials: dict[str, str] | None = None,
                       timeout: int = 5, priority: int = 10) -> Path:
    """An eodag user configuration declaring one provider over a static catalog.

    Search: `StaticStacSearch` of `catalog_url`; download: `AwsDownload` from the S3 API
    server (`s3_endpoint` in both `download` and `auth`, which builds the boto3 client).
    `credentials` default to moto's test keys.
    """
    creds = credentials if credentials is not None else {
        "aws_access_key_id": MOTO_KEY, "aws_secret_access_key": MOTO_SECRET}
    provider = {
        "name": provider_name,
        "priority": priority,
        "description": "Sentinel-1 products of a static STAC catalog on an S3 API server",
        "roles": ["host"],
        "url": catalog_url,
        "search": {"type": "StaticStacSearch", "api_endpoint": catalog_url, "timeout": timeout,
                   # AwsDownload starts from the product's remote location: the SAFE prefix.
                   "metadata_mapping": {"eodag:download_link": "$.assets.product.href"}},
        "products": {COLLECTION: {"_collection": COLLECTION},
                     "GENERIC_COLLECTION": {"_collection": "{collection}"}},
        "download": {"type": "AwsDownload", "s3_endpoint": s3_endpoint,
                     "flatten_top_dirs": True, "ssl_verify": False},
        "auth": {"type": "AwsAuth", "matching_url": "s3://", "s3_endpoint": s3_endpoint,
                 "credentials": creds},
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({provider_name: provider}, sort_keys=False))
    return target
