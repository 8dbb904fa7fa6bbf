"""``GET /hotspots``: high-complexity clusters and Gi* / density grid cells from ``geoprio hotspots``."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse

from ..deps import SettingsDep, StoreDep, aggregate_access
from ..serialize import json_value
from ..store import Store

router = APIRouter(prefix="/hotspots", tags=["hotspots"], dependencies=[Depends(aggregate_access)])

#: Columns that count records: suppressed below the configured minimum.
COUNT_COLUMNS = ("incidents", "count", "n_incidents", "complaints", "coexistence")


def _features(store: Store, kind: str) -> list[dict[str, Any]]:
    gdf = store.layers[kind]
    fc = gdf.__geo_interface__
    out = []
    for f in fc["features"]:
        props = {k: json_value(v) for k, v in f["properties"].items()}
        out.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return out


@router.get("", responses={200: {"content": {"application/geo+json": {}}}})
def list_hotspots(
    store: StoreDep,
    settings: SettingsDep,
    kind: Annotated[Literal["clusters", "cells"], Query(description="clusters (ranked public spaces) or grid cells")] = "clusters",
    gi_class: Annotated[str | None, Query(description="cells only: keep this Gi* class (e.g. the 99 % hot class)")] = None,
    top: Annotated[int | None, Query(ge=1, description="clusters only: the top N by complexity_rank")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
) -> Any:
    """Hot spots as written by ``geoprio hotspots``, as JSON rows or GeoJSON features."""
    if kind not in store.layers:
        raise HTTPException(404, f"no {kind} in the data directory; run `geoprio hotspots` first")
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size must be at most {settings.page_size_max}")
    feats = store.cached(("hotspots", kind), lambda: _features(store, kind))
    if gi_class is not None:
        classes = sorted({str(f["properties"].get("gi_class")) for f in feats})
        if kind != "cells" or gi_class not in classes:
            raise HTTPException(422, f"unknown gi_class {gi_class!r}; classes: {classes if kind == 'cells' else 'cells only'}")
        feats = [f for f in feats if f["properties"].get("gi_class") == gi_class]
    if top is not None:
        if kind != "clusters":
            raise HTTPException(422, "top applies to clusters only")
        feats = [f for f in feats if (f["properties"].get("complexity_rank") or math.inf) <= top]
    total = len(feats)
    chunk = feats[(page - 1) * page_size : page * page_size]
    if settings.min_count > 0:
        chunk = [_suppress(f, settings.min_count) for f in chunk]
    nxt = page + 1 if page * page_size < total else None
    if format == "geojson":
        body = {"type": "FeatureCollection", "features": chunk, "total": total, "page": page, "next": nxt}
        return JSONResponse(body, media_type="application/geo+json")
    return {"total": total, "page": page, "page_size": page_size, "next": nxt, "items": [f["properties"] for f in chunk]}


def _suppress(feature: dict[str, Any], minimum: int) -> dict[str, Any]:
    props = dict(feature["properties"])
    for c in COUNT_COLUMNS:
        v = props.get(c)
        if isinstance(v, (int, float)) and v < minimum:
            props[c] = None
            props["suppressed"] = True
    return {**feature, "properties": props}
