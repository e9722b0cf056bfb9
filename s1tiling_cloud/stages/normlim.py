"""Stage `normlim`: σ°_NORMLIM of one β° tile product (S1Tiling's ApplyLIACalibration, LIA workflow step 8).

    σ°_NORMLIM = (isnan(sin_LIA) || β° == 0) ? 0 : max(lower_signal_value, β° · sin(LIA))

computed in float64 and written as float32 (as OTB BandMath does; `engine.native.corrections`),
nodata 0, with the β° product's tags, then `CALIBRATION=Normlim` and `LIA_FILE`
(`normlim_tags`). The output is the `…_NormLim.tif` product
(`DEFAULT_FNAME_FMTS["lia_corrected"]`); the caller names it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..engine.native.corrections import normlim as apply_normlim
from ..outputs.metadata import complete_tags, normlim_tags
from .base import StageCall, StageResult
from .correction import read_correction_inputs
from .mask import masks_alone, masks_of_reused, write_product_mask

STAGE = "normlim"


@dataclasses.dataclass(frozen=True)
class NormlimParams:
    lower_signal_value: float = 1e-7
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    overviews: bool = True

    def __post_init__(self) -> None:
        if self.lower_signal_value <= 0:
            raise ValueError("lower_signal_value must be > 0")


def normlim(product: str, sin_lia_uri: str, output: str,
            params: NormlimParams | Mapping[str, Any] | None = None,
            storage_options: Mapping[str, Any] | None = None,
            mask: str | None = None) -> StageResult:
    """Write σ°_NORMLIM of the β° tile `product` with the `sin_LIA` map of its tile and orbit,
    and its border mask to `mask` when given (`stages.mask`, from the pixels written)."""
    call = StageCall(STAGE, storage_options)
    params = call.params(NormlimParams, params)
    if mask and (alone := masks_alone(call, {output: mask})):
        return alone
    store = call.store
    inputs = read_correction_inputs(call, product, sin_lia_uri, params, calibration="beta",
                                    product_key="beta", map_key="sin_lia", map_name="sin_LIA",
                                    output=output)
    if inputs is None:  # the product is up to date: its mask alone, if missing
        return masks_of_reused(call, {output: mask}) if mask else call.skip([output])
    beta, base, grid, provenance = inputs.values, inputs.tags, inputs.grid, inputs.provenance
    sin_lia = inputs.map_bands[0]
    values = apply_normlim(beta, sin_lia, params.lower_signal_value)
    tags = complete_tags(normlim_tags(base, lia_file=sin_lia_uri), extra=params.metadata,
                         provenance=provenance)
    store.write_cog(output, values, crs=grid.crs, transform=grid.transform, nodata=0.0,
                    tags=tags, overviews="auto" if params.overviews else None)
    details = {"valid": int(np.count_nonzero(values))}
    if mask:
        details.update(write_product_mask(store, output, mask, values, crs=grid.crs,
                                          transform=grid.transform))
    return call.done([output, *([mask] if mask else [])], **details)
