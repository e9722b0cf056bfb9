"""Stage `despeckle`: a tile product filtered as OTB's `Despeckle` does (S1Tiling step 7).

`[Filtering]` keys: `filter` (lee, frost, gammamap, kuan), `window_radius`, `nblooks` (lee,
gammamap, kuan) or `deramp` (frost); S1Tiling rejects a missing one as a configuration error,
and so do the params here (exit code 72). Only the key the method uses enters the provenance
and the tags, so a config that also sets the other one does not make outputs stale. The whole
product is filtered at once: the window statistics need neighbouring rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..engine.native.despeckle import FILTERS
from ..engine.native.despeckle import despeckle as filter_image
from ..exceptions import ConfigurationError
from ..outputs.metadata import Provenance, complete_tags, filtered_tags
from .base import StageCall, StageResult, input_identity
from .engines import check_engine, otb_finishing, without_native_engine

STAGE = "despeckle"


@dataclasses.dataclass(frozen=True)
class FilterParams:
    """S1Tiling's `[Filtering]` section (`filter` is called `method` here)."""

    method: str
    window_radius: int | None = None
    nblooks: float | None = None
    deramp: float | None = None
    #: "native", or "otb" for OTB's ``Despeckle`` application as S1Tiling runs it.
    engine: str = "native"

    def __post_init__(self) -> None:
        check_engine(self.engine)
        method = str(self.method).lower()
        if method not in FILTERS:
            raise ConfigurationError(f"unknown filter {self.method!r}; one of {', '.join(FILTERS)} "
                                     f"(with `none`, the plan has no despeckle stage)")
        object.__setattr__(self, "method", method)
        radius = self.window_radius
        if not isinstance(radius, int | float) or isinstance(radius, bool) or radius != int(radius) \
                or radius < 1:
            raise ConfigurationError(f"window_radius must be an integer >= 1, not {self.window_radius!r}")
        needed = "deramp" if method == "frost" else "nblooks"
        value = getattr(self, needed)
        if value is None or not value > 0:
            raise ConfigurationError(f"the {method} filter needs {needed} > 0, not {value!r}")

    def effective(self) -> dict[str, Any]:
        """The keys this method uses (what changes the output)."""
        keys = {"method": self.method, "window_radius": int(self.window_radius)}
        if self.method == "frost":
            keys["deramp"] = float(self.deramp)
        else:
            keys["nblooks"] = float(self.nblooks)
        return keys


def despeckle(product: str, output: str, params: FilterParams | Mapping[str, Any],
              storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Write `product` despeckled to `output` (float32 COG, nodata 0, `FILTERED=true`)."""
    call = StageCall(STAGE, storage_options)
    params = call.params(FilterParams, params)
    effective = params.effective()
    store = call.store
    otb = otb_finishing(params.engine)
    with store.open_raster(product) as dataset:
        base = dict(dataset.tags())
        recorded = without_native_engine({**effective, "source": input_identity(base),
                                          "engine": params.engine})
        provenance = Provenance(STAGE, recorded, [product])
        if reused := call.reused([output], provenance):
            return reused
        image = dataset.read(1)
        crs, transform = dataset.crs, dataset.transform
    filter_with = otb.despeckle if otb else filter_image
    filtered = filter_with(image, params.method, effective["window_radius"],
                           nb_looks=effective.get("nblooks"), deramp=effective.get("deramp"))
    del image
    tags = filtered_tags(base, method=params.method, window_radius=effective["window_radius"],
                         nblooks=effective.get("nblooks"), deramp=effective.get("deramp"))
    store.write_cog(output, filtered, crs=crs, transform=transform, nodata=0.0, dtype=np.float32,
                    tags=complete_tags(tags, provenance=provenance))
    return call.done([output], method=params.method)
