"""Write a synthetic Sentinel-1 IW GRD product: the SAFE folder, or a .zip of it as ESA ships.

``write_grd(spec, out_dir)`` ties the parts together: the geometry (orbit, timing, polynomials,
grid), the LUTs, then per polarisation the measurement (streamed block by block) and its
annotation, calibration and noise files, the previews, and last the manifest with every file's
MD5. The product is assembled in a hidden temporary folder next to the destination and renamed
into place once complete, so a crash never leaves a partial product under the final name. Its
unique identifier (the last 4 hex digits of the name) is the CRC-16 (CCITT) of the manifest,
as ESA computes it.
"""

from __future__ import annotations

import binascii
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import xmlutil
from .annotation_writer import annotation
from .calibration_writer import calibration
from .manifest_writer import checksums, data_objects, manifest
from .measurement_writer import write_measurement
from .noise_writer import noise
from .preview_writer import QuickLook, map_overlay, product_preview
from .product_geometry import ProductGeometry, compute_geometry
from .radiometry import Luts, compute_luts
from .scene import SceneSynthesizer, synthetic_truths
from .spec import ProductNames, SyntheticGRD
from .targets import TargetTruth, on_grid

#: File suffixes stored uncompressed in the .zip: readers seek inside the measurements.
_STORED = (".tiff", ".png")


def write_grd(
    spec: SyntheticGRD,
    out_dir: str | os.PathLike[str],
    zip: bool = False,  # noqa: A002 - the public name the callers use
    *,
    compress: str | None = None,
) -> Path:
    """Write the product described by ``spec`` under ``out_dir``; return its path.

    ``zip=True`` returns ``NAME.zip`` holding ``NAME.SAFE/...`` (ESA's layout; the TIFFs are
    stored, the rest deflated) and leaves no folder behind. ``compress`` (e.g. "ZSTD")
    compresses the measurement TIFFs, which ESA does not do; use it to keep big test products
    small on disk. An existing product of the same name is replaced.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    geo = compute_geometry(spec)
    luts = compute_luts(geo)
    names = ProductNames(spec, geo.first_line_time, geo.last_line_time)
    processing_time = geo.last_line_time + np.timedelta64(int(spec.processing_delay_s * 1e9), "ns")
    tmp = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=out))
    try:
        _write_safe(tmp, geo, luts, names, processing_time, compress)
        man = (tmp / "manifest.safe").read_bytes()
        stem = names.product_stem(f"{binascii.crc_hqx(man, 0xFFFF):04X}")
        if zip:
            final = out / f"{stem}.zip"
            partial = tmp / f"{stem}.zip.part"
            _zip_safe(tmp, f"{stem}.SAFE", partial)
            partial.replace(final)
        else:
            final = out / f"{stem}.SAFE"
            if final.exists():
                shutil.rmtree(final)
            try:
                tmp.rename(final)
            except OSError:
                # A concurrent writer of the same spec got there first; the name is the CRC of
                # the manifest (every file's MD5), so its product is this one.
                if not (final / "manifest.safe").is_file():
                    raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return final


def _write_safe(
    root: Path,
    geo: ProductGeometry,
    luts: Luts,
    names: ProductNames,
    processing_time: np.datetime64,
    compress: str | None,
) -> None:
    spec = geo.spec
    pols = tuple(sorted(spec.polarisations, key=spec.image_number))
    quicklook = QuickLook(spec.lines, spec.samples, pols)
    for pol in pols:
        synth = SceneSynthesizer(geo, luts, pol, stream=spec.image_number(pol))

        def keep(row0: int, dn: np.ndarray, pol: str = pol) -> None:
            quicklook.add(pol, row0, dn)

        stats = write_measurement(root / names.measurement(pol), geo, synth, processing_time,
                                  on_block=keep, compress=compress)
        xmlutil.write(annotation(geo, luts, pol, stats), root / names.annotation(pol))
        xmlutil.write(calibration(geo, luts, pol), root / names.calibration(pol))
        xmlutil.write(noise(geo, luts, pol), root / names.noise(pol))
    quicklook.write(root / "preview" / "quick-look.png")
    (root / "preview" / "map-overlay.kml").write_bytes(map_overlay(geo))
    (root / "preview" / "product-preview.html").write_bytes(product_preview(geo, names))
    listed = checksums(root, data_objects(names))
    (root / "manifest.safe").write_bytes(manifest(geo, names, listed, processing_time))


def _zip_safe(safe_dir: Path, safe_name: str, target: Path) -> None:
    """Zip the folder's files under ``safe_name/``, directory entries first, as ESA does."""
    files = sorted(p for p in safe_dir.rglob("*") if p.is_file() and p != target)
    dirs = sorted({p.parent for p in files})
    with zipfile.ZipFile(target, "w", allowZip64=True) as zf:
        for d in dirs:
            rel = d.relative_to(safe_dir).as_posix()
            arc = f"{safe_name}/" if rel == "." else f"{safe_name}/{rel}/"
            zf.writestr(zipfile.ZipInfo(arc), b"")
        for f in files:
            method = zipfile.ZIP_STORED if f.suffix in _STORED else zipfile.ZIP_DEFLATED
            zf.write(f, f"{safe_name}/{f.relative_to(safe_dir).as_posix()}", compress_type=method)


def target_truth(spec: SyntheticGRD, grid=None) -> list[TargetTruth]:
    """Where the spec's targets truly are: (line, pixel) in the product `write_grd` writes and,
    given an output grid (a `geo.Grid`, e.g. ``Grid.from_tile("31TCJ", 10)``), (x, y) and
    fractional (row, col) on it. Heights: each target's over the geoid plus the undulation, or
    the scene's surface."""
    return on_grid(synthetic_truths(compute_geometry(spec)), grid)


def example_product(out_dir: str | os.PathLike[str], zip: bool = False) -> Path:  # noqa: A002
    """A small dual-polarisation product over Toulouse (600 lines x 800 samples), in ~1 s.

    The README's quick start summarises it with ``s1tiling-cloud info``.
    """
    spec = SyntheticGRD(
        center_lat=43.6, center_lon=1.44, lines=600, samples=800, polarisations=("VV", "VH"),
        platform="S1A", orbit_direction="DESCENDING", start="2020-01-08T04:41:50",
        absolute_orbit=30704, ipf_version="003.20", sigma0_db={"VV": -12.0, "VH": -19.0},
    )
    return write_grd(spec, out_dir, zip=zip)
