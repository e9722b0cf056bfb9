"""Precise orbit files (EOF) for tests: written from a synthetic product's own orbit, and served
to eodag as the `S1_AUX_POEORB` collection of a static STAC catalog on the S3 API server.

An EOF made here samples the same analytic orbit (`orbit_model.CircularOrbit`) whose state
vectors a synthetic product's annotation carries, every 10 s over ESA's validity window of a
POEORB (the day before 22:59:42 to the day after 00:59:42, UTC), with the absolute orbit number
of each vector counted from the product's own (+1 at each ascending node). So the geometry from
the EOF and from the annotation agree, as they do for real products.

>>> path = write_eof(tmp, spec)                                          # doctest: +SKIP
>>> url = publish_eofs([path], "provider", "eof", endpoint)              # doctest: +SKIP
>>> write_eof_eodag_config(tmp / "eodag.yml", "eofstac", url, endpoint)  # doctest: +SKIP

Each EOF is published as `{prefix}/files/{name}/{name}.EOF` (real providers deliver an
archive holding the file), and its STAC item has the properties eodag maps for orbit files:
`start_datetime`/`end_datetime` (the validity), `platform`, `created`.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from s1tiling_cloud.search.eof import ORBITS_PROPERTY
from s1tiling_cloud.testing.orbit_model import CircularOrbit
from s1tiling_cloud.testing.product_geometry import compute_geometry
from s1tiling_cloud.testing.spec import SyntheticGRD
from tests.providers.stac_provider import CatalogOnS3, write_eodag_config

__all__ = [
    "EOF_COLLECTION",
    "eof_item",
    "eof_name",
    "poeorb_validity",
    "publish_eofs",
    "write_eof",
    "write_eof_eodag_config",
]

EOF_COLLECTION = "S1_AUX_POEORB"
_STAMP = "%Y%m%dT%H%M%S"
_ORBIT_TAG = re.compile(r"<Absolute_Orbit>\+?(\d+)</Absolute_Orbit>")
#: TAI - UTC since 2017 (s): the TAI stamps of the vectors.
_TAI_MINUS_UTC = 37


def poeorb_validity(day: datetime) -> tuple[datetime, datetime]:
    """ESA's validity window of the POEORB file of `day`: [day-1 22:59:42, day+1 00:59:42]."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return (midnight - timedelta(hours=1, seconds=18),
            midnight + timedelta(days=1, minutes=59, seconds=42))


def eof_name(mission: str, created: datetime, valid_from: datetime, valid_to: datetime,
             kind: str = "POEORB") -> str:
    """`S1A_OPER_AUX_POEORB_OPOD_{created}_V{start}_{stop}.EOF`."""
    return (f"{mission.upper()}_OPER_AUX_{kind}_OPOD_{created.strftime(_STAMP)}_"
            f"V{valid_from.strftime(_STAMP)}_{valid_to.strftime(_STAMP)}.EOF")


def _utc(value: datetime | np.datetime64 | str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(np.datetime64(value, "us"))
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _absolute_orbits(model: CircularOrbit, seconds: np.ndarray, reference_s: float,
                     reference_orbit: int) -> np.ndarray:
    """Absolute orbit of each time: `reference_orbit` at `reference_s`, +1 per ascending node."""
    anx = model.ascending_node_seconds(reference_s)
    return reference_orbit + np.floor((seconds - anx) / model.period).astype(np.int64)


def _osv(time: np.datetime64, orbit: int, p: np.ndarray, v: np.ndarray) -> str:
    utc = np.datetime_as_string(time, unit="us")
    tai = np.datetime_as_string(time + np.timedelta64(_TAI_MINUS_UTC, "s"), unit="us")
    return (f"<OSV><TAI>TAI={tai}</TAI><UTC>UTC={utc}</UTC><UT1>UT1={utc}</UT1>"
            f"<Absolute_Orbit>+{orbit}</Absolute_Orbit>"
            f'<X unit="m">{p[0]:.6f}</X><Y unit="m">{p[1]:.6f}</Y><Z unit="m">{p[2]:.6f}</Z>'
            f'<VX unit="m/s">{v[0]:.6f}</VX><VY unit="m/s">{v[1]:.6f}</VY>'
            f'<VZ unit="m/s">{v[2]:.6f}</VZ><Quality>NOMINAL</Quality></OSV>\n')


def _document(name: str, mission: str, created: datetime, valid_from: datetime,
              valid_to: datetime, osvs: list[str]) -> str:
    stamp = "%Y-%m-%dT%H:%M:%S"
    return (
        '<?xml version="1.0" ?>\n<Earth_Explorer_File>\n<Earth_Explorer_Header>\n<Fixed_Header>'
        f"<File_Name>{name.removesuffix('.EOF')}</File_Name>"
        "<File_Description>Precise Orbit Ephemerides (POE) Orbit File</File_Description>"
        f"<Notes></Notes><Mission>Sentinel-1{mission[-1]}</Mission><File_Class>OPER</File_Class>"
        f"<File_Type>AUX_{name.split('_AUX_')[1][:6]}</File_Type><Validity_Period>"
        f"<Validity_Start>UTC={valid_from.strftime(stamp)}</Validity_Start>"
        f"<Validity_Stop>UTC={valid_to.strftime(stamp)}</Validity_Stop></Validity_Period>"
        "<File_Version>0001</File_Version><Source><System>OPOD</System><Creator>OPOD</Creator>"
        f"<Creator_Version>0.0</Creator_Version><Creation_Date>UTC={created.strftime(stamp)}"
        "</Creation_Date></Source></Fixed_Header>\n<Variable_Header><Ref_Frame>EARTH_FIXED"
        "</Ref_Frame><Time_Reference>UTC</Time_Reference></Variable_Header>\n"
        '</Earth_Explorer_Header>\n<Data_Block type="xml">\n'
        f'<List_of_OSVs count="{len(osvs)}">\n{"".join(osvs)}</List_of_OSVs>\n</Data_Block>\n'
        "</Earth_Explorer_File>\n")


@functools.lru_cache(maxsize=8)
def _cached_orbit_model(spec: SyntheticGRD) -> CircularOrbit:
    return compute_geometry(spec).model


def _orbit_model(spec: SyntheticGRD) -> CircularOrbit:
    """The analytic orbit whose state vectors `spec`'s annotation holds (computed once)."""
    try:
        return _cached_orbit_model(spec)
    except TypeError:  # a spec holding an unhashable field (a mapping, a DEM array)
        return compute_geometry(spec).model


def write_eof(folder: str | os.PathLike, spec: SyntheticGRD, *, mission: str | None = None,
              valid_from: datetime | None = None, valid_to: datetime | None = None,
              created: datetime | None = None, kind: str = "POEORB",
              step_s: float = 10.0) -> Path:
    """Write the EOF of `spec`'s orbit into `folder`; returns its path.

    Defaults: the POEORB window of the product's day, created 20 days after that day (ESA's
    delay), the product's mission. `mission` may differ from the product's: the file then
    claims another satellite flew this orbit (a case the selection must handle).
    """
    start = _utc(spec.start_time)
    default_from, default_to = poeorb_validity(start)
    valid_from, valid_to = _utc(valid_from or default_from), _utc(valid_to or default_to)
    created = _utc(created or default_from + timedelta(days=21, hours=13, minutes=4, seconds=23))
    mission = (mission or spec.platform).upper()
    model = _orbit_model(spec)
    # Vector times on whole multiples of `step_s` after the window start, as ESA's files.
    count = int(math.floor((valid_to - valid_from).total_seconds() / step_s)) + 1
    origin = np.datetime64(valid_from.replace(tzinfo=None), "ns")
    times = origin + (np.arange(count) * step_s * 1e9).astype("timedelta64[ns]")
    seconds = model.seconds(times)
    positions, velocities = model.state(seconds)
    orbits = _absolute_orbits(model, seconds, float(model.seconds(spec.start_time)),
                              spec.absolute_orbit)
    osvs = [_osv(t, int(o), p, v) for t, o, p, v in zip(times, orbits, positions, velocities,
                                                        strict=True)]
    name = eof_name(mission, created, valid_from, valid_to, kind)
    target = Path(folder) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_document(name, mission, created, valid_from, valid_to, osvs))
    return target


def _name_facts(name: str) -> dict[str, Any]:
    parts = name.removesuffix(".EOF").split("_")
    def parse(text: str) -> str:
        return datetime.strptime(text.lstrip("V"), _STAMP).replace(tzinfo=UTC).isoformat()
    return {"mission": parts[0], "kind": parts[3], "created": parse(parts[5]),
            "start": parse(parts[6]), "stop": parse(parts[7])}


def eof_item(name: str, href: str, absolute_orbits: tuple[int, int] | None = None) -> dict[str, Any]:
    """A STAC item for one orbit file (its id: the file name without `.EOF`).

    `absolute_orbits`: the first and last vectors' orbits, as `search.eof.ORBITS_PROPERTY`
    (real providers do not say them for orbit files; the tests' provider does, to exercise the
    relative-orbit filter of the search).
    """
    facts = _name_facts(name)
    world = [[-180.0, -90.0], [180.0, -90.0], [180.0, 90.0], [-180.0, 90.0], [-180.0, -90.0]]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": name.removesuffix(".EOF"),
        "collection": EOF_COLLECTION,
        "geometry": {"type": "Polygon", "coordinates": [world]},
        "bbox": [-180.0, -90.0, 180.0, 90.0],
        "properties": {
            "datetime": facts["start"],
            "start_datetime": facts["start"],
            "end_datetime": facts["stop"],
            "created": facts["created"],
            "platform": facts["mission"],
            "constellation": "SENTINEL1",
            "processing:level": "AUX",
            "product:type": f"AUX_{facts['kind']}",
            **({ORBITS_PROPERTY: list(absolute_orbits)} if absolute_orbits else {}),
        },
        "assets": {"product": {"href": href, "title": "orbit file", "roles": ["data"]}},
        "links": [{"rel": "root", "href": "../catalog.json", "type": "application/json"},
                  {"rel": "parent", "href": "../catalog.json", "type": "application/json"}],
    }


def _first_and_last_orbits(path: Path) -> tuple[int, int]:
    orbits = _ORBIT_TAG.findall(path.read_text())
    return int(orbits[0]), int(orbits[-1])


def publish_eofs(files: Sequence[str | os.PathLike], bucket: str, prefix: str,
                 s3_endpoint: str, *, offline: Sequence[str] = ()) -> str:
    """Upload EOF files and a static STAC catalog over them; returns the catalog's URL.

    `offline`: file names listed in the catalog but not uploaded (a failing download).
    """
    catalog = CatalogOnS3(s3_endpoint, bucket, prefix)
    for path in map(Path, files):
        name = path.name
        stem = name.removesuffix(".EOF")
        key = f"{catalog.base}/files/{stem}"
        if name not in offline:
            catalog.client.upload_file(str(path), bucket, f"{key}/{name}")
        catalog.add_item(stem, eof_item(name, f"s3://{bucket}/{key}", _first_and_last_orbits(path)))
    return catalog.close("Sentinel-1 precise orbit files for tests")


def write_eof_eodag_config(path: str | os.PathLike, provider_name: str, catalog_url: str,
                           s3_endpoint: str, **options: Any) -> Path:
    """An eodag configuration declaring `provider_name` with the `S1_AUX_POEORB` collection
    over the catalog of `publish_eofs` (`StaticStacSearch`, `AwsDownload` from the S3 server),
    mapping `ORBITS_PROPERTY` (see `eof_item`)."""
    target = write_eodag_config(path, provider_name, catalog_url, s3_endpoint, **options)
    config = yaml.safe_load(target.read_text())
    provider = config[provider_name]
    provider["description"] = "Sentinel-1 precise orbit files of a static STAC catalog"
    provider["search"]["metadata_mapping"][ORBITS_PROPERTY] = f'$.properties."{ORBITS_PROPERTY}"'
    provider["products"] = {EOF_COLLECTION: {"_collection": EOF_COLLECTION},
                            "GENERIC_COLLECTION": {"_collection": "{collection}"}}
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target
