"""COG encoding of one 10 m tile product (10980² float32 σ°, speckled, a no-data border) with
the codecs S1Tiling users can choose through `creation_options`: DEFLATE (S1Tiling's; level 1
and predictor 3 as `Store.write_cog` writes it), ZSTD (level 1, predictor 3), LERC_ZSTD
(lossless: MAX_Z_ERROR=0). Per codec, with internal overviews (as a product) and without:
the write as `Store.write_cog` does it (overviews computed in memory; one band in DEFLATE
compressed by `cog_tiles` with ISA-L, the COG driver writing only the header and IFDs; other
codecs by the COG driver reading from memory) and as the COG driver does it alone (reached
with an explicit `OVERVIEWS` creation option: a MEM copy of the array, overviews through a
temporary compressed file), wall and CPU seconds of this process (GDAL's and the encoder's
threads included), the check that both files hold the same pixels at every level (and
whether they are the same bytes), a full read and both file sizes.

    .venv/bin/python benchmarks/cog_codecs.py [--size 10980] [--source σ°.tif] [--json PATH]

`--source`: a real product's first band (and its no-data) instead of the synthetic tile.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from s1tiling_cloud.store import Store  # noqa: E402

CODECS = {
    "DEFLATE": {"compress": "DEFLATE"},
    "ZSTD": {"compress": "ZSTD"},
    "LERC_ZSTD": {"compress": "LERC_ZSTD", "creation_options": {"MAX_Z_ERROR": 0}},
}


def speckled_tile(size: int) -> np.ndarray:
    """σ° ≈ -12 dB under 4.4-look gamma speckle, its first 15% of columns no-data (0)."""
    rng = np.random.default_rng(7)
    image = rng.gamma(4.4, 10 ** -1.2 / 4.4, (size, size)).astype(np.float32)
    image[:, : int(0.15 * size)] = 0.0
    return image


def same_pixels(one: str, other: str) -> bool:
    """Whether two COGs hold the same pixels at full resolution and every overview."""
    with rasterio.open(one) as a, rasterio.open(other) as b:
        levels = len(a.overviews(1))
        if a.overviews(1) != b.overviews(1) or a.read(1).tobytes() != b.read(1).tobytes():
            return False
    for level in range(levels):
        with (rasterio.open(one, overview_level=level) as a,
              rasterio.open(other, overview_level=level) as b):
            if a.read(1).tobytes() != b.read(1).tobytes():
                return False
    return True


def clocked(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--source", type=Path, help="a float32 product to encode instead")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    transform = Affine(10.0, 0.0, 300000.0, 0.0, -10.0, 4900020.0)
    crs, nodata = "EPSG:32631", 0.0
    if args.source:
        with rasterio.open(args.source) as dataset:
            image, crs = dataset.read(1), dataset.crs
            transform, nodata = dataset.transform, dataset.nodata
    else:
        image = speckled_tile(args.size)
    store = Store()
    figures = {}
    with tempfile.TemporaryDirectory(prefix="codecs-") as folder:
        # Numba compiles (or loads from its cache) the overview kernels once per process.
        store.write_cog(os.path.join(folder, "warm.tif"), image[:1100, :1100], crs=crs,
                        transform=transform, nodata=nodata, blocksize=128)
        for name, options in CODECS.items():
            for overviews, driver_option in (("auto", "IGNORE_EXISTING"), (None, "NONE")):
                row = {}
                paths = {}
                for how in ("in memory", "COG driver"):
                    extra = dict(options)
                    if how == "COG driver":
                        extra["creation_options"] = {**options.get("creation_options", {}),
                                                     "OVERVIEWS": driver_option}
                    path = paths[how] = os.path.join(folder, f"{name}-{how[:3]}.tif")
                    write = partial(store.write_cog, path, image, crs=crs, transform=transform,
                                    nodata=nodata, overviews=overviews, **extra)
                    wall, cpu = clocked(write)
                    row[how] = (round(wall, 2), round(cpu, 2))
                row["same bytes"] = filecmp.cmp(paths["in memory"], paths["COG driver"],
                                                shallow=False)
                row["same pixels"] = same_pixels(paths["in memory"], paths["COG driver"])
                row["MiB"] = tuple(round(os.path.getsize(paths[how]) / 2**20, 1)
                                   for how in ("in memory", "COG driver"))
                if overviews:
                    with rasterio.open(paths["in memory"]) as dataset:
                        read = clocked(lambda dataset=dataset: dataset.read(1))
                        assert np.array_equal(dataset.read(1, window=((0, 512), (0, 4096))),
                                              image[:512, :4096]), f"{name} is not lossless"
                    row["read"] = (round(read[0], 2), round(read[1], 2))
                figures[f"{name}, {'overviews' if overviews else 'no overviews'}"] = row
                for path in paths.values():
                    os.remove(path)
    what = args.source or f"a synthetic {args.size}² float32 σ° tile"
    print(f"\nCOG encoding of {what}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; wall / CPU seconds")
    print("| codec | write (`write_cog`) | write (COG driver alone) | same pixels (bytes) | "
          "read | MiB (`write_cog` / driver) |")
    print("|---|---|---|---|---|---|")
    for name, row in figures.items():
        read = "{} / {}".format(*row["read"]) if "read" in row else ""
        same = "yes" if row["same pixels"] else "NO"
        print(f"| {name} | {row['in memory'][0]} / {row['in memory'][1]} | "
              f"{row['COG driver'][0]} / {row['COG driver'][1]} | "
              f"{same} ({'same' if row['same bytes'] else 'other'} bytes) | {read} | "
              "{} / {} |".format(*row["MiB"]))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
