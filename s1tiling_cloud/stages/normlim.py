"""Stage `normlim`: σ°_NORMLIM of one β° tile product (S1Tiling's ApplyLIACalibration, §3.2 step 8).

    σ°_NORMLIM = (isnan(sin_LIA) || β° == 0) ? 0 : max(lower_signal_value, β° · sin(LIA))

computed in float64 and written as float32 (as OTB BandMath does), nodata 0, with the β°
product's tags, then `CALIBRATION=Normlim` and `LIA_FILE` (`normlim_tags`). The output is the
`…_NormLim.tif` product (`DEFAULT_FNAME_FMTS["lia_corrected"]`); the caller names it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..exceptions import NotCompatibleInput
from ..geo import Grid
from ..outputs.metadata import Provenance, complete_tags, normlim_tags
from ..store import Store
from .base import StageResult, input_identity, params_from, reusable, timed

STAGE = "normlim"


@dataclasses.dataclass(frozen=True)
class NormlimParams:
    lower_signal_value: float = 1e-7
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    overviews: bool = True

    def __post_init__(self) -> None:
        if self.lower_signal_value <= 0:
            raise ValueError("lower_signal_value must be > 0")


def apply_normlim(beta0: np.ndarray, sin_lia: np.ndarray, lower_signal_value: float = 1e-7
                  ) -> np.ndarray:
    """σ°_NORMLIM from β° and sin(LIA) arrays (float32 out; 0 where β° is 0 or sin_LIA NaN)."""
    beta = np.asarray(beta0, dtype=np.float64)
    sin = np.asarray(sin_lia, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        values = np.maximum(lower_signal_value, beta * sin)
    values = np.where(np.isnan(sin) | (beta == 0) | np.isnan(beta), 0.0, values)
    return values.astype(np.float32)


def normlim(product: str, sin_lia_uri: str, output: str,
            params: NormlimParams | Mapping[str, Any] | None = None,
            storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Write σ°_NORMLIM of the β° tile `product` with the `sin_LIA` map of its tile and orbit."""
    started = time.perf_counter()
    params = params_from(NormlimParams, params or {})
    store = Store(storage_options)
    with store.open_raster(product) as dataset:
        base = dict(dataset.tags())
        grid = Grid.of(dataset)
        calibration = base.get("CALIBRATION", "beta").lower()
        if calibration != "beta":
            raise NotCompatibleInput(f"{product} is calibrated {calibration!r}: NORMLIM needs β°")
        lia_tags = store.read_tags(sin_lia_uri)
        provenance = Provenance(STAGE, {**dataclasses.asdict(params),
                                        "beta": input_identity(base),
                                        "sin_lia": input_identity(lia_tags)},
                                [product, sin_lia_uri])
        if reusable(store, [output], provenance):
            return StageResult(STAGE, [output], skipped=True)
        beta = dataset.read(1)
    with store.open_raster(sin_lia_uri) as dataset:
        found = Grid.of(dataset)
        if (found.crs != grid.crs or found.shape != grid.shape
                or not found.transform.almost_equals(grid.transform)):
            raise NotCompatibleInput(f"sin_LIA {sin_lia_uri} is not on the grid of {product}")
        sin_lia = dataset.read(1)
    tile = base.get("S2_TILE_CORRESPONDING_CODE")
    if tile and lia_tags.get("S2_TILE_CORRESPONDING_CODE", tile) != tile:
        raise NotCompatibleInput(f"{sin_lia_uri} is an LIA map of another tile than {tile}")
    values = apply_normlim(beta, sin_lia, params.lower_signal_value)
    tags = complete_tags(normlim_tags(base, lia_file=sin_lia_uri), extra=params.metadata,
                         provenance=provenance)
    store.write_cog(output, values, crs=grid.crs, transform=grid.transform, nodata=0.0,
                    tags=tags, overviews="auto" if params.overviews else None)
    return timed(STAGE, [output], started, valid=int(np.count_nonzero(values)))
