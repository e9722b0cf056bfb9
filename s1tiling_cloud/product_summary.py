"""A readable summary of a Sentinel-1 product, for `s1tiling-cloud info`."""

from __future__ import annotations

import os
from typing import Any

from .safe import Sentinel1Product


def summarize(location: str | os.PathLike, storage_options: dict | None = None) -> dict[str, Any]:
    """Facts a person checks first: mission, mode, polarisations, swaths, times, orbit, footprint."""
    product = Sentinel1Product(location, storage_options)
    attrs = product.attributes()
    swaths = []
    for swath in product.swaths:
        info = product.info(swath)
        swaths.append({
            "swath": swath,
            "polarisations": product.polarisations(swath),
            "measurements": [p for p in product.polarisations(swath)
                             if product.has(swath, p, "measurement")],
            "lines": info.get("number_of_lines"),
            "samples": info.get("number_of_samples"),
            "bursts": len(product.burst_ids(swath)),
            "incidence_angle_mid_swath": info.get("incidence_angle_mid_swath"),
        })
    return {
        "product": product.name,
        "location": product.location.url,
        "mission": attrs["platform"],
        "mode": attrs["sar:instrument_mode"],
        "product_type": attrs["sar:product_type"],
        "polarisations": attrs["sar:polarizations"],
        "start": attrs["start_datetime"],
        "stop": attrs["end_datetime"],
        "orbit": {
            "absolute": attrs["sat:absolute_orbit"],
            "relative": attrs["sat:relative_orbit"],
            "direction": attrs["sat:orbit_state"],
            "ascending_node": attrs["sat:anx_datetime"],
        },
        "footprint": attrs["footprint"],
        "ipf_version": attrs["ipf_version"],
        "swaths": swaths,
        "groups": len(product.groups),
    }
