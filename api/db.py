"""Persistence of API keys, plans and jobs through SQLAlchemy (SQLite by default).

A PostgreSQL/PostGIS URL works too (``GEOPRIO_DATABASE_URL``). Keys are stored as SHA-256
hashes of random 256-bit tokens (like other API tokens, they carry enough entropy that a
salt adds nothing); a job accepted is committed before the answer, so a restart re-queues it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

__all__ = ["ApiKey", "Base", "Job", "create_key", "hash_key", "make_engine", "verify_key"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the API's tables."""


class ApiKey(Base):
    """A named API key; only its hash is stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Job(Base):
    """A plan computed in the background: its parameters, status and result."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, running, done, failed
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sites: Mapped[str | None] = mapped_column(Text, nullable=True)  # GeoJSON
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def make_engine(url: str) -> Engine:
    """Create the engine and the tables (idempotent)."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = create_engine(url, **kwargs)
    Base.metadata.create_all(engine)
    return engine


def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory for ``engine``."""
    return sessionmaker(engine, expire_on_commit=False)


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(engine: Engine, name: str) -> str:
    """Store a new key for ``name`` and return it (the only time it is shown)."""
    key = "gp_" + secrets.token_urlsafe(32)
    with sessions(engine)() as s, s.begin():
        s.add(ApiKey(name=name, key_hash=hash_key(key)))
    return key


def verify_key(engine: Engine, key: str | None) -> bool:
    """True if ``key`` is a stored key (compared in constant time)."""
    if not key:
        return False
    wanted = hash_key(key)
    with sessions(engine)() as s:
        stored = s.scalars(select(ApiKey.key_hash).where(ApiKey.key_hash == wanted)).first()
    return stored is not None and hmac.compare_digest(stored, wanted)
