"""API keys: named, stored as SHA-256 hashes of random 256-bit tokens, shown once.

Like other API tokens they carry enough entropy that a salt adds nothing; lookups compare the
hash in constant time. :class:`KeyInfo` is what a route learns of the key that called it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import DateTime, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, now, sessions

__all__ = ["SCOPES", "ApiKey", "KeyInfo", "create_key", "hash_key", "key_info", "verify_key"]


class ApiKey(Base):
    """A named API key; only its hash is stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


#: What a key may do. ``admin`` implies every other scope and sees every key's jobs and plans.
SCOPES = ("read:aggregates", "read:records", "submit:plans", "admin")


@dataclass(frozen=True)
class KeyInfo:
    """The key behind a request: its id (the owner of the jobs it submits), name and scopes."""

    id: int
    name: str
    scopes: frozenset[str] = frozenset(SCOPES[:3])

    @property
    def is_admin(self) -> bool:
        """True for an ``admin`` key."""
        return "admin" in self.scopes

    def allows(self, scope: str) -> bool:
        """True when the key holds ``scope`` (or is an admin key)."""
        return self.is_admin or scope in self.scopes


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(engine: Engine, name: str) -> str:
    """Store a new key for ``name`` and return it (the only time it is shown)."""
    key = "gp_" + secrets.token_urlsafe(32)
    with sessions(engine)() as s, s.begin():
        s.add(ApiKey(name=name, key_hash=hash_key(key)))
    return key


def key_info(engine: Engine, key: str | None) -> KeyInfo | None:
    """The stored key ``key`` is (compared in constant time), or None."""
    if not key:
        return None
    wanted = hash_key(key)
    with sessions(engine)() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.key_hash == wanted)).first()
        if row is None or not hmac.compare_digest(row.key_hash, wanted):
            return None
        return KeyInfo(row.id, row.name)


def verify_key(engine: Engine, key: str | None) -> bool:
    """True if ``key`` is a stored key."""
    return key_info(engine, key) is not None
