"""``geoprio indicators`` through its own Typer app (CliRunner), as cli.py will register it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from geoprio.cli import app
from tests.builders import POPULATION, write_tiny_city

runner = CliRunner()


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    return write_tiny_city(tmp_path_factory.mktemp("cli"))


def test_help():
    result = runner.invoke(app, ["indicators", "--help"])
    assert result.exit_code == 0 and "TARGETS" in result.output and "--year" in result.output


def test_indicators_prints_progress_and_writes_outputs(targets, tmp_path):
    result = runner.invoke(app, ["indicators", str(targets), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Seguimiento — Ciudad de prueba — 2023" in text
    # hurto: baseline 200 (2022), target 150, 80 per 100,000 in six months, progress 80 %
    assert "200 (2022)" in text and "80,0 (acumulado a 6 meses)" in text and "80,0 %" in text
    assert "1 de 2 zonas cumplen" in text  # hurto por localidad: L2 meets it, L1 does not
    assert "Avance del plan 2023: 71,7 %" in text  # (2·0.575 + 1·1)/3
    assert "Dónde se pierde la meta de «Tasa de hurto» en 2023 (localidad): L1 (300,0 %)" in text
    assert "delitos.csv: 17 de 18 filas usadas" in text  # the validation report (stderr, mixed in by CliRunner)
    for name in ("seguimiento.csv", "seguimiento.json", "seguimiento_zonas.geojson", "seguimiento.html", "seguimiento_manifest.json"):
        assert (tmp_path / "out" / name).is_file() and name in text
    manifest = json.loads((tmp_path / "out" / "seguimiento_manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"] and manifest["options"]["title"] == "Ciudad de prueba"  # the run's options, whole
    page = (tmp_path / "out" / "seguimiento.html").read_text(encoding="utf-8")
    assert "71,7 %" in page and "71.7 %" not in page  # the report reads as the console does


def test_english_and_year(targets, tmp_path):
    result = runner.invoke(app, ["indicators", str(targets), "--out", str(tmp_path / "en"), "--lang", "en", "--year", "2022"])
    assert result.exit_code == 0, result.output
    assert "Plan tracking — Ciudad de prueba — 2022" in result.output and "Plan progress 2022: 100.0 %" in result.output
    page = (tmp_path / "en" / "seguimiento.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "100.0 %" in page and "100,0 %" not in page


def test_errors_are_one_message_and_exit_1(targets, tmp_path):
    result = runner.invoke(app, ["indicators", str(tmp_path / "nada.toml")])
    assert result.exit_code == 1 and "targets file not found" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["indicators", str(targets), "--year", "2030", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "year 2030 is not tracked" in result.output
    result = runner.invoke(app, ["indicators", str(targets), "--lang", "fr"])
    assert result.exit_code == 1 and "language 'fr' is not available; choose one of es, en" in result.output
    pop = {(z, y): p for z, p in POPULATION.items() for y in (2022, 2023) if (z, y) != ("B1", 2022)}
    broken = write_tiny_city(tmp_path / "sinpob", population=pop)
    result = runner.invoke(app, ["indicators", str(broken)])
    assert result.exit_code == 1
    assert "needs the population of upz 'B1' (Beta Uno); poblacion.csv has no row for it" in result.output.replace("\n", "")


def test_the_zone_layer_goes_on_a_map_with_geoprio_map_seguimiento(targets, tmp_path):

    result = runner.invoke(app, ["indicators", str(targets), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    layer = tmp_path / "out" / "seguimiento_zonas.geojson"
    result = runner.invoke(app, ["map", "--seguimiento", str(layer), "--out", str(tmp_path / "mapa.html"), "--tiles", "none"])
    assert result.exit_code == 0, result.output
    # one layer per indicator with a zone breakdown or zones, two localidades each
    for name in ("Seguimiento 2023 — Tasa de hurto", "Seguimiento 2023 — hurto_localidad", "Seguimiento 2023 — homicidio_share"):
        assert name in result.output
    page = (tmp_path / "mapa.html").read_text(encoding="utf-8")
    assert "<title>Seguimiento del plan</title>" in page and page.count(".bindPopup(") == 3
    manifest = json.loads((tmp_path / "mapa.manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["role"] == "tracking" and manifest["inputs"][0]["path"] == str(layer)
