"""API keys: named, scoped, stored as SHA-256 hashes of random 256-bit tokens, shown once.

Like other API tokens they carry enough entropy that a salt adds nothing; lookups compare the
hash in constant time. A key has scopes (:data:`SCOPES`), may expire (``expires_at``) and can
be revoked (``revoked_at``); ``last_used_at`` says when it last opened a request.
:func:`authenticate` is what the API calls: it tells an unknown key (:class:`UnknownKeyError`)
from a stored one that may no longer be used (:class:`KeyRefusedError`, whose message says
whether it expired or was revoked). :class:`KeyInfo` is what a route learns of the key that
called it; :func:`list_keys`, :func:`revoke_key` and :func:`rotate_key` are what
``geoprio apikey`` does. No function here returns or logs a key after :func:`create_key`
and :func:`rotate_key` have handed it over, nor its hash.

:class:`KeyFailure` is the table where :class:`~geoprio.api.audit.FailedKeyLimiter` counts
unknown keys per client address, shared by every API process on the database;
:func:`key_was_used` tells it whether a key has ever opened a request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import overload

from sqlalchemy import DateTime, Float, Integer, String, select, true, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, QueryableAttribute, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from geoprio.errors import InputError

from .db import Base, now, sessions

__all__ = [
    "CREATE_SCOPES",
    "DEFAULT_SCOPES",
    "NAME_MAX",
    "SCOPES",
    "ApiKey",
    "KeyFailure",
    "KeyInfo",
    "KeyRecord",
    "KeyRefusedError",
    "UnknownKeyError",
    "authenticate",
    "check_name",
    "check_scopes",
    "create_key",
    "hash_key",
    "key_info",
    "key_was_used",
    "list_keys",
    "owner_filter",
    "revoke_key",
    "rotate_key",
    "verify_key",
]

log = logging.getLogger(__name__)

#: What a key may do. ``admin`` implies every other scope and sees every key's jobs and plans.
SCOPES = ("read:aggregates", "read:records", "submit:plans", "admin")

#: The scopes of a key stored without any (keys made before scopes existed: their ``scopes``
#: column is NULL, and the schema migration fills in this value) and the default of
#: :func:`create_key`, so that library users and old keys keep what they could do before.
DEFAULT_SCOPES = ("read:aggregates", "read:records", "submit:plans")

#: What ``geoprio apikey create`` grants unless asked: incident records and admin only on request.
CREATE_SCOPES = ("read:aggregates", "submit:plans")

#: The longest key name (the column holds 200 characters; names are for people to read).
NAME_MAX = 100
_NAME_EXTRA = frozenset(" ._-@")


class ApiKey(Base):
    """A named API key; only its hash is stored.

    ``scopes`` is a comma-separated list of :data:`SCOPES` (NULL on keys made before scopes
    existed: read as :data:`DEFAULT_SCOPES`). ``expires_at``, ``revoked_at`` and
    ``last_used_at`` are NULL until set.
    """

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    scopes: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class KeyFailure(Base):
    """Unknown keys sent from one client address: how many since ``window_start``, and until
    when the address is blocked (times in seconds since the epoch, from :func:`time.time`).
    """

    __tablename__ = "api_key_failures"
    client: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    window_start: Mapped[float] = mapped_column(Float)
    blocked_until: Mapped[float | None] = mapped_column(Float, nullable=True)


@dataclass(frozen=True)
class KeyInfo:
    """The key behind a request: its id (the owner of the jobs it submits), name and scopes."""

    id: int
    name: str
    scopes: frozenset[str] = frozenset(DEFAULT_SCOPES)

    @property
    def is_admin(self) -> bool:
        """True for an ``admin`` key."""
        return "admin" in self.scopes

    def allows(self, scope: str) -> bool:
        """True when the key holds ``scope`` (or is an admin key)."""
        return self.is_admin or scope in self.scopes

    def sees(self, owner_id: int | None) -> bool:
        """True when this key may see a job or plan owned by the key ``owner_id`` (its own,
        or any for an admin key; a record with no owner only for admin keys).
        """
        return self.is_admin or (owner_id is not None and owner_id == self.id)


def owner_filter(info: KeyInfo, owner_column: QueryableAttribute[int | None] | ColumnElement[int | None]) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows ``info`` may see (see :meth:`KeyInfo.sees`), e.g.
    ``select(Job).where(owner_filter(info, Job.owner_key_id))``.
    """
    return true() if info.is_admin else owner_column == info.id


@dataclass(frozen=True)
class KeyRecord:
    """What ``geoprio apikey list`` shows of a stored key: never the key nor its hash."""

    id: int
    name: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @property
    def status(self) -> str:
        """``revoked``, ``expired`` or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now():
            return "expired"
        return "active"


class UnknownKeyError(PermissionError):
    """The key given is not a stored key."""


class KeyRefusedError(PermissionError):
    """A stored key that may no longer be used; the message says whether it expired or was
    revoked, and ``key`` which key it is (for the audit log).
    """

    def __init__(self, message: str, key: KeyInfo) -> None:
        super().__init__(message)
        self.key = key


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """``name`` if it is a valid key name (1–100 letters, digits, spaces or ``._-@``, not
    starting or ending with a space), else :class:`~geoprio.errors.InputError` saying why.
    """
    if not isinstance(name, str) or not name:
        raise InputError("an API key needs a name (1 to 100 characters)")
    if len(name) > NAME_MAX:
        raise InputError(f"API key name too long: {len(name)} characters; the limit is {NAME_MAX}")
    bad = sorted({c for c in name if not (c.isalnum() or c in _NAME_EXTRA)})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise InputError(f"API key name {name[:40]!r} has characters not allowed ({shown}); use letters, digits, spaces and . _ - @")
    if name != name.strip():
        raise InputError(f"API key name {name!r} must not start or end with a space")
    return name


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes given, in :data:`SCOPES` order without repeats, or an
    :class:`~geoprio.errors.InputError` naming an unknown one (or saying none was given).
    """
    wanted = [s.strip() for s in scopes]
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise InputError(f"unknown scope {unknown[0]!r}; scopes: {', '.join(SCOPES)}")
    if not wanted:
        raise InputError(f"an API key needs at least one scope: {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in wanted)


def _scopes_of(row: ApiKey) -> tuple[str, ...]:
    """The stored scopes; :data:`DEFAULT_SCOPES` for a key made before scopes existed (NULL)."""
    if row.scopes is None:
        return DEFAULT_SCOPES
    return tuple(s for s in row.scopes.split(",") if s)


@overload
def _aware(t: dt.datetime) -> dt.datetime: ...
@overload
def _aware(t: dt.datetime | None) -> dt.datetime | None: ...
def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """A stored time as UTC-aware (SQLite gives naive datetimes back; they were written in UTC)."""
    if t is None or t.tzinfo is not None:
        return t
    return t.replace(tzinfo=dt.UTC)


def _when(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _record(row: ApiKey) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        name=row.name,
        scopes=_scopes_of(row),
        created_at=_aware(row.created_at),
        expires_at=_aware(row.expires_at),
        revoked_at=_aware(row.revoked_at),
        last_used_at=_aware(row.last_used_at),
    )


def _expiry(expires_days: float | None) -> dt.datetime | None:
    if expires_days is None:
        return None
    if not expires_days > 0:
        raise InputError(f"expires_days must be a positive number of days, got {expires_days}")
    return now() + dt.timedelta(days=expires_days)


def _new_secret() -> str:
    return "gp_" + secrets.token_urlsafe(32)


def create_key(engine: Engine, name: str, scopes: Iterable[str] = DEFAULT_SCOPES, *, expires_days: float | None = None) -> str:
    """Store a new key for ``name`` with ``scopes`` (valid for ``expires_days`` days, or for
    ever) and return it (the only time it is shown).
    """
    row = ApiKey(name=check_name(name), scopes=",".join(check_scopes(scopes)), expires_at=_expiry(expires_days))
    key = _new_secret()
    row.key_hash = hash_key(key)
    with sessions(engine)() as s, s.begin():
        s.add(row)
    return key


def _refusal(row: ApiKey) -> str | None:
    """Why a stored key may not be used now, or None."""
    revoked, expires = _aware(row.revoked_at), _aware(row.expires_at)
    if revoked is not None:
        return f"the API key {row.name!r} was revoked on {_when(revoked)}"
    if expires is not None and expires <= now():
        return f"the API key {row.name!r} expired on {_when(expires)}"
    return None


def authenticate(engine: Engine, key: str, *, touch_after_s: float | None = 60.0) -> KeyInfo:
    """The :class:`KeyInfo` of a usable stored key.

    Raises :class:`UnknownKeyError` when ``key`` is not stored and :class:`KeyRefusedError`
    when it expired or was revoked. ``last_used_at`` is written when it is older than
    ``touch_after_s`` seconds (so a busy key costs one write a minute, not one a request;
    None: never); a failure to write it is logged, not raised.
    """
    wanted = hash_key(key)
    with sessions(engine)() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.key_hash == wanted)).first()
        if row is None or not hmac.compare_digest(row.key_hash, wanted):
            raise UnknownKeyError("the API key is not valid")
        info = KeyInfo(row.id, row.name, frozenset(_scopes_of(row)))
        refusal = _refusal(row)
        if refusal is not None:
            raise KeyRefusedError(refusal, info)
        last = _aware(row.last_used_at)
    if touch_after_s is not None and (last is None or (now() - last).total_seconds() >= touch_after_s):
        _touch(engine, info.id)
    return info


def _touch(engine: Engine, key_id: int) -> None:
    try:
        with sessions(engine)() as s, s.begin():
            s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now()))
    except SQLAlchemyError as exc:  # bookkeeping only: the request goes on
        log.warning("could not record the last use of API key %d: %s", key_id, type(exc).__name__)


def key_info(engine: Engine, key: str | None) -> KeyInfo | None:
    """The usable stored key ``key`` is (with its stored scopes), or None for no key, an
    unknown key, or an expired or revoked one (:func:`authenticate` tells which).
    """
    if not key:
        return None
    try:
        return authenticate(engine, key, touch_after_s=None)
    except PermissionError:
        return None


def verify_key(engine: Engine, key: str | None) -> bool:
    """True if ``key`` is a stored key that has neither expired nor been revoked."""
    return key_info(engine, key) is not None


def key_was_used(engine: Engine, key_hash: str) -> bool:
    """True if the stored key with hash ``key_hash`` has opened a request (its ``last_used_at``
    is set, by :func:`authenticate`), whether or not it may still be used.
    """
    with sessions(engine)() as s:
        found = s.scalar(select(ApiKey.id).where(ApiKey.key_hash == key_hash, ApiKey.last_used_at.is_not(None)))
    return found is not None


def list_keys(engine: Engine) -> list[KeyRecord]:
    """Every stored key, oldest first (never the key or its hash)."""
    with sessions(engine)() as s:
        return [_record(row) for row in s.scalars(select(ApiKey).order_by(ApiKey.id))]


def _find(s: Session, ref: str) -> ApiKey:
    """The key ``ref`` names: an id (digits) or the name of exactly one key not revoked."""
    ref = ref.strip()
    if ref.isdigit():
        row = s.get(ApiKey, int(ref))
        if row is not None:
            return row
    rows = list(s.scalars(select(ApiKey).where(ApiKey.name == ref).order_by(ApiKey.id)))
    live = [r for r in rows if r.revoked_at is None]
    if len(live) == 1:
        return live[0]
    if len(live) > 1:
        ids = ", ".join(str(r.id) for r in live)
        raise InputError(f"several API keys are named {ref!r} (ids {ids}); give the id")
    if rows:
        raise InputError(f"the API key {ref!r} was already revoked (id {rows[-1].id})")
    raise InputError(f"no API key named {ref!r} or with that id; see `geoprio apikey list`")


def revoke_key(engine: Engine, ref: str) -> KeyRecord:
    """Revoke the key ``ref`` names (its id, or the name of one key not revoked); it is
    refused from then on. Raises :class:`~geoprio.errors.InputError` for an unknown or
    ambiguous name, or a key already revoked.
    """
    with sessions(engine)() as s, s.begin():
        row = _find(s, ref)
        revoked = _aware(row.revoked_at)
        if revoked is not None:
            raise InputError(f"the API key {row.name!r} (id {row.id}) was already revoked on {_when(revoked)}")
        row.revoked_at = now()
        return _record(row)


def rotate_key(engine: Engine, ref: str, *, expires_days: float | None = None) -> tuple[KeyRecord, str]:
    """Replace the key ``ref`` names by a new secret with the same name and scopes, and revoke
    the old one, in one transaction. The new key lives as long as the old one was meant to
    (``expires_at - created_at``, from now), or ``expires_days`` days when given. Returns the
    new key's record and the new key (the only time it is shown).
    """
    with sessions(engine)() as s, s.begin():
        old = _find(s, ref)
        if old.revoked_at is not None:
            raise InputError(f"the API key {old.name!r} (id {old.id}) was already revoked; create a new one")
        stamp = now()
        if expires_days is not None:
            expires_at = _expiry(expires_days)
        elif old.expires_at is not None:
            expires_at = stamp + (_aware(old.expires_at) - _aware(old.created_at))
        else:
            expires_at = None
        key = _new_secret()
        old.revoked_at = stamp
        new = ApiKey(name=old.name, key_hash=hash_key(key), scopes=",".join(_scopes_of(old)), expires_at=expires_at, created_at=stamp)
        s.add(new)
        s.flush()
        return _record(new), key
