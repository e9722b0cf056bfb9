"""Repaint a real product: its measurement replaced by a synthetic scene with known truth.

``repaint(fixture_safe_dir, out_dir, sigma0_db=-12, targets=[...])`` copies a real SAFE product
(e.g. one of the tests' real fixtures, whose measurements are constant) and writes new
measurement TIFFs: a σ° field with gamma speckle and thermal noise, turned into DN with the
product's REAL calibration (sigmaNought) and noise LUTs (range vectors times the azimuth blocks
of IPF >= 2.90, interpolated bilinearly and held at the edges, as ESA specifies), IPF-like
no-data borders, and bright point targets placed with the product's own geolocation grid
(`esa_grid.EsaGridLocator`, not the package's range-Doppler code): real ESA geometry is then
the truth an orthorectification is checked against.

The TIFFs get back what Orfeo ToolBox and S1Tiling need and the fixtures lost:
``TIFFTAG_IMAGEDESCRIPTION`` ("Sentinel-1B IW GRD HR L1"), ``TIFFTAG_SOFTWARE`` ("Sentinel-1 IPF
003.40"), ``TIFFTAG_DATETIME``, and the geolocation grid as GCPs; the manifest's size and MD5 of
each rewritten measurement are updated (the product keeps its name). Written block by block of
lines, in a temporary folder renamed into place.

Truth: `esa_target_truth` gives each target's (line, pixel) in the product and (x, y) on an
output grid, exactly as `repaint` placed it (same arguments).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.windows import Window

from .esa_grid import EsaGridLocator, ProductAnnotation, annotation_paths
from .manifest_writer import md5_and_size
from .measurement_writer import STATISTICS_LINE_STEP, tiff_datetime
from .radiometry import LineInterpolator
from .scene import NO_SPECKLE, Margins, render_block, speckle_table, stream_key
from .spec import Sigma0
from .targets import RenderedTarget, Target, TargetTruth, on_grid
from .terrain import DemLike, Terrain

#: Lines rendered and written per block.
BLOCK_LINES = 512
#: Spacing (pixels) of the lattice where a σ° field's (lat, lon) are computed exactly.
FIELD_STEP = 32
_RESOLUTION = {"H": "HR", "M": "MR", "F": "FR"}


# -- the product's LUTs ----------------------------------------------------------------------


@dataclass(frozen=True)
class AzimuthBlock:
    """One ``noiseAzimuthVector``: a block of lines x samples and its LUT along lines."""

    first_line: int
    last_line: int
    first_sample: int
    last_sample: int
    lines: np.ndarray
    lut: np.ndarray

    def factors(self, rows: np.ndarray) -> np.ndarray:
        if self.lines.size == 1:
            return np.full(rows.shape, float(self.lut[0]))
        return np.interp(rows, self.lines, self.lut)


@dataclass(frozen=True)
class ProductLuts:
    """σ° calibration and thermal noise of one measurement, ready for `render_block`."""

    sigma: LineInterpolator
    noise: LineInterpolator
    azimuth: tuple[AzimuthBlock, ...]

    @classmethod
    def read(cls, calibration_xml: Path, noise_xml: Path, samples: int) -> ProductLuts:
        cal = ET.parse(calibration_xml).getroot()
        vectors = cal.findall("calibrationVectorList/calibrationVector")
        sigma = LineInterpolator.build(
            [float(v.findtext("line")) for v in vectors],
            [np.array(v.findtext("pixel").split(), float) for v in vectors],
            [np.array(v.findtext("sigmaNought").split(), float) for v in vectors],
            samples, hold_edges=True)
        root = ET.parse(noise_xml).getroot()
        vectors, tag = root.findall("noiseRangeVectorList/noiseRangeVector"), "noiseRangeLut"
        if not vectors:  # IPF < 2.90
            vectors, tag = root.findall("noiseVectorList/noiseVector"), "noiseLut"
        noise = LineInterpolator.build(
            [float(v.findtext("line")) for v in vectors],
            [np.array(v.findtext("pixel").split(), float) for v in vectors],
            [np.array(v.findtext(tag).split(), float) for v in vectors],
            samples, hold_edges=True)
        blocks = []
        for b in root.findall("noiseAzimuthVectorList/noiseAzimuthVector"):
            blocks.append(AzimuthBlock(
                int(b.findtext("firstAzimuthLine")), int(b.findtext("lastAzimuthLine")),
                int(b.findtext("firstRangeSample")), int(b.findtext("lastRangeSample")),
                np.array(b.findtext("line").split(), float),
                np.array(b.findtext("noiseAzimuthLut").split(), float)))
        return cls(sigma, noise, tuple(blocks))

    def breaks(self, lines: int) -> list[int]:
        """Lines where the set of azimuth blocks covering a column may change."""
        edges = {0, lines}
        for b in self.azimuth:
            edges.update((b.first_line, b.last_line + 1))
        return sorted(e for e in edges if 0 <= e <= lines)

    def azimuth_factors(self, row0: int, nrows: int, samples: int
                        ) -> tuple[np.ndarray, np.ndarray]:
        """(factors (groups, nrows), group of each column) for lines within one span of
        `breaks`; columns no block covers get a factor of 1."""
        rows = np.arange(row0, row0 + nrows, dtype=np.float64)
        active = [b for b in self.azimuth if b.first_line <= row0 and row0 + nrows - 1 <= b.last_line]
        group = np.full(samples, len(active), dtype=np.int8)
        factors = np.ones((len(active) + 1, nrows))
        for k, b in enumerate(active):
            group[max(b.first_sample, 0) : min(b.last_sample + 1, samples)] = k
            factors[k] = b.factors(rows)
        return np.ascontiguousarray(factors), group


# -- the manifest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestFacts:
    """The few manifest facts the TIFF tags need."""

    mission_letter: str
    mode: str
    product_type: str
    ipf_version: str
    processing_stop: np.datetime64 | None

    @classmethod
    def read(cls, safe: Path) -> ManifestFacts:
        text = (safe / "manifest.safe").read_text(encoding="utf-8")

        def find(pattern: str, default: str = "") -> str:
            m = re.search(pattern, text)
            return m.group(1) if m else default

        stop = find(r'<safe:processing name="GRD Post Processing"[^>]*stop="([^"]+)"')
        return cls(
            mission_letter=find(r"<safe:number>\s*([A-D])\s*</safe:number>", safe.name[2]),
            mode=find(r"<s1sarl1:mode>\s*(\w+)\s*</s1sarl1:mode>", "IW"),
            product_type=find(r"<s1sarl1:productType>\s*(\w+)\s*</s1sarl1:productType>", "GRD"),
            ipf_version=find(r'<safe:software name="Sentinel-1 IPF" version="([^"]+)"'),
            processing_stop=np.datetime64(stop, "ns") if stop else None,
        )

    def description(self, product_name: str) -> str:
        """TIFFTAG_IMAGEDESCRIPTION as ESA writes it: 'Sentinel-1B IW GRD HR L1'."""
        m = re.match(r"S1[A-D]_\w\w_GRD([HMF])_", product_name)
        res = _RESOLUTION.get(m.group(1), "HR") if m else "HR"
        return f"Sentinel-1{self.mission_letter} {self.mode} {self.product_type} {res} L1"

    @property
    def software(self) -> str:
        return f"Sentinel-1 IPF {self.ipf_version}"


def update_manifest(safe: Path, measurements: Sequence[Path]) -> None:
    """Set the size and MD5 the manifest lists for each rewritten measurement file."""
    path = safe / "manifest.safe"
    text = path.read_text(encoding="utf-8")
    for tiff in measurements:
        md5, size = md5_and_size(tiff)
        href = re.escape(f"./measurement/{tiff.name}")
        pattern = re.compile(
            r'(<byteStream[^>]*?size=")\d+("[^>]*>\s*<fileLocation[^>]*href="' + href
            + r'"\s*/>\s*<checksum checksumName="MD5">)[0-9a-fA-F]*(</checksum>)')
        text, count = pattern.subn(rf"\g<1>{size}\g<2>{md5}\g<3>", text)
        if count != 1:
            raise ValueError(f"{path}: no single data object for {tiff.name}")
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


# -- truth -------------------------------------------------------------------------------------


def _targets_terrain(dem: DemLike | None, geoid) -> Terrain:
    """The repainted scene's surface: the DEM + geoid, or the geoid itself (0 m over it)."""
    return Terrain.of(0.0, 0.0 if dem is None else dem, geoid)


def esa_target_truth(safe_dir: str | os.PathLike, targets: Sequence[Target], grid=None, *,
                     dem: DemLike | None = None, geoid: str | os.PathLike | None = None,
                     pol: str | None = None) -> list[TargetTruth]:
    """Where `repaint` puts ``targets`` in the product (ESA's grid) and on ``grid``.

    A target's height: its ``height_above_geoid``, else the DEM's, else 0 m, plus the geoid
    undulation. ``pol``: whose annotation (the first measurement's by default; all of a
    product's polarisations share the geometry).
    """
    annotations = annotation_paths(safe_dir)
    if not annotations:
        raise FileNotFoundError(f"no measurement with its annotation in {safe_dir}")
    path = annotations[pol.upper()] if pol else next(iter(annotations.values()))
    return _truths(EsaGridLocator(path), targets, _targets_terrain(dem, geoid), grid)


def _truths(locator: EsaGridLocator, targets: Sequence[Target], terrain: Terrain, grid
            ) -> list[TargetTruth]:
    targets = list(targets)
    if not targets:
        return []
    lat = np.array([t.lat for t in targets], dtype=np.float64)
    lon = np.array([t.lon for t in targets], dtype=np.float64)
    above = np.array([np.nan if t.height_above_geoid is None else t.height_above_geoid
                      for t in targets])
    h = terrain.ellipsoid_height(lat, lon, above)
    line, pixel = locator.ground_to_image(lat, lon, h)
    truths = [TargetTruth(t, float(lat[k]), float(lon[k]), float(h[k]), float(line[k]),
                          float(pixel[k])) for k, t in enumerate(targets)]
    return on_grid(truths, grid)


# -- the scene ---------------------------------------------------------------------------------


class _FieldLatLon:
    """(lat, lon) of every pixel of a block, bilinear between exact points every FIELD_STEP
    pixels (ESA's grid, on the scene's surface)."""

    def __init__(self, locator: EsaGridLocator, terrain: Terrain, lines: int, samples: int):
        self.locator, self.terrain = locator, terrain
        self.samples = samples
        self.cols = np.unique(np.append(np.arange(0, samples, FIELD_STEP), samples - 1)).astype(float)
        self.lines = np.unique(np.append(np.arange(0, lines, FIELD_STEP), lines - 1)).astype(float)
        self._rows: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def _row(self, line: float) -> tuple[np.ndarray, np.ndarray]:
        if line not in self._rows:
            lat, lon, _ = self.locator.image_to_ground(np.full(self.cols.shape, line), self.cols,
                                                       self.terrain.height)
            self._rows[line] = (lat, lon)
        return self._rows[line]

    def __call__(self, row0: int, nrows: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(row0, row0 + nrows, dtype=float)
        k = np.clip(np.searchsorted(self.lines, rows, side="right") - 1, 0, len(self.lines) - 2)
        j = np.arange(self.samples, dtype=float)
        for line in list(self._rows):
            if line < self.lines[k.min()]:
                del self._rows[line]
        lat = np.empty((nrows, self.samples))
        lon = np.empty((nrows, self.samples))
        for kk in np.unique(k):
            a, b = self.lines[kk], self.lines[kk + 1]
            la0, lo0 = self._row(a)
            la1, lo1 = self._row(b)
            lon1 = (lo1 - lo0 + 180.0) % 360.0 - 180.0 + lo0
            here = k == kk
            w = ((rows[here] - a) / (b - a))[:, None]
            lat[here] = np.interp(j, self.cols, la0)[None] * (1 - w) + np.interp(j, self.cols, la1)[None] * w
            lon[here] = np.interp(j, self.cols, lo0)[None] * (1 - w) + np.interp(j, self.cols, lon1)[None] * w
        return lat, (lon + 180.0) % 360.0 - 180.0


def _sigma0_of(sigma0_db: Sigma0, pol: str) -> float | Callable:
    if isinstance(sigma0_db, Mapping):
        return float(sigma0_db[pol.upper()])
    if callable(sigma0_db):
        return sigma0_db
    return float(sigma0_db)


def _write_measurement(tiff: Path, ann: ProductAnnotation, luts: ProductLuts,
                       locator: EsaGridLocator, terrain: Terrain, sigma0: float | Callable,
                       targets: list[RenderedTarget], margins: Margins, table: np.ndarray,
                       key: np.uint64, tags: dict[str, str], compress: str | None) -> float:
    """Render and write one measurement; return the mean DN (of every 4th line)."""
    lines, samples = ann.lines, ann.samples
    field = _FieldLatLon(locator, terrain, lines, samples) if callable(sigma0) else None
    gcps = [GroundControlPoint(row=float(ann.grid_lines[i]), col=float(ann.grid_pixels[j]),
                               x=float(ann.grid_lon[i, j]), y=float(ann.grid_lat[i, j]),
                               z=float(ann.grid_height[i, j]), id=str(i * ann.grid_pixels.size + j + 1))
            for i in range(ann.grid_lines.size) for j in range(ann.grid_pixels.size)]
    profile = dict(driver="GTiff", width=samples, height=lines, count=1, dtype="uint16",
                   interleave="band", tiled=False, gcps=gcps, crs=CRS.from_epsg(4326))
    if compress:
        profile["compress"] = compress
    breaks = luts.breaks(lines)
    total, count = 0.0, 0
    buffer = np.empty((BLOCK_LINES, samples), dtype=np.uint16)
    with rasterio.open(tiff, "w", **profile) as dst:
        dst.update_tags(**tags)
        for row0 in range(0, lines, BLOCK_LINES):
            nrows = min(BLOCK_LINES, lines - row0)
            out = buffer[:nrows]
            cuts = sorted({row0, row0 + nrows, *(b for b in breaks if row0 < b < row0 + nrows)})
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                az, group = luts.azimuth_factors(a, b - a, samples)
                if field is None:
                    s0 = np.full((1, 1), 10.0 ** (float(sigma0) / 10.0), dtype=np.float32)
                else:
                    lat, lon = field(a, b - a)
                    db = np.asarray(sigma0(lat, lon), dtype=np.float64)
                    s0 = np.ascontiguousarray(10.0 ** (np.broadcast_to(db, lat.shape) / 10.0),
                                              dtype=np.float32)
                render_block(out[a - row0 : b - row0], a, luts.sigma, luts.noise, az, group, s0,
                             margins, 0.0, table, key, targets)
            dst.write(out, 1, window=Window(0, row0, samples, nrows))
            sample = out[(-row0) % STATISTICS_LINE_STEP :: STATISTICS_LINE_STEP]
            total += float(sample.sum(dtype=np.float64))
            count += sample.size
    return total / max(count, 1)


def _copy_tree(src: Path, dst: Path, skip: set[Path]) -> None:
    """Copy a folder's files (writable copies, whatever the source's modes), skipping some."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path in skip or path.name.endswith(".aux.xml"):
            continue
        if path.is_dir():
            (dst / rel).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst / rel)


def repaint(
    fixture_safe_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    sigma0_db: Sigma0 = -12.0,
    targets: Sequence[Target] = (),
    *,
    polarisations: Sequence[str] | None = None,
    dem: DemLike | None = None,
    geoid: str | os.PathLike | None = None,
    looks: float = 4.4,
    speckle: bool = True,
    seed: int = 0,
    margins: bool = True,
    compress: str | None = None,
) -> Path:
    """Copy the SAFE product ``fixture_safe_dir`` under ``out_dir`` (same name) with new
    measurements; return the new product's path. An existing copy is replaced.

    - ``sigma0_db``: a constant (dB), one per polarisation, or ``f(lat, lon) -> dB`` (placed
      with ESA's grid on the scene's surface).
    - ``targets``: `Target`s, placed with ESA's grid at their height: ``height_above_geoid``,
      else the DEM's, else 0 m, plus the geoid (``geoid``: EGM96 by default).
    - ``dem``: the scene's surface (heights over the geoid: a function, a constant or a
      raster/tile folder); None: the geoid.
    - ``looks`` and ``speckle``: gamma speckle (``speckle=False``: each DN is its mean,
      background thermal noise included -- the real noise LUTs are kept, so that noise removal
      stays exact); ``seed`` keys the random streams.
    - ``margins``: IPF-like no-data borders (else the whole image is valid).
    - ``compress``: e.g. "ZSTD" for small test products (ESA's TIFFs are uncompressed).
    """
    src = Path(fixture_safe_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    annotations = annotation_paths(src)
    if polarisations is not None:
        wanted = {p.upper() for p in polarisations}
        missing = wanted - set(annotations)
        if missing:
            raise FileNotFoundError(f"{src.name}: no measurement and annotation for {sorted(missing)}")
        annotations = {p: a for p, a in annotations.items() if p in wanted}
    if not annotations:
        raise FileNotFoundError(f"no measurement with its annotation in {src}")
    facts = ManifestFacts.read(src)
    terrain = _targets_terrain(dem, geoid)
    processing = facts.processing_stop
    tags_common = {"TIFFTAG_IMAGEDESCRIPTION": facts.description(src.name),
                   "TIFFTAG_SOFTWARE": facts.software}
    if processing is not None:
        tags_common["TIFFTAG_DATETIME"] = tiff_datetime(processing)
    measurements = {pol: src / "measurement" / (a.stem + ".tiff") for pol, a in annotations.items()}

    tmp = Path(tempfile.mkdtemp(prefix=".repaint-", dir=out))
    try:
        root = tmp / src.name
        root.mkdir()
        _copy_tree(src, root, set(measurements.values()))
        written = []
        for pol, xml in annotations.items():
            stem = xml.stem
            cal = src / "annotation" / "calibration" / f"calibration-{stem}.xml"
            noi = src / "annotation" / "calibration" / f"noise-{stem}.xml"
            if not (cal.is_file() and noi.is_file()):
                raise FileNotFoundError(f"{src.name}: {pol} needs {cal.name} and {noi.name}")
            ann = ProductAnnotation.read(xml)
            locator = EsaGridLocator(ann)
            luts = ProductLuts.read(cal, noi, ann.samples)
            area = ann.range_pixel_spacing * ann.azimuth_pixel_spacing
            rendered = [RenderedTarget.build(t.line, t.pixel, t.target.rcs, area)
                        for t in _truths(locator, targets, terrain, None)
                        if np.isfinite(t.line) and np.isfinite(t.pixel)]
            image = int(stem.rsplit("-", 1)[-1])
            border = (Margins.ipf_like(ann.lines, ann.samples, ann.azimuth_time_interval, seed)
                      if margins else Margins(np.zeros(ann.lines, np.int32),
                                              np.full(ann.lines, ann.samples - 1, np.int32)))
            table = speckle_table(looks) if speckle else NO_SPECKLE
            tiff = root / "measurement" / (stem + ".tiff")
            _write_measurement(tiff, ann, luts, locator, terrain, _sigma0_of(sigma0_db, pol),
                               rendered, border, table, stream_key(seed, image), tags_common,
                               compress)
            written.append(tiff)
        update_manifest(root, written)
        final = out / src.name
        if final.exists():
            shutil.rmtree(final)
        root.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
