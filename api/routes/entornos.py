"""``GET /entornos`` (ranked places), ``GET /entornos/plan`` (the deployment plan) and
``GET /entornos/{id}`` (one place: explanation, surroundings, hour profile, shifts).

Serves what ``geoprio entornos`` wrote into the data directory (the newest
``entornos.geojson`` and the files beside it); nothing is recomputed. Counts under the
configured minimum (``GEOPRIO_MIN_COUNT``) are suppressed, with the place's hour profile.
"""

from __future__ import annotations

import io as _io
import math
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ..deps import SettingsDep, StoreDep, aggregate_access
from ..serialize import json_value
from ..store import Store

router = APIRouter(prefix="/entornos", tags=["entornos"], dependencies=[Depends(aggregate_access)])

LAYER = "entornos"
#: Columns that count or measure incidents of one place: suppressed when it has fewer than the minimum.
_COUNT_COLUMNS = (
    "weighted_incidents",
    "incidents_ring",
    "records_ring",
    "density_in_km2",
    "density_ring_km2",
    "ratio_ring",
    "p_value_ring",
)


class PlaceSummary(BaseModel):
    """One place in the ranked list."""

    model_config = ConfigDict(extra="ignore")

    place_id: str
    name: str | None = None
    type: str | None = None
    radius_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    index: float | None = Field(None, description="prioritization index of the place, 0–100")
    rank: int | None = None
    tier: str | None = None
    rank_p05: int | None = None
    rank_p95: int | None = None
    weighted_incidents: float | None = Field(None, description="weighted incidents within the influence area")
    pattern: str | None = Field(None, description="against its surroundings: atrae / refleja su zona / sin incidentes")
    ratio_ring: float | None = Field(None, description="density inside the influence area over the density in the ring around it")
    peak_hours: str | None = Field(None, description="fewest hours of the day holding the chosen share of its incidents")
    peak_hours_share: float | None = None
    drivers: str | None = None
    excluded: str | None = None
    suppressed: bool = False


class PlacePage(BaseModel):
    """One page of ranked places; ``next`` is the next page number, if any."""

    total: int
    page: int
    page_size: int
    next: int | None
    items: list[PlaceSummary]


class IndicatorPart(BaseModel):
    """One indicator's part in a place's index."""

    name: str
    value: float | None = None
    normalized: float | None = None
    contribution: float | None = None
    count: float | None = None


class Shift(BaseModel):
    """One shift of the deployment plan at this place (day 0 = Monday)."""

    team: int
    day: int
    start_hour: int
    end_hour: int
    value: float | None = None


class PlaceDetail(PlaceSummary):
    """One place with its explanation, surroundings, hour profile and shifts."""

    influence_km2: float | None = None
    indicators: list[IndicatorPart] = []
    surroundings: dict[str, Any] = {}
    peak_week: str | None = None
    profile_day: list[float] | None = Field(None, description="weighted incidents per hour of the day, 0–23")
    profile_week: list[list[float]] | None = Field(None, description="7 × 24: weekday (0 = Monday) × hour")
    shifts: list[Shift] = []
    geometry: dict[str, Any] | None = None


def _table(store: Store) -> pd.DataFrame:
    if LAYER not in store.layers:
        raise HTTPException(404, "no entornos in the data directory; run `geoprio entornos` first")
    return store.layers[LAYER]


def _row(rec: dict[str, Any], minimum: int) -> dict[str, Any]:
    row = {k: json_value(v) for k, v in rec.items() if k != "geometry"}
    row["place_id"] = str(row["place_id"])
    for k in ("rank", "rank_p05", "rank_p95"):
        if row.get(k) is not None:
            row[k] = int(row[k])
    w = row.get("weighted_incidents")
    if minimum > 0 and isinstance(w, (int, float)) and w < minimum:
        for k in list(row):
            if k in _COUNT_COLUMNS or k.endswith("__count") or k == "hours_profile":
                row[k] = None
        row["suppressed"] = True
    return row


def _rows(store: Store, minimum: int) -> list[dict[str, Any]]:
    def build() -> list[dict[str, Any]]:
        t = _table(store)
        rows = [_row(r, minimum) for r in t.drop(columns=t.geometry.name).to_dict("records")]
        rows.sort(key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r["place_id"]))
        return rows

    return store.cached(("entornos", minimum), build)


@router.get("", response_model=PlacePage, responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}}})
def list_places(
    store: StoreDep,
    settings: SettingsDep,
    type: Annotated[str | None, Query(description="only places of this type (e.g. estación)")] = None,
    top: Annotated[int | None, Query(ge=1, description="only the top N ranks (after the type filter: the top N of that type)")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Annotated[Literal["json", "geojson", "csv"], Query()] = "json",
) -> Any:
    """Ranked places, best first; places without a rank come last."""
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size must be at most {settings.page_size_max}")
    rows = _rows(store, settings.min_count)
    if type is not None:
        types = sorted({str(r.get("type")) for r in rows})
        if type not in types:
            raise HTTPException(422, f"unknown type {type!r}; types: {types}")
        rows = [r for r in rows if r.get("type") == type]
    if top is not None:
        rows = [r for r in rows if r.get("rank") is not None][:top]
    total = len(rows)
    start = (page - 1) * page_size
    items = [{k: r.get(k) for k in PlaceSummary.model_fields if k in r or k == "suppressed"} for r in rows[start : start + page_size]]
    for it in items:
        it["suppressed"] = bool(it.get("suppressed"))
    nxt = page + 1 if start + page_size < total else None
    if format == "csv":
        buf = _io.StringIO()
        pd.DataFrame(items, columns=list(PlaceSummary.model_fields)).to_csv(buf, index=False)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={"X-Total-Count": str(total)})
    if format == "geojson":
        shapes = store.cached(("entornos", "geometry"), lambda: _geometries(store))
        features = [{"type": "Feature", "properties": r, "geometry": shapes.get(r["place_id"])} for r in items]
        return JSONResponse(
            {"type": "FeatureCollection", "features": features, "total": total, "page": page, "next": nxt},
            media_type="application/geo+json",
        )
    return {"total": total, "page": page, "page_size": page_size, "next": nxt, "items": items}


def _geometries(store: Store) -> dict[str, Any]:
    t = _table(store)
    fc = t[["place_id", t.geometry.name]].__geo_interface__
    return {str(f["properties"]["place_id"]): f["geometry"] for f in fc["features"]}


@router.get("/plan")
def get_plan(store: StoreDep) -> Any:
    """The deployment plan: summary (teams, share of weighted incidents covered, bound, gap)
    and one schedule per team.
    """
    _table(store)
    summary = store.beside(LAYER, "entornos_despliegue.json")
    teams = store.beside(LAYER, "entornos_despliegue_equipos.csv")
    if summary is None or teams is None:
        raise HTTPException(404, "the entornos run has no deployment plan; add a [deploy] section or use --teams")
    assert isinstance(teams, pd.DataFrame)
    return {"summary": summary, "shifts": [{k: json_value(v) for k, v in r.items()} for r in teams.to_dict("records")]}


@router.get("/{place_id}", response_model=PlaceDetail)
def get_place(place_id: str, store: StoreDep, settings: SettingsDep) -> PlaceDetail:
    """One place: every indicator's value, normalized value, contribution and count; its
    surroundings; its hour × weekday profile; its shifts in the deployment plan.
    """
    rows = {r["place_id"]: r for r in _rows(store, settings.min_count)}
    if place_id not in rows:
        raise HTTPException(404, f"unknown place {place_id!r}")
    row = rows[place_id]
    hide = bool(row.get("suppressed"))
    indicators = [
        IndicatorPart(
            name=c.removesuffix("__norm"),
            value=None if hide else row.get(c.removesuffix("__norm")),
            normalized=None if hide else row.get(c),
            contribution=None if hide else row.get(c.removesuffix("__norm") + "__contrib"),
            count=None if hide else row.get(c.removesuffix("__norm") + "__count"),
        )
        for c in row
        if c.endswith("__norm")
    ]
    ring = {
        k: row.get(k)
        for k in ("incidents_ring", "records_ring", "area_ring_km2", "density_in_km2", "density_ring_km2", "ratio_ring", "p_value_ring")
    }
    detail = PlaceDetail(
        **{k: row.get(k) for k in PlaceSummary.model_fields if k != "suppressed"},
        suppressed=bool(row.get("suppressed")),
        influence_km2=row.get("influence_km2"),
        indicators=indicators,
        surroundings=ring,
        peak_week=row.get("peak_week"),
        geometry=store.cached(("entornos", "geometry"), lambda: _geometries(store)).get(place_id),
    )
    profiles = store.beside(LAYER, "entornos_perfiles.csv")
    if isinstance(profiles, pd.DataFrame) and not row.get("suppressed"):
        mine = profiles[profiles["place_id"] == place_id]
        week = [[0.0] * 24 for _ in range(7)]
        for d, h, v in zip(mine["weekday"], mine["hour"], mine["incidents"], strict=True):
            week[int(d)][int(h)] = float(v)
        detail.profile_week = week
    day = str(row.get("hours_profile") or "").split()
    if len(day) == 24 and not row.get("suppressed"):  # the day profile also counts records with an hour but no date
        detail.profile_day = [float(v) for v in day]
    by_place = store.beside(LAYER, "entornos_despliegue_lugares.csv")
    if isinstance(by_place, pd.DataFrame):
        mine = by_place[by_place["place"] == place_id]
        detail.shifts = [
            Shift(
                team=int(r["team"]),
                day=int(r["day"]),
                start_hour=int(r["start_hour"]),
                end_hour=int(r["end_hour"]),
                value=None if row.get("suppressed") or not math.isfinite(float(r["value"])) else float(r["value"]),
            )
            for r in mine.to_dict("records")
        ]
    return detail
