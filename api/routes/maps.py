"""``GET /maps`` and ``GET /maps/{name}``: the rendered maps (offline-ready HTML).

A map is public only if it was written as a public release (``geoprio map --public
[--min-count N]``, :mod:`geoprio.maps.release`): public callers (no key, or a key without
``read:records``) see listed and get only the maps whose manifest records a public release
with ``min_count`` at least the server's. Any other map answers them 404, exactly as a map that
does not exist (so the public learns nothing of it, not even its name); a key with
``read:records`` sees every map. The web assets under ``/maps/assets/`` (Leaflet, jQuery) hold
no data and stay open.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse

from ..deps import PolicyDep, StoreDep, aggregate_access
from ..schemas import MapInfo

router = APIRouter(prefix="/maps", tags=["maps"], dependencies=[Depends(aggregate_access)])


@router.get("", response_model=list[MapInfo])
def list_maps(store: StoreDep, policy: PolicyDep) -> list[MapInfo]:
    """The maps in the maps directory (public callers: the public maps only)."""
    return [MapInfo(name=p.name, bytes=p.stat().st_size, url=f"/maps/{p.name}") for p in store.maps(policy)]


@router.get("/{name}", response_class=HTMLResponse, responses={404: {"description": "no such map (or not a public map, to the public)"}})
def get_map(name: str, store: StoreDep, policy: PolicyDep) -> HTMLResponse:
    """One map's HTML; its assets are served under ``/maps/assets/``. Public callers get only
    public maps; any other answers 404 like a missing one.
    """
    by_name = {p.name: p for p in store.maps(policy)}
    if name not in by_name:
        raise HTTPException(404, f"map {name!r} not found; maps: {sorted(by_name)}")
    return HTMLResponse(by_name[name].read_text(encoding="utf-8"))
