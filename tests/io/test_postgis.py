"""PostGIS as a source of records and a sink of outputs (geoprio.io.postgis), against a real server.

The server is the one ``scripts/start_postgres.sh`` starts (``.ci/run`` does): these tests use its
``geoprio_gis`` database (PostGIS), with the role and host of ``GEOPRIO_TEST_DATABASE_URL``,
credentials given through the environment as users give them (PGUSER/PGPASSWORD), each test
module in a schema of its own that is dropped at the end. Without that variable they skip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoprio.errors import ConfigError, InputError
from geoprio.index import load_config, parse_config, run_index
from geoprio.io import files as io
from geoprio.io.postgis import (
    PostgisError,
    PostgisSource,
    create_engine,
    parse_source,
    read_layer_source,
)
from geoprio.io.postgis_write import run_layers, table_name, write_run
from geoprio.records import load_points, load_zone_table

BASE_URL = os.environ.get("GEOPRIO_TEST_DATABASE_URL")

# The PostgreSQL server is shared with the API tests (one of which restarts it): one worker for all (tests/conftest.py).
pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Gis:
    """The PostGIS test database: its password-free URL and this module's schema."""

    url: str
    schema: str

    def sql(self, statement: str) -> list[tuple]:
        from sqlalchemy import text

        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def engine(self):
        return create_engine(self.url)


@contextmanager
def gis_database(name: str) -> Iterator[Gis]:
    """``geoprio_gis`` on the test server, credentials in PGUSER/PGPASSWORD, a fresh schema ``name``."""
    if not BASE_URL:
        pytest.skip("GEOPRIO_TEST_DATABASE_URL is not set (run scripts/start_postgres.sh; .ci/run does)")
    parts = urlsplit(BASE_URL)
    netloc = f"{parts.hostname}:{parts.port or 5432}"
    url = urlunsplit(("postgresql", netloc, "/geoprio_gis", "", ""))
    with pytest.MonkeyPatch.context() as mp:
        if parts.username:
            mp.setenv("PGUSER", parts.username)
        if parts.password:
            mp.setenv("PGPASSWORD", parts.password)
        gis = Gis(url=url, schema=f"{name}_{os.getpid()}")
        gis.sql(f"DROP SCHEMA IF EXISTS {gis.schema} CASCADE; CREATE SCHEMA {gis.schema}")
        try:
            yield gis
        finally:
            gis.sql(f"DROP SCHEMA IF EXISTS {gis.schema} CASCADE")


@pytest.fixture(scope="module")
def gis() -> Iterator[Gis]:
    with gis_database("t_io") as db:
        yield db


# --------------------------------------------------------------------------- sources, no server needed


def test_source_strings_round_trip_and_keep_sql_intact():
    sql = "SELECT * FROM s.delitos WHERE tipo LIKE 'Hurto%' AND hora::text <> '00:00' ORDER BY id;"
    src = parse_source(f"postgresql://db.example:5433/seguridad?sslmode=require&query={quote(sql)}")
    assert src.url == "postgresql://db.example:5433/seguridad?sslmode=require"
    assert src.query == sql and src.table is None
    assert src.select_sql() == sql.rstrip(";")  # one statement, the semicolon dropped
    assert src.name == "seguridad:query"
    assert parse_source(str(src)) == src  # the string a manifest holds reads back the same
    table = parse_source("postgres://localhost/geo?table=public.delitos&geometry=geom")
    assert (table.table, table.geometry, table.select_sql()) == ("public.delitos", "geom", 'SELECT * FROM "public"."delitos"')


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("postgresql://ana:secreto@db.example/seguridad?table=delitos", "the URL holds a password.*PGPASSWORD"),
        ("postgresql://db.example/seguridad?password=secreto&table=delitos", "the URL holds a password"),
        ("postgresql://db.example/seguridad", "give a table .* or a query"),
        ("postgresql://db.example/seguridad?table=a&query=SELECT%201", "exactly one of the two"),
        ("postgresql://db.example/seguridad?table=delitos%3B%20DROP%20TABLE%20x", "not a plain name"),
        ("postgresql://db.example/?table=delitos", "names no database"),
        ("mysql://db.example/seguridad?table=delitos", "not a PostgreSQL URL"),
    ],
)
def test_bad_source_strings_are_refused_with_the_reason(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_source(text)


def test_a_password_in_an_error_message_is_masked():
    with pytest.raises(ConfigError) as info:
        parse_source("mysql://ana:secreto@db.example/x")
    assert "secreto" not in str(info.value)


def test_a_config_source_may_be_a_database_table_or_query(tmp_path):
    doc = {
        "zones": {"path": "upz.geojson", "id": "cod"},
        "sources": {
            "delitos": {"path": "postgresql://db.example/seguridad?table=public.delitos", "decimal": ","},
            "quejas": {
                "path": {"url": "postgresql://db.example/seguridad", "query": "SELECT * FROM quejas\nWHERE anio = 2024"},
                "key": "upz",
            },
        },
        "indicators": [{"name": "hurtos", "source": "delitos", "weight": 1}, {"name": "quejas", "source": "quejas", "weight": 1}],
    }
    cfg = parse_config(doc, source="indice.toml", base=tmp_path)
    delitos, quejas = cfg.sources["delitos"].path, cfg.sources["quejas"].path
    assert isinstance(delitos, PostgisSource) and delitos.table == "public.delitos"
    assert isinstance(quejas, PostgisSource) and quejas.query == "SELECT * FROM quejas\nWHERE anio = 2024"
    assert cfg.input_paths() == [tmp_path / "upz.geojson"]  # a database is no input file to hash
    # the manifest's JSON form rebuilds the same config (a replay reads it so)
    again = parse_config(json.loads(cfg.model_dump_json()), source="manifest.json")
    assert again.sources == cfg.sources
    bad = {**doc, "sources": {"delitos": {"path": "postgresql://u:p@db.example/s?table=d"}}}
    with pytest.raises(ConfigError, match=r"sources\.delitos\.path.*password"):
        parse_config(bad, source="indice.toml")
    with pytest.raises(ConfigError, match="sep apply to files"):
        parse_config({**doc, "sources": {"delitos": {"path": "postgresql://db.example/s?table=d", "sep": ";"}}}, source="indice.toml")


def test_run_layers_prefer_typed_layers_and_fall_back_to_csv():
    files = [Path(f"/r/{n}") for n in ("celdas.csv", "celdas.geojson", "celdas.gpkg", "curva.csv", "notas.json", "mapa.html")]
    assert run_layers(files) == {"celdas": Path("/r/celdas.gpkg"), "curva": Path("/r/curva.csv")}
    assert table_name("Bogotá ", "índice-UPZ") == "bogot_ndice_upz"
    assert table_name("", "2024") == "t_2024"


# --------------------------------------------------------------------------- reading real records from PostGIS


@pytest.fixture(scope="module")
def homicides(shared_data, tmp_path_factory) -> Path:
    """The first 1,500 rows of Medellín's homicides (real; ';', decimal commas, NA, UTC times)."""
    lines = (shared_data / "medellin" / "medellin_homicides.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("medellin") / "homicidios.csv"
    path.write_text("\n".join(lines[:1501]) + "\n", encoding="utf-8")
    return path


def _same_report(a, b) -> None:
    assert (a.report.n_read, a.report.dropped, a.report.corrected, a.report.flagged) == (
        b.report.n_read,
        b.report.dropped,
        b.report.corrected,
        b.report.flagged,
    )


COLUMNS = ["date", "hour", "time_heaped", "category", "weight", "x", "y"]


def test_real_records_read_from_a_table_a_query_and_a_geometry_column_equal_the_file(gis, homicides):
    from_file = load_points(homicides, category="modalidad")
    assert (from_file.report.n_read, len(from_file)) == (1500, from_file.report.n_kept)
    assert from_file.report.dropped["missing_coordinates"] == 16  # the file's NA coordinates
    raw = pd.read_csv(homicides, sep=";", decimal=",", na_values=["NA"])
    raw["fecha_hecho"] = pd.to_datetime(raw["fecha_hecho"], utc=True)  # as a timestamptz column
    raw["fila"] = np.arange(1, len(raw) + 1)  # a table has no order of its own: the query gives one
    engine = gis.engine()
    try:
        raw.to_sql("homicidios", engine, schema=gis.schema, index=False)
        points = gpd.GeoDataFrame(
            raw.drop(columns=["longitud", "latitud"]),
            geometry=gpd.points_from_xy(raw["longitud"], raw["latitud"]),
            crs="EPSG:4326",
        )
        points.loc[raw["longitud"].isna(), "geometry"] = None
        points.rename_geometry("geom").to_postgis("homicidios_geom", engine, schema=gis.schema, index=False)
    finally:
        engine.dispose()

    # lon/lat columns, in the query's order: the same records, the same report, rows counted from 1
    ordered = f"SELECT fecha_hecho, longitud, latitud, sexo, edad, modalidad FROM {gis.schema}.homicidios ORDER BY fila"
    by_query = load_points(f"{gis.url}?query={quote(ordered)}&fetch_rows=200", category="modalidad")  # 8 fetches
    pd.testing.assert_frame_equal(by_query.data[COLUMNS], from_file.data[COLUMNS])
    np.testing.assert_array_equal(by_query.data["row"], from_file.data["row"] - 1)  # the file's header is its row 1
    _same_report(by_query, from_file)
    assert by_query.report.source == "geoprio_gis:query"
    # a point geometry column (with NULLs where the file says NA), read through a table source
    by_table = load_points(f"{gis.url}?table={gis.schema}.homicidios_geom", category="modalidad", keep=["fila"])
    assert by_table.report.source == f"geoprio_gis:{gis.schema}.homicidios_geom"
    assert by_table.report.dropped == from_file.report.dropped
    in_file_order = by_table.data.sort_values("fila", key=lambda s: s.astype(int)).reset_index(drop=True)
    pd.testing.assert_frame_equal(in_file_order[COLUMNS], from_file.data[COLUMNS])
    # a query with a filter
    sql = f"SELECT * FROM {gis.schema}.homicidios_geom WHERE modalidad LIKE 'Arma de fuego%' ORDER BY fila"
    firearms = load_points(f"{gis.url}?query={quote(sql)}", category="modalidad")
    expected = from_file.data.loc[from_file.data["category"].str.startswith("Arma de fuego"), "x"].reset_index(drop=True)
    pd.testing.assert_series_equal(firearms.data["x"], expected)
    assert len(firearms) > 500
    polygons = f"SELECT fila, ST_Buffer(geom, 0.01) AS geom FROM {gis.schema}.homicidios_geom WHERE geom IS NOT NULL ORDER BY fila"
    with pytest.raises(ValueError, match="a layer of Polygon features .* not records"):
        load_points(f"{gis.url}?query={quote(polygons)}")
    # the same query as a layer (places, zones): its geometry and CRS
    layer = read_layer_source(f"{gis.url}?query={quote(polygons)}")
    assert layer.crs == "EPSG:4326" and len(layer) == 1500 - 16 and set(layer.geom_type) == {"Polygon"}
    centre = layer.geometry.iloc[0].centroid
    assert (centre.x, centre.y) == pytest.approx((from_file.data["x"].iloc[0], from_file.data["y"].iloc[0]), abs=1e-9)


def test_a_per_zone_table_in_postgis_loads_as_from_the_file(gis, shared_data):
    path = shared_data / "bogota" / "dai_upz_2018_2021_attributes.csv"  # SDSCJ's crimes per UPZ (117 rows)
    columns = ["CMHP19CONT", "CMH19CONT"]
    from_file = load_zone_table(path, zone_id="CMIUUPLA", columns=columns)
    raw = pd.read_csv(path, dtype={"CMIUUPLA": str})  # typed columns, as a database holds them
    engine = gis.engine()
    try:
        raw.to_sql("dai_upz", engine, schema=gis.schema, index=False)
    finally:
        engine.dispose()
    from_db = load_zone_table(f"{gis.url}?table={gis.schema}.dai_upz", zone_id="CMIUUPLA", columns=columns)
    pd.testing.assert_frame_equal(from_db.values.sort_index(), from_file.values.sort_index())
    assert from_db.values.loc["UPZ1", "CMHP19CONT"] == from_file.values.loc["UPZ1", "CMHP19CONT"] > 0


def test_a_bad_table_and_an_unknown_column_are_named(gis, homicides):
    with pytest.raises(PostgisError, match=rf"geoprio_gis:{gis.schema}\.nada: table {gis.schema}\.nada cannot be read.*does not exist"):
        load_points(f"{gis.url}?table={gis.schema}.nada")
    with pytest.raises(PostgisError, match="geometry column 'geometria' not found"):
        load_points(f"{gis.url}?table={gis.schema}.homicidios_geom&geometry=geometria")
    # a source is only read: a statement that writes is refused before it is sent, and the
    # read-only transaction refuses a SELECT that would write (through a function) on the server
    delete = f"DELETE FROM {gis.schema}.homicidios RETURNING *"
    with pytest.raises(ConfigError, match="the query must be one SELECT"):
        load_points(f"{gis.url}?query={quote(delete)}")
    writes = f"WITH d AS (DELETE FROM {gis.schema}.homicidios RETURNING *) SELECT * FROM d"
    with pytest.raises(PostgisError, match="geoprio_gis:query: the query cannot be read"):
        load_points(f"{gis.url}?query={quote(writes)}")
    assert gis.sql(f"SELECT count(*) FROM {gis.schema}.homicidios") == [(1500,)]


# --------------------------------------------------------------------------- the index from PostGIS, and back


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory) -> Path:
    from geoprio.demo.city import make_demo_city, write_demo_city

    return write_demo_city(make_demo_city(7, n_incidents=2000), tmp_path_factory.mktemp("demo"))


def _quick(cfg):
    return cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 0})})


@pytest.fixture(scope="module")
def index_runs(gis, demo_config):
    """The demo's index from its files, and with its crimes read from a PostGIS staging table."""
    # the office's staging table: the CSV's cells as text, row order kept
    cells = io.read_table(demo_config.parent / "delitos.csv")
    engine = gis.engine()
    try:
        cells.to_sql("delitos", engine, schema=gis.schema, index=False)
    finally:
        engine.dispose()
    cfg = _quick(load_config(demo_config))
    from_file = run_index(cfg)
    db_source = {"path": f"{gis.url}?table={gis.schema}.delitos", "decimal": ","}
    doc = json.loads(cfg.model_dump_json())
    doc["sources"]["delitos"] = {**doc["sources"]["delitos"], **db_source}
    from_db = run_index(parse_config(doc, source="indice.toml"))
    return from_file, from_db


def test_the_index_with_crimes_in_postgis_equals_the_index_from_the_file(index_runs):
    from_file, from_db = index_runs
    pd.testing.assert_frame_equal(from_db.table, from_file.table)
    pd.testing.assert_frame_equal(from_db.values, from_file.values)
    db, file = from_db.sources["delitos"], from_file.sources["delitos"]
    assert (db.report.n_read, db.report.dropped, db.report.corrected) == (file.report.n_read, file.report.dropped, file.report.corrected)
    assert db.report.dropped  # the demo's crimes hold dirty rows, dropped alike from both sources


def test_write_run_from_a_result_writes_typed_tables_and_the_manifest(gis, index_runs, tmp_path):
    from_file, _ = index_runs
    with pytest.raises(InputError, match="a full \\(internal\\) run, not a public release"):
        write_run(from_file, gis.url, schema=gis.schema, prefix="py_")
    written = write_run(from_file, gis.url, schema=gis.schema, prefix="py_", internal=True)
    assert list(written.tables) == ["py_indice_upz"] and written.kind == "geoprio.index"
    ((table, n),) = written.tables.items()
    geom = gis.sql(f"SELECT type, srid FROM geometry_columns WHERE f_table_schema = '{gis.schema}' AND f_table_name = '{table}'")
    expected_file = tmp_path / "indice"
    files = from_file.write(expected_file)
    layer = io.read_layer(expected_file / "indice_upz.gpkg")
    assert geom == [(layer.geom_type.iloc[0].upper() if layer.geom_type.nunique() == 1 else "MULTIPOLYGON", 4326)]
    assert n == len(layer) == len(from_file.table)
    back = gpd.read_postgis(f"SELECT * FROM {gis.schema}.{table} ORDER BY fid", gis.engine(), geom_col="geom")
    for col in ("zone_id", "name", "index", "rank", "tier", "population"):
        pd.testing.assert_series_equal(back[col], layer[col], check_dtype=False, check_names=False)
    assert back.geom_equals_exact(layer.geometry.set_crs(4326, allow_override=True), tolerance=1e-9).all()
    assert (
        gis.sql(f"SELECT count(*) FROM pg_indexes WHERE schemaname = '{gis.schema}' AND tablename = '{table}' AND indexdef LIKE '%gist%'")[
            0
        ][0]
        == 1
    )
    query = f"SELECT kind, tables, source, manifest FROM {gis.schema}.geoprio_runs WHERE run_id = '{written.run_id}'"
    ((kind, tables, source, manifest),) = gis.sql(query)
    assert (kind, tables, source) == ("geoprio.index", [f"{gis.schema}.py_indice_upz"], None)  # no folder: written from the object
    on_disk = json.loads(files.manifest.read_text(encoding="utf-8"))
    assert manifest["kind"] == on_disk["kind"] and manifest["parameters"] == on_disk["parameters"]
    assert manifest["options"]["sources"] == on_disk["options"]["sources"]
    assert [Path(o["path"]).name for o in manifest["outputs"]] == [Path(o["path"]).name for o in on_disk["outputs"]]
