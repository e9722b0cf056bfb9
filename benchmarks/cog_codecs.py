"""COG encoding of one 10 m tile product (10980² float32 σ°, speckled, a no-data border) with
the codecs S1Tiling users can choose through `creation_options`: DEFLATE (S1Tiling's; level 1
and predictor 3 as `Store.write_cog` writes it), ZSTD (level 1, predictor 3), LERC_ZSTD
(lossless: MAX_Z_ERROR=0). Per codec: the write (with internal overviews, as a product) and a
full read, wall and CPU seconds of this process (GDAL's threads included), and the file size.

    .venv/bin/python benchmarks/cog_codecs.py [--size 10980] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
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


def clocked(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10980)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    image = speckled_tile(args.size)
    store = Store()
    transform = Affine(10.0, 0.0, 300000.0, 0.0, -10.0, 4900020.0)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="codecs-") as folder:
        for name, options in CODECS.items():
            path = os.path.join(folder, f"{name}.tif")
            write = clocked(lambda path=path, options=options: store.write_cog(
                path, image, crs="EPSG:32631", transform=transform, nodata=0.0, **options))
            with rasterio.open(path) as dataset:
                read = clocked(lambda dataset=dataset: dataset.read(1))
                assert np.array_equal(dataset.read(1, window=((0, 512), (0, 4096))),
                                      image[:512, :4096]), f"{name} is not lossless"
            figures[name] = {"write_wall_s": round(write[0], 2), "write_cpu_s": round(write[1], 2),
                             "read_wall_s": round(read[0], 2), "read_cpu_s": round(read[1], 2),
                             "size_mib": round(os.path.getsize(path) / 2**20)}
    print(f"\nCOG encoding of a {args.size}² float32 σ° tile with overviews, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| codec | write wall s | write CPU s | read wall s | read CPU s | MiB |")
    print("|---|---|---|---|---|---|")
    for name, row in figures.items():
        print(f"| {name} | {row['write_wall_s']} | {row['write_cpu_s']} | {row['read_wall_s']} | "
              f"{row['read_cpu_s']} | {row['size_mib']} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
