"""``GET /indicators`` (the plan's indicators and progress) and ``GET /indicators/{id}``.

Serves ``seguimiento.json``, which ``geoprio indicators TARGETS.toml --out <data dir>`` wrote
into the API's data directory (directly, or in a sub-folder); it is read once, on the first
request, and kept (outputs never change while served). ``GET /indicators?format=csv`` serves
``seguimiento.csv`` and ``format=geojson`` ``seguimiento_zonas.geojson`` from the same folder,
filtered by the same parameters. Nothing is recomputed here except picking the year asked for
from the yearly series the file already holds.

Disclosure: a caller with full access (a key with ``read:records``, or ``GEOPRIO_MIN_COUNT=0``)
gets the files as written; everyone else gets their public version under the settings' policy,
made by :func:`geoprio.seguimiento.public_tracking` (the same function ``geoprio indicators
--public`` writes with) once per policy, so the JSON, the CSV and the GeoJSON hide the same
cells, with the same complementary suppression.
"""

from __future__ import annotations

import io as _io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError
from geoprio.seguimiento import PublicTracking, public_tracking, tracking_parents

from ..deps import PolicyDep, StoreDep, aggregate_access
from ..store import Store

router = APIRouter(prefix="/indicators", tags=["indicators"], dependencies=[Depends(aggregate_access)])

FILE_NAME = "seguimiento.json"
CSV_NAME = "seguimiento.csv"
GEOJSON_NAME = "seguimiento_zonas.geojson"
KIND = "geoprio.seguimiento"
MANIFEST_NAME = "seguimiento_manifest.json"


class YearEntry(BaseModel):
    """One year of an indicator in one place (values suppressed below the minimum count)."""

    model_config = ConfigDict(extra="ignore")

    year: int
    months: int | None = Field(None, description="months of data in the year (12 = complete; fewer = year to date)")
    actual: float | None = None
    actual_annualized: float | None = None
    count: float | None = Field(None, description="records (or table counts) behind the value")
    target: float | None = None
    target_to_date: float | None = None
    progress: float | None = Field(None, description="uncapped progress (1 = target met)")
    progress_capped: float | None = Field(None, description="progress clipped to [0, 1]")
    cumulative_actual: float | None = None
    cumulative_target: float | None = None
    plan_total_target: float | None = None
    progress_plan_total: float | None = None
    notes: list[str] = []
    suppressed: bool = False


class MonthEntry(BaseModel):
    """One month of a record-based indicator (a public release withholds a year's months whole,
    as nulls, when one of them or the year is hidden; a zone's months only with full access).
    """

    month: str
    count: float | None = None
    value: float | None = None
    year_to_date: float | None = None


class ZoneSeries(BaseModel):
    """A zone of a zone-level indicator with its own baseline, targets and series."""

    zone_id: str
    name: str
    baseline: float | None = None
    targets: dict[str, float | None] = {}
    series: list[YearEntry]
    months: list[MonthEntry] = []
    notes: list[str] = []


class BreakdownRow(BaseModel):
    """A zone's part in a city indicator's change and in its gap to the target."""

    model_config = ConfigDict(extra="ignore")

    zone_id: str
    name: str
    count_base: float | None = None
    count: float | None = None
    value_base: float | None = None
    value: float | None = None
    value_annualized: float | None = None
    value_change: float | None = Field(None, description="the zone's own value minus its baseline value")
    part_base: float | None = None
    part: float | None = None
    change: float | None = None
    share_of_change: float | None = None
    expected: float | None = None
    shortfall: float | None = Field(None, description="the zone's part of the city's shortfall (positive = losing ground)")
    share_of_shortfall: float | None = None
    proportional_target: float | None = None
    progress: float | None = None
    progress_capped: float | None = None
    gap_to_city_target: float | None = None
    suppressed: bool = False


class Breakdown(BaseModel):
    """Where a city target is won or lost in one year."""

    level: str
    baseline_year: int | None
    year: int
    rows: list[BreakdownRow]


class NoteOut(BaseModel):
    """A note about an indicator's values."""

    code: str
    year: int | None = None
    zone_id: str | None = None
    text: str


class IndicatorSummary(BaseModel):
    """An indicator in one year."""

    id: str
    label: str
    objective: str
    objective_label: str
    weight: float
    level: str
    unit: str
    unit_label: str
    trend: str
    direction: str
    baseline_year: int | None = None
    baseline: float | None = None
    year: int
    actual: float | None = None
    actual_annualized: float | None = None
    months: int | None = None
    target: float | None = None
    progress: float | None = Field(None, description="capped progress (mean over zones for zone-level indicators)")
    progress_uncapped: float | None = None
    zones: int | None = Field(None, description="zone-level indicators: zones tracked")
    zones_with_progress: int | None = None
    zones_met: int | None = None
    suppressed: bool = Field(
        False, description="the year's value, or the baseline, is hidden (too few records, or hidden to protect another hidden count)"
    )


class ObjectiveSummary(BaseModel):
    """An objective's weighted progress in one year."""

    id: str
    label: str
    weight: float
    progress: float | None
    indicators: list[str]


class IndicatorList(BaseModel):
    """The plan in one year: its progress, its objectives and the (filtered) indicators."""

    title: str | None
    year: int
    years: list[int]
    plan_progress: float | None
    objectives: list[ObjectiveSummary]
    total: int
    items: list[IndicatorSummary]


class IndicatorDetail(IndicatorSummary):
    """An indicator with its yearly series, months, zones, breakdown and notes."""

    per: float | None = None
    program_years: list[int]
    years: list[int]
    targets: dict[str, float | None] | None = None
    relative_targets: dict[str, float] | None = None
    progress_by_year: dict[str, float | None]
    series: list[YearEntry] = []
    monthly: list[MonthEntry] = []
    zone_series: list[ZoneSeries] = []
    breakdown: Breakdown | None = None
    notes: list[NoteOut] = []
    suppressed_below: int = 0


def _find(store: Store) -> Path | None:
    direct = store.data_dir / FILE_NAME
    if direct.is_file():
        return direct
    found = sorted(store.data_dir.glob(f"**/{FILE_NAME}"))
    return found[0] if found else None


def load_document(store: Store) -> dict[str, Any] | None:
    """``seguimiento.json`` of the data directory (None when there is none)."""
    path = _find(store)
    if path is None:
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the tracking output: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise InputError(f"{path}: not a geoprio seguimiento output (kind {KIND!r} expected)")
    return doc


def _document(store: Store) -> dict[str, Any]:
    doc = store.cached(("indicators", "document"), lambda: load_document(store))
    if doc is None:
        raise HTTPException(
            404, f"no tracking output ({FILE_NAME}) in the data directory; run `geoprio indicators TARGETS.toml --out <data dir>`"
        )
    return doc


def _year(doc: dict[str, Any], year: int | None) -> int:
    if year is None:
        return int(doc["year"])
    if year not in doc["years"]:
        raise HTTPException(422, f"year {year} is not tracked; years: {doc['years']}")
    return year


def _entry(series: list[dict[str, Any]], year: int) -> dict[str, Any] | None:
    return next((s for s in series if int(s["year"]) == year), None)


def _summary(ind: dict[str, Any], year: int) -> dict[str, Any]:
    """An indicator of the (public) document in ``year``."""
    keys = ("id", "label", "objective", "objective_label", "weight", "level", "unit", "unit_label", "trend", "direction")
    row: dict[str, Any] = {k: ind[k] for k in keys}
    row.update(baseline_year=ind.get("baseline_year"), baseline=ind.get("baseline"), year=year)
    row["progress"] = ind["progress_by_year"].get(str(year))
    row["progress_uncapped"] = ind.get("progress_uncapped_by_year", {}).get(str(year))
    if ind["level"] == "city":
        e = _entry(ind.get("series", []), year) or {}
        row.update(actual=e.get("actual"), actual_annualized=e.get("actual_annualized"), months=e.get("months"), target=e.get("target"))
        row["suppressed"] = bool(e.get("suppressed") or ind.get("baseline_suppressed"))
    else:
        entries = [_entry(z["series"], year) for z in ind.get("zones", [])]
        defined = [e for e in entries if e is not None and e.get("progress_capped") is not None]
        row.update(
            zones=len(entries),
            zones_with_progress=len(defined),
            zones_met=sum(1 for e in defined if e["progress_capped"] >= 1),
            suppressed=any((e or {}).get("suppressed") for e in entries) or any(z.get("baseline_suppressed") for z in ind.get("zones", [])),
        )
    return row


# --------------------------------------------------------------------------- the release


def _beside(store: Store, name: str) -> Path:
    """An output written beside ``seguimiento.json`` by the same run; 404 when missing."""
    found = _find(store)
    path = found.with_name(name) if found is not None else None
    if path is None or not path.is_file():
        raise HTTPException(
            404, f"no {name} beside {FILE_NAME} in the data directory; run `geoprio indicators TARGETS.toml --out <data dir>`"
        )
    return path


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+(?:[eE][-+]?\d+)?$")


def _read_csv(store: Store) -> pd.DataFrame:
    path = _beside(store, CSV_NAME)
    try:
        # every cell as the text geoprio wrote (zone ids such as "01" keep their zeros); a table
        # written with ``--csv excel`` (BOM, ";", decimal comma) is served with decimal points
        with open(path, encoding="utf-8-sig") as fh:
            header = fh.readline()
        excel = header.count(";") > header.count(",")
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=";" if excel else ",")
        if excel:
            table = table.map(lambda v: v.replace(",", ".") if _DECIMAL_COMMA.match(v) else v)
        return table
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the tracking table: {exc}") from None


def _read_geojson(store: Store) -> dict[str, Any]:
    path = _beside(store, GEOJSON_NAME)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda _: None)  # NaN/Infinity → null
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the tracking zone layer: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise InputError(f"{path}: not a GeoJSON FeatureCollection")
    return doc


def _table(store: Store) -> pd.DataFrame:
    return store.cached(("indicators", "csv"), lambda: _read_csv(store))


def _layer(store: Store) -> dict[str, Any]:
    return store.cached(("indicators", "geojson"), lambda: _read_geojson(store))


def _or_none(read: Callable[[], Any]) -> Any:
    """What ``read`` returns, or None when the file is missing or unreadable (the format's own
    request then reads it again and answers 404 or 422).
    """
    try:
        return read()
    except (HTTPException, InputError):
        return None


def _release(store: Store, policy: DisclosurePolicy | None) -> PublicTracking:
    """The outputs as ``policy`` lets them be served: the files as written (None: full access),
    or their public version (:func:`~geoprio.seguimiento.public_tracking`, built once per policy).
    With full access the table and the layer are None (read when asked for); in a public
    release they are None when the file is missing or unreadable.
    """
    doc = _document(store)
    if policy is None:
        return PublicTracking(doc, None, None)  # the table and the layer are read when asked for

    def build() -> PublicTracking:
        table, layer = _or_none(lambda: _table(store)), _or_none(lambda: _layer(store))
        return public_tracking(doc, policy, table=table, layer=layer, parents=_parents(store, doc))

    return store.cached(("indicators", "public", policy.min_count, policy.protection_level), build)


def _parents(store: Store, doc: dict[str, Any]) -> dict[str, str] | None:
    """The zones' hierarchy: the document's, or the run's zones read again from its manifest."""
    if doc.get("parents") is not None:
        return dict(doc["parents"])
    found = _find(store)
    return tracking_parents(found.with_name(MANIFEST_NAME)) if found is not None else None


def zone_layer(store: Store, policy: DisclosurePolicy | None) -> dict[str, Any] | None:
    """The tracking zone layer (``seguimiento_zonas.geojson``) as ``policy`` publishes it; None
    when the data directory has no tracking output or no zone layer.
    """
    if store.cached(("indicators", "document"), lambda: load_document(store)) is None:
        return None
    release = _release(store, policy)
    if release.layer is not None:
        return release.layer
    return _or_none(lambda: _layer(store)) if policy is None else None


def _csv_response(release: PublicTracking, store: Store, ids: list[str], year: int | None) -> Response:
    table = release.table if release.table is not None else _table(store)  # 404 when missing
    keep = table["indicator"].isin(ids)
    if year is not None:
        keep &= table["year"] == str(year)
    rows = table[keep].copy()
    if "suppressed" not in rows.columns:
        rows["suppressed"] = False
    buf = _io.StringIO()
    rows.to_csv(buf, index=False, lineterminator="\n")
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={"X-Total-Count": str(len(rows))})


def _geojson_response(release: PublicTracking, store: Store, ids: list[str], year: int | None, min_count: int) -> JSONResponse:
    layer = release.layer if release.layer is not None else _layer(store)  # 404 when missing
    years = sorted({int(f["properties"]["year"]) for f in layer["features"] if f.get("properties", {}).get("year") is not None})
    if year is not None and years and year not in years:
        held = ", ".join(map(str, years))
        raise HTTPException(422, f"the zone layer holds the run's year only ({held}); run `geoprio indicators TARGETS.toml --year {year}`")
    features = []
    for f in layer["features"]:
        props = f.get("properties") or {}
        if props.get("indicator") in ids:
            features.append({**f, "properties": {**props, "suppressed": bool(props.get("suppressed", False))}})
    body = {"type": "FeatureCollection", "features": features, "total": len(features), "suppressed_below": min_count}
    return JSONResponse(body, media_type="application/geo+json")


@router.get("", response_model=IndicatorList, responses={200: {"content": {"text/csv": {}, "application/geo+json": {}}}})
def list_indicators(
    store: StoreDep,
    policy: PolicyDep,
    objective: Annotated[str | None, Query(description="only indicators of this objective")] = None,
    level: Annotated[str | None, Query(description="only indicators tracked at this level: city, localidad, upz…")] = None,
    year: Annotated[
        int | None,
        Query(ge=1900, le=2200, description="year to report; default: the run's year (csv: every year; geojson: the run's year only)"),
    ] = None,
    format: Annotated[
        Literal["json", "csv", "geojson"],
        Query(
            description="json: the summary below; csv: seguimiento.csv (one row per indicator, place and year); geojson: progress per zone"
        ),
    ] = "json",
) -> Any:
    """The plan's progress, its objectives' and each indicator's in one year; or, with
    ``format=csv`` / ``geojson``, the tracking table / zone layer of the same indicators.
    """
    release = _release(store, policy)
    doc = release.document
    y = _year(doc, year)
    objectives = doc["objectives"]
    if objective is not None and objective not in {o["id"] for o in objectives}:
        raise HTTPException(422, f"unknown objective {objective!r}; objectives: {[o['id'] for o in objectives]}")
    if level is not None and level not in doc["levels"]:
        raise HTTPException(422, f"unknown level {level!r}; levels: {doc['levels']}")
    inds = [i for i in doc["indicators"] if (objective is None or i["objective"] == objective) and (level is None or i["level"] == level)]
    if format == "csv":
        return _csv_response(release, store, [i["id"] for i in inds], year)
    if format == "geojson":
        return _geojson_response(release, store, [i["id"] for i in inds], year, _min_count(policy))
    items = [IndicatorSummary(**_summary(i, y)) for i in inds]
    return IndicatorList(
        title=doc.get("title"),
        year=y,
        years=doc["years"],
        plan_progress=doc["plan"]["progress_by_year"].get(str(y)),
        objectives=[
            ObjectiveSummary(
                id=o["id"], label=o["label"], weight=o["weight"], progress=o["progress_by_year"].get(str(y)), indicators=o["indicators"]
            )
            for o in objectives
        ],
        total=len(items),
        items=items,
    )


@router.get("/{indicator_id}", response_model=IndicatorDetail)
def get_indicator(
    indicator_id: str,
    store: StoreDep,
    policy: PolicyDep,
    year: Annotated[
        int | None, Query(ge=1900, le=2200, description="year of the summary and the breakdown; default: the run's year")
    ] = None,
) -> IndicatorDetail:
    """One indicator: its yearly series (per zone for zone-level indicators), months, notes, and
    for city indicators the per-zone breakdown of the year (where the target is won or lost).
    """
    doc = _release(store, policy).document
    ind = next((i for i in doc["indicators"] if i["id"] == indicator_id), None)
    if ind is None:
        raise HTTPException(404, f"indicator {indicator_id!r} not found; indicators: {[i['id'] for i in doc['indicators']]}")
    y = _year(doc, year)
    body: dict[str, Any] = _summary(ind, y)
    body.update(
        per=ind.get("per"),
        program_years=ind["program_years"],
        years=ind["years"],
        targets=ind.get("targets"),
        relative_targets=ind.get("relative_targets"),
        progress_by_year=ind["progress_by_year"],
        series=ind.get("series", []),
        monthly=ind.get("months", []),
        zone_series=ind.get("zones", []),
        notes=ind.get("notes", []),
        suppressed_below=_min_count(policy),
    )
    b = ind.get("breakdown")
    if b and str(y) in b["by_year"]:
        body["breakdown"] = {"level": b["level"], "baseline_year": b["baseline_year"], "year": y, "rows": b["by_year"][str(y)]}
    return IndicatorDetail(**body)


def _min_count(policy: DisclosurePolicy | None) -> int:
    return 0 if policy is None else policy.min_count
