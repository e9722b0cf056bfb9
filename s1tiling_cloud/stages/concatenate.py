"""Stage `concatenate`: a tile's orthorectified images of one day → the day's tile product.

S1Tiling's step 6 (concatenation): same tile, polarisation, relative orbit and start day; each
output pixel is the first non-null input pixel, in input order (the caller sorts the inputs by
acquisition time). The inputs are `ortho` outputs; their tags say which S1 image each one is,
so the product's tags (`IMAGE_TYPE=BACKSCATTERING`, `INPUT_S1_IMAGES`, `ACQUISITION_DATETIME`,
`ACQUISITION_DATETIME_1..N`) are rebuilt from them with `backscatter_tags`, and every other key
of the earliest input (`[Metadata]` keys included) is carried, as S1Tiling carries metadata
down its pipeline.

One input: S1Tiling just renames the file. The tags must change (`IMAGE_TYPE`, ...) and GDAL
would move the TIFF's IFD to change them, breaking the COG layout; so when the image is
already encoded as a product is (DEFLATE, predictor 3, overviews: the plan asks the ortho for
that on a day with one product), its compressed tiles are copied as they are under new tags
(`Store.copy_cog`: pixels and tags as a re-encode gives, a fraction of a second instead of a
decode and an encode of the tile). Otherwise the pixels are re-encoded. Inputs are never
deleted here: the runner decides when intermediates go (a re-run may still need them).

Pixels are read and written strip by strip, so a tile is never whole in memory.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np
from rasterio.windows import Window

from ..engine.native.concatenate import concatenate as first_non_null
from ..exceptions import NotCompatibleInput
from ..outputs.metadata import PROVENANCE_KEYS, Provenance, backscatter_tags, complete_tags
from ..outputs.names import ProductName, S1Image, tile_fields
from .base import StageCall, StageResult, input_identity
from .engines import check_engine, otb_finishing, without_native_engine

STAGE = "concatenate"
# Keys the inputs of one product must agree on: the product's tags say them once.
_SHARED_KEYS = ("S2_TILE_CORRESPONDING_CODE", "CALIBRATION", "NOISE_REMOVED", "LOWER_SIGNAL_VALUE",
                "ORTHORECTIFICATION_INTERPOLATOR", "SPATIAL_RESOLUTION", "DEM_INFO")
# Keys of an input that describe that very file, not the product: never carried.
_NOT_CARRIED = re.compile(r"^(ACQUISITION_DATETIME_\d+|AREA_OR_POINT|TIFFTAG_\w+|"
                          r"S1TILING_COMPATIBLE_VERSION|" + "|".join(PROVENANCE_KEYS) + r")$")


@dataclasses.dataclass(frozen=True)
class ConcatParams:
    """`[Metadata]` keys to add (the inputs' are carried anyway, and these win over them), and
    the engine: "native", or "otb" for OTB's ``Synthetize`` as S1Tiling runs it."""

    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    engine: str = "native"

    def __post_init__(self) -> None:
        check_engine(self.engine)

    def provenance_params(self) -> dict[str, Any]:
        """What the provenance records: the native engine's outputs keep their old record."""
        return without_native_engine(dataclasses.asdict(self))


def concatenate(inputs: Sequence[str], output: str, tile: str,
                params: ConcatParams | Mapping[str, Any] | None = None,
                storage_options: Mapping[str, Any] | None = None) -> StageResult:
    """Write the day's product of `tile` to `output` from `inputs` (ortho images, in time order)."""
    call = StageCall(STAGE, storage_options)
    inputs = list(inputs)
    if not inputs:
        raise NotCompatibleInput("concatenate needs at least one orthorectified image")
    params = call.params(ConcatParams, params)
    store = call.store
    with ExitStack() as stack:
        datasets = [stack.enter_context(store.open_raster(uri)) for uri in inputs]
        sources = [dict(dataset.tags()) for dataset in datasets]
        images = [_image_of(tags, uri) for tags, uri in zip(sources, inputs, strict=True)]
        fields = _product_fields(images, sources, inputs, tile)
        provenance = Provenance(STAGE, {**params.provenance_params(), "tile": tile,
                                        "sources": [input_identity(tags) for tags in sources]},
                                inputs)
        details = {"acquisition_stamp": fields["acquisition_stamp"], "inputs": len(inputs)}
        if call.reused([output], provenance):
            return call.skip([output], **details)
        _check_grids(datasets, inputs)
        carried, tags = _product_tags(images, sources, tile)
        product_tags = complete_tags(tags, extra={**carried, **params.metadata},
                                     provenance=provenance)
        reference = datasets[0]
        if len(datasets) == 1 and _encoded_as_product(reference, sources[0]):
            store.copy_cog(inputs[0], output, tags=product_tags)
            return call.done([output], copied=True, **details)
        otb = otb_finishing(params.engine)

        def strip(window: Window) -> np.ndarray:
            return first_non_null([dataset.read(1, window=window) for dataset in datasets])

        # OTB's Synthetize works on whole files; the native engine strip by strip.
        pixels = otb.synthetize([dataset.read(1) for dataset in datasets]) if otb else strip
        store.write_cog(output, pixels, shape=(reference.height, reference.width),
                        dtype=np.float32, crs=reference.crs, transform=reference.transform,
                        nodata=0.0, tags=product_tags)
    return call.done([output], **details)


def _encoded_as_product(dataset, tags: Mapping[str, str]) -> bool:
    """Whether an image is an `ortho` output the plan asked to encode as a product (its
    pixels are then never NaN, nor null other than 0), and is so encoded: float32, nodata 0,
    DEFLATE with predictor 3, 512² tiles, a COG with `Store.write_cog`'s overviews."""
    try:
        params = json.loads(tags.get("PROVENANCE_PARAMS", "{}"))
    except json.JSONDecodeError:
        return False
    if not (tags.get("PROVENANCE_STAGE") == "ortho" and isinstance(params, dict)
            and params.get("overviews") is True and params.get("compress") == "DEFLATE"):
        return False
    structure = dataset.tags(ns="IMAGE_STRUCTURE")
    return (structure.get("LAYOUT") == "COG" and structure.get("COMPRESSION") == "DEFLATE"
            and structure.get("PREDICTOR") == "3" and dataset.count == 1
            and dataset.dtypes[0] == "float32" and dataset.nodata == 0
            and dataset.block_shapes == [(512, 512)]
            and dataset.overviews(1) == _auto_overviews(dataset.width, dataset.height))


def _auto_overviews(width: int, height: int, block: int = 512) -> list[int]:
    """The overview factors of GDAL's COG driver by default: halvings while larger than a
    block."""
    factors, factor = [], 2
    while max(width, height) / (factor // 2) > block:
        factors.append(factor)
        factor *= 2
    return factors


def _image_of(tags: Mapping[str, str], uri: str) -> S1Image:
    """The S1 image an `ortho` output was made from, as its tags record it."""
    try:
        product = ProductName.parse(tags["INPUT_S1_IMAGES"])
        start = _stamp(tags["ACQUISITION_DATETIME"])
        measurement = (f"{tags['FLYING_UNIT_CODE']}-{product.mode.lower()}-"
                       f"{product.product_type[:3].lower()}-{tags['POLARIZATION']}-{start}-"
                       f"{product.stop.strftime('%Y%m%dt%H%M%S')}-{product.absolute_orbit:06d}-"
                       f"{product.datatake.lower()}-001.tiff")
        return S1Image(measurement, tags["ORBIT_DIRECTION"], product=product.name,
                       relative_orbit=int(tags["RELATIVE_ORBIT_NUMBER"]),
                       absolute_orbit=int(tags["ORBIT_NUMBER"]))
    except (KeyError, ValueError) as error:
        raise NotCompatibleInput(f"{uri} is not an orthorectified image of one S1 product "
                                 f"(made by the `ortho` stage): {error}") from None


def _stamp(acquisition_datetime: str) -> str:
    """`2020:01:08T04:41:50Z` → `20200108t044150` (the name stamp it was made from)."""
    match = re.fullmatch(r"(\d{4}):(\d\d):(\d\d)T(\d\d):(\d\d):(\d\d)Z", acquisition_datetime)
    if not match:
        raise ValueError(f"not an ACQUISITION_DATETIME: {acquisition_datetime!r}")
    y, m, d, hh, mm, ss = match.groups()
    return f"{y}{m}{d}t{hh}{mm}{ss}"


def _product_fields(images: list[S1Image], sources: list[dict[str, str]], inputs: list[str],
                    tile: str) -> dict[str, str]:
    """Name fields of the product; fails unless the inputs make one S1Tiling product."""
    for key in _SHARED_KEYS:
        values = {tags.get(key) for tags in sources}
        if len(values) > 1:
            raise NotCompatibleInput(f"inputs differ in {key} ({sorted(map(str, values))}): {inputs}")
    if sources[0].get("S2_TILE_CORRESPONDING_CODE", tile) != tile:
        raise NotCompatibleInput(f"inputs are on tile {sources[0]['S2_TILE_CORRESPONDING_CODE']}, "
                                 f"not {tile}: {inputs}")
    try:
        return tile_fields(images, tile)
    except ValueError as error:  # another polarisation, orbit, direction or day
        raise NotCompatibleInput(f"{error}: {inputs}") from None


def _check_grids(datasets: list, inputs: list[str]) -> None:
    first = datasets[0]
    for dataset, uri in zip(datasets[1:], inputs[1:], strict=True):
        if (dataset.shape, dataset.crs, dataset.transform) != (first.shape, first.crs, first.transform):
            raise NotCompatibleInput(f"{uri} is not on the grid of {inputs[0]}")


def _product_tags(images: list[S1Image], sources: list[dict[str, str]],
                  tile: str) -> tuple[dict[str, str], dict[str, str]]:
    """The earliest input's other keys (carried), and the product's (S1Tiling's concatenation metadata)."""
    earliest = sources[min(range(len(images)), key=lambda k: images[k].acquisition_time)]
    try:
        lower = earliest.get("LOWER_SIGNAL_VALUE")
        product = backscatter_tags(
            images, tile_name=tile, calibration=earliest["CALIBRATION"],
            noise_removed=earliest["NOISE_REMOVED"] == "True",
            lower_signal_value=float(lower) if lower else None,
            interpolator=earliest["ORTHORECTIFICATION_INTERPOLATOR"],
            spatial_resolution=float(earliest["SPATIAL_RESOLUTION"]),
            dem_info=earliest.get("DEM_INFO", ""), concatenated=True)
    except (KeyError, ValueError) as error:
        raise NotCompatibleInput(f"an input lacks the ortho key {error}") from None
    carried = {k: v for k, v in earliest.items() if not _NOT_CARRIED.match(k) and k not in product}
    return carried, product
