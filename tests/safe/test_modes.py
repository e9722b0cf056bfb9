"""EW, SM and WV products open as IW ones do. No real EW/SM/WV fixture exists, so each is
derived from the real IW SLC fixture by renaming its files and mode tags the way ESA names
those modes (the XML content stays real): the reader must rely on names and tags, not on IW."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from s1tiling_cloud.safe import Sentinel1Product
from tests.conftest import SAFE_DIR, SLC_2021

pytestmark = pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")


def derive(tmp: Path, mode: str, swaths: dict[str, str], tops: bool) -> Path:
    """A copy of the IW SLC fixture renamed as a `mode` product (`swaths`: iw1 -> s3 ...; every
    swath the manifest lists, those whose files the fixture lacks too, or the manifest would say
    `mode` over IW files)."""
    source = SAFE_DIR / SLC_2021
    target = tmp / source.name.replace("_IW_", f"_{mode}_")
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix()
        for old, new in swaths.items():
            relative = relative.replace(f"-{old}-", f"-{new}-")
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".tiff":
            out.symlink_to(path)
            continue
        text = path.read_text()
        for old, new in swaths.items():
            text = text.replace(f"-{old}-", f"-{new}-")
            text = text.replace(f">{old.upper()}<", f">{new.upper()}<")
        text = text.replace("<mode>IW</mode>", f"<mode>{mode}</mode>")
        text = text.replace("<s1sarl1:mode>IW</s1sarl1:mode>", f"<s1sarl1:mode>{mode}</s1sarl1:mode>")
        if not tops:
            text = re.sub(r"<linesPerBurst>\d+</linesPerBurst>", "<linesPerBurst>0</linesPerBurst>", text)
            text = re.sub(r'<burstList count="\d+">.*?</burstList>', '<burstList count="0"/>', text,
                          flags=re.S)
        out.write_text(text)
    return target


def _open_everything(path: Path) -> dict[str, xr.Dataset]:
    root = xr.open_dataset(path)
    return {g: xr.open_dataset(path, group=g) for g in root.attrs["subgroups"]}


def test_stripmap_s3(tmp_path):
    path = derive(tmp_path, "SM", {"iw1": "s3", "iw2": "s4", "iw3": "s5"}, tops=False)
    product = Sentinel1Product(path)
    assert product.swaths == ["S3", "S4"]
    assert xr.open_dataset(path).attrs["sar:instrument_mode"] == "SM"
    groups = _open_everything(path)
    assert "S3/VV" in groups and "S3/orbit" in groups
    assert not any(g.count("/") == 1 and g.split("/")[1].startswith("R") for g in groups)
    image = groups["S3/VV"]
    steps = np.diff(image.azimuth_time.values[:3]).astype(np.int64) / 1e9
    np.testing.assert_allclose(steps, image.attrs["azimuth_time_interval"], atol=1e-9)


def test_extra_wide_keeps_bursts(tmp_path):
    path = derive(tmp_path, "EW", {"iw1": "ew1", "iw2": "ew2", "iw3": "ew3"}, tops=True)
    product = Sentinel1Product(path)
    assert product.swaths == ["EW1", "EW2"]
    assert len(product.burst_ids("EW1")) == 9
    groups = _open_everything(path)
    burst = groups[f"EW1/{product.burst_ids('EW1')[0]}"]
    assert burst.VV.shape == (1501, 21632)


def test_wave_vignettes_are_separate_swaths(tmp_path):
    path = derive(tmp_path, "WV", {"iw1": "wv1", "iw2": "wv2", "iw3": "wv1"}, tops=False)
    product = Sentinel1Product(path)
    # each vignette is its own annotation/measurement, told apart by its image number
    assert product.swaths == ["WV1_001", "WV1_004", "WV2_002"]
    groups = _open_everything(path)
    assert groups["WV1_004/VV/calibration"].sizes["line"] > 0
    assert groups["WV2_002/VH"].measurement.dtype == np.complex64
