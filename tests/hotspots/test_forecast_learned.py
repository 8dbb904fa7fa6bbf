"""The learned forecast: its lag table by hand, no target leak, it recovers a signal only lags carry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geoprio.errors import InputError
from geoprio.hotspots.backtest import evaluate
from geoprio.hotspots.forecast_learned import FEATURES, lag_table, learned_forecast, neighbour_matrix
from geoprio.hotspots.forecast_methods import Past, candidate_grid, forecast_surface, prior_surface

H = 10.0  # period length in days


def _col(name: str) -> int:
    return FEATURES.index(name)


def test_neighbours_are_the_queen_ring():
    # a 3 × 3 grid of 100 m cells: the centre has 8 neighbours, a corner 3, an edge cell 5
    c = np.array([[50.0 + 100 * i, 50.0 + 100 * j] for j in range(3) for i in range(3)])
    nb = neighbour_matrix(c, 100.0)
    deg = np.diff(nb.indptr)
    assert deg.tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    assert np.asarray(nb.sum(axis=1)).ravel() == pytest.approx(np.ones(9))  # row-normalized: a mean of the neighbours
    assert nb[4, 4] == 0  # self excluded
    with pytest.raises(InputError, match="cell_size_m must be positive"):
        neighbour_matrix(c, 0.0)


def test_lag_table_by_hand():
    # two neighbouring cells; periods of 10 days back from the origin: 0 = ages (0, 10], 1 = (10, 20], 2 = (20, 30]
    cell = np.array([0, 0, 0, 1])
    age = np.array([5.0, 15.0, 25.0, 12.0])
    nb = neighbour_matrix(np.array([[0.0, 0.0], [100.0, 0.0]]), 100.0)
    t = lag_table(cell, age, np.ones(4), nb, horizon_days=H, train_periods=5, origin=pd.Timestamp("2024-01-01"))
    # counts: cell 0 = [1, 1, 1] in periods 0, 1, 2; cell 1 = [0, 1, 0]. Three periods: two pseudo-origins (k = 0, 1)
    assert t.period.tolist() == [0, 0, 1, 1] and t.cell.tolist() == [0, 1, 0, 1]
    assert t.y.tolist() == [1.0, 0.0, 1.0, 1.0]
    # k = 0 (target = period 0): lag 1 = period 1, lag 2 = period 2; k = 1: lag 1 = period 2
    assert t.X[:, _col("lag_1")].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert t.X[:, _col("lag_2")].tolist() == [1.0, 0.0, 0.0, 0.0]
    # long-run rate: the older periods' mean (k = 0: periods 1–2; k = 1: period 2)
    assert t.X[:, _col("rate_all")].tolist() == pytest.approx([1.0, 0.5, 1.0, 0.0])
    # the neighbours' features are the other cell's
    assert t.X[:, _col("nb_lag_1")].tolist() == [1.0, 1.0, 0.0, 1.0]
    # decayed count, τ = 365 d: Σ C[p + ℓ] exp(−(ℓ − ½) H / τ); cell 0 at k = 0: e^(−5/365) + e^(−15/365)
    assert t.X[0, _col("decay_365")] == pytest.approx(np.exp(-5 / 365) + np.exp(-15 / 365), rel=1e-6)
    # the forecast rows (p = −1) see all three periods
    assert t.X_next[:, _col("lag_1")].tolist() == [1.0, 0.0]
    assert t.X_next[:, _col("lag_3")].tolist() == [1.0, 0.0]
    assert t.X_next[:, _col("mean_12")].tolist() == pytest.approx([3 / 12, 1 / 12])
    # season: the start of the forecast period (the origin, day 1) and of the target period of k = 0 (10 days earlier)
    assert t.X_next[0, _col("season_sin")] == pytest.approx(0.0, abs=1e-7)
    assert t.X[0, _col("season_sin")] == pytest.approx(np.sin(2 * np.pi * (pd.Timestamp("2023-12-22").day_of_year - 1) / 365.25), rel=1e-6)
    with pytest.raises(InputError, match="train_periods ≥ 1 and zero_rows ≥ 0"):
        lag_table(cell, age, np.ones(4), nb, horizon_days=H, train_periods=0)


def test_lag_table_equals_the_formulas_on_a_long_history():
    # 30 periods, 5 training targets: every own feature by its formula on the period counts
    rng = np.random.default_rng(11)
    n = 600
    cell, age = rng.integers(0, 3, n), rng.uniform(0.01, 300.0, n)
    nb = neighbour_matrix(np.array([[0.0, 0.0], [100.0, 0.0], [5000.0, 0.0]]), 100.0)
    t = lag_table(cell, age, np.ones(n), nb, horizon_days=H, train_periods=5)
    C = np.zeros((30, 3))
    np.add.at(C, (np.floor(age / H).astype(int), cell), 1.0)
    for q in range(6):  # q = p + 1: 0 is the forecast row, 1–5 the targets 0–4
        x = t.X_next if q == 0 else t.X[t.period == q - 1]
        older = C[q:]
        for lag in (1, 2, 3, 6, 12):
            assert x[:, _col(f"lag_{lag}")] == pytest.approx(older[lag - 1])
        assert x[:, _col("mean_12")] == pytest.approx(older[:12].sum(axis=0) / 12, rel=1e-6)
        assert x[:, _col("rate_all")] == pytest.approx(older.mean(axis=0), rel=1e-6)
        for tau in (365, 730, 1461, 2922):
            w = np.exp(-(np.arange(len(older)) + 0.5) * H / tau)
            assert x[:, _col(f"decay_{tau}")] == pytest.approx(w @ older, rel=1e-6)
        # cells 0 and 1 are each other's only neighbour; cell 2 has none
        assert x[:, _col("nb_lag_1")] == pytest.approx([older[0, 1], older[0, 0], 0.0])
    assert t.y[t.period == 0] == pytest.approx(C[0])  # the first target: the most recent period


def test_a_target_never_feeds_its_own_features():
    # ten periods of history in four cells; then triple every count of period 0 (the most recent target)
    rng = np.random.default_rng(3)
    n = 400
    cell, age = rng.integers(0, 4, n), rng.uniform(0.01, 100.0, n)
    nb = neighbour_matrix(np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0]]), 100.0)
    a = lag_table(cell, age, np.ones(n), nb, horizon_days=H, train_periods=6)
    recent = age < H
    cell3 = np.concatenate([cell, cell[recent], cell[recent]])
    age3 = np.concatenate([age, age[recent], age[recent]])
    b = lag_table(cell3, age3, np.ones(len(cell3)), nb, horizon_days=H, train_periods=6)
    # the rows whose target is period 0 keep their features (a leak of the target into them would change them)
    k0 = a.period == 0
    assert np.array_equal(a.X[k0], b.X[k0])
    assert np.array_equal(b.y[k0], 3 * a.y[k0])
    # the older targets (k ≥ 1) never see period 0 at all: rows and targets unchanged
    assert np.array_equal(a.X[~k0], b.X[~k0]) and np.array_equal(a.y[~k0], b.y[~k0])
    # only the forecast rows (which may use period 0) move
    assert not np.array_equal(a.X_next, b.X_next)


def test_empty_rows_are_subsampled_with_weights():
    # 1 cell with history among 20 isolated cells (no neighbours): per pseudo-origin 1 row with history, 19 without
    centres = np.column_stack([np.arange(20) * 1000.0, np.zeros(20)])
    nb = neighbour_matrix(centres, 100.0)
    cell = np.zeros(6, dtype=np.int64)
    age = np.array([5.0, 15.0, 25.0, 35.0, 45.0, 55.0])
    t = lag_table(cell, age, np.ones(6), nb, horizon_days=H, train_periods=4, zero_rows=2.0, seed=1)
    # 4 pseudo-origins: 4 rows with history (cell 0), 76 empty rows cut to 2 × 4 = 8, each weighing 76 / 8
    assert (t.cell == 0).sum() == 4 and (t.cell != 0).sum() == 8
    assert t.sample_weight[t.cell != 0] == pytest.approx(np.full(8, 76 / 8))
    assert t.sample_weight[t.cell == 0] == pytest.approx(np.ones(4))
    # the weighted rows still stand for every empty row
    assert t.sample_weight.sum() == pytest.approx(80.0)
    # zero_rows=0 leaves every empty row out
    none = lag_table(cell, age, np.ones(6), nb, horizon_days=H, train_periods=4, zero_rows=0.0)
    assert (none.cell == 0).all() and none.sample_weight.tolist() == [1.0] * 4
    # seeded: the same seed keeps the same rows
    again = lag_table(cell, age, np.ones(6), nb, horizon_days=H, train_periods=4, zero_rows=2.0, seed=1)
    assert np.array_equal(t.cell, again.cell) and np.array_equal(t.period, again.period)


def _rotating(seed: int, n_periods: int = 48) -> tuple[Past, np.ndarray, np.ndarray, np.ndarray]:
    """A 12 × 12 grid of 100 m cells; three groups of 12 cells take turns being hot (group = period mod 3).

    Every group has the same long-run count, so prior counts cannot tell which is next; the
    lags can. Returns the past before the origin (period −1 is the forecast period), the
    centres, the next period's counts and the hot group's mask for it.
    """
    rng = np.random.default_rng(seed)
    centres = np.array([[50.0 + 100 * i, 50.0 + 100 * j] for j in range(12) for i in range(12)])
    group = np.full(144, -1)
    for g in range(3):
        group[rng.choice(np.flatnonzero(group < 0), 12, replace=False)] = g
    cells, ages = [], []

    def counts(k: int) -> np.ndarray:
        hot = (n_periods - k) % 3  # period k back from the origin, numbered forward in time
        return rng.poisson(np.where(group == hot, 4.0, 0.15))

    for k in range(n_periods):
        c = counts(k)
        idx = np.repeat(np.arange(144), c)
        cells.append(idx)
        ages.append(rng.uniform(k * H + 1e-6, (k + 1) * H, len(idx)))
    cell = np.concatenate(cells)
    past = Past(cell=cell, xy=centres[cell], age_days=np.concatenate(ages), weight=np.ones(len(cell)))
    nxt = counts(-1)
    return past, centres, nxt.astype(float), group == (n_periods + 1) % 3


@pytest.mark.parametrize("model", ["hgb", "glm"])
def test_learned_recovers_a_signal_only_lags_carry(model):
    past, centres, nxt, hot = _rotating(seed=7)
    area = np.full(144, 1e4)
    params = {"model": model, "train_periods": 12.0}
    s = forecast_surface("learned", past, centres, cell_size_m=100.0, params=params, horizon_days=H, seed=5)
    # the 12 highest cells are the group that is due, and the expected counts are on the scale of the truth (4 a cell)
    assert set(np.argsort(-s)[:12]) == set(np.flatnonzero(hot))
    assert s[hot].mean() == pytest.approx(4.0, rel=0.25)
    assert s[~hot].mean() < 0.5
    share = 12 / 144
    pai_learned = float(evaluate(s, nxt, area, shares=[share])["pai"].iloc[0])
    pai_prior = float(evaluate(prior_surface(past, 144), nxt, area, shares=[share])["pai"].iloc[0])
    # PAI at 1/12 of the area: flagging the due group is the best one can do (it holds 48 of ~68 expected
    # incidents, PAI ≈ 8.5); prior counts spread their flags over the three groups
    pai_oracle = float(evaluate(hot.astype(float), nxt, area, shares=[share])["pai"].iloc[0])
    assert pai_learned == pytest.approx(pai_oracle)
    assert pai_learned > 2 * pai_prior
    # seeded: the same call gives the same surface
    again = forecast_surface("learned", past, centres, cell_size_m=100.0, params=params, horizon_days=H, seed=5)
    assert np.array_equal(s, again)


def test_learned_without_history_falls_back_to_the_rate():
    nb = neighbour_matrix(np.array([[0.0, 0.0], [100.0, 0.0]]), 100.0)
    # one period of history only: no pseudo-origin can be trained on; the forecast is each cell's rate
    got = learned_forecast(np.array([0, 0, 1]), np.array([1.0, 2.0, 3.0]), np.ones(3), nb, horizon_days=H, train_periods=12)
    assert got.tolist() == [2.0, 1.0]
    assert learned_forecast(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), nb, horizon_days=H, train_periods=12).tolist() == [0, 0]
    assert candidate_grid("learned", 150.0) == [{"model": "glm", "train_periods": 12.0}, {"model": "glm", "train_periods": 36.0}]
    with pytest.raises(InputError, match="learned model must be one of"):
        learned_forecast(np.array([0, 0, 1]), np.array([1.0, 12.0, 3.0]), np.ones(3), nb, horizon_days=H, train_periods=12, model="lstm")


def test_learned_on_medellin_homicides(shared_data):
    """A small slice of real data: December 2019 on 250 m cells, November as the warm-up origin."""
    from geoprio.hotspots.forecast import ForecastOptions, rolling_backtest
    from geoprio.records.load import load_points
    from geoprio.zones.layers import load_zones

    zones = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA")
    rec = load_points(shared_data / "medellin" / "medellin_homicides.csv", category="modalidad", offsets="drop", bbox=None)
    opts = ForecastOptions(horizons=("month",), origins=1, warmup=1, cell_size_m=250.0, bootstrap=200, methods=("learned",))
    run = rolling_backtest(rec, zones=zones, options=opts)
    assert run.notes["month"]["origins"] == ["2019-12-01"]
    t = run.table[np.isclose(run.table["area_share"], 0.01)].pivot(index="origin", columns="method", values="pai")
    # homicides concentrate: at 1 % of the area both the baseline and the learned model are far above random (PAI 1)
    assert (t["prior"] > 5).all() and (t["learned"] > 5).all()
    # the expected counts are on the scale of a month of homicides in Medellín (some 45 inside the comunas)
    from geoprio.hotspots.forecast import dated_points, past_at
    from geoprio.hotspots.forecast_methods import forecast_surface

    assert run.grid is not None
    times, xy, w = dated_points(rec, opts.metric_crs)
    params = json.loads(run.chosen[(run.chosen["method"] == "learned") & (run.chosen["origin"] == "2019-12-01")]["params"].iloc[0])
    assert params in candidate_grid("learned", 250.0)
    past = past_at(times, xy, run.grid.locate(xy), w, pd.Timestamp("2019-12-01"))
    s = forecast_surface("learned", past, run.grid.xy, cell_size_m=250.0, params=params, horizon_days=31.0, seed=opts.seed)
    assert 25 < s.sum() < 70
    test = run.table[(run.table["origin"] == "2019-12-01") & (run.table["method"] == "learned")]["test_incidents"].iloc[0]
    assert 25 < test < 70


def test_summary_when_prior_counts_catch_nothing():
    # one origin where prior counts catch no incident at 0.5 %: the relative gain is undefined (NaN), without a warning
    from geoprio.hotspots.forecast import ForecastOptions, _summarize

    rows = [
        {"horizon": "month", "origin": "2019-12-01", "method": m, "area_share": a, "pai": p, "hit_rate": p * a, "pei": 0.5}
        for m, a, p in [("prior", 0.005, 0.0), ("learned", 0.005, 4.0), ("prior", 0.01, 10.0), ("learned", 0.01, 12.0)]
    ]
    s = _summarize(pd.DataFrame(rows), ForecastOptions(methods=("learned",), bootstrap=50))
    at = s.set_index(["method", "area_share"])
    assert at.loc[("learned", 0.005), ["gain", "gain_low", "gain_high"]].isna().all()
    assert at.loc[("learned", 0.005), "pai_diff"] == 4.0  # the difference stays defined
    assert at.loc[("learned", 0.01), "gain"] == pytest.approx(0.2)
    assert at.loc[("learned", 0.01), ["gain_low", "gain_high"]].tolist() == pytest.approx([0.2, 0.2])
