"""``geoprio count``: a partitioned dataset counted per zone and grid cell, in memory and on a cluster.

One local cluster (thread workers) for the module; the command reaches it by its address
(``--scheduler tcp://…``), as it would reach a cluster started elsewhere.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("distributed", reason="the Dask engine needs dask and distributed (the dask extra)")

from geoprio.cli import app
from geoprio.io.cluster import EngineOptions, open_engine
from tests.zones.synthetic_points import EXPECTED, write_dataset, write_zones

runner = CliRunner()


@pytest.fixture(scope="module")
def cluster():
    with open_engine(EngineOptions(engine="local", workers=1, memory_per_worker="6GB", processes=False)) as eng:
        yield eng


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("count")
    return write_dataset(folder / "dataset"), write_zones(folder)


def count(*args: str):
    return runner.invoke(app, ["count", *args])


def test_count_in_memory_writes_tables_layers_and_a_manifest(inputs, tmp_path):
    dataset, zones = inputs
    out = tmp_path / "memoria"
    result = count(str(dataset), "--zones", str(zones), "--zones-id", "codigo", "--grid-m", "500", "--out", str(out), "--format", "csv")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Motor: memory" in text
    assert "10 puntos leídos de 3 particiones: 8 en zonas, 2 fuera de toda zona" in text
    assert "Rejilla de 500 m: 25 celdas, 2 puntos fuera de la rejilla" in text
    groups = pd.read_csv(out / "conteos_zonas_grupos.csv", dtype={"period": str})
    assert {(r.zone_id, r.period, r.category): r.count for r in groups.itertuples()} == EXPECTED
    zones_csv = pd.read_csv(out / "conteos_zonas.csv")
    assert dict(zip(zones_csv["zone_id"], zones_csv["count"], strict=True)) == {"A1": 3, "A2": 2, "B1": 2, "B2": 1}
    cells = pd.read_csv(out / "conteos_celdas.csv")
    assert len(cells) == 25 and cells["count"].sum() == 8
    assert pd.read_csv(out / "conteos_celdas_grupos.csv")["count"].sum() == 8
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "geoprio.count" and manifest["engine"] == {"engine": "memory"}
    assert manifest["options"]["grid_m"] == 500 and manifest["options"]["engine"]["engine"] == "memory"
    assert len(manifest["inputs"]) == 4  # three partitions and the zones


def test_count_on_a_cluster_by_address_writes_the_same_files_and_replays(inputs, cluster, tmp_path):
    dataset, zones = inputs
    base = [str(dataset), "--zones", str(zones), "--zones-id", "codigo", "--format", "csv", "--lang", "en"]
    here, there = tmp_path / "memory", tmp_path / "cluster"
    assert count(*base, "--out", str(here)).exit_code == 0
    result = count(*base, "--scheduler", cluster.address, "--out", str(there))
    assert result.exit_code == 0, result.output
    assert f"Engine: Dask cluster {cluster.address} (1 worker, 1 thread, memory per worker 6 GB)" in result.output
    for name in ("conteos_zonas.csv", "conteos_zonas_grupos.csv", "conteos_notas.json"):
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    manifest = json.loads((there / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"]["engine"] == "scheduler" and manifest["engine"]["workers"] == 1
    # a run made on the cluster replays in memory with identical outputs
    replay = count("--manifest", str(there / "manifest.json"), "--out", str(tmp_path / "again"), "--lang", "en")
    assert replay.exit_code == 0, replay.output
    assert "Reproduced: 3 identical outputs" in replay.output


def test_count_by_year_only_and_without_writing(inputs):
    dataset, zones = inputs
    result = count(str(dataset), "--zones", str(zones), "--zones-id", "codigo", "--by", "period", "--period", "year", "--top", "2")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Zonas con más puntos (2 de 4)" in text and "Nada escrito" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark"], "engine: expected 'memory' (in this process), 'local'"),
        (["--engine", "local", "--scheduler", "tcp://127.0.0.1:8786"], "give one of the two"),
        (["--by", "hour"], "--by: expected 'period', 'category'"),
        (["--memory-per-worker", "lots"], "memory_per_worker: expected a size such as '2GB'"),
        (["--period", "decade"], "period"),
    ],
)
def test_bad_flags_are_clear_errors(inputs, args, message):
    dataset, zones = inputs
    result = count(str(dataset), "--zones", str(zones), "--zones-id", "codigo", *args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
