"""Stage `ortho`: one S1 GRD product (or the products of one day) onto one S2 tile, every
asked polarisation.

Per product × tile, as S1Tiling's FullOrtho pipeline: border analysis, calibration (+ thermal
noise removal and the zero rule), margins cut, orthorectification. The tile's pixels are
projected into the radar image once (fast mode of `TileProjector`), which tells the window of
the product the tile needs; only that window is read and calibrated, then resampled.

The only product of its day (`day_product`) is the day's product itself (S1Tiling only renames
that image): its images get the products' tags and encoding, and, when they are final, their
border masks (`masks`) are written from the pixels in memory, as the `mask` stage would.

The products of a day with several (consecutive slices of one pass, in acquisition-time order)
are fused here too, with the native engine (`day_fusion.fuse_day`): each is projected,
calibrated and resampled in turn and merged in memory by the concatenation's rule (first
non-null pixel), and the day's products are written once: no per-image image is encoded, then
decoded and encoded again by a `concatenate` stage. Both paths share what an image is: its
params, tags and writing (`ortho_image`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..engine.native.calibrate import calibrate_window, product_border_cuts
from ..engine.native.resample import resample
from ..exceptions import ConfigurationError, NotCompatibleInput
from ..geo import Grid, TileProjector
from ..geo.tile_projection import radar_window
from ..outputs.metadata import Provenance, dem_info
from ..safe import Sentinel1Product
from .base import StageCall, StageResult, input_identity, provenance_matches
from .day_fusion import fuse_day
from .day_product import day_product_tags, image_of
from .maps import tile_heights
from .mask import masks_alone, masks_of_reused, remake_mask
from .ortho_image import INTERPOLATORS, OrthoParams, image_tags, open_grd, write_image

__all__ = ["OrthoParams", "ortho"]  # the params type the registry reads from this module


def ortho(product: str | Sequence[str], tile: str, heights_uri: str, outputs: Mapping[str, str],
          params: OrthoParams | Mapping[str, Any] | None = None,
          storage_options: Mapping[str, Any] | None = None,
          masks: Mapping[str, str] | None = None) -> StageResult:
    """Orthorectify `product` on `tile` for each polarisation of `outputs` ({pol: out URI}).

    Parameters
    ----------
    product : str or sequence of str
        The S1 GRD product; or the products of one day (tile × relative orbit × day), in
        acquisition-time order, fused into the day's products (`day_product`, native engine).
    tile : str
        The S2 tile.
    heights_uri : str
        The tile's heights (`heights` stage).
    outputs : mapping
        {polarisation (upper case): output URI}. Of a day's products: a polarisation only some
        products have is merged from those.
    params : OrthoParams or mapping, optional
        The `[Processing]` keys (`OrthoParams`).
    storage_options : mapping, optional
        The plan's `[Storage]` options.
    masks : mapping, optional
        {polarisation: mask URI}, a day's final products only, native engine: their border
        masks too (`stages.mask`), from the pixels written.

    Outputs that record this very call (the re-run rule) are kept: only the others are made,
    and the missing masks of kept products are made from them.
    """
    call = StageCall("ortho", storage_options)
    params = call.params(OrthoParams, params)
    products = [product] if isinstance(product, str | os.PathLike) else [str(p) for p in product]
    if not products:
        raise NotCompatibleInput("ortho needs at least one S1 product")
    masks = dict(masks or {})
    if masks and not (params.day_product and params.engine == "native" and set(masks) <= set(outputs)):
        raise ConfigurationError("ortho writes the masks of a day's products (day_product), one "
                                 "per polarisation of its outputs, with the native engine only")
    if len(products) > 1 and not (params.day_product and params.engine == "native"):
        raise ConfigurationError("ortho fuses several products into the day's products "
                                 "(day_product) with the native engine only")
    if alone := masks_alone(call, {outputs[pol]: uri for pol, uri in masks.items()}):
        return alone
    if params.engine == "otb":  # MissingApplication (exit 77) before any work
        from ..engine.otb.apps import require
        from ..engine.otb.chain import CHAIN_APPS

        require(*CHAIN_APPS)
    store = call.store
    heights_tags = store.read_tags(heights_uri)
    heights_identity = input_identity(heights_tags)
    params = dataclasses.replace(params, dem_info=dem_info(params.dem_info, heights_tags))
    provenance = {pol: Provenance("ortho", {**params.provenance_params(), "tile": tile,
                                            "polarisation": pol, "heights": heights_identity},
                                  [*products, heights_uri])
                  for pol in outputs}
    todo = {pol: uri for pol, uri in outputs.items()
            if not provenance_matches(store, uri, provenance[pol])}
    kept = {outputs[pol]: uri for pol, uri in masks.items() if pol not in todo}
    if not todo:
        if masks:  # the products are up to date: their masks alone, if missing
            return masks_of_reused(call, kept)
        return call.skip(list(outputs.values()))
    # the products up to date stay (their missing masks made from them); the others are made
    reused = [outputs[pol] for pol in outputs if pol not in todo]
    for product_uri, mask in kept.items():
        remake_mask(store, product_uri, mask)
        reused.append(mask)
    outputs, masks = todo, {pol: uri for pol, uri in masks.items() if pol in todo}

    grid = Grid.from_tile(tile, params.resolution)
    if len(products) > 1:
        result = fuse_day(call, products, tile, heights_uri, grid, outputs, masks, params,
                          provenance)
        result.outputs[:0] = reused
        return result
    product = products[0]
    with ThreadPoolExecutor(max_workers=1) as reader:  # the heights decode while the SAFE opens
        pending_heights = reader.submit(tile_heights, store, heights_uri, grid)
        s1 = open_grd(product, store)
        swath = s1.swaths[0]
        projector = TileProjector.open(s1, f"{swath}/{next(iter(outputs))}")
        heights = pending_heights.result()
    figures: dict[str, float] = {}
    clock = time.perf_counter()
    line, pixel = projector.project(grid, heights, dtype=np.float32)
    figures["project_s"] = round(time.perf_counter() - clock, 3)
    image_shape = s1.measurement(swath, next(iter(outputs))).shape
    window = radar_window(line, pixel, image_shape, margin=3)
    if window is None:
        return call.done(reused, reason=f"{tile} does not intersect {s1.name}")
    if params.engine == "otb":
        del heights
        result = _ortho_otb(s1, swath, tile, grid, line, pixel, image_shape, window, outputs,
                            params, provenance, call, figures)
        result.outputs[:0] = reused
        return result
    written: list[str] = list(reused)
    # Each polarisation's COG (and mask) is encoded in a thread of its own as soon as it is
    # resampled (GDAL releases the GIL): the encodes overlap each other and the next
    # polarisation's calibration and resampling, instead of queueing on one writer thread.
    # Memory no longer needed is written into again (the heights by the first resampling, an
    # image by the next calibration): fewer faults.
    spare_values, image = heights, None
    del heights
    with ThreadPoolExecutor(max_workers=len(outputs)) as writer:
        pending = []
        for pol, uri in outputs.items():
            clock = time.perf_counter()
            cuts = product_border_cuts(s1, swath, pol, params.override_azimuth_cut)
            image = calibrate_window(s1, swath, pol, window, params.calibration,
                                     params.remove_thermal_noise, params.lower_signal_value, cuts,
                                     out=image)
            figures[f"calibrate_{pol}_s"] = round(time.perf_counter() - clock, 3)
            clock = time.perf_counter()
            values = resample(image, line, pixel, (window.line_start, window.pixel_start),
                              INTERPOLATORS[params.interpolation], out=spare_values)
            spare_values = None
            figures[f"resample_{pol}_s"] = round(time.perf_counter() - clock, 3)
            tags = _tags(s1, swath, pol, tile, params, provenance[pol], uri)
            pending.append(writer.submit(write_image, store, uri, values, grid, tags, params,
                                         figures, f"write_{pol}_s", masks.get(pol)))
            del values
        del image
        for future in pending:
            written.extend(future.result())
    return call.done(written, window=dataclasses.asdict(window), **figures)


def _ortho_otb(s1: Sentinel1Product, swath: str, tile: str, grid: Grid, line: np.ndarray,
               pixel: np.ndarray, image_shape: tuple[int, int], window, outputs: Mapping[str, str],
               params: OrthoParams, provenance: Mapping[str, Provenance], call: StageCall,
               figures: dict[str, float]) -> StageResult:
    """The same outputs with S1Tiling's chain run by Orfeo ToolBox (`engine.otb`)."""
    store = call.store
    from ..engine.otb.chain import OtbChain, OtbChainSettings, work_folder

    settings = OtbChainSettings(str(params.dem_dir), str(params.geoid_file),
                                storage_options=store.storage_options)
    chain = OtbChain(s1, swath, grid, settings, figures)
    written: list[str] = []
    with work_folder(None) as folder:
        chain.prepare(line, pixel, image_shape, folder)
        for pol, uri in outputs.items():
            clock = time.perf_counter()
            cuts = product_border_cuts(s1, swath, pol, params.override_azimuth_cut)
            values = chain.run(pol, window, cuts, folder, calibration=params.calibration,
                               remove_thermal_noise=params.remove_thermal_noise,
                               lower_signal_value=params.lower_signal_value,
                               interpolation=params.interpolation, resolution=params.resolution)
            figures[f"otb_{pol}_s"] = round(time.perf_counter() - clock, 3)
            if params.overviews or params.day_product:  # encoded as a product: null is 0
                np.nan_to_num(values, copy=False, nan=0.0)
            written += write_image(store, uri, values, grid,
                                   _tags(s1, swath, pol, tile, params, provenance[pol], uri),
                                   params, figures, f"write_{pol}_s")
    return call.done(written, window=dataclasses.asdict(window), engine="otb", **figures)


def _tags(s1: Sentinel1Product, swath: str, pol: str, tile: str, params: OrthoParams,
          provenance: Provenance, uri: str) -> dict:
    """The tags of the image of `pol`: an orthorectified image's, or for a day's product
    (`params.day_product`) those the concatenation would give that image (`uri`: where it
    goes, for error messages)."""
    tags = image_tags(s1, swath, pol, tile, params, provenance)
    if not params.day_product:
        return tags
    return day_product_tags([image_of(tags, uri)], [tags], tile, params.metadata, provenance)
