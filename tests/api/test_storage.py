"""Storage failures answer JSON 503 with Retry-After (never a 500 text page), and the database
schema is kept by migrations: a geoprio 0.1 database is upgraded in place, keys kept.
"""

from __future__ import annotations

import errno
import sqlite3

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from geoprio.api.errors import RETRY_AFTER_S, install_handlers
from sqlalchemy.exc import OperationalError


def _app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    ("exc", "what"),
    [
        (OperationalError("SELECT 1", {}, sqlite3.OperationalError("attempt to write a readonly database")), "database"),
        (OSError(errno.ENOSPC, "No space left on device", "/srv/geoprio/out.csv"), "disk"),
        (OSError(errno.EROFS, "Read-only file system"), "disk"),
    ],
)
def test_storage_failures_are_json_503_with_retry_after(exc, what):
    with TestClient(_app_raising(exc), raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 503 and r.headers["content-type"] == "application/json"
    assert r.headers["retry-after"] == str(RETRY_AFTER_S)
    assert r.json() == {"detail": f"storage unavailable ({what}); try again later"}
    assert "/srv" not in r.text and "readonly" not in r.text  # causes stay in the server log


def test_a_bug_is_json_without_server_details(caplog):
    with TestClient(_app_raising(KeyError("/srv/geoprio/secret")), raise_server_exceptions=False) as client:
        r = client.get("/boom")
    assert r.status_code == 500 and r.json() == {"detail": "internal error; it was logged on the server"}
    assert "secret" not in r.text and "internal error on GET /boom" in caplog.text


def test_postgres_restart_under_a_running_api_costs_the_next_request_nothing(tmp_path):
    """With pool_pre_ping a connection that died with the server is replaced before use."""
    import shutil
    import subprocess

    from geoprio.api.keys import create_key
    from geoprio.api.main import create_app
    from geoprio.api.settings import Settings

    from geoprio.demo import make_demo_city, write_demo_city
    from geoprio.index import load_config, run_index
    from tests.api.conftest import POSTGRES_URL, fresh_postgres

    if not POSTGRES_URL:
        pytest.skip("GEOPRIO_TEST_DATABASE_URL is not set (run scripts/start_postgres.sh; .ci/run does)")
    if shutil.which("pg_lsclusters") is None:
        pytest.skip("the PostgreSQL server is not local (no pg_lsclusters)")
    cfg = load_config(write_demo_city(make_demo_city(5, n_incidents=1500), tmp_path / "demo"))
    run_index(cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 0})})).write()
    settings = Settings(data_dir=tmp_path / "demo" / "output", maps_dir=tmp_path, database_url=fresh_postgres(POSTGRES_URL))
    with TestClient(create_app(settings)) as client:
        headers = {"X-API-Key": create_key(client.app.state.engine, "antes del reinicio")}
        assert client.get("/plans", headers=headers).status_code == 200  # the pool now holds a live connection
        version, cluster = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True).stdout.split()[:2]
        subprocess.run(["pg_ctlcluster", version, cluster, "restart"], check=True, capture_output=True)
        r = client.get("/plans", headers=headers)  # the key is checked in the database again
        assert r.status_code == 200, r.text
