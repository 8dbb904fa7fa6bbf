"""Permutation Gi*: compiled and numpy draws identical, agreement with esda within Monte Carlo error, progress."""

from __future__ import annotations

from collections import Counter

import esda
import libpysal
import numpy as np
import pytest
from scipy import stats

from geoprio.hotspots.accel import HAVE_NUMBA
from geoprio.hotspots.gistar import _neighbour_table, distance_band_weights, gi_star
from geoprio.hotspots.permutation import permutation_counts, shared_draws


def square_grid(nx: int, ny: int, size: float = 100.0) -> np.ndarray:
    gx, gy = np.meshgrid(np.arange(nx) * size, np.arange(ny) * size)
    return np.column_stack([gx.ravel(), gy.ravel()])


def city_values(xy: np.ndarray, seed: int = 2) -> np.ndarray:
    """Continuous values (no ties) with a hot and a cold region, like harm-weighted counts."""
    rng = np.random.default_rng(seed)
    y = rng.gamma(2.0, 1.0, len(xy))
    hot = np.hypot(xy[:, 0] - 800, xy[:, 1] - 900) < 450
    cold = np.hypot(xy[:, 0] - 3000, xy[:, 1] - 2200) < 500
    y[hot] += rng.gamma(3.0, 1.0, hot.sum())
    y[cold] *= 0.2
    return y


def _counts(engine: str, distance_m: float, n_side: int = 14, unequal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    xy = square_grid(n_side, n_side)
    x = city_values(xy * 3)
    w = distance_band_weights(xy, distance_m=distance_m)
    if unequal:  # inverse-distance-like weights, diagonal kept at 1
        w = w.tocoo()
        w.data = np.where(w.row == w.col, 1.0, 1.0 + np.random.default_rng(3).uniform(0, 2, len(w.data)))
        w = w.tocsr()
    idx, wt, self_w = _neighbour_table(w)
    observed = np.asarray(w @ x).ravel()
    card = (idx >= 0).sum(axis=1)
    return permutation_counts(x, wt, self_w, card, observed, tol=1e-9, permutations=199, seed=12345, engine=engine)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed: only the numpy version runs")
@pytest.mark.parametrize(("distance_m", "unequal"), [(150.0, False), (450.0, False), (150.0, True), (450.0, True)])
def test_compiled_and_numpy_draws_are_identical(distance_m, unequal):
    a = _counts("numba", distance_m, unequal=unequal)
    b = _counts("numpy", distance_m, unequal=unequal)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert (a[0] + a[1] >= 199).all()  # every draw is at least or at most the observed lag


def test_shared_draws_give_each_cell_a_uniform_sample_of_the_others():
    # 6 cells, cell 2 with 2 neighbours: over many permutations every unordered pair of the
    # other 5 cells is drawn equally often (10 pairs), and cell 2 itself never
    n, k, P = 6, 2, 20_000
    R = shared_draws(n, k, P, seed=9)
    assert R.shape == (P, k + 1) and all(len(set(r)) == k + 1 for r in R[:100])
    picks = [tuple(sorted([c for c in r if c != 2][:k])) for r in R]
    assert all(2 not in p for p in picks)
    freq = np.array(list(Counter(picks).values())) / P
    assert len(freq) == 10 and np.abs(freq - 0.1).max() < 0.01  # binomial s.e. 0.002


def test_same_seed_same_p_values_with_or_without_numba(monkeypatch):
    xy = square_grid(9, 7)
    y = city_values(xy * 5, seed=4)
    w = distance_band_weights(xy, distance_m=150)
    a = gi_star(y, w, permutations=99, random_state=8)
    monkeypatch.setenv("GEOPRIO_NO_NUMBA", "1")
    b = gi_star(y, w, permutations=99, random_state=8)
    assert np.array_equal(a.p_sim, b.p_sim)


def _below(p_true: np.ndarray, alpha: float, permutations: int) -> np.ndarray:
    """P((X + 1) / (P + 1) < alpha) for X ~ Binomial(P, p_true): the chance a pseudo p-value falls under alpha."""
    m = np.ceil(alpha * (permutations + 1) - 1) - 1  # largest count with (count + 1) / (P + 1) < alpha
    return stats.binom.cdf(m, permutations, np.clip(p_true, 0, 1))


# esda's G_Local with permutations warns about its future default and uses numpy.row_stack
@pytest.mark.filterwarnings("ignore:The alternative hypothesis for conditional randomization:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")
def test_pseudo_p_values_and_classes_agree_with_esda_within_monte_carlo_error():
    xy = square_grid(40, 30)  # 1,200 cells of 100 m, queen neighbourhoods
    y = city_values(xy)
    P = 999
    w = distance_band_weights(xy, distance_m=150)
    ours = gi_star(y, w, permutations=P, random_state=21, fdr=False)
    lp = libpysal.weights.DistanceBand(xy, threshold=150, binary=True, silence_warnings=True)
    ref = esda.G_Local(y, lp, transform="B", star=True, permutations=P, seed=5, n_jobs=1)
    assert np.abs(ours.z - ref.Zs).max() < 1e-8
    # each pseudo p-value is (Binomial(P, p) + 1) / (P + 1) for the cell's true p: the two
    # independent estimates differ by at most 5 standard errors (plus the +1 offsets)
    p_bar = (ours.p_sim + ref.p_sim) / 2
    bound = 5 * np.sqrt(2 * p_bar * (1 - p_bar) / (P + 1)) + 2 / (P + 1)
    diff = np.abs(ours.p_sim - ref.p_sim)
    assert (diff <= bound).all(), f"cell {np.argmax(diff - bound)}: |Δp| {diff.max():.4f}"
    assert 0.001 < np.median(diff) < 0.02  # two Monte Carlo estimates, not one copied
    # hot/cold at 95 % (two-sided, no FDR): both estimates fall on different sides of the
    # threshold about as often as their binomial spread predicts, no more
    alpha = 0.025  # one-sided p_sim
    a, b = ours.p_sim < alpha, ref.p_sim < alpha
    pa = pb = _below(p_bar, alpha, P)
    expected = float((pa * (1 - pb) + (1 - pa) * pb).sum())
    disagree = int((a != b).sum())
    assert disagree <= expected + 4 * np.sqrt(expected) + 2, (disagree, expected)
    assert a.sum() > 100 and (a & (ours.z < 0)).sum() > 20  # there are hot and cold cells to compare
    ours_class = np.sign(ours.z) * a
    ref_class = np.sign(ref.Zs) * b
    assert (ours_class == ref_class).mean() >= 0.97


def test_progress_callback_reaches_the_total():
    xy = square_grid(100, 50)
    y = city_values(xy * 0.7)
    w = distance_band_weights(xy, distance_m=150)
    calls: list[tuple[str, int, int]] = []
    gi_star(y, w, permutations=19, random_state=1, progress=lambda step, done, total: calls.append((step, done, total)))
    assert calls[0] == ("gistar_permutations", 0, 5000) and calls[-1] == ("gistar_permutations", 5000, 5000)
    done = [c[1] for c in calls]
    assert done == sorted(done) and len(calls) > 2
