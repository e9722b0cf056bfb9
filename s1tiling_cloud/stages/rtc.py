"""Stage `rtc` (ApplyGammaNaughtRTCCalibration): from a σ° tile product and the map of its tile and
orbit, `…_GammaNaughtRTC.tif`:

    γ°_T = calibration_factor · σ°_E · A_σ,E / A_γ     (= γ°_E / G)

0 where σ° is 0, the map is NaN or A_γ < `min_gamma_area` (m², S1Tiling's "minimum area
before entering shadow", 1.0 by default). A map without `ELLIPSOID_PIXEL_AREA` (S1Tiling's)
is taken with the `PixelSpacing` × `LineSpacing` it keeps, or else `reference_area` (100 m²:
GRDH's 10 m × 10 m pixels); see `reference_pixel_area`.

The map is the `gamma_area` stage's (`gamma_area.py`); see `engine.native.gamma_area`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..engine.native.corrections import gamma_naught_rtc
from ..outputs.metadata import complete_tags, rtc_tags
from .base import StageCall, StageResult
from .correction import read_correction_inputs
from .gamma_area import PIXEL_AREA_KEY
from .mask import masks_alone, masks_of_reused, write_product_mask


@dataclasses.dataclass(frozen=True)
class RTCParams:
    """S1Tiling's `[Processing] min_gamma_area` (m²) and `calibration_factor`; the radar pixel's
    ellipsoid area of maps that do not record it (m²)."""

    min_gamma_area: float = 1.0
    calibration_factor: float = 1.0
    reference_area: float = 100.0
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    overviews: bool = True


#: The rule of `reference_pixel_area`, in the provenance: maps without `ELLIPSOID_PIXEL_AREA`
#: (S1Tiling's) were once taken at `reference_area` whatever their `PixelSpacing` ×
#: `LineSpacing`, so the γ°_T made that way record no rule and are redone.
REFERENCE_RULE = {"reference": "spacing"}


def reference_pixel_area(tags: Mapping[str, str], default: float) -> float:
    """The radar pixel's area on the ellipsoid A_σ,E (m²) of a γ-area map, from its tags.

    Parameters
    ----------
    tags : mapping
        The map's GeoTIFF tags.
    default : float
        The area of a map that says nothing of its radar pixel (m²).

    Returns
    -------
    float
        `ELLIPSOID_PIXEL_AREA` (our maps); else `PixelSpacing` × `LineSpacing`, the GRD's
        range and azimuth pixel spacings that S1Tiling keeps on its maps; else `default`. The
        map's geotransform is not used: it gives the output grid's pixel, which is the radar
        pixel's size only by chance (10 m maps of GRDH).
    """
    if PIXEL_AREA_KEY in tags:
        return float(tags[PIXEL_AREA_KEY])
    try:
        area = float(tags["PixelSpacing"]) * float(tags["LineSpacing"])
    except (KeyError, ValueError):
        return float(default)
    return area if area > 0 else float(default)


def rtc(product: str, gamma_area_uri: str, output: str,
        params: RTCParams | Mapping[str, Any] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        mask: str | None = None) -> StageResult:
    """Write γ°_T of the σ° tile `product` with the γ-area map of its tile and orbit, and its
    border mask to `mask` when given (`stages.mask`, from the pixels written)."""
    call = StageCall("rtc", storage_options)
    params = call.params(RTCParams, params)
    if mask and (alone := masks_alone(call, {output: mask})):
        return alone
    store = call.store
    inputs = read_correction_inputs(
        call, product, gamma_area_uri, params, calibration="sigma", product_key="sigma",
        map_key="gamma_area", map_name="γ-area", bands=(1,), output=output,
        same_keys=("S2_TILE_CORRESPONDING_CODE", "RELATIVE_ORBIT_NUMBER", "ORBIT_DIRECTION"),
        rules=REFERENCE_RULE)
    if inputs is None:  # the product is up to date: its mask alone, if missing
        return masks_of_reused(call, {output: mask}) if mask else call.skip([output])
    sigma, base, grid, provenance = inputs.values, inputs.tags, inputs.grid, inputs.provenance
    (area,) = inputs.map_bands
    reference = reference_pixel_area(inputs.map_tags, params.reference_area)
    values = gamma_naught_rtc(sigma, area, reference, params.min_gamma_area,
                              params.calibration_factor)
    tags = complete_tags(rtc_tags(base, gamma_area_file=gamma_area_uri), extra=params.metadata,
                         provenance=provenance)
    store.write_cog(output, values, crs=grid.crs, transform=grid.transform, nodata=0.0,
                    tags=tags, overviews="auto" if params.overviews else None)
    details = {"valid": int(np.count_nonzero(values))}
    if mask:
        details.update(write_product_mask(store, output, mask, values, crs=grid.crs,
                                          transform=grid.transform))
    return call.done([output, *([mask] if mask else [])], **details)
