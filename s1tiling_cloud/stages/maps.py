"""What the map stages (`lia`, `ia`, `gamma_area`) and `ortho` share, kept out of `ortho.py` so
that a map pod does not import the orthorectification chain (calibration, resampling, SAFE
reading) for two small helpers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..exceptions import ConfigurationError, NotCompatibleInput
from ..geo import Grid
from ..store import Store


def check_kinds(outputs: Mapping[str, str], kinds: Mapping[str, str]) -> None:
    """ConfigurationError (exit 72, as every bad stage parameter: `StageCall.params`) unless
    `outputs` maps some of `kinds`' names (and only those) to URIs."""
    unknown = set(outputs) - set(kinds)
    if not outputs or unknown:
        raise ConfigurationError(f"outputs must map some of {sorted(kinds)} to URIs; got "
                                 f"{sorted(outputs)}")


def tile_heights(store: Store, uri: str, grid: Grid) -> np.ndarray:
    """The tile's ellipsoidal heights (float32, NaN where unknown); a raster of another grid is
    refused rather than silently misplacing every pixel."""
    with store.open_raster(uri) as dataset:
        found = Grid.of(dataset)
        if (found.crs != grid.crs or found.shape != grid.shape
                or not found.transform.almost_equals(grid.transform)):
            raise NotCompatibleInput(f"heights {uri} are on {found.shape} {found.crs} "
                                     f"{tuple(found.transform)[:6]}, not on the tile's grid "
                                     f"{grid.shape} {grid.crs} {tuple(grid.transform)[:6]}")
        # Not `masked=True`: building and filling a mask costs 3 s more on a 10980² tile.
        values = dataset.read(1, out_dtype=np.float32)
        nodata = dataset.nodata
        if nodata is not None and not np.isnan(nodata):
            values[values == np.float32(nodata)] = np.nan
        return values
