"""``geoprio forecast``: the printed table, the files and manifest, the replay, bad input."""

from __future__ import annotations

import json

import pandas as pd
import typer
from typer.testing import CliRunner

from geoprio.cli import forecast

from .test_forecast import _synthetic

runner = CliRunner()
app = typer.Typer()
forecast.register(app)
app.command("noop", hidden=True)(lambda: None)  # two commands: typer keeps `forecast` as a subcommand


def run(*args: object):
    return runner.invoke(app, ["forecast", *[str(a) for a in args]], catch_exceptions=False)


def test_forecast_prints_writes_and_replays(tmp_path):
    path = tmp_path / "incidentes.csv"
    _synthetic(n_days=240).to_csv(path, index=False)
    base = [path, "--date", "date", "--origins", "2", "--warmup", "1", "--cell-size-m", "300", "--bootstrap", "100"]
    res = run(*base, "--methods", "recent,kde", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert "Pronóstico por mes: 2 orígenes (2021-06-01 – 2021-07-01)" in res.output
    # 240 days from 2021-01-01 end on 2021-08-28: August is not whole, July is the last month scored
    assert "conteos previos (línea base)" in res.output and "densidad kernel" in res.output
    assert "meta de +10 %" in res.output or "cumple la meta de 10 %" in res.output
    table = pd.read_csv(tmp_path / "o" / "pronostico_resumen.csv")
    assert sorted(set(table["method"])) == ["kde", "prior", "recent"]
    assert len(table) == 3 * 4  # three methods at four shares
    man = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert man["kind"] == "geoprio.forecast" and man["options"]["options"]["origins"] == 2
    rep = runner.invoke(app, ["forecast", "--manifest", str(tmp_path / "o" / "manifest.json"), "--out", str(tmp_path / "r")])
    assert rep.exit_code == 0, rep.output
    again = pd.read_csv(tmp_path / "r" / "pronostico_resumen.csv")
    pd.testing.assert_frame_equal(again, table)


def test_bad_options_exit_1_without_traceback(tmp_path):
    path = tmp_path / "incidentes.csv"
    _synthetic(n_days=60).to_csv(path, index=False)
    res = run(path, "--date", "date", "--horizons", "day")
    assert res.exit_code == 1 and "horizons" in res.output and "Traceback" not in res.output
    res = run(path, "--date", "date", "--methods", "lstm")
    assert res.exit_code == 1 and "unknown forecast method(s) ['lstm']" in res.output


def test_sepp_on_hexagonal_cells_says_its_triggering_stays_in_the_cell(tmp_path):
    path = tmp_path / "incidentes.csv"
    _synthetic(n_days=240).to_csv(path, index=False)
    base = [path, "--date", "date", "--origins", "2", "--warmup", "1", "--cell-size-m", "300", "--bootstrap", "50"]
    res = run(*base, "--methods", "sepp", "--shape", "hex", "--out", tmp_path / "hex")
    assert res.exit_code == 0, res.output
    assert "con celdas hexagonales el disparo queda en la celda del incidente" in res.output
    man = json.loads((tmp_path / "hex" / "manifest.json").read_text(encoding="utf-8"))
    assert man["notes"]["sepp_spatial"] == "off"
    square = run(*base, "--methods", "sepp", "--out", tmp_path / "sq")
    assert square.exit_code == 0 and "celdas hexagonales" not in square.output
