"""The steps after orthorectification with Orfeo ToolBox, as S1Tiling runs them:
concatenation (``Synthetize``), the border mask (``BandMath`` then
``BinaryMorphologicalOperation`` ball opening) and despeckling (``Despeckle``).

Each function takes and returns arrays, like its native twin in `engine.native`, so that a
stage reads its inputs and writes its COG the same way whatever the engine: the arrays go
through plain GeoTIFFs in a private temporary folder, OTB works on those files, and the
result is read back. Errors are OTB's (`OTBApplicationError`, `MissingApplication`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np
import rasterio

from ...georeferencing import not_georeferenced_ok
from .apps import run_app

#: The applications of this module (checked at once by `require` before a run).
FINISHING_APPS = ("Synthetize", "BandMath", "BinaryMorphologicalOperation", "Despeckle")


def _write(path: str, array: np.ndarray) -> str:
    with (not_georeferenced_ok(),
          rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1],
                        count=1, dtype=array.dtype) as dataset):
        dataset.write(array, 1)
    return path


def _read(path: str) -> np.ndarray:
    with not_georeferenced_ok(), rasterio.open(path) as dataset:
        return dataset.read(1)


def synthetize(images: Sequence[np.ndarray], *, ram_mb: int | None = None) -> np.ndarray:
    """The first non-null pixel of `images` in their order (float32), by ``Synthetize``."""
    with tempfile.TemporaryDirectory(prefix="s1tc-otb-") as work:
        inputs = [_write(os.path.join(work, f"in{i}.tif"), np.asarray(image, np.float32))
                  for i, image in enumerate(images)]
        out = os.path.join(work, "out.tif")
        run_app("Synthetize", {"il": inputs, "out": [out, "float"]}, ram_mb=ram_mb)
        return _read(out)


def border_mask(image: np.ndarray, radius: int = 5, *, ram_mb: int | None = None) -> np.ndarray:
    """S1Tiling's border mask: ``im1b1==0?0:1`` then a ball opening of `radius` (uint8 0/1)."""
    with tempfile.TemporaryDirectory(prefix="s1tc-otb-") as work:
        source = _write(os.path.join(work, "in.tif"), np.asarray(image, np.float32))
        binary = os.path.join(work, "binary.tif")
        run_app("BandMath", {"il": [source], "out": [binary, "uint8"], "exp": "im1b1==0?0:1"},
                ram_mb=ram_mb)
        out = os.path.join(work, "mask.tif")
        run_app("BinaryMorphologicalOperation",
                {"in": binary, "out": [out, "uint8"], "structype": "ball", "xradius": radius,
                 "yradius": radius, "filter": "opening", "foreval": 1, "backval": 0},
                ram_mb=ram_mb)
        return _read(out).astype(np.uint8, copy=False)


def despeckle(image: np.ndarray, method: str, radius: int, *, nb_looks: float | None = None,
              deramp: float | None = None, ram_mb: int | None = None) -> np.ndarray:
    """`image` filtered by OTB's ``Despeckle`` (lee, frost, gammamap, kuan), float32."""
    params: dict = {"filter": method, f"filter.{method}.rad": int(radius)}
    if method == "frost":
        params[f"filter.{method}.deramp"] = float(deramp)
    else:
        params[f"filter.{method}.nblooks"] = float(nb_looks)
    with tempfile.TemporaryDirectory(prefix="s1tc-otb-") as work:
        source = _write(os.path.join(work, "in.tif"), np.asarray(image, np.float32))
        out = os.path.join(work, "out.tif")
        run_app("Despeckle", {"in": source, "out": [out, "float"], **params}, ram_mb=ram_mb)
        return _read(out)
