"""``GET /indicators`` (the plan's indicators and progress) and ``GET /indicators/{id}``.

Serves ``seguimiento.json``, which ``geoprio indicators TARGETS.toml --out <data dir>`` wrote
into the API's data directory (directly, or in a sub-folder); it is read once, on the first
request, and kept (outputs never change while served). ``GET /indicators?format=csv`` serves
``seguimiento.csv`` and ``format=geojson`` ``seguimiento_zonas.geojson`` from the same folder,
filtered by the same parameters and with the same small-count suppression as the JSON
detail. Nothing is recomputed here except picking the year asked for from the yearly series
the file already holds.
"""

from __future__ import annotations

import io as _io
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from geoprio.errors import InputError

from ..deps import SettingsDep, StoreDep, aggregate_access
from ..store import Store

router = APIRouter(prefix="/indicators", tags=["indicators"], dependencies=[Depends(aggregate_access)])

FILE_NAME = "seguimiento.json"
CSV_NAME = "seguimiento.csv"
GEOJSON_NAME = "seguimiento_zonas.geojson"
KIND = "geoprio.seguimiento"


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
    """One month of a record-based indicator."""

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
    suppressed: bool = Field(False, description="the year's value (or the baseline) rests on fewer records than the minimum count")


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


def _hidden_years(series: list[dict[str, Any]], min_count: int) -> set[int]:
    """Years whose value rests on fewer records than ``min_count``."""
    return {int(e["year"]) for e in series if _small(e.get("count"), min_count)}


def _baseline_hidden(ind: dict[str, Any], series: list[dict[str, Any]], min_count: int) -> bool:
    """A baseline measured from the data (its year is in the series) with too few records."""
    by = ind.get("baseline_year")
    return by is not None and int(by) in _hidden_years(series, min_count)


def _summary(ind: dict[str, Any], year: int, min_count: int = 0) -> dict[str, Any]:
    keys = ("id", "label", "objective", "objective_label", "weight", "level", "unit", "unit_label", "trend", "direction")
    row: dict[str, Any] = {k: ind[k] for k in keys}
    row.update(baseline_year=ind.get("baseline_year"), baseline=ind.get("baseline"), year=year)
    row["progress"] = ind["progress_by_year"].get(str(year))
    row["progress_uncapped"] = ind.get("progress_uncapped_by_year", {}).get(str(year))
    if ind["level"] == "city":
        series = ind.get("series", [])
        e = _entry(series, year) or {}
        row.update(actual=e.get("actual"), actual_annualized=e.get("actual_annualized"), months=e.get("months"), target=e.get("target"))
        if year in _hidden_years(series, min_count):  # the value, and the progress computed from it
            row.update(actual=None, actual_annualized=None, progress=None, progress_uncapped=None, suppressed=True)
        if _baseline_hidden(ind, series, min_count):
            row.update(baseline=None, suppressed=True)
    else:
        entries = [_entry(z["series"], year) for z in ind.get("zones", [])]
        defined = [e for e in entries if e is not None and e.get("progress_capped") is not None]
        row.update(
            zones=len(entries),
            zones_with_progress=len(defined),
            zones_met=sum(1 for e in defined if e["progress_capped"] >= 1),
        )
    return row


_SERIES_VALUES = ("actual", "actual_annualized", "count", "progress", "progress_capped", "cumulative_actual", "progress_plan_total")
_MONTH_VALUES = ("count", "value", "year_to_date")


def _zone_series(z: dict[str, Any], ind: dict[str, Any], min_count: int) -> dict[str, Any]:
    """A zone of a zone-level indicator with its small values hidden (its baseline too, when
    that was measured from too few records).
    """
    out = {
        **z,
        "series": [_suppress(s, _SERIES_VALUES, min_count) for s in z["series"]],
        "months": [_suppress(m, _MONTH_VALUES, min_count) for m in z.get("months", [])],
    }
    if _baseline_hidden(ind, z["series"], min_count):
        out["baseline"] = None
    return out


_ROW_VALUES = tuple(f for f in BreakdownRow.model_fields if f not in ("zone_id", "name", "suppressed", "proportional_target"))


def _suppress(entry: dict[str, Any], keys: tuple[str, ...], min_count: int) -> dict[str, Any]:
    count = entry.get("count")
    if min_count > 0 and count is not None and count < min_count:
        return {**{k: v for k, v in entry.items() if k not in keys}, "suppressed": True}
    return entry


# --------------------------------------------------------------------------- CSV and GeoJSON

#: seguimiento.csv: the values hidden in a row based on fewer records than ``min_count``
#: (the detail's ``series`` suppression; the baseline and the target stay, as there).
_CSV_VALUES = ("count", "actual", "actual_annualized", "progress", "progress_capped", "cumulative_actual", "progress_plan_total")
#: seguimiento_zonas.geojson: a city indicator's breakdown row hides every value but its
#: target (the detail's breakdown suppression); a zone-level indicator's zone hides its
#: observed values and their progress (the detail's ``zone_series`` suppression).
_GEO_BREAKDOWN_VALUES = (
    "count",
    "actual",
    "baseline",
    "progress",
    "progress_capped",
    "value_change",
    "change",
    "share_of_change",
    "shortfall",
    "share_of_shortfall",
    "gap_to_city_target",
)
_GEO_ZONE_VALUES = ("count", "actual", "progress", "progress_capped", "value_change")


def _beside(store: Store, name: str) -> Path:
    """An output written beside ``seguimiento.json`` by the same run; 404 when missing."""
    found = _find(store)
    path = found.with_name(name) if found is not None else None
    if path is None or not path.is_file():
        raise HTTPException(
            404, f"no {name} beside {FILE_NAME} in the data directory; run `geoprio indicators TARGETS.toml --out <data dir>`"
        )
    return path


def _read_csv(store: Store) -> pd.DataFrame:
    path = _beside(store, CSV_NAME)
    try:
        # every cell as the text geoprio wrote (zone ids such as "01" keep their zeros)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
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


def _small(count: Any, min_count: int) -> bool:
    try:
        c = float(count)
    except (TypeError, ValueError):
        return False
    return min_count > 0 and not math.isnan(c) and c < min_count


def _csv_response(store: Store, ids: list[str], year: int | None, min_count: int) -> Response:
    table = store.cached(("indicators", "csv"), lambda: _read_csv(store))
    keep = table["indicator"].isin(ids)
    if year is not None:
        keep &= table["year"] == str(year)
    rows = table[keep].copy()
    hide = rows["count"].map(lambda c: _small(c, min_count)).astype(bool)
    for col in _CSV_VALUES:
        if col in rows.columns:
            rows.loc[hide, col] = ""
    if "baseline" in rows.columns:  # a baseline measured from too few records, in every row of that place
        full = table[table["indicator"].isin(ids)]
        small = full["count"].map(lambda c: _small(c, min_count)).astype(bool)
        base_years = {i["id"]: i.get("baseline_year") for i in _document(store)["indicators"]}
        at_base = full["year"] == full["indicator"].map(lambda i: str(base_years.get(i)))
        bad = set(zip(full.loc[at_base & small, "indicator"], full.loc[at_base & small, "zone_id"], strict=True))
        gone = [(i, z) in bad for i, z in zip(rows["indicator"], rows["zone_id"], strict=True)]
        rows.loc[gone, "baseline"] = ""
        hide = hide | pd.Series(gone, index=rows.index)
    rows["suppressed"] = hide
    buf = _io.StringIO()
    rows.to_csv(buf, index=False, lineterminator="\n")
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers={"X-Total-Count": str(len(rows))})


def _geojson_response(store: Store, ids: list[str], year: int | None, min_count: int) -> JSONResponse:
    layer = store.cached(("indicators", "geojson"), lambda: _read_geojson(store))
    years = sorted({int(f["properties"]["year"]) for f in layer["features"] if f.get("properties", {}).get("year") is not None})
    if year is not None and years and year not in years:
        held = ", ".join(map(str, years))
        raise HTTPException(422, f"the zone layer holds the run's year only ({held}); run `geoprio indicators TARGETS.toml --year {year}`")
    doc = _document(store)
    measured_small = {  # zones whose own baseline rests on too few records
        (i["id"], z["zone_id"]) for i in doc["indicators"] for z in i.get("zones", []) if _baseline_hidden(i, z["series"], min_count)
    }
    features = []
    for f in layer["features"]:
        props = f.get("properties") or {}
        if props.get("indicator") not in ids:
            continue
        if (props.get("indicator"), props.get("zone_id")) in measured_small:
            props = {**props, "baseline": None}
        hide = _small(props.get("count"), min_count)
        if hide:
            keys = _GEO_BREAKDOWN_VALUES if props.get("scope") == "breakdown" else _GEO_ZONE_VALUES
            props = {k: (None if k in keys else v) for k, v in props.items()}
        features.append({**f, "properties": {**props, "suppressed": hide}})
    body = {"type": "FeatureCollection", "features": features, "total": len(features), "suppressed_below": min_count}
    return JSONResponse(body, media_type="application/geo+json")


@router.get("", response_model=IndicatorList, responses={200: {"content": {"text/csv": {}, "application/geo+json": {}}}})
def list_indicators(
    store: StoreDep,
    settings: SettingsDep,
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
    doc = _document(store)
    y = _year(doc, year)
    objectives = doc["objectives"]
    if objective is not None and objective not in {o["id"] for o in objectives}:
        raise HTTPException(422, f"unknown objective {objective!r}; objectives: {[o['id'] for o in objectives]}")
    if level is not None and level not in doc["levels"]:
        raise HTTPException(422, f"unknown level {level!r}; levels: {doc['levels']}")
    inds = [i for i in doc["indicators"] if (objective is None or i["objective"] == objective) and (level is None or i["level"] == level)]
    if format == "csv":
        return _csv_response(store, [i["id"] for i in inds], year, settings.min_count)
    if format == "geojson":
        return _geojson_response(store, [i["id"] for i in inds], year, settings.min_count)
    items = [IndicatorSummary(**_summary(i, y, settings.min_count)) for i in inds]
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
    settings: SettingsDep,
    year: Annotated[
        int | None, Query(ge=1900, le=2200, description="year of the summary and the breakdown; default: the run's year")
    ] = None,
) -> IndicatorDetail:
    """One indicator: its yearly series (per zone for zone-level indicators), months, notes, and
    for city indicators the per-zone breakdown of the year (where the target is won or lost).
    """
    doc = _document(store)
    ind = next((i for i in doc["indicators"] if i["id"] == indicator_id), None)
    if ind is None:
        raise HTTPException(404, f"indicator {indicator_id!r} not found; indicators: {[i['id'] for i in doc['indicators']]}")
    y = _year(doc, year)
    mc = settings.min_count
    body: dict[str, Any] = _summary(ind, y, mc)
    series = ind.get("series", [])
    hidden = _hidden_years(series, mc) if ind["level"] == "city" else set()
    baseline_hidden = ind["level"] == "city" and _baseline_hidden(ind, series, mc)
    body.update(
        per=ind.get("per"),
        program_years=ind["program_years"],
        years=ind["years"],
        targets=ind.get("targets"),
        # targets set relative to a suppressed baseline would give it away
        relative_targets=None if baseline_hidden else ind.get("relative_targets"),
        progress_by_year={k: (None if int(k) in hidden else v) for k, v in ind["progress_by_year"].items()},
        series=[_suppress(s, _SERIES_VALUES, mc) for s in series],
        monthly=[_suppress(m, _MONTH_VALUES, mc) for m in ind.get("months", [])],
        zone_series=[_zone_series(z, ind, mc) for z in ind.get("zones", [])],
        notes=ind.get("notes", []),
        suppressed_below=mc,
    )
    b = ind.get("breakdown")
    if b and str(y) in b["by_year"]:
        body["breakdown"] = {
            "level": b["level"],
            "baseline_year": b["baseline_year"],
            "year": y,
            "rows": [_suppress(r, _ROW_VALUES, mc) for r in b["by_year"][str(y)]],
        }
    return IndicatorDetail(**body)
