"""Security bookkeeping of requests: the audit log of incident-level routes and the limiter of
failed key attempts.

:class:`AuditedRoute` writes one line per request to the logger ``geoprio.api.audit``
(:data:`AUDIT_LOGGER`): the key's id and name (never the key), the method, route, query and
status, and the client's address. :class:`FailedKeyLimiter` counts unknown keys per client
address (in the database, shared by every API process, when given an engine) and, past a
limit, answers 429 for a while, without locking valid keys out (see its docstring).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from geoprio.errors import GeoprioError

from .keys import KeyFailure, key_was_used

__all__ = ["AUDIT_LOGGER", "CLIENT_MAX", "AuditedRoute", "FailedKeyLimiter"]

#: The logger of the audit lines (``geoprio serve`` sends it to the server's log).
AUDIT_LOGGER = "geoprio.api.audit"
audit_log = logging.getLogger(AUDIT_LOGGER)
log = logging.getLogger(__name__)
#: The longest client address the limiter stores (longer ones are cut).
CLIENT_MAX = 200


def _status_of(exc: Exception) -> int:
    """The status the app's handlers answer ``exc`` with (see ``errors.install_handlers``)."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    return 422 if isinstance(exc, GeoprioError) else 500


def _query(request: Request) -> str:
    """The query string, with any parameter whose name mentions a key blanked."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    return urlencode([(k, "***" if "key" in k.lower() else v) for k, v in pairs])


class AuditedRoute(APIRoute):
    """A route that logs one audit line per request, whatever its outcome.

    The key is the one the key dependencies left in ``request.state.audit_key`` (``-`` when
    the request had none or was refused before it was known). Use it as a router's
    ``route_class``.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        path = self.path_format

        async def audited(request: Request) -> Response:
            status = 500
            try:
                response = await handler(request)
                status = response.status_code
                return response
            except Exception as exc:
                status = _status_of(exc)
                raise
            finally:
                info = getattr(request.state, "audit_key", None)
                audit_log.info(
                    "key_id=%s key_name=%r method=%s route=%s query=%r status=%d client=%s",
                    info.id if info else "-",
                    info.name if info else "-",
                    request.method,
                    path,
                    _query(request),
                    status,
                    request.client.host if request.client else "-",
                    extra={"key_id": info.id if info else None, "route": path, "status": status},
                )

        return audited


class FailedKeyLimiter:
    """Failed-key attempts per client address; thread-safe.

    After ``limit`` unknown keys within ``window_s`` seconds from one address, that address
    is *blocked* for ``block_s`` seconds: an unknown key from it is answered 429 with
    ``Retry-After`` without checking it. Valid keys are not locked out: a key already seen
    to work is still checked in full and works from a blocked address, so a colleague behind
    the same office NAT or reverse proxy as a misconfigured script keeps working, while the
    guesser learns nothing (every guess gets the same 429). Other addresses are never
    affected.

    With an ``engine`` the counts and blocks are kept in the database (the table
    :class:`~geoprio.api.keys.KeyFailure`), so every API process on it, on one host or
    several, counts the same attempts and sees the same blocks (``--workers N`` does not
    multiply the allowance); a key "seen to work" is then any key that has opened a request
    (:func:`~geoprio.api.keys.key_was_used`), whichever process it went through; times are
    the hosts' clocks (:func:`time.time`), which must agree to well within ``window_s``. A
    failed write or read of the counts lets the request through to the key check (logged).
    Without an engine the counts live in this process only. Either way, keys this process
    accepted (their hashes, at most ``remember``) skip every lookup, and memory is bounded.
    """

    def __init__(
        self,
        limit: int = 10,
        window_s: float = 60.0,
        block_s: float = 60.0,
        *,
        engine: Engine | None = None,
        remember: int = 10_000,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.limit, self.window_s, self.block_s, self.remember = limit, window_s, block_s, remember
        self.engine = engine
        self.clock = clock if clock is not None else (time.time if engine is not None else time.monotonic)
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}
        self._accepted: OrderedDict[str, None] = OrderedDict()
        self._pruned_at = -math.inf

    def retry_after(self, client: str, key_hash: str) -> int | None:
        """Seconds the client must wait before this key is checked, or None to check it now."""
        with self._lock:
            if key_hash in self._accepted:
                return None
        if self.engine is not None:
            return self._retry_after_db(client[:CLIENT_MAX], key_hash)
        with self._lock:
            until = self._blocked.get(client)
            if until is None:
                return None
            left = until - self.clock()
            if left <= 0:
                del self._blocked[client]
                return None
            return max(1, math.ceil(left))

    def failed(self, client: str) -> None:
        """Count an unknown key from ``client`` (blocks it when over the limit)."""
        if self.engine is not None:
            self._failed_db(client[:CLIENT_MAX])
            return
        with self._lock:
            t = self.clock()
            seen = self._failures.setdefault(client, deque())
            seen.append(t)
            while seen and seen[0] <= t - self.window_s:
                seen.popleft()
            if len(seen) >= self.limit:
                self._blocked[client] = t + self.block_s
                seen.clear()
            if len(self._failures) > self.remember:
                self._prune(t)

    def accepted(self, key_hash: str) -> None:
        """Remember a key that authenticated (by its hash), so a block does not lock it out."""
        with self._lock:
            self._accepted[key_hash] = None
            self._accepted.move_to_end(key_hash)
            while len(self._accepted) > self.remember:
                self._accepted.popitem(last=False)

    def _prune(self, t: float) -> None:
        for client in [c for c, seen in self._failures.items() if not seen or seen[-1] <= t - self.window_s]:
            del self._failures[client]
        for client in [c for c, until in self._blocked.items() if until <= t]:
            del self._blocked[client]

    # ------------------------------------------------------------- counts in the database

    def _retry_after_db(self, client: str, key_hash: str) -> int | None:
        assert self.engine is not None
        try:
            with self.engine.connect() as conn:
                until = conn.scalar(select(KeyFailure.blocked_until).where(KeyFailure.client == client))
            left = None if until is None else until - self.clock()
            if left is None or left <= 0:
                return None
            if key_was_used(self.engine, key_hash):
                self.accepted(key_hash)
                return None
        except SQLAlchemyError as exc:
            log.warning("failed-key limiter: counts not read (%s); the key is checked", type(exc).__name__)
            return None
        return max(1, math.ceil(left))

    def _failed_db(self, client: str) -> None:
        assert self.engine is not None
        t = self.clock()
        expired = KeyFailure.window_start <= t - self.window_s
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        count = (
            insert(KeyFailure)
            .values(client=client, failures=1, window_start=t, blocked_until=None)
            .on_conflict_do_update(
                index_elements=[KeyFailure.client],
                set_={
                    "failures": case((expired, 1), else_=KeyFailure.failures + 1),
                    "window_start": case((expired, t), else_=KeyFailure.window_start),
                },
            )
            .returning(KeyFailure.failures)
        )
        try:
            with self.engine.begin() as conn:
                failures = conn.execute(count).scalar_one()
                if failures >= self.limit:
                    conn.execute(update(KeyFailure).where(KeyFailure.client == client).values(blocked_until=t + self.block_s, failures=0))
                if t - self._pruned_at >= self.window_s:
                    self._pruned_at = t
                    gone = KeyFailure.window_start <= t - self.window_s
                    free = or_(KeyFailure.blocked_until.is_(None), KeyFailure.blocked_until <= t)
                    conn.execute(delete(KeyFailure).where(gone, free))
        except SQLAlchemyError as exc:
            log.warning("failed-key limiter: failure not counted (%s)", type(exc).__name__)
