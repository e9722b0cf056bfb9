"""A synthetic terrain with a *uniform γ°*: the σ° a GRD would show over relief.

`SyntheticGRD` renders a σ° field (``sigma0_db``) per radar pixel, evaluated at the pixel's
ground position: a constant σ° on hills is not what a radar sees. A surface with a uniform
terrain-flattened γ° returns, in each radar pixel, γ° times the area of the surface in that
pixel projected on the plane perpendicular to the look direction (Small 2011); calibrated with
ESA's ellipsoid σ LUT the pixel reads

    σ°_E(l, p) = γ° · A_γ(l, p) / A_σ,E(l, p)

with A_γ = (∂P/∂l × ∂P/∂p) · û (P(l, p): the pixel's point on the terrain, û the unit vector
to the satellite at its zero-Doppler time) and A_σ,E = |∂P_E/∂l × ∂P_E/∂p| (P_E: on the
ellipsoid raised by the reference ``terrain_height``, as ESA's LUTs assume). On flat terrain
this is γ° · cos θ_E.

This is the *inverse* mapping (radar → ground, differentiated), independent of the area
projection the RTC engine does (ground facets → radar, accumulated): it holds where the
mapping is one-to-one (no layover; gentle hills). It is computed exactly on a lattice of the
radar image every `step` pixels and interpolated bilinearly at each pixel's (line, pixel)
(found back from the (lat, lon) the scene synthesiser passes).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import map_coordinates

from .product_geometry import compute_geometry
from .spec import SyntheticGRD


def illuminated_area_factor(spec: SyntheticGRD, step: int = 4
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lattice lines, lattice pixels, A_γ / A_σ,E on the lattice) for `spec`'s terrain."""
    geo = compute_geometry(spec)
    lines = np.arange(-2 * step, spec.lines + 2 * step + 1, step, dtype=np.float64)
    pixels = np.arange(-2 * step, spec.samples + 2 * step + 1, step, dtype=np.float64)
    ll, pp = np.meshgrid(lines, pixels, indexing="ij")
    _, _, xyz = geo.ground(ll, pp)
    _, _, xyz_e = geo.ground(ll, pp, spec.terrain_height)
    sat, _ = geo.orbit.interpolate(geo.zero_doppler_seconds(ll, pp))

    def vector_area(p):
        d_l = np.gradient(p, step, axis=0)
        d_p = np.gradient(p, step, axis=1)
        v = np.cross(d_l, d_p)
        return np.where(np.sum(v * p, axis=-1, keepdims=True) < 0, -v, v)

    look = sat - xyz
    look /= np.linalg.norm(look, axis=-1, keepdims=True)
    a_gamma = np.sum(vector_area(xyz) * look, axis=-1)
    a_sigma_e = np.linalg.norm(vector_area(xyz_e), axis=-1)
    return lines, pixels, a_gamma / a_sigma_e


def uniform_gamma0(spec: SyntheticGRD, gamma0_db: float, step: int = 4) -> SyntheticGRD:
    """`spec` with ``sigma0_db`` replaced by the σ°_E field of a uniform γ° of `gamma0_db` over
    its terrain (``dem``); every polarisation gets the same field."""
    geo = compute_geometry(spec)
    lines, pixels, factor = illuminated_area_factor(spec, step)
    factor_db = 10.0 * np.log10(np.clip(factor, 1e-6, None))

    def sigma0_db(lat, lon):
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        h = geo.surface.ellipsoid_height(lat, lon)
        line, pixel = geo.ground_to_radar(lat, lon, h)
        coords = np.stack([(line - lines[0]) / step, (pixel - pixels[0]) / step])
        db = map_coordinates(factor_db, coords.reshape(2, -1), order=1, mode="nearest")
        return gamma0_db + db.reshape(lat.shape)

    return spec.replace(sigma0_db=sigma0_db)
