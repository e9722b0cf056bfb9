"""Precise orbit files: an EOF written from a fixture's own state vectors gives the same
geometry as the annotation; file selection by mission and validity; typed errors."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.exceptions import DownloadEOFFileError
from s1tiling_cloud.geo import RadarGeometry
from s1tiling_cloud.geo.eof import find_eof, orbit_for_product, read_eof
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
    path = find_eof(eof_dir, "S1B", start, stop)
    assert "POEORB" in path.name and path.name.startswith("S1B")
    vectors = read_eof(path)
    assert vectors.positions.shape == (vectors.times.size, 3)
    assert (vectors.absolute_orbits == 30148).all()
    orbit = orbit_for_product(eof_dir, "S1B", start, stop)
    gcp = product.open_group("IW/VV/gcp")
    with_eof = RadarGeometry.open(product, "IW/VV", orbit=orbit)
    annotated = RadarGeometry.open(product, "IW/VV")
    a = with_eof.ground_to_radar(gcp.latitude.values, gcp.longitude.values, gcp.height.values)
    b = annotated.ground_to_radar(gcp.latitude.values, gcp.longitude.values, gcp.height.values)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_no_covering_orbit_file_is_a_typed_error(eof_dir):
    with pytest.raises(DownloadEOFFileError, match="S1A"):
        find_eof(eof_dir, "S1A", np.datetime64("2021-12-25T05:11:22"),
                 np.datetime64("2021-12-25T05:11:47"))
