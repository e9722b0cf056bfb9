"""Compile the native engine's numba kernels at image build time (run by the Dockerfile).

Every pod is a fresh process: without a cache, each one would spend tens of seconds compiling
the kernels it uses. Running the chain (heights, ortho, concatenate, mask, quicklook) on a
tiny synthetic product, then the despeckle filters and the maps (LIA, IA, γ area), fills $NUMBA_CACHE_DIR with
the kernels for the argument types the stages use; the image keeps that folder as the seed the
`s1tiling-cloud` wrapper copies to the pod's writable cache folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from s1tiling_cloud.cog_overviews import build
from s1tiling_cloud.engine.native.corrections import gamma_naught_rtc, normlim
from s1tiling_cloud.geo.s2tile import S2Tile
from s1tiling_cloud.stages.registry import run_stage
from s1tiling_cloud.testing import SyntheticGRD, write_dem_tiles, write_grd

TILE = "31TCJ"
RESOLUTION = 120.0
FILTERS = ({"method": "lee", "window_radius": 1, "nblooks": 4},
           {"method": "frost", "window_radius": 1, "deramp": 0.1},
           {"method": "gammamap", "window_radius": 1, "nblooks": 4},
           {"method": "kuan", "window_radius": 1, "nblooks": 4})


def stage_calls(tmp: Path) -> list[tuple[str, dict]]:
    """The stages with numba kernels, on a tiny product over 31TCJ (local files)."""
    # 40 m pixels (12 × 16 km): the γ-area map sizes its radar cell from a 64² sub-grid of
    # the tile, which a 3 × 4 km product would not span
    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=300, samples=400,
                                     pixel_spacing=40.0), tmp)
    lon0, lat0, lon1, lat1 = S2Tile.from_name(TILE).footprint.bounds
    write_dem_tiles(0.0, (lat0 - 0.05, lat1 + 0.05), (lon0 - 0.05, lon1 + 0.05), tmp / "dem",
                    kind="srtm3")
    heights, ortho, final = (str(tmp / name) for name in ("heights.tif", "ortho.tif", "final.tif"))
    calls = [("heights", {"tile": TILE, "resolution": RESOLUTION, "out_uri": heights,
                          "dem": {"dem_dir": str(tmp / "dem")}}),
             ("ortho", {"product": str(product), "tile": TILE, "heights_uri": heights,
                        "outputs": {"VV": ortho}, "params": {"resolution": RESOLUTION}}),
             ("concatenate", {"inputs": [ortho], "output": final, "tile": TILE}),
             ("mask", {"product": final, "output": str(tmp / "mask.tif")}),
             ("quicklook", {"product": final, "output": str(tmp / "quicklook.jpg")}),
             ("lia", {"product": str(product), "tile": TILE, "heights_uri": heights,
                      "outputs": {"sin_LIA": str(tmp / "sin_LIA.tif"), "LIA": str(tmp / "LIA.tif")},
                      "params": {"resolution": RESOLUTION}}),
             ("ia", {"product": str(product), "tile": TILE,
                     "outputs": {"IA": str(tmp / "IA.tif"), "cos_IA": str(tmp / "cos_IA.tif")},
                     "params": {"resolution": RESOLUTION}}),
             ("gamma_area", {"product": str(product), "tile": TILE, "heights_uri": heights,
                             "output": str(tmp / "GAMMA_AREA.tif"),
                             "mask_output": str(tmp / "GAMMA_AREA_mask.tif"),
                             "params": {"resolution": RESOLUTION}})]
    calls += [("despeckle", {"product": final, "output": str(tmp / f"filtered_{n}.tif"),
                             "params": params}) for n, params in enumerate(FILTERS)]
    return calls


def main() -> int:
    if not os.environ.get("NUMBA_CACHE_DIR"):
        sys.stderr.write("warm_numba: NUMBA_CACHE_DIR is not set: nothing would be kept\n")
        return 1
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, arguments in stage_calls(Path(tmp)):
            run_stage(name, arguments)
    # A 10 m tile's first overview levels are exact halvings (10980 -> 5490 -> 2745), a
    # kernel of their own that the 120 m tile above (915 -> 457) does not reach.
    build(np.ones((1, 4, 4), np.float32), [(2, 2), (1, 1)], "AVERAGE", 0.0)
    # NORMLIM and γ° RTC on float32 tiles (their stages need a β° product and a real map).
    tile = np.ones((4, 4), np.float32)
    normlim(tile, tile)
    gamma_naught_rtc(tile, tile, 100.0, 1.0)
    kernels = sum(1 for _ in Path(os.environ["NUMBA_CACHE_DIR"]).rglob("*.nbc"))
    sys.stderr.write(f"warm_numba: {kernels} compiled kernels cached in "
                     f"{time.perf_counter() - started:.0f} s\n")
    return 0 if kernels else 1


if __name__ == "__main__":
    sys.exit(main())
