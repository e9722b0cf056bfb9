"""Stage `quicklook`: the JPEG quicklook of a tile product (S1Tiling step 9, since 1.4.0).

S1Tiling's `[Quicklook]` keys: `ratio` (% of the size) and one `scale_<pol>` per polarisation
(the value shown white). `stretch` says how the values below it are shown: `db` (the default) a
fixed stretch of `DB_RANGE` decibels below the scale, which makes water, fields, forest and
towns readable, no-data alone black; `linear` S1Tiling's own
`gdal.Translate(outputType=Byte, widthPct=heightPct=ratio, scaleParams=[[0, scale]])`
(`outputs.quicklook_pixels`). The product's `POLARIZATION` tag picks the scale; the ratio, that
scale and the stretch enter the provenance. The metadata go in the `.aux.xml` sidecar, as
GDAL's JPEG driver writes them (`write_quicklook`, `Store.write_jpeg`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
from affine import Affine

from ..exceptions import ConfigurationError, NotCompatibleInput
from ..outputs import quicklook_pixels
from ..outputs.metadata import Provenance, complete_tags, quicklook_tags
from ..outputs.quicklook_pixels import STRETCHES
from ..store import Store
from .base import StageCall, StageResult, input_identity, jpeg_comment

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
    write_quicklook(store, output, image, params.ratio, scale, crs=crs, transform=transform,
                    tags=tags, stretch=params.stretch)
    return call.done([output], scale=scale, ratio=params.ratio, stretch=params.stretch)


def write_quicklook(store: Store, uri: str, array: np.ndarray, ratio: float = 5,
                   scale: float = 0.5, *, crs: Any = None, transform: Affine | None = None,
                   tags: Mapping[str, str] | None = None, quality: int = 75,
                   stretch: str = "linear") -> str:
    """S1Tiling's quicklook (its step 9): Byte JPEG, `ratio`% of the size, `[0, scale]` →
    `[0, 255]`, as `gdal.Translate(outputType=Byte, widthPct=heightPct=ratio,
    scaleParams=[[0, scale]])` does (nearest sampling, rounding, saturation; NaN → 0);
    `stretch="db"`: the dB stretch below `scale` of `outputs.quicklook_pixels`.

    Metadata: like S1Tiling's (in the JPEG's `.aux.xml` sidecar, with the georeferencing), the
    given tags plus `IMAGE_TYPE=QUICKLOOK`, `QUICKLOOK_SCALE`, `QUICKLOOK_PIXEL_RANGE`; the
    provenance hash of `tags` also goes inside the JPEG (its comment, `base.jpeg_comment`).

    Parameters
    ----------
    store : Store
        Where `uri` is written.
    uri : str
        The JPEG's URI.
    array : numpy.ndarray
        The product's band (2-D, or 1 × rows × cols).
    ratio, scale : float
        The size in % and the value shown white.
    crs, transform : optional
        The product's georeferencing (the transform of `array`).
    tags : mapping, optional
        The caller's tags (from `complete_tags`).
    quality : int
        JPEG quality.
    stretch : str
        "linear" (S1Tiling's) or "db".
    """
    image = np.asarray(array)
    if image.ndim == 3 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 2:
        raise ValueError(f"a quicklook is made from one band, not shape {image.shape}")
    height, width = image.shape
    byte = quicklook_pixels.to_bytes(quicklook_pixels.shrink(image, ratio, stretch), scale, stretch)
    out_h, out_w = byte.shape
    # The caller's tags, plus the keys that say how this very image was scaled: they come
    # from this function's own arguments.
    all_tags = {**{str(k): str(v) for k, v in (tags or {}).items()},
                **quicklook_tags({}, ratio=ratio, scale=scale),
                "QUICKLOOK_PIXEL_RANGE": quicklook_pixels.pixel_range(scale, stretch)}
    if stretch != "linear":
        all_tags["QUICKLOOK_STRETCH"] = stretch
    shrunk = transform @ Affine.scale(width / out_w, height / out_h) if transform is not None else None
    digest = all_tags.get("PROVENANCE_HASH")
    return store.write_jpeg(uri, byte, crs=crs, transform=shrunk, tags=all_tags, quality=quality,
                            comment=jpeg_comment(digest) if digest else None)
