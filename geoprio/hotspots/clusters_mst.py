"""HDBSCAN's minimum spanning tree from a k-nearest-neighbour graph (the ``"knn"`` engine).

HDBSCAN's cluster tree is the single-linkage tree of the *mutual reachability distance*
``mrd(a, b) = max(core(a), core(b), |a - b|)``, where ``core(a)`` is the distance from ``a``
to its ``min_samples``-th nearest other point (the ``hdbscan`` package's convention: a
``k = min_samples + 1`` query that counts the point itself). The expensive part is the
minimum spanning tree of that complete graph; the ``hdbscan`` package finds it with a
dual-tree Borůvka over a KD-tree (by default with ``approx_min_span_tree=True``, which
does *not* return the minimum tree: ARI 0.85 against the exact tree on the benchmark's
200,000 points), ``fast_hdbscan`` with a parallel Borůvka in float32.

In two dimensions a much cheaper route finds a minimum tree:

1. exact duplicate coordinates are merged into one location with a multiplicity. This is
   exact: the duplicates of a location share its core distance ``c`` (the distance at which
   the multiplicities cumulated from the location outwards, its own first, reach
   ``min_samples + 1``), they are ``mrd = c`` apart, and any edge leaving the location
   weighs at least ``c``; so the raw points' minimum tree is the locations' minimum tree
   plus, for each location, its duplicates joined to its first point at weight ``c``. The
   clusters are then chosen on the raw points' tree, as unweighted HDBSCAN does (no
   weighted variant of HDBSCAN is involved);
2. one scipy KD-tree query of the ``n_neighbors`` nearest locations of every location (C
   code, several threads); the core distances come from it;
3. the minimum spanning forest of that k-nearest-neighbour graph weighted by ``mrd``
   (Kruskal, compiled with numba; scipy's ``minimum_spanning_tree`` without it);
4. if that graph is not connected (groups far from the rest), Borůvka rounds over its
   components: each component but the largest gets, for each of its locations, the
   ``n_neighbors`` nearest locations outside it as candidate links, until one tree remains.

The tree is a minimum one unless a link lighter than the forest's path joins two locations
that are not among each other's ``n_neighbors`` nearest; this is not guaranteed, so it is
measured: on the benchmark's 200,000 points and on Chicago's 148,636 aggravated assaults
(62,884 locations) the tree's total weight equals the exact tree's (the ``hdbscan`` package
with ``approx_min_span_tree=False``), and ``tests/hotspots/test_clusters_mst.py`` checks it
on planted and real data. Minimum trees differ only in how they order equal weights (many
edges weigh exactly a core distance), and HDBSCAN's cluster selection depends on that order:
two exact implementations agree to an adjusted Rand index of 0.999–0.9995, and the same
implementation with the points shuffled to 0.994. See ``docs/dev/benchmarks.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import cKDTree

from geoprio.errors import InputError, MissingDependencyError
from geoprio.hotspots.accel import ProgressCallback, jit, numba_enabled, report

__all__ = ["DEFAULT_NEIGHBORS", "knn_engine_available", "knn_hdbscan", "knn_mutual_reachability_tree"]

#: neighbours per point in the candidate graph (at least ``min_samples + 1``)
DEFAULT_NEIGHBORS = 16

#: a component of at most this many points looks for outside neighbours in the shared tree
_SMALL_COMPONENT = 2048


def _mrd(X: np.ndarray, core: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mutual reachability distance of the pairs ``(a[i], b[i])``, from the coordinates."""
    d = np.hypot(X[a, 0] - X[b, 0], X[a, 1] - X[b, 1])
    return np.maximum(np.maximum(core[a], core[b]), d)


@jit()
def _kruskal(n: int, a: np.ndarray, b: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Kruskal over the edges taken in ``order``: the forest's edges (union–find, path halving)."""
    parent = np.arange(n)
    ta = np.empty(n - 1, dtype=np.int64)
    tb = np.empty(n - 1, dtype=np.int64)
    t = 0
    for q in order:
        x = a[q]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        y = b[q]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x != y:
            parent[x] = y
            ta[t] = a[q]
            tb[t] = b[q]
            t += 1
            if t == n - 1:
                break
    return ta[:t], tb[:t]


def _forest(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum spanning forest of the edges ``(a, b, w)`` on ``n`` nodes: its edges' ends.

    Ties are broken by edge order (stable sort), so the forest is reproducible.
    """
    if numba_enabled():
        return _kruskal(n, a, b, np.argsort(w, kind="stable"))
    # scipy sums duplicate entries and drops explicit zeros (core distance 0 where
    # min_samples + 1 points share a location): one entry per pair, the weights shifted by 1
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    key, first = np.unique(lo * n + hi, return_index=True)
    g = coo_array((w[first] + 1.0, (key // n, key % n)), shape=(n, n)).tocsr()
    t = minimum_spanning_tree(g).tocoo()
    return np.asarray(t.row, dtype=np.int64), np.asarray(t.col, dtype=np.int64)


def knn_mutual_reachability_tree(
    X: np.ndarray,
    min_samples: int,
    *,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    workers: int = -1,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spanning tree of the mutual reachability graph from a k-nearest-neighbour graph.

    Returns ``(edges, core)``: ``edges`` of shape ``(n - 1, 3)`` (``a``, ``b``, weight)
    sorted by weight, and each point's core distance. ``workers``: threads of the KD-tree
    queries (-1: every core).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or not np.isfinite(X).all():
        raise InputError(f"X must hold finite coordinates of shape (n, 2) (x, y in metres), got shape {X.shape}")
    n = len(X)
    if n < 2:
        raise InputError(f"a spanning tree needs at least 2 points, got {n}")
    if min_samples < 1 or min_samples >= n:
        raise InputError(f"min_samples must be in [1, {n - 1}] for {n} points, got {min_samples}")
    report(progress, "hdbscan", 0, 3)
    # 1. exact duplicates become one location with a multiplicity (exact, see the module notes)
    U, first, inv, count = np.unique(X, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    m = len(U)
    # 2. each location's nearest locations; its core distance is where the cumulated
    #    multiplicities (its own first) reach min_samples + 1, as a (min_samples + 1)-nearest
    #    query on the raw points that counts the point itself would find it
    k = min(m, max(int(n_neighbors), min_samples + 1))
    tree = cKDTree(U)
    dist, nb = tree.query(U, k=k, workers=workers)
    dist, nb = dist.reshape(m, k), nb.reshape(m, k)
    reach = np.argmax(np.cumsum(count[nb], axis=1) >= min_samples + 1, axis=1)
    core = dist[np.arange(m), reach]
    del reach
    report(progress, "hdbscan", 1, 3)
    ta, tb = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if m > 1:
        itype = np.int32 if m < 2**31 else np.int64
        a = np.repeat(np.arange(m, dtype=itype), k - 1)
        b = nb[:, 1:].astype(itype).ravel()
        del nb
        w = np.maximum(np.maximum(core[a], core[b]), dist[:, 1:].ravel())
        del dist
        ta, tb = _forest(m, a, b, w)
        del a, b, w
        rounds = 0
        while len(ta) < m - 1:
            ta, tb = _bridge(U, core, tree, ta, tb, k, workers)
            rounds += 1
            if rounds > 64:  # pragma: no cover - each round at least halves the components
                raise RuntimeError("the spanning tree did not connect")
    tw = _mrd(U, core, ta, tb)
    # 3. back to the raw points: the tree of the locations between their first points, and
    #    every other duplicate joined to its location's first point at the core distance
    first = first.astype(np.int64)
    dup = np.flatnonzero(first[inv] != np.arange(n))
    ea = np.concatenate([first[ta], first[inv[dup]]])
    eb = np.concatenate([first[tb], dup])
    ew = np.concatenate([tw, core[inv[dup]]])
    order = np.argsort(ew, kind="stable")
    edges = np.column_stack([ea[order].astype(float), eb[order].astype(float), ew[order]])
    report(progress, "hdbscan", 2, 3)
    return edges, core[inv]


def _bridge(
    X: np.ndarray, core: np.ndarray, tree: cKDTree, ta: np.ndarray, tb: np.ndarray, k: int, workers: int
) -> tuple[np.ndarray, np.ndarray]:
    """One Borůvka round over the forest's components: candidate links from every component but the largest."""
    n = len(X)
    g = coo_array((np.ones(len(ta)), (ta, tb)), shape=(n, n))
    _nc, comp = connected_components(g, directed=False)
    sizes = np.bincount(comp)
    largest = int(np.argmax(sizes))
    order = np.argsort(comp, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    ca, cb = [ta], [tb]
    for c in np.flatnonzero(np.arange(len(sizes)) != largest):
        members = order[starts[c] : starts[c + 1]]
        if len(members) <= _SMALL_COMPONENT:
            q = min(n, len(members) + k)
            _d, j = tree.query(X[members], k=q, workers=workers)
            j = np.asarray(j, dtype=np.int64).reshape(len(members), q)
        else:
            others = np.flatnonzero(comp != c)
            _d, jj = cKDTree(X[others]).query(X[members], k=min(k, len(others)), workers=workers)
            j = others[np.asarray(jj, dtype=np.int64).reshape(len(members), -1)]
        src = np.repeat(members, j.shape[1])
        dst = j.ravel()
        out = comp[dst] != c
        ca.append(src[out])
        cb.append(dst[out])
    a = np.concatenate(ca)
    b = np.concatenate(cb)
    return _forest(n, a, b, _mrd(X, core, a, b))


def knn_hdbscan(
    X: np.ndarray,
    *,
    min_cluster_size: int,
    min_samples: int,
    selection: str = "leaf",
    n_neighbors: int = DEFAULT_NEIGHBORS,
    workers: int = -1,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN labels and membership strengths with the k-nearest-neighbour spanning tree.

    The condensed tree, the cluster selection (``"leaf"`` or ``"eom"``) and the membership
    strengths come from ``fast_hdbscan`` when it is installed (0.8 s at a million points),
    from the ``hdbscan`` package otherwise (10.6 s); on the same tree both select the same
    clusters (ARI 0.99999 at a million points: they order tied merges differently).
    """
    select = _selector()
    edges, _core = knn_mutual_reachability_tree(X, min_samples, n_neighbors=n_neighbors, workers=workers, progress=progress)
    labels, strength = select(X, edges, int(min_cluster_size), selection)
    report(progress, "hdbscan", 3, 3)
    return np.asarray(labels, dtype=np.int64), np.asarray(strength, dtype=float)


def _selector() -> Callable[[np.ndarray, np.ndarray, int, str], tuple[np.ndarray, np.ndarray]]:
    """The cluster selection over a spanning tree: fast_hdbscan's, else the hdbscan package's."""
    try:
        from fast_hdbscan.hdbscan import clusters_from_spanning_tree  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        pass
    else:

        def fast(X: np.ndarray, edges: np.ndarray, mcs: int, selection: str) -> tuple[np.ndarray, np.ndarray]:
            labels, strength = clusters_from_spanning_tree(edges, min_cluster_size=mcs, cluster_selection_method=selection)[:2]
            return labels, strength

        return fast
    try:
        from hdbscan._hdbscan_linkage import label as single_linkage  # type: ignore[import-untyped,unused-ignore]
        from hdbscan.hdbscan_ import _tree_to_labels  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise MissingDependencyError("HDBSCAN engine 'knn' needs fast_hdbscan or hdbscan: pip install geoprio[fast]") from None

    def package(X: np.ndarray, edges: np.ndarray, mcs: int, selection: str) -> tuple[np.ndarray, np.ndarray]:
        labels, strength = _tree_to_labels(X, single_linkage(edges), mcs, selection)[:2]
        return labels, strength

    return package


def knn_engine_available() -> bool:
    """Whether the ``"knn"`` engine can run (``fast_hdbscan`` or ``hdbscan`` installed)."""
    import importlib.util

    return any(importlib.util.find_spec(m) is not None for m in ("fast_hdbscan", "hdbscan"))
