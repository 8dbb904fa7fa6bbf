"""Getis-Ord Gi*: weights, analytic z and p against esda, permutations, FDR, classes, errors."""

from __future__ import annotations

import itertools
import math

import esda
import libpysal
import numpy as np
import pytest
import shapely
from libpysal.graph import Graph

from geoprio.errors import InputError
from geoprio.hotspots.gistar import classify, distance_band_weights, fdr_adjust, gi_star, gi_star_matrix, knn_weights, make_weights
from geoprio.zones.layers import make_grid


def square_grid(nx: int, ny: int, size: float = 100.0) -> np.ndarray:
    gx, gy = np.meshgrid(np.arange(nx) * size, np.arange(ny) * size)
    return np.column_stack([gx.ravel(), gy.ravel()])


def counts(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.poisson(1.5, n).astype(float)
    y[: n // 10] += rng.poisson(6, n // 10)  # a hot corner
    return y


def test_hand_computed_line_of_four_cells():
    # cells at 0, 100, 200, 300 m; band 150 m: each cell with itself and its adjacent cells
    xy = np.array([[0.0, 0], [100, 0], [200, 0], [300, 0]])
    x = np.array([1.0, 2, 3, 6])
    r = gi_star(x, distance_band_weights(xy, distance_m=150))
    # cell 0: lag = 1 + 2 = 3, W = 2, mean 3, S = sqrt(50/4 - 9) = sqrt(3.5), n = 4
    z0 = (3 - 3 * 2) / (math.sqrt(3.5) * math.sqrt((4 * 2 - 4) / 3))
    # cell 2: lag = 2 + 3 + 6 = 11, W = 3
    z2 = (11 - 3 * 3) / (math.sqrt(3.5) * math.sqrt((4 * 3 - 9) / 3))
    assert r.z[0] == pytest.approx(z0, abs=1e-12)
    assert r.z[2] == pytest.approx(z2, abs=1e-12)
    assert r.p[0] == pytest.approx(math.erfc(abs(z0) / math.sqrt(2)), abs=1e-12)  # two-sided
    assert r.n_neighbors.tolist() == [1, 2, 2, 1]


def test_distance_band_equals_libpysal_and_z_p_equal_esda():
    xy = square_grid(30, 20)
    y = counts(len(xy))
    w = distance_band_weights(xy, distance_m=150)  # queen neighbourhood on 100 m squares
    lp = libpysal.weights.DistanceBand(xy, threshold=150, binary=True, silence_warnings=True)
    ref = lp.sparse.toarray()
    np.fill_diagonal(ref, 1.0)
    assert np.array_equal(w.toarray(), ref)
    ours = gi_star(y, w)
    theirs = esda.G_Local(y, lp, transform="B", star=True, permutations=0)
    assert np.abs(ours.z - theirs.Zs).max() < 1e-8
    assert np.abs(ours.p_one_sided - theirs.p_norm).max() < 1e-8
    assert np.abs(ours.p - 2 * theirs.p_norm).max() < 1e-8


def test_knn_weights_on_a_hex_grid_equal_esda():
    area = shapely.Polygon([(0, 0), (3000, 0), (3000, 2000), (0, 2000)])
    import geopandas as gpd

    grid = make_grid(gpd.GeoDataFrame(geometry=[area], crs="EPSG:9377"), cell_size_m=150, shape="hex", population="none")
    c = grid.metric_geometry.centroid
    xy = np.column_stack([c.x, c.y])
    y = counts(len(xy), seed=7)
    w = knn_weights(xy, k=6)
    assert (np.diff(w.indptr) == 7).all()  # 6 neighbours + itself
    ours = gi_star(y, w)
    theirs = esda.G_Local(y, Graph.from_sparse(w.tocsr()), transform="B", star=True, permutations=0)
    assert np.abs(ours.z - theirs.Zs).max() < 1e-8
    assert np.abs(ours.p_one_sided - theirs.p_norm).max() < 1e-8


def test_knn_neighbours_equal_libpysal_on_random_points():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 5000, (300, 2))
    w = knn_weights(xy, k=5)
    lp = libpysal.weights.KNN(xy, k=5)
    for i in range(len(xy)):
        row = set(w.indices[w.indptr[i] : w.indptr[i + 1]]) - {i}
        assert row == set(lp.neighbors[i])


def test_matrix_version_equals_column_by_column():
    xy = square_grid(12, 10)
    w = make_weights(xy, kind="distance", distance_m=150)
    Y = np.column_stack([counts(len(xy), s) for s in range(4)])
    Z = gi_star_matrix(Y, w)
    for j in range(4):
        assert np.allclose(Z[:, j], gi_star(Y[:, j], w).z, atol=1e-12)
    Y[:, 2] = 3.0  # a constant period has no Gi*
    assert np.isnan(gi_star_matrix(Y, w)[:, 2]).all()


def test_permutation_p_matches_exact_enumeration():
    # 7 cells on a line, band 150 m: the middle cell's conditional permutation distribution
    # draws its 2 neighbours among the other 6 values; enumerate it exactly
    xy = np.column_stack([np.arange(7) * 100.0, np.zeros(7)])
    x = np.array([0.0, 1, 5, 7, 6, 2, 0.5])
    w = distance_band_weights(xy, distance_m=150)
    i = 3
    others = np.delete(x, i)
    sums = np.array([a + b for a, b in itertools.combinations(others, 2)]) + x[i]
    observed = x[2] + x[3] + x[4]
    exact = min((sums >= observed).mean(), (sums <= observed).mean())
    r = gi_star(x, w, permutations=20_000, random_state=5, fdr=False)
    # Monte Carlo standard error at p ~ 0.07 with 20,000 draws is about 0.002
    assert r.p_sim[i] == pytest.approx(exact, abs=0.01)
    assert r.p_perm[i] == pytest.approx(min(1.0, 2 * r.p_sim[i]))


# esda's G_Local with permutations warns about its future default and uses numpy.row_stack
@pytest.mark.filterwarnings("ignore:The alternative hypothesis for conditional randomization:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")
def test_permutations_are_seeded_and_agree_with_esda_without_ties():
    xy = square_grid(10, 8)
    y = np.random.default_rng(2).gamma(2.0, 1.0, len(xy))  # continuous: no ties
    y[:8] += 4
    w = distance_band_weights(xy, distance_m=150)
    a = gi_star(y, w, permutations=999, random_state=11)
    b = gi_star(y, w, permutations=999, random_state=11)
    c = gi_star(y, w, permutations=999, random_state=12)
    assert np.array_equal(a.p_sim, b.p_sim)
    assert not np.array_equal(a.p_sim, c.p_sim)
    big = gi_star(y, w, permutations=9999, random_state=3)
    lp = libpysal.weights.DistanceBand(xy, threshold=150, binary=True, silence_warnings=True)
    ref = esda.G_Local(y, lp, transform="B", star=True, permutations=9999, seed=4)
    # two Monte Carlo estimates of the same pseudo p-values: standard error below 0.007 each
    assert np.abs(big.p_sim - ref.p_sim).max() < 0.03


# esda's G_Local with permutations warns about its future default and uses numpy.row_stack
@pytest.mark.filterwarnings("ignore:The alternative hypothesis for conditional randomization:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")
def test_zero_neighbourhood_is_not_a_cold_spot_unlike_esdas_fold():
    xy = square_grid(10, 10)
    y = np.zeros(len(xy))
    y[::7] = 1.0
    y[[0, 1, 10, 11]] = 0.0  # cell 0 and its 3 neighbours are all zero
    w = distance_band_weights(xy, distance_m=150)
    r = gi_star(y, w, permutations=999, random_state=1, fdr=False)
    share_zero = (y == 0).mean()
    assert r.p_sim[0] > 0.3 and r.bin[0] == 0  # most draws are all zero too: nothing to see
    lp = libpysal.weights.DistanceBand(xy, threshold=150, binary=True, silence_warnings=True)
    ref = esda.G_Local(y, lp, transform="B", star=True, permutations=999, seed=1)
    assert ref.p_sim[0] == pytest.approx(1 / 1000)  # esda's fold counts ties on one side only
    assert share_zero > 0.8


def test_fdr_and_classes_by_hand():
    assert fdr_adjust(np.array([0.01, 0.02, 0.03, 0.5])) == pytest.approx([0.04, 0.04, 0.04, 0.5])
    q = fdr_adjust(np.array([0.001, np.nan, 0.2]))
    assert q[0] == pytest.approx(0.002) and np.isnan(q[1]) and q[2] == pytest.approx(0.2)
    z = np.array([3.0, 2.0, 1.7, 0.5, -2.0, -3.0, np.nan])
    p = np.array([0.005, 0.04, 0.09, 0.6, 0.04, 0.001, np.nan])
    assert classify(z, p).tolist() == [3, 2, 1, 0, -2, -3, 0]


def test_fdr_changes_the_classes():
    xy = square_grid(30, 20)
    y = counts(len(xy))
    w = distance_band_weights(xy, distance_m=150)
    raw = gi_star(y, w, fdr=False)
    adj = gi_star(y, w, fdr=True)
    assert np.array_equal(raw.q, raw.p)
    assert (adj.q >= adj.p - 1e-15).all()
    assert (np.abs(adj.bin) <= np.abs(raw.bin)).all() and (np.abs(adj.bin) < np.abs(raw.bin)).any()


def test_errors_name_the_parameter():
    xy = square_grid(4, 4)
    with pytest.raises(InputError, match="distance_m must be a positive number of metres, got -100"):
        distance_band_weights(xy, distance_m=-100)
    with pytest.raises(InputError, match="k = 20 nearest neighbours needs at least 21 cells"):
        knn_weights(xy, k=20)
    w = distance_band_weights(xy, distance_m=150)
    with pytest.raises(InputError, match="all 16 cells have the same value"):
        gi_star(np.ones(16), w)
    with pytest.raises(InputError, match="permutations must be a non-negative integer"):
        gi_star(np.arange(16.0), w, permutations=-5)
    with pytest.raises(InputError, match="weights have shape"):
        gi_star(np.arange(10.0), w)
    no_self = distance_band_weights(xy, distance_m=150, self_weight=0.0)
    no_self.eliminate_zeros()
    with pytest.raises(InputError, match="must include each cell itself"):
        gi_star(np.arange(16.0), no_self)
    with pytest.raises(InputError, match="weights must be 'distance' or 'knn'"):
        make_weights(xy, kind="queen")  # type: ignore[arg-type]
