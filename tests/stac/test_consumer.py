"""A consumer: odc-stac loads items whose assets are on the S3 API server as an xarray cube
whose values are the COGs' (the static catalog itself is on S3 too)."""

from __future__ import annotations

import numpy as np
import pystac
import pytest
import rasterio

from s1tiling_cloud.stac.item import ProductFiles
from s1tiling_cloud.stac.publication import publish_product
from s1tiling_cloud.stac.static_catalog import StaticCatalog
from tests.s3server import gdal_env, s3_client, storage_options, upload

odc_stac = pytest.importorskip("odc.stac")


@pytest.mark.s3
def test_odc_stac_loads_a_time_series_from_s3(chain, s3_server, monkeypatch):
    out, made = chain
    for key, value in gdal_env(s3_server).items():
        monkeypatch.setenv(key, value)
    bucket = "consumer"
    s3_client(s3_server).create_bucket(Bucket=bucket)
    root = upload(s3_server, bucket, out, "run")  # s3://consumer/run/products

    def on_s3(mapping):
        return {k: v.replace(str(out), root) for k, v in mapping.items()}

    options = storage_options(s3_server)
    catalog = f"{root}/catalog.json"
    for files in made:
        publish_product(ProductFiles(on_s3(files.products), on_s3(files.masks),
                                     on_s3(files.quicklooks)), catalog, storage_options=options)
    items = [pystac.Item.from_dict(doc) for _, doc in StaticCatalog(catalog, options).items()]
    assert len(items) == 4 and all(item.assets["vv"].href.startswith("s3://") for item in items)

    endpoint = {k: v for k, v in gdal_env(s3_server).items()  # credentials: from the environment
                if k in ("AWS_S3_ENDPOINT", "AWS_HTTPS", "AWS_VIRTUAL_HOSTING", "AWS_REGION")}
    odc_stac.configure_rio(cloud_defaults=False, **endpoint)
    cube = odc_stac.load(items, bands=["vv", "vh"], groupby="id")
    assert cube.sizes["time"] == 4 and cube.vv.dtype == np.float32
    by_time = {item.datetime.replace(tzinfo=None): item for item in items}
    for index, moment in enumerate(cube.time.values):
        item = by_time[moment.astype("datetime64[us]").item()]
        for band in ("vv", "vh"):
            with rasterio.open(item.assets[band].href.replace(root, str(out))) as dataset:
                expected = dataset.read(1)
            assert np.array_equal(cube[band].isel(time=index).values, expected)
