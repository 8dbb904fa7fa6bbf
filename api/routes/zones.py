"""``GET /zones`` (ranked list as JSON, GeoJSON or CSV, paginated) and ``GET /zones/{id}``.

The list says when zones under the minimum rate denominator (``small_denominator``, †) sit
in its first N ranks (the request's ``top``, else the run's ``top_k``): the JSON and GeoJSON
bodies carry ``small_denominators`` (ids, minimum and the warning in ``lang``), every format
the header ``X-Small-Denominator-Zones`` (the ids, comma-separated), computed by
:func:`geoprio.index.denominators.small_in_top`.

Every format serves the public release of the index table under the request's disclosure
policy (:func:`geoprio.index.public.public_index`: small counts, what derives from them, and
the secondary cells that keep them from being recovered by subtraction, are hidden), built
once per level and policy.
"""

from __future__ import annotations

import io as _io
import math
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from geoprio.disclosure import DisclosurePolicy
from geoprio.index.denominators import DEFAULT_TOP, SmallInTop, min_denominator_of, small_in_top
from geoprio.index.public import PublicIndex, public_index
from geoprio.settings import Lang

from ..deps import PolicyDep, SettingsDep, StoreDep, aggregate_access
from ..schemas import IndicatorDetail, ZoneDetail, ZonePage, ZoneSmallDenominators, ZoneSummary
from ..serialize import page_links
from ..store import Store

router = APIRouter(prefix="/zones", tags=["zones"], dependencies=[Depends(aggregate_access)])

SUMMARY_FIELDS = list(ZoneSummary.model_fields)

#: The response header that names the flagged zones among the first ranks (every format).
SMALL_HEADER = "X-Small-Denominator-Zones"


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def summaries(t: pd.DataFrame, level: str) -> list[dict[str, Any]]:
    """Plain rows of one level's table, best rank first."""
    ptop = next((c for c in t.columns if c.startswith("p_top_")), None)
    rows = []
    for rec in t.drop(columns=t.geometry.name).to_dict("records"):
        row = {k: _clean(rec.get(k)) for k in SUMMARY_FIELDS if k in rec}
        row["level"] = level
        row["zone_id"] = str(rec["zone_id"])
        if row.get("rank") is not None:
            row["rank"] = int(row["rank"])
        for k in ("rank_p05", "rank_p95"):
            if row.get(k) is not None:
                row[k] = int(row[k])
        row["small_denominator"] = bool(row.get("small_denominator") or False)
        if ptop:
            row["p_top_k"] = _clean(rec.get(ptop))
            row["top_k"] = int(ptop.removeprefix("p_top_"))
        rows.append(row)
    rows.sort(key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r["zone_id"]))
    return rows


def _policy_key(policy: DisclosurePolicy | None) -> tuple[int, int] | None:
    return None if policy is None else (policy.min_count, policy.protection_level)


def public_table(store: Store, level: str, policy: DisclosurePolicy | None) -> PublicIndex:
    """The public release of ``level``'s table under ``policy``, built once per policy."""
    return store.cached(
        ("public", level, _policy_key(policy)),
        lambda: public_index(store.table(level)[1], policy, manifest=store.manifests.get(level)),
    )


def small_denominators(store: Store, level: str, policy: DisclosurePolicy | None, top: int | None) -> SmallInTop:
    """The flagged zones among the first ``top`` ranks of ``level`` (default: the run's
    ``top_k``, else 10), built once per level, policy and ``top``.
    """

    def build() -> SmallInTop:
        table = public_table(store, level, policy).table
        ptop = next((c for c in table.columns if str(c).startswith("p_top_")), None)
        n = top or (int(str(ptop).removeprefix("p_top_")) if ptop else DEFAULT_TOP)
        return small_in_top(table, top=n, minimum=min_denominator_of(store.manifests.get(level)))

    return store.cached(("small", level, _policy_key(policy), top), build)


def _summaries_of(store: Store, level: str, policy: DisclosurePolicy | None) -> list[dict[str, Any]]:
    return summaries(public_table(store, level, policy).table, level)


def warm(store: Store, policies: Sequence[DisclosurePolicy | None]) -> None:
    """Build, at start-up, what the zone routes serve for each level under each policy (the
    public release, the list and the details), so that the first requests find them ready.
    """
    for level in store.levels:
        for policy in policies:
            key = _policy_key(policy)
            store.cached(("summaries", level, key), partial(_summaries_of, store, level, policy))
            store.cached(("details", level, key), partial(_zone_details, store, level, policy))


def _level_table(store: Store, level: str | None) -> str:
    try:
        return store.table(level)[0]
    except LookupError as exc:
        if isinstance(exc, KeyError):
            raise HTTPException(422, f"unknown level {level!r}; levels: {store.levels}") from None
        raise HTTPException(404, str(exc)) from None


@router.get("", response_model=ZonePage, responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}}})
def list_zones(
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    policy: PolicyDep,
    level: Annotated[str | None, Query(description="zone level, e.g. upz; default: the only or first one")] = None,
    tier: Annotated[str | None, Query(description="only zones of this tier (alta, media, baja)")] = None,
    top: Annotated[int | None, Query(ge=1, description="only the top N ranks")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=100, description="only zones with index ≥ this")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=10_000)] = 100,
    format: Annotated[Literal["json", "geojson", "csv"], Query()] = "json",
    lang: Annotated[Lang, Query(description="language of the small-denominator warning: es (default) or en")] = "es",
) -> Any:
    """Ranked zones, best first; zones without a rank (excluded) come last.

    ``small_denominators`` (and the header ``X-Small-Denominator-Zones``) says when zones
    under the minimum rate denominator sit in the first ``top`` ranks (default: the run's
    ``top_k``).
    """
    level = _level_table(store, level)
    if page_size > settings.page_size_max:
        raise HTTPException(422, f"page_size must be at most {settings.page_size_max}")
    rows = store.cached(("summaries", level, _policy_key(policy)), partial(_summaries_of, store, level, policy))
    if tier is not None:
        tiers = sorted({r["tier"] for r in rows if r.get("tier")})
        if tier not in tiers:
            raise HTTPException(422, f"unknown tier {tier!r}; tiers: {tiers}")
        rows = [r for r in rows if r.get("tier") == tier]
    if top is not None:
        rows = [r for r in rows if r.get("rank") is not None and r["rank"] <= top]
    if min_score is not None:
        rows = [r for r in rows if r.get("index") is not None and r["index"] >= min_score]
    total = len(rows)
    start = (page - 1) * page_size
    items = rows[start : start + page_size]
    nxt = page + 1 if start + page_size < total else None
    small = small_denominators(store, level, policy, top)
    headers = {SMALL_HEADER: ",".join(small.zone_ids)} if small else {}
    warning = (
        ZoneSmallDenominators(top=small.top, minimum=small.minimum, zones=small.zone_ids, message=small.message(lang) or "").model_dump()
        if small
        else None
    )
    if format == "csv":
        buf = _io.StringIO()
        pd.DataFrame(items, columns=SUMMARY_FIELDS).to_csv(buf, index=False)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={"X-Total-Count": str(total), **headers})
    if format == "geojson":
        shapes = store.cached(("simplified", level), lambda: store.simplified(level))
        features = []
        for r in items:
            geom = shapes.get(r["zone_id"])
            features.append({"type": "Feature", "properties": r, "geometry": geom})
        body = {
            "type": "FeatureCollection",
            "features": features,
            "total": total,
            "page": page,
            "next": nxt,
            "links": page_links(request, page, nxt is not None),
            "small_denominators": warning,
        }
        return JSONResponse(body, media_type="application/geo+json", headers=headers)
    response.headers.update(headers)
    return {"total": total, "page": page, "page_size": page_size, "next": nxt, "items": items, "small_denominators": warning}


@router.get("/{zone_id}", response_model=ZoneDetail)
def get_zone(
    zone_id: str,
    store: StoreDep,
    policy: PolicyDep,
    level: Annotated[str | None, Query(description="zone level; default: the only or first one")] = None,
) -> ZoneDetail:
    """One zone with its explanation: every indicator's value, normalized value and
    contribution, the records behind it, and the rank interval (hidden cells are null, with
    ``suppressed`` true).
    """
    level = _level_table(store, level)
    details = store.cached(("details", level, _policy_key(policy)), lambda: _zone_details(store, level, policy))
    if zone_id not in details:
        raise HTTPException(404, f"zone {zone_id!r} not found at level {level!r}")
    return details[zone_id]


def _zone_details(store: Store, level: str, policy: DisclosurePolicy | None) -> dict[str, ZoneDetail]:
    """Every zone's detail of ``level`` under ``policy``, built once (the outputs never change while served)."""
    public = public_table(store, level, policy)
    t = public.table
    by_id = {r["zone_id"]: r for r in summaries(t, level)}
    names = [c.removesuffix("__contrib") for c in t.columns if c.endswith("__contrib")]
    weights = store.manifests.get(level, {}).get("parameters", {}).get("weights_used", {})
    pillar_columns = [c for c in t.columns if c.startswith("pillar__")]
    details = {}
    for _, rec in t.iterrows():
        zid = str(rec["zone_id"])
        indicators = []
        for n in names:
            hide = bool(public.hidden.at[zid, n])
            indicators.append(
                IndicatorDetail(
                    name=n,
                    value=_clean(rec.get(n)),
                    normalized=_clean(rec.get(f"{n}__norm")),
                    contribution=_clean(rec.get(f"{n}__contrib")),
                    count=_clean(rec.get(f"{n}__count")),
                    rate_raw=_clean(rec.get(f"{n}__rate_raw")),
                    suppressed=hide,
                )
            )
        pillars = {c.removeprefix("pillar__"): _clean(rec.get(c)) for c in pillar_columns} or None
        details[zid] = ZoneDetail(
            **by_id[zid],
            indicators=indicators,
            weights=weights,
            pillars=pillars,
            suppressed_below=0 if policy is None else policy.min_count,
            protection=None if policy is None else policy.protection_level,
        )
    return details
