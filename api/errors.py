"""Every error is JSON: 4xx with a message for the client's mistakes, 503 with ``Retry-After``
when storage fails (the database is down, read-only or the disk is full); never a 500 text page.
"""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoprio.errors import GeoprioError

__all__ = [
    "RETRY_AFTER_S",
    "BodySizeLimit",
    "ErrorBody",
    "ValidationErrorBody",
    "ValidationIssue",
    "install_handlers",
    "storage_unavailable",
]

log = logging.getLogger("geoprio.api")

#: Seconds a client is asked to wait before retrying after a storage failure.
RETRY_AFTER_S = 30

#: OS errors that mean the storage, not the request, is at fault.
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO}


class ErrorBody(BaseModel):
    """An error: what went wrong, for the client to read."""

    detail: str


class ValidationIssue(BaseModel):
    """One problem with a request's parameters or body."""

    loc: list[str | int] = Field(description="where: the part of the request, then the parameter or field")
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """A request the API cannot serve: the list of problems with its parameters or body, or one
    message (an unknown level, tier, year…; a plan over the admission limits, with its estimate).
    """

    detail: str | list[ValidationIssue] | dict[str, object]


def storage_unavailable(what: str) -> JSONResponse:
    """``503 {"detail": …}`` with ``Retry-After``; the cause goes to the server log, not the client."""
    return JSONResponse(
        {"detail": f"storage unavailable ({what}); try again later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install_handlers(app: FastAPI) -> None:
    """JSON bodies ``{"detail": ...}`` for HTTP errors, validation errors and geoprio's errors."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(GeoprioError)
    async def geoprio_error(_request: Request, exc: GeoprioError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error on %s %s: %s", request.method, request.url.path, exc.orig if exc.orig is not None else exc)
        return storage_unavailable("database")

    @app.exception_handler(OSError)
    async def os_error(request: Request, exc: OSError) -> JSONResponse:
        if exc.errno not in _STORAGE_ERRNOS:
            return await internal_error(request, exc)
        log.error("storage error on %s %s: %s", request.method, request.url.path, exc)
        return storage_unavailable("disk")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug: the traceback goes to the server log; the client gets JSON without server paths.
        log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error; it was logged on the server"}, status_code=500)


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        refused = False

        async def limited_receive() -> Message:
            # Past the limit the 413 goes out at once and the app is told the client left: FastAPI
            # turns any error raised while it reads the body into a 400, so raising here is not enough.
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # the app's own answer, unless the 413 went out already
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse({"detail": f"request body larger than {self.max_bytes} bytes"}, status_code=413)
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
