"""What "the same output" means for two runs of a stage: every object under a prefix, and for
rasters the pixels byte for byte, the georeferencing and the tags (all but TIFFTAG_DATETIME,
the write time)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rasterio.io import MemoryFile

#: Tags that say when a file was written, not what it holds.
WRITE_TIME_TAGS = ("TIFFTAG_DATETIME",)
RASTER_SUFFIXES = (".tif", ".tiff", ".jpg", ".jpeg", ".png")
_TIME_ITEM = re.compile(r'\s*<MDI key="TIFFTAG_DATETIME">[^<]*</MDI>')


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
        for field in sorted(set(want) | set(got)):
            if want.get(field) != got.get(field):
                problems.append(f"{key}: {field} differs: {want.get(field)!r} != {got.get(field)!r}")
    return problems

