"""Stage `quicklook`: the JPEG quicklook of a tile product (S1Tiling step 9, since 1.4.0).

S1Tiling's `[Quicklook]` keys: `ratio` (% of the size) and one `scale_<pol>` per polarisation
(the value shown white). `stretch` says how the values below it are shown: `db` (the default) a
fixed stretch of `DB_RANGE` decibels below the scale, which makes water, fields, forest and
towns readable, no-data alone black; `linear` S1Tiling's own
`gdal.Translate(outputType=Byte, widthPct=heightPct=ratio, scaleParams=[[0, scale]])`
(`outputs.quicklook_pixels`). The product's `POLARIZATION` tag picks the scale; the ratio, that
scale and the stretch enter the provenance. The metadata go in the `.aux.xml` sidecar, as
GDAL's JPEG driver writes them (`Store.write_jpeg_quicklook`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..exceptions import ConfigurationError, NotCompatibleInput
from ..outputs.metadata import Provenance, complete_tags, quicklook_tags
from ..outputs.quicklook_pixels import STRETCHES
from .base import StageCall, StageResult, input_identity

STAGE = "quicklook"


@dataclasses.dataclass(frozen=True)
class QuicklookParams:
    """S1Tiling's `[Quicklook]` keys and defaults, and the stretch."""

    ratio: float = 5
    scale_vv: float = 0.5
    scale_vh: float = 0.05
    scale_hv: float = 0.5
    scale_hh: float = 0.5
    stretch: str = "db"

    def __post_init__(self) -> None:
        if self.stretch not in STRETCHES:
            raise ConfigurationError(f"Quicklook.stretch must be one of {STRETCHES}, not {self.stretch!r}")
        if not 0 < self.ratio <= 100:
            raise ConfigurationError(f"Quicklook.ratio must be in (0, 100], not {self.ratio!r}")
        for pol in ("vv", "vh", "hv", "hh"):
            if not self.scale(pol) > 0:
                raise ConfigurationError(f"Quicklook.scale_{pol} must be > 0, not {self.scale(pol)!r}")

    def scale(self, polarisation: str) -> float:
        return getattr(self, f"scale_{polarisation.lower()}")


def quicklook(product: str, output: str, params: QuicklookParams | Mapping[str, Any] | None = None,
              storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Write the quicklook of `product` to `output` (Byte JPEG + `.aux.xml`)."""
    call = StageCall(STAGE, storage_options)
    params = call.params(QuicklookParams, params)
    store = call.store
    with store.open_raster(product) as dataset:
        base = dict(dataset.tags())
        polarisation = base.get("POLARIZATION", "").lower()
        if polarisation not in ("vv", "vh", "hv", "hh"):
            raise NotCompatibleInput(f"{product} has no POLARIZATION tag to choose a scale by")
        scale = params.scale(polarisation)
        provenance = Provenance(STAGE, {"ratio": float(params.ratio), "scale": float(scale),
                                        "stretch": params.stretch,
                                        "source": input_identity(base)}, [product])
        if reused := call.reused([output], provenance):
            return reused
        image = dataset.read(1)
        crs, transform = dataset.crs, dataset.transform
    tags = complete_tags(quicklook_tags(base, ratio=params.ratio, scale=scale), provenance=provenance)
    store.write_jpeg_quicklook(output, image, params.ratio, scale, crs=crs, transform=transform,
                               tags=tags, stretch=params.stretch)
    return call.done([output], scale=scale, ratio=params.ratio, stretch=params.stretch)
