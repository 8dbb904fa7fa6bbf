"""``GET /incidents``: incident-level records, only with an API key holding ``read:records``
(they can identify people); every request is written to the audit log (``geoprio.api.audit``).
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query

from ..audit import AuditedRoute
from ..deps import SettingsDep, StoreDep, require_scope
from ..schemas import Page, Record

router = APIRouter(prefix="/incidents", tags=["incidents"], dependencies=[Depends(require_scope("read:records"))], route_class=AuditedRoute)


@router.get("", response_model=Page[Record])
def list_incidents(
    store: StoreDep,
    settings: SettingsDep,
    level: Annotated[str | None, Query()] = None,
    zone_id: Annotated[str | None, Query()] = None,
    source: Annotated[str | None, Query(description="source name in the index config")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Any:
    """Records behind the index of a level, filtered by zone and source."""
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size must be at most {settings.page_size_max}")
    try:
        level = store.table(level)[0]
        data = store.records(level)
    except KeyError:
        raise HTTPException(422, f"unknown level {level!r}; levels: {store.levels}") from None
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    if zone_id is not None:
        data = data[data["zone_id"] == zone_id]
    if source is not None:
        if source not in set(data["source"]):
            raise HTTPException(422, f"unknown source {source!r}")
        data = data[data["source"] == source]
    total = len(data)
    chunk = data.iloc[(page - 1) * page_size : page * page_size]
    items = []
    for rec in chunk.to_dict("records"):
        items.append(
            {
                "record_id": None if pd.isna(rec.get("record_id")) else str(rec["record_id"]),
                "source": rec["source"],
                "kind": rec["kind"],
                "zone_id": None if pd.isna(rec.get("zone_id")) else str(rec["zone_id"]),
                "date": None if pd.isna(rec.get("date")) else pd.Timestamp(rec["date"]).isoformat(),
                "hour": None if pd.isna(rec.get("hour")) else int(rec["hour"]),
                "category": None if pd.isna(rec.get("category")) else str(rec["category"]),
                "weight": float(rec["weight"]),
                "x": None if pd.isna(rec.get("x", float("nan"))) else float(rec["x"]),
                "y": None if pd.isna(rec.get("y", float("nan"))) else float(rec["y"]),
            }
        )
    nxt = page + 1 if page * page_size < total else None
    return {"total": total, "page": page, "page_size": page_size, "next": nxt, "items": items}
