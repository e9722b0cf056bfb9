"""The reader on the project's own synthetic products: every group opens from the folder and
the zip, the calibrated σ° is the truth the generator was given, and old-IPF noise layouts
(`noiseVectorList`) are read too."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from s1tiling_cloud.safe import Sentinel1Product, calibrate, calibration_lut, noise_lut
from s1tiling_cloud.testing import SyntheticGRD, write_grd


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=900, sigma0_db=-12.0,
                        nesz_db=-40.0, seed=3)
    old = spec.replace(ipf_version="002.72", seed=4)
    return {"folder": write_grd(spec, out / "a"), "zip": write_grd(spec, out / "b", zip=True),
            "old_ipf": write_grd(old, out / "c")}


@pytest.mark.parametrize("kind", ["folder", "zip", "old_ipf"])
def test_every_group_opens(products, kind):
    root = xr.open_dataset(products[kind])
    assert root.attrs["sar:product_type"] == "GRD" and root.attrs["sat:relative_orbit"] == 7
    for group in root.attrs["subgroups"]:
        xr.open_dataset(products[kind], group=group)
    assert "IW/VH/noise_range" in root.attrs["subgroups"]


@pytest.mark.parametrize("kind", ["folder", "old_ipf"])
def test_calibrated_sigma0_is_the_truth(products, kind):
    product = Sentinel1Product(products[kind])
    image = product.open_group("IW/VV")
    rows, cols = slice(100, 500), slice(100, 800)
    dn = image.measurement[rows, cols].values
    lines, pixels = np.arange(100, 500), np.arange(100, 800)
    lut = calibration_lut(product.open_group("IW/VV/calibration"), "sigma", lines, pixels)
    azimuth = (product.open_group("IW/VV/noise_azimuth")
               if "IW/VV/noise_azimuth" in product.groups else None)
    noise = noise_lut(product.open_group("IW/VV/noise_range"), azimuth, lines, pixels)
    sigma0 = calibrate(dn, lut, noise)
    valid = dn > 0
    mean_db = 10 * np.log10(sigma0[valid].mean())
    assert mean_db == pytest.approx(-12.0, abs=0.1)  # speckled, 280k samples
    assert product.open_group("IW/VV/noise_range").attrs["layout"] == (
        "noiseVectorList" if kind == "old_ipf" else "noiseRangeVectorList")


def test_zip_equals_folder(products):
    a = Sentinel1Product(products["folder"]).open_group("IW/VH").measurement[10:60, 20:90].values
    b = Sentinel1Product(products["zip"]).open_group("IW/VH").measurement[10:60, 20:90].values
    np.testing.assert_array_equal(a, b)
