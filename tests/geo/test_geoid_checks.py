"""A geoid file that is no geoid grid is refused as such (76, naming the file and why), not
used to make every height wrong, nor reported as "does not exist"."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from s1tiling_cloud.exceptions import InvalidGeoidError, MissingGeoidError, exit_code_for
from s1tiling_cloud.geo.geoid import Geoid


def grid(path, values, *, crs="EPSG:4326", transform=None, driver="GTiff"):
    values = np.asarray(values)
    transform = transform if transform is not None else from_origin(-180.0, 90.0, 2.0, 2.0)
    with rasterio.open(path, "w", driver=driver, width=values.shape[1], height=values.shape[0],
                       count=1, dtype=values.dtype, crs=crs, transform=transform) as dataset:
        dataset.write(values, 1)
    return path


def test_a_geoid_grid_is_accepted(tmp_path):
    lat = np.linspace(90, -90, 90)[:, None]
    values = (50 * np.cos(np.radians(lat)) * np.ones((90, 180))).astype(np.float32)
    geoid = Geoid.open(grid(tmp_path / "good.tif", values))
    assert abs(float(geoid.undulation(np.array([10.0]), np.array([0.0]))[0]) - 50) < 1


@pytest.mark.parametrize("case, reason", [
    ("png", "not a north-up"),
    ("mercator", "CRS"),
    ("metres", "values span"),
    ("huge", "extent"),
])
def test_a_raster_that_is_no_geoid_is_refused(case, reason, tmp_path):
    rng = np.random.default_rng(0)
    if case == "png":  # an image: no CRS, pixel coordinates
        path = tmp_path / "geoid.png"
        with rasterio.open(path, "w", driver="PNG", width=64, height=64, count=1,
                           dtype="uint8") as dataset:
            dataset.write(rng.integers(0, 255, (64, 64), dtype=np.uint8), 1)
    elif case == "mercator":
        path = grid(tmp_path / "geoid.tif", np.zeros((10, 10), np.float32), crs="EPSG:3857",
                    transform=from_origin(0, 0, 1000, 1000))
    elif case == "metres":  # a DEM given as the geoid: heights of 1000s of metres
        path = grid(tmp_path / "geoid.tif", rng.uniform(0, 3000, (90, 180)).astype(np.float32))
    else:
        path = grid(tmp_path / "geoid.tif", np.zeros((10, 10), np.float32),
                    transform=from_origin(-180.0, 90.0, 100.0, 100.0))
    with pytest.raises(InvalidGeoidError) as caught:
        Geoid.open(path)
    assert isinstance(caught.value, MissingGeoidError) and exit_code_for(caught.value) == 76
    assert str(path) in str(caught.value) and reason in str(caught.value)
    assert "does not exist" not in str(caught.value)
