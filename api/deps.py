"""Dependencies shared by the routers: settings, the loaded outputs, the database, keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.engine import Engine

from .keys import KeyInfo, key_info
from .settings import Settings, get_settings
from .store import Store

__all__ = ["EngineDep", "SettingsDep", "StoreDep", "aggregate_access", "require_key", "require_scope"]

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


StoreDep = Annotated[Store, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def require_key(engine: EngineDep, x_api_key: Annotated[str | None, Header()] = None) -> KeyInfo:
    """Every POST and every route with incident-level records needs a valid ``X-API-Key``."""
    if not x_api_key:
        raise HTTPException(401, "this route needs an API key in the X-API-Key header")
    info = key_info(engine, x_api_key)
    if info is None:
        raise HTTPException(403, "the API key is not valid")
    return info


def require_scope(scope: str) -> Callable[..., KeyInfo]:
    """A dependency that answers 401 without a key, 403 for a bad key or one without ``scope``,
    and otherwise gives the route the :class:`~geoprio.api.keys.KeyInfo` of the caller.
    """

    def dependency(info: Annotated[KeyInfo, Depends(require_key)]) -> KeyInfo:
        if not info.allows(scope):
            raise HTTPException(403, f"the API key {info.name!r} lacks the scope {scope!r}")
        return info

    return dependency


def aggregate_access(settings: SettingsDep, engine: EngineDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Aggregate routes are open unless ``GEOPRIO_REQUIRE_KEY_FOR_AGGREGATES`` is set."""
    if settings.require_key_for_aggregates:
        require_key(engine, x_api_key)
