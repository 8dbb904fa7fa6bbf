"""Security bookkeeping of requests: the audit log of incident-level routes and the limiter of
failed key attempts.

:class:`AuditedRoute` writes one line per request to the logger ``geoprio.api.audit``
(:data:`AUDIT_LOGGER`): the key's id and name (never the key), the method, route, query and
status, and the client's address. :class:`FailedKeyLimiter` counts unknown keys per client
address and, past a limit, answers 429 for a while, without locking valid keys out (see its
docstring).
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
from starlette.exceptions import HTTPException

from geoprio.errors import GeoprioError

__all__ = ["AUDIT_LOGGER", "AuditedRoute", "FailedKeyLimiter"]

#: The logger of the audit lines (``geoprio serve`` sends it to the server's log).
AUDIT_LOGGER = "geoprio.api.audit"
audit_log = logging.getLogger(AUDIT_LOGGER)


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
    """Failed-key attempts per client address, in this process; thread-safe.

    After ``limit`` unknown keys within ``window_s`` seconds from one address, that address
    is *blocked* for ``block_s`` seconds: an unknown key from it is answered 429 with
    ``Retry-After`` without a database lookup. Valid keys are not locked out: a key this
    process accepted recently (its hash is remembered, at most ``remember`` of them) is
    still checked in full and works from a blocked address, so a colleague behind the same
    office NAT or reverse proxy as a misconfigured script keeps working, while the guesser
    learns nothing (every guess gets the same 429). Other addresses are never affected.
    Memory is bounded: addresses with nothing recent are pruned.
    """

    def __init__(
        self,
        limit: int = 10,
        window_s: float = 60.0,
        block_s: float = 60.0,
        *,
        remember: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window_s, self.block_s, self.remember = limit, window_s, block_s, remember
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}
        self._accepted: OrderedDict[str, None] = OrderedDict()

    def retry_after(self, client: str, key_hash: str) -> int | None:
        """Seconds the client must wait before this key is checked, or None to check it now."""
        with self._lock:
            until = self._blocked.get(client)
            if until is None:
                return None
            left = until - self.clock()
            if left <= 0:
                del self._blocked[client]
                return None
            if key_hash in self._accepted:
                return None
            return max(1, math.ceil(left))

    def failed(self, client: str) -> None:
        """Count an unknown key from ``client`` (blocks it when over the limit)."""
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
