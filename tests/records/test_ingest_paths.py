"""An ingest run names its inputs by absolute paths, so its manifest replays from any folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoprio.records.ingest import expand_inputs, ingest_records, replay_ingest


def test_a_run_from_relative_paths_replays_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "datos"
    data.mkdir()
    rows = "\n".join(f"{i},2024-01-{1 + i % 28:02d},-74.0{i % 9},4.6{i % 7}" for i in range(40))
    (data / "a.csv").write_text("id,fecha,lon,lat\n" + rows + "\n", encoding="utf-8")
    monkeypatch.chdir(data)
    assert expand_inputs(["a.csv", "*.csv"]) == (data / "a.csv",)  # absolute, and each file once
    result = ingest_records(["a.csv"], tmp_path / "ds", x="lon", y="lat", date="fecha", id="id")
    assert [Path(p) for p in result.options.paths] == [data / "a.csv"]
    elsewhere = tmp_path / "otra"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    replay = replay_ingest(tmp_path / "ds" / "manifest.json", out_dir=tmp_path / "again")
    assert replay.different == [] and replay.identical == ["validacion.json"]
