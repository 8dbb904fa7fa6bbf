"""The database engine: SQLite in the data directory by default, PostgreSQL with ``GEOPRIO_DATABASE_URL``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from .db import Base
from .jobs import Job
from .keys import ApiKey

__all__ = ["MODELS", "make_engine"]

#: The tables the API keeps (importing them registers them on ``Base.metadata``).
MODELS = (ApiKey, Job)


def make_engine(url: str) -> Engine:
    """Create the engine and the tables (idempotent)."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = create_engine(url, **kwargs)
    Base.metadata.create_all(engine)
    return engine
