"""S1Tiling's FullOrtho chain with Orfeo ToolBox, for one GRD product × S2 tile × polarisation.

As S1Tiling does, with OTB's command-line applications:

1. ``SARCalibration`` of the product's own measurement TIFF (OTB reads the SAFE's annotation,
   calibration and noise files next to it; its ``TIFFTAG_IMAGEDESCRIPTION`` must start with
   "Sentinel-1"), ``lut`` and ``removenoise``, the output cropped with the extended filename
   ``?&box=`` to the tile's radar window (calibrating after ``ExtractROI`` would be wrong: the
   LUTs are indexed by the full image's lines and pixels).
2. With noise removal, the zero rule ``BandMath im2b1==0 ? 0 : im1b1==0 ? lower : im1b1`` on
   (calibrated window, raw window). The raw window is cut by ``ExtractROI`` (raw DN: no index
   dependence), since command-line apps cannot share S1Tiling's in-memory pipeline.
3. ``ResetMargin``: S1Tiling's AnalyseBorders cuts are margins of the *whole* image; on the
   window they become a region of interest (``mode=roi``), skipped when nothing is cut there.
4. ``OrthoRectification`` on the tile grid: ``map=utm`` with the tile's zone/hemisphere,
   ``outputs.ulx/uly`` = the grid's upper-left corner, sizes, ±spacing, ``interpolator``,
   ``opt.gridspacing`` (4 × the resolution by default), ``elev.dem`` = a folder with the DEM
   tiles the covered part of the tile needs (symbolic links, or copies of remote tiles) and
   ``elev.geoid``. OTB silently replaces a missing DEM tile by the geoid, so the coverage is
   checked first with `DemSource.require` (`MissingDEMError`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import rasterio

from ...exceptions import MissingGeoidError, NotCompatibleInput
from ...geo import DemSource, Grid
from ...geo.dem import SRTM_FORMAT
from ...geo.tile_projection import RadarWindow
from ...safe import Sentinel1Product
from ...safe.location import _is_local
from ...store import Store
from ..native.margins import BorderCuts
from .apps import require, run_app

#: Every application the chain runs.
CHAIN_APPS = ("SARCalibration", "ExtractROI", "BandMath", "ResetMargin", "OrthoRectification")
#: Our interpolation names (and S1Tiling's) → OTB's.
OTB_INTERPOLATORS = {"nn": "nn", "nearest": "nn", "linear": "linear", "bco": "bco",
                     "bicubic": "bco"}
#: S1Tiling's calibration names → SARCalibration's ``lut``.
OTB_LUTS = {"sigma": "sigma", "beta": "beta", "gamma": "gamma", "dn": "dn", "normlim": "beta",
            "gamma_naught_rtc": "sigma"}


class NotOTBReadable(NotCompatibleInput):
    """The measurement TIFF is not one OTB recognises as Sentinel-1 (its image description)."""


@dataclass(frozen=True)
class OtbChainSettings:
    """What the OTB engine needs beyond the ortho params."""

    dem_dir: str
    geoid_file: str
    dem_format: str = SRTM_FORMAT
    gridspacing_factor: float = 4.0
    ram_mb: int | None = None
    threads: int | None = None
    #: Keep the intermediate files (calibrated window…) there instead of a temporary folder.
    keep_dir: str | None = None
    storage_options: dict | None = field(default=None, compare=False)


def covered_grid(grid: Grid, line: np.ndarray, pixel: np.ndarray,
                 image_shape: tuple[int, int]) -> Grid | None:
    """The part of `grid` whose pixels fall inside the image (bounding box), or None."""
    inside = ((line >= -0.5) & (line <= image_shape[0] - 0.5)
              & (pixel >= -0.5) & (pixel <= image_shape[1] - 0.5))
    rows = np.flatnonzero(inside.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(inside.any(axis=0))
    return grid.window(int(rows[0]), int(cols[0]), int(rows[-1] - rows[0] + 1),
                       int(cols[-1] - cols[0] + 1))


def window_margins(cuts: BorderCuts, window: RadarWindow,
                   image_shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The ROI (startx, starty, sizex, sizey) of `window` that S1Tiling's cuts of the whole
    image keep; None when they cut nothing in the window."""
    lines, pixels = image_shape
    rows, cols = window.shape
    left = int(np.clip(cuts.x - window.pixel_start, 0, cols))
    right = int(np.clip(window.pixel_stop - (pixels - cuts.x), 0, cols)) if cuts.x else 0
    top = int(np.clip(cuts.y_start - window.line_start, 0, rows))
    bottom = int(np.clip(window.line_stop - (lines - cuts.y_end), 0, rows)) if cuts.y_end else 0
    if left == right == top == bottom == 0:
        return None
    return left, top, max(cols - left - right, 0), max(rows - top - bottom, 0)


@contextmanager
def work_folder(keep_dir: str | None) -> Iterator[str]:
    if keep_dir is not None:
        os.makedirs(keep_dir, exist_ok=True)
        yield keep_dir
        return
    with tempfile.TemporaryDirectory(prefix="s1tiling-otb-") as folder:
        yield folder


def local_measurement(s1: Sentinel1Product, swath: str, pol: str, workdir: str) -> str:
    """A local path of the measurement TIFF with its SAFE around it (what OTB reads): the
    product's own file for a local SAFE folder, else a copy of the files OTB needs."""
    location = s1.location
    href = s1.file(swath, pol, "measurement").href
    if location.local_zip is None and _is_local(location.fs):
        return location.member(href)
    root = os.path.join(workdir, f"{s1.name}.SAFE")
    wanted = ["manifest.safe"] + [f.href for f in s1.manifest.files
                                  if (f.swath, f.polarisation) == (swath, pol)]
    for relpath in wanted:
        target = os.path.join(root, os.path.normpath(relpath))
        if os.path.exists(target) or not location.exists(relpath):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with location.fs.open(location.member(relpath), "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 16 << 20)
    return os.path.join(root, os.path.normpath(href))


def check_readable(measurement: str) -> None:
    """`NotOTBReadable` unless the TIFF's image description starts with "Sentinel-1"."""
    with rasterio.open(measurement) as dataset:
        description = dataset.tags().get("TIFFTAG_IMAGEDESCRIPTION", "")
    if not description.startswith("Sentinel-1"):
        raise NotOTBReadable(f"{measurement}: TIFFTAG_IMAGEDESCRIPTION {description[:40]!r} does "
                             "not start with 'Sentinel-1': OTB would not read it as Sentinel-1")


def dem_folder(settings: OtbChainSettings, grid: Grid, workdir: str) -> str:
    """A folder with the DEM tiles `grid` needs (checked: `MissingDEMError` names the missing
    ones), as S1Tiling's temporary DEM folder of links."""
    source = DemSource.tiles(settings.dem_dir, settings.dem_format,
                             storage_options=settings.storage_options)
    selection = source.require(grid, margin=2)
    folder = os.path.join(workdir, "dem")
    os.makedirs(folder, exist_ok=True)
    store = Store(settings.storage_options)
    for uri in selection.uris:
        target = os.path.join(folder, os.path.basename(uri))
        if os.path.lexists(target):
            continue
        if "://" in uri:
            with open(target, "wb") as out:
                out.write(store.read_bytes(uri))
        else:
            os.symlink(os.path.abspath(uri), target)
    return folder


def geoid_path(settings: OtbChainSettings) -> str:
    if not os.path.isfile(settings.geoid_file):
        raise MissingGeoidError(settings.geoid_file)
    return os.path.abspath(settings.geoid_file)


@dataclass
class OtbChain:
    """The chain for one product on one tile: `prepare` once, then `run` per polarisation."""

    s1: Sentinel1Product
    swath: str
    grid: Grid
    settings: OtbChainSettings
    figures: dict[str, float] = field(default_factory=dict)

    def prepare(self, line: np.ndarray, pixel: np.ndarray, image_shape: tuple[int, int],
                workdir: str) -> None:
        """Check the applications, the geoid and the DEM on the part of the tile the product
        covers, before any OTB run."""
        require(*CHAIN_APPS)
        self.geoid = geoid_path(self.settings)
        covered = covered_grid(self.grid, line, pixel, image_shape)
        if covered is None:
            raise NotCompatibleInput(f"{self.s1.name} does not cover the tile")
        self.dem = dem_folder(self.settings, covered, workdir)

    def _app(self, app: str, params: dict) -> None:
        clock = time.perf_counter()
        run_app(app, params, ram_mb=self.settings.ram_mb, threads=self.settings.threads)
        key = f"otb_{app}_s"
        self.figures[key] = round(self.figures.get(key, 0.0) + time.perf_counter() - clock, 3)

    def run(self, pol: str, window: RadarWindow, cuts: BorderCuts, workdir: str, *,
            calibration: str = "sigma", remove_thermal_noise: bool = True,
            lower_signal_value: float = 1e-7, interpolation: str = "nn",
            resolution: float = 10.0) -> np.ndarray:
        """σ°/β°/γ° of `pol` on the tile grid (float32, no-data 0)."""
        try:
            lut = OTB_LUTS[calibration]
            interpolator = OTB_INTERPOLATORS[interpolation]
        except KeyError as error:
            raise ValueError(f"unknown calibration or interpolation {error}") from None
        measurement = local_measurement(self.s1, self.swath, pol, workdir)
        check_readable(measurement)
        image_shape = self.s1.open_group(f"{self.swath}/{pol}").measurement.shape
        name = pol.lower()
        box = f"{window.pixel_start}:{window.line_start}:{window.shape[1]}:{window.shape[0]}"
        calibrated = os.path.join(workdir, f"{name}_calibrated.tif")
        self._app("SARCalibration", {"in": measurement, "out": [f"{calibrated}?&box={box}", "float"],
                                     "lut": lut, "removenoise": remove_thermal_noise})
        current = calibrated
        if remove_thermal_noise:
            raw = os.path.join(workdir, f"{name}_raw.tif")
            with rasterio.open(measurement) as dataset:
                raw_type = {"uint16": "uint16", "int16": "int16", "uint8": "uint8"}.get(
                    dataset.dtypes[0], "float")
            self._app("ExtractROI", {"in": measurement, "out": [raw, raw_type], "mode": "standard",
                                     "startx": window.pixel_start, "starty": window.line_start,
                                     "sizex": window.shape[1], "sizey": window.shape[0]})
            fixed = os.path.join(workdir, f"{name}_denoised.tif")
            lower = repr(float(lower_signal_value))  # "1e-07", as S1Tiling writes it
            self._app("BandMath", {"il": [current, raw], "out": [fixed, "float"],
                                   "exp": f"im2b1==0?0:im1b1==0?{lower}:im1b1"})
            current = fixed
        roi = window_margins(cuts, window, image_shape)
        if roi is not None:
            cut = os.path.join(workdir, f"{name}_cut.tif")
            self._app("ResetMargin", {"in": current, "out": [cut, "float"], "mode": "roi",
                                      "roi.startx": roi[0], "roi.starty": roi[1],
                                      "roi.sizex": roi[2], "roi.sizey": roi[3]})
            current = cut
        ortho = os.path.join(workdir, f"{name}_ortho.tif")
        self._app("OrthoRectification", self.ortho_params(current, ortho, interpolator,
                                                          resolution))
        with rasterio.open(ortho) as dataset:
            if (dataset.shape != self.grid.shape
                    or not dataset.transform.almost_equals(self.grid.transform)):
                raise NotCompatibleInput(f"OTB wrote {dataset.shape} {tuple(dataset.transform)[:6]},"
                                         f" not the tile grid {self.grid.shape}")
            return dataset.read(1).astype(np.float32, copy=False)

    def ortho_params(self, source: str, out: str, interpolator: str, resolution: float) -> dict:
        """OrthoRectification's parameters as S1Tiling sets them."""
        epsg = self.grid.crs.to_epsg() or 0
        if not (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
            raise NotCompatibleInput(f"the tile grid's CRS {self.grid.crs} is not UTM")
        transform = self.grid.transform
        rows, cols = self.grid.shape
        return {"io.in": source, "io.out": [out, "float"], "map": "utm",
                "map.utm.zone": epsg % 100, "map.utm.northhem": epsg < 32700,
                "outputs.ulx": float(transform.c), "outputs.uly": float(transform.f),
                "outputs.sizex": cols, "outputs.sizey": rows,
                "outputs.spacingx": float(resolution), "outputs.spacingy": -float(resolution),
                "interpolator": interpolator,
                "opt.gridspacing": self.settings.gridspacing_factor * float(resolution),
                "elev.dem": self.dem, "elev.geoid": self.geoid}


__all__ = ["CHAIN_APPS", "NotOTBReadable", "OtbChain", "OtbChainSettings", "covered_grid",
           "dem_folder", "local_measurement", "window_margins", "work_folder"]
