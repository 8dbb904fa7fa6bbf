"""``geoprio forecast --surface`` and ``geoprio plan cameras --demand``: the surface as camera demand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from pyproj import Transformer
from typer.testing import CliRunner

from geoprio.cli import forecast
from geoprio.cli.plan import plan_app

from .test_forecast import _synthetic

runner = CliRunner()
app = typer.Typer()
forecast.register(app)
app.command("noop", hidden=True)(lambda: None)  # two commands: typer keeps `forecast` as a subcommand


def run(*args: object):
    return runner.invoke(app, ["forecast", *[str(a) for a in args]], catch_exceptions=False)


@pytest.fixture(scope="module")
def surface(tmp_path_factory):
    """A forecast surface written by the CLI (prior counts asked for: the cheapest fit)."""
    tmp = tmp_path_factory.mktemp("surface_cli")
    path = tmp / "incidentes.csv"
    _synthetic(n_days=240).to_csv(path, index=False)
    args = [path, "--date", "date", "--origins", "2", "--warmup", "1", "--cell-size-m", "300", "--bootstrap", "100"]
    res = run(*args, "--surface", "--method", "prior", "--format", "csv", "--out", tmp / "o")
    return tmp, res


def test_surface_prints_writes_and_replays(surface):
    tmp, res = surface
    assert res.exit_code == 0, res.output
    # 240 days from 2021-01-01 end on 2021-08-28: the next whole month is September
    assert "Pronóstico del 2021-09-01 al 2021-09-30 con conteos previos (línea base)" in res.output
    assert sorted(p.name for p in (tmp / "o").iterdir()) == [
        "manifest.json",
        "pronostico_curva.csv",
        "pronostico_curva_month.svg",
        "pronostico_resumen.csv",
        "pronostico_superficie.csv",
    ]
    man = json.loads((tmp / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "geoprio.forecast_surface" and man["options"]["options"]["method"] == "prior"
    assert man["notes"]["period_start"] == "2021-09-01" and man["formats"] == ["csv"]
    rep = runner.invoke(app, ["forecast", "--manifest", str(tmp / "o" / "manifest.json"), "--out", str(tmp / "r")])
    assert rep.exit_code == 0, rep.output
    assert "Pronóstico del 2021-09-01" in rep.output
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp / "r" / "pronostico_superficie.csv"), pd.read_csv(tmp / "o" / "pronostico_superficie.csv")
    )


def test_surface_flags_are_checked(surface):
    tmp, _ = surface
    path = tmp / "incidentes.csv"
    res = run(path, "--date", "date", "--method", "prior")
    assert res.exit_code != 0 and "go with --surface" in res.output
    res = run(path, "--date", "date", "--surface", "--horizons", "month,week")
    assert res.exit_code == 1 and "one horizon" in res.output and "Traceback" not in res.output
    res = run(path, "--date", "date", "--surface", "--method", "lstm")
    assert res.exit_code == 1 and "unknown forecast method 'lstm'" in res.output


def test_camera_demand_is_the_forecast(surface):
    tmp, _ = surface
    table = pd.read_csv(tmp / "o" / "pronostico_superficie.csv")
    res = runner.invoke(
        plan_app,
        ["cameras", "--demand", str(tmp / "o" / "pronostico_superficie.csv"), "--p", "3", "--radius-m", "400",
         "--method", "heuristic", "--time-limit", "5", "--out", str(tmp / "plan"), "--format", "csv"],
        catch_exceptions=False,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    demand = pd.read_csv(tmp / "plan" / "camaras_demanda.csv")
    # one demand point per cell, weighing its expected incidents
    assert len(demand) == len(table)
    assert demand["weight"].sum() == pytest.approx(table["expected"].sum(), rel=1e-9)
    # covered demand = the sum of the forecasts of the cells whose centre is within 400 m of a new camera
    sites = pd.read_csv(tmp / "plan" / "camaras_sitios.csv")
    tr = Transformer.from_crs("EPSG:4326", "EPSG:9377", always_xy=True)
    cx, cy = tr.transform(table["lon"].to_numpy(), table["lat"].to_numpy())
    sx, sy = tr.transform(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    d = np.hypot(cx[:, None] - sx[None, :], cy[:, None] - sy[None, :])
    covered = (d <= 400.0).any(axis=1)
    summary = json.loads((tmp / "plan" / "camaras_resumen.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(table.loc[covered, "expected"].sum(), rel=1e-6)
    assert demand.loc[demand["covered"].astype(bool), "weight"].sum() == pytest.approx(table.loc[covered, "expected"].sum(), rel=1e-6)
    # a replay of the plan reads the surface again
    man = json.loads((tmp / "plan" / "manifest.json").read_text(encoding="utf-8"))
    assert man["options"]["weight_column"] == "expected" and man["options"]["harm"] is False


def test_demand_that_is_not_a_surface_is_refused(surface, tmp_path):
    tmp, _ = surface
    res = runner.invoke(plan_app, ["cameras", "--demand", str(tmp / "incidentes.csv"), "--p", "2"])
    assert res.exit_code == 1 and "not a forecast surface table" in res.output and "['lon', 'lat', 'expected']" in res.output
    bad = tmp_path / "s.csv"
    pd.DataFrame({"lon": [-74.08], "lat": [4.65], "expected": [-1.0]}).to_csv(bad, index=False)
    res = runner.invoke(plan_app, ["cameras", "--demand", str(bad), "--p", "1"])
    assert res.exit_code == 1 and "row 2 holds" in res.output
    res = runner.invoke(plan_app, ["cameras", str(tmp / "incidentes.csv"), "--demand", str(bad), "--p", "1"])
    assert res.exit_code != 0 and "not both" in res.output
