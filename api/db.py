"""The API's database base: the declarative base every table derives from, sessions, time.

The tables are those of :mod:`~geoprio.api.keys` (API keys) and :mod:`~geoprio.api.jobs`
(plan jobs); :mod:`~geoprio.api.engine` creates the engine.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

__all__ = ["Base", "now", "sessions"]


def now() -> dt.datetime:
    """The current time in UTC (the default of every timestamp column)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the API's tables."""


def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory for ``engine``."""
    return sessionmaker(engine, expire_on_commit=False)
