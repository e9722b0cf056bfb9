"""The γ-area map of a same-day pair (S1Tiling's best-covering pair): every pixel either
product sees, both products in its metadata; and the plan picks the pass covering most of the
tile. Then γ° RTC of the pair's σ° has no hole where σ° is valid."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.geo import Grid
from s1tiling_cloud.plan import build_plan
from s1tiling_cloud.stages.gamma_area import gamma_area
from s1tiling_cloud.stages.rtc import rtc
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from tests.plan.requests import make_request, outcome_for
from tests.plan.test_build import DAY1, LATER, PAIR

TILE = "31TCJ"
RES = 300.0
BASE = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=250, pixel_spacing=40.0,
                    speckle=False)
NEXT = BASE.replace(center_lat=43.6 - 0.0708, center_lon=1.44 - 0.0172, start="2020-01-08T04:41:51.200")


def _read(uri, band=1):
    with rasterio.open(uri) as dataset:
        return dataset.read(band), dataset.tags()


def test_the_map_of_a_pair_holds_what_either_product_sees(tmp_path):
    first, second = (str(write_grd(spec, tmp_path / "s1")) for spec in (BASE, NEXT))
    grid = Grid.from_tile(TILE, RES)
    heights = str(tmp_path / "heights.tif")
    Store().write_cog(heights, np.full(grid.shape, 50.0, np.float32), crs=grid.crs,
                      transform=grid.transform, nodata=float("nan"), overviews=None,
                      tags={"IMAGE_TYPE": "HEIGHT", "DEM_INFO": "flat"})
    maps = {}
    for name, products in (("first", first), ("second", second), ("pair", [first, second])):
        maps[name] = str(tmp_path / f"{name}.tif")
        # a stale `dem_info` of an older plan: the map still says the heights' DEM_INFO
        gamma_area(products, TILE, heights, maps[name], {"resolution": RES, "dem_info": "stale"})
    valid = {name: np.isfinite(_read(uri)[0]) for name, uri in maps.items()}
    assert valid["first"].sum() > 100 and valid["second"].sum() > 100
    assert (valid["second"] & ~valid["first"]).sum() > 100  # the pair is not one product
    np.testing.assert_array_equal(valid["pair"], valid["first"] | valid["second"])
    area, tags = _read(maps["pair"])
    assert tags["DATA_TYPE"] == "meters^2" and tags["DEM_INFO"] == "flat"
    pixel = float(tags["ELLIPSOID_PIXEL_AREA"])
    assert pixel == 40.0 * 40.0
    cos = area[valid["pair"]] / pixel  # flat terrain: A_γ = A_σ,E cos θ_E
    assert cos.min() > 0.6 and cos.max() < 0.9
    assert tags["INPUT_S1_IMAGES"] == ", ".join(sorted(
        p.rsplit("/", 1)[-1].removesuffix(".SAFE") for p in (first, second)))
    assert "ACQUISITION_DATETIME_2" in tags
    # RTC of a σ° valid over the pair's footprint: no hole where the second product was alone
    sigma = str(tmp_path / "sigma.tif")
    values = np.where(valid["pair"], 0.05, 0.0).astype(np.float32)
    Store().write_cog(sigma, values, crs=grid.crs, transform=grid.transform, nodata=0.0,
                      tags={**_read(maps["first"])[1], "CALIBRATION": "sigma",
                            "IMAGE_TYPE": "BACKSCATTERING", "POLARIZATION": "vv"})
    out = str(tmp_path / "rtc.tif")
    rtc(sigma, maps["pair"], out, {"calibration_factor": 2.0})
    gamma0 = _read(out)[0]
    assert ((gamma0 > 0) == valid["pair"]).all()
    np.testing.assert_allclose(gamma0[valid["pair"]], 2.0 * 0.05 / cos, rtol=1e-5)
    # below `min_gamma_area` (m²): shadow, nodata
    rtc(sigma, maps["pair"], str(tmp_path / "shadow.tif"), {"min_gamma_area": 2.0 * pixel})
    assert not (_read(str(tmp_path / "shadow.tif"))[0] > 0).any()


def test_the_plan_takes_the_pass_covering_most_of_the_tile(tmp_path):
    request = make_request(str(tmp_path), calibration="gamma_naught_rtc")
    request.processing.calibration_factor = 1.5
    small = dataclasses.replace(LATER, start=DAY1 + timedelta(days=24), id=LATER.id.replace("A4E9", "0001"),
                                footprint="POLYGON ((1 43.5, 1.1 43.5, 1.1 43.6, 1 43.6, 1 43.5))")
    plan = build_plan(request, outcome_for({TILE: [small, *PAIR]}))
    node = plan.node(f"gamma_area/{TILE}/007")
    assert node.args["product"] == [f"{tmp_path}/s1/{c.id}.SAFE" for c in PAIR]
    assert node.depends == [f"ingest/{c.id}" for c in PAIR] + [f"heights/{TILE}"]
    assert plan.node(f"rtc/{TILE}/007/20200108/vv").args["params"]["calibration_factor"] == 1.5


@pytest.mark.parametrize("values", [
    {"halo": 16},  # with the default outer_margin_ratio: which one?
    {"halo": 16, "outer_margin_ratio": 0.02},
    {"outer_margin_ratio": -0.1},
    {"halo": -1, "outer_margin_ratio": None},
])
def test_contradictory_or_negative_margins_are_configuration_errors(values):
    from s1tiling_cloud.exceptions import ConfigurationError, exit_code_for
    from s1tiling_cloud.stages.base import params_from
    from s1tiling_cloud.stages.gamma_area import GammaAreaParams

    with pytest.raises(ConfigurationError) as caught:
        params_from(GammaAreaParams, values)
    assert exit_code_for(caught.value) == 72
    assert params_from(GammaAreaParams, {"halo": 16, "outer_margin_ratio": None}).halo == 16
