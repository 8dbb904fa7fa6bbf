"""HDBSCAN's spanning tree from a k-nearest-neighbour graph (engine "knn") against the exact tree.

The reference is the ``hdbscan`` package with ``approx_min_span_tree=False`` (its exact
dual-tree Borůvka). A spanning tree whose total weight equals the minimum is a minimum
spanning tree, so the weights are compared (to 1e-12, relative); labels are compared by
adjusted Rand index, since minimum trees differ in the order of tied merges.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.metrics import adjusted_rand_score

from geoprio.errors import InputError
from geoprio.hotspots.clusters import DensityClusters
from geoprio.hotspots.clusters_mst import knn_mutual_reachability_tree
from tests.hotspots.test_clusters import planted

hdbscan = pytest.importorskip("hdbscan")


def _exact(X: np.ndarray, min_samples: int, min_cluster_size: int) -> tuple[float, np.ndarray]:
    """Total weight of the exact minimum tree and the labels (membership ≥ 0.1) of the hdbscan package."""
    m = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        cluster_selection_method="leaf",
        approx_min_span_tree=False,
        gen_min_span_tree=True,
    ).fit(X)
    weight = float(m.minimum_spanning_tree_.to_numpy()[:, 2].sum())
    return weight, np.where(m.probabilities_ >= 0.1, m.labels_, -1)


def _check_tree(X: np.ndarray, min_samples: int, exact_weight: float, **kwargs: int) -> np.ndarray:
    n = len(X)
    edges, core = knn_mutual_reachability_tree(X, min_samples, **kwargs)
    assert edges.shape == (n - 1, 3)
    a, b = edges[:, 0].astype(int), edges[:, 1].astype(int)
    ncomp, _ = connected_components(coo_array((np.ones(n - 1), (a, b)), shape=(n, n)), directed=False)
    assert ncomp == 1  # spanning
    assert np.all(np.diff(edges[:, 2]) >= 0)  # sorted by weight
    # each weight is the mutual reachability distance of its ends
    mrd = np.maximum(np.maximum(core[a], core[b]), np.hypot(*(X[a] - X[b]).T))
    np.testing.assert_array_equal(edges[:, 2], mrd)
    # core distances are the raw points' (a (min_samples + 1)-nearest query counting the point)
    np.testing.assert_allclose(core, cKDTree(X).query(X, k=min_samples + 1)[0][:, -1], rtol=0, atol=1e-9)
    assert edges[:, 2].sum() == pytest.approx(exact_weight, rel=1e-12)  # a minimum tree
    return edges


def test_tree_is_minimum_on_planted_points_with_duplicates():
    X, truth = planted(4, per=200, noise=300)
    X = np.round(X / 5) * 5  # 5 m grid: 1,719 locations for 1,900 points, up to 4 per location
    weight, labels = _exact(X, 10, 50)
    _check_tree(X, 10, weight)
    model = DensityClusters(method="hdbscan", engine="knn", min_cluster_size=50).fit(X)
    assert model.engine_ == "knn" and model.params_["engine"] == "knn"
    assert adjusted_rand_score(truth, model.labels_) >= 0.9
    assert adjusted_rand_score(labels, model.labels_) >= 0.99  # measured 1.0


def test_heavy_duplicates_have_core_distance_zero():
    # locations holding more than min_samples points: core distance 0, their duplicates join at 0
    rng = np.random.default_rng(3)
    sites = rng.uniform(0, 2000, (60, 2)).round()
    X = np.repeat(sites, rng.integers(1, 25, len(sites)), axis=0)
    weight, _labels = _exact(X, 10, 20)
    edges = _check_tree(X, 10, weight)
    _u, count = np.unique(X, axis=0, return_counts=True)
    assert (edges[:, 2] == 0).sum() == (count[count >= 11] - 1).sum() > 0


def test_far_groups_are_bridged():
    # four groups 50 km apart: with 6 neighbours the k-nearest graph has four components
    rng = np.random.default_rng(5)
    X = np.vstack([c + rng.normal(0, 30, (40, 2)) for c in ([0, 0], [50_000, 0], [0, 50_000], [80_000, 90_000])])
    weight, _ = _exact(X, 5, 10)
    edges = _check_tree(X, 5, weight, n_neighbors=6)
    assert np.sort(edges[:, 2])[-3:].min() > 40_000  # the three bridges


def test_without_numba_the_same_tree_weight(monkeypatch):
    X, _ = planted(6, per=150, noise=200)
    weight, _ = _exact(X, 10, 30)
    monkeypatch.setenv("GEOPRIO_NO_NUMBA", "1")
    _check_tree(X, 10, weight)


def test_errors():
    with pytest.raises(InputError, match="a spanning tree needs at least 2 points, got 1"):
        knn_mutual_reachability_tree(np.zeros((1, 2)), 1)
    with pytest.raises(InputError, match=r"min_samples must be in \[1, 4\] for 5 points, got 5"):
        knn_mutual_reachability_tree(np.zeros((5, 2)), 5)
    with pytest.raises(InputError, match=r"X must hold finite coordinates of shape \(n, 2\)"):
        knn_mutual_reachability_tree(np.array([[0.0, 1.0], [np.nan, 2.0]]), 1)


@pytest.fixture(scope="module")
def chicago(shared_data) -> np.ndarray:
    """20,000 aggravated assaults of Chicago (block-level coordinates: many exact duplicates), metres."""
    import pyproj

    df = pd.read_csv(shared_data / "other_cities" / "chicago_aggravated_assaults.csv.gz", nrows=20_000)
    df = df.dropna(subset=["longitude", "latitude"])
    x, y = pyproj.Transformer.from_crs(4326, 26916, always_xy=True).transform(df["longitude"].to_numpy(), df["latitude"].to_numpy())
    return np.column_stack([x, y])


def test_real_data_tree_is_minimum_and_clusters_agree(chicago):
    X = chicago
    assert len(np.unique(X, axis=0)) < 0.75 * len(X)
    mcs = max(10, int(np.ceil(0.002 * len(X))))
    weight, labels = _exact(X, 10, mcs)
    _check_tree(X, 10, weight)
    model = DensityClusters(method="hdbscan").fit(X)  # engine "auto" picks "knn"
    assert model.engine_ == "knn" and model.params_["min_cluster_size"] == mcs
    assert adjusted_rand_score(labels, model.labels_) >= 0.98  # measured 0.987 (tied merges ordered differently)


def test_selection_without_fast_hdbscan_is_the_hdbscan_packages(monkeypatch):
    # fast_hdbscan selects the clusters when installed; the hdbscan package's selection otherwise
    pytest.importorskip("fast_hdbscan")
    X, truth = planted(7, per=200, noise=300)
    fast = DensityClusters(method="hdbscan", engine="knn", min_cluster_size=50).fit(X)
    monkeypatch.setitem(sys.modules, "fast_hdbscan", None)
    monkeypatch.setitem(sys.modules, "fast_hdbscan.hdbscan", None)
    pkg = DensityClusters(method="hdbscan", engine="knn", min_cluster_size=50).fit(X)
    assert adjusted_rand_score(fast.labels_, pkg.labels_) == 1.0
    assert adjusted_rand_score(truth, pkg.labels_) >= 0.9
