"""The orbit that an incidence angle map (`lia`, `ia`) is computed from: a product's annotation
state vectors, its precise orbit file, or, with no product at all, the pass of a relative orbit
over a tile found in precise orbit files (S1Tiling >= 1.3's maps from orbit files alone). Both
map stages look their orbit up the same way, so the lookup lives here, once."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import DownloadEOFFileError
from ..geo.ellipsoid import geodetic_to_ecef
from ..geo.eof import eof_names, find_eof, read_eof
from ..geo.orbit import Orbit
from ..geo.s2tile import S2Tile
from ..outputs.names import orbit_direction_code
from ..outputs.names import relative_orbit as relative_orbit_of
from ..safe import Sentinel1Product
from ..store import join


@dataclasses.dataclass(frozen=True)
class OrbitSource:
    """The orbit of a product and what S1Tiling records of it (`EOF_FILE`)."""

    orbit: Orbit
    file: str  # the EOF's name, or the product's (annotation state vectors)
    orbit_direction: str
    relative_orbit: int
    inputs: tuple[str, ...]


def product_orbit(product: str, eof_dir: str | None = None, *, margin_s: float = 600.0,
                  storage_options: Mapping[str, Any] | None = None) -> OrbitSource:
    """The orbit of `product`: its annotation's state vectors, or its precise orbit file from
    `eof_dir` (vectors within `margin_s` of the acquisition)."""
    s1 = Sentinel1Product(product, dict(storage_options or {}) or None)
    m = s1.manifest
    if eof_dir:
        path = str(find_eof(eof_dir, f"S1{m.mission_letter}", m.start_time, m.stop_time,
                            storage_options))
        orbit = read_eof(path, storage_options).around(m.start_time, m.stop_time, margin_s).orbit()
        return OrbitSource(orbit, path.rstrip("/").rsplit("/", 1)[-1], m.orbit_state,
                           m.relative_orbit, (product, path))
    swath = s1.swaths[0]
    pol = s1.polarisations(swath)[0]
    ds = s1.open_group(f"{swath}/{pol}/orbit")
    orbit = Orbit.from_state_vectors(ds.azimuth_time.values, ds.position.values,
                                     ds.velocity.values)
    return OrbitSource(orbit, s1.name, m.orbit_state, m.relative_orbit, (product,))


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
    for name in eof_names(eof_dir, storage_options):
        platform = name[:3].upper()
        if wanted and platform not in wanted:
            continue
        path = join(str(eof_dir), name)
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
    """A product's orbit (`product_orbit`), or, without a product, a pass found in `eof_dir`."""
    if product:
        return product_orbit(product, eof_dir, margin_s=margin_s, storage_options=storage_options)
    if not eof_dir or relative_orbit is None:
        raise ValueError("a map without an S1 product needs eof_dir and relative_orbit")
    return eof_orbit(eof_dir, tile, relative_orbit, platforms=platforms,
                     orbit_direction=orbit_direction, margin_s=margin_s,
                     storage_options=storage_options)

