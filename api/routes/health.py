"""``GET /health``."""

from __future__ import annotations

from fastapi import APIRouter

from geoprio._version import __version__

from ..deps import PolicyDep, StoreDep
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(store: StoreDep, policy: PolicyDep) -> Health:
    """Liveness and what was loaded (``maps``: the maps this caller may see)."""
    return Health(version=__version__, levels=store.levels, zones={k: len(v) for k, v in store.zones.items()}, maps=len(store.maps(policy)))
