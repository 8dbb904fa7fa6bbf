"""``GET /forecast``: next period's expected incidents per cell from ``geoprio forecast --surface``;
``GET /forecast/backtest``: the backtest behind it.

Public callers (no key, or a key without ``read:records``) get the surface through
:func:`geoprio.hotspots.public_forecast` under the server's policy (no value resting on a
cell of 1 to ``min_count - 1`` incidents, nor on one within the method's reach; no raw score,
share of the total or study-wide total). A key with ``read:records`` gets the surface as
written. A surface written with ``--public`` is served as it is to everyone, unless it was
released under a smaller ``min_count`` than the server's (then 404 to public callers).
The backtest's scores are aggregates over every origin and the whole area: public.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from geoprio.disclosure import DisclosurePolicy, disclosure_of
from geoprio.hotspots import public_forecast
from geoprio.hotspots.forecast_public import public_forecast_notes

from ..deps import PolicyDep, SettingsDep, StoreDep, aggregate_access
from ..serialize import json_value, page_links
from ..store import Store

router = APIRouter(prefix="/forecast", tags=["forecast"], dependencies=[Depends(aggregate_access)])

LAYER = "forecast"
_FLAGS = ("top", "suppressed")
_MISSING = "no forecast surface in the data directory; run `geoprio forecast --surface --out <dir>` first"


def _value(v: Any) -> Any:
    if v is pd.NA:
        return None
    return json_value(v)


def _manifest(store: Store) -> dict[str, Any]:
    doc = store.beside(LAYER, "manifest.json")
    return doc if isinstance(doc, dict) else {}


def _without_zones(manifest: dict[str, Any]) -> bool:
    """True unless the run's options name a zone layer (then the grid's edge is the zones', not the incidents')."""
    options = manifest.get("options")
    return not (isinstance(options, dict) and isinstance(options.get("zones"), dict))


def _metric_crs(manifest: dict[str, Any], notes: dict[str, Any]) -> str | None:
    """The grid's metric CRS: the notes' (surfaces written since December 2026), else the run's options'."""
    if isinstance(notes.get("metric_crs"), str):
        return str(notes["metric_crs"])
    options = manifest.get("options")
    inner = options.get("options") if isinstance(options, dict) else None
    backtest = inner.get("backtest") if isinstance(inner, dict) else None
    crs = backtest.get("metric_crs") if isinstance(backtest, dict) else None
    return str(crs) if isinstance(crs, str) else None


def _release(store: Store, policy: DisclosurePolicy | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    gdf = store.layers[LAYER]
    manifest = _manifest(store)
    found = manifest.get("notes")
    notes: dict[str, Any] = found if isinstance(found, dict) else {}
    released = disclosure_of(manifest)
    if released is not None:  # a public release: served as it is, if at least as strict as the server's policy
        if policy is not None and released.min_count < policy.min_count:
            raise LookupError(
                f"the forecast surface in the data directory was released with min_count {released.min_count}, "
                f"less than this server's {policy.min_count}: it is served only with a read:records key"
            )
    elif policy is not None:
        scored = notes.get("backtest")
        backtest: dict[str, Any] = scored if isinstance(scored, dict) else {}
        gdf = public_forecast(
            gdf,
            policy,
            params=notes.get("params"),
            cell_size_m=notes.get("cell_size_m"),
            top_share=float(backtest.get("area_share", 0.01)),
            whole_cells=_without_zones(manifest),
            metric_crs=_metric_crs(manifest, notes),
        )
        notes = public_forecast_notes(notes, gdf, policy)
    feats = []
    for f in gdf.__geo_interface__["features"]:
        props = {k: _value(v) for k, v in f["properties"].items()}
        for flag in _FLAGS:  # read back from a file, a flag with nulls is a float: 1.0 / 0.0 / NaN
            if props.get(flag) is not None:
                props[flag] = bool(props[flag])
        if isinstance(props.get("rank"), float):  # and a rank with nulls too
            props["rank"] = int(props["rank"])
        feats.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return feats, dict(notes)


def forecast_release(store: Store, policy: DisclosurePolicy | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The surface's GeoJSON features and notes as ``policy`` publishes them, built once per policy."""
    if LAYER not in store.layers:
        raise HTTPException(404, _MISSING)
    release = None if policy is None else (policy.min_count, policy.protection_level)
    try:
        result: tuple[list[dict[str, Any]], dict[str, Any]] = store.cached(("forecast", release), lambda: _release(store, policy))
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return result


@router.get("", responses={200: {"content": {"application/geo+json": {}}}})
def get_forecast(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    policy: PolicyDep,
    top: Annotated[bool, Query(description="only the cells flagged in the top share of the area (published cells only)")] = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
) -> Any:
    """The next period's forecast per cell as written by ``geoprio forecast --surface``, as JSON
    rows or GeoJSON features, with the run's notes (public callers: the public release).
    """
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size must be at most {settings.page_size_max}")
    feats, notes = forecast_release(store, policy)
    if top:
        share = float(notes.get("backtest", {}).get("area_share", 0.01)) if isinstance(notes.get("backtest"), dict) else 0.01
        feats = [f for f in feats if _flagged(f["properties"], share)]
    total = len(feats)
    chunk = feats[(page - 1) * page_size : page * page_size]
    nxt = page + 1 if page * page_size < total else None
    if format == "geojson":
        links = page_links(request, page, nxt is not None)
        body = {"type": "FeatureCollection", "features": chunk, "total": total, "page": page, "next": nxt, "links": links, "notes": notes}
        return JSONResponse(body, media_type="application/geo+json")
    return {"total": total, "page": page, "page_size": page_size, "next": nxt, "notes": notes, "items": [f["properties"] for f in chunk]}


def _flagged(props: dict[str, Any], share: float) -> bool:
    if "top" in props:
        return props["top"] is True
    cum = props.get("cum_area_share")
    return cum is not None and not math.isnan(float(cum)) and float(cum) <= share + 1e-12


def _rows(table: Any) -> list[dict[str, Any]]:
    if not isinstance(table, pd.DataFrame):
        return []
    return [{k: _value(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


@router.get("/backtest")
def get_backtest(store: StoreDep) -> dict[str, Any]:
    """The backtest behind the served surface: scores per method, area share and horizon
    (hit rate, PAI, PEI, gain against prior counts with its interval), the chosen method and
    its score, and the hit-rate-against-area curve where the run wrote it. Aggregates: public.
    """
    if LAYER not in store.layers:
        raise HTTPException(404, _MISSING)
    summary = store.beside(LAYER, "pronostico_resumen.csv")
    if not isinstance(summary, pd.DataFrame):
        raise HTTPException(404, "the forecast surface in the data directory has no backtest summary (pronostico_resumen.csv)")
    notes = _manifest(store).get("notes") or {}
    chosen = {k: notes.get(k) for k in ("horizon", "method", "chosen", "params", "period_start", "period_end", "backtest", "backtest_goal")}
    return {"chosen": chosen, "summary": _rows(summary), "curve": _rows(store.beside(LAYER, "pronostico_curva.csv"))}
