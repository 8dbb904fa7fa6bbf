"""``geoprio ingest``: exit codes, the report printed, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from geoprio.cli import app

runner = CliRunner()


def _points(folder: Path) -> None:
    rows = [f"{i},2024-03-{1 + i % 28:02d} {i % 24:02d}:15,-74.{10 + i % 50:02d},4.{60 + i % 30:02d},Hurto" for i in range(60)]
    rows[7] = "7,2024-03-08 07:15,,4.61,Hurto"  # row 9: no longitude
    (folder / "a.csv").write_text("id,fecha,lon,lat,delito\n" + "\n".join(rows[:30]) + "\n", encoding="utf-8")
    (folder / "b.tsv").write_text(
        "id\tfecha\tlon\tlat\tdelito\n" + "\n".join(r.replace(",", "\t") for r in rows[30:]) + "\n", encoding="utf-8"
    )


def test_ingest_writes_the_dataset_and_prints_the_merged_report(tmp_path):
    _points(tmp_path)
    out = tmp_path / "ds"
    res = runner.invoke(
        app, ["ingest", str(tmp_path / "*.csv"), str(tmp_path / "b.tsv"), "--out", str(out), "--chunk-rows", "8", "--partition-rows", "25"]
    )
    assert res.exit_code == 0, res.output
    assert "2 archivos: 59 de 60 filas usadas" in res.output
    assert "59 puntos en 3 particiones GeoParquet, de 2 archivo(s)" in res.output
    assert sorted(p.name for p in out.glob("part-*.parquet")) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [p["rows"] for p in manifest["partitions"]] == [25, 25, 9]
    assert manifest["options"]["chunk_rows"] == 8 and manifest["options"]["paths"][0].endswith("a.csv")
    report = json.loads((out / "validacion.json").read_text(encoding="utf-8"))
    assert report["total"]["examples"]["missing_coordinates"] == [{"row": 9, "column": "lon", "value": None, "file": "a.csv"}]


def test_ingest_input_errors_exit_1_without_a_traceback(tmp_path):
    _points(tmp_path)
    res = runner.invoke(app, ["ingest", str(tmp_path / "nada*.csv"), "--out", str(tmp_path / "ds")])
    assert res.exit_code == 1 and "no file matches this pattern" in res.output and "Traceback" not in res.output
    (tmp_path / "bad.csv").write_text("id,lon,lat\n1,-74.1,4.6\n2,-74.1,4.6,9\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "ds")])
    assert res.exit_code == 1 and "bad.csv: row 3 has 4 fields" in res.output
    res = runner.invoke(app, ["ingest", str(tmp_path / "a.csv"), "--out", str(tmp_path / "ds"), "--bbox", "nowhere"])
    assert res.exit_code == 1 and "--bbox: expected" in res.output
    assert runner.invoke(app, ["ingest", str(tmp_path / "a.csv"), "--out", str(tmp_path / "ds")]).exit_code == 0
    res = runner.invoke(app, ["ingest", str(tmp_path / "a.csv"), "--out", str(tmp_path / "ds")])
    assert res.exit_code == 1 and "already holds a dataset" in res.output
    res = runner.invoke(
        app, ["ingest", str(tmp_path / "a.csv"), "--out", str(tmp_path / "ds"), "--overwrite", "--bbox", "none", "--lang", "en"]
    )
    assert res.exit_code == 0 and "a.csv: 29 of 30 rows used" in res.output


def test_ingest_replays_its_manifest(tmp_path):
    _points(tmp_path)
    out = tmp_path / "ds"
    assert runner.invoke(app, ["ingest", str(tmp_path / "a.csv"), "--out", str(out), "--partition-rows", "10"]).exit_code == 0
    res = runner.invoke(app, ["ingest", "--manifest", str(out / "manifest.json"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "Reproduced: 1 identical outputs" in res.output  # validacion.json, byte for byte
    assert len(list(out.glob("part-*.parquet"))) == 3
    (tmp_path / "a.csv").write_text("id,lon,lat\n1,-74.1,4.6\n", encoding="utf-8")
    res = runner.invoke(app, ["ingest", "--manifest", str(out / "manifest.json")])
    assert res.exit_code == 1 and "changed since the run" in res.output
    res = runner.invoke(app, ["ingest", "--out", str(out)])
    assert res.exit_code == 1 and "needs the files to read and --out" in res.output
