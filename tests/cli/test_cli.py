"""The command line: every command's help, the demo end to end, errors without tracebacks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from geoprio.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
#: The demo city shipped in the repository (read only: every command here writes to tmp_path).
DEMO_INPUTS = ROOT / "data" / "demo"
_TOML, _UPZ = str(DEMO_INPUTS / "indice.toml"), str(DEMO_INPUTS / "upz.geojson")
_CRIMES, _COMPLAINTS = str(DEMO_INPUTS / "delitos.csv"), str(DEMO_INPUTS / "quejas.csv")


def geoprio(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real entry point in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "geoprio", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["index"],
        ["demo"],
        ["validate"],
        ["grid"],
        ["harm"],
        ["map"],
        ["indicators"],
        ["serve"],
        ["apikey", "create"],
        ["apikey", "list"],
        ["apikey", "revoke"],
        ["apikey", "rotate"],
        ["hotspots"],
        ["backtest"],
        ["displacement"],
        ["plan"],
        ["plan", "cameras"],
        ["plan", "garitas"],
    ],
)
def test_help_on_every_command(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    r = geoprio("demo", "--out", str(out), "--incidents", "6000", "--top", "5", "--maps", str(out / "mapas"))
    assert r.returncode == 0, r.stderr
    assert "Índice de priorización — upz (top 5 de 30)" in r.stdout
    assert "delitos.csv: 5." in r.stderr and "latitud y longitud invertidas" in r.stderr
    assert "† denominador menor que 5000 (solo marcadas): UPZ02 La Candelaria" in r.stdout
    plans = [line for line in r.stdout.splitlines() if line.startswith("Plan de ")]  # "… cubren 38,5 % …; brecha 0,00 %"
    assert plans and all(re.search(r"cubren \d+,\d %.*brecha \d+,\d\d %", line) for line in plans), plans
    return out


def test_demo_writes_inputs_outputs_and_manifest(demo_dir):
    for name in ("upz.geojson", "delitos.csv", "quejas.csv", "convivencia.csv", "playas.geojson", "indice.toml"):
        assert (demo_dir / name).exists(), name
    t = pd.read_csv(demo_dir / "output" / "indice_upz.csv")
    assert len(t) == 30 and t["rank"].min() == 1 and set(t["tier"]) == {"alta", "media", "baja"}
    assert {"rank_p05", "rank_p95", "p_top_5", "drivers"} <= set(t.columns)
    assert (demo_dir / "output" / "manifest.json").exists()
    html = (demo_dir / "mapas" / "indice.html").read_text(encoding="utf-8")
    assert "La Candelaria" in html and (demo_dir / "mapas" / "assets").is_dir()


def test_index_from_config_in_english_and_replay_from_manifest(tmp_path):
    r = geoprio("index", _TOML, "--out", str(tmp_path / "en"), "--lang", "en", "--draws", "50", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert "Prioritization index — upz" in r.stdout and "high" in r.stdout
    assert sorted(p.name for p in (tmp_path / "en").iterdir()) == [
        "indice_upz.csv",
        "indice_upz_notas.json",
        "indice_upz_validacion.json",
        "manifest.json",
    ]
    replay = geoprio("index", "--manifest", str(tmp_path / "en" / "manifest.json"), "--out", str(tmp_path / "again"))
    assert replay.returncode == 0, replay.stderr
    assert "Reproducido: 3 salidas idénticas" in replay.stdout


def test_bad_input_exits_non_zero_without_traceback(tmp_path):
    bad = tmp_path / "sin_coordenadas.csv"
    bad.write_text("fecha;delito\n2024-01-01;Hurto\n", encoding="utf-8")
    r = geoprio("validate", str(bad))
    assert r.returncode == 1
    assert "sin_coordenadas.csv: no column for 'x'" in r.stderr and "Traceback" not in r.stderr + r.stdout
    r = geoprio("index", str(tmp_path / "missing.toml"))
    assert r.returncode == 1 and "missing.toml: configuration file not found" in r.stderr and "Traceback" not in r.stderr
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[zones]\npath = "z.geojson"\nid = "c"\n[sources.d]\npath = "d.csv"\n'
        '[[indicators]]\nname = "a"\nsource = "d"\nmeasure = "rate"\nweight = 1\n',
        encoding="utf-8",
    )
    r = geoprio("index", str(cfg))
    assert r.returncode == 1 and "a rate needs zone population ([zones.population]" in r.stderr and "Traceback" not in r.stderr
    r = runner.invoke(app, ["index", str(cfg), "--format", "xls"])
    assert r.exit_code != 0


def test_validate_reports_rows_and_unmatched_keys():
    r = geoprio(
        "validate",
        str(DEMO_INPUTS / "quejas.csv"),
        "--key",
        "upz",
        "--zones",
        str(DEMO_INPUTS / "upz.geojson"),
        "--zones-id",
        "cod_upz",
        "--zones-name",
        "nombre",
        "--lang",
        "en",
    )
    assert r.returncode == 0, r.stderr
    assert "rows used" in r.stdout and "place matches no zone" in r.stdout and "Most frequent unmatched places" in r.stdout


def test_grid_and_harm_commands(tmp_path):
    r = geoprio(
        "grid",
        str(DEMO_INPUTS / "upz.geojson"),
        "--id",
        "cod_upz",
        "--cell-size-m",
        "500",
        "--shape",
        "hex",
        "--out",
        str(tmp_path / "hex.gpkg"),
    )
    assert r.returncode == 0, r.stderr and (tmp_path / "hex.gpkg").exists()
    h = runner.invoke(app, ["harm"])
    assert h.exit_code == 0 and "homicidio" in h.output and "208" in h.output
    v = runner.invoke(app, ["--version"])
    assert v.exit_code == 0 and v.output.startswith("geoprio ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", _TOML, "--lang", "fr"], "language 'fr' is not available; choose one of es, en"),
        (["index", _TOML, "--format", "kml"], "unknown format(s) 'kml'; choose from csv, geojson, gpkg, parquet, shp, xlsx"),
        (["index", _TOML, "--crs", "EPSG:99999"], "--crs: 'EPSG:99999' is not a coordinate reference system pyproj knows"),
        (["index", _TOML, "--csv", "tsv"], "--csv: unknown dialect 'tsv'; choose from standard, excel"),
        (["index"], "give a CONFIG file or --manifest"),
        (["index", _TOML, "--manifest", "m.json"], "give either CONFIG or --manifest, not both"),
        (["validate", _CRIMES, "--lang", "fr"], "language 'fr' is not available"),
        (["validate", _CRIMES, "--kind", "robo"], "kind: Input should be 'crime', 'complaint' or 'coexistence'"),
        (["validate", _COMPLAINTS, "--key", "upz", "--zones", _UPZ], "--zones needs --zones-id"),
        (["grid", _UPZ, "--id", "cod_upz", "--cell-size-m", "500", "--shape", "tri", "--out", "g.gpkg"], "shape must be"),
        (["harm", "--lang", "fr"], "language 'fr' is not available"),
    ],
)
def test_input_errors_exit_1_naming_the_choices(args, message, tmp_path):
    r = geoprio(*args, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert message in r.stderr and "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert not any(tmp_path.iterdir())


def test_harm_in_english():
    h = runner.invoke(app, ["harm", "--lang", "en"])
    assert h.exit_code == 0 and "Harm weights (geoprio default)" in h.output and "homicidio" in h.output
