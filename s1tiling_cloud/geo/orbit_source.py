"""The orbit of a product, built in one place: from the state vectors of its annotation, or
from the precise orbit files that cover its acquisition (`eof.product_eofs`), or, without a
product, the pass of a relative orbit over a tile found in the orbit files alone (S1Tiling ≥
1.3's maps without S1 products). The stages and `RadarGeometry` take their orbit from here.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import ConfigurationError, DownloadEOFFileError
from ..outputs.names import orbit_direction_code
from ..outputs.names import relative_orbit as relative_orbit_of
from ..safe import Sentinel1Product
from .ellipsoid import geodetic_to_ecef
from .eof import StateVectors, list_eofs, product_eofs, read_eof
from .orbit import Orbit
from .s2tile import S2Tile

__all__ = ["OrbitSource", "annotation_orbit", "eof_orbit", "map_orbit", "product_orbit"]


def annotation_orbit(product: Sentinel1Product, group: str = "IW/VV") -> Orbit:
    """The orbit of the state vectors in the annotation of `group` (`SWATH/POL`) of `product`."""
    swath, pol = group.strip("/").split("/")[:2]
    vectors = product.metadata(f"{swath}/{pol}/orbit")
    return Orbit.from_state_vectors(vectors["azimuth_time"].values, vectors["position"].values,
                                    vectors["velocity"].values)


@dataclasses.dataclass(frozen=True)
class OrbitSource:
    """The orbit of a product and what S1Tiling records of it (`EOF_FILE`)."""

    orbit: Orbit
    file: str  # the EOF's name, or the product's (annotation state vectors)
    orbit_direction: str
    relative_orbit: int
    inputs: tuple[str, ...]


def product_orbit(product: str | os.PathLike, eof_dir: str | os.PathLike | None = None, *,
                  margin_s: float = 600.0,
                  storage_options: Mapping[str, Any] | None = None) -> OrbitSource:
    """The orbit of a product.

    Parameters
    ----------
    product : str or os.PathLike
        The product's location (SAFE folder, zip or s3:// URI).
    eof_dir : str or os.PathLike, optional
        A folder or s3:// prefix of orbit files: the orbit comes from the files of the
        product's mission covering its acquisition (`eof.product_eofs`), their vectors within
        `margin_s` of it. Without it, from the annotation's state vectors.
    margin_s : float
        Seconds of state vectors kept before the start and after the stop.
    storage_options : mapping, optional
        S3 settings (`store.S3Config`).

    Returns
    -------
    OrbitSource
        `file`: the orbit file's name (names, comma-separated, when two files cover the
        acquisition together), or the product's.
    """
    s1 = Sentinel1Product(os.fspath(product), dict(storage_options or {}) or None)
    m = s1.manifest
    if eof_dir:
        files = product_eofs(eof_dir, f"S1{m.mission_letter}", m.start_time, m.stop_time,
                             storage_options)
        paths = [str(c.location) for c in files]
        vectors = StateVectors.merged([read_eof(p, storage_options) for p in paths])
        orbit = vectors.around(m.start_time, m.stop_time, margin_s).orbit()
        return OrbitSource(orbit, ",".join(c.file_name for c in files), m.orbit_state,
                           m.relative_orbit, (os.fspath(product), *paths))
    swath = s1.swaths[0]
    orbit = annotation_orbit(s1, f"{swath}/{s1.polarisations(swath)[0]}")
    return OrbitSource(orbit, s1.name, m.orbit_state, m.relative_orbit, (os.fspath(product),))


def eof_orbit(eof_dir: str, tile: str, relative_orbit: int, *, platforms: Sequence[str] = (),
              orbit_direction: str | None = None, margin_s: float = 600.0,
              storage_options: Mapping[str, Any] | None = None) -> OrbitSource:
    """The orbit of a pass of `relative_orbit` over `tile`, from the precise orbit files of
    `eof_dir` alone (S1Tiling ≥ 1.3's maps without S1 products).

    The files are tried in name order (platform, then creation); in each, the vectors of the
    absolute orbits whose relative orbit is `relative_orbit` (the file's own orbit numbers), and
    on them the time when the tile's centre is at zero Doppler and within the satellite's
    visibility (≤ 1,000 km). The direction is the satellite's (its velocity's northward sign)
    there; `orbit_direction` ("ASC"/"DES") keeps only such passes. DownloadEOFFileError when no
    file has one.
    """
    wanted = {p.upper() for p in platforms}
    centre = S2Tile.from_name(tile).footprint.centroid
    ground = geodetic_to_ecef(centre.y, centre.x, 0.0).reshape(3)
    candidates = sorted(list_eofs(eof_dir, storage_options=storage_options),
                        key=lambda c: c.file_name)
    for candidate in candidates:
        platform, name, path = candidate.platform, candidate.file_name, str(candidate.location)
        if wanted and platform not in wanted:
            continue
        vectors = read_eof(path, storage_options)
        relative = np.array([relative_orbit_of(platform, n) if n >= 0 else -1
                             for n in vectors.absolute_orbits])
        mine = relative == int(relative_orbit)
        if not mine.any():
            continue
        # Zero Doppler of the tile's centre: (P − G)·V changes sign from − to +.
        doppler = np.einsum("ij,ij->i", vectors.positions - ground, vectors.velocities)
        distance = np.linalg.norm(vectors.positions - ground, axis=1)
        crossings = np.flatnonzero((doppler[:-1] < 0) & (doppler[1:] >= 0) & mine[:-1] & mine[1:]
                                   & (distance[:-1] < _VISIBLE_M))
        for k in crossings:
            direction = "ASCENDING" if vectors.velocities[k, 2] > 0 else "DESCENDING"
            if orbit_direction and orbit_direction_code(direction) != orbit_direction_code(
                    orbit_direction):
                continue
            moment = vectors.times[k]
            orbit = vectors.around(moment, moment, margin_s).orbit()
            return OrbitSource(orbit, name, direction, int(relative_orbit), (path,))
    raise DownloadEOFFileError(
        f"No precise orbit file in {eof_dir} has a pass of relative orbit {int(relative_orbit)} "
        f"over {tile}" + (f" ({', '.join(sorted(wanted))})" if wanted else ""))


#: Farthest a satellite 700 km up sees the ground at S1's incidences (m, with margin).
_VISIBLE_M = 1_000_000.0


def map_orbit(product: str | None, eof_dir: str | None, *, tile: str, relative_orbit: int | None,
              platforms: Sequence[str] = (), orbit_direction: str | None = None,
              margin_s: float = 600.0, storage_options: Mapping[str, Any] | None = None
              ) -> OrbitSource:
    """The orbit an incidence-angle map (`lia`, `ia` stages) is computed from.

    Parameters
    ----------
    product : str or None
        The S1 product (`product_orbit`); None for a map from the orbit files alone.
    eof_dir : str or None
        Folder or s3:// prefix of precise orbit files.
    tile, relative_orbit, platforms, orbit_direction
        Without a product: the pass of `relative_orbit` over `tile` (`eof_orbit`).
    margin_s : float
        Seconds of state vectors kept around the acquisition (or the pass).
    storage_options : mapping, optional
        S3 settings (`store.S3Config`).

    Raises
    ------
    ConfigurationError
        Without a product, when `eof_dir` or `relative_orbit` is missing (exit 72).
    """
    if product:
        return product_orbit(product, eof_dir, margin_s=margin_s, storage_options=storage_options)
    if not eof_dir or relative_orbit is None:
        raise ConfigurationError("a map without an S1 product needs eof_dir ([Paths]) and a "
                                 "relative orbit")
    return eof_orbit(eof_dir, tile, relative_orbit, platforms=platforms,
                     orbit_direction=orbit_direction, margin_s=margin_s,
                     storage_options=storage_options)
