"""Kernel density of incidents on grid cells (a surface evaluated at the cell centres).

The density at a location ``s`` is ``Σᵢ wᵢ K(‖s − xᵢ‖ / h) / h²`` with a kernel of finite
support (radius ``h``, the bandwidth in metres), so only incidents within ``h`` of a cell
centre count. Kernels, each integrating to 1 over the plane:

* ``"quartic"`` (biweight, the default; ArcGIS's Kernel Density and CrimeStat's usual
  choice, Silverman 1986 eq. 4.5): ``K(u) = 3/π (1 − u²)²``;
* ``"epanechnikov"``: ``K(u) = 2/π (1 − u²)`` (equal to scikit-learn's ``KernelDensity``
  with ``kernel="epanechnikov"``, tested);
* ``"uniform"``: ``K(u) = 1/π`` (incidents within ``h`` per unit area).

Densities are returned per km² (incidents per km² near each cell centre).

**Silverman bandwidth** (:func:`default_bandwidth`): the spatial variant of Silverman's rule
of thumb that ArcGIS uses when no search radius is given (since 10.2.1):
``h = 0.9 · min(SD, √(1/ln 2) · Dm) · n^(−0.2)``, with ``SD`` the standard distance of the
points, ``Dm`` the median distance to their mean centre and ``n`` the (weighted) number of
points. It adapts to the spread of the incidents and their number, is robust to far-away
outliers (through ``Dm``), needs no tuning, and gives the same surface analysts obtain
from the tool they know, so results can be compared. It is meant for smooth city-wide
surfaces: for predicting where incidents concentrate, :func:`geoprio.hotspots.find.find_hotspots`
defaults to twice the cell size instead (measured in the README's backtests).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from geoprio.errors import InputError

__all__ = ["KERNELS", "default_bandwidth", "kernel_density"]

Kernel = Literal["quartic", "epanechnikov", "uniform"]
KERNELS: tuple[str, ...] = ("quartic", "epanechnikov", "uniform")

_PAIRS_PER_CHUNK = 5_000_000


def _check_points(xy: np.ndarray, name: str) -> np.ndarray:
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError(f"{name} must have shape (n, 2) (x, y in metres), got {xy.shape}")
    if not np.isfinite(xy).all():
        raise InputError(f"{name} has missing or infinite coordinates")
    return xy


def _weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise InputError(f"weights must have one value per point ({n}), got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("weights must be finite and non-negative")
    return w


def default_bandwidth(xy: np.ndarray, weights: np.ndarray | None = None, *, min_m: float = 0.0) -> float:
    """ArcGIS's default search radius (spatial Silverman rule), in metres; at least ``min_m``.

    ``h = 0.9 · min(SD, √(1/ln 2) · Dm) · n^(−0.2)`` (see the module docstring).
    """
    xy = _check_points(xy, "points")
    w = _weights(weights, len(xy))
    total = w.sum()
    if len(xy) < 2 or total <= 0:
        raise InputError(f"the default bandwidth needs at least 2 weighted points, got {len(xy)}")
    centre = (xy * w[:, None]).sum(axis=0) / total
    d2 = ((xy - centre) ** 2).sum(axis=1)
    sd = float(np.sqrt((w * d2).sum() / total))
    d = np.sqrt(d2)
    order = np.argsort(d)
    cw = np.cumsum(w[order])
    dm = float(d[order][np.searchsorted(cw, 0.5 * total)])
    h = 0.9 * min(sd, np.sqrt(1.0 / np.log(2.0)) * dm) * total ** (-0.2)
    if not np.isfinite(h) or h <= 0:
        raise InputError("cannot compute a default bandwidth: all points are at the same place; give bandwidth_m")
    return float(max(h, min_m))


def _kernel_values(u2: np.ndarray, kernel: str) -> np.ndarray:
    if kernel == "quartic":
        return 3.0 / np.pi * (1.0 - u2) ** 2
    if kernel == "epanechnikov":
        return 2.0 / np.pi * (1.0 - u2)
    if kernel == "uniform":
        return np.full(u2.shape, 1.0 / np.pi)
    raise InputError(f"kernel must be one of {list(KERNELS)}, got {kernel!r}")


def kernel_density(
    points: np.ndarray,
    at: np.ndarray,
    *,
    bandwidth_m: float,
    kernel: Kernel = "quartic",
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Kernel density of ``points`` at the locations ``at`` (cell centres), per km².

    Parameters
    ----------
    points
        Incident coordinates in metres, shape ``(n, 2)``.
    at
        Where to evaluate the surface (cell centres), shape ``(m, 2)``, same CRS.
    bandwidth_m
        Kernel radius in metres (see :func:`default_bandwidth`).
    kernel
        ``"quartic"`` (default), ``"epanechnikov"`` or ``"uniform"``.
    weights
        Per-point weights (counts, harm); 1 by default.

    Memory stays bounded: the (location, point) pairs within the bandwidth are
    enumerated with KD-trees in chunks of locations.
    """
    pts = _check_points(points, "points")
    loc = _check_points(at, "at")
    if bandwidth_m is None or not np.isfinite(bandwidth_m) or bandwidth_m <= 0:
        raise InputError(f"bandwidth_m must be a positive number of metres, got {bandwidth_m!r}")
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {list(KERNELS)}, got {kernel!r}")
    w = _weights(weights, len(pts))
    h = float(bandwidth_m)
    out = np.zeros(len(loc))
    if len(pts) == 0 or len(loc) == 0:
        return out
    tree = cKDTree(pts)
    # expected pairs per location ~ points in a disc of radius h: size chunks to bound memory
    span = np.ptp(pts, axis=0)
    area = max(float(span[0] * span[1]), np.pi * h * h)
    per_loc = max(1.0, len(pts) * min(1.0, np.pi * h * h / area) * 4.0)
    chunk = int(max(256, min(len(loc), _PAIRS_PER_CHUNK / per_loc)))
    for a in range(0, len(loc), chunk):
        sub = cKDTree(loc[a : a + chunk])
        pairs = sub.sparse_distance_matrix(tree, h, output_type="ndarray")
        if len(pairs) == 0:
            continue
        u2 = (pairs["v"] / h) ** 2
        contrib = _kernel_values(u2, kernel) * w[pairs["j"]]
        out[a : a + chunk] += np.bincount(pairs["i"], weights=contrib, minlength=min(chunk, len(loc) - a))
    return out / (h * h) * 1e6  # per m² → per km²
