"""Plans from Python: geoprio's own objects as inputs, one options object, ``write`` and replay."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from geoprio.errors import ColumnError, ConfigError
from geoprio.io.results import Written
from geoprio.placement import (
    CameraPlanOptions,
    GaritaPlanOptions,
    plan_cameras,
    plan_garitas,
    replay_camera_plan,
    replay_garita_plan,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
QUICK = {"p": 5, "grid_spacing_m": 200.0, "method": "heuristic", "time_limit_s": 5.0}


@pytest.fixture(scope="module")
def index_run():
    from geoprio.index import load_config, run_index

    return run_index(load_config(DEMO / "indice.toml"))


@pytest.fixture(scope="module")
def crimes():
    from geoprio.records.load import load_points

    return load_points(DEMO / "delitos.csv")


def test_index_zones_accept_an_index_run_its_table_and_zones_with_an_index(index_run, crimes):
    by_run = plan_cameras(crimes, index_zones=index_run, **QUICK)
    by_table = plan_cameras(crimes, index_zones=index_run.table, **QUICK)
    frame = index_run.zones.frame
    by_id = index_run.table.set_index("zone_id")["index"]
    zones = dataclasses.replace(index_run.zones, frame=frame.assign(index=by_id.reindex(frame["zone_id"]).to_numpy()))
    by_zones = plan_cameras(crimes, index_zones=zones, **QUICK)
    assert by_run.result.objective == by_table.result.objective == by_zones.result.objective
    assert list(by_run.sites["site_id"]) == list(by_table.sites["site_id"])
    assert by_run.parameters["index_column"] == "index"
    with pytest.raises(ColumnError, match=r"index_zones: these zones have no 'index' column; pass the index run"):
        plan_cameras(crimes, index_zones=index_run.zones, **QUICK)


def test_keywords_and_an_options_object_are_the_same_plan(crimes):
    opts = CameraPlanOptions(**QUICK, radius_m=120.0)
    a = plan_cameras(crimes, options=opts)
    b = plan_cameras(crimes, radius_m=120.0, **QUICK)
    assert a.result.objective == b.result.objective and a.parameters == b.parameters
    c = plan_cameras(crimes, options=opts, p=6)  # keywords win over the options object
    assert c.result.n_selected == 6 and c.options is not None and c.options.p == 6
    with pytest.raises(ConfigError, match=r"radius: unknown setting; did you mean 'radius_m'\?"):
        plan_cameras(crimes, radius=100, **QUICK)


def test_a_plan_from_files_writes_its_manifest_and_replays(tmp_path):
    run = plan_cameras(DEMO / "delitos.csv", existing=DEMO / "camaras.geojson", **QUICK)
    assert run.options is not None and run.options.incidents == DEMO / "delitos.csv"
    assert not list(tmp_path.iterdir())  # nothing written unless asked
    written = run.write(tmp_path, ["csv"])
    assert isinstance(written, Written) and written.manifest == tmp_path / "manifest.json"
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["kind"] == "geoprio.plan.cameras" and doc["formats"] == ["csv"]
    assert doc["options"]["p"] == 5 and doc["options"]["existing"] == str(DEMO / "camaras.geojson")
    assert doc["result"]["time_s"] == round(run.result.time_s, 3) and "progress" in doc["solver_stats"]
    summary = json.loads((tmp_path / "camaras_resumen.json").read_text(encoding="utf-8"))
    assert "time_s" not in summary and "stats" not in summary and summary["objective"] == run.result.objective
    rep = replay_camera_plan(written.manifest, out_dir=tmp_path / "again")
    assert rep.different == [] and "camaras_resumen.json" in rep.identical and "camaras_sitios.csv" in rep.identical


def test_garita_plan_options_replay_and_the_old_writer(tmp_path):
    opts = GaritaPlanOptions(
        coast=DEMO / "costa.geojson", beaches=DEMO / "playas.geojson", p=3, radius_m=400.0, method="heuristic", time_limit_s=5.0
    )
    run = plan_garitas(options=opts)
    written = run.write(tmp_path, ("csv",))
    files, manifest = list(written.files), written.manifest
    assert manifest == tmp_path / "manifest.json" and tmp_path / "garitas_curva.csv" in files
    rep = replay_garita_plan(manifest, out_dir=tmp_path / "again")
    assert rep.different == [] and len(rep.identical) >= 4


def test_a_plan_from_memory_cannot_be_replayed(crimes, tmp_path):
    from geoprio.errors import InputError

    written = plan_cameras(crimes, **QUICK).write(tmp_path, ["csv"])
    with pytest.raises(InputError, match=r"made from data in memory"):
        replay_camera_plan(written.manifest, out_dir=tmp_path / "again")
