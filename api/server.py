"""Serving the API under uvicorn, bounded against slow clients and overload.

uvicorn closes an idle keep-alive connection, but a client that sends headers (or a body) a
byte at a time, or never finishes them, holds its connection forever: 3,000 such connections
stayed open for a minute. :class:`RequestTimeoutProtocol` gives every request
``request_timeout_s`` (``GEOPRIO_REQUEST_TIMEOUT_S``) from its first byte to its last: a
request still incomplete then is answered ``408`` (headers not complete) or its connection
closed (body not complete). Over ``max_connections`` (``GEOPRIO_MAX_CONNECTIONS``) open
connections or requests, uvicorn answers ``503`` at once instead of queueing (its
``limit_concurrency``), so an overloaded server says so quickly.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import Settings

__all__ = ["RequestTimeoutProtocol", "run"]

#: Read in each worker process (uvicorn builds protocols from an import string).
_TIMEOUT_ENV = "GEOPRIO_REQUEST_TIMEOUT_S"


class RequestTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline on reading each request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout_s = float(os.environ.get(_TIMEOUT_ENV, Settings.model_fields["request_timeout_s"].default))
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._read_deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self.cycle is not None and not self.cycle.more_body:
            self._disarm()  # the whole request is in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(self.request_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.logger.warning("request headers not complete after %.0f s: 408", self.request_timeout_s)
            body = b'{"detail":"request not complete in time; closing"}'
            head = (
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                f"content-length: {len(body)}\r\n\r\n"
            )
            self.transport.write(head.encode("ascii") + body)
        else:
            self.logger.warning("request body not complete after %.0f s: closing the connection", self.request_timeout_s)
            self.cycle.disconnected = True
        self.transport.close()


def run(settings: Settings, *, host: str, port: int, workers: int = 1, log_config: dict[str, Any] | None = None) -> None:
    """Serve ``geoprio.api.main:app`` with ``settings``, the slow-client deadline and the connection limit."""
    import uvicorn

    # uvicorn builds the app (and, with several workers, each process) from the environment.
    for name, value in settings.model_dump(exclude_unset=True).items():
        os.environ[f"GEOPRIO_{name.upper()}"] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    os.environ[_TIMEOUT_ENV] = str(settings.request_timeout_s)
    kwargs: dict[str, Any] = {"log_config": log_config} if log_config is not None else {}
    uvicorn.run(
        "geoprio.api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        http="geoprio.api.server:RequestTimeoutProtocol",
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=5,
        **kwargs,
    )
