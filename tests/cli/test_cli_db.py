"""``geoprio db write``: a finished run's layers and manifest into PostGIS tables, against a real server.

Uses the ``geoprio_gis`` database of the test server (see tests/io/test_postgis.py); skipped
without ``GEOPRIO_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from geoprio.cli import app
from geoprio.io import files as io
from tests.io.test_postgis import Gis, gis_database

runner = CliRunner()

# The PostgreSQL server is shared with the API tests (one of which restarts it): one worker for all (tests/conftest.py).
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def gis() -> Iterator[Gis]:
    with gis_database("t_cli") as db:
        yield db


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished index run of the demo city (its GeoPackage, GeoJSON, GeoParquet, CSV and manifest)."""
    from geoprio.demo.city import make_demo_city, write_demo_city
    from geoprio.index import load_config, run_index

    root = tmp_path_factory.mktemp("db_run")
    cfg = load_config(write_demo_city(make_demo_city(5, n_incidents=2000), root / "ciudad"))
    cfg = cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 0})})
    run = run_index(cfg)
    run.write(root / "indice")
    from geoprio.disclosure import DisclosurePolicy
    from geoprio.index.public import public_run

    public_run(run, DisclosurePolicy(min_count=5)).write(root / "indice_publico")
    return root / "indice"


def db(*args: str, internal: bool = True):
    """``geoprio db write ARGS`` (with ``--internal``: the module's run is a full one)."""
    return runner.invoke(app, ["db", "write", *args, *(["--internal"] if internal else [])])


def _count(gis: Gis, table: str) -> int:
    return gis.sql(f"SELECT count(*) FROM {gis.schema}.{table}")[0][0]


def test_db_write_puts_the_layers_and_the_manifest_in_postgis(gis, run_dir):
    result = db(str(run_dir), "--url", gis.url, "--schema", gis.schema)
    assert result.exit_code == 0, result.output
    assert f"{gis.schema}.indice_upz" in result.output and f"escrita en el esquema {gis.schema}" in result.output
    layer = io.read_layer(run_dir / "indice_upz.gpkg")
    geom = gis.sql(f"SELECT type, srid FROM geometry_columns WHERE f_table_schema = '{gis.schema}' AND f_table_name = 'indice_upz'")
    expected_type = "MULTIPOLYGON" if "MultiPolygon" in set(layer.geom_type) else "POLYGON"
    assert geom == [(expected_type, 4326)]
    back = gpd.read_postgis(f"SELECT * FROM {gis.schema}.indice_upz ORDER BY fid", gis.engine(), geom_col="geom")
    assert len(back) == len(layer) == len(pd.read_csv(run_dir / "indice_upz.csv"))
    for col in [c for c in layer.columns if c != "geometry"]:
        pd.testing.assert_series_equal(back[col], layer[col], check_dtype=False, check_names=False)
    assert back.geometry.geom_equals_exact(layer.geometry.set_crs(4326, allow_override=True), tolerance=1e-9).all()
    assert back["fid"].is_unique and back["run_id"].nunique() == 1
    ((kind, tables, source, manifest),) = gis.sql(f"SELECT kind, tables, source, manifest FROM {gis.schema}.geoprio_runs")
    on_disk = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (kind, tables, source) == ("geoprio.index", [f"{gis.schema}.indice_upz"], str(run_dir.resolve()))
    assert manifest == on_disk
    assert str(back["run_id"].iloc[0]) in result.output


def test_if_exists_fail_replace_and_append(gis, run_dir):
    target = ["--url", gis.url, "--schema", gis.schema, "--prefix", "modo_", "--lang", "en"]
    assert db(str(run_dir), *target).exit_code == 0
    n = _count(gis, "modo_indice_upz")
    runs = _count(gis, "geoprio_runs")
    refused = db(str(run_dir), *target)
    assert refused.exit_code == 1
    assert f"{gis.schema}.modo_indice_upz already exist; nothing was written" in refused.output
    assert "Traceback" not in refused.output
    assert (_count(gis, "modo_indice_upz"), _count(gis, "geoprio_runs")) == (n, runs)
    assert db(str(run_dir), *target, "--if-exists", "replace").exit_code == 0
    assert _count(gis, "modo_indice_upz") == n and _count(gis, "geoprio_runs") == runs + 1
    appended = db(str(run_dir / "manifest.json"), *target, "--if-exists", "append")  # the manifest file works as well
    assert appended.exit_code == 0, appended.output
    assert f"written to schema {gis.schema}" in appended.output
    assert _count(gis, "modo_indice_upz") == 2 * n
    per_run = gis.sql(f"SELECT run_id, count(*) FROM {gis.schema}.modo_indice_upz GROUP BY run_id")
    assert sorted(c for _, c in per_run) == [n, n]
    assert db(str(run_dir), *target, "--if-exists", "merge").exit_code == 1


def test_a_password_in_the_url_is_refused(gis, run_dir):
    with_password = gis.url.replace("postgresql://", "postgresql://geoprio:secreto@")
    result = db(str(run_dir), "--url", with_password, "--schema", gis.schema)
    assert result.exit_code == 1
    assert "the URL holds a password" in result.output and "PGPASSWORD" in result.output
    assert "secreto" not in result.output and "Traceback" not in result.output


def test_an_unreachable_server_is_a_clear_error(run_dir):
    with socket.socket() as s:  # a local port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = db(str(run_dir), "--url", f"postgresql://127.0.0.1:{port}/geoprio_gis")
    assert result.exit_code == 1
    assert f"cannot connect to the database 127.0.0.1:{port}/geoprio_gis" in result.output
    assert "is the server running" in result.output and "Traceback" not in result.output


def test_a_server_that_never_answers_fails_after_connect_timeout(run_dir):
    with socket.socket() as s:  # accepts the connection (backlog) and never says a word
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        result = db(str(run_dir), "--url", f"postgresql://127.0.0.1:{port}/geoprio_gis?connect_timeout=2")
    assert result.exit_code == 1
    assert f"cannot connect to the database 127.0.0.1:{port}/geoprio_gis: connection timeout expired" in result.output
    assert "Traceback" not in result.output


def test_a_changed_output_or_a_folder_without_manifest_is_refused(gis, run_dir, tmp_path):
    copy = tmp_path / "copia"
    shutil.copytree(run_dir, copy)
    with (copy / "indice_upz.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    result = db(str(copy), "--url", gis.url, "--schema", gis.schema, "--prefix", "cambiado_")
    assert result.exit_code == 1 and "indice_upz.csv: changed since the run wrote it" in result.output
    result = db(str(tmp_path), "--url", gis.url, "--schema", gis.schema)
    assert result.exit_code == 1 and "no manifest.json here" in result.output


def test_a_full_run_goes_only_to_an_internal_database_a_public_release_anywhere(gis, run_dir):
    target = ["--url", gis.url, "--schema", gis.schema, "--prefix", "acceso_"]
    refused = db(str(run_dir), *target, internal=False)
    assert refused.exit_code == 1 and "a full (internal) run, not a public release" in refused.output
    assert "pass --internal" in refused.output and "Traceback" not in refused.output
    assert not gis.sql(f"SELECT 1 FROM information_schema.tables WHERE table_schema = '{gis.schema}' AND table_name LIKE 'acceso_%'")
    public = run_dir.parent / "indice_publico"
    written = db(str(public), *target, internal=False)
    assert written.exit_code == 0, written.output
    assert _count(gis, "acceso_indice_upz") == len(pd.read_csv(public / "indice_upz.csv"))
