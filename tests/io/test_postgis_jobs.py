"""PostGIS wherever a record or place file goes: hot-spot jobs and their command lines, places,
``geoprio validate``, and the row numbers of a database source's messages.

Against the real server ``scripts/start_postgres.sh`` starts (see tests/io/test_postgis.py, whose
``gis_database`` this module uses with a schema of its own); without it the tests skip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geoprio.cli.application import app
from geoprio.entornos import load_places
from geoprio.errors import ConfigError, CRSError
from geoprio.hotspots import HotspotJob, PointsSource
from geoprio.io.postgis import PostgisSource, path_or_source
from geoprio.records import load_points
from tests.io.test_postgis import Gis, gis_database

pytestmark = pytest.mark.postgres

runner = CliRunner()


@pytest.fixture(scope="module")
def gis() -> Iterator[Gis]:
    with gis_database("t_jobs") as db:
        yield db


@pytest.fixture(scope="module")
def homicides(gis, shared_data, tmp_path_factory) -> tuple[Path, str]:
    """The first 1,500 rows of Medellín's homicides (real) as a file, and as a PostGIS table of
    points (NULL geometry where the file says NA) read by a query in the file's order.
    """
    lines = (shared_data / "medellin" / "medellin_homicides.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("medellin") / "homicidios.csv"
    path.write_text("\n".join(lines[:1501]) + "\n", encoding="utf-8")
    raw = pd.read_csv(path, sep=";", decimal=",", na_values=["NA"])
    raw["fecha_hecho"] = pd.to_datetime(raw["fecha_hecho"], utc=True)  # as a timestamptz column
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
    sql = f"SELECT fecha_hecho, sexo, edad, modalidad, geom FROM {gis.schema}.homicidios ORDER BY fila"
    return path, f"{gis.url}?query={quote(sql)}"


def cli(*args: str):
    return runner.invoke(app, list(args))


# --------------------------------------------------------------------------- no server needed


def test_a_source_string_is_a_database_source_and_anything_else_a_path():
    src = path_or_source("postgresql://db.example:5432/seguridad?table=siedco.delitos")
    assert isinstance(src, PostgisSource) and (src.table, src.database) == ("siedco.delitos", "seguridad")
    assert path_or_source("datos/delitos.csv") == Path("datos/delitos.csv")
    assert path_or_source(src) is src
    with pytest.raises(ConfigError, match="POINTS: .*give a table .* or a query"):
        path_or_source("postgresql://db.example/seguridad", where="POINTS")
    # a job holds the source (not a path that folded the URL's //) and hashes no file for it
    job = HotspotJob(points=PointsSource(path="postgresql://db.example/seguridad?table=delitos"))
    assert isinstance(job.points.path, PostgisSource) and job.inputs == ()
    again = HotspotJob.model_validate(job.model_dump(mode="json"))  # what a replay reads from the manifest
    assert again == job
    assert HotspotJob(points=PointsSource(path=Path("/d/delitos.csv"))).inputs == (Path("/d/delitos.csv"),)
    with pytest.raises(ValueError, match="the URL holds a password"):
        PointsSource(path="postgresql://ana:secreto@db.example/seguridad?table=delitos")


# --------------------------------------------------------------------------- row numbers


def test_projected_coordinates_name_the_row_as_the_source_numbers_it(gis, tmp_path):
    sql = "SELECT * FROM (VALUES (NULL::float8, NULL::float8), (1000000.0, 1500000.0)) AS t(x, y)"
    with pytest.raises(CRSError, match=r"look projected \(row 2 reads x=1,000,000\.0, y=1,500,000\.0\)"):
        load_points(f"{gis.url}?query={quote(sql)}")
    file = tmp_path / "metros.csv"
    file.write_text("x,y\n,\n1000000.0,1500000.0\n", encoding="utf-8")
    with pytest.raises(CRSError, match=r"row 3 reads x=1,000,000\.0"):  # the file's header is its row 1
        load_points(file)
    degrees = "SELECT -74.08 AS x, 4.6 AS y"
    with pytest.raises(CRSError, match=r"look like degrees \(row 1 reads x=-74\.08, y=4\.6\)"):
        load_points(f"{gis.url}?query={quote(degrees)}", crs="EPSG:9377")


# --------------------------------------------------------------------------- hot spots


def test_hotspots_from_a_postgis_query_equal_the_file_and_replay(homicides, tmp_path):
    path, url = homicides
    common = ["--category", "modalidad", "--cell-size-m", "1000", "--clusters", "dbscan", "--format", "csv", "--lang", "en"]
    from_file = cli("hotspots", str(path), *common, "--out", str(tmp_path / "file"))
    assert from_file.exit_code == 0, from_file.output
    from_db = cli("hotspots", url, *common, "--out", str(tmp_path / "db"))
    assert from_db.exit_code == 0, from_db.output
    cells_file = pd.read_csv(tmp_path / "file" / "hotspots_celdas.csv")
    cells_db = pd.read_csv(tmp_path / "db" / "hotspots_celdas.csv")
    assert cells_file["incidents"].sum() == 1500 - 16  # the 16 NA coordinates dropped in both
    pd.testing.assert_frame_equal(cells_db, cells_file)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "db" / "hotspots_clusters.csv"), pd.read_csv(tmp_path / "file" / "hotspots_clusters.csv")
    )
    assert "geoprio_gis:query" in from_db.output and "missing coordinates" in from_db.output
    manifest = json.loads((tmp_path / "db" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"] == []  # a database's rows are not hashed ...
    assert manifest["options"]["points"]["path"]["query"].startswith("SELECT fecha_hecho")  # ... its source is kept
    replayed = cli("hotspots", "--manifest", str(tmp_path / "db" / "manifest.json"), "--out", str(tmp_path / "again"), "--lang", "en")
    assert replayed.exit_code == 0, replayed.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again" / "hotspots_celdas.csv"), cells_file)


@pytest.mark.parametrize(
    "command",
    [
        ["backtest", "--split", "2019-01-01"],
        ["displacement", "--targets", "objetivos.geojson", "--start", "2019-01-01"],
        ["forecast"],
        ["validate"],
    ],
)
def test_every_points_command_reads_a_postgis_source(gis, command):
    """The argument reaches the database (a table that does not exist is the server's answer), not a folded path."""
    result = cli(command[0], f"{gis.url}?table={gis.schema}.nada", *command[1:], "--lang", "en")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"geoprio_gis:{gis.schema}.nada: table {gis.schema}.nada cannot be read" in result.output
    assert "does not exist" in result.output


def test_a_bad_source_string_fails_as_a_clear_error(gis):
    result = cli("hotspots", f"{gis.url}?table={gis.schema}.nada", "--lang", "en")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"table {gis.schema}.nada cannot be read" in result.output
    result = cli("hotspots", "postgresql://127.0.0.1/geoprio_gis?table=a&query=SELECT%201", "--lang", "en")
    assert result.exit_code == 1 and "exactly one of the two" in result.output


# --------------------------------------------------------------------------- validate


def test_validate_on_a_url_prints_the_report_of_the_file(homicides, tmp_path):
    path, url = homicides
    from_file = cli("validate", str(path), "--category", "modalidad", "--json", str(tmp_path / "file.json"), "--lang", "en")
    from_db = cli("validate", url, "--category", "modalidad", "--json", str(tmp_path / "db.json"), "--lang", "en")
    assert from_file.exit_code == 0 and from_db.exit_code == 0, from_db.output
    a = json.loads((tmp_path / "file.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "db.json").read_text(encoding="utf-8"))
    for key in ("rows_read", "rows_kept", "rows_dropped", "dropped", "corrected", "flagged", "notes"):
        assert b.get(key) == a.get(key), key
    assert (a["rows_read"], a["dropped"]) == (1500, {"missing_coordinates": 16})
    # the same rows dropped: the file counts its header as row 1, the query's rows count from 1
    rows = [[e["row"] for e in r["examples"]["missing_coordinates"]] for r in (a, b)]
    assert rows[1] == [r - 1 for r in rows[0]] and rows[0][0] == 225
    # the printed report is the file's, but for the source's name and the examples (row, column x, no 'NA' text)
    assert b["source"] == "geoprio_gis:query"

    def text(output: str, source: str) -> list[str]:
        return [re.sub(r" \(e\.g\. .*\)$", "", line).replace(source, "<source>") for line in output.splitlines()]

    assert text(from_db.output, "geoprio_gis:query") == text(from_file.output, path.name)
    assert "1,484 of 1,500 rows used" in from_db.output and "moves 1 records out of those years" in from_db.output


# --------------------------------------------------------------------------- places


def test_places_from_postgis_equal_the_file_in_any_srid(gis, shared_data):
    path = shared_data / "bogota" / "places" / "cai_sdscj_153.geojson"  # 153 CAI police posts (SDSCJ)
    layer = gpd.read_file(path)
    engine = gis.engine()
    try:
        layer.rename_geometry("geom").to_postgis("cai", engine, schema=gis.schema, index=False)
        layer.to_crs("EPSG:9377").rename_geometry("geom").to_postgis("cai_9377", engine, schema=gis.schema, index=False)
    finally:
        engine.dispose()
    kw = {"type": "localidad", "name": "nombre", "id": "codigo", "radius_m": {"Suba": 150.0}}
    from_file = load_places(path, **kw)
    from_table = load_places(f"{gis.url}?table={gis.schema}.cai", **kw)
    assert from_table.report.source == f"geoprio_gis:{gis.schema}.cai" and len(from_table) == 153
    pd.testing.assert_frame_equal(
        pd.DataFrame(from_table.frame.drop(columns="geometry")), pd.DataFrame(from_file.frame.drop(columns="geometry"))
    )
    assert from_table.frame.geometry.geom_equals_exact(from_file.frame.geometry, tolerance=1e-12).all()
    assert (from_table.frame["radius_m"] == 150.0).sum() == (layer["localidad"] == "Suba").sum() > 0
    # metres (SRID 9377) are brought back to longitude/latitude: the same places within a micrometre of a degree
    metric = load_places(f"{gis.url}?table={gis.schema}.cai_9377", **kw)
    assert metric.frame.geometry.geom_equals_exact(from_file.frame.geometry, tolerance=1e-8).all()
    # the same influence areas, hence the same incident counts and ranking downstream
    np.testing.assert_allclose([g.area for g in metric.influence_metric], [g.area for g in from_file.influence_metric], rtol=1e-9)
    # a geometry without SRID needs crs=..., as a layer file without a CRS does
    no_srid = f"SELECT codigo, nombre, localidad, ST_SetSRID(geom, 0) AS geom FROM {gis.schema}.cai ORDER BY codigo"
    with pytest.raises(CRSError, match=r"geoprio_gis:query: the geometry column has no SRID \(0\); give crs="):
        load_places(f"{gis.url}?query={quote(no_srid)}", **kw)
    given = load_places(f"{gis.url}?query={quote(no_srid)}", crs="EPSG:4326", **kw)
    assert (
        given.frame.set_index("place_id")
        .geometry.geom_equals_exact(from_file.frame.set_index("place_id").geometry.reindex(given.frame["place_id"]), tolerance=1e-12)
        .all()
    )
    with pytest.raises(ConfigError, match="x apply to files"):
        load_places(f"{gis.url}?table={gis.schema}.cai", x="lon", **kw)
