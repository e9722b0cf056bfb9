"""A small Sentinel-1 archive around tile 31TCJ, published as a real eodag provider.

Synthetic GRDM products (600 x 800 pixels at 40 m, ~24 x 32 km, ~6 % of a tile each):

* A and B: one pass (2020-01-08, relative orbit 7, descending), two consecutive slices over
  31TCJ: a pair;
* A2: a re-processing of A (same start, other CRC): redundant with it;
* C: the same place 12 days later (2020-01-20, orbit 7);
* D: another orbit (ascending, relative orbit 73) over 31TCJ;
* E: a product in another tile (31TFP), far from 31TCJ.

The products are written once per session; the provider is their static STAC catalog on the
moto S3 API server, searched and downloaded by eodag itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from s1tiling_cloud.config.model import (
    DataSourceSection,
    MaskSection,
    PathsSection,
    ProcessingSection,
    Request,
)
from s1tiling_cloud.geo.s2tile import S2Tile
from s1tiling_cloud.search import eodag_compat
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from tests.providers.stac_provider import publish_products, write_eodag_config

TILE = "31TCJ"
OTHER_TILE = "31TFP"
PROVIDER = "teststac"
#: Every provider name the tests declare; eodag loads only these (see `eodag_home`).
TEST_PROVIDERS = (PROVIDER, "badstac", "deadstac", "slowstac")


@dataclass
class Archive:
    """The written products by role (A, A2, B, C, D, E): their SAFE folders."""

    folder: Path
    paths: dict[str, Path] = field(default_factory=dict)

    def id(self, role: str) -> str:
        return self.paths[role].name.removesuffix(".SAFE")


@dataclass
class Provider:
    catalog_url: str
    config: Path
    endpoint: str
    bucket: str


def _specs() -> dict[str, SyntheticGRD]:
    base = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800,
                        pixel_spacing=40.0, speckle=False)
    other = S2Tile.from_name(OTHER_TILE).footprint.centroid
    return {
        "A": base,
        "A2": base.replace(processing_delay_s=4000.0),
        # The next slice: 3.6 s later, 24 km further along the descending track.
        "B": base.replace(center_lat=43.6 - 0.2123, center_lon=1.44 - 0.0515,
                          start="2020-01-08T04:41:53.600"),
        "C": base.replace(start="2020-01-20T04:41:50", absolute_orbit=30704 + 175),
        "D": base.replace(start="2020-01-09T17:50:00", absolute_orbit=30770,
                          orbit_direction="ASCENDING"),
        "E": base.replace(center_lat=other.y, center_lon=other.x, start="2020-01-12T05:00:00",
                          absolute_orbit=30761),
    }


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Archive:
    folder = tmp_path_factory.mktemp("archive")
    result = Archive(folder)
    for role, spec in _specs().items():
        result.paths[role] = write_grd(spec, folder)
    assert len({result.id(r) for r in result.paths}) == len(result.paths)
    return result


@pytest.fixture(scope="session", autouse=True)
def eodag_home(tmp_path_factory):
    """eodag's configuration folder in a temporary place, never the user's `~/.config/eodag`,
    and only the tests' providers: when one finds nothing, eodag would ask the next (real)
    provider, which cannot be reached from here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EODAG_CFG_DIR", str(tmp_path_factory.mktemp("eodag-home")))
        patch.setenv("EODAG_PROVIDERS_WHITELIST", json.dumps(TEST_PROVIDERS))
        yield


@pytest.fixture(scope="session")
def provider(archive, s3_server, tmp_path_factory) -> Provider:
    """Every product of the archive on the S3 server, and an eodag configuration for them."""
    url = publish_products(list(archive.paths.values()), "provider", "s1", s3_server)
    config = write_eodag_config(tmp_path_factory.mktemp("eodag") / "eodag.yml", PROVIDER, url,
                                s3_server)
    return Provider(url, config, s3_server, "provider")


@pytest.fixture(scope="session")
def dag(provider):
    return eodag_compat.open_gateway(provider.config)


def make_request(tmp: Path, *, download: bool = True, tiles=(TILE,), s1_images: str | None = None,
                 output: str | None = None, eodag_config: str | None = None,
                 **data_source) -> Request:
    """A request as the `.cfg` parser makes it: January 2020, VV-VH, σ°, no filter."""
    values = {"first_date": date(2020, 1, 1), "last_date": date(2020, 1, 31),
              "polarisation": "VV-VH", "roi_by_tiles": ["ALL"], **data_source}
    return Request(
        paths=PathsSection(output=output or str(tmp / "out"),
                           s1_images=s1_images or str(tmp / "s1"), tmp=str(tmp / "tmp"),
                           dem_dir=str(tmp / "dem")),
        data_source=DataSourceSection(download=download, eodag_config=eodag_config, **values),
        mask=MaskSection(generate_border_mask=False),
        processing=ProcessingSection(calibration="sigma", remove_thermal_noise=True,
                                     output_spatial_resolution=10.0,
                                     orthorectification_gridspacing=40.0, tiles=list(tiles),
                                     nb_parallel_processes=1, ram_per_process=1024,
                                     nb_otb_threads=1),
    )
