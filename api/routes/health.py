"""``GET /health``."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StoreDep
from api.schemas import Health
from geoprio import __version__

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(store: StoreDep) -> Health:
    """Liveness and what was loaded."""
    return Health(version=__version__, levels=store.levels, zones={k: len(v) for k, v in store.zones.items()}, maps=len(store.maps()))
