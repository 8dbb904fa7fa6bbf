"""Dependencies shared by the routers: settings, the loaded outputs, the database, keys.

Key handling: :func:`require_key` (401 without a key; 403 for an unknown, expired or revoked
one, with a message that says which; 429 with ``Retry-After`` for a client address that sent
too many unknown keys, see :class:`~geoprio.api.audit.FailedKeyLimiter`), :func:`require_scope`
(403 for a key without the scope), :func:`optional_key` (the caller's key if it sent one, for
routes that show each key its own jobs and plans) and :func:`aggregate_access`. The key that
passed (or was refused as expired or revoked) is left in ``request.state.audit_key`` for the
audit log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.engine import Engine

from geoprio.disclosure import DisclosurePolicy

from .audit import FailedKeyLimiter
from .keys import KeyInfo, KeyRefusedError, UnknownKeyError, authenticate, hash_key
from .settings import Settings, get_settings
from .store import Store

__all__ = [
    "EngineDep",
    "KeyDep",
    "OptionalKeyDep",
    "PolicyDep",
    "SettingsDep",
    "StoreDep",
    "aggregate_access",
    "disclosure_policy",
    "key_limiter",
    "optional_key",
    "require_key",
    "require_scope",
]

SettingsDep = Annotated[Settings, Depends(get_settings)]
ApiKeyHeader = Annotated[str | None, Header(description="an API key (`geoprio apikey create`)")]


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


StoreDep = Annotated[Store, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]

_LIMITER_LOCK = threading.Lock()


def key_limiter(request: Request, settings: SettingsDep) -> FailedKeyLimiter:
    """The app's failed-key limiter (``app.state.key_limiter``, made on first use from the settings)."""
    state = request.app.state
    limiter = getattr(state, "key_limiter", None)
    if limiter is None:
        with _LIMITER_LOCK:
            limiter = getattr(state, "key_limiter", None)
            if limiter is None:
                limiter = FailedKeyLimiter(
                    settings.key_fail_limit, settings.key_fail_window_s, settings.key_block_s, engine=request.app.state.engine
                )
                state.key_limiter = limiter
    return limiter


def _check(request: Request, engine: Engine, settings: Settings, key: str) -> KeyInfo:
    """Authenticate ``key`` for this request, through the failed-key limiter."""
    limiter = key_limiter(request, settings)
    client = request.client.host if request.client else "unknown"
    digest = hash_key(key)
    wait = limiter.retry_after(client, digest)
    if wait is not None:
        raise HTTPException(429, f"too many invalid API keys from this address; retry in {wait} s", headers={"Retry-After": str(wait)})
    try:
        info = authenticate(engine, key, touch_after_s=settings.key_touch_s)
    except UnknownKeyError as exc:
        limiter.failed(client)
        raise HTTPException(403, str(exc)) from None
    except KeyRefusedError as exc:
        request.state.audit_key = exc.key  # the audit log names the expired or revoked key
        raise HTTPException(403, str(exc)) from None
    limiter.accepted(digest)
    request.state.audit_key = info
    return info


def require_key(request: Request, engine: EngineDep, settings: SettingsDep, x_api_key: ApiKeyHeader = None) -> KeyInfo:
    """Every POST and every route with incident-level records needs a valid ``X-API-Key``."""
    if not x_api_key:
        raise HTTPException(401, "this route needs an API key in the X-API-Key header")
    return _check(request, engine, settings, x_api_key)


def optional_key(request: Request, engine: EngineDep, settings: SettingsDep, x_api_key: ApiKeyHeader = None) -> KeyInfo | None:
    """The caller's key when it sent one (checked like :func:`require_key`), else None."""
    if not x_api_key:
        return None
    return _check(request, engine, settings, x_api_key)


KeyDep = Annotated[KeyInfo, Depends(require_key)]
OptionalKeyDep = Annotated[KeyInfo | None, Depends(optional_key)]


def require_scope(scope: str) -> Callable[..., KeyInfo]:
    """A dependency that answers 401 without a key, 403 for a bad key or one without ``scope``,
    and otherwise gives the route the :class:`~geoprio.api.keys.KeyInfo` of the caller.
    """

    def dependency(info: KeyDep) -> KeyInfo:
        if not info.allows(scope):
            raise HTTPException(403, f"the API key {info.name!r} lacks the scope {scope!r}")
        return info

    return dependency


def aggregate_access(request: Request, settings: SettingsDep, engine: EngineDep, x_api_key: ApiKeyHeader = None) -> None:
    """Aggregate routes are open unless ``GEOPRIO_REQUIRE_KEY_FOR_AGGREGATES`` is set; then
    they need a key with the ``read:aggregates`` scope.
    """
    if settings.require_key_for_aggregates:
        info = require_key(request, engine, settings, x_api_key)
        if not info.allows("read:aggregates"):
            raise HTTPException(403, f"the API key {info.name!r} lacks the scope 'read:aggregates'")


def disclosure_policy(
    request: Request, settings: SettingsDep, engine: EngineDep, x_api_key: ApiKeyHeader = None
) -> DisclosurePolicy | None:
    """The disclosure policy of this request: ``None`` (nothing hidden) for a key with the
    ``read:records`` scope (or an admin key), else the public policy of the settings
    (``GEOPRIO_MIN_COUNT``, default 10). A key that is sent must be valid (403 otherwise).
    """
    info = _check(request, engine, settings, x_api_key) if x_api_key else None
    if info is not None and info.allows("read:records"):
        return None
    return settings.public_policy


PolicyDep = Annotated[DisclosurePolicy | None, Depends(disclosure_policy)]
