"""The seguimiento follows the run protocol: ``track(options)`` writes nothing, ``result.write``
writes the outputs and one manifest, and ``replay_tracking`` (``geoprio indicators --manifest``)
re-runs a run from its manifest and finds the same outputs. Also the words and numbers that
users read: every label in both languages, and the number formats.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from geoprio.cli import app
from geoprio.errors import InputError, ManifestError
from geoprio.io.results import Written
from geoprio.options import validated
from geoprio.seguimiento import (
    TargetsConfig,
    format_compact,
    format_number,
    format_percent,
    load_targets,
    replay_tracking,
    track,
)
from tests.builders import TARGETS_TOML, write_tiny_city

runner = CliRunner()

OUTPUTS = ["seguimiento.csv", "seguimiento.json", "seguimiento_zonas.geojson", "seguimiento.html"]


@pytest.fixture()
def city(tmp_path):
    return write_tiny_city(tmp_path / "ciudad")


def test_track_writes_nothing(city):
    before = sorted(p.name for p in city.parent.iterdir())
    res = track(load_targets(city))
    assert sorted(p.name for p in city.parent.iterdir()) == before  # no [output] dir "salida" either
    assert res.kind == "geoprio.seguimiento"


def test_write_returns_the_files_and_the_manifest(city, tmp_path):
    res = track(load_targets(city), year=2022, lang="en")
    written = res.write(tmp_path / "out", command="geoprio indicators metas.toml", targets_file=city)
    assert isinstance(written, Written)
    assert [p.name for p in written.files] == OUTPUTS and written.manifest.name == "seguimiento_manifest.json"
    m = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert m["kind"] == "geoprio.seguimiento" and m["command"] == "geoprio indicators metas.toml" and m["formats"] == ["geojson"]
    # the options are stored whole, with the year and language of the run, and rebuild the same config
    assert m["options"]["options"]["year"] == 2022 and m["options"]["options"]["lang"] == "en"
    again = validated(TargetsConfig, m["options"], source="manifest")
    assert again.indicators == res.config.indicators and again.options == res.config.options
    assert Path(m["options"]["output"]["dir"]) == (tmp_path / "out").resolve()
    assert Path(m["inputs"][0]["path"]).name == "metas.toml"


def test_write_defaults_to_the_output_dir_of_the_file(city):
    written = track(load_targets(city)).write()
    assert written.manifest.parent == city.parent / "salida"


def test_zone_layer_formats(city, tmp_path):
    res = track(load_targets(city))
    written = res.write(tmp_path / "out", ["geojson", "gpkg"])
    assert [p.name for p in written.files] == [*OUTPUTS[:3], "seguimiento_zonas.gpkg", OUTPUTS[3]]
    with pytest.raises(InputError, match=r"unknown format\(s\) \['kml'\] for seguimiento_zonas"):
        res.write(tmp_path / "bad", ["kml"])


def test_replay_reproduces_the_outputs(city, tmp_path):
    written = track(load_targets(city), lang="en").write(tmp_path / "out", targets_file=city)
    replay = replay_tracking(written.manifest, out_dir=tmp_path / "again")
    assert replay.different == [] and sorted(replay.identical) == ["seguimiento.csv", "seguimiento.json"]
    assert replay.result.lang == "en" and replay.written.manifest == tmp_path / "again" / "seguimiento_manifest.json"
    for name in OUTPUTS:
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "out" / name).read_bytes(), name


def test_replay_of_a_program_csv_does_not_read_it_twice(tmp_path):
    toml = TARGETS_TOML.replace('title = "Ciudad de prueba"', 'title = "Ciudad de prueba"\nprogram = "metas.csv"')
    start, end = toml.index("[[indicators]]"), toml.index("[options]")
    path = write_tiny_city(tmp_path / "c", toml=toml[:start] + toml[end:])
    program = "indicator,year,target,trend,objective,source\nq,2023,6,suma,servicio,quejas\n"
    (path.parent / "metas.csv").write_text(program, encoding="utf-8")
    written = track(load_targets(path)).write(tmp_path / "out")
    replay = replay_tracking(written.manifest)
    assert replay.different == [] and [r.config.id for r in replay.result.indicators] == ["q"]
    assert "metas.csv" in {Path(i["path"]).name for i in json.loads(written.manifest.read_text(encoding="utf-8"))["inputs"]}


def test_replay_refuses_a_changed_input_or_another_kind(city, tmp_path):
    written = track(load_targets(city)).write(tmp_path / "out")
    (city.parent / "quejas.csv").write_text((city.parent / "quejas.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"quejas.csv: changed since the run"):
        replay_tracking(written.manifest)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"kind": "geoprio.index", "inputs": [], "outputs": []}), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"a 'geoprio.index' manifest, expected 'geoprio.seguimiento'"):
        replay_tracking(other)


def test_track_refuses_an_unknown_language(city):
    with pytest.raises(InputError, match=r"language 'fr' is not available; choose one of es, en"):
        track(load_targets(city), lang="fr")


def test_cli_manifest_replay(city, tmp_path):
    result = runner.invoke(app, ["indicators", str(city), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = tmp_path / "out" / "seguimiento_manifest.json"
    result = runner.invoke(app, ["indicators", "--manifest", str(manifest), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert "Reproducido: 2 salidas idénticas" in result.output and str(tmp_path / "again" / "seguimiento.json") in result.output
    m = json.loads((tmp_path / "again" / "seguimiento_manifest.json").read_text(encoding="utf-8"))
    assert m["command"].split()[0] == "geoprio"  # the command line as typed (here, pytest's argv, empty under xdist)
    result = runner.invoke(app, ["indicators", str(city), "--manifest", str(manifest)])
    assert result.exit_code == 2 and "not both" in result.output
    result = runner.invoke(app, ["indicators"])
    assert result.exit_code == 2 and "--manifest" in result.output


def test_cli_format_of_the_zone_layer(city, tmp_path):
    result = runner.invoke(app, ["indicators", str(city), "--out", str(tmp_path / "out"), "--format", "gpkg"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "seguimiento_zonas.gpkg").is_file() and not (tmp_path / "out" / "seguimiento_zonas.geojson").exists()
    result = runner.invoke(app, ["indicators", str(city), "--format", "kml"])
    assert result.exit_code == 1 and "--format: unknown format(s) 'kml'" in result.output


@pytest.mark.parametrize("topic", ["seguimiento", "seguimiento_notes", "seguimiento_report", "seguimiento_cli"])
def test_every_label_has_both_languages(topic):
    text = (resources.files("geoprio") / "resources" / "labels" / f"{topic}.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)
    assert table and all(set(entry) == {"es", "en"} and entry["es"] and entry["en"] for entry in table.values())


def test_number_formats():
    # a table's numbers: fewer decimals the larger they are; a missing value is a dash
    assert [format_number(v) for v in (12345.6, 123.4, 12.34, 1.234, None, float("nan"))] == ["12,346", "123", "12.3", "1.23", "–", "–"]
    assert format_number(-0.456, 2) == "-0.456" and format_number(456.78, 2) == "456.8"
    # a value inside a sentence: at most two decimals, no trailing zeros
    assert [format_compact(v) for v in (13.631, 13.0, 1500.4, None)] == ["13.63", "13", "1,500", "–"]
    # a share as a percentage; a tiny negative does not read "-0.0 %"
    assert [format_percent(v) for v in (0.7167, 1.0, -0.0001, None)] == ["71.7 %", "100.0 %", "0.0 %", "–"]
