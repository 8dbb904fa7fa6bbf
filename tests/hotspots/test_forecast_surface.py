"""The forecast surface: the next period, the chosen method fitted on all the data, expected counts, ranks, manifest, replay."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geoprio.errors import InputError, ManifestError
from geoprio.hotspots.forecast import ForecastOptions, dated_points, next_origin, past_at, period_end
from geoprio.hotspots.forecast_layer import (
    ForecastSurfaceJob,
    SurfaceOptions,
    next_period_forecast,
    replay_any_forecast,
    run_forecast_surface_job,
)
from geoprio.hotspots.forecast_methods import forecast_surface
from geoprio.hotspots.jobs import PointsSource
from geoprio.records.load import load_points

from .test_forecast import _synthetic

BT = {"horizons": ("month",), "origins": 3, "warmup": 1, "cell_size_m": 300.0, "bootstrap": 200}


@pytest.fixture(scope="module")
def incidents(tmp_path_factory):
    path = tmp_path_factory.mktemp("surface") / "incidentes.csv"
    _synthetic(n_days=365).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def records(incidents):
    return load_points(incidents, date="date")


@pytest.fixture(scope="module")
def chosen(incidents):
    """The job from the file: the backtest of three methods and prior counts, the best one fitted on all the data."""
    job = ForecastSurfaceJob(
        points=PointsSource(path=incidents, date="date"),
        options=SurfaceOptions(backtest=ForecastOptions(methods=("recent", "kde", "learned"), **BT)),
    )
    return run_forecast_surface_job(job)


def test_next_origin_is_the_next_whole_period():
    ts = pd.Timestamp
    assert next_origin(ts("2019-12-31 23:10"), "month") == ts("2020-01-01")
    assert next_origin(ts("2021-08-28"), "month") == ts("2021-09-01")  # the rest of August is not a whole month
    assert next_origin(ts("2024-01-03"), "week") == ts("2024-01-08")  # a Wednesday → the next Monday
    assert next_origin(ts("2024-01-07 23:00"), "week") == ts("2024-01-08")  # a Sunday → the day after
    assert next_origin(ts("2020-02-10"), "quarter") == ts("2020-04-01")
    assert period_end(ts("2020-02-01"), "month") == ts("2020-03-01")
    with pytest.raises(InputError, match="horizon must be one of"):
        next_origin(ts("2020-01-01"), "day")


def test_the_best_method_is_chosen_and_fitted_on_all_the_data(chosen, records):
    run = chosen
    s = run.backtest.summary
    at1 = s[np.isclose(s["area_share"], 0.01)].set_index("method")
    # the best mean PAI at 1 % over the scored origins, among prior counts and the methods that
    # beat them with a paired 95 % interval above zero
    eligible = at1[(at1.index == "prior") | (at1["pai_diff_low"] > 0)]
    assert run.method == eligible["pai"].idxmax()
    assert at1.loc[run.method, "pai_diff_low"] > 0 or run.method == "prior"
    # the params: each candidate's PAI over every origin, the best one (recorded by the backtest)
    assert run.params == run.backtest.notes["month"]["next_params"][run.method]
    # the data end on 2021-12-31: the forecast is for January 2022, from every incident before it
    assert (str(run.start.date()), str(run.end.date())) == ("2022-01-01", "2022-02-01")
    times, xy, w = dated_points(records, "EPSG:9377")
    grid = run.backtest.grid
    assert grid is not None
    past = past_at(times, xy, grid.locate(xy), w, run.start)
    assert len(past.cell) == len(records.data)
    want = forecast_surface(run.method, past, grid.xy, cell_size_m=300.0, params=run.params, horizon_days=31.0, seed=20241)
    np.testing.assert_allclose(run.cells["score"].to_numpy(), want)
    # the score's PAI and gain are the summary's, in the layer and in the notes
    row = s[(s["method"] == run.method) & np.isclose(s["area_share"], 0.01)].iloc[0]
    assert run.notes["backtest"]["pai"] == pytest.approx(row["pai"], abs=1e-6)
    assert run.notes["backtest"]["gain_ci"] == pytest.approx([row["gain_low"], row["gain_high"]], abs=1e-6)
    assert (run.cells["backtest_pai"] == run.notes["backtest"]["pai"]).all()
    assert (run.cells["method"] == run.method).all()


def test_expected_counts_ranks_and_area_shares(chosen):
    c = chosen.cells
    assert len(c) == chosen.notes["cells"] and c["cell_id"].is_unique
    assert c["expected"].sum() == pytest.approx(chosen.notes["expected_total"], abs=1e-5)
    assert c["share"].sum() == pytest.approx(1.0)
    # rank 1 = the highest score; equal scores share the best rank
    by = c.sort_values("score", ascending=False, kind="stable")
    assert by["rank"].iloc[0] == 1 and by["rank"].is_monotonic_increasing
    for _, g in c.groupby("score"):
        assert g["rank"].nunique() == 1
    first = c.loc[c["rank"].idxmin()]
    assert first["score"] == c["score"].max()
    # cumulative area share: all cells ranked as high or higher (by score, then cell order)
    assert by["cum_area_share"].is_monotonic_increasing and by["cum_area_share"].iloc[-1] == pytest.approx(1.0)
    area = chosen.backtest.grid.area_m2  # type: ignore[union-attr]
    order = np.lexsort((np.arange(len(c)), -c["score"].to_numpy()))
    assert c["cum_area_share"].to_numpy()[order[2]] == pytest.approx(area[order[:3]].sum() / area.sum())
    top = c["cum_area_share"] <= 0.01 + 1e-12
    assert chosen.notes["expected_in_top_share"] == pytest.approx(c.loc[top, "expected"].sum(), abs=1e-5)


def test_scores_are_scaled_to_last_year(records):
    # prior counts are not a count for the next month: scaled to the incidents of the last 365 days × 31 / 365
    run = next_period_forecast(records, options=SurfaceOptions(backtest=ForecastOptions(**BT), method="prior"))
    assert run.method == "prior" and run.notes["chosen"] == "asked"
    assert sorted(set(run.backtest.summary["method"])) == ["prior"]
    times, xy, w = dated_points(records, "EPSG:9377")
    inside = run.backtest.grid.locate(xy) >= 0  # type: ignore[union-attr]
    last_year = (times >= np.datetime64("2021-01-01")) & inside  # 365 days before 2022-01-01
    assert run.notes["incidents_last_365_days"] == last_year.sum()
    assert run.cells["expected"].sum() == pytest.approx(last_year.sum() * 31 / 365)
    # each cell's share of the expected total is its share of all prior incidents in the grid
    np.testing.assert_allclose(run.cells["share"].to_numpy(), run.cells["score"].to_numpy() / inside.sum())


def test_write_and_replay(chosen, tmp_path):
    run = chosen
    written = run.write(tmp_path / "o")
    names = sorted(p.name for p in written.paths)
    assert names == [
        "manifest.json",
        "pronostico_curva.csv",
        "pronostico_curva_month.svg",
        "pronostico_resumen.csv",
        "pronostico_superficie.csv",
        "pronostico_superficie.geojson",
        "pronostico_superficie.gpkg",
    ]
    man = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "geoprio.forecast_surface"
    assert man["notes"]["method"] == run.method and man["notes"]["backtest"] == run.notes["backtest"]
    table = pd.read_csv(tmp_path / "o" / "pronostico_superficie.csv")
    assert table["expected"].sum() == pytest.approx(run.notes["expected_total"], abs=1e-4)
    assert {"lon", "lat", "rank", "backtest_pai"} <= set(table.columns)
    # the replay re-runs the backtest and the fit from the manifest: the same tables, byte for byte
    rep = replay_any_forecast(tmp_path / "o" / "manifest.json", out_dir=tmp_path / "r")
    assert rep.different == [] and "pronostico_superficie.csv" in rep.identical


def test_options_and_manifest_errors(tmp_path):
    with pytest.raises(InputError, match="one horizon"):
        SurfaceOptions(backtest=ForecastOptions(horizons=("month", "week")))
    with pytest.raises(InputError, match="unknown forecast method 'lstm'"):
        SurfaceOptions(method="lstm")
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps({"kind": "geoprio.hotspots", "inputs": [], "outputs": []}), encoding="utf-8")
    with pytest.raises(ManifestError, match="expected 'geoprio.forecast'"):
        replay_any_forecast(bad)


def test_a_method_is_chosen_over_prior_counts_only_when_its_interval_excludes_zero():
    """kde has the best mean PAI but its paired interval includes zero; recent beats prior counts
    with an interval above zero, so recent is chosen; with no such method, prior counts are.
    """
    from types import SimpleNamespace

    from geoprio.hotspots.forecast_layer import _choose

    def summary(recent_low: float) -> SimpleNamespace:
        rows = [("prior", 10.0, 0.0), ("kde", 13.0, -0.5), ("recent", 11.0, recent_low)]
        table = pd.DataFrame(
            [{"horizon": "month", "area_share": 0.01, "method": m, "pai": pai, "pai_diff_low": low} for m, pai, low in rows]
        )
        return SimpleNamespace(summary=table)

    opts = SurfaceOptions(backtest=ForecastOptions(methods=("recent", "kde"), **BT))
    assert _choose(summary(0.2), opts) == "recent"  # type: ignore[arg-type]
    assert _choose(summary(-0.1), opts) == "prior"  # type: ignore[arg-type]
    assert _choose(summary(-0.1), opts.model_copy(update={"method": "kde"})) == "kde"  # type: ignore[arg-type]
