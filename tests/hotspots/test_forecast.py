"""Rolling-origin forecasts: each method's surface by hand, no look-ahead, scores equal backtest.py's, real data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geoprio.errors import InputError
from geoprio.hotspots.backtest import evaluate
from geoprio.hotspots.forecast import ForecastOptions, origins_for, past_at, rolling_backtest
from geoprio.hotspots.forecast_methods import (
    Past,
    candidate_grid,
    forecast_surface,
    kde_surface,
    prior_surface,
    promap_surface,
    recent_surface,
)
from geoprio.hotspots.grid import to_metric
from geoprio.records.load import load_points


def _past(cell, xy, age, w=None) -> Past:
    cell = np.asarray(cell, dtype=np.int64)
    return Past(
        cell=cell,
        xy=np.asarray(xy, dtype=float).reshape(len(cell), 2),
        age_days=np.asarray(age, dtype=float),
        weight=np.ones(len(cell)) if w is None else np.asarray(w, dtype=float),
    )


# three square cells of 100 m in a row; centres 100 m apart
CENTRES = np.array([[50.0, 50.0], [150.0, 50.0], [250.0, 50.0]])


def test_prior_and_recent_by_hand():
    past = _past([0, 0, 2, -1], [[50, 50], [60, 40], [250, 50], [900, 900]], [7.0, 14.0, 1.0, 3.0], [1.0, 2.0, 1.0, 5.0])
    # prior: 1 + 2 in cell 0, 1 in cell 2; the point outside the grid (-1) is left out
    assert prior_surface(past, 3).tolist() == pytest.approx([3.0, 0.0, 1.0])
    # recent, decay 7 days: 1·e^(−1) + 2·e^(−2) in cell 0, e^(−1/7) in cell 2
    assert recent_surface(past, 3, decay_days=7.0).tolist() == pytest.approx([np.exp(-1) + 2 * np.exp(-2), 0.0, np.exp(-1 / 7)])


def test_kde_by_hand():
    # one incident at cell 0's centre, quartic kernel of 200 m: 3/π (1 − u²)² / h², per km²
    past = _past([0], [[50, 50]], [2.0])
    got = kde_surface(past, CENTRES, bandwidth_m=200.0)
    k = [3 / np.pi * (1 - u**2) ** 2 / 200.0**2 * 1e6 for u in (0.0, 0.5, 1.0)]
    assert got.tolist() == pytest.approx(k)
    assert got[2] == 0.0  # at exactly the bandwidth the quartic kernel is 0


def test_promap_by_hand():
    # cell 0: an incident 3 days old (week 0); cell 2: one 10 days old (week 1)
    past = _past([0, 2], [[50, 50], [250, 50]], [3.0, 10.0])
    got = promap_surface(past, CENTRES, cell_size_m=100.0, bandwidth_cells=1.0, bandwidth_weeks=4.0)
    # cell 0: 1/(1+0)·1/(1+0) = 1 (cell 2 is 2 cells away, outside the band)
    # cell 1: 1/(1+1)·1 from cell 0 + 1/(1+1)·1/(1+1) from cell 2 = 0.75
    # cell 2: 1/(1+0)·1/(1+1) = 0.5
    assert got.tolist() == pytest.approx([1.0, 0.75, 0.5])
    # a band of 1 week leaves out the incident in week 1
    one_week = promap_surface(past, CENTRES, cell_size_m=100.0, bandwidth_cells=1.0, bandwidth_weeks=1.0)
    assert one_week.tolist() == pytest.approx([1.0, 0.5, 0.0])
    # two cells: cell 0 also reaches cell 2 with 1/(1+2)
    two = promap_surface(past, CENTRES, cell_size_m=100.0, bandwidth_cells=2.0, bandwidth_weeks=4.0)
    assert two.tolist() == pytest.approx([1.0 + 0.5 / 3, 0.75, 0.5 + 1 / 3])
    # through the dispatcher, with the same result
    via = forecast_surface("promap", past, CENTRES, cell_size_m=100.0, params={"bandwidth_cells": 1.0, "bandwidth_weeks": 4.0})
    assert via.tolist() == pytest.approx(got.tolist())


def test_candidates_and_errors():
    assert candidate_grid("prior", 150.0) == [{}]
    assert [c["bandwidth_m"] for c in candidate_grid("kde", 150.0)] == [150.0, 300.0, 450.0]
    assert len(candidate_grid("promap", 150.0)) == 12
    assert [c["decay_days"] for c in candidate_grid("recent", 150.0)] == [14.0, 30.0, 91.0, 182.0, 365.0, 730.0, 1461.0]
    with pytest.raises(InputError, match="unknown forecast method 'lstm'"):
        candidate_grid("lstm", 150.0)
    with pytest.raises(InputError, match="strictly before the origin"):
        _past([0], [[0, 0]], [0.0])
    with pytest.raises(InputError, match="methods"):
        ForecastOptions(methods=("prior", "nope"))
    with pytest.raises(InputError, match="horizons"):
        ForecastOptions(horizons=("day",))  # type: ignore[arg-type]
    # the baseline is always scored, first
    assert ForecastOptions(methods=("kde",)).methods == ("prior", "kde")


def test_origins_are_whole_periods_after_the_first_day():
    ts = pd.Timestamp
    month = origins_for(ts("2020-01-15"), ts("2020-06-30 23:00"), "month", 10)
    assert [str(o.date()) for o in month] == ["2020-02-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01"]
    # June is not whole when the data stop on the 29th
    assert str(origins_for(ts("2020-01-15"), ts("2020-06-29"), "month", 10)[-1].date()) == "2020-05-01"
    assert [str(o.date()) for o in origins_for(ts("2020-01-15"), ts("2020-12-31"), "quarter", 2)] == ["2020-07-01", "2020-10-01"]
    weeks = origins_for(ts("2024-01-01"), ts("2024-01-28"), "week", 10)  # 2024-01-01 is a Monday
    assert [str(o.date()) for o in weeks] == ["2024-01-08", "2024-01-15", "2024-01-22"]


# --------------------------------------------------------------------------- the rolling scheme


def _synthetic(n_days: int = 365, seed: int = 1) -> pd.DataFrame:
    """Incidents around Bogotá: a persistent hot spot, a moving flare-up, and background."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2021-01-01", periods=n_days, freq="D")
    rows = []
    for i, d in enumerate(days):
        for _ in range(rng.poisson(1.5)):  # persistent hot spot
            rows.append((-74.080 + rng.normal(0, 0.0008), 4.650 + rng.normal(0, 0.0008), d))
        centre = (-74.07 + 0.01 * np.sin(i / 40), 4.66 + 0.01 * np.cos(i / 40))  # a flare-up that moves
        for _ in range(rng.poisson(1.0)):
            rows.append((centre[0] + rng.normal(0, 0.0006), centre[1] + rng.normal(0, 0.0006), d))
        for _ in range(rng.poisson(2.0)):  # background
            rows.append((-74.09 + 0.04 * rng.random(), 4.63 + 0.05 * rng.random(), d))
    frame = pd.DataFrame(rows, columns=["x", "y", "date"])
    frame["date"] = (frame["date"] + pd.to_timedelta(rng.integers(0, 24 * 60, len(frame)), unit="min")).dt.strftime("%Y-%m-%d %H:%M")
    return frame


@pytest.fixture(scope="module")
def synthetic():
    frame = _synthetic()
    opts = ForecastOptions(horizons=("month",), origins=4, warmup=2, cell_size_m=250.0, bootstrap=500)
    return frame, opts, rolling_backtest(load_points(frame, date="date"), options=opts)


def test_planted_future_events_change_nothing(synthetic):
    frame, opts, run = synthetic
    # events at the origin and after it are not past: the surfaces do not move
    rec = load_points(frame, date="date")
    times = pd.to_datetime(rec.data["date"]).to_numpy()
    order = np.argsort(times, kind="stable")
    xy = to_metric(rec, opts.metric_crs)[order]
    assert run.grid is not None
    cell = run.grid.locate(xy)
    t = times[order]
    origin = pd.Timestamp("2021-09-01")
    hot = xy[cell >= 0][0]
    future_t = np.array([np.datetime64(origin), *(np.datetime64(origin) + np.arange(1, 40) * np.timedelta64(1, "h"))])
    t2 = np.concatenate([t, future_t])
    xy2 = np.concatenate([xy, np.repeat(hot[None, :], len(future_t), axis=0)])
    cell2 = run.grid.locate(xy2)
    w2 = np.ones(len(t2))
    a = past_at(t, xy, cell, np.ones(len(t)), origin)
    b = past_at(t2, xy2, cell2, w2, origin)
    assert len(b.cell) == len(a.cell) == int((t < np.datetime64(origin)).sum())
    for m in opts.methods:
        for p in candidate_grid(m, 250.0):
            sa = forecast_surface(m, a, run.grid.xy, cell_size_m=250.0, params=p)
            sb = forecast_surface(m, b, run.grid.xy, cell_size_m=250.0, params=p)
            assert np.array_equal(sa, sb), (m, p)
    # end to end: 200 incidents at the hot spot after the last whole month change no score and no choice
    planted = pd.DataFrame({"x": -74.080, "y": 4.650, "date": ["2022-01-01 10:00"] * 100 + ["2022-01-20 10:00"] * 100})
    run2 = rolling_backtest(load_points(pd.concat([frame, planted], ignore_index=True), date="date"), options=opts)
    pd.testing.assert_frame_equal(run2.table, run.table)
    pd.testing.assert_frame_equal(run2.chosen, run.chosen)


def test_scores_equal_backtest_evaluate(synthetic):
    frame, opts, run = synthetic
    rec = load_points(frame, date="date")
    assert run.grid is not None
    cell = run.grid.locate(to_metric(rec, opts.metric_crs))
    times = pd.to_datetime(rec.data["date"])
    assert run.notes["month"]["origins"] == ["2021-09-01", "2021-10-01", "2021-11-01", "2021-12-01"]
    assert run.notes["month"]["warmup_origins"] == ["2021-07-01", "2021-08-01"]
    for o in run.notes["month"]["origins"]:
        t0 = pd.Timestamp(o)
        before = (times < t0).to_numpy()
        during = ((times >= t0) & (times < t0 + pd.DateOffset(months=1))).to_numpy()
        prior = run.grid.count(cell[before])
        test = run.grid.count(cell[during])
        want = evaluate(prior, test, run.grid.area_m2, shares=opts.shares)
        got = run.table[(run.table["origin"] == o) & (run.table["method"] == "prior")]
        for col in ("hit_rate", "pai", "pei", "captured"):
            assert got[col].to_numpy() == pytest.approx(want[col].to_numpy(), rel=1e-12), (o, col)
        assert got["test_incidents"].iloc[0] == test.sum()


def test_summary_is_the_paired_comparison(synthetic):
    _frame, opts, run = synthetic
    s, t = run.summary, run.table
    for m in opts.methods:
        for share in opts.shares:
            row = s[(s["method"] == m) & np.isclose(s["area_share"], share)].iloc[0]
            tm = t[(t["method"] == m) & np.isclose(t["area_share"], share)].set_index("origin")["pai"]
            tp = t[(t["method"] == "prior") & np.isclose(t["area_share"], share)].set_index("origin")["pai"]
            assert row["origins"] == 4
            assert row["pai"] == pytest.approx(tm.mean())
            assert row["pai_diff"] == pytest.approx((tm - tp).mean())
            assert row["gain"] == pytest.approx(tm.mean() / tp.mean() - 1)
            # the bootstrap interval holds the mean difference (a percentile interval of means of resamples)
            assert row["pai_diff_low"] <= row["pai_diff"] + 1e-9 <= row["pai_diff_high"] + 2e-9
            if m == "prior":
                assert (row["pai_diff"], row["pai_diff_low"], row["pai_diff_high"], row["gain"]) == (0.0, 0.0, 0.0, 0.0)
    # the verdict names the best non-baseline method at 1 % and its gain
    goal = run.notes["goal"]["month"]
    best = s[(s["method"] != "prior") & np.isclose(s["area_share"], 0.01)].sort_values("pai").iloc[-1]
    assert goal["best"] == best["method"] and goal["gain"] == pytest.approx(best["gain"], abs=1e-4)
    # each chosen hyperparameter is one of the method's candidates; with two warm-up origins every origin has a choice
    assert len(run.chosen) == 4 * len(opts.methods)
    for _, r in run.chosen.iterrows():
        assert json.loads(r["params"]) in candidate_grid(r["method"], 250.0)


def test_curve_is_the_mean_over_origins(synthetic):
    _frame, opts, run = synthetic
    c = run.curve
    assert set(c["horizon"]) == {"month"}
    assert c["random"].to_numpy() == pytest.approx(c["area_share"].to_numpy())
    # the mean hit rate at a share equals the mean of the per-origin hit rates in the table
    for share in opts.shares:
        row = c[np.isclose(c["area_share"], share)].iloc[0]
        for m in opts.methods:
            t = run.table[(run.table["method"] == m) & np.isclose(run.table["area_share"], share)]
            assert row[m] == pytest.approx(t["hit_rate"].mean())
            assert row[m] <= row["best"] + 1e-12
    last = c[np.isclose(c["area_share"], 1.0)].iloc[0]
    assert [last[m] for m in opts.methods] == pytest.approx([1.0] * len(opts.methods))


def test_write_tables_and_manifest(synthetic, tmp_path):
    _frame, _opts, run = synthetic
    written = run.write(tmp_path)
    names = sorted(p.name for p in written.paths)
    assert names == [
        "manifest.json",
        "pronostico_curva.csv",
        "pronostico_curva_month.svg",
        "pronostico_origenes.csv",
        "pronostico_parametros.csv",
        "pronostico_resumen.csv",
    ]
    assert "tasa de acierto media en 4 orígenes" in (tmp_path / "pronostico_curva_month.svg").read_text(encoding="utf-8")
    man = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "geoprio.forecast"
    assert man["notes"]["goal"]["month"]["best"] == run.notes["goal"]["month"]["best"]


def test_too_short_data_is_a_clear_error():
    frame = _synthetic(n_days=40)
    with pytest.raises(InputError, match="too short for a quarter backtest"):
        rolling_backtest(load_points(frame, date="date"), options=ForecastOptions(horizons=("quarter",), origins=2, warmup=1))


# --------------------------------------------------------------------------- real data


def test_medellin_homicides_monthly(shared_data):
    from geoprio.zones.layers import load_zones

    zones = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA")
    rec = load_points(shared_data / "medellin" / "medellin_homicides.csv", category="modalidad", offsets="drop", bbox=None)
    # the methods of the first part; the learned model has its own real-data test (test_forecast_learned.py)
    methods = ("recent", "kde", "promap", "sepp")
    opts = ForecastOptions(horizons=("month",), origins=3, warmup=1, cell_size_m=250.0, bootstrap=200, methods=methods)
    run = rolling_backtest(rec, zones=zones, options=opts)
    # the data end on 2019-12-31: the last three whole months are scored, September is warm-up
    assert run.notes["month"]["origins"] == ["2019-10-01", "2019-11-01", "2019-12-01"]
    # each month's test incidents: the homicides of that month inside the comunas, counted here directly
    assert run.grid is not None
    cell = run.grid.locate(to_metric(rec, opts.metric_crs))
    months = pd.to_datetime(rec.data["date"]).dt.strftime("%Y-%m").to_numpy()
    got = run.table[np.isclose(run.table["area_share"], 0.01) & (run.table["method"] == "prior")].set_index("origin")["test_incidents"]
    for o in run.notes["month"]["origins"]:
        assert got[o] == ((months == o[:7]) & (cell >= 0)).sum()
    assert 60 <= got.sum() <= 120  # Medellín had about 580 homicides in 2019, some 50 a month
    # PAI at 1 % of the area is far above random for the baseline (homicides concentrate)
    prior_1 = run.summary[(run.summary["method"] == "prior") & np.isclose(run.summary["area_share"], 0.01)]["pai"].iloc[0]
    assert prior_1 > 5


def test_each_choice_is_the_best_on_earlier_origins_only(synthetic):
    frame, opts, run = synthetic
    rec = load_points(frame, date="date")
    assert run.grid is not None
    times = pd.to_datetime(rec.data["date"]).to_numpy()
    order = np.argsort(times, kind="stable")
    t, xy = times[order], to_metric(rec, opts.metric_crs)[order]
    cell = run.grid.locate(xy)
    w = np.ones(len(t))
    all_origins = [pd.Timestamp(o) for o in run.notes["month"]["warmup_origins"] + run.notes["month"]["origins"]]

    def pai_1(method: str, params: dict, origin: pd.Timestamp) -> float:
        past = past_at(t, xy, cell, w, origin)
        s = forecast_surface(
            method, past, run.grid.xy, cell_size_m=250.0, params=params, horizon_days=(origin + pd.DateOffset(months=1) - origin).days
        )
        during = (t >= np.datetime64(origin)) & (t < np.datetime64(origin + pd.DateOffset(months=1)))
        test = run.grid.count(cell[during])
        return float(evaluate(s, test, run.grid.area_m2, shares=[0.01])["pai"].iloc[0])

    for method in ("recent", "kde"):
        cands = candidate_grid(method, 250.0)
        for k, origin in enumerate(all_origins[opts.warmup :], start=opts.warmup):
            earlier = np.array([[pai_1(method, p, o) for p in cands] for o in all_origins[:k]])
            want = cands[int(np.argmax(earlier.mean(axis=0)))]
            got = run.chosen[(run.chosen["method"] == method) & (run.chosen["origin"] == str(origin.date()))]["params"].iloc[0]
            assert json.loads(got) == want, (method, origin)
