"""Emerging hot spots: Mann–Kendall against scipy and by hand, the pattern rules, a planted trend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from geoprio.errors import InputError
from geoprio.hotspots.emerging import classify_patterns, emerging_hotspots, mann_kendall, pattern_labels
from geoprio.hotspots.gistar import distance_band_weights


def test_mann_kendall_by_hand_and_against_scipy():
    S, var, z, p, tau = mann_kendall(np.array([1.0, 2, 3, 5, 4]))
    # pairs: 10, of which one decreasing (5 > 4) → S = 9 - 1 = 8; var = 5·4·15/18
    assert S[0] == 8 and var[0] == pytest.approx(5 * 4 * 15 / 18)
    assert z[0] == pytest.approx((8 - 1) / math.sqrt(5 * 4 * 15 / 18))
    assert tau[0] == pytest.approx(0.8)
    Y = np.random.default_rng(0).integers(0, 4, (40, 12)).astype(float)  # many ties
    S, var, z, p, tau = mann_kendall(Y)
    for i in range(40):
        ref = stats.kendalltau(np.arange(12), Y[i], method="asymptotic")
        # scipy's asymptotic test is Mann–Kendall without the continuity correction
        assert 2 * stats.norm.sf(abs(S[i] / math.sqrt(var[i]))) == pytest.approx(ref.pvalue, rel=1e-9)
    flat = mann_kendall(np.ones((1, 5)))
    assert flat[2][0] == 0 and flat[3][0] == 1


def test_pattern_rules_by_hand():
    T, F = True, False
    hot = np.array(
        [
            [F, F, F, F, T],  # new
            [F, F, F, T, T],  # consecutive
            [T, T, T, T, T],  # intensifying (trend up)
            [T, T, T, T, T],  # persistent (no trend)
            [T, T, T, T, T],  # diminishing (trend down)
            [T, F, T, F, T],  # sporadic
            [F, F, T, F, T],  # oscillating (cold in bin 1)
            [F, F, F, F, F],  # none
            [F, F, F, T, F],  # none: the final bin is not hot and < 90 %
        ]
    )
    cold = np.zeros_like(hot)
    cold[6, 1] = True
    S = np.array([0, 0, 8, 0, -8, 0, 0, 0, 0])
    p = np.array([1, 1, 0.01, 0.5, 0.01, 1, 1, 1, 1])
    codes = classify_patterns(hot, cold, S, p)
    assert codes.tolist() == [1, 2, 3, 4, 5, 6, 7, 0, 0]
    # the cold mirror: a new cold spot
    assert classify_patterns(cold[:1] * 0 != 0, np.array([[F, F, F, F, T]]), np.array([0]), np.array([1.0])).tolist() == [-1]
    # historical: hot in 10 of 11 bins but not the last
    h = np.ones((1, 11), dtype=bool)
    h[0, -1] = False
    assert classify_patterns(h, np.zeros_like(h), np.array([0]), np.array([1.0])).tolist() == [8]
    assert pattern_labels(np.array([3, -1, 0]), "es").tolist() == ["punto caliente en intensificación", "nuevo punto frío", "sin patrón"]
    assert pattern_labels(np.array([4]), "en").tolist() == ["persistent hot spot"]


def test_planted_new_and_persistent_hot_spots():
    gx, gy = np.meshgrid(np.arange(20) * 100.0, np.arange(20) * 100.0)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    rng = np.random.default_rng(4)
    T = 8
    C = rng.poisson(1.0, (len(xy), T)).astype(float)
    block = lambda x0, y0: np.flatnonzero((np.abs(xy[:, 0] - x0) <= 100) & (np.abs(xy[:, 1] - y0) <= 100))  # noqa: E731
    persistent = block(300, 300)
    new = block(1500, 1500)
    C[persistent] += 12  # hot in every bin
    C[new, -1] += 15  # hot in the last bin only
    em = emerging_hotspots(C, distance_band_weights(xy, distance_m=150), bins=[str(2015 + i) for i in range(T)])
    centre_p = persistent[4]  # the middle of the 3 × 3 block
    centre_n = new[4]
    assert em.pattern[centre_p] == 4 and em.hot_bins[centre_p] == T
    assert em.pattern[centre_n] == 1 and em.hot_bins[centre_n] == 1
    assert em.z.shape == (len(xy), T) and em.bins[0] == "2015"


def test_errors():
    with pytest.raises(InputError, match="at least 3 time bins"):
        emerging_hotspots(np.ones((4, 2)), distance_band_weights(np.arange(8.0).reshape(4, 2), distance_m=5))
    with pytest.raises(InputError, match="alpha must be in"):
        emerging_hotspots(np.ones((4, 3)), distance_band_weights(np.arange(8.0).reshape(4, 2), distance_m=5), alpha=1.5)
    with pytest.raises(InputError, match="both a hot and a cold"):
        classify_patterns(np.ones((1, 3), bool), np.ones((1, 3), bool), np.zeros(1), np.ones(1))
