"""The database engine, migrated to the current schema at start-up.

SQLite in the data directory by default; PostgreSQL with ``GEOPRIO_DATABASE_URL``
(``postgresql://user:password@host/db``, through psycopg 3). The schema is kept by Alembic
migrations (``api/migrations``): :func:`make_engine` upgrades the database to the newest
revision, so an upgrade of geoprio keeps the keys and jobs it holds. A database made by
geoprio 0.1 (tables but no Alembic version) is first stamped at revision ``0001``, which is
that schema. Several API processes starting at once migrate one at a time (a PostgreSQL
advisory lock; a lock file beside a SQLite database). Connections are checked before use
(``pool_pre_ping``), so a PostgreSQL restart costs the next request nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from .jobs import Job
from .keys import ApiKey, KeyFailure
from .scenarios import Scenario

__all__ = ["MODELS", "make_engine", "migrate"]

#: The tables the API keeps (importing them registers them on ``Base.metadata``).
MODELS = (ApiKey, Job, KeyFailure, Scenario)

#: The revision of the schema geoprio 0.1 created without Alembic.
BASELINE = "0001"

_MIGRATION_LOCK = 740_211  # an arbitrary advisory-lock key of geoprio's migrations


def _url(url: str) -> str:
    """``postgresql://`` URLs use psycopg 3 (the driver the ``api`` extra installs)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with its database migrated to the newest schema."""
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = create_engine(_url(url), **kwargs)
    migrate(engine)
    return engine


def _config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("geoprio.api") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with open(Path(database).with_suffix(".migrate.lock"), "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    yield


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest revision (stamping a geoprio 0.1 database first)."""
    with _migration_lock(engine), engine.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        cfg = _config(conn)
        if "alembic_version" not in tables and {"api_keys", "jobs"} <= tables:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")
