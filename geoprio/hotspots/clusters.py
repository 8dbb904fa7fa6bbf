"""Density clusters of incidents (DBSCAN, HDBSCAN), their polygons, profiles and complexity rank.

The list of *espacios públicos de alta complejidad* comes from here:

1. :class:`DensityClusters` finds dense groups of incidents on projected coordinates
   (metres), scikit-learn style (``fit`` returns ``self``, ``labels_`` with ``-1`` for
   noise). ``method="dbscan"`` runs :func:`dbscan`, exact DBSCAN in memory proportional to
   the points: exact duplicate locations are collapsed into weighted points; with numba
   installed a grid of cells of side ``eps/√2`` (each a clique) bounds every neighbourhood
   search (:mod:`geoprio.hotspots.gridscan`); without it neighbourhoods are enumerated with
   KD-trees in chunks of bounded size and core points are joined with
   :func:`scipy.sparse.csgraph.connected_components` on a reduced edge list. Either way
   memory grows with the number of points, not with the number of neighbour pairs
   (scikit-learn's ``DBSCAN`` keeps every neighbourhood in memory at once, quadratic in
   dense clusters). ``method="hdbscan"`` builds the minimum spanning tree of the mutual
   reachability distance from a 16-nearest-neighbour graph (:mod:`geoprio.hotspots.clusters_mst`,
   the ``"knn"`` engine: 6 s at a million points, the exact tree's total weight) when
   ``fast_hdbscan`` or ``hdbscan`` is installed, and runs scikit-learn's ``HDBSCAN``
   otherwise; ``engine="hdbscan"`` and ``engine="fast_hdbscan"`` run those packages whole.
2. :func:`cluster_polygons` turns each cluster into a polygon: the concave hull of its
   points (:func:`shapely.concave_hull`) with a small buffer.
3. :func:`profile_clusters` describes each cluster: incidents, area, density, share of
   the city's incidents, top categories, hour-of-day and day-of-week profiles, night and
   weekend shares, the last twelve months against the twelve before, harm, records of
   other sources inside (complaints, coexistence) and the zones it touches.
4. :func:`rank_complexity` ranks the clusters with :class:`geoprio.index.estimator.PriorityIndex`
   on a clusters × indicators table, configured like the index (:class:`ComplexityConfig`,
   TOML ``[index]`` and ``[[indicators]]``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from pydantic import Field, ValidationError
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError, cKDTree

from geoprio.errors import ConfigError, InputError, MissingDependencyError
from geoprio.hotspots.accel import HAVE_NUMBA, ProgressCallback, numba_enabled, report
from geoprio.hotspots.clusters_mst import knn_engine_available, knn_hdbscan
from geoprio.hotspots.gridscan import grid_dbscan
from geoprio.index.config import IndexOptions
from geoprio.index.estimator import PriorityIndex
from geoprio.io import files as io
from geoprio.labels import label
from geoprio.options import Options

__all__ = [
    "DEFAULT_COMPLEXITY",
    "ComplexityConfig",
    "ComplexityIndicator",
    "DensityClusters",
    "cluster_polygons",
    "dbscan",
    "load_complexity_config",
    "profile_clusters",
    "rank_complexity",
]

Method = Literal["dbscan", "hdbscan"]
Engine = Literal["auto", "knn", "fast_hdbscan", "hdbscan", "sklearn"]

_DOW = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --------------------------------------------------------------------------- DBSCAN


def _check_xy(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise InputError(f"X must have shape (n, 2) (x, y in metres), got {X.shape}")
    if not np.isfinite(X).all():
        raise InputError("X has missing or infinite coordinates")
    return X


def _chunks_by_cost(cost: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Split ``range(len(cost))`` into consecutive chunks whose summed cost stays under ``budget``."""
    n = len(cost)
    if n == 0:
        return []
    cum = np.cumsum(cost, dtype=np.int64)
    bounds = [0]
    while bounds[-1] < n:
        a = bounds[-1]
        base = cum[a - 1] if a > 0 else 0
        b = int(np.searchsorted(cum, base + budget, side="right"))
        bounds.append(min(n, max(b, a + 1)))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def dbscan(
    X: np.ndarray,
    *,
    eps_m: float,
    min_samples: float,
    sample_weight: np.ndarray | None = None,
    max_pairs: int = 500_000,
    snap_m: float | None = None,
    engine: Literal["auto", "grid", "kdtree"] = "auto",
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """DBSCAN on weighted unique locations, in memory proportional to the points.

    Same definition as :class:`sklearn.cluster.DBSCAN` (a core point has a total weight of
    at least ``min_samples`` within ``eps_m``, itself included; clusters are the connected
    core points and the non-core points within ``eps_m`` of them). A border point within
    reach of two clusters joins the cluster of its nearest core point (scikit-learn gives
    it to the first cluster its scan reaches). Returns labels 0, 1, … in order of each
    cluster's first point, and -1 for noise.

    Exact duplicate locations are collapsed into one weighted location first (exact:
    they have the same neighbourhoods). ``snap_m`` (optional) rounds the coordinates to a
    grid of that many metres before, which merges near-duplicates too: faster on dense
    data, no longer exact (points move by up to ``snap_m / √2``). ``engine``: ``"grid"``
    (:mod:`geoprio.hotspots.gridscan`, compiled with numba: cells of side ``eps/√2``),
    ``"kdtree"`` (scipy KD-trees in chunks of ``max_pairs`` neighbour pairs), ``"auto"``
    (grid when numba is installed). Both give the same labels.
    """
    X = _check_xy(X)
    if snap_m is not None:
        if not np.isfinite(snap_m) or snap_m <= 0:
            raise InputError(f"snap_m must be a positive number of metres, got {snap_m!r}")
        X = np.round(X / snap_m) * snap_m
    if not np.isfinite(eps_m) or eps_m <= 0:
        raise InputError(f"eps_m must be a positive number of metres, got {eps_m!r}")
    if not np.isfinite(min_samples) or min_samples <= 0:
        raise InputError(f"min_samples must be positive, got {min_samples!r}")
    n = len(X)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w_in = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if w_in.shape != (n,) or (w_in < 0).any() or not np.isfinite(w_in).all():
        raise InputError(f"sample_weight must hold {n} finite non-negative values")
    if engine not in ("auto", "grid", "kdtree"):
        raise InputError(f"DBSCAN engine must be 'auto', 'grid' or 'kdtree', got {engine!r}")
    report(progress, "dbscan", 0, 1)
    if engine == "grid" and not HAVE_NUMBA:
        raise MissingDependencyError("DBSCAN engine='grid' needs numba: pip install numba")
    if engine == "grid" or (engine == "auto" and numba_enabled()):
        labels = grid_dbscan(X, w_in, eps_m=float(eps_m), min_samples=float(min_samples))
    else:
        labels = _dbscan_kdtree(X, w_in, float(eps_m), float(min_samples), sample_weight is None, max_pairs)
    report(progress, "dbscan", 1, 1)
    return _relabel_by_first(labels)


def _dbscan_kdtree(X: np.ndarray, w_in: np.ndarray, eps: float, min_samples: float, unweighted: bool, max_pairs: int) -> np.ndarray:
    """DBSCAN with scipy KD-trees, memory bounded by ``max_pairs`` neighbour pairs at a time (labels not renumbered)."""
    # 1. collapse exact duplicates: same neighbourhoods, so the result is unchanged
    U, inv = np.unique(X, axis=0, return_inverse=True)
    inv = inv.ravel()
    w = np.bincount(inv, weights=w_in, minlength=len(U))
    tree = cKDTree(U)
    # 2. core points: weighted neighbourhood sums, in chunks sized by the neighbour counts
    if unweighted:
        # unweighted: the points (duplicates included) within eps of each location, counted by the tree
        nb_weight = cKDTree(X).query_ball_point(U, eps, return_length=True).astype(float)
    else:
        n_nb = tree.query_ball_point(U, eps, return_length=True).astype(np.int64)
        nb_weight = np.empty(len(U))
        for a, b in _chunks_by_cost(n_nb, max_pairs):
            pairs = cKDTree(U[a:b]).sparse_distance_matrix(tree, eps, output_type="ndarray")
            nb_weight[a:b] = np.bincount(pairs["i"], weights=w[pairs["j"]], minlength=b - a)
    core = nb_weight >= min_samples - 1e-9
    core_idx = np.flatnonzero(core)
    labels_u = np.full(len(U), -1, dtype=np.int64)
    if core_idx.size:
        Uc = U[core_idx]
        ctree = cKDTree(Uc)
        # 3. connect core points; each chunk contributes only a spanning star per local component
        nc = len(Uc)
        c_nb = ctree.query_ball_point(Uc, eps, return_length=True).astype(np.int64)
        src_parts, dst_parts = [], []
        for a, b in _chunks_by_cost(c_nb, max_pairs):
            pairs = cKDTree(Uc[a:b]).sparse_distance_matrix(ctree, eps, output_type="ndarray")
            rows = pairs["i"].astype(np.int64) + a
            cols = pairs["j"].astype(np.int64)
            nodes, local = np.unique(np.concatenate([rows, cols]), return_inverse=True)
            k = len(rows)
            g = coo_array((np.ones(k), (local[:k], local[k:])), shape=(len(nodes), len(nodes)))
            _ncomp, comp = connected_components(g, directed=False)
            _u, first = np.unique(comp, return_index=True)
            rep = nodes[first][comp]  # the smallest node of each local component
            src_parts.append(nodes)
            dst_parts.append(rep)
        src = np.concatenate(src_parts)
        dst = np.concatenate(dst_parts)
        g = coo_array((np.ones(len(src)), (src, dst)), shape=(nc, nc))
        _ncomp, comp = connected_components(g, directed=False)
        labels_u[core_idx] = comp
        # 4. border points: the cluster of the nearest core point within eps
        border = np.flatnonzero(~core)
        if border.size:
            d, j = ctree.query(U[border], k=1, distance_upper_bound=np.nextafter(eps, np.inf))
            ok = np.isfinite(d) & (d <= eps)
            labels_u[border[ok]] = comp[j[ok]]
    return labels_u[inv]


def _relabel_by_first(labels: np.ndarray) -> np.ndarray:
    """Renumber cluster labels 0, 1, … in order of first appearance; -1 stays."""
    out = np.full(len(labels), -1, dtype=np.int64)
    m = labels >= 0
    if not m.any():
        return out
    uniq, first = np.unique(labels[m], return_index=True)
    order = np.argsort(first, kind="stable")
    new = np.empty(len(uniq), dtype=np.int64)
    new[order] = np.arange(len(uniq))
    out[m] = new[np.searchsorted(uniq, labels[m])]
    return out


def _hull_area_m2(X: np.ndarray) -> float:
    """Area of the points' convex hull (qhull: 0.1 s for a million points; 0 when they are collinear)."""
    if len(X) < 3:
        return 0.0
    try:
        return float(ConvexHull(X).volume)  # in 2-D, "volume" is the area
    except QhullError:  # fewer than 3 distinct points, or all on a line
        return 0.0


class DensityClusters:
    """Density clusters of incident locations (scikit-learn style).

    Parameters
    ----------
    method
        ``"hdbscan"`` (default: clusters of varying density, no radius to choose) or
        ``"dbscan"`` (one density threshold: ``min_samples`` within ``eps_m``).
    eps_m
        DBSCAN radius in metres (default 100 m, about a block and its street).
    min_samples
        DBSCAN: total weight within ``eps_m`` that makes a core point. Default: ten times
        what the city's mean density (incidents over the convex hull) puts in a disc of
        radius ``eps_m``, and at least 5. HDBSCAN: the ``min_samples`` of the mutual
        reachability distance (default: ``min_cluster_size`` capped at 10).
    min_cluster_size
        HDBSCAN: smallest cluster, in incidents. Default ``max(10, ⌈0.002 n⌉)``, i.e.
        clusters hold at least 0.2 % of the incidents.
    min_membership
        HDBSCAN: points whose membership strength (``probabilities_``) is below this are
        noise (default 0.1). HDBSCAN otherwise attaches to a cluster every point that joins
        its branch of the tree, even far, sparse ones, which inflates the polygons; on
        planted clusters this threshold lifts the adjusted Rand index from about 0.8 to 0.99.
    selection
        HDBSCAN's cluster selection: ``"leaf"`` (default: the densest groups at the leaves
        of the cluster tree, what a hot-spot list needs) or ``"eom"`` (excess of mass, the
        libraries' default, which on city-wide crime data tends to return one cluster
        covering most of the city: 3 clusters, the largest with 98 % of the points, on
        Chicago's assaults).
    engine
        HDBSCAN implementation: ``"auto"`` (``"knn"`` when ``fast_hdbscan`` or
        ``hdbscan`` is installed, else scikit-learn), ``"knn"`` (geoprio's spanning tree
        from a k-nearest-neighbour graph, :mod:`geoprio.hotspots.clusters_mst`),
        ``"hdbscan"`` (the ``hdbscan`` package as it runs by default, with
        ``approx_min_span_tree=True``: not the minimum tree, ARI about 0.85 against the
        exact one on the benchmark), ``"sklearn"`` or ``"fast_hdbscan"`` (the
        ``fast_hdbscan`` package: exact tree, parallel Borůvka in float32; 2.4–3.4×
        slower than ``"knn"``). ``"knn"`` and ``"fast_hdbscan"`` agree to ARI 0.9999 at a million
        points; what differs is the order of tied merges, see ``docs/dev/benchmarks.md``.
    max_pairs
        DBSCAN memory bound: neighbour pairs held at a time.

    Attributes
    ----------
    labels_ : ndarray
        Cluster of each point (0, 1, … by decreasing size), ``-1`` for noise.
    n_clusters_ : int
    params_ : dict
        The parameters actually used (defaults resolved), for manifests.
    engine_ : str
        ``"geoprio"`` (DBSCAN), ``"hdbscan"`` or ``"sklearn"``.
    """

    def __init__(
        self,
        *,
        method: Method = "hdbscan",
        eps_m: float | None = None,
        min_samples: float | None = None,
        min_cluster_size: int | None = None,
        min_membership: float = 0.1,
        selection: Literal["leaf", "eom"] = "leaf",
        engine: Engine = "auto",
        max_pairs: int = 500_000,
    ) -> None:
        self.method = method
        self.min_membership = min_membership
        self.selection = selection
        self.eps_m = eps_m
        self.min_samples = min_samples
        self.min_cluster_size = min_cluster_size
        self.engine = engine
        self.max_pairs = max_pairs

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (for manifests)."""
        return {
            k: getattr(self, k)
            for k in ("method", "eps_m", "min_samples", "min_cluster_size", "min_membership", "selection", "engine", "max_pairs")
        }

    def _validate(self) -> None:
        if self.method not in ("dbscan", "hdbscan"):
            raise InputError(f"cluster method must be 'dbscan' or 'hdbscan', got {self.method!r}")
        if self.eps_m is not None and (not np.isfinite(self.eps_m) or self.eps_m <= 0):
            raise InputError(f"eps_m must be a positive number of metres, got {self.eps_m!r}")
        if self.min_samples is not None and (not np.isfinite(self.min_samples) or self.min_samples < 1):
            raise InputError(f"min_samples must be at least 1, got {self.min_samples!r}")
        if self.min_cluster_size is not None and (
            isinstance(self.min_cluster_size, bool) or not isinstance(self.min_cluster_size, (int, np.integer)) or self.min_cluster_size < 2
        ):
            raise InputError(f"min_cluster_size must be an integer of at least 2, got {self.min_cluster_size!r}")
        if self.selection not in ("leaf", "eom"):
            raise InputError(f"selection must be 'leaf' or 'eom', got {self.selection!r}")
        if not 0 <= self.min_membership < 1:
            raise InputError(f"min_membership must be in [0, 1), got {self.min_membership!r}")
        if self.engine not in ("auto", "knn", "fast_hdbscan", "hdbscan", "sklearn"):
            raise InputError(f"engine must be 'auto', 'knn', 'fast_hdbscan', 'hdbscan' or 'sklearn', got {self.engine!r}")

    def fit(self, X: np.ndarray, sample_weight: np.ndarray | None = None, *, progress: ProgressCallback | None = None) -> DensityClusters:
        """Cluster the points ``X`` (metres, shape ``(n, 2)``).

        ``sample_weight`` (incident counts) is used by DBSCAN; HDBSCAN counts points.
        ``progress``: optional ``progress(step, done, total)`` callback.
        """
        self._validate()
        X = _check_xy(X)
        n = len(X)
        if n == 0:
            raise InputError("no points to cluster")
        if self.method == "dbscan":
            eps = float(self.eps_m) if self.eps_m is not None else 100.0
            total = float(n if sample_weight is None else np.sum(sample_weight))
            if self.min_samples is not None:
                ms = float(self.min_samples)
            else:
                area = max(_hull_area_m2(X), math.pi * eps * eps)
                ms = float(max(5, math.ceil(10.0 * total / area * math.pi * eps * eps)))
            labels = dbscan(X, eps_m=eps, min_samples=ms, sample_weight=sample_weight, max_pairs=self.max_pairs, progress=progress)
            self.engine_ = "geoprio"
            self.params_ = {"method": "dbscan", "eps_m": eps, "min_samples": ms}
        else:
            mcs = int(self.min_cluster_size) if self.min_cluster_size is not None else max(10, math.ceil(0.002 * n))
            ms = int(self.min_samples) if self.min_samples is not None else min(mcs, 10)
            if n < max(mcs, ms) + 1:
                raise InputError(f"HDBSCAN with min_cluster_size={mcs} needs more than {max(mcs, ms)} points, got {n}")
            labels, strength, engine = _hdbscan(X, mcs, ms, self.selection, self.engine, progress)
            labels = np.where(strength >= self.min_membership, labels, -1)
            self.engine_ = engine
            self.params_ = {
                "method": "hdbscan",
                "min_cluster_size": mcs,
                "min_samples": ms,
                "min_membership": float(self.min_membership),
                "selection": self.selection,
                "engine": engine,
            }
        self.labels_ = _relabel_by_size(labels, sample_weight)
        self.n_clusters_ = int(self.labels_.max() + 1) if (self.labels_ >= 0).any() else 0
        return self

    def fit_predict(
        self, X: np.ndarray, sample_weight: np.ndarray | None = None, *, progress: ProgressCallback | None = None
    ) -> np.ndarray:
        """``fit`` and return ``labels_``."""
        return self.fit(X, sample_weight, progress=progress).labels_


def _hdbscan(
    X: np.ndarray, min_cluster_size: int, min_samples: int, selection: str, engine: str, progress: ProgressCallback | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Labels, membership strengths and the engine used."""
    if engine == "knn" or (engine == "auto" and knn_engine_available()):
        labels, strength = knn_hdbscan(
            X, min_cluster_size=min_cluster_size, min_samples=min_samples, selection=selection, progress=progress
        )
        return labels, strength, "knn"
    report(progress, "hdbscan", 0, 1)
    out = _hdbscan_run(X, min_cluster_size, min_samples, selection, engine)
    report(progress, "hdbscan", 1, 1)
    return out


def _hdbscan_run(X: np.ndarray, min_cluster_size: int, min_samples: int, selection: str, engine: str) -> tuple[np.ndarray, np.ndarray, str]:
    if engine == "fast_hdbscan":
        try:
            import fast_hdbscan  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise MissingDependencyError("engine='fast_hdbscan' needs the fast_hdbscan package: pip install fast_hdbscan") from None
        else:
            # on the raw points: its sample_weights path (0.3.4) mixes squared and plain distances
            # and counts the point itself differently from the unweighted path, so weighted
            # unique locations do not reproduce the raw points' clusters there (the "knn" engine
            # collapses duplicates exactly inside the spanning tree instead)
            labels, strength = fast_hdbscan.fast_hdbscan(
                X, min_samples=int(min_samples), min_cluster_size=int(min_cluster_size), cluster_selection_method=selection
            )[:2]
            return np.asarray(labels, dtype=np.int64), np.asarray(strength, dtype=float), "fast_hdbscan"
    if engine in ("auto", "hdbscan"):
        try:
            import hdbscan  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            if engine == "hdbscan":
                raise MissingDependencyError("engine='hdbscan' needs the hdbscan package: pip install hdbscan") from None
        else:
            model = hdbscan.HDBSCAN(
                min_cluster_size=min_cluster_size, min_samples=min_samples, cluster_selection_method=selection, core_dist_n_jobs=1
            )
            model.fit(X)
            return np.asarray(model.labels_, dtype=np.int64), np.asarray(model.probabilities_, dtype=float), "hdbscan"
    from sklearn.cluster import HDBSCAN

    model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, cluster_selection_method=selection, copy=True).fit(X)
    return np.asarray(model.labels_, dtype=np.int64), np.asarray(model.probabilities_, dtype=float), "sklearn"


def _relabel_by_size(labels: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """Renumber clusters 0, 1, … by decreasing total weight (ties: by first appearance)."""
    labels = _relabel_by_first(np.asarray(labels, dtype=np.int64))
    m = labels >= 0
    if not m.any():
        return labels
    w = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    size = np.bincount(labels[m], weights=w[m])
    order = np.lexsort((np.arange(len(size)), -size))
    new = np.empty(len(size), dtype=np.int64)
    new[order] = np.arange(len(size))
    out = labels.copy()
    out[m] = new[labels[m]]
    return out


# --------------------------------------------------------------------------- polygons


def cluster_polygons(X: np.ndarray, labels: np.ndarray, *, ratio: float = 0.3, buffer_m: float = 25.0) -> np.ndarray:
    """One polygon per cluster (index = label): the concave hull of its points, buffered.

    ``ratio`` is :func:`shapely.concave_hull`'s (0 the tightest hull, 1 the convex hull);
    ``buffer_m`` (metres, at least 0) pads the hull so that clusters of one or two
    locations still get an area.
    """
    X = _check_xy(X)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(X),):
        raise InputError(f"labels must have one value per point ({len(X)}), got shape {labels.shape}")
    if not 0 <= ratio <= 1:
        raise InputError(f"ratio must be in [0, 1], got {ratio!r}")
    if not np.isfinite(buffer_m) or buffer_m < 0:
        raise InputError(f"buffer_m must be a non-negative number of metres, got {buffer_m!r}")
    m = labels >= 0
    if not m.any():
        return np.array([], dtype=object)
    k = int(labels.max()) + 1
    rows = np.unique(np.column_stack([labels[m].astype(float), X[m]]), axis=0)  # sorted by label, duplicates removed
    mp = np.asarray(shapely.multipoints(rows[:, 1:], indices=rows[:, 0].astype(np.int64)), dtype=object)
    if len(mp) < k:  # labels without points (cannot happen with relabelled clusters)
        empty = np.empty(k - len(mp), dtype=object)
        empty[:] = shapely.MultiPoint()
        mp = np.concatenate([mp, empty])
    hull = shapely.concave_hull(mp, ratio=ratio)
    return np.asarray(shapely.buffer(hull, max(buffer_m, 1e-3), quad_segs=4), dtype=object)


# --------------------------------------------------------------------------- profiles


def _top_categories(cluster: np.ndarray, category: pd.Series, weight: np.ndarray, k: int, top: int, lang: str) -> list[str]:
    df = pd.DataFrame({"c": cluster, "cat": category.astype("string").fillna(label("hotspots", "no_category", lang)), "w": weight})
    g = df.groupby(["c", "cat"], sort=False)["w"].sum().reset_index()
    g["share"] = g["w"] / g.groupby("c")["w"].transform("sum")
    g = g.sort_values(["c", "w", "cat"], ascending=[True, False, True], kind="stable")
    g = g.groupby("c", sort=True).head(top)
    g["txt"] = g["cat"].astype(str) + " " + (100 * g["share"]).round(0).astype(int).astype(str) + " %"
    text = g.groupby("c")["txt"].agg("; ".join)
    return [str(text.get(i, "")) for i in range(k)]


def _peak_text(shares: np.ndarray, names: Sequence[str], top: int) -> list[str]:
    order = np.argsort(-shares, axis=1, kind="stable")[:, :top]
    out = []
    for row, idx in zip(shares, order, strict=True):
        out.append(", ".join(names[i] for i in idx if row[i] > 0))
    return out


def profile_clusters(
    labels: np.ndarray,
    X: np.ndarray,
    records: pd.DataFrame,
    polygons: np.ndarray,
    *,
    context: Mapping[str, np.ndarray] | None = None,
    zones: tuple[np.ndarray, np.ndarray] | None = None,
    harm: np.ndarray | None = None,
    total_weight: float | None = None,
    lang: str = "es",
    top: int = 3,
) -> pd.DataFrame:
    """Describe each cluster (one row per label ``0 … k-1``).

    Parameters
    ----------
    labels, X
        Cluster of each record and its coordinates in metres.
    records
        The records (``date``, ``hour``, ``category``, ``weight`` columns as
        :class:`geoprio.records.load.Records` has them), aligned with ``labels``.
    polygons
        :func:`cluster_polygons`' output (metric CRS, same as ``X``).
    context
        Other point sources (name → coordinates ``(m, 2)`` in metres, e.g. coexistence
        records or complaints with coordinates) to count inside each polygon, as
        ``n_<name>``.
    zones
        ``(geometries in the same metric CRS, names)``: each cluster lists the zones its
        polygon touches.
    harm
        Harm weight per record (NaN where unknown): adds ``harm`` (sum of weight × harm).
    total_weight
        Incidents in the whole study area (default: all of ``records``), for ``share``.
    lang
        Language of the text columns (``es``/``en``).
    """
    X = _check_xy(X)
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    if len(records) != n or len(X) != n:
        raise InputError(f"labels ({n}), X ({len(X)}) and records ({len(records)}) must be aligned")
    k = len(polygons)
    m = labels >= 0
    lab = labels[m]
    w = records["weight"].to_numpy(dtype=float)[m] if "weight" in records else np.ones(int(m.sum()))
    total = float(total_weight if total_weight is not None else (records["weight"].sum() if "weight" in records else n))
    incidents = np.bincount(lab, weights=w, minlength=k)
    area_km2 = shapely.area(polygons) / 1e6
    prof = pd.DataFrame(
        {
            "cluster_id": [f"HS{i + 1:03d}" for i in range(k)],
            "incidents": incidents,
            "records": np.bincount(lab, minlength=k),
            "area_km2": area_km2,
            "density_km2": np.divide(incidents, area_km2, out=np.zeros(k), where=area_km2 > 0),
            "share": incidents / total if total > 0 else np.nan,
        }
    )
    cx, cy = shapely.get_x(shapely.centroid(polygons)), shapely.get_y(shapely.centroid(polygons))
    prof["x_m"], prof["y_m"] = cx, cy
    if "category" in records:
        prof["top_categories"] = _top_categories(lab, records["category"].iloc[np.flatnonzero(m)].reset_index(drop=True), w, k, top, lang)
    # hour of day
    if "hour" in records:
        hour = pd.to_numeric(records["hour"], errors="coerce").to_numpy(dtype=float)[m]
        ok = np.isfinite(hour)
        H = np.zeros((k, 24))
        np.add.at(H, (lab[ok], hour[ok].astype(int)), w[ok])
        Hs = np.divide(H, H.sum(axis=1, keepdims=True), out=np.zeros_like(H), where=H.sum(axis=1, keepdims=True) > 0)
        for h in range(24):
            prof[f"hour_{h:02d}"] = Hs[:, h].round(4)
        night = np.r_[18:24, 0:6]
        prof["night_share"] = Hs[:, night].sum(axis=1).round(4)
        prof["peak_hours"] = _peak_text(Hs, [f"{h} h" for h in range(24)], top)
    # day of week
    if "date" in records:
        dates = pd.to_datetime(records["date"]).to_numpy()[m]
        okd = ~pd.isna(dates)
        dow = pd.DatetimeIndex(dates[okd]).day_of_week.to_numpy()
        D = np.zeros((k, 7))
        np.add.at(D, (lab[okd], dow), w[okd])
        Ds = np.divide(D, D.sum(axis=1, keepdims=True), out=np.zeros_like(D), where=D.sum(axis=1, keepdims=True) > 0)
        for j, name in enumerate(_DOW):
            prof[f"dow_{name}"] = Ds[:, j].round(4)
        prof["weekend_share"] = Ds[:, 5:].sum(axis=1).round(4)
        prof["peak_days"] = _peak_text(Ds, label("hotspots", "weekdays", lang).split(","), 2)
        all_dates = pd.to_datetime(records["date"]).dropna()
        if len(all_dates):
            end = all_dates.max()
            t = pd.DatetimeIndex(dates[okd])
            recent = np.asarray(t > end - pd.DateOffset(months=12))
            previous = np.asarray((t > end - pd.DateOffset(months=24)) & (t <= end - pd.DateOffset(months=12)))
            prof["last_12m"] = np.bincount(lab[okd][recent], weights=w[okd][recent], minlength=k)
            prof["previous_12m"] = np.bincount(lab[okd][previous], weights=w[okd][previous], minlength=k)
            prof["change_12m"] = prof["last_12m"] - prof["previous_12m"]
            first_last = pd.DataFrame({"c": lab[okd], "d": t}).groupby("c")["d"].agg(["min", "max"]).reindex(range(k))
            prof["first_date"] = first_last["min"].dt.date.astype("string").to_numpy()
            prof["last_date"] = first_last["max"].dt.date.astype("string").to_numpy()
    if harm is not None:
        hw = np.asarray(harm, dtype=float)[m]
        known = np.isfinite(hw)
        prof["harm"] = np.bincount(lab[known], weights=(w * hw)[known], minlength=k)
        prof["harm_known_share"] = np.divide(
            np.bincount(lab[known], weights=w[known], minlength=k), incidents, out=np.zeros(k), where=incidents > 0
        ).round(4)
    if context:
        tree = shapely.STRtree(polygons)
        for name, pts in context.items():
            P = _check_xy(pts)
            if len(P) == 0:
                prof[f"n_{name}"] = 0
                continue
            pi, gi = tree.query(shapely.points(P), predicate="within")
            prof[f"n_{name}"] = np.bincount(gi, minlength=k)
    if zones is not None:
        zgeom, znames = zones
        ztree = shapely.STRtree(np.asarray(zgeom, dtype=object))
        ci, zi = ztree.query(polygons, predicate="intersects")
        znames = np.asarray(znames, dtype=object)
        df = pd.DataFrame({"c": ci, "z": znames[zi].astype(str)}).drop_duplicates().sort_values(["c", "z"])
        joined = df.groupby("c")["z"].agg("; ".join)
        prof["zones"] = [str(joined.get(i, "")) for i in range(k)]
        prof["n_zones"] = df.groupby("c").size().reindex(range(k), fill_value=0).to_numpy()
    return prof


# --------------------------------------------------------------------------- complexity ranking


class ComplexityIndicator(Options):
    """One indicator of the complexity score: a column of the cluster profile."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    label: str | None = None
    weight: float = Field(default=1.0, ge=0)
    direction: Literal["higher_is_worse", "higher_is_better"] = "higher_is_worse"
    optional: bool = False

    @property
    def display(self) -> str:
        return self.label or self.name


class ComplexityConfig(Options):
    """The complexity ranking of clusters, configured like the index (``[index]``, ``[[indicators]]``).

    ``index.weighting`` may be ``explicit`` (each indicator's ``weight``) or ``equal``;
    indicators marked ``optional`` are left out (and reported) when the profile lacks the
    column or has no value for it, e.g. ``n_convivencia`` when no coexistence records were given.
    """

    index: IndexOptions = IndexOptions(normalization="minmax", weighting="explicit", tiers="quantiles", n_tiers=3)
    indicators: list[ComplexityIndicator] = Field(min_length=1)


#: The default complexity score: volume, concentration, seriousness, night-time activity and
#: the other sources' records inside (when given).
DEFAULT_COMPLEXITY = ComplexityConfig(
    indicators=[
        ComplexityIndicator(name="incidents", label="Incidentes", weight=2.0),
        ComplexityIndicator(name="density_km2", label="Densidad (por km²)", weight=1.0),
        ComplexityIndicator(name="harm", label="Daño (meses de prisión)", weight=2.0, optional=True),
        ComplexityIndicator(name="night_share", label="Proporción nocturna", weight=0.5, optional=True),
        ComplexityIndicator(name="change_12m", label="Cambio últimos 12 meses", weight=0.5, optional=True),
        ComplexityIndicator(name="n_convivencia", label="Registros de convivencia", weight=1.0, optional=True),
        ComplexityIndicator(name="n_quejas", label="Quejas y solicitudes", weight=1.0, optional=True),
    ]
)


def load_complexity_config(path: str | os.PathLike[str]) -> ComplexityConfig:
    """Read a complexity configuration from TOML (``[index]`` and ``[[indicators]]``, or under ``[complexity]``)."""
    p = Path(path)
    doc = io.read_toml(p)
    doc = doc.get("complexity", doc)
    try:
        return ComplexityConfig.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{p}: {where}: {first['msg']}") from None


def rank_complexity(profiles: pd.DataFrame, config: ComplexityConfig = DEFAULT_COMPLEXITY) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rank clusters by a composite complexity score built with :class:`~geoprio.index.estimator.PriorityIndex`.

    Returns the profiles with ``complexity`` (0–100), ``complexity_rank`` (1 = most
    complex), ``complexity_tier`` and ``drivers``, sorted by rank, and notes (indicators
    used and left out, weights).
    """
    opts = config.index
    if opts.weighting == "harm":
        raise ConfigError("complexity: index.weighting = 'harm' applies to crime indicators; use 'explicit' or 'equal'")
    used, skipped = [], {}
    for ind in config.indicators:
        if ind.name not in profiles.columns:
            if ind.optional:
                skipped[ind.name] = "no column"
                continue
            raise ConfigError(f"complexity indicator {ind.name!r} is not a cluster profile column; columns: {list(profiles.columns)}")
        col = pd.to_numeric(profiles[ind.name], errors="coerce")
        if col.isna().all():
            if ind.optional:
                skipped[ind.name] = "no value"
                continue
            raise ConfigError(f"complexity indicator {ind.name!r} has no value")
        used.append(ind)
    if not used:
        raise ConfigError("complexity: no indicator left to rank the clusters")
    out = profiles.copy()
    notes: dict[str, Any] = {"indicators": [i.name for i in used], "skipped": skipped}
    if len(profiles) < 2:
        out["complexity"] = 100.0 if len(profiles) else []
        out["complexity_rank"] = 1 if len(profiles) else []
        out["complexity_tier"] = label("hotspots", "tier_high", opts.lang) if len(profiles) else []
        out["drivers"] = ""
        return out, notes
    X = pd.DataFrame({i.name: pd.to_numeric(profiles[i.name], errors="coerce").fillna(0.0).to_numpy() for i in used})
    X.index = profiles["cluster_id"].to_numpy()
    weights: Any = "equal" if opts.weighting == "equal" else {i.name: i.weight for i in used}
    model = PriorityIndex(
        normalization=opts.normalization,
        log=opts.log,
        winsorize=opts.winsorize,
        weights=weights,
        directions={i.name: i.direction for i in used},
        aggregation=opts.aggregation,
        tiers=opts.tiers,
        n_tiers=opts.n_tiers,
        labels={i.name: i.display for i in used},
        lang=opts.lang,
    ).fit(X)
    ids = profiles["cluster_id"].to_numpy()
    out["complexity"] = model.index_.reindex(ids).round(2).to_numpy()
    out["complexity_rank"] = model.rank_.reindex(ids).to_numpy()
    out["complexity_tier"] = model.tier_.reindex(ids).to_numpy()
    out["drivers"] = model.drivers().reindex(ids).to_numpy()
    notes["weights"] = model.weights_.round(6).to_dict()
    out = out.sort_values(["complexity_rank", "cluster_id"], kind="stable").reset_index(drop=True)
    return out, notes
