"""What the two terrain corrections of a tile product share (`normlim`, `rtc`): the product
must carry the calibration the correction needs, its map must be on the product's grid and of
its tile (and orbit), and the output is reused while both inputs and the params are unchanged."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import NotCompatibleInput
from ..geo import Grid
from ..outputs.metadata import Provenance
from .base import StageCall, input_identity


@dataclass
class CorrectionInputs:
    """The product's pixels and tags, its grid, the map's bands and tags, the provenance."""

    values: np.ndarray
    tags: dict[str, str]
    grid: Grid
    map_bands: list[np.ndarray]
    map_tags: dict[str, str]
    provenance: Provenance


def read_correction_inputs(call: StageCall, product: str, map_uri: str, params: Any, *,
                           calibration: str, product_key: str, map_key: str, map_name: str,
                           bands: Sequence[int] = (1,),
                           same_keys: Sequence[str] = ("S2_TILE_CORRESPONDING_CODE",),
                           output: str,
                           rules: Mapping[str, Any] | None = None) -> CorrectionInputs | None:
    """The inputs of `call`'s stage correcting `product` with `map_uri`, or None when `output`
    already records this very provenance (the re-run rule). `NotCompatibleInput` when the
    product is not `calibration`, or the map is on another grid or has another value of
    `same_keys`. `rules`: what else changes the output without being a parameter (the
    version of a rule of the stage), recorded in the provenance so that a change of rule
    redoes the outputs made before it."""
    store, stage = call.store, call.stage
    with store.open_raster(product) as dataset:
        tags = dict(dataset.tags())
        grid = Grid.of(dataset)
        found = tags.get("CALIBRATION", calibration).lower()
        if found != calibration:
            raise NotCompatibleInput(f"{product} is calibrated {found!r}: {stage} needs {calibration}")
        map_tags = store.read_tags(map_uri)
        provenance = Provenance(stage, {**dataclasses.asdict(params), **(rules or {}),
                                        product_key: input_identity(tags),
                                        map_key: input_identity(map_tags)},
                                [product, map_uri])
        if call.reused([output], provenance):
            return None
        values = dataset.read(1)
    with store.open_raster(map_uri) as dataset:
        found_grid = Grid.of(dataset)
        if (found_grid.crs != grid.crs or found_grid.shape != grid.shape
                or not found_grid.transform.almost_equals(grid.transform)):
            raise NotCompatibleInput(f"{map_name} {map_uri} is not on the grid of {product}")
        map_bands = [dataset.read(band) for band in bands]
    for key in same_keys:
        if key in tags and key in map_tags and tags[key] != map_tags[key]:
            raise NotCompatibleInput(f"{map_uri} has {key}={map_tags[key]}, {product} {tags[key]}")
    return CorrectionInputs(values, tags, grid, map_bands, map_tags, provenance)
