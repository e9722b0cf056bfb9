"""Precise orbit files: an EOF written from a fixture's own state vectors gives the same
geometry as the annotation; file selection by mission and validity; typed errors."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.exceptions import DownloadEOFFileError
from s1tiling_cloud.geo import RadarGeometry
from s1tiling_cloud.geo.eof import StateVectors, product_eofs, read_eof
from s1tiling_cloud.geo.orbit_source import product_orbit
from s1tiling_cloud.safe import Sentinel1Product
from tests.conftest import GRD_ROME, SAFE_DIR

pytestmark = pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")


def _write_eof(path, times, positions, velocities):
    """An Earth Explorer orbit file as ESA writes them (TAI, UTC, UT1 stamps per vector)."""
    rows = []
    for t, p, v in zip(times, positions, velocities, strict=True):
        utc = np.datetime_as_string(t, unit="us")
        tai = np.datetime_as_string(t + np.timedelta64(37, "s"), unit="us")
        rows.append(
            f"<OSV><TAI>TAI={tai}</TAI><UTC>UTC={utc}</UTC><UT1>UT1={utc}</UT1>"
            f"<Absolute_Orbit>+30148</Absolute_Orbit>"
            f'<X unit="m">{p[0]:.6f}</X><Y unit="m">{p[1]:.6f}</Y><Z unit="m">{p[2]:.6f}</Z>'
            f'<VX unit="m/s">{v[0]:.6f}</VX><VY unit="m/s">{v[1]:.6f}</VY>'
            f'<VZ unit="m/s">{v[2]:.6f}</VZ><Quality>NOMINAL</Quality></OSV>')
    path.write_text(
        '<?xml version="1.0" ?><Earth_Explorer_File><Earth_Explorer_Header/>'
        f'<Data_Block type="xml"><List_of_OSVs count="{len(rows)}">{"".join(rows)}'
        "</List_of_OSVs></Data_Block></Earth_Explorer_File>")


@pytest.fixture
def eof_dir(tmp_path):
    orbit = Sentinel1Product(SAFE_DIR / GRD_ROME).open_group("IW/VV/orbit")
    name = "S1B_OPER_AUX_POEORB_OPOD_20220112T081234_V20211222T225942_20211224T005942.EOF"
    _write_eof(tmp_path / name, orbit.azimuth_time.values, orbit.position.values,
               orbit.velocity.values)
    # an older restituted file and another mission's file must not be chosen
    _write_eof(tmp_path / "S1B_OPER_AUX_RESORB_OPOD_20211223T081234_V20211223T040000_"
               "20211223T080000.EOF", orbit.azimuth_time.values[:3], orbit.position.values[:3],
               orbit.velocity.values[:3])
    _write_eof(tmp_path / "S1A_OPER_AUX_POEORB_OPOD_20220112T081234_V20211222T225942_"
               "20211224T005942.EOF", orbit.azimuth_time.values[:3], orbit.position.values[:3],
               orbit.velocity.values[:3])
    return tmp_path


def test_eof_orbit_gives_the_annotation_geometry(eof_dir):
    product = Sentinel1Product(SAFE_DIR / GRD_ROME)
    start, stop = product.manifest.start_time, product.manifest.stop_time
    [chosen] = product_eofs(eof_dir, "S1B", start, stop)
    assert chosen.kind == "POEORB" and chosen.platform == "S1B"
    vectors = read_eof(chosen.location)
    assert vectors.positions.shape == (vectors.times.size, 3)
    assert (vectors.absolute_orbits == 30148).all()
    source = product_orbit(SAFE_DIR / GRD_ROME, eof_dir)
    assert source.file == chosen.file_name and source.inputs[1] == chosen.location
    orbit = source.orbit
    gcp = product.open_group("IW/VV/gcp")
    with_eof = RadarGeometry.open(product, "IW/VV", orbit=orbit)
    annotated = RadarGeometry.open(product, "IW/VV")
    a = with_eof.ground_to_radar(gcp.latitude.values, gcp.longitude.values, gcp.height.values)
    b = annotated.ground_to_radar(gcp.latitude.values, gcp.longitude.values, gcp.height.values)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_no_covering_orbit_file_is_a_typed_error(eof_dir):
    with pytest.raises(DownloadEOFFileError, match="S1A"):
        product_eofs(eof_dir, "S1A", np.datetime64("2021-12-25T05:11:22"),
                     np.datetime64("2021-12-25T05:11:47"))


def test_two_files_that_cover_a_product_together_give_one_orbit(tmp_path):
    """No single file covers the acquisition: the choice rule takes the two that do, and
    their vectors, merged, give the annotation's geometry; one file alone leaves a gap."""
    product = Sentinel1Product(SAFE_DIR / GRD_ROME)
    orbit = product.open_group("IW/VV/orbit")
    times = orbit.azimuth_time.values
    start, stop = product.manifest.start_time, product.manifest.stop_time
    middle = np.datetime64(start, "s") + (np.datetime64(stop, "s") - np.datetime64(start, "s")) // 2

    def stamp(moment):
        return np.datetime_as_string(np.datetime64(moment, "s")).replace("-", "").replace(":", "")

    first = (f"S1B_OPER_AUX_POEORB_OPOD_20220112T081234_V{stamp(times[0])}_{stamp(middle)}.EOF")
    second = (f"S1B_OPER_AUX_POEORB_OPOD_20220112T081234_V{stamp(middle)}_{stamp(times[-1])}.EOF")
    half = times <= middle + np.timedelta64(10, "s")
    _write_eof(tmp_path / first, times[half], orbit.position.values[half],
               orbit.velocity.values[half])
    rest = times >= middle - np.timedelta64(10, "s")
    _write_eof(tmp_path / second, times[rest], orbit.position.values[rest],
               orbit.velocity.values[rest])
    assert [c.file_name for c in product_eofs(tmp_path, "S1B", start, stop)] == [first, second]
    source = product_orbit(SAFE_DIR / GRD_ROME, tmp_path)
    assert source.file == f"{first},{second}"
    merged = StateVectors.merged([read_eof(tmp_path / first), read_eof(tmp_path / second)])
    np.testing.assert_array_equal(merged.times, times)  # each time once, in order
    gcp = product.open_group("IW/VV/gcp")
    lat, lon, height = gcp.latitude.values, gcp.longitude.values, gcp.height.values
    np.testing.assert_allclose(
        RadarGeometry.open(product, "IW/VV", orbit=source.orbit).ground_to_radar(lat, lon, height),
        RadarGeometry.open(product, "IW/VV").ground_to_radar(lat, lon, height), atol=1e-6)
    (tmp_path / second).unlink()
    with pytest.raises(DownloadEOFFileError, match="S1B"):
        product_eofs(tmp_path, "S1B", start, stop)
