"""The data step of a tracking run: what the files of a targets file say, before any arithmetic.

:func:`load_tracking_data` loads the zones and the sources of a
:class:`~geoprio.seguimiento.config.TargetsConfig` through :mod:`geoprio.index.run` (so they
are tied to the zones and validated exactly as the index does), reads the population tables
(:func:`read_population`) and returns, per indicator, the numerators (and denominators for
shares) per base zone and period, the months each year covers (:func:`months_by_year`), and
the population per zone and year, as a :class:`TrackingData`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geoprio.errors import ColumnError, ConfigError, InputError
from geoprio.index.measures import filter_records
from geoprio.index.run import build_zones, load_source, tie_source
from geoprio.io import files as io
from geoprio.records.load import Records, ZoneTable, parse_numbers, where_mask
from geoprio.records.report import ValidationReport
from geoprio.seguimiento.config import UNPLACED, LevelInfo, PopulationByYear, TargetsConfig, TrackedIndicator, TrackingOptions
from geoprio.zones.assign import PointLocator
from geoprio.zones.layers import Zones, load_zones

__all__ = [
    "IndicatorData",
    "PopulationTable",
    "TrackingData",
    "load_tracking_data",
    "months_by_year",
    "read_population",
]


def _code(value: object) -> str:
    """A zone code for matching: stripped, and without leading zeros when all digits."""
    s = str(value).strip()
    return (s.lstrip("0") or "0") if s.isdigit() else s


@dataclass
class PopulationTable:
    """Residents per zone (rows) and year (columns) at one zone level, read from ``source``."""

    level: str
    values: pd.DataFrame
    source: str

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.values.columns]


def read_population(cfg: PopulationByYear, levels: LevelInfo, level_ids: dict[str, pd.Index]) -> PopulationTable:
    """Read one population-by-year table and tie its ids to the zones of its level.

    The level is ``cfg.level`` or, when not given, the zone level whose ids the table's ids
    match most. Ids are compared as codes (stripped; leading zeros ignored when all digits).
    """
    src = cfg.path.name
    opts = {k: getattr(cfg, k) for k in ("sep", "encoding", "decimal") if getattr(cfg, k) is not None}
    df = io.read_table(cfg.path, **({"sheet": cfg.sheet} if cfg.sheet is not None else {}), **opts)
    for c in (cfg.id, cfg.year, cfg.column):
        if c not in df.columns:
            raise ColumnError(f"{src}: column {c!r} not found; columns found: {list(df.columns)}")
    rows = np.arange(len(df)) + 2
    if cfg.where:
        mask = where_mask(df, cfg.where, source=src)
        df, rows = df.loc[mask].reset_index(drop=True), rows[mask]
    decimal = str(df.attrs.get("geoprio_read", {}).get("decimal", "."))
    values, missing, bad = parse_numbers(df[cfg.column], decimal)
    if bad.any() or missing.any():
        i = int(np.flatnonzero(bad | missing)[0])
        raise InputError(f"{src}: row {rows[i]}, column {cfg.column!r}: {df[cfg.column].iloc[i]!r} is not a number")
    years, ymissing, ybad = parse_numbers(df[cfg.year], ".")
    if ybad.any() or ymissing.any() or (years != np.round(years)).any():
        i = int(np.flatnonzero(ybad | ymissing | (years != np.round(years)))[0])
        raise InputError(f"{src}: row {rows[i]}, column {cfg.year!r}: {df[cfg.year].iloc[i]!r} is not a year")
    codes = df[cfg.id].map(_code)
    candidates = [cfg.level] if cfg.level else levels.zone_levels
    matches = {lv: int(codes.isin({_code(z) for z in level_ids[lv]}).sum()) for lv in candidates}
    level = max(candidates, key=lambda lv: matches[lv])
    if matches[level] == 0:
        examples = {lv: [str(z) for z in level_ids[lv][:3]] for lv in candidates}
        raise InputError(
            f"{src}: no id in column {cfg.id!r} (e.g. {list(df[cfg.id].iloc[:3])}) is a zone id of level(s) {candidates} (e.g. {examples})"
        )
    by_code = {_code(z): str(z) for z in level_ids[level]}
    zone = codes.map(by_code)
    frame = pd.DataFrame({"zone_id": zone, "year": years.astype(int), "value": values, "row": rows})
    frame = frame[zone.notna().to_numpy()]
    dup = frame.duplicated(["zone_id", "year"], keep=False)
    if dup.any() and cfg.duplicates == "error":
        first = frame[dup].iloc[0]
        where = frame.loc[(frame["zone_id"] == first["zone_id"]) & (frame["year"] == first["year"]), "row"].tolist()
        raise InputError(
            f"{src}: zone {first['zone_id']!r}, year {first['year']} appears in rows {', '.join(map(str, where))}; "
            "give one row per zone and year (or duplicates = 'sum' or 'first', or a where filter)"
        )
    agg = "sum" if cfg.duplicates == "sum" else "first"
    table = frame.groupby(["zone_id", "year"])["value"].agg(agg).unstack("year")
    return PopulationTable(level=level, values=table, source=src)


@dataclass
class IndicatorData:
    """What the data say for one indicator, before any arithmetic.

    ``yearly`` and ``den_yearly`` (shares only) are base zones (plus :data:`UNPLACED`) ×
    years covered by the data; a partial last year holds its year-to-date sum. ``monthly``
    and ``den_monthly`` (record sources only) are the same by month (``YYYY-MM``).
    ``months`` maps each covered year to the months it covers (12 for a complete year).
    """

    yearly: pd.DataFrame
    months: dict[int, int]
    den_yearly: pd.DataFrame | None = None
    monthly: pd.DataFrame | None = None
    den_monthly: pd.DataFrame | None = None
    period: tuple[dt.date, dt.date] | None = None
    period_inferred: bool = False
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrackingData:
    """Zones, their levels, population tables and every indicator's data."""

    zones: Zones
    levels: LevelInfo
    level_ids: dict[str, pd.Index]
    level_names: dict[str, dict[str, str]]
    parent_of: pd.Series
    population: list[PopulationTable]
    indicators: dict[str, IndicatorData]
    reports: list[ValidationReport]
    parent_zones: Zones | None = None


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _record_period(data: pd.DataFrame, name: str, options: TrackingOptions) -> tuple[dt.date, dt.date, bool]:
    """The period a record source covers: given in ``options.periods``, else from Jan 1 of
    the first record's year to ``as_of`` or to the end of the last record's month.
    """
    if options.periods and name in options.periods:
        a, b = options.periods[name]
        return a, b, False
    dates = data["date"].dropna()
    if dates.empty:
        raise InputError(f"source {name!r}: no record has a date; tracking needs dates")
    first, last = dates.min().date(), dates.max().date()
    end = options.as_of if options.as_of is not None else _month_end(last)
    return dt.date(first.year, 1, 1), end, True


def _whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end] shrunk to whole months."""
    if start.day != 1:
        start = _month_end(start) + dt.timedelta(days=1)
    if end != _month_end(end):
        end = end.replace(day=1) - dt.timedelta(days=1)
    return start, end


def months_by_year(start: dt.date, end: dt.date) -> dict[int, int]:
    """Whole months of each calendar year inside [start, end] (partial months left out)."""
    start, end = _whole_months(start, end)
    out: dict[int, int] = {}
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out[y] = out.get(y, 0) + 1
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _records_data(
    ind: TrackedIndicator,
    name: str,
    loaded: Records,
    placed: Records,
    base_ids: pd.Index,
    options: TrackingOptions,
) -> IndicatorData:
    start, end, inferred = _record_period(loaded.data, name, options)
    w_start, w_end = _whole_months(start, end)
    months = months_by_year(start, end)
    if not months:
        raise InputError(f"source {name!r}: the period {start} to {end} holds no whole month")
    # unplaced: records in the source (keyed, with a date) whose place matched no zone
    placed_rows = set(placed.data["row"].to_numpy().tolist())
    frames = [placed.data.assign(unit=placed.data["zone_id"].astype(str))]
    if loaded.layout == "keyed":
        lost = loaded.data[~loaded.data["row"].isin(placed_rows)]
        frames.append(lost.assign(unit=UNPLACED))
    data = pd.concat(frames, ignore_index=True)
    day = data["date"].dt.normalize()
    data = data[(day >= pd.Timestamp(w_start)).to_numpy() & (day <= pd.Timestamp(w_end)).to_numpy()]
    selected = filter_records(data, categories=ind.categories, hours=ind.hours, weekdays=ind.weekdays)
    if ind.categories and selected.empty and not data.empty:
        raise ConfigError(
            f"indicator {ind.id!r}: no record of {loaded.report.source} has categories {ind.categories}; "
            f"categories present: {sorted(map(str, data['category'].dropna().unique()))[:12]}"
        )
    rows = pd.Index([*base_ids.astype(str), UNPLACED], name="zone_id")
    periods = pd.period_range(w_start, w_end, freq="M")
    month_cols = [str(p) for p in periods]

    def by_month(frame: pd.DataFrame) -> pd.DataFrame:
        key = frame["date"].dt.strftime("%Y-%m")
        t = frame.groupby([frame["unit"], key])["weight"].sum().unstack(fill_value=0.0)
        return t.reindex(index=rows, columns=month_cols, fill_value=0.0).astype(float)

    monthly = by_month(selected)
    years = sorted(months)

    def to_years(m: pd.DataFrame) -> pd.DataFrame:
        out = m.T.groupby([int(c[:4]) for c in m.columns]).sum().T
        return out.reindex(columns=years, fill_value=0.0)

    den_monthly = by_month(data) if ind.unit == "share" else None
    notes = {"records": int(len(selected)), "weighted_count": float(selected["weight"].sum())}
    n_lost = float(selected.loc[selected["unit"] == UNPLACED, "weight"].sum())
    if n_lost:
        notes["unplaced"] = n_lost
    return IndicatorData(
        yearly=to_years(monthly),
        months=months,
        den_yearly=None if den_monthly is None else to_years(den_monthly),
        monthly=monthly,
        den_monthly=den_monthly,
        period=(w_start, w_end),
        period_inferred=inferred,
        notes=notes,
    )


def _table_data(ind: TrackedIndicator, table: ZoneTable, base_ids: pd.Index) -> IndicatorData:
    assert ind.columns is not None
    src = table.report.source

    def frame(cols: dict[int, str]) -> pd.DataFrame:
        for y, c in cols.items():
            if c not in table.values.columns:
                raise ConfigError(
                    f"indicator {ind.id!r}: column {c!r} (year {y}) is not in {src}; columns: {list(table.values.columns)[:20]}"
                )
        raw = table.values[[cols[y] for y in sorted(cols)]].astype(float)
        raw.columns = sorted(cols)
        raw.index = raw.index.astype(str)
        known = raw.index.isin(base_ids.astype(str))
        zones_part = raw[known].reindex(base_ids.astype(str))
        lost = raw[~known].sum(axis=0, min_count=1).fillna(0.0)
        out = pd.concat([zones_part, lost.to_frame(UNPLACED).T])
        out.index.name = "zone_id"
        return out

    yearly = frame(ind.columns)
    notes: dict[str, Any] = {}
    unknown = [str(z) for z in table.values.index.astype(str) if z not in set(base_ids.astype(str))]
    if unknown:
        notes["table_ids_not_zones"] = unknown
        lost = yearly.loc[UNPLACED]
        notes["unplaced_by_year"] = {int(y): float(v) for y, v in lost.items()}
    missing = [str(z) for z in base_ids.astype(str) if z not in set(table.values.index.astype(str))]
    if missing:
        notes["zones_not_in_table"] = missing
    den = frame(ind.total_columns) if ind.total_columns else None
    if den is not None and set(den.columns) != set(yearly.columns):
        raise ConfigError(f"indicator {ind.id!r}: total_columns must name the same years as columns ({sorted(yearly.columns)})")
    return IndicatorData(yearly=yearly, months={int(y): 12 for y in yearly.columns}, den_yearly=den, notes=notes)


def load_tracking_data(cfg: TargetsConfig) -> TrackingData:
    """Load the zones, the sources (tied to the zones as the index does) and the population
    tables, and extract every indicator's numerators per base zone and period.
    """
    zones = build_zones(cfg.zones)
    levels = cfg.levels
    frame = zones.frame
    base_ids = pd.Index(frame["zone_id"].astype(str), name="zone_id")
    level_ids = {levels.base: base_ids}
    level_names = {levels.base: dict(zip(base_ids, frame["name"].astype("string").fillna("").astype(str), strict=True))}
    parent_of = pd.Series(frame["parent_id"].astype("string").to_numpy(), index=base_ids, dtype="string")
    parent_zones = None
    if levels.parent is not None:
        pids = parent_of.dropna().astype(str)
        if pids.empty:
            raise ConfigError(f"zones: no zone of {zones.report.source} has a parent id (column {cfg.zones.parent_column!r})")
        pnames = pd.Series(frame["parent_name"].astype("string").to_numpy(), index=base_ids)
        level_ids[levels.parent] = pd.Index(sorted(set(pids)), name="zone_id")
        first: dict[str, str] = {}
        for b, p in pids.items():
            if not first.get(p):
                first[p] = "" if pd.isna(pnames[b]) else str(pnames[b])
        level_names[levels.parent] = {p: first.get(p, "") for p in level_ids[levels.parent]}
        if cfg.zones.parent is not None:
            pz = cfg.zones.parent
            parent_zones = load_zones(pz.path, id=pz.id, name=pz.name, level=pz.level, metric_crs=cfg.zones.metric_crs)
    population = [read_population(p, levels, level_ids) for p in cfg.population]
    locator = None
    used = {i.source for i in cfg.indicators}
    if any(cfg.sources[s].layout == "points" for s in used):
        locator = PointLocator().fit(frame.geometry.values)
    reports = [zones.report]
    loaded_sources: dict[str, tuple[Any, Any]] = {}
    for name in sorted(used):
        src = cfg.sources[name]
        loaded = load_source(name, src)
        placed = tie_source(loaded, src, zones, locator)
        loaded_sources[name] = (loaded, placed)
        reports.append(placed.report)
    data = {}
    for ind in cfg.indicators:
        loaded, placed = loaded_sources[ind.source]
        if isinstance(placed, ZoneTable):
            data[ind.id] = _table_data(ind, placed, base_ids)
        else:
            data[ind.id] = _records_data(ind, ind.source, loaded, placed, base_ids, cfg.options)
    return TrackingData(
        zones=zones,
        levels=levels,
        level_ids=level_ids,
        level_names=level_names,
        parent_of=parent_of,
        population=population,
        indicators=data,
        reports=reports,
        parent_zones=parent_zones,
    )
