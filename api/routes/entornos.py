"""``GET /entornos`` (ranked places), ``GET /entornos/plan`` (the deployment plan) and
``GET /entornos/{id}`` (one place: explanation, surroundings, hour profile, shifts).

Serves what ``geoprio entornos`` wrote into the data directory (the newest
``entornos.geojson`` and the files beside it); nothing is recomputed. Without a key with the
``read:records`` scope, every format is the public release of
:func:`geoprio.entornos.public.public_entornos` under the server's policy
(``GEOPRIO_MIN_COUNT``): a hidden place keeps only what identifies it, small indicator counts
are hidden with complementary suppression, the profile is published by blocks of six hours and
by weekday, and the deployment plan drops shifts at hidden places.
"""

from __future__ import annotations

import io as _io
import math
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from geoprio.disclosure import DisclosurePolicy
from geoprio.entornos.public import BLOCK_COLUMNS, BLOCK_HOURS, WEEKDAY_COLUMNS, PublicEntornos, public_entornos

from ..deps import PolicyDep, SettingsDep, StoreDep, aggregate_access
from ..serialize import json_value, page_links
from ..store import Store

router = APIRouter(prefix="/entornos", tags=["entornos"], dependencies=[Depends(aggregate_access)])

LAYER = "entornos"


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
    suppressed: bool = Field(False, description="a place with too few incidents to publish: only what identifies it is shown")


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
    profile_blocks: list[float | None] | None = Field(None, description="weighted incidents 00–06 h, 06–12, 12–18, 18–24 (null: hidden)")
    profile_weekdays: list[float | None] | None = Field(None, description="weighted incidents per weekday, 0 = Monday (null: hidden)")
    shifts: list[Shift] = []
    geometry: dict[str, Any] | None = None


def _table(store: Store) -> pd.DataFrame:
    if LAYER not in store.layers:
        raise HTTPException(404, "no entornos in the data directory; run `geoprio entornos` first")
    return store.layers[LAYER]


def _policy_key(policy: DisclosurePolicy | None) -> tuple[Any, ...] | None:
    return None if policy is None else (policy.min_count, policy.protection_level)


def _public(store: Store, policy: DisclosurePolicy | None) -> PublicEntornos:
    """The run's tables as ``policy`` publishes them (built once per policy)."""

    def build() -> PublicEntornos:
        t = _table(store)
        profiles, summary = store.beside(LAYER, "entornos_perfiles.csv"), store.beside(LAYER, "entornos_despliegue.json")
        teams, places = store.beside(LAYER, "entornos_despliegue_equipos.csv"), store.beside(LAYER, "entornos_despliegue_lugares.csv")
        return public_entornos(
            t.drop(columns=t.geometry.name),
            policy,
            profiles=profiles if isinstance(profiles, pd.DataFrame) else None,
            summary=summary if isinstance(summary, dict) else None,
            by_team=teams if isinstance(teams, pd.DataFrame) else None,
            by_place=places if isinstance(places, pd.DataFrame) else None,
        )

    return store.cached(("entornos", "public", _policy_key(policy)), build)


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    row = {k: json_value(v) for k, v in rec.items() if k != "geometry"}
    row["place_id"] = str(row["place_id"])
    for k in ("rank", "rank_p05", "rank_p95"):
        if row.get(k) is not None:
            row[k] = int(row[k])
    row["suppressed"] = bool(row.get("suppressed"))
    return row


def place_rows(store: Store, policy: DisclosurePolicy | None) -> list[dict[str, Any]]:
    """Every place as ``policy`` publishes it, best rank first (built once per policy; 404 without entornos)."""
    return _rows(store, policy)


def place_geometries(store: Store) -> dict[str, Any]:
    """Place id → its influence area as GeoJSON (EPSG:4326)."""
    return store.cached(("entornos", "geometry"), lambda: _geometries(store))


def _rows(store: Store, policy: DisclosurePolicy | None) -> list[dict[str, Any]]:
    def build() -> list[dict[str, Any]]:
        rows = [_row(r) for r in _public(store, policy).table.to_dict("records")]
        rows.sort(key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r["place_id"]))
        return rows

    return store.cached(("entornos", "rows", _policy_key(policy)), build)


@router.get("", response_model=PlacePage, responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}}})
def list_places(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    policy: PolicyDep,
    type: Annotated[str | None, Query(description="only places of this type (e.g. estación)")] = None,
    top: Annotated[int | None, Query(ge=1, description="only the top N ranks (after the type filter: the top N of that type)")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Annotated[Literal["json", "geojson", "csv"], Query()] = "json",
) -> Any:
    """Ranked places, best first; places without a rank (or whose rank is hidden) come last."""
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size must be at most {settings.page_size_max}")
    rows = _rows(store, policy)
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
            {
                "type": "FeatureCollection",
                "features": features,
                "total": total,
                "page": page,
                "next": nxt,
                "links": page_links(request, page, nxt is not None),
            },
            media_type="application/geo+json",
        )
    return {"total": total, "page": page, "page_size": page_size, "next": nxt, "items": items}


def _geometries(store: Store) -> dict[str, Any]:
    t = _table(store)
    fc = t[["place_id", t.geometry.name]].__geo_interface__
    return {str(f["properties"]["place_id"]): f["geometry"] for f in fc["features"]}


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else [{k: json_value(v) for k, v in r.items()} for r in frame.to_dict("records")]


@router.get("/plan")
def get_plan(store: StoreDep, policy: PolicyDep) -> Any:
    """The deployment plan: summary (teams, share of weighted incidents covered, bound, gap)
    and one schedule per team. Without a key with ``read:records``: no shift at a hidden place,
    and covered values below the threshold hidden (``null``).
    """
    pub = _public(store, policy)
    if pub.summary is None or pub.by_team is None:
        raise HTTPException(404, "the entornos run has no deployment plan; add a [deploy] section or use --teams")
    return {"summary": pub.summary, "shifts": _records(pub.by_team)}


def _bins(values: list[Any]) -> list[float | None]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]


@router.get("/{place_id}", response_model=PlaceDetail)
def get_place(place_id: str, store: StoreDep, policy: PolicyDep) -> PlaceDetail:
    """One place: every indicator's value, normalized value, contribution and count; its
    surroundings; its hour × weekday profile (public: by blocks of six hours and by weekday);
    its shifts in the deployment plan.
    """
    rows = {r["place_id"]: r for r in _rows(store, policy)}
    if place_id not in rows:
        raise HTTPException(404, f"unknown place {place_id!r}")
    row = rows[place_id]
    hide = bool(row.get("suppressed"))
    indicators = [
        IndicatorPart(
            name=c.removesuffix("__norm"),
            value=row.get(c.removesuffix("__norm")),
            normalized=row.get(c),
            contribution=row.get(c.removesuffix("__norm") + "__contrib"),
            count=row.get(c.removesuffix("__norm") + "__count"),
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
        suppressed=hide,
        influence_km2=row.get("influence_km2"),
        indicators=indicators,
        surroundings=ring,
        peak_week=row.get("peak_week"),
        geometry=store.cached(("entornos", "geometry"), lambda: _geometries(store)).get(place_id),
    )
    pub = _public(store, policy)
    if policy is None and not hide:
        profiles = pub.profiles
        week = [[0.0] * 24 for _ in range(7)]
        if isinstance(profiles, pd.DataFrame):
            mine = profiles[profiles["place_id"].astype(str) == place_id]
            for d, h, v in zip(mine["weekday"], mine["hour"], mine["incidents"], strict=True):
                week[int(d)][int(h)] = float(v)
            detail.profile_week = week
        day = str(row.get("hours_profile") or "").split()
        if len(day) == 24:  # the day profile also counts records with an hour but no date
            detail.profile_day = [float(v) for v in day]
            detail.profile_blocks = [sum(detail.profile_day[h : h + BLOCK_HOURS]) for h in range(0, 24, BLOCK_HOURS)]
        if isinstance(profiles, pd.DataFrame):
            detail.profile_weekdays = [sum(d) for d in week]
    elif not hide:
        day = str(row.get("hours_profile") or "").split()
        if len(day) == 24:  # published only where no hour is below the threshold
            detail.profile_day = [float(v) for v in day]
        detail.profile_blocks = _bins([row.get(c) for c in BLOCK_COLUMNS])
        detail.profile_weekdays = _bins([row.get(c) for c in WEEKDAY_COLUMNS])
    if pub.by_place is not None:
        mine = pub.by_place[pub.by_place["place"].astype(str) == place_id]
        detail.shifts = [
            Shift(
                team=int(r["team"]),
                day=int(r["day"]),
                start_hour=int(r["start_hour"]),
                end_hour=int(r["end_hour"]),
                value=None if r["value"] is None or not math.isfinite(float(r["value"])) else float(r["value"]),
            )
            for r in mine.to_dict("records")
        ]
    return detail
