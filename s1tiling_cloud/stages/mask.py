"""Stage `mask`: the `_BorderMask` of a final tile product (S1Tiling step 8).

`im != 0` as uint8, then a binary opening by a ball of radius 5 (fixed in S1Tiling), so that the
ragged, noisy border of the valid area is trimmed. The mask is computed on the *final* product
(after NORMLIM/RTC when there is one); the caller names it (`mask_name`). uint8 0/1, no nodata:
0 is a value of the mask, not a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

# The engine under its module's name: `border_mask` was this stage's own name once, and an
# import of it from here must not silently get the engine's function.
from ..engine.native import mask as mask_engine
from ..outputs.metadata import Provenance, complete_tags, mask_tags
from .base import StageCall, StageResult, input_identity
from .engines import otb_finishing, without_native_engine

STAGE = "mask"


def mask(product: str, output: str, storage_options: Mapping[str, Any] | None = None,
                engine: str = "native") -> StageResult:
    """Write the border mask of `product` to `output` (uint8 0/1 COG, `IMAGE_TYPE=MASK`);
    `engine` "otb" runs S1Tiling's BandMath + BinaryMorphologicalOperation instead."""
    call = StageCall(STAGE, storage_options)
    store = call.store
    otb = otb_finishing(engine)
    with store.open_raster(product) as dataset:
        base = dict(dataset.tags())
        recorded = without_native_engine({"radius": mask_engine.MASK_RADIUS, "source": input_identity(base),
                                          "engine": engine})
        provenance = Provenance(STAGE, recorded, [product])
        if reused := call.reused([output], provenance):
            return reused
        image = dataset.read(1)
        crs, transform = dataset.crs, dataset.transform
    radius = mask_engine.MASK_RADIUS
    values = otb.border_mask(image, radius) if otb else mask_engine.border_mask(image, radius)
    valid = int(np.count_nonzero(values))
    del image
    store.write_cog(output, values, crs=crs, transform=transform, nodata=None, dtype=np.uint8,
                    tags=complete_tags(mask_tags(base), provenance=provenance))
    return call.done([output], valid_fraction=round(valid / values.size, 6))
