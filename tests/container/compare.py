"""What "the same output" means for two runs of a stage: every object under a prefix, and for
rasters the pixels byte for byte, the georeferencing and the tags (all but TIFFTAG_DATETIME,
the write time); for JSON documents (STAC items, collections, catalogs) everything but what
follows from the write time: `created`, `updated`, `processing:datetime`, and the assets'
`file:checksum` (a COG's bytes hold its TIFFTAG_DATETIME), which `checksum_problems` checks
against each run's own files instead."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from typing import Any

from rasterio.io import MemoryFile

#: Tags that say when a file was written, not what it holds.
WRITE_TIME_TAGS = ("TIFFTAG_DATETIME",)
RASTER_SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png")
_TIME_ITEM = re.compile(r'\s*<MDI key="TIFFTAG_DATETIME">[^<]*</MDI>')
#: JSON keys that say when a document or an asset was written, or follow from it.
WRITE_TIME_KEYS = ("created", "updated", "processing:datetime", "file:checksum")


def without_write_times(value: Any) -> Any:
    """A JSON value without its `WRITE_TIME_KEYS`, at any depth."""
    if isinstance(value, dict):
        return {k: without_write_times(v) for k, v in value.items() if k not in WRITE_TIME_KEYS}
    if isinstance(value, list):
        return [without_write_times(v) for v in value]
    return value


def snapshot(client: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object under `prefix`: key -> bytes."""
    objects: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return objects


def empty(client: Any, bucket: str, prefix: str = "") -> None:
    for key in snapshot(client, bucket, prefix):
        client.delete_object(Bucket=bucket, Key=key)


def signature(name: str, data: bytes) -> dict[str, Any]:
    """What must be equal between two runs: for a raster, its content without the write time."""
    if name.endswith(".json"):
        return {"json": without_write_times(json.loads(data))}
    if not name.lower().endswith(RASTER_SUFFIXES):
        text = data.decode("utf-8", errors="replace")
        return {"text": _TIME_ITEM.sub("", text)} if name.endswith(".xml") else {
            "sha256": hashlib.sha256(data).hexdigest()}
    with MemoryFile(data) as memory, memory.open() as dataset:
        return {
            "driver": dataset.driver,
            "shape": (dataset.count, dataset.height, dataset.width),
            "dtypes": dataset.dtypes,
            "crs": dataset.crs.to_wkt() if dataset.crs else None,
            "transform": tuple(dataset.transform),
            "nodata": repr(dataset.nodata),
            "tags": {k: v for k, v in dataset.tags().items() if k not in WRITE_TIME_TAGS},
            "band_tags": [dataset.tags(b) for b in dataset.indexes],
            "overviews": [dataset.overviews(b) for b in dataset.indexes],
            "pixels": hashlib.sha256(dataset.read().tobytes()).hexdigest(),
            "size": len(data),
        }


def differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    """Human-readable differences between two snapshots (empty: the same outputs)."""
    problems = []
    if sorted(expected) != sorted(actual):
        problems.append(f"objects differ: only local {sorted(set(expected) - set(actual))}, "
                        f"only in containers {sorted(set(actual) - set(expected))}")
    for key in sorted(set(expected) & set(actual)):
        want, got = signature(key, expected[key]), signature(key, actual[key])
        if "json" in want and "json" in got:
            problems += [f"{key}: {where} differs: {a!r} != {b!r}"
                         for where, a, b in json_differences(want["json"], got["json"])]
            continue
        for field in sorted(set(want) | set(got)):
            if want.get(field) != got.get(field):
                problems.append(f"{key}: {field} differs: {want.get(field)!r} != {got.get(field)!r}")
    return problems



def json_differences(want: Any, got: Any, where: str = "$") -> list[tuple[str, Any, Any]]:
    """(JSON path, expected, actual) of every leaf that differs."""
    if isinstance(want, dict) and isinstance(got, dict):
        return [d for k in sorted(set(want) | set(got), key=str)
                for d in json_differences(want.get(k), got.get(k), f"{where}.{k}")]
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [d for i, (a, b) in enumerate(zip(want, got, strict=True))
                for d in json_differences(a, b, f"{where}[{i}]")]
    return [] if want == got else [(where, want, got)]


def checksum_problems(objects: dict[str, bytes], bucket: str) -> list[str]:
    """The STAC assets among `objects` whose `file:checksum` (sha2-256 multihash) or
    `file:size` is not that of the object their href names in the same snapshot."""
    problems = []
    for key, data in objects.items():
        if not key.endswith(".json"):
            continue
        document = json.loads(data)
        for name, asset in (document.get("assets") or {}).items():
            if "file:checksum" not in asset:
                continue
            href = asset["href"]
            target = (href.removeprefix(f"s3://{bucket}/") if href.startswith("s3://")
                      else posixpath.normpath(posixpath.join(posixpath.dirname(key), href)))
            content = objects.get(target)
            if content is None:
                problems.append(f"{key}: asset {name} names {href}, absent")
            elif asset["file:checksum"] != "1220" + hashlib.sha256(content).hexdigest():
                problems.append(f"{key}: asset {name}'s checksum is not that of {href}")
            elif asset.get("file:size", len(content)) != len(content):
                problems.append(f"{key}: asset {name}'s size is not that of {href}")
    return problems
