"""The reader on every real product of ../shared/fixtures: every group opens, and shapes,
dtypes, units and values match what the XML says."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from s1tiling_cloud.safe import Sentinel1Product
from tests.conftest import (
    ALL_PRODUCTS,
    GRD_2021,
    GRD_ROME,
    SAFE_DIR,
    SLC_2021,
    SLC_2021_ZIP,
    SLC_2022,
)
from tests.safe import xml_facts

pytestmark = pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")


def _safe_dir(name: str):
    return SAFE_DIR / name.replace(".zip", ".SAFE")


@pytest.mark.parametrize("name", ALL_PRODUCTS)
def test_every_listed_group_opens_with_units(name):
    root = xr.open_dataset(SAFE_DIR / name)  # found without engine= (guess_can_open)
    groups = root.attrs["subgroups"]
    assert groups, "a product with annotations has groups"
    for group in groups:
        ds = xr.open_dataset(SAFE_DIR / name, engine="s1safe", group=group)
        for var in ds.variables.values():
            if var.dtype.kind in "fc" and var.dims:
                assert "units" in var.attrs or var.dtype.kind == "c", (group, var.dims)
        if "azimuth_time" in ds.variables:
            assert ds["azimuth_time"].dtype == np.dtype("datetime64[ns]")
        if "slant_range_time" in ds.variables:
            assert ds["slant_range_time"].dtype == np.float64
            assert ds["slant_range_time"].attrs["long_name"] == "two way delay (slantRangeTime)"


@pytest.mark.parametrize("name", [GRD_ROME, GRD_2021, SLC_2021, SLC_2022])
def test_root_attributes_follow_stac(name):
    attrs = xr.open_dataset(SAFE_DIR / name).attrs
    parts = name.split("_")
    assert attrs["platform"] == f"sentinel-1{parts[0][-1].lower()}"
    assert attrs["sar:instrument_mode"] == "IW"
    assert attrs["sar:product_type"] == ("SLC" if "SLC" in name else "GRD")
    assert attrs["sar:polarizations"] == ["VV", "VH"]
    assert attrs["sat:absolute_orbit"] == int(parts[-3] if "SLC_" not in name else parts[-3])
    assert attrs["sat:orbit_state"] in ("ascending", "descending")
    assert 1 <= attrs["sat:relative_orbit"] <= 175
    assert attrs["start_datetime"].startswith(
        f"{parts[-5][:4]}-{parts[-5][4:6]}-{parts[-5][6:8]}T{parts[-5][9:11]}:"
    )
    assert attrs["footprint"].startswith("POLYGON ((")
    assert attrs["ipf_version"].startswith("00")


def test_rome_grd_orbit_numbers():
    attrs = xr.open_dataset(SAFE_DIR / GRD_ROME).attrs
    assert (attrs["sat:absolute_orbit"], attrs["sat:relative_orbit"]) == (30148, 22)
    assert attrs["sat:orbit_state"] == "descending"
    assert attrs["ipf_version"] == "003.40"
    assert attrs["sat:anx_datetime"] == "2021-12-23T04:33:35.556206Z"


def test_missing_swath_files_do_not_hide_the_others():
    product = Sentinel1Product(SAFE_DIR / SLC_2021)
    assert product.swaths == ["IW1", "IW2"]  # IW3's files are absent on purpose
    assert product.polarisations("IW2") == ["VH"]
    assert "IW2/VH" in product.groups and "IW2/VV" not in product.groups
    assert not any(g.startswith("IW3") for g in product.groups)


@pytest.mark.parametrize("name", [GRD_ROME, GRD_2021, SLC_2021, SLC_2022])
def test_gcp_first_last_and_exact_times(name):
    for xml in xml_facts.annotation_files(_safe_dir(name)):
        swath, pol = xml_facts.swath_pol(xml)
        points = xml_facts.gcp_points(xml)
        ds = xr.open_dataset(SAFE_DIR / name, group=f"{swath}/{pol}/gcp")
        assert ds.sizes["line"] * ds.sizes["pixel"] == len(points)
        for point in (points[0], points[-1]):
            node = ds.sel(line=int(point["line"]), pixel=int(point["pixel"]))
            assert float(node.latitude) == float(point["latitude"])
            assert float(node.longitude) == float(point["longitude"])
            assert float(node.height) == float(point["height"])
            assert float(node.incidence_angle) == float(point["incidenceAngle"])
            assert float(node.slant_range_time) == float(point["slantRangeTime"])
            assert node.azimuth_time.values == np.datetime64(point["azimuthTime"], "ns")
        assert ds.latitude.attrs["units"] == "degrees_north"


@pytest.mark.parametrize("name", [GRD_ROME, SLC_2021, SLC_2022])
def test_orbit_state_vectors(name):
    for xml in xml_facts.annotation_files(_safe_dir(name)):
        swath, pol = xml_facts.swath_pol(xml)
        vectors = xml_facts.orbit_vectors(xml)
        ds = xr.open_dataset(SAFE_DIR / name, group=f"{swath}/{pol}/orbit")
        assert ds.sizes["azimuth_time"] == len(vectors) >= 10
        np.testing.assert_array_equal(ds.position.values[0], vectors[0]["position"])
        np.testing.assert_array_equal(ds.velocity.values[-1], vectors[-1]["velocity"])
        assert ds.azimuth_time.values[-1] == vectors[-1]["time"]
        assert ds.position.attrs["units"] == "m"
        # the swath-level group is the same orbit (annotations duplicate it)
        xr.testing.assert_equal(
            xr.open_dataset(SAFE_DIR / name, group=f"{swath}/orbit").position, ds.position
        )


@pytest.mark.parametrize("name", [GRD_ROME, SLC_2021, SLC_2022])
def test_calibration_vectors(name):
    for path in sorted((_safe_dir(name) / "annotation" / "calibration").glob("calibration-*")):
        swath, pol = path.name.split("-")[2].upper(), path.name.split("-")[4].upper()
        vectors = xml_facts.calibration_vectors(path)
        ds = xr.open_dataset(SAFE_DIR / name, group=f"{swath}/{pol}/calibration")
        assert ds.sizes["line"] == len(vectors)
        assert ds.sizes["pixel"] == vectors[0]["pixel"].size
        for k in (0, -1):
            np.testing.assert_allclose(ds.sigma_nought.values[k], vectors[k]["sigma"], rtol=1e-7)
            np.testing.assert_allclose(ds.beta_nought.values[k], vectors[k]["beta"], rtol=1e-7)
            np.testing.assert_allclose(ds.gamma.values[k], vectors[k]["gamma"], rtol=1e-7)
            np.testing.assert_allclose(ds.dn.values[k], vectors[k]["dn"], rtol=1e-7)
        assert ds.sigma_nought.dtype == np.float32
        assert ds.sigma_nought.attrs["long_name"] == "sigma nought (sigmaNought)"


def test_rome_grd_counts():
    ds = xr.open_dataset(SAFE_DIR / GRD_ROME, group="IW/VV/calibration")
    assert ds.sizes == {"line": 27, "pixel": 654}
    noise = xr.open_dataset(SAFE_DIR / GRD_ROME, group="IW/VV/noise_range")
    assert noise.sizes == {"line": 27, "pixel": 657}
    azimuth = xr.open_dataset(SAFE_DIR / GRD_ROME, group="IW/VV/noise_azimuth")
    assert list(azimuth.swath.values) == ["IW1", "IW2", "IW3"]


@pytest.mark.parametrize("name", [GRD_ROME, GRD_2021, SLC_2021])
def test_measurement_is_lazy_and_windowed(name):
    product = Sentinel1Product(SAFE_DIR / name)
    swath = product.swaths[0]
    pol = next(p for p in product.polarisations(swath) if product.has(swath, p, "measurement"))
    ds = xr.open_dataset(SAFE_DIR / name, group=f"{swath}/{pol}")
    lines, samples = xml_facts.image_size(
        next(p for p in xml_facts.annotation_files(_safe_dir(name))
             if xml_facts.swath_pol(p) == (swath, pol)))
    assert ds.measurement.shape == (lines, samples)
    assert not ds.measurement.variable._in_memory
    window = ds.measurement[1000:2000, 3000:4000].values
    assert window.shape == (1000, 1000)
    assert window.dtype == (np.complex64 if product.is_slc else np.uint16)
    assert np.unique(window).size == 1  # the fixtures' TIFFs are constant
    assert ds.azimuth_time.size == lines and ds.azimuth_time.dtype == "datetime64[ns]"
    step = np.diff(ds.azimuth_time.values[:2]).astype(np.int64)[0] / 1e9
    assert step == pytest.approx(ds.attrs["azimuth_time_interval"], abs=1e-9)


def test_zip_opens_without_extraction_and_equals_folder():
    zipped = Sentinel1Product(SAFE_DIR / SLC_2021_ZIP)
    folder = Sentinel1Product(SAFE_DIR / SLC_2021)
    assert zipped.location.local_zip is not None
    assert zipped.groups == folder.groups
    for group in ("IW1/VV/calibration", "IW2/VH/noise_azimuth", "IW1/gcp", "IW1/R168_N466_E0117"):
        xr.testing.assert_identical(zipped.open_group(group).drop_vars(["VV", "VH"],
                                                                       errors="ignore"),
                                    folder.open_group(group).drop_vars(["VV", "VH"],
                                                                       errors="ignore"))
    a = zipped.open_group("IW1/VV").measurement[5:50, 100:180].values
    b = folder.open_group("IW1/VV").measurement[5:50, 100:180].values
    np.testing.assert_array_equal(a, b)


def test_manifest_path_opens_the_product():
    ds = xr.open_dataset(SAFE_DIR / GRD_ROME / "manifest.safe")
    assert ds.attrs["product_name"] == GRD_ROME.removesuffix(".SAFE")


def test_time_scales():
    ds = xr.open_dataset(SAFE_DIR / GRD_ROME, group="IW/VV/orbit")
    tai_minus_utc = (ds.azimuth_time_tai - ds.azimuth_time).values.astype(np.int64) / 1e9
    np.testing.assert_array_equal(tai_minus_utc, 37.0)  # leap seconds since 2017
    ut1_minus_utc = (ds.azimuth_time_ut1 - ds.azimuth_time).values.astype(np.int64) / 1e9
    assert np.all(np.abs(ut1_minus_utc) < 0.9)
    assert ut1_minus_utc[0] == pytest.approx(-0.1073, abs=2e-3)  # IERS C04, 2021-12-23
    image = xr.open_dataset(SAFE_DIR / GRD_ROME, group="IW/VV")
    # the manifest's acquisitionPeriod says startTimeANX = 2.267038e+06 ms for the first line
    assert float(image.time_since_anx[0]) == pytest.approx(2267.038, abs=1e-3)
    assert ds.time_since_anx.attrs["units"] == "s"


def test_bursts_group_and_identity():
    product = Sentinel1Product(SAFE_DIR / SLC_2021)
    facts = xml_facts.bursts(next(p for p in xml_facts.annotation_files(SAFE_DIR / SLC_2021)
                                  if xml_facts.swath_pol(p) == ("IW1", "VV")))
    ids = product.burst_ids("IW1")
    assert len(ids) == facts["count"] == 9
    assert all(i.startswith("R168_N4") and "_E01" in i for i in ids)
    ds = product.open_group(f"IW1/{ids[3]}")
    assert set(ds.data_vars) >= {"VV", "VH", "first_valid_sample", "last_valid_sample"}
    assert ds.VV.shape == (facts["lines_per_burst"], 21632)
    assert ds.azimuth_time.values[0] == facts["azimuth_time"][3]
    assert int(ds.line[0]) == 3 * facts["lines_per_burst"]
    np.testing.assert_array_equal(ds.first_valid_sample.values, facts["first_valid"][3])
    assert ds.attrs["azimuth_steering_rate"] == pytest.approx(1.590368784)
    assert len(ds.attrs["azimuth_fm_rate_polynomial"]) == 3


def test_tai_across_a_leap_second():
    from s1tiling_cloud.safe import timescales

    utc = np.array(["2016-12-31T23:59:50", "2017-01-01T00:00:10"], dtype="datetime64[ns]")
    offsets = (timescales.to_tai(utc) - utc).astype(np.int64) / 1e9
    np.testing.assert_array_equal(offsets, [36.0, 37.0])


def test_a_product_newer_than_the_iers_series_opens(tmp_path):
    """UT1 is NaT (with a warning) past the bundled IERS series' last day; nothing else fails."""
    from s1tiling_cloud.testing import SyntheticGRD, write_grd

    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=300,
                        start="2031-06-01T05:00:00", absolute_orbit=70000)
    path = write_grd(spec, tmp_path)
    with pytest.warns(UserWarning, match="UT1-UTC is known"):
        orbit = xr.open_dataset(path, group="IW/VV/orbit")
    assert np.isnat(orbit.azimuth_time_ut1.values).all()
    assert not np.isnat(orbit.azimuth_time_tai.values).any()
    assert np.isfinite(orbit.time_since_anx.values).all()
    assert xr.open_dataset(path, group="IW/VV").measurement.shape == (200, 300)


def test_dask_chunks_group_whole_strips():
    """`chunks={}` follows the reader's preferred chunks: whole strips, ~64 MiB, not 1 line."""
    ds = xr.open_dataset(SAFE_DIR / GRD_ROME, group="IW/VV", chunks={})
    line_chunks, pixel_chunks = ds.measurement.chunks
    assert pixel_chunks == (26102,) and 1000 < line_chunks[0] <= 2**26 // (26102 * 2)
    assert sum(line_chunks) == 16705 and len(line_chunks) < 20
    window = ds.measurement[5000:6000, 3000:4000].values
    np.testing.assert_array_equal(window, xr.open_dataset(SAFE_DIR / GRD_ROME, group="IW/VV")
                                  .measurement[5000:6000, 3000:4000].values)
