"""Stage `concatenate`: a tile's orthorectified images of one day → the day's tile product.

S1Tiling's step 6 (concatenation): same tile, polarisation, relative orbit and start day; each
output pixel is the first non-null input pixel, in input order (the caller sorts the inputs by
acquisition time). The inputs are `ortho` outputs; their tags say which S1 image each one is,
so the product's tags are rebuilt from them (`day_product.day_product_tags`, which the `ortho`
stage also calls when it writes the product of a day with one image).

A day with one product gets its product from the `ortho` stage directly (S1Tiling just renames
the file), and so does a day with several with the native engine (`stages.day_fusion` merges
them in memory by this very rule): plans make this stage for OTB's engine, with a one-input
concatenation for a polarisation that one product of a multi-product day lacks. Inputs are
never deleted here: the runner decides when intermediates go (a re-run may still need them). A
product that NORMLIM or γ° RTC reads once (`intermediate`) is encoded as the per-image images
are (ZSTD, no overviews).

The inputs are read strip by strip into one float32 tile (482 MB at 10 m; the inputs are never
whole in memory), which `Store.write_cog` encodes from memory, its overviews computed there,
and the border mask is made from: 2.8 CPU s less than streaming the strips to GDAL's COG
driver (a scratch GeoTIFF, the driver's own overviews), same bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np
from rasterio.windows import Window

from ..engine.native.concatenate import concatenate as first_non_null
from ..exceptions import NotCompatibleInput
from ..outputs.metadata import Provenance
from .base import StageCall, StageResult, input_identity
from .day_product import INTERMEDIATE_ENCODING, PRODUCT_ENCODING, day_product_tags, image_of, product_fields
from .engines import check_engine, otb_finishing, without_native_engine
from .mask import masks_alone, masks_of_reused, write_product_mask

STAGE = "concatenate"


@dataclasses.dataclass(frozen=True)
class ConcatParams:
    """`[Metadata]` keys to add (the inputs' are carried anyway, and these win over them), and
    the engine: "native", or "otb" for OTB's ``Synthetize`` as S1Tiling runs it."""

    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    engine: str = "native"
    #: The product is an intermediate that NORMLIM or γ° RTC reads once (the β° / σ° in tmp):
    #: `day_product.INTERMEDIATE_ENCODING` (`OrthoParams.intermediate` for a day with one product).
    intermediate: bool = False

    def __post_init__(self) -> None:
        check_engine(self.engine)

    def provenance_params(self) -> dict[str, Any]:
        """What the provenance records: the native engine's outputs keep their old record."""
        values = without_native_engine(dataclasses.asdict(self))
        if not self.intermediate:
            values.pop("intermediate")
        return values

    def encoding(self) -> dict[str, Any]:
        """`Store.write_cog`'s encoding arguments: a product's, or an intermediate's."""
        return dict(INTERMEDIATE_ENCODING if self.intermediate else PRODUCT_ENCODING)


def concatenate(inputs: Sequence[str], output: str, tile: str,
                params: ConcatParams | Mapping[str, Any] | None = None,
                storage_options: Mapping[str, Any] | None = None,
                mask: str | None = None) -> StageResult:
    """Write the day's product of `tile` to `output` from `inputs` (ortho images, in time
    order), and its border mask to `mask` when given (`stages.mask`: from the pixels written,
    without reading the product back)."""
    call = StageCall(STAGE, storage_options)
    inputs = list(inputs)
    if not inputs:
        raise NotCompatibleInput("concatenate needs at least one orthorectified image")
    params = call.params(ConcatParams, params)
    if mask and (alone := masks_alone(call, {output: mask})):
        return alone
    store = call.store
    outputs = [output, *([mask] if mask else [])]
    with ExitStack() as stack:
        datasets = [stack.enter_context(store.open_raster(uri)) for uri in inputs]
        sources = [dict(dataset.tags()) for dataset in datasets]
        images = [image_of(tags, uri) for tags, uri in zip(sources, inputs, strict=True)]
        fields = product_fields(images, sources, inputs, tile)
        provenance = Provenance(STAGE, {**params.provenance_params(), "tile": tile,
                                        "sources": [input_identity(tags) for tags in sources]},
                                inputs)
        details = {"acquisition_stamp": fields["acquisition_stamp"], "inputs": len(inputs)}
        if call.reused([output], provenance):
            if mask:  # the product is up to date: its mask alone, if missing
                return masks_of_reused(call, {output: mask})
            return call.skip([output], **details)
        _check_grids(datasets, inputs)
        product_tags = day_product_tags(images, sources, tile, params.metadata, provenance)
        reference = datasets[0]
        otb = otb_finishing(params.engine)
        # OTB's Synthetize works on whole files; the native engine merges strip by strip into
        # the tile, which `write_cog` then encodes from memory (its overviews computed there)
        # and the border mask is taken from (ITK's border rules need the whole tile).
        pixels = (otb.synthetize([dataset.read(1) for dataset in datasets]) if otb
                  else _merged(datasets))
        store.write_cog(output, pixels, crs=reference.crs, transform=reference.transform,
                        nodata=0.0, tags=product_tags, **params.encoding())
        if mask:
            details.update(write_product_mask(store, output, mask, pixels, crs=reference.crs,
                                              transform=reference.transform,
                                              engine=params.engine))
    return call.done(outputs, **details)


def _merged(datasets: Sequence, strip_rows: int = 512) -> np.ndarray:
    """The first non-null pixel of `datasets` (in order), as one float32 tile, read strip by
    strip: the inputs are never whole in memory, only the result. Each strip of the first
    input is read into the tile itself and the others' merged into it in place, each read into
    one reused strip buffer: no copy of the tile, no fresh memory per strip."""
    height, width = datasets[0].height, datasets[0].width
    pixels = np.empty((height, width), np.float32)
    spare = np.empty((min(strip_rows, height), width), np.float32) if len(datasets) > 1 else None
    for row in range(0, height, strip_rows):
        window = Window(0, row, width, min(strip_rows, height - row))
        strip = pixels[row:row + window.height]
        datasets[0].read(1, window=window, out=strip)
        if spare is None:  # one input: its nulls are made 0 all the same
            first_non_null([strip], out=strip)
        for dataset in datasets[1:]:
            other = spare[:window.height]
            dataset.read(1, window=window, out=other)
            first_non_null([strip, other], out=strip)
    return pixels


def _check_grids(datasets: list, inputs: list[str]) -> None:
    first = datasets[0]
    for dataset, uri in zip(datasets[1:], inputs[1:], strict=True):
        if (dataset.shape, dataset.crs, dataset.transform) != (first.shape, first.crs, first.transform):
            raise NotCompatibleInput(f"{uri} is not on the grid of {inputs[0]}")
