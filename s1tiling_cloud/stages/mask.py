"""Stage `mask`: the `_BorderMask` of a final tile product (S1Tiling step 8).

`im != 0` as uint8, then a binary opening by a ball of radius 5 (fixed in S1Tiling), so that the
ragged, noisy border of the valid area is trimmed. The mask is computed on the *final* product
(after NORMLIM/RTC when there is one); the caller names it (`mask_name`). uint8 0/1, no nodata:
0 is a value of the mask, not a missing one.

With the native engine the plan has no `mask` node: the stage that writes a final product
(`ortho` of a day's products, `concatenate`, `normlim`, `rtc`) writes its mask too, from the
pixels it has in memory, with `write_product_mask`; the mask is the very file this stage would
write (pixels, tags and provenance), so either can reuse the other's. When such a stage reuses
its product, `masks_of_reused` makes a missing mask with this stage, from the product read back;
when its products exist and only masks are missing, `masks_alone` makes them from the products
before the stage reads any input (its inputs may be gone: a re-run does not make them again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from affine import Affine

# The engine under its module's name: `border_mask` was this stage's own name once, and an
# import of it from here must not silently get the engine's function.
from ..engine.native import mask as mask_engine
from ..outputs.metadata import Provenance, complete_tags, mask_tags
from ..store import Store
from .base import StageCall, StageResult, input_identity, provenance_matches
from .engines import otb_finishing, without_native_engine

STAGE = "mask"


def mask(product: str, output: str, storage_options: Mapping[str, Any] | None = None,
                engine: str = "native") -> StageResult:
    """Write the border mask of `product` to `output` (uint8 0/1 COG, `IMAGE_TYPE=MASK`);
    `engine` "otb" runs S1Tiling's BandMath + BinaryMorphologicalOperation instead."""
    call = StageCall(STAGE, storage_options)
    otb_finishing(engine)  # MissingApplication (exit 77) before any work
    details = remake_mask(call.store, product, output, engine)
    return call.skip([output]) if details is None else call.done([output], **details)


def remake_mask(store: Store, product: str, output: str, engine: str = "native"
                ) -> dict[str, float] | None:
    """Write the border mask of `product` (read back) to `output` unless `output` records this
    very provenance (then None: reused). The `mask` stage's work, also done by the stages that
    write a product's mask themselves when they reuse the product.

    Parameters
    ----------
    store : Store
        Where the product is and the mask goes.
    product, output : str
        The product's and the mask's URIs.
    engine : str
        "native" or "otb".
    """
    with store.open_raster(product) as dataset:
        base = dict(dataset.tags())
        if provenance_matches(store, output, mask_provenance(product, base, engine)):
            return None
        image = dataset.read(1)
        crs, transform = dataset.crs, dataset.transform
    return write_mask(store, product, output, image, crs=crs, transform=transform, base=base,
                      engine=engine)


def mask_provenance(product: str, base: Mapping[str, str], engine: str = "native") -> Provenance:
    """What the border mask of `product` (whose tags are `base`) records: the mask's radius,
    the product's identity and the engine.

    Parameters
    ----------
    product : str
        The product's URI.
    base : mapping
        The product's tags, as read from it.
    engine : str
        "native" or "otb".
    """
    recorded = without_native_engine({"radius": mask_engine.MASK_RADIUS,
                                      "source": input_identity(base), "engine": engine})
    return Provenance(STAGE, recorded, [product])


def write_mask(store: Store, product: str, output: str, pixels: np.ndarray, *, crs: Any,
               transform: Affine, base: Mapping[str, str], engine: str = "native"
               ) -> dict[str, float]:
    """Write the border mask of the product `product` to `output`, from its pixels.

    Parameters
    ----------
    store : Store
        Where `output` goes.
    product : str
        The product's URI (recorded in the mask's provenance).
    output : str
        The mask's URI.
    pixels : numpy.ndarray
        The product's pixels, or any array non-null where they are (`pixels != 0` as uint8).
    crs, transform
        The product's grid.
    base : mapping
        The product's tags, as read from it (the mask's tags and provenance derive from them).
    engine : str
        "native", or "otb" for S1Tiling's applications.

    Returns
    -------
    dict
        `valid_fraction`: the share of the tile the mask keeps.
    """
    otb = otb_finishing(engine)
    radius = mask_engine.MASK_RADIUS
    values = otb.border_mask(pixels, radius) if otb else mask_engine.border_mask(pixels, radius)
    valid = int(np.count_nonzero(values))
    store.write_cog(output, values, crs=crs, transform=transform, nodata=None, dtype=np.uint8,
                    tags=complete_tags(mask_tags(base),
                                       provenance=mask_provenance(product, base, engine)))
    return {"valid_fraction": round(valid / values.size, 6)}


def write_product_mask(store: Store, product: str, output: str, pixels: np.ndarray, *, crs: Any,
                       transform: Affine, engine: str = "native") -> dict[str, float]:
    """The border mask of the product just written at `product`, from its pixels still in
    memory: the file the `mask` stage would write from the product read back.

    Parameters
    ----------
    store : Store
        Where the product is and the mask goes.
    product, output : str
        The product's and the mask's URIs.
    pixels : numpy.ndarray
        The product's pixels, or `pixels != 0` as uint8.
    crs, transform
        The product's grid.
    engine : str
        "native" or "otb".
    """
    return write_mask(store, product, output, pixels, crs=crs, transform=transform,
                      base=store.read_tags(product), engine=engine)


def masks_alone(call: StageCall, masks: Mapping[str, str]) -> StageResult | None:
    """When every product (the keys of `masks`) exists and one of their masks (the values) does
    not: the missing masks made from the products as they are, and the call's result; else None
    (the stage does its work). S1Tiling's rule that an output which exists is kept, whoever made
    it: a re-run after a lost mask reads the product only, not the stage's inputs
    (`runners.remaining` does not make them again for it).

    Parameters
    ----------
    call : StageCall
        The call of the stage that writes the products.
    masks : mapping
        {product URI: its mask's URI}.
    """
    store = call.store
    if not masks or not all(store.exists(product) for product in masks):
        return None
    missing = {product: output for product, output in masks.items() if not store.exists(output)}
    if not missing:
        return None
    for product, output in missing.items():
        remake_mask(store, product, output)
    return call.done([*masks, *masks.values()], masks_only=True)


def masks_of_reused(call: StageCall, masks: Mapping[str, str]) -> StageResult:
    """The result of `call`, whose products (the keys of `masks`) are up to date: their masks
    (the values, native engine) are made again from them where missing or stale, as the `mask`
    stage makes them; the products are not touched.

    Parameters
    ----------
    call : StageCall
        The call of the stage that writes the products.
    masks : mapping
        {product URI: its mask's URI}.
    """
    made = [remake_mask(call.store, product, output) for product, output in masks.items()]
    outputs = [*masks, *masks.values()]
    if all(details is None for details in made):
        return call.skip(outputs)
    return call.done(outputs, masks_only=True)
