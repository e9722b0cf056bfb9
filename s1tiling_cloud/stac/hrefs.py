"""Hrefs: what a consumer can open (s3:// or https), and relative links inside the static catalog.

Asset hrefs are absolute, since items travel to a STAC API where a relative href means nothing:
the product's own URI (`s3://bucket/key` or a local path), or its https address when a public
base URL is configured (`[Stac] public_url` replaces `s3://bucket`). Links between catalog
documents are relative, so the catalog can be copied or served from anywhere.
"""

from __future__ import annotations

import os
import posixpath
from urllib.parse import urlsplit

__all__ = ["consumer_href", "relative_href", "resolve_href", "sibling"]


def _parts(uri: str) -> tuple[str, str, str]:
    """(scheme, bucket, absolute posix path) of a local path, file:// or s3:// URI."""
    parts = urlsplit(uri)
    if parts.scheme in ("s3", "s3a"):
        return "s3", parts.netloc, "/" + parts.path.lstrip("/")
    if parts.scheme == "file":
        return "file", "", os.path.abspath(parts.path)
    if parts.scheme in ("", ) or len(parts.scheme) == 1:
        return "file", "", os.path.abspath(uri)
    return parts.scheme, parts.netloc, parts.path or "/"


def _unparse(scheme: str, bucket: str, path: str) -> str:
    if scheme == "file":
        return path
    return f"{scheme}://{bucket}{path}"


def consumer_href(uri: str, public_url: str | None = None) -> str:
    """The href a consumer opens: `public_url/key` for `s3://bucket/key` when given, else the URI.

    Local paths become absolute; https/http URIs pass through.
    """
    scheme, bucket, path = _parts(uri)
    if scheme == "s3" and public_url:
        return public_url.rstrip("/") + path
    return _unparse(scheme, bucket, path)


def relative_href(from_document: str, to_uri: str) -> str:
    """`to_uri` relative to the folder of `from_document` (both in one bucket or filesystem)."""
    s1, b1, p1 = _parts(from_document)
    s2, b2, p2 = _parts(to_uri)
    if (s1, b1) != (s2, b2):
        return _unparse(s2, b2, p2)
    relative = posixpath.relpath(p2, posixpath.dirname(p1))
    return relative if relative.startswith(".") else f"./{relative}"


def resolve_href(from_document: str, href: str) -> str:
    """An href found in `from_document` as an absolute URI (relative ones against its folder)."""
    if urlsplit(href).scheme and len(urlsplit(href).scheme) > 1 or href.startswith("/"):
        return href
    scheme, bucket, path = _parts(from_document)
    return _unparse(scheme, bucket, posixpath.normpath(posixpath.join(posixpath.dirname(path), href)))


def sibling(document: str, *names: str) -> str:
    """A URI under the folder of `document` (e.g. a collection next to the root catalog)."""
    scheme, bucket, path = _parts(document)
    return _unparse(scheme, bucket, posixpath.join(posixpath.dirname(path), *names))
