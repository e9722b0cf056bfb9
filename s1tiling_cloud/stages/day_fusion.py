"""The `ortho` stage's fusion of a day's products: a same-day pair (or more) onto one S2 tile,
written once as the day's products.

S1Tiling orthorectifies each product of a tile × relative orbit × day into an image of its own,
then concatenates the images (first non-null pixel, in acquisition-time order). Here each
product is projected, calibrated and resampled in turn and merged at once into the day's
image of each polarisation (`engine.native.concatenate`'s in-place rule, the very merge the
`concatenate` stage makes of the images read back), which is then encoded once as the day's
product, with the tags the concatenation gives (`day_product.day_product_tags` over the
images) and its border mask. The per-image images are never encoded, nor read back.

Memory: while merging, the tile's heights, the projection, and one image per polarisation: the
projection arrays of the first product are projected into again for the next, the heights
become the scratch image the later products are resampled into before each merge, and a
calibrated window is calibrated into again when the next one has its shape. The polarisations
are encoded (each in a thread of its own) once every product is merged and the projection and
scratch are freed: the encodes then hold what the one-product ortho's hold, and so does the
peak (the ortho pod's size, `argo.defaults`); encoding each polarisation as soon as it was
merged, overlapping the next merge, saved ~1 s of a pair for 150 MiB more than that.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..engine.native.calibrate import calibrate_window, product_border_cuts
from ..engine.native.concatenate import concatenate as first_non_null
from ..engine.native.resample import resample
from ..geo import Grid, TileProjector
from ..geo.tile_projection import radar_window
from ..outputs.metadata import Provenance
from .base import StageCall, StageResult
from .day_product import day_product_tags, image_of, product_fields
from .maps import tile_heights
from .ortho_image import INTERPOLATORS, OrthoParams, image_tags, open_grd, write_image


def fuse_day(call: StageCall, products: Sequence[str], tile: str, heights_uri: str, grid: Grid,
             outputs: Mapping[str, str], masks: Mapping[str, str], params: OrthoParams,
             provenance: Mapping[str, Provenance]) -> StageResult:
    """Write the day's products `outputs` ({pol: URI}) of `products` (one day's, in
    acquisition-time order) on `tile`, and their border `masks` ({pol: URI}).

    Parameters
    ----------
    call : StageCall
        The `ortho` call (its store and clock).
    products : sequence of str
        The day's S1 GRD products (merged earliest first: the first non-null pixel is kept).
    tile : str
        The S2 tile.
    heights_uri : str
        The tile's heights.
    grid : Grid
        The tile's grid at the output resolution.
    outputs : mapping
        {polarisation: the day's product URI}: each is merged from the products that have
        that polarisation and see the tile.
    masks : mapping
        {polarisation: border mask URI}, of final products.
    params : OrthoParams
        The stage's params (`day_product`).
    provenance : mapping
        {polarisation: what the day's product records}.

    Returns
    -------
    StageResult
        The URIs written; a product that does not see the tile is left out (`missed`), and
        when none does nothing is written.
    """
    store = call.store
    with ThreadPoolExecutor(max_workers=1) as reader:  # the heights decode while the SAFEs open
        pending_heights = reader.submit(tile_heights, store, heights_uri, grid)
        # merged in acquisition-time order whatever the order given (the plan's already is):
        # the earliest product's pixels win, as its tags lead the day's product's
        opened = sorted((open_grd(uri, store) for uri in products),
                        key=lambda s1: s1.manifest.start_time)
        heights = pending_heights.result()
    swaths = [s1.swaths[0] for s1 in opened]
    has = [[pol for pol in outputs if pol in s1.polarisations(swath)]
           for s1, swath in zip(opened, swaths, strict=True)]
    last_projected = max((k for k, pols in enumerate(has) if pols), default=-1)
    figures: dict[str, float] = {}
    windows: dict[str, dict[str, int]] = {}
    missed: list[str] = []
    merged: dict[str, np.ndarray] = {}  # each polarisation's day image, merged so far
    sources: dict[str, list[tuple[str, dict]]] = {pol: [] for pol in outputs}  # its images
    spare: list[np.ndarray] = []  # tile arrays free to resample into
    projection = line = pixel = image = None
    for k, (s1, swath, pols) in enumerate(zip(opened, swaths, has, strict=True)):
        if pols:
            clock = time.perf_counter()
            projector = TileProjector.open(s1, f"{swath}/{pols[0]}")
            projection = projector.project(grid, heights, dtype=np.float32, out=projection)
            figures[f"project_{k}_s"] = round(time.perf_counter() - clock, 3)
            if k == last_projected:  # the heights are the next resampling's memory
                spare.append(heights)
                heights = None
            line, pixel = projection
            image_shape = s1.measurement(swath, pols[0]).shape
            window = radar_window(line, pixel, image_shape, margin=3)
            if window is None:
                missed.append(s1.name)
                pols = []
            else:
                windows[s1.name] = dataclasses.asdict(window)
                if image is not None and image.shape != window.shape:
                    image = None  # freed before the next window is calibrated
        for pol in pols:
            clock = time.perf_counter()
            cuts = product_border_cuts(s1, swath, pol, params.override_azimuth_cut)
            image = calibrate_window(s1, swath, pol, window, params.calibration,
                                     params.remove_thermal_noise, params.lower_signal_value,
                                     cuts, out=image)
            figures[f"calibrate_{pol}_{k}_s"] = round(time.perf_counter() - clock, 3)
            clock = time.perf_counter()
            values = resample(image, line, pixel, (window.line_start, window.pixel_start),
                              INTERPOLATORS[params.interpolation],
                              out=spare.pop() if spare else None)
            if pol in merged:  # the earlier products' pixels win
                first_non_null([merged[pol], values], out=merged[pol])
                spare.append(values)
            else:  # its nulls made 0, as the concatenation of one image makes them
                merged[pol] = first_non_null([values], out=values)
            del values
            figures[f"resample_{pol}_{k}_s"] = round(time.perf_counter() - clock, 3)
            sources[pol].append((s1.name, image_tags(s1, swath, pol, tile, params,
                                                      provenance[pol])))
    projection = line = pixel = image = heights = None  # freed before the encodes
    spare.clear()
    with ThreadPoolExecutor(max_workers=max(1, len(merged))) as writer:
        pending = {pol: writer.submit(write_image, store, outputs[pol], merged[pol], grid,
                                      _day_tags(sources[pol], tile, params, provenance[pol]),
                                      params, figures, f"write_{pol}_s", masks.get(pol))
                   for pol in merged}
        written = [uri for pol in outputs if pol in pending for uri in pending[pol].result()]
    if not written:
        reason = (f"{tile} does not intersect {', '.join(missed)}" if missed
                  else f"no product of the day has {', '.join(outputs)}")
        return call.done([], reason=reason)
    return call.done(written, windows=windows, missed=missed, **figures)


def _day_tags(images: Sequence[tuple[str, dict]], tile: str, params: OrthoParams,
              provenance: Provenance) -> dict[str, str]:
    """The tags of a day's product made of `images` ((product name, image tags), in time
    order): the concatenation's (`day_product_tags`), once the images are checked to make one
    S1Tiling product (`product_fields`)."""
    names = [name for name, _ in images]
    sources = [tags for _, tags in images]
    found = [image_of(tags, name) for name, tags in images]
    product_fields(found, sources, names, tile)
    return day_product_tags(found, sources, tile, params.metadata, provenance)
