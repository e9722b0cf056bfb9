"""A product read through the S3 API equals the same product read from disk.

The bucket is served by a real `moto_server` over HTTP (tests/s3server.py); s3fs talks to it
as it would to AWS. Two layouts: the SLC fixture as one `.zip` object (read without
extracting it), and the Rome GRD as a `.SAFE` prefix of objects.
"""

from __future__ import annotations

import gc
import pickle
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from s1tiling_cloud.safe import Sentinel1Product, open_dataset
from tests.conftest import GRD_ROME, SAFE_DIR, SLC_2021_ZIP
from tests.s3server import storage_options, upload

pytestmark = pytest.mark.s3

BUCKET = "sentinel-1"
CASES = {"zip": (SLC_2021_ZIP, ""), "safe-folder": (GRD_ROME, "l1/2021/12/23")}
MEASUREMENT_SIZE = 1_000_000  # variables larger than this are measurements: compared by window


@pytest.fixture(scope="module")
def uploaded(s3_server):  # noqa: F811 (pytest fixture)
    """{case: (local path, s3 URL, storage_options)} with both fixtures in one bucket."""
    if not SAFE_DIR.is_dir():
        pytest.skip(f"real Sentinel-1 fixtures not found at {SAFE_DIR}")
    options = storage_options(s3_server)
    return {case: (SAFE_DIR / name, upload(s3_server, BUCKET, SAFE_DIR / name, prefix), options)
            for case, (name, prefix) in CASES.items()}


@pytest.fixture(params=list(CASES))
def product(request, uploaded):
    return uploaded[request.param]


def _without_location(attrs: dict, *locations) -> dict:
    """Attributes minus those that say where the product was read from."""
    texts = [str(loc) for loc in locations]
    return {k: v for k, v in attrs.items()
            if not (isinstance(v, str) and any(t in v for t in texts))}


def _window(shape: tuple[int, ...], size: int = 1000) -> tuple[slice, ...]:
    """A size×size window in the middle of the first two axes."""
    return tuple(slice(max(0, n // 2 - size // 2), n // 2 - size // 2 + size) for n in shape[:2])


def test_root_opens_by_url_without_engine(product):
    """`xr.open_dataset("s3://…", storage_options=…)` finds the s1safe backend by itself."""
    local, url, options = product
    remote = xr.open_dataset(url, storage_options=options)
    here = xr.open_dataset(local)
    assert remote.attrs["subgroups"] == here.attrs["subgroups"]
    assert len(remote.attrs["subgroups"]) > 10
    assert _without_location(remote.attrs, url) == _without_location(here.attrs, local)


def test_every_group_equals_the_local_one(product):
    """All groups of `subgroups`: identical metadata, equal measurement windows."""
    local, url, options = product
    remote_product = Sentinel1Product(url, options)  # one object: the manifest is read once
    here_product = Sentinel1Product(local)
    groups = remote_product.groups
    assert groups == here_product.groups
    windows = 0
    for group in groups:
        remote, here = remote_product.open_group(group), here_product.open_group(group)
        big = [n for n, v in here.variables.items() if v.size > MEASUREMENT_SIZE]
        small_remote, small_here = remote.drop_vars(big), here.drop_vars(big)
        small_remote.attrs = _without_location(remote.attrs, url)
        small_here.attrs = _without_location(here.attrs, local)
        xr.testing.assert_identical(small_remote, small_here)
        for name in big:
            window = _window(here[name].shape)
            np.testing.assert_array_equal(remote[name][window].values, here[name][window].values,
                                          err_msg=f"{group}/{name}")
            windows += 1
    assert windows > 0


def test_measurement_window_equals_the_local_read(product):
    """A 1000×1000 window through S3 has the local window's values, dtype and coordinates."""
    local, url, options = product
    group = next(g for g in open_dataset(local).attrs["subgroups"]
                 if g.count("/") == 1 and g.split("/")[1] in ("VV", "VH", "HH", "HV"))
    remote = xr.open_dataset(url, engine="s1safe", group=group, storage_options=options)
    here = xr.open_dataset(local, engine="s1safe", group=group)
    lines, pixels = _window(here.measurement.shape)
    a = remote.measurement.isel(line=lines, pixel=pixels).load()
    b = here.measurement.isel(line=lines, pixel=pixels).load()
    assert a.shape == (1000, 1000)
    assert a.dtype == b.dtype
    xr.testing.assert_identical(a, b)


def test_two_groups_on_one_tiff_survive_each_other(product):
    """Dropping one dataset must not close the S3 handle of another on the same TIFF.

    Regression: rasterio keyed open files by equality and fsspec files of one object are
    equal, so the swath group lost its handle when the `IW/VV` group was collected.
    """
    local, url, options = product
    first = open_dataset(url, "IW1/VV" if url.endswith(".zip") else "IW/VV", options)
    swath = open_dataset(url, "IW1" if url.endswith(".zip") else "IW", options)
    expected = open_dataset(local, "IW1" if url.endswith(".zip") else "IW")
    assert first.measurement[:2, :2].size == 4
    del first
    gc.collect()
    np.testing.assert_array_equal(swath.VV[100:110, 200:210].values,
                                  expected.VV[100:110, 200:210].values)


def test_pickled_dataset_reads_in_another_process(product, tmp_path):
    """A lazy S3 dataset sent to a worker process (dask, Argo) reads its window there."""
    local, url, options = product
    group = "IW1/VV" if url.endswith(".zip") else "IW/VV"
    blob = tmp_path / "dataset.pickle"
    blob.write_bytes(pickle.dumps(open_dataset(url, group, options)))
    code = ("import pickle, sys; ds = pickle.load(open(sys.argv[1], 'rb'));"
            "w = ds.measurement[3000:3010, 4000:4010].values;"
            "print(w.dtype, w.shape, repr(w.ravel()[0].item()))")
    result = subprocess.run([sys.executable, "-c", code, str(blob)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    here = open_dataset(local, group).measurement[3000:3010, 4000:4010].values
    assert result.stdout.split() == [str(here.dtype), "(10,", "10)", repr(here.ravel()[0].item())]
