"""``GET /maps`` and ``GET /maps/{name}``: the rendered maps (offline-ready HTML)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse

from ..deps import StoreDep, aggregate_access
from ..schemas import MapInfo

router = APIRouter(prefix="/maps", tags=["maps"], dependencies=[Depends(aggregate_access)])


@router.get("", response_model=list[MapInfo])
def list_maps(store: StoreDep) -> list[MapInfo]:
    """The maps in the maps directory."""
    return [MapInfo(name=p.name, bytes=p.stat().st_size, url=f"/maps/{p.name}") for p in store.maps()]


@router.get("/{name}", response_class=HTMLResponse, responses={404: {"description": "no such map"}})
def get_map(name: str, store: StoreDep) -> HTMLResponse:
    """One map's HTML; its assets are served under ``/maps/assets/``."""
    by_name = {p.name: p for p in store.maps()}
    if name not in by_name:
        raise HTTPException(404, f"map {name!r} not found; maps: {sorted(by_name)}")
    return HTMLResponse(by_name[name].read_text(encoding="utf-8"))
