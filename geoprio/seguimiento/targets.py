"""The targets file of ``geoprio indicators``: a plan's indicators, targets and data.

A targets file is TOML. Its ``[zones]`` and ``[sources.*]`` tables are exactly those of the
index configuration (:class:`geoprio.index.config.ZonesConfig`, :class:`geoprio.index.config.SourceConfig`),
so the same incident data, with the same validation, feed the index and the tracking. On
top of them it declares:

* ``[[population]]`` (or ``[population]``): residents per zone **and year**, from a table with
  a zone id column, a year column and a value column (e.g. the DANE/SDP projections per
  localidad); the zone level of its ids is named or detected;
* ``[objectives.<name>]``: the plan's objectives (label, weight);
* ``[[indicators]]``: what each indicator counts (a source, with ``categories``, ``hours``,
  ``weekdays`` as in the index, or for a per-zone table one column per year), its unit
  (``count``, ``rate`` per 100,000, ``share`` in per cent), direction, trend type (``suma``,
  ``creciente``, ``decreciente``, ``constante``), baseline and baseline year, targets per year
  (absolute, relative to the baseline, or per zone), weight inside its objective and the zone
  level at which it is tracked (``city``, the parent level, the base level);
* ``program = "metas.csv"``: optionally the indicators as a flat CSV, one row per indicator and
  year (see :func:`read_program_csv`);
* ``[options]`` and ``[output]``.

This module holds the models and readers, and the data step: :func:`load_tracking_data`
loads zones and sources through :mod:`geoprio.index.run` and returns, per indicator, the
numerators (and denominators for shares) per base zone and period, the months each year
covers, and the population per zone and year. The arithmetic lives in :mod:`geoprio.seguimiento.progress`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from geoprio.errors import ColumnError, ConfigError, InputError
from geoprio.index.config import SourceConfig, ZonesConfig, check_hours, check_weekdays
from geoprio.index.config import _format_validation as format_validation
from geoprio.io import files as io
from geoprio.records.load import Records, ZoneTable, parse_numbers, where_mask
from geoprio.records.report import ValidationReport
from geoprio.records.text import fold
from geoprio.settings import DEFAULT_LANG, RATE_PER
from geoprio.zones.layers import Zones

__all__ = [
    "CITY",
    "UNPLACED",
    "Direction",
    "IndicatorData",
    "LevelInfo",
    "ObjectiveConfig",
    "PopulationByYear",
    "PopulationTable",
    "TargetsConfig",
    "TrackedIndicator",
    "TrackingData",
    "TrackingOptions",
    "Trend",
    "Unit",
    "load_targets",
    "load_tracking_data",
    "parse_targets",
    "read_program_csv",
]

#: Level name and unit id of the whole city.
CITY = "city"
#: Row id of what is in the city total but in no zone of a level (table ids that are not
#: zones, keyed records whose place matches no zone, zones without a parent).
UNPLACED = "_unplaced"

Trend = Literal["suma", "creciente", "decreciente", "constante"]
Unit = Literal["count", "rate", "share"]
Direction = Literal["lower_is_better", "higher_is_better"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PopulationByYear(_Model):
    """Residents per zone and year: one row per zone and year (e.g. DANE/SDP projections)."""

    path: Path
    id: str
    year: str = "anio"
    column: str = "total"
    level: str | None = None
    where: dict[str, Any] | None = None
    duplicates: Literal["error", "sum", "first"] = "error"
    sep: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    sheet: str | int | None = None


class ObjectiveConfig(_Model):
    """One objective of the plan: its label and weight among objectives."""

    label: str | None = None
    weight: float = Field(default=1.0, ge=0)


class TrackedIndicator(_Model):
    """One plan indicator: what it counts, how it is measured and its programmed targets."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    label: str | None = None
    objective: str
    weight: float = Field(default=1.0, ge=0)
    source: str
    # what to count: records ...
    categories: list[str] | None = None
    hours: tuple[int, int] | None = None
    weekdays: list[int] | None = None
    # ... or a per-zone table, one column per year
    columns: dict[int, str] | None = None
    total_columns: dict[int, str] | None = None
    # how it is measured
    unit: Unit = "count"
    per: float = Field(default=RATE_PER, gt=0)
    direction: Direction | None = None
    trend: Trend
    level: str = CITY
    breakdown: str | None = None
    # the program
    baseline: float | None = Field(default=None, ge=0)
    baseline_year: int | None = None
    targets: dict[int, float] = {}
    relative_targets: dict[int, float] = {}
    zone_targets: dict[str, dict[int, float]] | None = None
    zone_baselines: dict[str, float] | None = None

    _hours = field_validator("hours")(classmethod(lambda cls, v: check_hours(v)))
    _weekdays = field_validator("weekdays")(classmethod(lambda cls, v: check_weekdays(v)))

    @field_validator("targets", "zone_baselines")
    @classmethod
    def _non_negative(cls, v: dict[Any, float] | None) -> dict[Any, float] | None:
        bad = {k: x for k, x in (v or {}).items() if x < 0 or x != x}
        if bad:
            raise ValueError(f"targets and baselines are counts, rates or shares and cannot be negative or NaN; got {bad}")
        return v

    @field_validator("relative_targets")
    @classmethod
    def _relative(cls, v: dict[int, float]) -> dict[int, float]:
        bad = {k: x for k, x in v.items() if x < -1 or x != x}
        if bad:
            raise ValueError(f"relative_targets are changes from the baseline as fractions (-0.1 = 10 % lower), at least -1; got {bad}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> TrackedIndicator:
        if self.targets and self.relative_targets:
            raise ValueError("give either targets (absolute) or relative_targets (fractions of the baseline), not both")
        if not (self.targets or self.relative_targets or self.zone_targets):
            raise ValueError("no target: give targets = {2024 = ...}, relative_targets or zone_targets")
        if self.zone_targets is not None and self.level == CITY:
            raise ValueError("zone_targets need a zone level (level = 'localidad', 'upz', ...), not 'city'")
        if self.zone_baselines is not None and self.level == CITY:
            raise ValueError("zone_baselines need a zone level, not 'city'")
        if self.baseline is not None and self.level != CITY:
            raise ValueError(
                "baseline (one value) is for city indicators; at a zone level give zone_baselines = {'<zone>' = ...} "
                "or let the data compute each zone's baseline"
            )
        bad = [z for z, t in (self.zone_targets or {}).items() if any(x < 0 or x != x for x in t.values())]
        if bad:
            raise ValueError(f"zone_targets cannot be negative or NaN (zones {bad})")
        implied = {"decreciente": "lower_is_better", "creciente": "higher_is_better"}.get(self.trend)
        if implied and self.direction and self.direction != implied:
            raise ValueError(f"trend {self.trend!r} means {implied}; direction {self.direction!r} contradicts it")
        if self.unit != "rate" and self.per != RATE_PER:
            raise ValueError("per applies to unit = 'rate' only")
        years = self.program_years
        if self.baseline_year is not None and years and self.baseline_year >= min(years):
            raise ValueError(f"baseline_year {self.baseline_year} must come before the first programmed year {min(years)}")
        if self.total_columns is not None and self.columns is None:
            raise ValueError("total_columns (the denominator of a share) go with columns (a per-zone table)")
        return self

    @property
    def display(self) -> str:
        return self.label or self.id

    @property
    def resolved_direction(self) -> Direction:
        """``direction`` as given, else ``higher_is_better`` for creciente and ``lower_is_better`` otherwise."""
        if self.direction is not None:
            return self.direction
        return "higher_is_better" if self.trend == "creciente" else "lower_is_better"

    @property
    def program_years(self) -> list[int]:
        years = set(self.targets) | set(self.relative_targets)
        for t in (self.zone_targets or {}).values():
            years |= set(t)
        return sorted(years)

    @property
    def resolved_baseline_year(self) -> int | None:
        """``baseline_year`` as given, else the year before the first programmed year."""
        if self.baseline_year is not None:
            return self.baseline_year
        years = self.program_years
        return min(years) - 1 if years else None


class TrackingOptions(_Model):
    """Run-wide options (``[options]``)."""

    lang: Literal["es", "en"] = DEFAULT_LANG  # type: ignore[assignment]
    as_of: dt.date | None = None
    periods: dict[str, tuple[dt.date, dt.date]] | None = None
    unplaced: Literal["include", "exclude"] = "include"
    parent_level: str | None = None
    year: int | None = None

    @field_validator("periods")
    @classmethod
    def _periods(cls, v: dict[str, tuple[dt.date, dt.date]] | None) -> dict[str, tuple[dt.date, dt.date]] | None:
        for name, (a, b) in (v or {}).items():
            if a > b:
                raise ValueError(f"periods.{name}: {a} is after {b}")
        return v


class TrackingOutput(_Model):
    """Where outputs go (``[output]``)."""

    dir: Path = Path("output")


class TargetsConfig(_Model):
    """A complete targets file."""

    title: str | None = None
    zones: ZonesConfig
    sources: dict[str, SourceConfig]
    population: list[PopulationByYear] = []
    objectives: dict[str, ObjectiveConfig] = {}
    indicators: list[TrackedIndicator] = []
    program: list[Path] = []
    options: TrackingOptions = TrackingOptions()
    output: TrackingOutput = TrackingOutput()

    @field_validator("population", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @field_validator("program", mode="before")
    @classmethod
    def _paths(cls, v: Any) -> Any:
        return [v] if isinstance(v, (str, os.PathLike)) else v

    @property
    def levels(self) -> LevelInfo:
        z = self.zones
        parent = None
        if z.parent is not None:
            parent = z.parent.level
        elif z.parent_column is not None:
            parent = self.options.parent_level or "localidad"
        return LevelInfo(base=z.level, parent=parent)

    @model_validator(mode="after")
    def _references(self) -> TargetsConfig:
        if not self.indicators and not self.program:
            raise ValueError("no indicator: give [[indicators]] or program = 'file.csv'")
        self.check_indicators(self.indicators)
        for p in self.population:
            if p.level is not None and p.level not in self.levels.zone_levels:
                raise ValueError(f"population level {p.level!r} is not a zone level; levels: {self.levels.zone_levels}")
        for name in self.options.periods or {}:
            if name not in self.sources:
                raise ValueError(f"options.periods: unknown source {name!r}; sources: {sorted(self.sources)}")
        return self

    def check_indicators(self, indicators: list[TrackedIndicator]) -> None:
        """Check references between indicators, sources, objectives, levels and population."""
        ids = [i.id for i in indicators]
        dup = sorted({n for n in ids if ids.count(n) > 1})
        if dup:
            raise ValueError(f"indicator ids must be unique; repeated: {dup}")
        levels = self.levels
        for ind in indicators:
            where = f"indicator {ind.id!r}"
            if ind.source not in self.sources:
                raise ValueError(f"{where}: unknown source {ind.source!r}; sources: {sorted(self.sources)}")
            if self.objectives and ind.objective not in self.objectives:
                raise ValueError(f"{where}: objective {ind.objective!r} is not in [objectives]; objectives: {sorted(self.objectives)}")
            if ind.level not in levels.all:
                raise ValueError(f"{where}: level {ind.level!r} is not one of {levels.all}")
            if ind.breakdown is not None and ind.breakdown not in (*levels.zone_levels, "none"):
                raise ValueError(f"{where}: breakdown {ind.breakdown!r} is not one of {[*levels.zone_levels, 'none']}")
            src = self.sources[ind.source]
            if src.layout == "table":
                if ind.columns is None:
                    raise ValueError(f"{where}: source {ind.source!r} is a per-zone table; give columns = {{2019 = '<column>', ...}}")
                if ind.categories or ind.hours or ind.weekdays:
                    raise ValueError(
                        f"{where}: filters (categories, hours, weekdays) need record-level data, but {ind.source!r} is a table"
                    )
                if ind.unit == "share" and ind.total_columns is None:
                    raise ValueError(f"{where}: a share of a per-zone table needs total_columns (the denominator per year)")
            elif ind.columns is not None:
                raise ValueError(f"{where}: columns are for per-zone tables, but source {ind.source!r} holds records")
            if ind.unit == "rate" and not self.population:
                raise ValueError(f"{where}: a rate needs population by zone and year ([population] with path, id, year, column)")


@dataclass(frozen=True)
class LevelInfo:
    """Zone levels of a targets file: the base zones, their parent level (if any), the city."""

    base: str
    parent: str | None = None

    @property
    def zone_levels(self) -> list[str]:
        return [self.base] + ([self.parent] if self.parent else [])

    @property
    def all(self) -> list[str]:
        return [CITY, *self.zone_levels]


# --------------------------------------------------------------------------- reading


def _format_validation(source: str, exc: ValidationError) -> str:
    return format_validation(source, exc, what="targets file")


def _fix(p: Path | None, base: Path) -> Path | None:
    return None if p is None else (p if p.is_absolute() else (base / p).resolve())


def _resolved(cfg: TargetsConfig, base: Path) -> TargetsConfig:
    z = cfg.zones
    zones = z.model_copy(
        update={
            "path": _fix(z.path, base),
            "population": z.population.model_copy(update={"path": _fix(z.population.path, base)}) if z.population else None,
            "parent": z.parent.model_copy(update={"path": _fix(z.parent.path, base)}) if z.parent else None,
        }
    )
    return cfg.model_copy(
        update={
            "zones": zones,
            "sources": {k: s.model_copy(update={"path": _fix(s.path, base)}) for k, s in cfg.sources.items()},
            "population": [p.model_copy(update={"path": _fix(p.path, base)}) for p in cfg.population],
            "program": [_fix(p, base) for p in cfg.program],
            "output": cfg.output.model_copy(update={"dir": _fix(cfg.output.dir, base)}),
        }
    )


def parse_targets(doc: dict[str, Any], *, source: str = "<targets>", base: Path | None = None) -> TargetsConfig:
    """Build a :class:`TargetsConfig` from a plain dict (as read from TOML or a manifest).

    Relative paths are resolved against ``base``; indicators of the CSV files named in
    ``program`` are read and appended to ``indicators``.
    """
    try:
        cfg = TargetsConfig.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(_format_validation(source, exc)) from None
    if base is not None:
        cfg = _resolved(cfg, base)
    if cfg.program:
        extra: list[TrackedIndicator] = []
        for path in cfg.program:
            extra += read_program_csv(path)
        given = {i.id for i in cfg.indicators}
        twice = sorted(i.id for i in extra if i.id in given)
        if twice:
            raise ConfigError(f"{source}: indicators {twice} are defined both in [[indicators]] and in the program CSV")
        indicators = [*cfg.indicators, *extra]
        try:
            cfg.check_indicators(indicators)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        cfg = cfg.model_copy(update={"indicators": indicators, "program": cfg.program})
    if not cfg.objectives:  # objectives not declared: one per name, equal weights
        names = list(dict.fromkeys(i.objective for i in cfg.indicators))
        cfg = cfg.model_copy(update={"objectives": {n: ObjectiveConfig() for n in names}})
    return cfg


def load_targets(path: str | os.PathLike[str]) -> TargetsConfig:
    """Read a TOML targets file; relative paths are resolved against its folder."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: targets file not found")
    if p.suffix.lower() == ".csv":
        raise ConfigError(
            f"{p}: a program CSV holds indicators and targets but not zones, sources or population; "
            f"name it in a TOML targets file with program = {p.name!r}"
        )
    return parse_targets(io.read_toml(p, what="targets file"), source=p.name, base=p.resolve().parent)


#: CSV column → accepted names (compared after :func:`geoprio.records.text.fold`).
PROGRAM_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "indicator", "indicador", "codigo"),
    "year": ("year", "anio", "ano", "vigencia"),
    "target": ("target", "meta"),
    "relative_target": ("relative target", "meta relativa"),
    "zone": ("zone", "zona", "zone id"),
    "label": ("label", "nombre", "etiqueta"),
    "objective": ("objective", "objetivo"),
    "weight": ("weight", "peso"),
    "source": ("source", "fuente"),
    "categories": ("categories", "categorias"),
    "hours": ("hours", "horas"),
    "weekdays": ("weekdays", "dias"),
    "column": ("column", "columna"),
    "total_column": ("total column", "columna total"),
    "unit": ("unit", "unidad"),
    "per": ("per", "por"),
    "direction": ("direction", "sentido"),
    "trend": ("trend", "tendencia", "tipo de anualizacion", "anualizacion"),
    "baseline": ("baseline", "linea base"),
    "baseline_year": ("baseline year", "anio linea base", "ano linea base"),
    "level": ("level", "nivel"),
    "breakdown": ("breakdown", "desagregacion"),
}
_WORDS: dict[str, dict[str, str]] = {
    "unit": {"count": "count", "conteo": "count", "casos": "count", "rate": "rate", "tasa": "rate", "share": "share"}
    | {"porcentaje": "share", "proporcion": "share"},
    "direction": {"lower is better": "lower_is_better", "menor es mejor": "lower_is_better"}
    | {"higher is better": "higher_is_better", "mayor es mejor": "higher_is_better"},
    "level": {"city": CITY, "ciudad": CITY},
}
_PER_INDICATOR = ("label", "objective", "weight", "source", "categories", "hours", "weekdays", "unit", "per", "direction", "trend")
_PER_INDICATOR += ("baseline", "baseline_year", "level", "breakdown")


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", "|").split("|") if p.strip()]


def read_program_csv(path: str | os.PathLike[str]) -> list[TrackedIndicator]:
    """Read indicators from a flat CSV: one row per indicator and year (and zone).

    Columns (Spanish names accepted, see :data:`PROGRAM_COLUMNS`): ``indicator``, ``year``,
    ``target`` or ``relative_target``, optionally ``zone`` (a target for one zone of the
    indicator's level), ``column`` (the per-zone table's column for that year) and
    ``total_column``, and the indicator's attributes (``label``, ``objective``, ``weight``,
    ``source``, ``categories`` separated by ``|``, ``hours`` as ``18-6``, ``weekdays`` as
    ``4|5``, ``unit``, ``per``, ``direction``, ``trend``, ``baseline``, ``baseline_year``,
    ``level``, ``breakdown``). An attribute may be written on one row of the indicator or
    repeated on all; two different values are an error naming both rows.
    """
    p = Path(path)
    df = io.read_table(p)
    src = p.name
    folded = {fold(c): c for c in df.columns}
    cols: dict[str, str] = {}
    for role, names in PROGRAM_COLUMNS.items():
        for n in names:
            if n in folded:
                cols[role] = folded[n]
                break
    for need in ("id", "year"):
        if need not in cols:
            raise ColumnError(
                f"{src}: no column for {need!r}; expected one of {list(PROGRAM_COLUMNS[need])}; columns found: {list(df.columns)}"
            )
    if "target" not in cols and "relative_target" not in cols:
        raise ColumnError(f"{src}: no column 'target' (meta) or 'relative_target' (meta relativa); columns found: {list(df.columns)}")
    rows = np.arange(len(df)) + 2
    decimal = str(df.attrs.get("geoprio_read", {}).get("decimal", "."))

    def cell(i: int, role: str) -> str | None:
        if role not in cols:
            return None
        v = df[cols[role]].iloc[i]
        if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v):
            return None
        s = str(v).strip()
        return s or None

    def number(i: int, role: str) -> float | None:
        s = cell(i, role)
        if s is None:
            return None
        values, _m, bad = parse_numbers(pd.Series([s]), decimal)
        if bad.any():
            raise InputError(f"{src}: row {rows[i]}, column {cols[role]!r}: {s!r} is not a number")
        return float(values[0])

    def year(i: int, role: str) -> int | None:
        v = number(i, role)
        if v is None:
            return None
        if v != int(v):
            raise InputError(f"{src}: row {rows[i]}, column {cols[role]!r}: {cell(i, role)!r} is not a year")
        return int(v)

    order: list[str] = []
    attrs: dict[str, dict[str, tuple[Any, int]]] = {}
    targets: dict[str, dict[str, dict[int, float]]] = {}
    columns: dict[str, dict[str, dict[int, str]]] = {}
    for i in range(len(df)):
        ident = cell(i, "id")
        if ident is None:
            raise InputError(f"{src}: row {rows[i]}, column {cols['id']!r}: empty indicator id")
        if ident not in attrs:
            order.append(ident)
            attrs[ident] = {}
            targets[ident] = {"targets": {}, "relative_targets": {}}
            columns[ident] = {"columns": {}, "total_columns": {}}
        y = year(i, "year")
        if y is None:
            raise InputError(f"{src}: row {rows[i]}, column {cols['year']!r}: empty year")
        for role in _PER_INDICATOR:
            raw = cell(i, role)
            if raw is None:
                continue
            value: Any = raw
            if role in ("weight", "per", "baseline"):
                value = number(i, role)
            elif role == "baseline_year":
                value = year(i, role)
            elif role == "categories":
                value = _split(raw)
            elif role == "weekdays":
                value = [int(x) for x in _split(raw)]
            elif role == "hours":
                parts = raw.replace("|", "-").split("-")
                if len(parts) != 2:
                    raise InputError(f"{src}: row {rows[i]}, column {cols[role]!r}: {raw!r}; expected hours as 'start-end', e.g. '18-6'")
                value = (int(parts[0]), int(parts[1]))
            elif role in _WORDS:
                value = _WORDS[role].get(fold(raw), raw)
            elif role == "trend":
                value = fold(raw)
            if role in attrs[ident] and attrs[ident][role][0] != value:
                first_value, first_row = attrs[ident][role]
                raise InputError(
                    f"{src}: indicator {ident!r} has {role} {first_value!r} in row {first_row} and {value!r} in row {rows[i]}; "
                    "an indicator's attributes must agree across its rows"
                )
            attrs[ident][role] = (value, int(rows[i]))
        zone = cell(i, "zone")
        for role in ("target", "relative_target"):
            v = number(i, role)
            if v is None:
                continue
            if zone is not None:
                if role == "relative_target":
                    raise InputError(f"{src}: row {rows[i]}: a relative target applies to every zone; leave 'zone' empty")
                bucket = targets[ident].setdefault(f"zone:{zone}", {})
            else:
                bucket = targets[ident]["targets" if role == "target" else "relative_targets"]
            if y in bucket:
                raise InputError(
                    f"{src}: row {rows[i]}: indicator {ident!r} has two {role}s for {y}" + (f" in zone {zone!r}" if zone else "")
                )
            bucket[y] = v
        for role, key in (("column", "columns"), ("total_column", "total_columns")):
            c = cell(i, role)
            if c is not None:
                columns[ident][key][y] = c
    out = []
    for ident in order:
        doc: dict[str, Any] = {"id": ident, **{k: v for k, (v, _row) in attrs[ident].items()}}
        t = targets[ident]
        doc["targets"], doc["relative_targets"] = t.pop("targets"), t.pop("relative_targets")
        if t:
            doc["zone_targets"] = {k.removeprefix("zone:"): v for k, v in t.items()}
        for key, val in columns[ident].items():
            if val:
                doc[key] = val
        try:
            out.append(TrackedIndicator.model_validate(doc))
        except ValidationError as exc:
            raise ConfigError(_format_validation(f"{src} (indicator {ident!r})", exc)) from None
    if not out:
        raise InputError(f"{src}: no indicator rows")
    return out


# --------------------------------------------------------------------------- data


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
    from geoprio.index.measures import filter_records

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
    from geoprio.index.run import build_zones, load_source, tie_source
    from geoprio.zones.assign import PointLocator
    from geoprio.zones.layers import load_zones

    zones = build_zones(cfg)  # type: ignore[arg-type]  # build_zones reads cfg.zones only
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
