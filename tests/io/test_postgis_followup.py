"""PostGIS sources where a job records its inputs in other modules: forecasts written and replayed,
entornos places in a configuration, and camera-plan demand, each equal to the file's run.

Against the real server ``scripts/start_postgres.sh`` starts (see tests/io/test_postgis.py); without
it the tests skip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geoprio.cli.application import app
from geoprio.entornos import load_entornos_config, run_entornos
from geoprio.io.postgis import PostgisSource
from tests.io.test_postgis import Gis, gis_database

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def gis() -> Iterator[Gis]:
    with gis_database("t_followup") as db:
        yield db


@pytest.fixture(scope="module")
def homicides(gis, shared_data, tmp_path_factory) -> tuple[Path, str]:
    """The first 800 rows of Medellín's homicides (real) as a file and as a PostGIS query in the file's order."""
    lines = (shared_data / "medellin" / "medellin_homicides.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("medellin") / "homicidios.csv"
    path.write_text("\n".join(lines[:801]) + "\n", encoding="utf-8")
    raw = pd.read_csv(path, sep=";", decimal=",", na_values=["NA"])
    raw["fecha_hecho"] = pd.to_datetime(raw["fecha_hecho"], utc=True)
    raw["fila"] = np.arange(1, len(raw) + 1)
    points = gpd.GeoDataFrame(
        raw.drop(columns=["longitud", "latitud"]), geometry=gpd.points_from_xy(raw["longitud"], raw["latitud"]), crs="EPSG:4326"
    )
    points.loc[raw["longitud"].isna(), "geometry"] = None
    engine = gis.engine()
    try:
        points.rename_geometry("geom").to_postgis("homicidios", engine, schema=gis.schema, index=False)
    finally:
        engine.dispose()
    return path, f"{gis.url}?query={quote(f'SELECT * FROM {gis.schema}.homicidios ORDER BY fila')}"


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_a_forecast_from_postgis_is_written_and_replays(homicides, tmp_path):
    _, url = homicides
    args = ["--horizons", "month", "--methods", "prior", "--origins", "3", "--bootstrap", "100", "--cell-size-m", "1000", "--lang", "en"]
    written = cli("forecast", url, *args, "--out", str(tmp_path / "db"))
    assert written.exit_code == 0, written.output
    manifest = json.loads((tmp_path / "db" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"] == []  # no file to hash: the source is kept in the options
    assert manifest["options"]["points"]["path"]["query"].endswith("ORDER BY fila")
    again = cli("forecast", "--manifest", str(tmp_path / "db" / "manifest.json"), "--out", str(tmp_path / "again"), "--lang", "en")
    assert again.exit_code == 0, again.output
    assert "identical" in again.output
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "again" / "pronostico_origenes.csv"), pd.read_csv(tmp_path / "db" / "pronostico_origenes.csv")
    )


def test_entornos_with_places_in_postgis_rank_as_with_the_file(gis, shared_data):
    stations = pd.read_csv(shared_data / "medellin" / "medellin_metro_stns.csv")  # 48 metro and cable stations
    layer = gpd.GeoDataFrame(stations.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(stations["x"], stations["y"]), crs=4326)
    engine = gis.engine()
    try:
        layer.to_crs("EPSG:9377").rename_geometry("geom").to_postgis("metro", engine, schema=gis.schema, index=False)
    finally:
        engine.dispose()
    cfg = load_entornos_config(ROOT / "data" / "examples" / "medellin_metro_homicidios.toml")
    cfg = cfg.model_copy(update={"deploy": None, "robustness": cfg.robustness.model_copy(update={"draws": 50})})
    doc = cfg.model_dump(mode="json")
    doc["places"]["path"] = f"{gis.url}?table={gis.schema}.metro"  # in metres (SRID 9377): read back as lon/lat
    from_db = type(cfg).model_validate(doc)
    assert isinstance(from_db.places.path, PostgisSource)
    assert from_db.resolved(ROOT).places.path == from_db.places.path
    assert from_db.input_paths() == cfg.input_paths()[1:]  # the station file is no longer an input
    expected = run_entornos(cfg).table
    ranked = run_entornos(from_db).table
    pd.testing.assert_frame_equal(pd.DataFrame(ranked.drop(columns="geometry")), pd.DataFrame(expected.drop(columns="geometry")))
    assert ranked.geometry.geom_equals_exact(expected.geometry, tolerance=1e-9).all()  # through metres and back
    assert ranked["homicidios"].sum() > 100


def test_a_camera_plan_from_postgis_equals_the_file_and_replays(homicides, tmp_path):
    path, url = homicides
    args = ["--p", "5", "--grid-spacing-m", "400", "--category", "modalidad", "--format", "csv", "--lang", "en"]
    from_file = cli("plan", "cameras", str(path), *args, "--out", str(tmp_path / "file"))
    from_db = cli("plan", "cameras", url, *args, "--out", str(tmp_path / "db"))
    assert from_file.exit_code == 0 and from_db.exit_code == 0, from_db.output
    files = sorted(p.name for p in (tmp_path / "file").glob("*.csv"))
    assert "camaras_demanda.csv" in files
    for name in files:  # the same plan; record ids name their source (file:row 2.. or database:query:row 1..)
        a = pd.read_csv(tmp_path / "file" / name).drop(columns=["record_id"], errors="ignore")
        b = pd.read_csv(tmp_path / "db" / name).drop(columns=["record_id"], errors="ignore")
        pd.testing.assert_frame_equal(b, a)
    manifest = json.loads((tmp_path / "db" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["incidents"]["query"].endswith("ORDER BY fila")
    again = cli("plan", "cameras", "--manifest", str(tmp_path / "db" / "manifest.json"), "--out", str(tmp_path / "again"), "--lang", "en")
    assert again.exit_code == 0, again.output
    assert "identical" in again.output
