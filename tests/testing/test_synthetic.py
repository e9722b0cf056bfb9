"""The synthetic GRD generator writes consistent, ESA-shaped products.

The checks read the written files back with independent means (ElementTree, rasterio,
hashlib, xmlschema with ESA's XSDs, xarray-sentinel), never the generator's internals, except
to compare the truth it was asked for.
"""

from __future__ import annotations

import binascii
import hashlib
import math
import re
import resource
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.geo.ellipsoid import ecef_to_geodetic, geodetic_to_ecef
from s1tiling_cloud.geo.orbit import Orbit
from s1tiling_cloud.geo.range_doppler import SPEED_OF_LIGHT, radar_to_ground, zero_doppler
from s1tiling_cloud.testing import SyntheticGRD, example_product, write_grd
from tests.conftest import GRD_ROME, SAFE_DIR

NAME_RE = re.compile(
    r"^S1[AB]_IW_GRD[HM]_1S(DV|SV|DH|SH)_(\d{8}T\d{6})_(\d{8}T\d{6})_(\d{6})_([0-9A-F]{6})_"
    r"([0-9A-F]{4})\.(SAFE|zip)$"
)

SMALL = SyntheticGRD(
    center_lat=43.6, center_lon=1.44, lines=800, samples=1200, polarisations=("VV", "VH"),
    platform="S1A", orbit_direction="DESCENDING", start="2020-01-08T04:41:50",
    absolute_orbit=30704, ipf_version="003.20", pixel_spacing=10.0,
    sigma0_db={"VV": -12.0, "VH": -19.0}, looks=4.4, seed=0,
)
# A medium-resolution product across the three sub-swaths, the other pass and platform.
WIDE = SyntheticGRD(
    center_lat=-33.9, center_lon=151.2, lines=1000, samples=6300, polarisations=("HH", "HV"),
    platform="S1B", orbit_direction="ASCENDING", start="2019-06-02T19:03:07.25",
    absolute_orbit=16521, ipf_version="003.52", pixel_spacing=40.0,
    sigma0_db={"HH": -8.0, "HV": -16.0}, looks=50.0, seed=7,
)
# An old-IPF product: old noise layout, noisy borders instead of zeros.
OLD = SMALL.replace(ipf_version="002.84", polarisations=("VV",), sigma0_db=-10.0,
                    start="2018-03-01T17:30:00", absolute_orbit=20870)


# -- helpers: independent readers ----------------------------------------------------------


def xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def floats(el: ET.Element | None) -> np.ndarray:
    assert el is not None
    return np.array(el.text.split(), dtype=np.float64)


def t64(text: str) -> np.datetime64:
    return np.datetime64(text, "ns")


def files(safe: Path, pattern: str) -> list[Path]:
    return sorted(safe.glob(pattern))


def annotation_of(safe: Path, pol: str) -> Path:
    (path,) = files(safe, f"annotation/s1*-{pol.lower()}-*.xml")
    return path


def orbit_of(root: ET.Element) -> Orbit:
    orbits = root.findall("generalAnnotation/orbitList/orbit")
    times = np.array([t64(o.findtext("time")) for o in orbits])
    pos = np.array([[float(o.findtext(f"position/{c}")) for c in "xyz"] for o in orbits])
    vel = np.array([[float(o.findtext(f"velocity/{c}")) for c in "xyz"] for o in orbits])
    return Orbit.from_state_vectors(times, pos, vel)


def grid_of(root: ET.Element) -> dict[str, np.ndarray]:
    points = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    out = {k: np.array([float(p.findtext(k)) for p in points]) for k in (
        "slantRangeTime", "line", "pixel", "latitude", "longitude", "height", "incidenceAngle",
        "elevationAngle")}
    out["azimuthTime"] = np.array([t64(p.findtext("azimuthTime")) for p in points])
    return out


def conversions_of(root: ET.Element) -> list[dict]:
    out = []
    for c in root.findall("coordinateConversion/coordinateConversionList/coordinateConversion"):
        out.append(dict(
            time=t64(c.findtext("azimuthTime")), sr0=float(c.findtext("sr0")),
            srgr=floats(c.find("srgrCoefficients")), gr0=float(c.findtext("gr0")),
            grsr=floats(c.find("grsrCoefficients")),
        ))
    return out


def nearest_conversion(convs: list[dict], t: np.datetime64) -> dict:
    return min(convs, key=lambda c: abs((c["time"] - t) / np.timedelta64(1, "ns")))


def bilinear(lines, pixels, values, rows, cols) -> np.ndarray:
    """LUT (vectors at ``lines``, nodes at ``pixels``) at rows x cols, linear in both."""
    by_pixel = np.stack([np.interp(cols, pixels, v) for v in values])
    k = np.clip(np.searchsorted(lines, rows, side="right") - 1, 0, len(lines) - 2)
    w = ((rows - lines[k]) / (lines[k + 1] - lines[k]))[:, None]
    return by_pixel[k] * (1 - w) + by_pixel[k + 1] * w


def calibration_lut(safe: Path, pol: str, which: str, rows, cols) -> np.ndarray:
    (path,) = files(safe, f"annotation/calibration/calibration-*-{pol.lower()}-*.xml")
    vectors = xml(path).findall("calibrationVectorList/calibrationVector")
    lines = np.array([float(v.findtext("line")) for v in vectors])
    pixels = floats(vectors[0].find("pixel"))
    return bilinear(lines, pixels, np.stack([floats(v.find(which)) for v in vectors]), rows, cols)


def noise_power(safe: Path, pol: str, rows, cols) -> np.ndarray:
    """Thermal noise (DN^2) from the noise XML: range LUT x azimuth LUT of each block."""
    (path,) = files(safe, f"annotation/calibration/noise-*-{pol.lower()}-*.xml")
    root = xml(path)
    vectors = root.findall("noiseRangeVectorList/noiseRangeVector")
    if not vectors:  # IPF < 2.90
        vectors = root.findall("noiseVectorList/noiseVector")
        lut = "noiseLut"
    else:
        lut = "noiseRangeLut"
    lines = np.array([float(v.findtext("line")) for v in vectors])
    pixels = floats(vectors[0].find("pixel"))
    rng = bilinear(lines, pixels, np.stack([floats(v.find(lut)) for v in vectors]), rows, cols)
    az = np.ones_like(rng)
    for block in root.findall("noiseAzimuthVectorList/noiseAzimuthVector"):
        c0, c1 = int(block.findtext("firstRangeSample")), int(block.findtext("lastRangeSample"))
        factor = np.interp(rows, floats(block.find("line")), floats(block.find("noiseAzimuthLut")))
        in_block = (cols >= c0) & (cols <= c1)
        az[:, in_block] = factor[:, None]
    return rng * az


def read_dn(safe: Path, pol: str) -> np.ndarray:
    (path,) = files(safe, f"measurement/*-{pol.lower()}-*.tiff")
    with rasterio.open(path) as src:
        return src.read(1)


def calibrated_sigma0(safe: Path, pol: str) -> tuple[np.ndarray, np.ndarray]:
    """(σ° after noise removal, valid mask), from the product's own LUTs."""
    dn = read_dn(safe, pol).astype(np.float64)
    rows = np.arange(dn.shape[0], dtype=np.float64)
    cols = np.arange(dn.shape[1], dtype=np.float64)
    a = calibration_lut(safe, pol, "sigmaNought", rows, cols)
    return (dn**2 - noise_power(safe, pol, rows, cols)) / a**2, dn > 0


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("synthetic")


@pytest.fixture(scope="module")
def small(out_dir) -> Path:
    return write_grd(SMALL, out_dir / "small")


@pytest.fixture(scope="module")
def wide(out_dir) -> Path:
    return write_grd(WIDE, out_dir / "wide")


@pytest.fixture(scope="module")
def old(out_dir) -> Path:
    return write_grd(OLD, out_dir / "old")


@pytest.fixture(scope="module", params=["small", "wide", "old"])
def product(request) -> tuple[SyntheticGRD, Path]:
    spec = {"small": SMALL, "wide": WIDE, "old": OLD}[request.param]
    return spec, request.getfixturevalue(request.param)


# -- names and layout ----------------------------------------------------------------------


def test_names_follow_esa(small, wide):
    m = NAME_RE.match(small.name)
    assert m, small.name
    assert small.name.startswith("S1A_IW_GRDH_1SDV_20200108T044150_20200108T044151_030704_")
    assert int(m.group(5), 16) == SMALL.mission_datatake_id
    assert WIDE.resolution_class == "M" and wide.name.startswith("S1B_IW_GRDM_1SDH_20190602T1903")
    stem = f"{m.group(2).lower()}-{m.group(3).lower()}-030704-{m.group(5).lower()}"
    expected = {
        f"annotation/s1a-iw-grd-vv-{stem}-001.xml", f"annotation/s1a-iw-grd-vh-{stem}-002.xml",
        f"annotation/calibration/calibration-s1a-iw-grd-vv-{stem}-001.xml",
        f"annotation/calibration/noise-s1a-iw-grd-vh-{stem}-002.xml",
        f"measurement/s1a-iw-grd-vv-{stem}-001.tiff", f"measurement/s1a-iw-grd-vh-{stem}-002.tiff",
        "manifest.safe", "preview/quick-look.png", "preview/map-overlay.kml",
        "preview/product-preview.html",
    }
    present = {p.relative_to(small).as_posix() for p in small.rglob("*") if p.is_file()}
    assert expected <= present
    assert len(present) == 12


@pytest.mark.parametrize(("platform", "absolute", "relative"),
                         [("S1A", 30704, 7), ("S1B", 30148, 22), ("S1A", 73, 1), ("S1B", 201, 175)])
def test_relative_orbit_as_esa(platform, absolute, relative):
    spec = SyntheticGRD(0.0, 0.0, platform=platform, absolute_orbit=absolute)
    assert spec.relative_orbit == relative


def test_manifest_lists_every_file_with_its_checksum(product):
    spec, safe = product
    root = xml(safe / "manifest.safe")
    listed = {}
    for obj in root.iter("dataObject"):
        href = obj.find("byteStream/fileLocation").attrib["href"]
        stream = obj.find("byteStream")
        listed[href.removeprefix("./")] = (int(stream.attrib["size"]), stream.findtext("checksum"))
    on_disk = {p.relative_to(safe).as_posix() for p in safe.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"manifest.safe"}
    for href, (size, md5) in listed.items():
        data = (safe / href).read_bytes()
        assert len(data) == size, href
        assert hashlib.md5(data).hexdigest() == md5, href
    # The unique identifier is the CRC-16 of the manifest, as ESA computes it.
    crc = binascii.crc_hqx((safe / "manifest.safe").read_bytes(), 0xFFFF)
    assert safe.name.endswith(f"_{crc:04X}.SAFE")


def test_manifest_facts(small):
    ns = {"safe": "http://www.esa.int/safe/sentinel-1.0",
          "s1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1",
          "s1sarl1": "http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1",
          "gml": "http://www.opengis.net/gml"}
    root = xml(small / "manifest.safe")
    assert root.find(".//safe:software", ns).attrib == {"name": "Sentinel-1 IPF",
                                                       "version": "003.20"}
    assert root.findtext(".//safe:platform/safe:familyName", namespaces=ns) == "SENTINEL-1"
    assert root.findtext(".//safe:platform/safe:number", namespaces=ns) == "A"
    assert root.findtext(".//s1sarl1:instrumentMode/s1sarl1:mode", namespaces=ns) == "IW"
    assert [e.text for e in root.findall(".//safe:orbitNumber", ns)] == ["30704", "30704"]
    assert [e.text for e in root.findall(".//safe:relativeOrbitNumber", ns)] == ["7", "7"]
    assert root.findtext(".//s1:pass", namespaces=ns) == "DESCENDING"
    assert root.findtext(".//s1sarl1:productType", namespaces=ns) == "GRD"
    assert [e.text for e in root.findall(".//s1sarl1:transmitterReceiverPolarisation", ns)] == [
        "VV", "VH"]
    assert root.findtext(".//safe:startTime", namespaces=ns) == "2020-01-08T04:41:50.000000"
    corners = [tuple(map(float, c.split(","))) for c in
               root.findtext(".//gml:coordinates", namespaces=ns).split()]
    assert len(corners) == 4
    lat, lon = np.mean(corners, axis=0)
    assert abs(lat - 43.6) < 0.01 and abs(lon - 1.44) < 0.01
    # ascendingNodeTime: the satellite crosses the equator northwards then.
    annotation = xml(annotation_of(small, "VV"))
    anx = t64(root.findtext(".//s1:ascendingNodeTime", namespaces=ns))
    start = t64(annotation.findtext("imageAnnotation/imageInformation/productFirstLineUtcTime"))
    assert np.timedelta64(0) < start - anx < np.timedelta64(99 * 60, "s")
    assert annotation.findtext("imageAnnotation/imageInformation/ascendingNodeTime") == \
        root.findtext(".//s1:ascendingNodeTime", namespaces=ns)


# -- ESA's formats -------------------------------------------------------------------------


def _schemas():
    xmlschema = pytest.importorskip("xmlschema")
    resources = Path(pytest.importorskip("xarray_sentinel").__file__).parent / "resources"
    folder = resources / "sentinel1"
    return {kind: xmlschema.XMLSchema(str(folder / f"s1-level-1-{kind}.xsd"))
            for kind in ("product", "calibration", "noise")}


def test_xml_validates_against_esa_schemas(product):
    spec, safe = product
    schemas = _schemas()
    checks = [("product", "annotation/s1*.xml"),
              ("calibration", "annotation/calibration/calibration-*.xml")]
    if spec.new_noise_layout:  # the XSD describes the IPF >= 2.90 noise layout only
        checks.append(("noise", "annotation/calibration/noise-*.xml"))
    for kind, pattern in checks:
        paths = files(safe, pattern)
        assert len(paths) == len(spec.polarisations)
        for path in paths:
            errors = [str(e)[:300] for e in schemas[kind].iter_errors(str(path))]
            assert not errors, (path.name, errors[:2])


def _tag_paths(path: Path) -> set[str]:
    out: set[str] = set()

    def walk(el: ET.Element, prefix: str) -> None:
        p = f"{prefix}/{el.tag.split('}')[-1]}"
        out.add(p)
        for c in el:
            walk(c, p)

    walk(xml(path), "")
    return out


@pytest.mark.skipif(not (SAFE_DIR / GRD_ROME).is_dir(), reason="real fixtures not found")
def test_same_element_tree_as_a_real_grd(small):
    real = SAFE_DIR / GRD_ROME
    pairs = [("annotation/s1*-vv-*.xml",) * 2,
             ("annotation/calibration/calibration-*-vv-*.xml",) * 2,
             ("annotation/calibration/noise-*-vv-*.xml",) * 2,
             ("manifest.safe",) * 2]
    for pattern, _ in pairs:
        assert _tag_paths(files(small, pattern)[0]) == _tag_paths(files(real, pattern)[0]), pattern


# -- geometry ------------------------------------------------------------------------------


def test_geolocation_grid_round_trips_through_zero_doppler(product):
    spec, safe = product
    root = xml(annotation_of(safe, spec.polarisations[0]))
    orbit = orbit_of(root)
    grid = grid_of(root)
    info = root.find("imageAnnotation/imageInformation")
    first = t64(info.findtext("productFirstLineUtcTime"))
    dt = float(info.findtext("azimuthTimeInterval"))
    assert len(grid["line"]) == 10 * 21
    assert grid["line"].max() == spec.lines - 1 and grid["pixel"].max() == spec.samples - 1

    xyz = geodetic_to_ecef(grid["latitude"], grid["longitude"], grid["height"])
    seconds, slant = zero_doppler(orbit, xyz)
    assert np.abs(seconds - orbit.seconds(grid["azimuthTime"])).max() < 1e-6
    assert np.abs(slant - grid["slantRangeTime"] * SPEED_OF_LIGHT / 2).max() < 1e-3
    # Each point's zero-Doppler time is its line's (first line time + line x
    # azimuthTimeInterval) plus the bistatic delay (τ − τ_ref) / 2, τ_ref the mean two-way time
    # of the first line's first and last pixels (the IPF's convention, as in ESA's grids).
    convs = conversions_of(root)
    spacing = float(info.findtext("rangePixelSpacing"))
    c0 = nearest_conversion(convs, first)
    edges = np.polynomial.polynomial.polyval(np.array([0.0, (spec.samples - 1) * spacing]),
                                             c0["grsr"])
    tau_ref = edges.sum() / SPEED_OF_LIGHT
    line_time = orbit.seconds(first) + grid["line"] * dt
    delay = (grid["slantRangeTime"] - tau_ref) / 2
    assert np.abs(line_time + delay - orbit.seconds(grid["azimuthTime"])).max() < 1e-6
    # Each point's range is its pixel's, through the nearest slant<->ground record.
    # (the record nearest to the line's time, which the bistatic delay moves off the point's)
    line_dates = first + np.round(grid["line"] * dt * 1e9).astype("timedelta64[ns]")
    for t, pixel, srt in zip(line_dates, grid["pixel"], grid["slantRangeTime"], strict=True):
        c = nearest_conversion(convs, t)
        sr = np.polynomial.polynomial.polyval(pixel * spacing - c["gr0"], c["grsr"])
        assert abs(sr - srt * SPEED_OF_LIGHT / 2) < 1e-3
    # ESA's conventions for the angles: geocentric vertical and nadir.
    sat, _ = orbit.interpolate(seconds)
    los = xyz - sat
    up = xyz / np.linalg.norm(xyz, axis=-1, keepdims=True)
    inc = np.degrees(np.arccos(-np.sum(los * up, -1) / np.linalg.norm(los, axis=-1)))
    assert np.abs(inc - grid["incidenceAngle"]).max() < 1e-6
    elev = np.degrees(np.arccos(-np.sum(los * sat, -1) / (
        np.linalg.norm(los, axis=-1) * np.linalg.norm(sat, axis=-1))))
    assert np.abs(elev - grid["elevationAngle"]).max() < 1e-6


def _arc_length(orbit: Orbit, seconds: float, slant: np.ndarray, height: float) -> np.ndarray:
    """Ground range along the raised ellipsoid in the zero-Doppler plane, from slant[0]."""
    lat, lon = radar_to_ground(orbit, np.full(slant.shape, seconds), slant, height)
    pts = geodetic_to_ecef(lat, lon, height)
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=-1))])


def test_slant_ground_polynomials_within_a_centimetre(product):
    spec, safe = product
    root = xml(annotation_of(safe, spec.polarisations[0]))
    orbit = orbit_of(root)
    info = root.find("imageAnnotation/imageInformation")
    near = float(info.findtext("slantRangeTime")) * SPEED_OF_LIGHT / 2
    width = (spec.samples - 1) * spec.pixel_spacing
    convs = conversions_of(root)
    assert len(convs) >= 3
    for c in convs:
        assert c["gr0"] == 0.0 and abs(c["sr0"] - near) < 1e-6
        ground = np.linspace(0.0, width, 2001)
        slant = np.polynomial.polynomial.polyval(ground, c["grsr"])
        back = np.polynomial.polynomial.polyval(slant - c["sr0"], c["srgr"])
        assert np.abs(back - ground).max() < 0.01
        # Against the ellipsoid itself: arc length from the near-range point.
        fine = np.linspace(near, slant[-1], 20001)
        arc = _arc_length(orbit, float(orbit.seconds(c["time"])), fine, spec.terrain_height)
        truth = np.interp(ground, arc, fine)
        assert np.abs(slant - truth).max() < 0.01
        assert np.abs(np.polynomial.polynomial.polyval(fine - c["sr0"], c["srgr"]) - arc).max() < 0.01


def test_scene_centre_is_seen_at_mid_swath(product):
    spec, safe = product
    root = xml(annotation_of(safe, spec.polarisations[0]))
    grid = grid_of(root)
    # The grid's middle column is not the centre: interpolate the grid at the centre instead.
    lines, pixels = np.unique(grid["line"]), np.unique(grid["pixel"])
    lat = grid["latitude"].reshape(len(lines), len(pixels))
    lon = grid["longitude"].reshape(len(lines), len(pixels))
    cl, cp = (spec.lines - 1) / 2, (spec.samples - 1) / 2

    def at_centre(v):
        return np.interp(cl, lines, [np.interp(cp, pixels, row) for row in v])

    err = geodetic_to_ecef(at_centre(lat), at_centre(lon), 0) - geodetic_to_ecef(
        spec.center_lat, spec.center_lon, 0)
    assert np.linalg.norm(err) < 4 * spec.pixel_spacing
    mid = float(root.findtext("imageAnnotation/imageInformation/incidenceAngleMidSwath"))
    assert abs(mid - spec.incidence_mid) < 0.3


def test_orbit_is_sentinel1_like_and_looks_right(product):
    spec, safe = product
    root = xml(annotation_of(safe, spec.polarisations[0]))
    orbit = orbit_of(root)
    assert len(orbit.times) >= 17
    assert np.allclose(np.diff(orbit.times), 10.0)
    info = root.find("imageAnnotation/imageInformation")
    first = orbit.seconds(t64(info.findtext("productFirstLineUtcTime")))
    last = orbit.seconds(t64(info.findtext("productLastLineUtcTime")))
    assert orbit.start <= first - 60 and last + 60 <= orbit.end
    pos, vel = orbit.positions, orbit.velocities
    _, _, height = ecef_to_geodetic(pos)
    assert np.all((height > 690e3) & (height < 730e3))
    # Inertial velocity -> orbit normal -> inclination.
    omega = 7.2921151467e-5
    v_inertial = vel + omega * np.stack([-pos[:, 1], pos[:, 0], np.zeros(len(pos))], -1)
    h = np.cross(pos, v_inertial)
    inclination = np.degrees(np.arccos(h[:, 2] / np.linalg.norm(h, axis=-1)))
    assert np.allclose(inclination, 98.18, atol=1e-6)
    assert np.all(np.abs(np.linalg.norm(v_inertial, axis=-1) - 7500) < 100)
    ascending = spec.orbit_direction == "ASCENDING"
    assert np.all((vel[:, 2] > 0) == ascending)
    pass_ = root.findtext("generalAnnotation/productInformation/pass")
    assert pass_ == spec.orbit_direction.capitalize()
    # Right-looking: the grid lies on the right of the velocity; near range is pixel 0.
    grid = grid_of(root)
    xyz = geodetic_to_ecef(grid["latitude"], grid["longitude"], grid["height"])
    sat, v = orbit.interpolate(orbit.seconds(grid["azimuthTime"]))
    assert np.all(np.sum(np.cross(v, sat) * (xyz - sat), -1) > 0)
    assert np.all(np.diff(grid["slantRangeTime"].reshape(10, 21), axis=1) > 0)
    # Lines run along the pass: northwards when ascending.
    lat = grid["latitude"].reshape(10, 21)
    assert np.all((lat[-1] > lat[0]) == ascending)


# -- measurement ---------------------------------------------------------------------------


def test_measurement_is_esa_shaped(product):
    spec, safe = product
    for pol in spec.polarisations:
        (path,) = files(safe, f"measurement/*-{pol.lower()}-*.tiff")
        grid = grid_of(xml(annotation_of(safe, pol)))
        with rasterio.open(path) as src:
            assert (src.height, src.width, src.count) == (spec.lines, spec.samples, 1)
            assert src.dtypes == ("uint16",)
            tags = src.tags()
            res = "HR" if spec.pixel_spacing == 10 else "MR"
            assert tags["TIFFTAG_IMAGEDESCRIPTION"] == f"Sentinel-1{spec.platform[-1]} IW GRD {res} L1"
            assert tags["TIFFTAG_SOFTWARE"] == f"Sentinel-1 IPF {spec.ipf_version}"
            assert re.fullmatch(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d", tags["TIFFTAG_DATETIME"])
            gcps, crs = src.gcps
            assert crs.to_epsg() == 4326
            assert src.transform.is_identity
            assert len(gcps) == len(grid["line"])
            assert np.allclose([g.row for g in gcps], grid["line"])
            assert np.allclose([g.col for g in gcps], grid["pixel"])
            assert np.allclose([g.y for g in gcps], grid["latitude"], atol=1e-12)
            assert np.allclose([g.x for g in gcps], grid["longitude"], atol=1e-12)


@pytest.mark.parametrize("name", ["small", "wide"])
def test_calibrated_sigma0_matches_the_truth(name, request):
    spec = {"small": SMALL, "wide": WIDE}[name]
    safe = request.getfixturevalue(name)
    for pol in spec.polarisations:
        sigma0, valid = calibrated_sigma0(safe, pol)
        truth = spec.sigma0_for(pol)
        assert valid.mean() > 0.85
        mean_db = 10 * math.log10(sigma0[valid].mean())
        assert abs(mean_db - truth) < 0.2, (pol, mean_db)
        assert abs(mean_db - truth) < 0.02, (pol, mean_db)  # 1e6 samples: far better
        # No bias across range (sub-swaths, noise scalloping) nor along azimuth.
        for part in np.array_split(np.arange(spec.samples), 6):
            v = valid[:, part]
            assert abs(10 * math.log10(sigma0[:, part][v].mean()) - truth) < 0.2
        for part in np.array_split(np.arange(spec.lines), 4):
            v = valid[part]
            assert abs(10 * math.log10(sigma0[part][v].mean()) - truth) < 0.2


def test_speckle_has_the_requested_looks(small):
    dn = read_dn(small, "VV").astype(np.float64)
    rows, cols = np.arange(dn.shape[0], dtype=float), np.arange(dn.shape[1], dtype=float)
    a = calibration_lut(small, "VV", "sigmaNought", rows, cols)
    mean = 10 ** (SMALL.sigma0_for("VV") / 10) * a**2 + noise_power(small, "VV", rows, cols)
    ratio = (dn**2 / mean)[dn > 0]
    assert abs(ratio.mean() - 1) < 0.002
    assert abs(1 / ratio.var() - SMALL.looks) / SMALL.looks < 0.03


def test_calibration_luts_follow_esa_relations(wide):
    rows = np.array([0.0, WIDE.lines / 2, WIDE.lines - 1])
    cols = np.arange(WIDE.samples, dtype=float)
    beta = calibration_lut(wide, "HH", "betaNought", rows, cols)
    sigma = calibration_lut(wide, "HH", "sigmaNought", rows, cols)
    gamma = calibration_lut(wide, "HH", "gamma", rows, cols)
    assert np.allclose(beta, WIDE.beta_nought)
    sin_inc = (beta / sigma) ** 2
    tan_inc = (beta / gamma) ** 2
    inc = np.degrees(np.arcsin(sin_inc))
    assert np.allclose(np.degrees(np.arctan(tan_inc)), inc, atol=0.01)
    assert 29 < inc.min() < 32 and 44 < inc.max() < 47  # IW's range for a full swath
    assert np.all(np.diff(inc, axis=1) > 0)


def test_noise_luts_have_both_layouts(wide, old):
    new = xml(files(wide, "annotation/calibration/noise-*-hh-*.xml")[0])
    blocks = new.findall("noiseAzimuthVectorList/noiseAzimuthVector")
    assert [b.findtext("swath") for b in blocks] == ["IW1", "IW2", "IW3"]
    assert int(blocks[0].findtext("firstRangeSample")) == 0
    assert int(blocks[-1].findtext("lastRangeSample")) == WIDE.samples - 1
    for b0, b1 in zip(blocks, blocks[1:], strict=False):
        assert int(b1.findtext("firstRangeSample")) == int(b0.findtext("lastRangeSample")) + 1
    assert new.find("noiseVectorList") is None
    legacy = xml(files(old, "annotation/calibration/noise-*.xml")[0])
    assert legacy.find("noiseRangeVectorList") is None
    assert len(legacy.findall("noiseVectorList/noiseVector")) >= 2
    # NESZ in a plausible range: noise / A_sigma^2 between -30 and -18 dB.
    rows = np.array([0.0, WIDE.lines - 1])
    cols = np.arange(WIDE.samples, dtype=float)
    nesz = noise_power(wide, "HH", rows, cols) / calibration_lut(
        wide, "HH", "sigmaNought", rows, cols) ** 2
    assert 10 * np.log10(nesz.min()) > -30 and 10 * np.log10(nesz.max()) < -18


def test_borders_are_ipf_like(small, wide, old):
    dn = read_dn(small, "VV")
    assert np.all(dn[:5] == 0) and np.all(dn[-5:] == 0)  # first and last lines
    assert np.all(dn[:, :25] == 0) and np.all(dn[:, -25:] == 0)  # near and far columns
    inner = dn[20:-20, 50:-50]
    assert np.all(inner > 0)
    assert (dn[20:-20] == 0).sum(axis=1).min() >= 60
    # The width of the borders changes from burst to burst (WIDE spans 3 bursts).
    zeros_per_row = (read_dn(wide, "HH")[20:-20] == 0).sum(axis=1)
    assert zeros_per_row.min() >= 60 and len(np.unique(zeros_per_row)) > 1
    # IPF < 2.90 wrote no zeros but low, noisy borders (S1Tiling cuts 1000 columns there).
    legacy = read_dn(old, "VV")
    assert np.all(legacy > 0)
    assert legacy[:, :20].mean() < 0.3 * legacy[:, 200:-200].mean()


def test_sigma0_field_of_latitude_and_longitude(out_dir):
    spec = SMALL.replace(polarisations=("VV",), lines=400, samples=600,
                         sigma0_db=lambda lat, lon: np.where(lon > 1.44, -8.0, -14.0))
    safe = write_grd(spec, out_dir / "field")
    sigma0, valid = calibrated_sigma0(safe, "VV")
    grid = grid_of(xml(annotation_of(safe, "VV")))
    # Descending and right-looking: near range (low pixels) lies east, i.e. at lon > 1.44.
    assert grid["longitude"][0] > grid["longitude"][20]
    east, west = sigma0[:, 50:200], sigma0[:, -200:-50]
    assert abs(10 * np.log10(east[valid[:, 50:200]].mean()) + 8.0) < 0.2
    assert abs(10 * np.log10(west[valid[:, -200:-50]].mean()) + 14.0) < 0.2


# -- zip, determinism, the example, an independent reader ------------------------------------


def test_zip_holds_the_same_safe(small, out_dir):
    path = write_grd(SMALL, out_dir / "zipped", zip=True)
    assert path.suffix == ".zip" and path.stem == small.stem  # same spec, same product
    assert [p.name for p in (out_dir / "zipped").iterdir()] == [path.name]
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names[0] == f"{small.name}/"
        members = {n.removeprefix(f"{small.name}/"): n for n in names if not n.endswith("/")}
        on_disk = {p.relative_to(small).as_posix() for p in small.rglob("*") if p.is_file()}
        assert set(members) == on_disk
        for rel, member in members.items():
            assert zf.read(member) == (small / rel).read_bytes(), rel
            info = zf.getinfo(member)
            stored = rel.endswith((".tiff", ".png"))
            assert (info.compress_type == zipfile.ZIP_STORED) == stored


def test_example_product_is_quick(out_dir, small):
    start = time.perf_counter()
    path = example_product(out_dir / "example")  # small already compiled the kernels
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0
    assert NAME_RE.match(path.name)
    with rasterio.open(files(path, "measurement/*-vv-*.tiff")[0]) as src:
        assert (src.height, src.width) == (600, 800)


def test_xarray_sentinel_reads_what_was_written(small):
    xs = pytest.importorskip("xarray_sentinel")
    root_ds = xs.open_sentinel1_dataset(small)
    assert root_ds.attrs["relative_orbit_number"] == 7
    assert root_ds.attrs["transmitter_receiver_polarisations"] == ["VV", "VH"]
    for pol in ("VV", "VH"):
        annotation = xml(annotation_of(small, pol))
        ds = xs.open_sentinel1_dataset(small, group=f"IW/{pol}")
        assert ds.measurement.shape == (SMALL.lines, SMALL.samples)
        assert np.array_equal(ds.measurement.values, read_dn(small, pol))
        assert ds.measurement.azimuth_time[0].values == np.datetime64("2020-01-08T04:41:50")

        orbit = xs.open_sentinel1_dataset(small, group=f"IW/{pol}/orbit")
        written = orbit_of(annotation)
        assert np.array_equal(orbit.position.values.T, written.positions)
        assert np.array_equal(orbit.velocity.values.T, written.velocities)

        gcp = xs.open_sentinel1_dataset(small, group=f"IW/{pol}/gcp")
        grid = grid_of(annotation)
        assert np.array_equal(gcp.latitude.values.ravel(), grid["latitude"])
        assert np.array_equal(gcp.longitude.values.ravel(), grid["longitude"])

        cal = xs.open_sentinel1_dataset(small, group=f"IW/{pol}/calibration")
        vectors = xml(files(small, f"annotation/calibration/calibration-*-{pol.lower()}-*.xml")[0])
        first = vectors.find("calibrationVectorList/calibrationVector")
        assert np.allclose(cal.sigmaNought.values[0], floats(first.find("sigmaNought")))
        assert np.all(cal.betaNought.values == np.float32(SMALL.beta_nought))

        noise = xs.open_sentinel1_dataset(small, group=f"IW/{pol}/noise_range")
        assert noise.noiseRangeLut.shape[1] == noise.pixel.size
        assert float(noise.noiseRangeLut.min()) > 0
        azimuth = xs.open_sentinel1_dataset(small, group=f"IW/{pol}/noise_azimuth")
        assert azimuth.line.values[-1] == SMALL.lines - 1
        assert np.all(np.abs(azimuth.noiseAzimuthLut.values - 1) < 0.05)

        conv = xs.open_sentinel1_dataset(small, group=f"IW/{pol}/coordinate_conversion")
        convs = conversions_of(annotation)
        assert np.array_equal(conv.grsrCoefficients.values, np.stack([c["grsr"] for c in convs]))
        assert np.array_equal(conv.srgrCoefficients.values, np.stack([c["srgr"] for c in convs]))


def test_xarray_sentinel_reads_the_zip(small, out_dir):
    xs = pytest.importorskip("xarray_sentinel")
    path = write_grd(SMALL, out_dir / "zipped", zip=True)
    url = f"zip://*/manifest.safe::{path}"
    gcp = xs.open_sentinel1_dataset(url, group="IW/VV/gcp")
    assert np.array_equal(gcp.latitude.values.ravel(),
                          grid_of(xml(annotation_of(small, "VV")))["latitude"])
    cal = xs.open_sentinel1_dataset(url, group="IW/VH/calibration")
    assert cal.sigmaNought.shape[1] == cal.pixel.size


@pytest.mark.slow
def test_full_size_writes_quickly_in_bounded_memory(tmp_path):
    spec = SyntheticGRD.full_size(43.6, 1.44)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    path = write_grd(spec, tmp_path)
    elapsed = time.perf_counter() - start
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert elapsed < 60, elapsed
    assert grown_mb < 1024, grown_mb  # blocks, not the 835 MB image, are in memory
    with rasterio.open(files(path, "measurement/*-vv-*.tiff")[0]) as src:
        assert (src.height, src.width) == (16_700, 25_000)
        window = src.read(1, window=((8000, 8256), (12000, 12256))).astype(float)
    assert 50 < window.mean() < 120  # sqrt(σ° A_sigma² + N), σ° -12 dB, A_beta 237
