"""The comparison the container test relies on sees a changed pixel or tag, and only ignores
the write time."""

from __future__ import annotations

import numpy as np
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from tests.container.compare import differences


def geotiff(values: np.ndarray, **tags: str) -> bytes:
    with MemoryFile() as memory:
        with memory.open(driver="GTiff", height=values.shape[0], width=values.shape[1], count=1,
                         dtype=values.dtype, crs="EPSG:32631", nodata=0,
                         transform=from_origin(300000, 4900000, 60, 60)) as dataset:
            dataset.write(values, 1)
            dataset.update_tags(**tags)
        return memory.read()


def test_only_the_write_time_may_differ():
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    base = geotiff(values, TIFFTAG_DATETIME="2026:01:01 00:00:00", IMAGE_TYPE="BACKSCATTERING")
    later = geotiff(values, TIFFTAG_DATETIME="2026:01:02 00:00:00", IMAGE_TYPE="BACKSCATTERING")
    assert differences({"a.tif": base}, {"a.tif": later}) == []
    changed = values.copy()
    changed[1, 1] = np.nextafter(changed[1, 1], np.float32(100))  # one ulp
    pixel = geotiff(changed, TIFFTAG_DATETIME="2026:01:01 00:00:00", IMAGE_TYPE="BACKSCATTERING")
    tag = geotiff(values, TIFFTAG_DATETIME="2026:01:01 00:00:00", IMAGE_TYPE="MASK")
    assert any("pixels" in d for d in differences({"a.tif": base}, {"a.tif": pixel}))
    assert any("tags" in d for d in differences({"a.tif": base}, {"a.tif": tag}))
    assert differences({"a.tif": base}, {}) and differences({"x.json": b"1"}, {"x.json": b"2"})
