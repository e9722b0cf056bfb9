"""Checks and normal forms of single `.cfg` values: tile names, dates, orbits, paths, URLs.

Each function raises `ConfigurationError` naming the option and the file, so that the parser
reads as a list of options and not as a list of checks.
"""

from __future__ import annotations

import os
import re
from datetime import date
from urllib.parse import urlsplit

from ..exceptions import ConfigurationError
from ..outputs.names import split_tile_name

__all__ = [
    "ALL_TILES",
    "absolute_path",
    "check_url",
    "is_uri",
    "parse_date",
    "relative_orbits",
    "tile_names",
]

#: The `tiles` / `roi_by_tiles` word meaning "every tile" (S1Tiling's `ALL`).
ALL_TILES = "ALL"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def tile_names(values: list[str], option: str, source: str | None, *,
               keep_malformed: bool = False) -> list[str]:
    """Upper-case, zero-padded tile names, or `["ALL"]`; malformed names are errors, or, with
    `keep_malformed` (`[Processing] tiles`, as S1Tiling), kept as written (upper case).

    Names that are not on the MGRS grid, malformed or not, are the planner's business (dropped
    with a warning, as S1Tiling does, `NoS2TileError` 73 when none is left), not the
    configuration's.
    """
    if any(v.upper() == ALL_TILES for v in values):
        if len(values) > 1:
            raise ConfigurationError(f"{option}: {ALL_TILES} cannot be mixed with tile names "
                                     f"({', '.join(values)})", source)
        return [ALL_TILES]
    names = []
    for value in values:
        parts = split_tile_name(value)
        if parts is None or not 1 <= parts[0] <= 60:
            if not keep_malformed:
                raise ConfigurationError(f"{option}: {value!r} is not a Sentinel-2 MGRS tile name "
                                         f"(like 31TCJ)", source)
            name = value.strip().upper()
        else:
            name = "{:02d}{}{}{}".format(*parts)
        if name not in names:
            names.append(name)
    return names


def parse_date(value: str, option: str, source: str | None) -> date:
    """A `YYYY-MM-DD` date."""
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"Cannot decode '{option}' option 'DataSource' section: {value!r} "
                                 "is not a date YYYY-MM-DD", source) from None


def relative_orbits(value: str, source: str | None) -> list[int]:
    """S1Tiling's `relative_orbit_list`: every number in the text (regex `\\d+`), in 1..175."""
    orbits = [int(number) for number in re.findall(r"\d+", value or "")]
    wrong = [orbit for orbit in orbits if not 1 <= orbit <= 175]
    if wrong:
        raise ConfigurationError(f"Parameter [relative_orbit_list] of [DataSource]: relative orbits "
                                 f"are in 1..175, not {', '.join(map(str, wrong))}", source)
    return list(dict.fromkeys(orbits))


def is_uri(value: str) -> bool:
    """Whether a path is a URI (`s3://bucket/key`, `file://`, `https://`) or a GDAL `/vsi` path."""
    return bool(_URI.match(value)) or value.startswith("/vsi")


def absolute_path(value: str | None) -> str | None:
    """A local path made absolute (from the current folder, `~` expanded); URIs as they are."""
    if not value or is_uri(value):
        return value
    return os.path.abspath(os.path.expanduser(value))


def check_url(value: str | None, option: str, source: str | None) -> str | None:
    """An http(s) URL without user information (credentials never come from the file)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{option}: {value!r} is not an http(s) URL", source)
    if parts.username or parts.password:
        raise ConfigurationError(f"{option}: credentials are never read from the configuration "
                                 "file; remove them from the URL and use the environment", source)
    return value.rstrip("/")
