"""One racing publisher: adds COUNT copies of an item (ids PREFIX-0..) to a static catalog.

`python -m tests.stac.race_worker ITEM.json CATALOG PREFIX COUNT START STORAGE_OPTIONS_JSON`;
it waits until the wall clock reaches START so that the publishers really run at once.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from s1tiling_cloud.stac.static_catalog import StaticCatalog


def main(item_file: str, catalog: str, prefix: str, count: str, start: str, options: str) -> None:
    template = json.loads(Path(item_file).read_text())
    publisher = StaticCatalog(catalog, json.loads(options) or None)
    time.sleep(max(0.0, float(start) - time.time()))
    for index in range(int(count)):
        publisher.add_item({**template, "id": f"{prefix}-{index:03d}"})


if __name__ == "__main__":
    main(*sys.argv[1:])
