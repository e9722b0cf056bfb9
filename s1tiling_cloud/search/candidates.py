"""S1Candidates from what describes a product: an eodag `EOProduct`, or a SAFE manifest.

Providers name and spell the same facts differently (eodag 4's STAC names or eodag 3's,
`S1A` or `sentinel-1a`, `VV+VH` or `VV&VH` or a list), and some leave facts out; the product
name always holds the platform, times, absolute orbit and polarisation code, so it is the
fallback for every fact it carries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..outputs.names import ProductName, orbit_direction_code, relative_orbit
from ..safe.manifest import Manifest
from .model import S1Candidate

__all__ = ["candidate_from_eoproduct", "candidate_from_manifest", "normalise_platform"]

_POLARISATIONS_OF_CODE = {"DV": ["vv", "vh"], "SV": ["vv"], "DH": ["hh", "hv"], "SH": ["hh"],
                          "VV": ["vv"], "VH": ["vh"], "HH": ["hh"], "HV": ["hv"]}


def normalise_platform(value: str) -> str:
    """`S1A`, `s1a`, `sentinel-1a`, `SENTINEL-1A`, `A` -> `S1A`."""
    text = str(value).strip().upper().replace("SENTINEL-", "S")
    if re.fullmatch(r"[A-D]", text):
        text = "S1" + text
    if not re.fullmatch(r"S1[A-D]", text):
        raise ValueError(f"not a Sentinel-1 platform: {value!r}")
    return text


def _first(properties: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = properties.get(name)
        if value not in (None, "", "Not Available", []):
            return value
    return None


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _polarisations(value: Any, fallback: list[str]) -> list[str]:
    if value is None:
        return fallback
    items = value if isinstance(value, list | tuple) else re.split(r"[+&,\s]+", str(value))
    return [str(p).lower() for p in items if str(p).strip()] or fallback


def candidate_from_eoproduct(product: Any) -> S1Candidate:
    """The candidate an eodag search result describes (its GeoJSON kept for the download)."""
    properties = dict(product.properties)
    product_id = str(_first(properties, "id", "title") or product.properties["title"])
    product_id = re.sub(r"\.(SAFE|zip)$", "", product_id)
    name = ProductName.parse(product_id)
    platform = normalise_platform(_first(properties, "platform", "platformSerialIdentifier")
                                  or name.mission)
    start = _first(properties, "start_datetime", "startTimeFromAscendingNode", "datetime")
    stop = _first(properties, "end_datetime", "completionTimeFromAscendingNode")
    absolute = int(_first(properties, "sat:absolute_orbit", "orbitNumber") or name.absolute_orbit)
    relative = _first(properties, "sat:relative_orbit", "relativeOrbitNumber")
    direction = _first(properties, "sat:orbit_state", "orbitDirection")
    if direction is None:
        raise ValueError(f"{product_id}: the provider gives no orbit direction")
    pols = _polarisations(_first(properties, "sar:polarizations", "polarizationChannels"),
                          _POLARISATIONS_OF_CODE.get(name.polarisations, []))
    return S1Candidate(
        id=product_id,
        platform=platform,
        start=_datetime(start) if start else name.start,
        stop=_datetime(stop) if stop else name.stop,
        relative_orbit=int(relative) if relative is not None else relative_orbit(platform, absolute),
        absolute_orbit=absolute,
        orbit_direction=orbit_direction_code(str(direction)),
        polarisations=pols,
        footprint=product.geometry.wkt,
        provider=getattr(product, "provider", None),
        eodag=product.as_dict(),
    )


def _numpy_datetime(value: np.datetime64) -> datetime:
    seconds = value.astype("datetime64[us]").astype(datetime)
    return seconds.replace(tzinfo=UTC)


def candidate_from_manifest(manifest: Manifest, product_id: str, location: str) -> S1Candidate:
    """The candidate a product already on disk or in object storage describes."""
    return S1Candidate(
        id=product_id,
        platform=normalise_platform(manifest.mission_letter),
        start=_numpy_datetime(manifest.start_time),
        stop=_numpy_datetime(manifest.stop_time),
        relative_orbit=manifest.relative_orbit,
        absolute_orbit=manifest.absolute_orbit,
        orbit_direction=orbit_direction_code(manifest.orbit_state),
        polarisations=[p.lower() for p in manifest.polarizations],
        footprint=manifest.footprint_wkt,
        location=location,
    )
