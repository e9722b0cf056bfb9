"""LIA maps with the precise orbit files in object storage: `eof_dir` as an s3:// prefix on the
moto S3 API server gives the same maps and tags as the same files in a local folder (a pod has
no local cache), and the choice among files is the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from s1tiling_cloud.exceptions import DownloadEOFFileError
from s1tiling_cloud.geo import Grid
from s1tiling_cloud.geo.eof import eof_names, product_eofs, read_eof
from s1tiling_cloud.stages.lia import lia
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from tests.providers.eof_provider import write_eof
from tests.s3server import storage_options, upload

pytestmark = pytest.mark.s3

TILE, RES = "31TCJ", 1200.0
SPEC = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800, pixel_spacing=40.0,
                    speckle=False)  # S1A, 2020-01-08T04:41:50


def _orbit_files(folder: Path) -> Path:
    """The product's POEORB, plus files that must not be chosen: an older one of the same
    window, a restituted one, another mission's."""
    best = write_eof(folder, SPEC)
    write_eof(folder, SPEC, created=datetime(2020, 1, 20, tzinfo=UTC))
    write_eof(folder, SPEC, kind="RESORB", created=datetime(2020, 2, 1, tzinfo=UTC))
    write_eof(folder, SPEC, mission="S1B")
    (folder / "README.txt").write_text("not an orbit file")
    return best


def _flat_heights(path: Path) -> str:
    grid = Grid.from_tile(TILE, RES)
    Store().write_cog(str(path), np.zeros(grid.shape, np.float32), crs=grid.crs,
                      transform=grid.transform, nodata=float("nan"), overviews=None,
                      tags={"IMAGE_TYPE": "HEIGHT", "DEM_INFO": "flat", "DEM_LIST": "flat.tif"})
    return str(path)


def _read(uri: str, options: dict) -> tuple[np.ndarray, dict]:
    with Store(options).open_raster(uri) as dataset:
        return dataset.read(1), dataset.tags()


def test_product_eofs_lists_an_s3_prefix_as_a_folder(s3_server, tmp_path):
    options = storage_options(s3_server)
    best = _orbit_files(tmp_path / "eof")
    prefix = upload(s3_server, "orbits", tmp_path / "eof", "find")
    start, stop = np.datetime64(SPEC.start_time, "s"), np.datetime64(SPEC.start_time, "s") + 4
    assert eof_names(prefix, options) == eof_names(tmp_path / "eof")
    assert len(eof_names(prefix, options)) == 4
    [local] = product_eofs(tmp_path / "eof", "S1A", start, stop)
    [remote] = product_eofs(prefix, "S1A", start, stop, options)
    assert local.location == str(best) and remote.location == f"{prefix}/{best.name}"
    local, remote = local.location, remote.location
    assert read_eof(remote, options).times.size == read_eof(local).times.size > 1000
    assert eof_names(f"{prefix}-absent", options) == []
    with pytest.raises(DownloadEOFFileError, match="S1C"):
        product_eofs(prefix, "S1C", start, stop, options)


def test_lia_with_an_s3_eof_dir_equals_the_local_one(s3_server, tmp_path):
    options = storage_options(s3_server)
    best = _orbit_files(tmp_path / "eof")
    eof_prefix = upload(s3_server, "orbits", tmp_path / "eof", "lia")
    product = upload(s3_server, "orbits", write_grd(SPEC, tmp_path / "s1"), "s1")
    heights = upload(s3_server, "orbits", _flat_heights(tmp_path / "heights.tif"), "tmp")
    maps = {}
    for source, eof_dir in (("local", str(tmp_path / "eof")), ("s3", eof_prefix)):
        outputs = {kind: f"s3://orbits/out/{source}/{kind}_{TILE}_007.tif" for kind in ("sin_LIA", "LIA")}
        result = lia(product, TILE, heights, outputs, {"resolution": RES}, eof_dir=eof_dir,
                     storage_options=options)
        assert not result.skipped and sorted(result.outputs) == sorted(outputs.values())
        maps[source] = {kind: _read(uri, options) for kind, uri in outputs.items()}
    for kind in ("sin_LIA", "LIA"):
        (local, local_tags), (remote, remote_tags) = maps["local"][kind], maps["s3"][kind]
        assert remote_tags["EOF_FILE"] == local_tags["EOF_FILE"] == best.name
        np.testing.assert_array_equal(remote, local)
    sin_lia = maps["s3"]["sin_LIA"][0]
    assert np.isfinite(sin_lia).all() and 0.5 < sin_lia.min() < sin_lia.max() < 0.8
