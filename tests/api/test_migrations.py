"""The API's schema is kept by Alembic migrations: a new database gets exactly the models'
schema, and a database made by geoprio 0.1 (tables, no Alembic version) is upgraded in place,
its keys and jobs kept (and the failed-key limiter's table added, empty).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoprio.api.db import Base, sessions
from geoprio.api.engine import make_engine
from geoprio.api.jobs import Job
from geoprio.api.keys import KeyFailure, hash_key, key_info

from tests.api.conftest import fresh_postgres


def test_the_migrated_schema_is_the_models_schema(database, tmp_path):
    engine = make_engine(database(tmp_path))
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    engine.dispose()


def _geoprio_01_database(url: str) -> None:
    """The tables geoprio 0.1 created with ``create_all``, one key and one finished job in them."""
    old = sa.MetaData()
    keys = sa.Table(
        "api_keys",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("key_hash", sa.String(64), unique=True, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    jobs = sa.Table(
        "jobs",
        old,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20)),
        sa.Column("status", sa.String(20)),
        sa.Column("params", sa.JSON),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("sites", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        old.create_all(conn)
        conn.execute(keys.insert().values(id=1, name="tablero", key_hash=hash_key("gp_vieja"), created_at=now))
        conn.execute(jobs.insert().values(id="j1", kind="cameras", status="done", params={"p": 3}, created_at=now))
    engine.dispose()


def test_a_geoprio_01_database_is_upgraded_in_place(database, tmp_path):
    url = database(tmp_path)
    if url.startswith("postgresql"):
        url = fresh_postgres(url)  # an empty database, not the one the other test migrated
    _geoprio_01_database(url)
    engine = make_engine(url)
    info = key_info(engine, "gp_vieja")
    assert info is not None and info.name == "tablero"
    assert info.scopes == frozenset({"read:aggregates", "read:records", "submit:plans"})  # what an old key could do
    with sessions(engine)() as s:
        job = s.get(Job, "j1")
        assert job is not None and job.status == "done" and job.attempts == 0 and job.owner_key_id is None
        assert s.scalars(sa.select(KeyFailure)).all() == []  # the limiter's table (0003) exists, empty
    make_engine(url).dispose()  # a second start finds the database current
    engine.dispose()
