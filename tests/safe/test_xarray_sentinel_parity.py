"""Same values as xarray-sentinel, the reader users of Sentinel-1 in xarray already know.

Every fixture, every metadata group xarray-sentinel can open, every variable: values equal,
names equal or mapped through NAME_MAP (the same table is in docs/reader.md, checked below).
Where the layouts differ on purpose (orbit axis, the geolocation grid, all azimuth noise
blocks), the tests say how, and the GRD test measures the cost of flattening the grid.
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from s1tiling_cloud.safe import Sentinel1Product
from tests.conftest import ALL_PRODUCTS, GRD_2021, GRD_ROME, SAFE_DIR, SLC_2021, SLC_2021_ZIP
from tests.safe import xml_facts

pytestmark = pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")

DOC = Path(__file__).resolve().parents[2] / "docs" / "reader.md"
SPEED_OF_LIGHT = 299_792_458.0

# xarray-sentinel name -> s1safe name. Names not listed are the same in both readers.
# None: deliberately not provided (the note in docs/reader.md says why).
NAME_MAP: dict[str, dict[str, str | None]] = {
    "group": {
        "{swath}/{pol}/{burst_index}": "{swath}/{burst_id}",
    },
    "variable": {
        "incidenceAngle": "incidence_angle",
        "elevationAngle": "elevation_angle",
        "sigmaNought": "sigma_nought",
        "betaNought": "beta_nought",
        "noiseRangeLut": "noise_range_lut",
        "noiseAzimuthLut": "noise_azimuth_lut",
        "srgrCoefficients": "srgr_coefficients",
        "grsrCoefficients": "grsr_coefficients",
        "data_dc_rms_error_above_threshold": None,
        "measurement": "{pol}",  # in a burst group only; `measurement` in `{swath}/{pol}`
    },
    "attribute": {
        "family_name": "constellation",
        "number": "platform",
        "mode": "sar:instrument_mode",
        "product_type": "sar:product_type",
        "transmitter_receiver_polarisations": "sar:polarizations",
        "pass": "sat:orbit_state",
        "orbit_number": "sat:absolute_orbit",
        "relative_orbit_number": "sat:relative_orbit",
        "ascending_node_time": "sat:anx_datetime",
        "start_time": "start_datetime",
        "stop_time": "end_datetime",
        "mission_data_take_id": "mission_datatake_id",
    },
}
# Layouts that differ on purpose, compared by the dedicated tests instead of name by name.
LAYOUT = {"orbit": {"axis"}, "gcp": {"azimuth_time", "slant_range_time"},
          "noise_azimuth": {"noiseAzimuthLut", "line"}}
# Azimuth time of measurement lines: xarray-sentinel spreads GRD lines evenly between first and
# last line times, and rounds the SLC line interval to whole ns; we add i × interval exactly.
LINE_TIME_TOLERANCE = np.timedelta64(2, "us")


def our_name(kind: str, name: str) -> str | None:
    return NAME_MAP[kind].get(name, name)


def xs_location(product: str) -> str:
    """xarray-sentinel reads a zipped product through fsspec's zip:// chaining."""
    path = SAFE_DIR / product
    if product.endswith(".zip"):
        return f"zip://{path.stem}.SAFE::{path}"
    return str(path)


@functools.cache
def xs_open(product: str, group: str = "") -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(xs_location(product), engine="sentinel-1", group=group,
                               check_files_exist=True)


@functools.cache
def ours(product: str) -> Sentinel1Product:
    return Sentinel1Product(SAFE_DIR / product)


def xs_groups(product: str, kind: str) -> list[str]:
    """xarray-sentinel's groups of a kind; where it has none (the fixture lacks those files),
    ours must have none either: the comparison is then that both agree on absence."""
    groups = [g for g in xs_open(product).attrs["subgroups"] if g.endswith("/" + kind)]
    if not groups:
        assert not [g for g in ours(product).groups if g.endswith("/" + kind)], (
            f"xarray-sentinel lists no {kind} group in {product}, we do")
    return groups


def assert_same_values(x: xr.Dataset, o: xr.Dataset, kind: str, group: str) -> None:
    """Each variable and coordinate of xarray-sentinel's dataset has our values, by name."""
    for name, xv in x.variables.items():
        if name in LAYOUT.get(kind, ()):
            continue
        mapped = our_name("variable", name)
        if mapped is None:
            continue
        if mapped in o.variables:
            ov = o.variables[mapped]
            values = ov.transpose(*xv.dims).values if set(ov.dims) == set(xv.dims) else ov.values
        else:  # a dimension without coordinate: its index is what xarray-sentinel labels it
            assert mapped in o.dims, f"{group}: {name} (-> {mapped}) missing"
            values = np.arange(o.sizes[mapped])
        np.testing.assert_array_equal(values, xv.values, err_msg=f"{group}: {name} -> {mapped}")


PRODUCTS = pytest.mark.parametrize("product", ALL_PRODUCTS)
SIMPLE_KINDS = ["attitude", "calibration", "noise_range", "coordinate_conversion",
                "dc_estimate", "azimuth_fm_rate"]


@PRODUCTS
@pytest.mark.parametrize("kind", SIMPLE_KINDS)
def test_metadata_values(product, kind):
    """Groups laid out alike in both readers: every variable, every value, equal."""
    for group in xs_groups(product, kind):
        assert group in ours(product).groups
        assert_same_values(xs_open(product, group), ours(product).open_group(group), kind, group)


@PRODUCTS
def test_orbit(product):
    """Same state vectors; xarray-sentinel's (axis, azimuth_time) is our (azimuth_time, axis)."""
    for group in xs_groups(product, "orbit"):
        x, o = xs_open(product, group), ours(product).open_group(group)
        assert_same_values(x, o, "orbit", group)
        assert x.position.dims == ("axis", "azimuth_time")
        assert o.position.dims == ("azimuth_time", "axis")
        assert list(x.axis.values) == [0, 1, 2] and list(o.axis.values) == ["x", "y", "z"]
        np.testing.assert_array_equal(o.velocity.values.T, x.velocity.values)


@PRODUCTS
def test_gcp_node_by_node(product):
    """Geodetic values equal node by node; xarray-sentinel's 1-D times are our first row/column."""
    for group in xs_groups(product, "gcp"):
        x, o = xs_open(product, group), ours(product).open_group(group)
        for name in ("latitude", "longitude", "height", "incidenceAngle", "elevationAngle"):
            np.testing.assert_array_equal(o[our_name("variable", name)].values, x[name].values,
                                          err_msg=f"{group}: {name}")
        np.testing.assert_array_equal(o.line.values, x.line.values)
        np.testing.assert_array_equal(o.pixel.values, x.pixel.values)
        assert x.slant_range_time.dims == ("slant_range_time",)
        assert o.slant_range_time.dims == ("line", "pixel")
        np.testing.assert_array_equal(x.azimuth_time.values, o.azimuth_time.values[:, 0])
        np.testing.assert_array_equal(x.slant_range_time.values, o.slant_range_time.values[0])


@pytest.mark.parametrize("product", [GRD_ROME, GRD_2021])
def test_flattened_grid_misplaces_grd_nodes_by_hundreds_of_metres(product):
    """Each node's exact slant range time (the XML's) against xarray-sentinel's per-column one.

    A GRD row is resampled to ground range, so the same pixel column has a different slant
    range time on every row: one time per column puts nodes up to ~460 m off in range.
    """
    x = xs_open(product, "IW/VV/gcp")
    o = ours(product).open_group("IW/VV/gcp")
    points = xml_facts.gcp_points(next((SAFE_DIR / product / "annotation").glob("*-vv-*.xml")))
    exact = {(int(p["line"]), int(p["pixel"])): float(p["slantRangeTime"]) for p in points}
    lines, pixels = o.line.values, o.pixel.values
    ours_error, xs_error = [], []
    for i, line in enumerate(lines):
        for j, pixel in enumerate(pixels):
            truth = exact[(int(line), int(pixel))]
            ours_error.append(abs(o.slant_range_time.values[i, j] - truth))
            xs_error.append(abs(x.slant_range_time.values[j] - truth))
    ours_m = np.max(ours_error) * SPEED_OF_LIGHT / 2
    xs_m = np.array(xs_error) * SPEED_OF_LIGHT / 2
    assert ours_m == 0.0
    assert 300 < xs_m.max() < 600, f"xarray-sentinel's worst node is {xs_m.max():.0f} m off"
    assert np.median(xs_m) > 50, f"median {np.median(xs_m):.0f} m"


def test_flattened_grid_is_exact_in_range_on_slc():
    """On SLC the slant range time of a column is the same on every row: no range error."""
    o = ours(SLC_2021).open_group("IW1/VV/gcp")
    srt = o.slant_range_time.values
    assert np.abs(srt - srt[0]).max() * SPEED_OF_LIGHT / 2 < 1e-6


@PRODUCTS
def test_noise_azimuth(product):
    """xarray-sentinel keeps the first azimuth block only; it equals our block 0 of all."""
    folder = SAFE_DIR / (SLC_2021 if product == SLC_2021_ZIP else product)
    for group in xs_groups(product, "noise_azimuth"):
        x, o = xs_open(product, group), ours(product).open_group(group)
        first = o.isel(block=0)
        keep = ~np.isnan(first.line.values.astype(np.float64))  # blocks are padded with NaN
        np.testing.assert_array_equal(first[our_name("variable", "noiseAzimuthLut")].values[keep],
                                      x.noiseAzimuthLut.values)
        np.testing.assert_array_equal(first.line.values[keep], x.line.values)
        swath, pol, _ = group.split("/")
        href = ours(product).file(swath, pol, "noise").href
        assert o.sizes["block"] == len(xml_facts.noise_azimuth_blocks(folder / href))


def _measurement_groups(product: str) -> list[str]:
    subgroups = xs_open(product).attrs["subgroups"]
    pols = ("VV", "VH", "HH", "HV")
    return [g for g in subgroups if g.count("/") == 1 and g.split("/")[1] in pols
            and g in ours(product).groups]


@PRODUCTS
def test_measurement_window(product):
    """A 1000×1000 window: same values, same range coordinate, line times within 2 µs.

    xarray-sentinel cannot read a measurement inside a zip (it hands rasterio a `zip://` URL
    GDAL does not know), so for the zip fixture it reads the same product's folder.
    """
    source = SLC_2021 if product == SLC_2021_ZIP else product
    groups = _measurement_groups(product)
    assert groups
    for group in groups:
        x = xs_open(source, group).measurement
        o = ours(product).open_group(group).measurement
        assert x.shape == o.shape
        lines = slice(o.shape[0] // 2 - 500, o.shape[0] // 2 + 500)
        pixels = slice(o.shape[1] // 2 - 500, o.shape[1] // 2 + 500)
        xw, ow = x[lines, pixels], o[lines, pixels]
        np.testing.assert_array_equal(ow.values, xw.values.astype(ow.dtype), err_msg=group)
        offset = np.abs(ow.azimuth_time.values - xw.azimuth_time.values).max()
        assert offset <= LINE_TIME_TOLERANCE, f"{group}: line times {offset} apart"
        for name in ("slant_range_time", "ground_range"):
            if name in xw.coords:
                np.testing.assert_allclose(ow[name].values, xw[name].values, rtol=0, atol=1e-15)


def test_burst_group_by_index_and_by_identity():
    """xarray-sentinel's `IW1/VV/3` (index) is our `IW1/<burst id>` (variable `VV`)."""
    product = ours(SLC_2021)
    x = xs_open(SLC_2021, "IW1/VV/3")
    template = our_name("group", "{swath}/{pol}/{burst_index}")
    group = template.format(swath="IW1", burst_id=product.burst_ids("IW1")[3])
    o = product.open_group(group)
    data = o[our_name("variable", "measurement").format(pol="VV")]
    assert data.shape == x.measurement.shape
    np.testing.assert_array_equal(data[700:800, 10000:10100].values,
                                  x.measurement[700:800, 10000:10100].values)
    np.testing.assert_allclose(o.slant_range_time.values, x.slant_range_time.values, atol=1e-15)
    assert np.abs(o.azimuth_time.values - x.azimuth_time.values).max() <= LINE_TIME_TOLERANCE
    assert o.attrs["burst_index"] == x.attrs["burst_index"] == 3


def _same_attribute(xs_name: str, xs_value, our_value) -> bool:
    if xs_name == "number":  # "B" -> "sentinel-1b"
        return our_value == f"sentinel-1{xs_value.lower()}"
    if isinstance(xs_value, str):
        return xs_value.lower() == str(our_value).lower().removesuffix("z")
    if isinstance(xs_value, (list, tuple)):
        return list(xs_value) == list(our_value)
    return xs_value == our_value


@PRODUCTS
def test_root_attributes(product):
    """Product attributes: xarray-sentinel's names mapped to the STAC SAR/SAT ones."""
    x = xs_open(product).attrs
    o = ours(product).open_group("").attrs
    for xs_name, name in NAME_MAP["attribute"].items():
        assert _same_attribute(xs_name, x[xs_name], o[name]), (xs_name, x[xs_name], o[name])
    assert x["swaths"] == o["swaths"]


@PRODUCTS
def test_names_are_equal_or_mapped(product):
    """No xarray-sentinel variable name is left without a counterpart or a NAME_MAP entry."""
    for group in xs_open(product).attrs["subgroups"]:
        if group.count("/") != 2:
            continue
        o = ours(product).open_group(group)
        for name in xs_open(product, group).variables:
            mapped = our_name("variable", name)
            assert mapped is None or mapped in o.variables or mapped in o.dims, (group, name)


def test_docs_table_is_the_name_map():
    """docs/reader.md shows exactly NAME_MAP (kind, xarray-sentinel name, our name)."""
    text = DOC.read_text()
    table = text.split("<!-- NAME_MAP -->")[1]
    rows = re.findall(r"^\| *(group|variable|attribute) *\| *`([^`]+)` *\| *(?:`([^`]+)`|—) *\|",
                      table, flags=re.MULTILINE)
    documented: dict[str, dict[str, str | None]] = {"group": {}, "variable": {}, "attribute": {}}
    for kind, xs_name, name in rows:
        documented[kind][xs_name] = name or None
    assert documented == NAME_MAP
