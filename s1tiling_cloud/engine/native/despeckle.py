"""Speckle filters exactly as OTB's `Despeckle` application defines them (S1Tiling step 7).

OTB's `otbLeeImageFilter`, `otbKuanImageFilter`, `otbGammaMAPImageFilter` and
`otbFrostImageFilter` (OTB 7.x to 8.x) share their local statistics, and so does this module:

- Window: the (2r+1)×(2r+1) square around the pixel (`rad` r fills both radii), n = (2r+1)².
- Border: ITK's ZeroFluxNeumannBoundaryCondition, i.e. the nearest edge pixel is repeated.
- Statistics in double precision: E = Σx / n and the *sample* variance V = Σ(x − E)² / (n − 1)
  (textbooks use the population variance). Ci² = V / E², Cu² = 1 / L (L = number of looks).
- No-data is not special: zeros enter the window statistics like any value. Only where
  |E| < 1e-10 (e.g. a window of zeros) is the output 0; elsewhere zeros near the data
  border are filled with a value, as OTB does.
- Flat windows: |V| < 1e-10 (an absolute threshold) gives E.

Per filter, with I the centre pixel:

- Lee: Ci² < Cu² → E; else w = 1 − Cu²/Ci², R = E + w (I − E): Lee's linearised
  multiplicative model as Lopes et al. (1990) write it. OTB's class documentation still shows
  the b = Cr² / (Cr² + Cv²) of older releases (population variance), no longer in the code.
- Kuan: Ci² < Cu² → E; else w = (1 − Cu²/Ci²) / (1 + Cu²), R = E + w (I − E) (the exact
  multiplicative model).
- Gamma-MAP (Lopes et al. 1990): Ci² < Cu² → E; Ci >= √2 Cu → I; else α = (1 + Cu²) /
  (Ci² − Cu²), b = α − L − 1, R = (b E + √(E² b² + 4 α L E I)) / (2 α).
- Frost: α = deramp · V / E²; R = Σ_k e^(−α d_k) x_k / Σ_k e^(−α d_k) over the window, d_k the
  Euclidean distance in pixels to the centre (the textbook K·Ci² with K = deramp, normalised).

E and V come from box sums in float64 (O(N·(2r+1)) per image: column sums over the window
rows, then sums of 2r+1 column sums), not from OTB's two-pass loop; the results differ only by
float64 rounding (ties on a branch threshold aside), i.e. not at all once cast to float32.
Inputs are cast to float32 first, as OTB reads them; outputs are float32.
"""

from __future__ import annotations

import math

import numba
import numpy as np

FILTERS = ("lee", "frost", "gammamap", "kuan")
_LEE, _KUAN, _GAMMA_MAP, _FROST = 0, 1, 2, 3
_EPSILON = 1e-10
_BLOCK_ROWS = 32  # rows per parallel task


@numba.njit(cache=True, inline="always", error_model="numpy")
def _estimate(method, centre, mean, var, cu2, nb_looks):
    """Lee, Kuan and Gamma-MAP from the window mean and (sample) variance, as OTB."""
    if abs(mean) < _EPSILON:
        return 0.0
    if abs(var) < _EPSILON:
        return mean
    ci2 = var / (mean * mean)
    if ci2 < cu2:
        return mean
    if method == _LEE:
        w = 1.0 - cu2 / ci2
        return centre * w + mean * (1.0 - w)
    if method == _KUAN:
        w = (1.0 - cu2 / ci2) / (1.0 + cu2)
        return centre * w + mean * (1.0 - w)
    # Gamma-MAP
    cu = math.sqrt(cu2)
    if math.sqrt(ci2) < math.sqrt(2.0) * cu:
        alpha = (1.0 + cu2) / (ci2 - cu2)
        b = alpha - nb_looks - 1.0
        d = mean * mean * b * b + 4.0 * alpha * nb_looks * mean * centre
        return (b * mean + math.sqrt(d)) / (2.0 * alpha)
    return centre


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _filter(img, radius, method, param, offsets_group, bases, group_base, group_power, counts, out):
    """One pass of a despeckle filter; `param` is the number of looks, or Frost's deramp.

    Frost weights depend only on the distance d = m·√q (q square-free) of an offset to the
    centre: offsets_group[dy, dx] is the offset's distance group, and group g has the weight
    exp(−α√q)^m with q = bases[group_base[g]], m = group_power[g] (one exp per base)."""
    rows, cols = img.shape
    r = radius
    width = 2 * r + 1
    n = width * width
    padded = cols + 2 * r
    ngroups = counts.size
    cu2 = 1.0 / param if method != _FROST else 0.0
    blocks = (rows + _BLOCK_ROWS - 1) // _BLOCK_ROWS
    for block in numba.prange(blocks):
        c1 = np.empty(padded)  # column sums of x and x² over the window rows, edge-padded
        c2 = np.empty(padded)
        s1 = np.empty(cols)  # window sums of x and x²
        s2 = np.empty(cols)
        mean = np.empty(cols)
        var = np.empty(cols)
        if method == _FROST:
            window = np.empty((width, padded))  # the window rows, edge-padded
            base_w = np.empty((bases.size, cols))
            group_w = np.empty((ngroups, cols))
            total = np.empty(cols)
        for y in range(block * _BLOCK_ROWS, min(rows, (block + 1) * _BLOCK_ROWS)):
            # rows outside the image repeat the edge row (ITK's zero-flux Neumann condition)
            v1 = c1[r:r + cols]
            v2 = c2[r:r + cols]
            src = img[min(max(y - r, 0), rows - 1)]
            for x in range(cols):
                v = np.float64(src[x])
                v1[x] = v
                v2[x] = v * v
            for k in range(1, width):
                src = img[min(max(y + k - r, 0), rows - 1)]
                for x in range(cols):
                    v = np.float64(src[x])
                    v1[x] += v
                    v2[x] += v * v
            for j in range(r):  # and so do columns
                c1[j] = c1[r]
                c2[j] = c2[r]
                c1[r + cols + j] = c1[r + cols - 1]
                c2[r + cols + j] = c2[r + cols - 1]
            s1[:] = c1[:cols]
            s2[:] = c2[:cols]
            for k in range(1, width):
                a1 = c1[k:k + cols]
                a2 = c2[k:k + cols]
                for x in range(cols):
                    s1[x] += a1[x]
                    s2[x] += a2[x]
            for x in range(cols):
                mean[x] = s1[x] / n
                var[x] = (s2[x] - s1[x] * mean[x]) / (n - 1)
            src = img[y]
            if method != _FROST:
                for x in range(cols):
                    out[y, x] = _estimate(method, np.float64(src[x]), mean[x], var[x], cu2, param)
                continue
            for q in range(bases.size):
                dq = -math.sqrt(bases[q])
                wq = base_w[q]
                for x in range(cols):
                    wq[x] = math.exp(param * var[x] / (mean[x] * mean[x]) * dq)
            for g in range(ngroups):
                wg = group_w[g]
                if group_power[g] == 0:
                    wg[:] = 1.0
                    continue
                wq = base_w[group_base[g]]
                wg[:] = wq
                for _ in range(group_power[g] - 1):
                    for x in range(cols):
                        wg[x] *= wq[x]
            for k in range(width):
                row = window[k]
                src = img[min(max(y + k - r, 0), rows - 1)]
                inner = row[r:r + cols]
                for x in range(cols):
                    inner[x] = src[x]
                for j in range(r):
                    row[j] = row[r]
                    row[r + cols + j] = row[r + cols - 1]
            total[:] = 0.0
            for k in range(width):
                for j in range(width):
                    wg = group_w[offsets_group[k, j]]
                    a = window[k, j:j + cols]
                    for x in range(cols):
                        total[x] += wg[x] * a[x]
            for x in range(cols):
                if abs(mean[x]) < _EPSILON:
                    out[y, x] = 0.0
                elif abs(var[x]) < _EPSILON:
                    out[y, x] = mean[x]
                else:
                    norm = 0.0
                    for g in range(ngroups):
                        norm += counts[g] * group_w[g, x]
                    out[y, x] = total[x] / norm


def _frost_groups(radius: int):
    """Window offsets grouped by distance to the centre, each distance written m·√q with q
    square-free: (group of each offset, square-free bases q, base index and power m of each
    group, number of offsets per group)."""
    dy, dx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    squared = dx * dx + dy * dy
    unique, groups = np.unique(squared, return_inverse=True)
    counts = np.bincount(groups.ravel()).astype(np.float64)
    bases: list[int] = []
    group_base = np.zeros(unique.size, dtype=np.int64)
    group_power = np.zeros(unique.size, dtype=np.int64)
    for g, s in enumerate(int(v) for v in unique):
        if s == 0:
            continue  # the centre: weight 1
        m = max(k for k in range(1, int(math.isqrt(s)) + 1) if s % (k * k) == 0)
        q = s // (m * m)
        if q not in bases:
            bases.append(q)
        group_base[g] = bases.index(q)
        group_power[g] = m
    return (groups.reshape(squared.shape).astype(np.int64), np.array(bases, dtype=np.float64),
            group_base, group_power, counts)


def _run(image: np.ndarray, radius: int, method: int, param: float) -> np.ndarray:
    img = np.ascontiguousarray(image, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {img.shape}")
    if int(radius) != radius or radius < 1:
        raise ValueError(f"radius must be an integer >= 1, got {radius}")
    if not math.isfinite(param) or (method != _FROST and param <= 0):
        raise ValueError(f"invalid {'deramp' if method == _FROST else 'number of looks'}: {param}")
    out = np.empty(img.shape, dtype=np.float32)
    if img.size:
        _filter(img, int(radius), method, float(param), *_frost_groups(int(radius)), out)
    return out


def lee(image: np.ndarray, radius: int = 1, nb_looks: float = 1.0) -> np.ndarray:
    """OTB's LeeImageFilter: R = E + (1 − Cu²/Ci²)(I − E), E where Ci² < Cu² (module doc)."""
    return _run(image, radius, _LEE, nb_looks)


def kuan(image: np.ndarray, radius: int = 1, nb_looks: float = 1.0) -> np.ndarray:
    """OTB's KuanImageFilter: R = E + (1 − Cu²/Ci²)/(1 + Cu²) (I − E), E where Ci² < Cu²."""
    return _run(image, radius, _KUAN, nb_looks)


def gamma_map(image: np.ndarray, radius: int = 1, nb_looks: float = 1.0) -> np.ndarray:
    """OTB's GammaMAPImageFilter (Lopes' Gamma-MAP with Cmax = √2·Cu; module doc)."""
    return _run(image, radius, _GAMMA_MAP, nb_looks)


def frost(image: np.ndarray, radius: int = 1, deramp: float = 0.1) -> np.ndarray:
    """OTB's FrostImageFilter: weights e^(−deramp·V/E²·d), normalised (module doc)."""
    return _run(image, radius, _FROST, deramp)


def despeckle(
    image: np.ndarray,
    method: str,
    radius: int,
    nb_looks: float | None = None,
    deramp: float | None = None,
) -> np.ndarray:
    """S1Tiling's [Filtering] step: `method` in lee, frost, gammamap, kuan (any case);
    `nb_looks` is required for lee/gammamap/kuan, `deramp` for frost, as S1Tiling requires."""
    name = method.lower()
    if name == "frost":
        if deramp is None:
            raise ValueError("the frost filter needs deramp")
        return frost(image, radius, deramp)
    filters = {"lee": lee, "gammamap": gamma_map, "kuan": kuan}
    if name not in filters:
        raise ValueError(f"unknown filter {method!r}; one of {FILTERS}")
    if nb_looks is None:
        raise ValueError(f"the {name} filter needs nb_looks")
    return filters[name](image, radius, nb_looks)
