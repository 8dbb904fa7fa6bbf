"""The index core against hand-computed values, and its properties."""

from __future__ import annotations

import math

import mapclassify
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geoprio.errors import ConfigError, InputError
from geoprio.index.estimator import PriorityIndex, aggregate, normalize, tier_labels, transform

X = pd.DataFrame({"a": [0.0, 5.0, 10.0], "b": [4.0, 2.0, 0.0]}, index=["A", "B", "C"])
W = {"a": 3.0, "b": 1.0}  # → 0.75 / 0.25


def fit(**kw):
    return PriorityIndex(weights=W, **kw).fit(X)


# ------------------------------------------------------------------ normalizations, by hand


def test_minmax_by_hand():
    assert normalize(X.to_numpy(), "minmax").tolist() == [[0, 1], [0.5, 0.5], [1, 0]]


def test_zscore_by_hand():
    z = normalize(X.to_numpy(), "zscore")
    # a: mean 5, population sd sqrt(50/3); b: mean 2, sd sqrt(8/3)
    assert z[:, 0] == pytest.approx([-5 / math.sqrt(50 / 3), 0, 5 / math.sqrt(50 / 3)], abs=1e-12)
    assert z[:, 1] == pytest.approx([2 / math.sqrt(8 / 3), 0, -2 / math.sqrt(8 / 3)], abs=1e-12)


def test_rank_by_hand_with_ties():
    r = normalize(np.array([[0.0], [1.0], [1.0], [10.0]]), "rank")
    # average ranks 1, 2.5, 2.5, 4 → (r − 1) / 3
    assert r[:, 0] == pytest.approx([0, 0.5, 0.5, 1])


def test_constant_indicator_normalizes_to_zero():
    C = np.array([[3.0, 1.0], [3.0, 2.0]])
    for m in ("minmax", "zscore", "rank"):
        assert (normalize(C, m)[:, 0] == 0).all()


def test_log_and_winsorize_by_hand():
    v = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]])
    w = transform(v, winsorize=(0.0, 0.75))  # 75th percentile (linear) of 0,1,2,3,100 is 3
    assert w[:, 0].tolist() == [0, 1, 2, 3, 3]
    assert transform(v, log=True)[:, 0] == pytest.approx(np.log1p(v[:, 0]))
    with pytest.raises(ConfigError, match="non-negative"):
        transform(np.array([[-1.0]]), log=True)
    with pytest.raises(ConfigError, match="winsorize"):
        transform(v, winsorize=(0.9, 0.1))


# ------------------------------------------------------------------ aggregation, by hand


def test_arithmetic_minmax_by_hand():
    m = fit()
    assert m.weights_.tolist() == [0.75, 0.25]
    assert m.index_.tolist() == pytest.approx([25.0, 50.0, 75.0])
    assert m.rank_.tolist() == [3, 2, 1]
    assert m.contributions_.loc["A"].tolist() == pytest.approx([0.0, 25.0])
    assert m.contributions_.loc["C"].tolist() == pytest.approx([75.0, 0.0])


def test_arithmetic_zscore_rescaled_with_contributions_relative_to_lowest_zone():
    m = fit(normalization="zscore")
    assert m.index_.tolist() == pytest.approx([0.0, 50.0, 100.0])
    # C vs A: a adds 100·0.75·(2·1.2247)/1.2247 = 150, b takes 100·0.25·2 = 50 away
    assert m.contributions_.loc["C"].tolist() == pytest.approx([150.0, -50.0])
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-9)


def test_geometric_by_hand():
    m = fit(aggregation="geometric")
    # values rescaled to 1 + 99 n; A: 1^.75·100^.25 = 3.1623; B: 50.5; C: 100^.75 = 31.623
    expected = [(100**0.25 - 1) / 99 * 100, 50.0, (100**0.75 - 1) / 99 * 100]
    assert m.index_.tolist() == pytest.approx(expected)
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-9)
    # less compensation than the arithmetic mean: the unbalanced zone C loses ground
    assert m.index_["C"] < fit().index_["C"]


def test_rank_normalization_index():
    Xr = pd.DataFrame({"a": [0.0, 1.0, 10.0]}, index=list("ABC"))
    assert PriorityIndex(normalization="rank").fit(Xr).index_.tolist() == pytest.approx([0, 50, 100])
    assert PriorityIndex(normalization="minmax").fit(Xr).index_.tolist() == pytest.approx([0, 10, 100])


def test_higher_is_better_reverses_an_indicator():
    m = PriorityIndex(weights=W, directions={"b": "higher_is_better"}).fit(X)
    # b reversed: [0, .5, 1] → A: 0; B: .5; C: 1
    assert m.index_.tolist() == pytest.approx([0.0, 50.0, 100.0])


def test_equal_weights_and_explicit_weights_must_match_indicators():
    assert PriorityIndex().fit(X).weights_.tolist() == [0.5, 0.5]
    with pytest.raises(ConfigError, match="missing \\['b'\\]"):
        PriorityIndex(weights={"a": 1}).fit(X)
    with pytest.raises(ConfigError, match="non-negative"):
        PriorityIndex(weights={"a": -1, "b": 1}).fit(X)


def test_zones_with_missing_values_are_excluded_not_ranked():
    Xn = X.copy()
    Xn.loc["B", "a"] = np.nan
    m = PriorityIndex(weights=W).fit(Xn)
    assert list(m.index_.index) == ["A", "C"]
    assert "a" in m.excluded_["B"]
    t = m.table()
    assert t.loc["B", "rank"] is pd.NA and t.index[-1] == "B"


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ConfigError, match="geometric aggregation needs a bounded"):
        PriorityIndex(normalization="zscore", aggregation="geometric").fit(X)
    with pytest.raises(ConfigError, match="unknown normalization"):
        PriorityIndex(normalization="maxabs").fit(X)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="infinite"):
        PriorityIndex().fit(X.assign(a=[1, np.inf, 2]))
    with pytest.raises(InputError, match="not numeric"):
        PriorityIndex().fit(X.assign(a=["x", "y", "z"]))
    with pytest.raises(InputError, match="at least 2 zones"):
        PriorityIndex().fit(X.iloc[:1])
    with pytest.raises(RuntimeError, match="not fitted"):
        PriorityIndex().table()


# ------------------------------------------------------------------ tiers and explanation


def test_tiers_follow_mapclassify():
    vals = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6, 7, 8, 30]}, index=[f"z{i}" for i in range(9)])
    for method, cls in (("quantiles", mapclassify.Quantiles), ("natural_breaks", mapclassify.FisherJenks)):
        m = PriorityIndex(tiers=method).fit(vals)
        yb = cls(m.index_.to_numpy(), k=3).yb
        assert m.tier_.tolist() == [tier_labels(3)[b] for b in yb]
    q = PriorityIndex(tiers="quantiles").fit(vals).tier_
    assert q.value_counts().to_dict() == {"baja": 3, "media": 3, "alta": 3}
    nb = PriorityIndex(tiers="natural_breaks").fit(vals).tier_
    assert nb["z8"] == "alta" and (nb.drop("z8") != "alta").all()  # the outlier alone at the top
    assert PriorityIndex(lang="en").fit(vals).tier_.iloc[-1] == "high"


def test_drivers_explain_each_zone():
    m = PriorityIndex(weights=W, labels={"a": "Hurtos", "b": "Riñas"}).fit(X)
    d = m.drivers()
    assert d["C"] == "Hurtos 100 %"
    assert d["B"] == "Hurtos 75 %; Riñas 25 %"
    t = m.table()
    assert list(t.index) == ["C", "B", "A"]
    assert {"a", "a__norm", "a__contrib", "index", "rank", "tier", "drivers"} <= set(t.columns)


# ------------------------------------------------------------------ Monte Carlo


def test_monte_carlo_without_noise_reproduces_the_nominal_rank():
    m = fit()
    s = m.robustness(n_draws=50, weight_spread=0.0, normalizations=["minmax"], top_k=1, random_state=0)
    assert (s["rank_p05"] == s["rank_nominal"]).all() and (s["rank_p95"] == s["rank_nominal"]).all()
    assert s["p_top_1"].tolist() == [0.0, 0.0, 1.0]


def test_monte_carlo_is_seeded_and_intervals_bracket_the_median():
    rng = np.random.default_rng(1)
    Xr = pd.DataFrame(rng.gamma(2, 10, size=(120, 6)), columns=list("abcdef"), index=[f"z{i}" for i in range(120)])
    m = PriorityIndex().fit(Xr)
    s1 = m.robustness(n_draws=300, random_state=7, aggregations=["arithmetic", "geometric"])
    s2 = m.robustness(n_draws=300, random_state=7, aggregations=["arithmetic", "geometric"])
    pd.testing.assert_frame_equal(s1, s2)
    assert ((s1["rank_p05"] <= s1["rank_median"]) & (s1["rank_median"] <= s1["rank_p95"])).all()
    assert s1["p_top_10"].sum() == pytest.approx(10, abs=1e-9)  # ten zones in the top 10 in each draw (no ties)
    with pytest.raises(ConfigError, match="weight_spread"):
        m.robustness(weight_spread=1.5)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(3, 25), st.integers(1, 5)), elements=st.floats(0, 1e4)),
    st.sampled_from(["minmax", "zscore", "rank"]),
    st.sampled_from(["arithmetic", "geometric"]),
)
def test_property_index_in_range_and_rank_follows_score(values, norm, agg):
    if norm == "zscore" and agg == "geometric":
        agg = "arithmetic"
    Xp = pd.DataFrame(values, index=[f"z{i}" for i in range(len(values))])
    Xp.columns = [f"i{j}" for j in range(values.shape[1])]
    m = PriorityIndex(normalization=norm, aggregation=agg).fit(Xp)
    assert ((m.index_ >= 0) & (m.index_ <= 100)).all()
    order = m.index_.sort_values(ascending=False, kind="stable")
    ranks = m.rank_.loc[order.index].to_numpy()
    assert (np.diff(ranks) >= 0).all()
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(3, 25), st.integers(1, 4)), elements=st.integers(0, 500).map(float)), st.floats(0.01, 1000))
def test_property_rescaling_counts_leaves_minmax_index_unchanged(counts, factor):
    Xp = pd.DataFrame(counts, columns=[f"i{j}" for j in range(counts.shape[1])])
    a = PriorityIndex().fit(Xp).index_
    b = PriorityIndex().fit(Xp * factor).index_
    np.testing.assert_allclose(a, b, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(4, 15), st.integers(2, 4)), elements=st.floats(0, 100)), st.integers(0, 2**31))
def test_property_a_dominating_zone_never_ranks_below_the_dominated(values, seed):
    Xp = pd.DataFrame(values, columns=[f"i{j}" for j in range(values.shape[1])])
    Xp.loc[len(Xp)] = Xp.max(axis=0) + 1.0  # dominates every other zone on every indicator
    m = PriorityIndex().fit(Xp)
    m.robustness(n_draws=30, random_state=seed, aggregations=["arithmetic", "geometric"])
    assert (m.draw_ranks_[-1] == 1).all()


def test_aggregate_many_draws_matches_one_by_one():
    rng = np.random.default_rng(3)
    N = rng.random((10, 3))
    Wd = rng.random((5, 3))
    many = aggregate(N, Wd, "geometric")
    for j in range(5):
        np.testing.assert_allclose(many[:, j], aggregate(N, Wd[j], "geometric"))


def test_zscore_composite_that_cancels_exactly_is_not_stretched_to_0_100():
    # two opposed indicators with equal weights: every composite is 0 up to rounding noise
    Xc = pd.DataFrame({"a": [0.0, 1.0, 3.0], "b": [3.0, 2.0, 0.0]}, index=list("ABC"))
    m = PriorityIndex(normalization="zscore").fit(Xc)
    assert m.index_.tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-9)
