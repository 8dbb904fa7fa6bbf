"""Entornos end to end: config, counts per place, index, surroundings, hours, plan, CLI, real data."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from typer.testing import CliRunner

from geoprio.cli import app
from geoprio.entornos.run import load_entornos_config, parse_entornos_config, run_entornos
from geoprio.errors import ConfigError

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_075_000.0
TO_WGS = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)


@pytest.fixture
def tiny(tmp_path):
    """Three places and a handful of incidents whose counts are known by construction.

    A (estación) at the origin, B (estación) 150 m east, C (parque, a 100 m square) 2 km
    north. Radius 100 m (80 m for the park, from its edge).
    """
    places = gpd.GeoDataFrame(
        {
            "codigo": ["A", "B", "C"],
            "nombre": ["Estación Norte", "Estación Sur", "Parque Central"],
            "tipo": ["estación", "estación", "parque"],
        },
        geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 150, Y0), shapely.box(X0, Y0 + 2000, X0 + 100, Y0 + 2100)],
        crs=METRIC,
    ).to_crs("EPSG:4326")
    places.to_file(tmp_path / "lugares.geojson")
    # (dx, dy, date, hour, category); "between" incidents are 75 m from A and B
    rows = [
        (10, 0, "2024-03-01", 20, "Hurto a personas"),  # A (Friday)
        (-30, 40, "2024-03-01", 21, "Hurto a personas"),  # A
        (0, 90, "2024-03-02", 20, "Lesiones personales"),  # A (Saturday)
        (75, 0, "2024-03-02", 22, "Hurto a personas"),  # A and B (or A only, nearest on a tie)
        (200, 0, "2024-03-04", 8, "Hurto a personas"),  # B (Monday)
        (50, 2050, "2024-03-05", 15, "Hurto a personas"),  # C, inside the park
        (50, 2170, "2024-03-05", 16, "Hurto a personas"),  # C, 70 m beyond its edge
        (50, 2190, "2024-03-06", 16, "Hurto a personas"),  # nowhere (90 m from the park)
        (1000, -1000, "2024-03-06", 3, "Hurto a personas"),  # nowhere
    ]
    dx, dy, dates, hours, cats = zip(*rows, strict=True)
    lon, lat = TO_WGS.transform(X0 + np.array(dx, float), Y0 + np.array(dy, float))
    lines = ["id;fecha;hora;delito;latitud;longitud"]
    for i, (d, h, c, x, y) in enumerate(zip(dates, hours, cats, lon, lat, strict=True)):
        lines.append(f"D{i};{d};{h:02d}:15;{c};{str(round(y, 7)).replace('.', ',')};{str(round(x, 7)).replace('.', ',')}")
    (tmp_path / "delitos.csv").write_text("\n".join(lines) + "\n", encoding="latin-1")
    config = tmp_path / "entornos.toml"
    config.write_text(
        textwrap.dedent(
            """
            [places]
            path = "lugares.geojson"
            type = "tipo"
            name = "nombre"
            id = "codigo"
            radius_m = 100
            radius_by_type = { parque = 80 }
            ring_width_m = 200

            [sources.delitos]
            path = "delitos.csv"

            [[indicators]]
            name = "hurtos"
            source = "delitos"
            categories = ["Hurto*"]
            weight = 2

            [[indicators]]
            name = "lesiones"
            source = "delitos"
            categories = ["Lesiones personales"]
            weight = 1

            [robustness]
            draws = 50

            [profile]
            share = 0.5

            [output]
            dir = "out"
            """
        ),
        encoding="utf-8",
    )
    return config


def test_counts_index_and_hours_on_a_hand_made_case(tiny):
    run = run_entornos(load_entornos_config(tiny))
    assert not (tiny.parent / "out").exists()  # a run writes nothing until asked
    written = run.write()
    t = run.table.set_index("place_id")
    assert t["hurtos"].to_dict() == {"A": 3.0, "B": 2.0, "C": 2.0}
    assert t["lesiones"].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}
    # minmax: hurtos (3, 2, 2) → (1, 0, 0); lesiones (1, 0, 0) → (1, 0, 0); weights 2:1
    assert t.loc["A", "index"] == pytest.approx(100.0) and t.loc["B", "index"] == 0 and t.loc["A", "rank"] == 1
    assert t.loc["A", "weighted_incidents"] == 4 and t.loc["C", "radius_m"] == 80
    # A: Fri 20:00, Fri 21:00, Sat 20:00, Sat 22:00 → the fewest hours with half: 20:00 (2 of 4)
    assert t.loc["A", "peak_hours"] == "20:00–21:00" and t.loc["A", "peak_hours_share"] == 0.5
    assert t.loc["A", "peak_week"] == "vie 20:00–22:00"  # two slots of one each: the earliest on ties
    assert str(t.loc["A", "type"]) == "estación" and t.loc["A", "name"] == "Estación Norte"
    paths = {p.name for p in written.files}
    assert {"entornos.csv", "entornos.geojson", "entornos_perfiles.csv", "entornos_validacion.json"} <= paths
    profile = pd.read_csv(tiny.parent / "out" / "entornos_perfiles.csv", dtype={"place_id": str})
    assert profile.loc[profile["place_id"] == "B", ["weekday", "hour", "incidents"]].values.tolist() == [[0, 8, 1.0], [5, 22, 1.0]]
    manifest = json.loads((tiny.parent / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "geoprio.entornos" and len(manifest["inputs"]) == 2
    gj = gpd.read_file(tiny.parent / "out" / "entornos.geojson")
    assert gj.crs.to_epsg() == 4326 and set(gj.geom_type) == {"Polygon"}  # influence areas


def test_nearest_overlap_counts_shared_incidents_once(tiny):
    cfg = load_entornos_config(tiny)
    cfg = cfg.model_copy(update={"places": cfg.places.model_copy(update={"overlap": "nearest"})})
    run = run_entornos(cfg)
    t = run.table.set_index("place_id")
    assert t["hurtos"].to_dict() == {"A": 3.0, "B": 1.0, "C": 2.0}  # the tie goes to A, listed first


def test_config_errors_are_clear(tiny):
    doc = {"places": {"path": "x.geojson", "type": "tipo"}, "sources": {"d": {"path": "d.csv"}}}
    with pytest.raises(ConfigError, match="places have no resident population"):
        parse_entornos_config({**doc, "indicators": [{"name": "a", "source": "d", "measure": "rate", "weight": 1}]})
    with pytest.raises(ConfigError, match="sources must be points"):
        parse_entornos_config(
            {**doc, "sources": {"d": {"path": "d.csv", "key": "upz"}}, "indicators": [{"name": "a", "source": "d", "weight": 1}]}
        )
    with pytest.raises(ConfigError, match="radius_m\n?.*greater than 0"):
        parse_entornos_config(
            {**doc, "places": {"path": "x", "type": "t", "radius_m": 0}, "indicators": [{"name": "a", "source": "d", "weight": 1}]}
        )
    with pytest.raises(ConfigError, match="places: give type = '<column with each place's type>' or, for a layer without one, type_value"):
        parse_entornos_config({**doc, "places": {"path": "x"}, "indicators": [{"name": "a", "source": "d", "weight": 1}]})
    with pytest.raises(ConfigError, match="shift_hours"):
        parse_entornos_config({**doc, "indicators": [{"name": "a", "source": "d", "weight": 1}], "deploy": {"teams": 2, "shift_hours": 13}})


def test_cli_ranks_and_fails_cleanly(tiny):
    r = runner.invoke(app, ["entornos", str(tiny), "--draws", "0"])
    assert r.exit_code == 0, r.output
    assert "Entornos priorizados" in r.output and "Estación Norte" in r.output and "20:00–21:00" in r.output
    r = runner.invoke(app, ["entornos", str(tiny), "--draws", "0", "--teams", "1", "--shift-hours", "2", "--days", "4,5"])
    assert r.exit_code == 0, r.output
    assert "Plan de despliegue: 1 equipos, turnos de 2 h, 2 turnos" in r.output and "viernes 20:00–22:00" in r.output
    r = runner.invoke(app, ["entornos", str(tiny), "--teams", "5"])
    assert r.exit_code == 1 and "teams" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["entornos", str(tiny), "--days", "4,9"])
    assert r.exit_code != 0 and "Traceback" not in r.output
    r = runner.invoke(app, ["entornos", str(tiny), "--radius-m", "-5"])
    assert r.exit_code == 1 and "radius_m" in r.output and "Traceback" not in r.output
    bad = tiny.read_text(encoding="utf-8").replace('type = "tipo"', 'type = "clase"')
    tiny.write_text(bad, encoding="utf-8")
    r = runner.invoke(app, ["entornos", str(tiny)])
    assert r.exit_code == 1 and "column 'clase' (place type) not found" in r.output and "Traceback" not in r.output


def test_medellin_metro_stations_by_homicides_within_100_m(shared_data):
    """The README's worked example, checked against a geopandas dwithin join."""
    from geoprio.records.load import load_points

    cfg = load_entornos_config(ROOT / "data" / "examples" / "medellin_metro_homicidios.toml")
    cfg = cfg.model_copy(update={"deploy": None, "robustness": cfg.robustness.model_copy(update={"draws": 100})})
    run = run_entornos(cfg)
    t = run.table.set_index("place_id")
    assert len(t) == 48
    homicides = load_points(shared_data / "medellin" / "medellin_homicides.csv", date="fecha_hecho", category="modalidad")
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(homicides.data["x"], homicides.data["y"]), crs=4326).to_crs(METRIC)
    stations = run.places.frame.to_crs(METRIC)
    joined = gpd.sjoin(stations, pts, predicate="dwithin", distance=100)
    peer = joined.groupby("place_id").size().reindex(t.index, fill_value=0)
    assert t["homicidios"].astype(int).to_dict() == peer.to_dict()
    assert t["homicidios"].sum() > 100  # the example is not empty
    top = t.sort_values("rank").iloc[0]
    assert top["peak_hours"] and top["pattern"] in ("atrae", "refleja su zona")


def test_bogota_stations_on_labelled_synthetic_thefts(shared_data, tmp_path):
    """The README's Bogotá example: synthetic points keep the real per-UPZ totals; 149 stations ranked."""
    import importlib.util

    from geoprio.records.load import load_points

    spec = importlib.util.spec_from_file_location("bogota_sintetico", ROOT / "scripts" / "bogota_sintetico.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    csv = module.write_synthetic(shared_data, tmp_path / "sint")
    frame = pd.read_csv(csv, sep=";", decimal=",", dtype={"sintetico": str})
    # every 2019 personal theft of an urban UPZ; the rural UPR (106 + 24) and UPZ999 "sin localización" (41) have no urban polygon
    assert len(frame) == 127_147 - 106 - 24 - 41 and set(frame["sintetico"]) == {"sí"}
    cfg = load_entornos_config(ROOT / "data" / "examples" / "bogota_transmilenio_sintetico.toml")
    src = cfg.sources["hurtos"].model_copy(update={"path": csv})
    deploy = cfg.deploy.model_copy(update={"teams": 3, "top": 10})
    cfg = cfg.model_copy(
        update={"sources": {"hurtos": src}, "deploy": deploy, "robustness": cfg.robustness.model_copy(update={"draws": 0})}
    )
    run = run_entornos(cfg)
    assert len(run.table) == 149 and run.table["rank"].min() == 1
    points = load_points(csv, category="delito")
    assert len(points) == len(frame)
    assert run.plan.status == "optimal" and len(run.plan.shifts) == 3 * 5


def test_manifest_replays_identically_and_refuses_changed_inputs(tiny):
    cfg = load_entornos_config(tiny)
    cfg = cfg.model_copy(
        update={"deploy": parse_entornos_config({**cfg.model_dump(mode="json"), "deploy": {"teams": 1, "shift_hours": 2}}).deploy}
    )
    written = run_entornos(cfg).write()
    r = runner.invoke(app, ["entornos", "--manifest", str(written.manifest), "--out", str(tiny.parent / "again")])
    assert r.exit_code == 0, r.output
    assert "Reproducido:" in r.output
    again = {
        p.name: p.read_bytes() for p in (tiny.parent / "again").iterdir() if p.suffix in (".csv", ".json") and "manifest" not in p.name
    }
    first = {p.name: p.read_bytes() for p in (tiny.parent / "out").iterdir() if p.suffix in (".csv", ".json") and "manifest" not in p.name}
    assert again == first and "entornos_despliegue.json" in again
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["result"]["deployment_solve_seconds"] >= 0 and {"numpy", "scipy", "shapely"} <= set(doc["environment"])
    delitos = tiny.parent / "delitos.csv"
    delitos.write_text(delitos.read_text(encoding="latin-1") + "D99;2024-03-07;10:00;Hurto a personas;4,6;-74,08\n", encoding="latin-1")
    r = runner.invoke(app, ["entornos", "--manifest", str(written.manifest)])
    assert r.exit_code == 1 and "changed since the run" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["index", "--manifest", str(written.manifest)])
    assert r.exit_code == 1 and "a 'geoprio.entornos' manifest, expected 'geoprio.index'" in r.output


def test_pillars_work_on_places(tiny):
    text = tiny.read_text(encoding="utf-8").replace(
        "[robustness]",
        '[index.pillars]\npatrimonio = ["hurtos"]\nvida = ["lesiones"]\n\n[index.pillar_weights]\npatrimonio = 1\nvida = 3\n\n[robustness]',
    )
    tiny.write_text(text, encoding="utf-8")
    run = run_entornos(load_entornos_config(tiny))
    t = run.table.set_index("place_id")
    # minmax within each one-indicator pillar: A is 100 on both, B and C 0; pillar weights 1:3
    assert t.loc["A", "pillar__patrimonio"] == 100 and t.loc["A", "pillar__vida"] == 100 and t.loc["B", "pillar__vida"] == 0
    assert run.index.weights_.to_dict() == pytest.approx({"hurtos": 0.25, "lesiones": 0.75})
    assert run.notes["pillars"]["vida"]["weight"] == 0.75


def test_manifest_from_before_the_run_protocol_replays(tiny):
    """Manifests written before ``run.write`` (config under "config", entornos_manifest.json) still replay."""
    written = run_entornos(load_entornos_config(tiny)).write()
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    doc["config"] = doc.pop("options")
    del doc["formats"]
    old = written.manifest.with_name("entornos_manifest.json")
    old.write_text(json.dumps(doc), encoding="utf-8")
    written.manifest.unlink()
    r = runner.invoke(app, ["entornos", "--manifest", str(old), "--out", str(tiny.parent / "again")])
    assert r.exit_code == 0, r.output
    assert "Reproducido: 4 salidas idénticas" in r.output and (tiny.parent / "again" / "manifest.json").is_file()


def test_command_line_overrides_are_merged_by_the_library(tiny):
    cfg = load_entornos_config(tiny)
    assert cfg.deploy is None
    changed = cfg.with_overrides(radius_m=50, overlap="nearest", teams=2, days=[4, 5])
    assert changed.places.radius_m == 50 and changed.places.radius_by_type is None and changed.places.overlap == "nearest"
    assert (changed.deploy.teams, changed.deploy.shift_hours, changed.deploy.days) == (2, 8, [4, 5])
    assert changed.with_overrides(shift_hours=4).deploy.teams == 2
    with pytest.raises(ConfigError, match="shift_hours and days need teams"):
        cfg.with_overrides(shift_hours=4)
    with pytest.raises(ConfigError, match="deploy.days"):
        cfg.with_overrides(teams=1, days=[4, 9])
    assert cfg.places.radius_m == 100  # the original is untouched (frozen)
