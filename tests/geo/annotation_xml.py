"""Minimal lxml reader of the Sentinel-1 annotation parts the geometry tests need.

Kept independent of the package's SAFE reader on purpose (it is written concurrently); the
tests can switch to it later. Reads the orbit state vectors, the geolocation grid and the few
scalars that define the image timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

#: ``../shared/fixtures`` from the project root (tests/geo/ -> parents[2] is the project).
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
SAFE_DIR = FIXTURES / "safe"


def annotation_files() -> list[Path]:
    """Every product annotation XML under the fixtures (not calibration, noise or RFI)."""
    if not SAFE_DIR.is_dir():
        return []
    return sorted(
        p for p in SAFE_DIR.glob("*.SAFE/annotation/*.xml") if p.name.startswith("s1")
    )


def annotation_params() -> list:
    """pytest parameters, one per annotation file, with short ids (e.g. ``GRDH_ECC8_iw_vv``);
    a single skipped parameter, with the reason, when the fixtures are absent."""
    files = annotation_files()
    if not files:
        reason = f"real Sentinel-1 fixtures not found at {SAFE_DIR}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-fixtures")]
    params = []
    for p in files:
        safe = p.parents[1].name
        _, swath, _, pol, *_ = p.stem.split("-")
        params.append(pytest.param(p, id=f"{safe.split('_')[2]}_{safe[-9:-5]}_{swath}_{pol}"))
    return params


def _times(nodes) -> np.ndarray:
    return np.array([n.text.strip() for n in nodes], dtype="datetime64[ns]")


def _floats(root, path: str) -> np.ndarray:
    return np.array([float(n.text) for n in root.iterfind(path)], dtype=np.float64)


@dataclass(frozen=True)
class StateVectors:
    times: np.ndarray  # datetime64[ns] (n,)
    positions: np.ndarray  # (n, 3) m, ECEF
    velocities: np.ndarray  # (n, 3) m/s, ECEF


@dataclass(frozen=True)
class GeolocationGrid:
    azimuth_time: np.ndarray  # datetime64[ns]
    slant_range_time: np.ndarray  # s, two-way
    line: np.ndarray
    pixel: np.ndarray
    latitude: np.ndarray  # deg
    longitude: np.ndarray  # deg
    height: np.ndarray  # m above the ellipsoid
    incidence_angle: np.ndarray  # deg
    elevation_angle: np.ndarray  # deg


@dataclass(frozen=True)
class Annotation:
    path: Path
    mission: str
    mode: str
    product_type: str
    swath: str
    polarisation: str
    orbit: StateVectors
    grid: GeolocationGrid

    @property
    def name(self) -> str:
        return self.path.name


@lru_cache(maxsize=16)
def read_annotation(path: Path) -> Annotation:
    root = etree.parse(str(path)).getroot()
    header = root.find("adsHeader")
    orbits = root.findall("generalAnnotation/orbitList/orbit")
    xyz = ("x", "y", "z")
    sv = StateVectors(
        times=_times(o.find("time") for o in orbits),
        positions=np.array([[float(o.findtext(f"position/{c}")) for c in xyz] for o in orbits]),
        velocities=np.array([[float(o.findtext(f"velocity/{c}")) for c in xyz] for o in orbits]),
    )
    gp = "geolocationGrid/geolocationGridPointList/geolocationGridPoint/"
    grid = GeolocationGrid(
        azimuth_time=_times(root.iterfind(gp + "azimuthTime")),
        slant_range_time=_floats(root, gp + "slantRangeTime"),
        line=_floats(root, gp + "line"),
        pixel=_floats(root, gp + "pixel"),
        latitude=_floats(root, gp + "latitude"),
        longitude=_floats(root, gp + "longitude"),
        height=_floats(root, gp + "height"),
        incidence_angle=_floats(root, gp + "incidenceAngle"),
        elevation_angle=_floats(root, gp + "elevationAngle"),
    )
    return Annotation(
        path=path,
        mission=header.findtext("missionId"),
        mode=header.findtext("mode"),
        product_type=header.findtext("productType"),
        swath=header.findtext("swath"),
        polarisation=header.findtext("polarisation"),
        orbit=sv,
        grid=grid,
    )
