"""Rasters by URI (local, file://, s3://) for GDAL and fsspec, configured the same way.

S3 endpoint and credentials come from a `storage_options` dict (s3fs's keys: `key`, `secret`,
`token`, `anon`, `endpoint_url` or `client_kwargs={"endpoint_url", "region_name"}`) or, without
one, from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL`,
`AWS_REGION`...), never from code. GDAL reads objects through `/vsis3/`; fsspec (s3fs) lists
and checks them. To move into the package's `store` module when it exists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import fsspec
import rasterio
from rasterio.session import AWSSession

__all__ = ["gdal_path", "is_file", "is_remote", "join", "open_bytes", "raster_env"]

_VSI = {"s3": "/vsis3/", "gs": "/vsigs/", "http": "/vsicurl/http://", "https": "/vsicurl/https://"}


def is_remote(uri: str) -> bool:
    return urlsplit(str(uri)).scheme in _VSI


def join(base: str, name: str) -> str:
    """`name` (maybe with sub-folders) under a folder or an s3:// prefix."""
    base = str(base)
    if is_remote(base):
        return base.rstrip("/") + "/" + name.lstrip("/")
    return os.path.join(_local(base), name)


def gdal_path(uri: str | os.PathLike) -> str:
    """The path GDAL opens for a URI: `/vsis3/bucket/key` for `s3://bucket/key`."""
    uri = str(uri)
    scheme = urlsplit(uri).scheme
    if scheme in ("s3", "gs"):
        return _VSI[scheme] + uri.split("://", 1)[1]
    if scheme in ("http", "https"):
        return "/vsicurl/" + uri
    return _local(uri)


def is_file(uri: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    """Whether a file (not a folder or a prefix) exists, locally or in object storage."""
    if not is_remote(uri):
        return os.path.isfile(_local(uri))
    fs, path = fsspec.core.url_to_fs(uri, **dict(storage_options or {}))
    return bool(fs.isfile(path))


def open_bytes(uri: str, storage_options: Mapping[str, Any] | None = None) -> bytes:
    """The whole content of a (small) file, local or remote."""
    with fsspec.open(uri, "rb", **(dict(storage_options or {}) if is_remote(uri) else {})) as f:
        return f.read()


def raster_env(storage_options: Mapping[str, Any] | None = None, **options: Any) -> rasterio.Env:
    """A rasterio.Env in which GDAL reaches object storage as fsspec does with the same options."""
    gdal, session = _s3_gdal_options(storage_options)
    return rasterio.Env(session=session, GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR", **gdal, **options)


def _local(uri: str) -> str:
    return uri[len("file://"):] if uri.startswith("file://") else uri


def _s3_gdal_options(storage_options: Mapping[str, Any] | None) -> tuple[dict[str, str], AWSSession | None]:
    """GDAL config options and rasterio session from s3fs-style options or the environment."""
    so = dict(storage_options or {})
    client = dict(so.get("client_kwargs") or {})
    endpoint = so.get("endpoint_url") or client.get("endpoint_url")
    region = client.get("region_name") or so.get("region_name")
    options: dict[str, str] = {}
    if endpoint is None and not os.environ.get("AWS_S3_ENDPOINT"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else "https://" + endpoint)
        options["AWS_S3_ENDPOINT"] = parts.netloc + parts.path.rstrip("/")
        options["AWS_HTTPS"] = "NO" if parts.scheme == "http" else "YES"
        options["AWS_VIRTUAL_HOSTING"] = "FALSE"  # custom endpoints: path-style addressing
    if region:
        options["AWS_REGION"] = str(region)
    session = None
    if so.get("anon"):
        session = AWSSession(aws_unsigned=True, region_name=region)
    elif so.get("key") or so.get("secret"):
        session = AWSSession(aws_access_key_id=so.get("key"), aws_secret_access_key=so.get("secret"),
                             aws_session_token=so.get("token"), region_name=region)
    return options, session
