"""Grid DBSCAN on weighted unique locations: equal to scikit-learn and to the KD-tree version, borders, snapping."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from geoprio.errors import InputError
from geoprio.hotspots.accel import HAVE_NUMBA
from geoprio.hotspots.clusters import DensityClusters, dbscan
from geoprio.hotspots.gridscan import unique_locations

needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="the grid engine is compiled with numba")


def city(seed: int, n_spots: int = 12, per: int = 400, noise: int = 3000, step: float = 5.0) -> np.ndarray:
    """Hot spots of varied spread over 6 × 6 km plus uniform noise, coordinates on a ``step`` m lattice (many duplicates)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(500, 5500, (n_spots, 2))
    sigma = rng.uniform(8, 60, n_spots)
    pts = np.concatenate([c + rng.normal(0, s, (per, 2)) for c, s in zip(centres, sigma, strict=True)])
    X = np.vstack([pts, rng.uniform(0, 6000, (noise, 2))])
    return np.round(X / step) * step


@needs_numba
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("eps", "min_samples", "weighted"), [(50.0, 15, False), (60.0, 40, True), (25.0, 6, False)])
def test_grid_engine_equals_scikit_learn_on_the_raw_points(seed, eps, min_samples, weighted):
    X = city(seed)  # eps and coordinates multiples of 5 m: many pairs at exactly eps
    assert len(np.unique(X, axis=0)) < 0.9 * len(X)  # the duplicates are collapsed
    w = np.random.default_rng(seed).integers(1, 4, len(X)).astype(float) if weighted else None
    ours = dbscan(X, eps_m=eps, min_samples=min_samples, sample_weight=w, engine="grid")
    sk = DBSCAN(eps=eps, min_samples=min_samples).fit(X, sample_weight=w)
    core = np.zeros(len(X), dtype=bool)
    core[sk.core_sample_indices_] = True
    assert np.array_equal(ours >= 0, sk.labels_ >= 0)  # same noise
    assert adjusted_rand_score(ours[core], sk.labels_[core]) == 1.0  # same clusters of core points
    kd = dbscan(X, eps_m=eps, min_samples=min_samples, sample_weight=w, engine="kdtree")
    assert np.array_equal(ours, kd)  # identical labels, borders included
    # border points: both labels are clusters with a core point within eps; where only one
    # cluster is within reach (DBSCAN's answer is unique), the labels are the same
    to_sk = dict(zip(ours[core], sk.labels_[core], strict=False))
    core_idx = np.flatnonzero(core)
    border = np.flatnonzero((ours >= 0) & ~core)
    reach = cKDTree(X[core_idx]).query_ball_point(X[border], eps)
    unique_reach = 0
    for i, near in zip(border, reach, strict=True):
        options = set(sk.labels_[core_idx[near]].tolist())
        assert to_sk[ours[i]] in options and sk.labels_[i] in options
        if len(options) == 1:
            unique_reach += 1
            assert to_sk[ours[i]] == sk.labels_[i]
    assert len(border) > 50 and unique_reach > 0.9 * len(border)


@needs_numba
def test_border_point_and_duplicates_by_hand():
    # cluster A: 3 duplicates at x = 0 and 10 at x = -50; cluster B: 3 at 110 and 10 at 160
    # (min_samples 12, eps 60). P at 52 reaches A's and B's 3-duplicate locations (52 and 58 m
    # away) but holds only 3 + 3 + 1 = 7: a border point of both, it joins the nearer (A).
    # Q at 200 reaches only B; the point at 400 is noise.
    X = np.array([[0.0, 0]] * 3 + [[-50.0, 0]] * 10 + [[110.0, 0]] * 3 + [[160.0, 0]] * 10 + [[52.0, 0], [200.0, 0], [400.0, 0]])
    labels = dbscan(X, eps_m=60, min_samples=12, engine="grid")
    assert labels.tolist() == [0] * 13 + [1] * 13 + [0, 1, -1]
    assert np.array_equal(labels, dbscan(X, eps_m=60, min_samples=12, engine="kdtree"))
    sk = DBSCAN(eps=60, min_samples=12).fit(X)
    assert len(sk.core_sample_indices_) == 26 and sk.labels_[-1] == -1 and sk.labels_[-2] == sk.labels_[20]
    # one point short of core: 3 duplicates and no neighbour within 60 m
    X2 = np.array([[0.0, 0]] * 3 + [[1000.0, 0]] * 4)
    assert dbscan(X2, eps_m=60, min_samples=4, engine="grid").tolist() == [-1, -1, -1, 0, 0, 0, 0]
    # exactly eps apart (3-4-5 triangle): neighbours, as in scikit-learn
    X3 = np.array([[0.0, 0], [0.0, 0], [3.0, 4.0], [3.0, 4.0]])
    assert dbscan(X3, eps_m=5, min_samples=4, engine="grid").tolist() == [0, 0, 0, 0]
    assert DBSCAN(eps=5, min_samples=4).fit(X3).labels_.tolist() == [0, 0, 0, 0]


def test_unique_locations_map_back_to_every_point():
    X = np.array([[5.0, 5], [0, 0], [5, 5], [300, 0], [0, 0], [5, 5]])
    U, w, inv, _key, _ny = unique_locations(X, np.array([1.0, 2, 3, 4, 5, 6]), cell_m=70.0)
    assert np.array_equal(U[inv], X)
    assert len(U) == 3 and w[inv[0]] == 1 + 3 + 6 and w[inv[1]] == 2 + 5 and w[inv[3]] == 4


@needs_numba
def test_snapping_to_a_metre_grid_agrees_closely():
    rng = np.random.default_rng(7)
    X = city(3, step=0.1) + rng.uniform(-0.05, 0.05, (len(city(3)), 2))
    exact = dbscan(X, eps_m=50, min_samples=15)
    snapped = dbscan(X, eps_m=50, min_samples=15, snap_m=1.0)
    assert adjusted_rand_score(exact, snapped) >= 0.98
    with pytest.raises(InputError, match="snap_m must be a positive number of metres"):
        dbscan(X, eps_m=50, min_samples=15, snap_m=0)
    with pytest.raises(InputError, match="DBSCAN engine must be"):
        dbscan(X, eps_m=50, min_samples=15, engine="ball")  # type: ignore[arg-type]


def test_progress_is_reported():
    X = city(4)
    calls: list[tuple[str, int, int]] = []
    DensityClusters(method="dbscan").fit(X, progress=lambda *a: calls.append(a))
    assert calls == [("dbscan", 0, 1), ("dbscan", 1, 1)]
