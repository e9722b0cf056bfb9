"""Helpers of the configuration tests: S1Tiling's minimal `.cfg` (spec §2.5) and variants of it."""

from __future__ import annotations

import configparser
import io
from pathlib import Path

import pytest

#: Spec §2.5, verbatim: the minimal β/σ/γ configuration.
MINIMAL_CFG = """\
[Paths]
output: /data/out
s1_images: /data/raw
tmp: %(TMPDIR)s/s1tiling
dem_dir: /data/MNT/SRTM_30_hgt
[DataSource]
download: True
roi_by_tiles: 33NWB
polarisation: VV-VH
first_date: 2020-01-01
last_date: 2020-01-10
[Mask]
generate_border_mask: False
[Processing]
calibration: sigma
remove_thermal_noise: True
output_spatial_resolution: 10.
orthorectification_gridspacing: 40
tiles: 33NWB
mode: Normal logging
nb_parallel_processes: 2
ram_per_process: 4096
nb_otb_threads: 4
"""


def edit_cfg(text: str, changes: dict[tuple[str, str], str | None]) -> str:
    """`text` with options set (a string), or removed (None); sections are added as needed."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep the spelling the test writes
    parser.read_string(text)
    for (section, option), value in changes.items():
        if value is None:
            parser.remove_option(section, option)
            continue
        if not parser.has_section(section):
            parser.add_section(section)
        parser.set(section, option, value)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The environment the configurations are interpolated with: TMPDIR is the test's folder."""
    return {"TMPDIR": str(tmp_path), "HOME": str(tmp_path / "home")}


@pytest.fixture
def write_cfg(tmp_path):
    """Write a configuration (the minimal one, edited) into the test's folder; its path."""

    def write(changes: dict[tuple[str, str], str | None] | None = None, *, text: str = MINIMAL_CFG,
              name: str = "request.cfg") -> Path:
        path = tmp_path / name
        path.write_text(edit_cfg(text, changes or {}))
        return path

    return write
