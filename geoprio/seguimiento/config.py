"""The targets file of ``geoprio indicators``: the options of a tracking run.

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

This module holds the models (:class:`TargetsConfig` is the one frozen options object of a
tracking run: :func:`geoprio.seguimiento.tracking.track` takes it, and the run manifest stores
it whole so that the run can be replayed) and their readers (:func:`load_targets`,
:func:`parse_targets`, :func:`read_program_csv`). Loading the data a config names is
:mod:`geoprio.seguimiento.data`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from geoprio.errors import ColumnError, ConfigError, InputError
from geoprio.index.config import SourceConfig, ZonesConfig, check_hours, check_weekdays
from geoprio.io import files as io
from geoprio.labels import check_lang
from geoprio.options import Options, validated
from geoprio.records.load import parse_numbers
from geoprio.records.text import fold
from geoprio.seguimiento.arithmetic import Direction, Trend
from geoprio.settings import DEFAULT_LANG, RATE_PER, Lang

__all__ = [
    "CITY",
    "PROGRAM_COLUMNS",
    "UNPLACED",
    "LevelInfo",
    "ObjectiveConfig",
    "PopulationByYear",
    "TargetsConfig",
    "TrackedIndicator",
    "TrackingOptions",
    "TrackingOutput",
    "Unit",
    "load_targets",
    "parse_targets",
    "read_program_csv",
]

#: Level name and unit id of the whole city.
CITY = "city"
#: Row id of what is in the city total but in no zone of a level (table ids that are not
#: zones, keyed records whose place matches no zone, zones without a parent).
UNPLACED = "_unplaced"

#: How an indicator is measured: a count, a rate per ``per`` residents, a share in per cent.
Unit = Literal["count", "rate", "share"]

#: What validation errors call a targets file.
WHAT = "targets file"


class PopulationByYear(Options):
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


class ObjectiveConfig(Options):
    """One objective of the plan: its label and weight among objectives."""

    label: str | None = None
    weight: float = Field(default=1.0, ge=0)


class TrackedIndicator(Options):
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

    @field_validator("per")
    @classmethod
    def _whole_per(cls, v: float) -> float:
        # 100000 stays 100000 whether given or defaulted, so a replayed run writes the same JSON
        return int(v) if float(v).is_integer() else v

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


class TrackingOptions(Options):
    """Run-wide options (``[options]``)."""

    lang: Lang = DEFAULT_LANG
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


class TrackingOutput(Options):
    """Where outputs go (``[output]``)."""

    dir: Path = Path("output")


class TargetsConfig(Options):
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

    def resolved(self, base: Path) -> TargetsConfig:
        """A copy with every relative path (zones, sources, population, program, output) made absolute against ``base``."""

        def fix(p: Path | None) -> Path | None:
            return None if p is None else (p if p.is_absolute() else (base / p).resolve())

        z = self.zones
        zones = z.model_copy(
            update={
                "path": fix(z.path),
                "population": z.population.model_copy(update={"path": fix(z.population.path)}) if z.population else None,
                "parent": z.parent.model_copy(update={"path": fix(z.parent.path)}) if z.parent else None,
            }
        )
        return self.model_copy(
            update={
                "zones": zones,
                "sources": {k: s.resolved(base) for k, s in self.sources.items()},
                "population": [p.model_copy(update={"path": fix(p.path)}) for p in self.population],
                "program": [fix(p) for p in self.program],
                "output": self.output.model_copy(update={"dir": fix(self.output.dir)}),
            }
        )

    def input_paths(self) -> list[Path]:
        """The files a run reads: zones (and their population and parent layers), the sources its
        indicators use, the population tables and the program CSVs, each once.
        """
        z = self.zones
        paths = [z.path]
        if z.population:
            paths.append(z.population.path)
        if z.parent:
            paths.append(z.parent.path)
        used = {i.source for i in self.indicators}
        paths += [p for n, s in self.sources.items() if n in used for p in s.input_paths()]
        paths += [p.path for p in self.population]
        paths += list(self.program)
        return list(dict.fromkeys(paths))

    def with_run(self, *, year: int | None = None, lang: str | None = None) -> TargetsConfig:
        """A copy whose ``[options]`` report ``year`` and speak ``lang`` (each when given)."""
        update: dict[str, Any] = {}
        if year is not None:
            update["year"] = year
        if lang is not None:
            update["lang"] = check_lang(lang)
        return self.model_copy(update={"options": self.options.model_copy(update=update)}) if update else self


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


def parse_targets(doc: dict[str, Any], *, source: str = "<targets>", base: Path | None = None) -> TargetsConfig:
    """Build a :class:`TargetsConfig` from a plain dict (as read from TOML).

    Relative paths are resolved against ``base``; indicators of the CSV files named in
    ``program`` are read and appended to ``indicators``; without ``[objectives]`` each
    indicator's objective is one, with weight 1. (A manifest's ``options`` are already all
    that: :func:`geoprio.options.validated` rebuilds them.)
    """
    cfg = validated(TargetsConfig, doc, source=source, base=base, what=WHAT)
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
_PER_INDICATOR: tuple[str, ...] = ("label", "objective", "weight", "source", "categories", "hours", "weekdays", "unit", "per")
_PER_INDICATOR += ("direction", "trend", "baseline", "baseline_year", "level", "breakdown")


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", "|").split("|") if p.strip()]


class _ProgramTable:
    """A program CSV's cells by row and role, read as text, numbers, years or attributes."""

    def __init__(self, df: pd.DataFrame, src: str) -> None:
        self.df, self.src = df, src
        folded = {fold(c): c for c in df.columns}
        self.cols: dict[str, str] = {}
        for role, names in PROGRAM_COLUMNS.items():
            for n in names:
                if n in folded:
                    self.cols[role] = folded[n]
                    break
        for need in ("id", "year"):
            if need not in self.cols:
                raise ColumnError(
                    f"{src}: no column for {need!r}; expected one of {list(PROGRAM_COLUMNS[need])}; columns found: {list(df.columns)}"
                )
        if "target" not in self.cols and "relative_target" not in self.cols:
            raise ColumnError(f"{src}: no column 'target' (meta) or 'relative_target' (meta relativa); columns found: {list(df.columns)}")
        self.rows = np.arange(len(df)) + 2
        self.decimal = str(df.attrs.get("geoprio_read", {}).get("decimal", "."))

    def where(self, i: int, role: str | None = None) -> str:
        """``<file>: row <n>`` (and ``, column '<name>'``) for messages."""
        return f"{self.src}: row {self.rows[i]}" + (f", column {self.cols[role]!r}" if role is not None else "")

    def cell(self, i: int, role: str) -> str | None:
        if role not in self.cols:
            return None
        v = self.df[self.cols[role]].iloc[i]
        if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v):
            return None
        s = str(v).strip()
        return s or None

    def number(self, i: int, role: str) -> float | None:
        s = self.cell(i, role)
        if s is None:
            return None
        values, _m, bad = parse_numbers(pd.Series([s]), self.decimal)
        if bad.any():
            raise InputError(f"{self.where(i, role)}: {s!r} is not a number")
        return float(values[0])

    def year(self, i: int, role: str) -> int | None:
        v = self.number(i, role)
        if v is None:
            return None
        if v != int(v):
            raise InputError(f"{self.where(i, role)}: {self.cell(i, role)!r} is not a year")
        return int(v)

    def attribute(self, i: int, role: str, raw: str) -> Any:
        """An indicator attribute in the type its model field takes (words mapped to codes)."""
        if role in ("weight", "per", "baseline"):
            return self.number(i, role)
        if role == "baseline_year":
            return self.year(i, role)
        if role == "categories":
            return _split(raw)
        if role == "weekdays":
            return [int(x) for x in _split(raw)]
        if role == "hours":
            parts = raw.replace("|", "-").split("-")
            if len(parts) != 2:
                raise InputError(f"{self.where(i, role)}: {raw!r}; expected hours as 'start-end', e.g. '18-6'")
            return (int(parts[0]), int(parts[1]))
        if role in _WORDS:
            return _WORDS[role].get(fold(raw), raw)
        if role == "trend":
            return fold(raw)
        return raw


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
    table = _ProgramTable(io.read_table(p), p.name)
    src, rows = p.name, table.rows
    order: list[str] = []
    attrs: dict[str, dict[str, tuple[Any, int]]] = {}
    targets: dict[str, dict[str, dict[int, float]]] = {}
    columns: dict[str, dict[str, dict[int, str]]] = {}
    for i in range(len(table.df)):
        ident = table.cell(i, "id")
        if ident is None:
            raise InputError(f"{table.where(i, 'id')}: empty indicator id")
        if ident not in attrs:
            order.append(ident)
            attrs[ident] = {}
            targets[ident] = {"targets": {}, "relative_targets": {}}
            columns[ident] = {"columns": {}, "total_columns": {}}
        y = table.year(i, "year")
        if y is None:
            raise InputError(f"{table.where(i, 'year')}: empty year")
        for role in _PER_INDICATOR:
            raw = table.cell(i, role)
            if raw is None:
                continue
            value = table.attribute(i, role, raw)
            if role in attrs[ident] and attrs[ident][role][0] != value:
                first_value, first_row = attrs[ident][role]
                raise InputError(
                    f"{src}: indicator {ident!r} has {role} {first_value!r} in row {first_row} and {value!r} in row {rows[i]}; "
                    "an indicator's attributes must agree across its rows"
                )
            attrs[ident][role] = (value, int(rows[i]))
        zone = table.cell(i, "zone")
        for role in ("target", "relative_target"):
            v = table.number(i, role)
            if v is None:
                continue
            if zone is not None:
                if role == "relative_target":
                    raise InputError(f"{table.where(i)}: a relative target applies to every zone; leave 'zone' empty")
                bucket = targets[ident].setdefault(f"zone:{zone}", {})
            else:
                bucket = targets[ident]["targets" if role == "target" else "relative_targets"]
            if y in bucket:
                raise InputError(f"{table.where(i)}: indicator {ident!r} has two {role}s for {y}" + (f" in zone {zone!r}" if zone else ""))
            bucket[y] = v
        for role, key in (("column", "columns"), ("total_column", "total_columns")):
            c = table.cell(i, role)
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
        out.append(validated(TrackedIndicator, doc, source=f"{src} (indicator {ident!r})", what=WHAT))
    if not out:
        raise InputError(f"{src}: no indicator rows")
    return out
