"""The reader without xarray (`Sentinel1Product.metadata`, `.measurement`), on every real product
of ../shared/fixtures: the same variables, values and attributes as the groups' Datasets, and
the same measurement windows."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from s1tiling_cloud.exceptions import (
    GroupNotFoundError,
    MissingMeasurementError,
)
from s1tiling_cloud.safe import Sentinel1Product
from s1tiling_cloud.safe.product import SWATH_METADATA
from tests.conftest import ALL_PRODUCTS, GRD_2021, GRD_ROME, SAFE_DIR, needs_fixtures

pytestmark = needs_fixtures
#: What only the Datasets have: the azimuth time in other time scales (`safe.timescales`).
TIME_SCALES = {"azimuth_time_tai", "azimuth_time_ut1", "time_since_anx"}


def _metadata_groups(product: Sentinel1Product) -> list[str]:
    groups = []
    for group in product.groups:
        parts = group.split("/")
        if (len(parts) == 2 and parts[1] in SWATH_METADATA) or len(parts) == 3:
            groups.append(group)
    return groups


@pytest.mark.parametrize("name", ALL_PRODUCTS)
def test_every_metadata_group_reads_as_its_dataset(name):
    product = Sentinel1Product(SAFE_DIR / name)
    groups = _metadata_groups(product)
    assert any(g.endswith("/orbit") for g in groups)
    for group in groups:
        numeric, dataset = product.metadata(group), product.open_group(group)
        assert numeric.attrs == dataset.attrs, group
        assert set(dataset.variables) - set(numeric.variables) <= TIME_SCALES, group
        assert list(numeric.coord_names) == [c for c in dataset.coords if c not in TIME_SCALES]
        assert numeric.sizes == dict(dataset.sizes), group
        for key, variable in numeric.variables.items():
            expected = dataset[key].variable
            assert variable.dims == expected.dims, (group, key)
            assert variable.attrs == expected.attrs, (group, key)
            assert variable.values.dtype == expected.values.dtype, (group, key)
            np.testing.assert_array_equal(variable.values, expected.values, err_msg=f"{group} {key}")


@pytest.mark.parametrize("name", ALL_PRODUCTS)
def test_measurement_windows_read_as_the_datasets(name):
    product = Sentinel1Product(SAFE_DIR / name)
    present = [(swath, pol) for swath in product.swaths for pol in product.polarisations(swath)
               if product.has(swath, pol, "measurement")]
    swath, pol = present[-1]
    measurement = product.measurement(swath, pol)
    expected = product.open_group(f"{swath}/{pol}").measurement
    assert measurement.shape == expected.shape and measurement.dtype == expected.dtype
    assert product.measurement(swath, pol) is measurement  # one reader per product
    lines, pixels = measurement.shape
    window = (slice(lines // 3, lines // 3 + 40), slice(pixels - 70, pixels))
    np.testing.assert_array_equal(measurement[window], expected[window].values)
    np.testing.assert_array_equal(measurement[7], expected[7, :].values)


def test_groups_that_are_not_metadata_are_refused():
    product = Sentinel1Product(SAFE_DIR / GRD_ROME)
    for group in ("IW/VV", "IW", "IW/VV/nothing", "IW9/orbit", ""):
        with pytest.raises(GroupNotFoundError):
            product.metadata(group)


def test_a_measurement_listed_but_missing_is_the_datasets_error():
    product = Sentinel1Product(SAFE_DIR / GRD_2021)  # its VH TIFF is left out of the fixture
    with pytest.raises(MissingMeasurementError):
        product.open_group("IW/VH")
    with pytest.raises(MissingMeasurementError):
        product.measurement("IW", "VH")


def test_measurement_indices_follow_numpy_and_out_of_range_ones_are_refused():
    product = Sentinel1Product(SAFE_DIR / GRD_ROME)
    measurement = product.measurement("IW", "VV")
    expected = product.open_group("IW/VV").measurement
    lines, pixels = measurement.shape
    np.testing.assert_array_equal(measurement[-1, :5], expected[lines - 1, :5].values)
    np.testing.assert_array_equal(measurement[[0, -2], -3:], expected[[0, lines - 2], -3:].values)
    for outside in (lines, -lines - 1, [0, lines + 4]):
        with pytest.raises(IndexError):  # not memory never written
            measurement[outside, :5]
    with pytest.raises(IndexError):
        measurement[0, pixels]


def test_a_product_read_is_freed_with_its_files():
    """Nothing process-wide keeps a product (nor its parsed XML and open measurement files)
    once its reader drops it: a long-lived local worker opens one per node."""
    product = Sentinel1Product(SAFE_DIR / GRD_ROME)
    product.burst_ids("IW")
    product.measurement("IW", "VV")[0, :3]
    gone = weakref.ref(product)
    del product
    gc.collect()
    assert gone() is None
