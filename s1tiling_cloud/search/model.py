"""What a search finds: Sentinel-1 products that may be used for a request's tiles.

The contract between the search (eodag, or a scan of the local product cache), its filters and
the planner. A candidate is plain data: it can travel in a plan to the pod that ingests it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class S1Candidate:
    """One Sentinel-1 IW GRD product.

    `location` is where the product already is (a SAFE folder, a .zip or an s3:// URI), or None
    when it must be downloaded; `eodag` is then the eodag product as GeoJSON
    (`EOProduct.as_dict()`), enough for the ingest stage to download it without searching again.
    """

    id: str  # S1A_IW_GRDH_1SDV_20200108T044150_20200108T044215_030704_038506_A4E9
    platform: str  # "S1A"
    start: datetime  # UTC, timezone-aware
    stop: datetime
    relative_orbit: int
    absolute_orbit: int
    orbit_direction: str  # "ASC" | "DES"
    polarisations: list[str]  # lower case: ["vv", "vh"]
    footprint: str  # WKT, lon/lat (EPSG:4326)
    location: str | None = None
    provider: str | None = None
    eodag: dict[str, Any] | None = None

    @property
    def day(self) -> str:
        """The start day as S1Tiling groups products: YYYYMMDD."""
        return self.start.strftime("%Y%m%d")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["start"] = self.start.isoformat()
        data["stop"] = self.stop.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> S1Candidate:
        values = dict(data)
        values["start"] = datetime.fromisoformat(values["start"])
        values["stop"] = datetime.fromisoformat(values["stop"])
        return cls(**values)


@dataclass
class SearchOutcome:
    """Per tile, the products kept after S1Tiling's filters, and what happened on the way.

    `discarded` lists (product id, tile, reason) for the report and `plan --explain`;
    `search_failures` counts the tiles whose search failed after its retries (exit 67);
    `unreadable` lists (location, reason) for the products of `s1_images` that could not be
    read (a truncated zip, a zip member failing its CRC): skipped with a warning, they are the
    run's error (71) when no other product is usable.
    """

    per_tile: dict[str, list[S1Candidate]] = field(default_factory=dict)
    discarded: list[tuple[str, str, str]] = field(default_factory=list)
    search_failures: int = 0
    found: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
