"""Alembic environment of the API's database: migrations run on the connection geoprio gives.

:func:`geoprio.api.engine.make_engine` runs them at start-up (``upgrade head``) on its own
connection (``config.attributes["connection"]``); ``alembic`` from the command line works too
with ``-x url=postgresql://…``.
"""

from __future__ import annotations

from alembic import context
from geoprio.api.db import Base
from geoprio.api.engine import MODELS  # noqa: F401 - importing the models registers their tables
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run on the given connection, or on ``-x url=…``."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit("give the database as: alembic -x url=postgresql://… upgrade head")
        with create_engine(url).connect() as conn:
            _run(conn)
            conn.commit()
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
