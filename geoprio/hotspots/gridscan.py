"""Grid-accelerated DBSCAN on weighted unique locations (compiled with numba).

The plane is cut into square cells of side ``s`` just under ``eps / √2``, so that the
diagonal of a cell is shorter than ``eps``:

* any two points of one cell are neighbours: a cell is a clique, so a cell holding a total
  weight of at least ``min_samples`` makes all its points core points at once, and all the
  core points of a cell belong to one cluster;
* a point's neighbours lie in the 5 × 5 block of cells around its own (two cells further
  apart are more than ``2 s ≥ eps`` away), so each distance test looks at a few cells,
  and a point stops counting as soon as it reaches ``min_samples``;
* two cells' core points are joined (union–find) as soon as one pair within ``eps`` is
  found, and pairs of cells already in one cluster are not tested again.

The result is DBSCAN's, exactly: the same core points (a total weight of at least
``min_samples`` within ``eps``, itself included, distances compared as
``dx² + dy² ≤ eps²``), the same clusters of core points, and each border point attached
to its nearest core point within ``eps`` (the first found on an exact tie of distances).
"""

from __future__ import annotations

import numpy as np

from geoprio.hotspots.accel import PARALLEL_LOCK, jit, prange

__all__ = ["grid_dbscan", "unique_locations"]


def unique_locations(X: np.ndarray, weight: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Distinct locations sorted by grid cell and their summed weights.

    Also each point's location index, each location's cell key and the keys' row length.
    """
    lo = X.min(axis=0)
    c = np.floor((X - lo) / cell_m).astype(np.int64)
    ny = int(c[:, 1].max()) + 3  # room for the neighbour offsets -2 … +2 without wrapping
    key = (c[:, 0] + 2) * ny + (c[:, 1] + 2)
    order = np.lexsort((X[:, 1], X[:, 0], key))
    Xs = X[order]
    ks = key[order]
    new = np.ones(len(X), dtype=bool)
    new[1:] = (ks[1:] != ks[:-1]) | (Xs[1:, 0] != Xs[:-1, 0]) | (Xs[1:, 1] != Xs[:-1, 1])
    loc_sorted = np.cumsum(new) - 1
    inv = np.empty(len(X), dtype=np.int64)
    inv[order] = loc_sorted
    U = Xs[new]
    wu = np.bincount(loc_sorted, weights=weight[order], minlength=len(U))
    return U, wu, inv, ks[new], ny


def _cell_table(key: np.ndarray, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets of each cell's locations (``key`` sorted) and its 25 neighbouring cells (-1: empty)."""
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    bounds = np.r_[starts, len(key)].astype(np.int64)
    ckey = key[starts]
    off = np.array([dx * ny + dy for dx in range(-2, 3) for dy in range(-2, 3)], dtype=np.int64)
    want = ckey[:, None] + off[None, :]  # cells hold y in 2 … ny - 3: no offset wraps to another column
    pos = np.minimum(np.searchsorted(ckey, want), len(ckey) - 1)
    nbr = np.where(ckey[pos] == want, pos, -1).astype(np.int64)
    return bounds, nbr


@jit(parallel=True)
def _core_weights(
    U: np.ndarray, w: np.ndarray, bounds: np.ndarray, nbr: np.ndarray, eps2: float, need: float
) -> np.ndarray:  # pragma: no cover
    """Weight within eps of each location, counted until it reaches ``need`` (enough to decide core)."""
    n_cells = bounds.size - 1
    out = np.zeros(U.shape[0])
    for c in prange(n_cells):
        a, b = bounds[c], bounds[c + 1]
        own = 0.0
        for q in range(a, b):
            own += w[q]
        for i in range(a, b):
            acc = own  # a cell is a clique: all its locations are within eps
            if acc < need:
                xi = U[i, 0]
                yi = U[i, 1]
                for t in range(nbr.shape[1]):
                    d = nbr[c, t]
                    if d < 0 or d == c:
                        continue
                    for q in range(bounds[d], bounds[d + 1]):
                        dx = U[q, 0] - xi
                        dy = U[q, 1] - yi
                        if dx * dx + dy * dy <= eps2:
                            acc += w[q]
                    if acc >= need:
                        break
            out[i] = acc
    return out


@jit()
def _find(parent: np.ndarray, i: int) -> int:  # pragma: no cover
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@jit()
def _join_cores(U: np.ndarray, core: np.ndarray, bounds: np.ndarray, nbr: np.ndarray, eps2: float) -> np.ndarray:  # pragma: no cover
    """Union–find over cells: the cluster root cell of each cell with core points (-1 without)."""
    n_cells = bounds.size - 1
    has = np.zeros(n_cells, dtype=np.bool_)
    for c in range(n_cells):
        for q in range(bounds[c], bounds[c + 1]):
            if core[q]:
                has[c] = True
                break
    parent = np.arange(n_cells)
    for c in range(n_cells):
        if not has[c]:
            continue
        for t in range(nbr.shape[1]):
            d = nbr[c, t]
            if d <= c or not has[d]:
                continue
            rc = _find(parent, c)
            rd = _find(parent, d)
            if rc == rd:
                continue
            linked = False
            for i in range(bounds[c], bounds[c + 1]):
                if not core[i]:
                    continue
                xi = U[i, 0]
                yi = U[i, 1]
                for q in range(bounds[d], bounds[d + 1]):
                    if core[q]:
                        dx = U[q, 0] - xi
                        dy = U[q, 1] - yi
                        if dx * dx + dy * dy <= eps2:
                            linked = True
                            break
                if linked:
                    break
            if linked:
                parent[rd] = rc
    root = np.full(n_cells, -1, dtype=np.int64)
    for c in range(n_cells):
        if has[c]:
            root[c] = _find(parent, c)
    return root


@jit(parallel=True)
def _assign(
    U: np.ndarray, core: np.ndarray, bounds: np.ndarray, nbr: np.ndarray, root: np.ndarray, eps2: float
) -> np.ndarray:  # pragma: no cover
    """Cluster (root cell) of every location: its own for core points, the nearest core point's within eps for the others."""
    n_cells = bounds.size - 1
    out = np.full(U.shape[0], -1, dtype=np.int64)
    for c in prange(n_cells):
        for i in range(bounds[c], bounds[c + 1]):
            if core[i]:
                out[i] = root[c]
                continue
            best = np.inf
            lab = -1
            xi = U[i, 0]
            yi = U[i, 1]
            for t in range(nbr.shape[1]):
                d = nbr[c, t]
                if d < 0 or root[d] < 0:
                    continue
                for q in range(bounds[d], bounds[d + 1]):
                    if core[q]:
                        dx = U[q, 0] - xi
                        dy = U[q, 1] - yi
                        r = dx * dx + dy * dy
                        if r <= eps2 and r < best:
                            best = r
                            lab = root[d]
            out[i] = lab
    return out


def grid_dbscan(X: np.ndarray, weight: np.ndarray, *, eps_m: float, min_samples: float) -> np.ndarray:
    """DBSCAN labels (root ids, not renumbered; -1 noise) of the points ``X`` with weights ``weight``."""
    cell = float(eps_m) / np.sqrt(2.0) * (1.0 - 1e-9)
    U, wu, inv, key, ny = unique_locations(X, weight, cell)
    bounds, nbr = _cell_table(key, ny)
    need = float(min_samples) - 1e-9
    eps2 = float(eps_m) * float(eps_m)
    with PARALLEL_LOCK:
        nbw = _core_weights(U, wu, bounds, nbr, eps2, need)
        core = nbw >= need
        root = _join_cores(U, core, bounds, nbr, eps2)
        labels = _assign(U, core, bounds, nbr, root, eps2)
    return np.asarray(labels)[inv]
