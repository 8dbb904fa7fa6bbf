"""Seguimiento: progress of plan indicators against their programmed targets.

The numeric core (pure arithmetic, no files, no geometry) follows Bogotá's SEGPLAN
conventions for the four trend types (*tipos de anualización*). With ``A_t`` the value
observed in year ``t``, ``T_t`` the target programmed for ``t`` and ``B`` the baseline:

* **suma** (cumulative): yearly amounts add up to the plan's total.
  ``progress_t = Σ_{y≤t} A_y / Σ_{y≤t} T_y`` over the years from the first programmed year to
  ``t`` (``Σ T / Σ A`` when lower is better); ``progress_plan_total = Σ_{y≤t} A_y / Σ_all T``
  (higher is better only). A year inside that span without a target adds its actual but no
  target; a year without data leaves the cumulative progress undefined.
* **creciente**: ``(A_t − B) / (T_t − B)``.
* **decreciente**: ``(B − A_t) / (B − T_t)``.
* **constante**: attainment, ``A_t / T_t`` (higher is better) or ``T_t / A_t`` (lower is better).

Edge cases: a target equal to the baseline (the level formulas divide by zero) or on the
wrong side of it (a *decreciente* target above the baseline) falls back to attainment, with
a note; a year without data or without a target has no progress, with a note; an actual
of 0 when lower is better is the best possible level: capped progress 1, uncapped
undefined (``T/0``). **Capped** progress is clipped to [0, 1]; **uncapped** is the raw value.
A partial year (year to date) is compared with its target prorated by the months observed,
``T_t · m/12``, which is the same as comparing the annualized actual ``A_t · 12/m`` with
``T_t`` (for counts and rates; a share is compared as it is).

Weighted progress of an objective is ``Σ w_i p_i / Σ w_i`` over its indicators with a
defined (capped) progress; the plan's is the same over objectives.

:func:`decompose_change` splits a city value's change into zone parts so analysts see where
a city target is won or lost. :func:`track` is the adapter: it loads the data of a targets
file (:mod:`geoprio.seguimiento.targets`) and applies the core; :func:`write_tracking` writes the
outputs and a manifest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from geoprio.errors import ConfigError, InputError
from geoprio.seguimiento.targets import CITY, UNPLACED, TargetsConfig, TrackedIndicator, TrackingData, load_tracking_data

__all__ = [
    "Note",
    "TrackingResult",
    "YearProgress",
    "attainment",
    "capped",
    "decompose_change",
    "level_progress",
    "progress_series",
    "track",
    "weighted_progress",
    "write_tracking",
]

Trend = Literal["suma", "creciente", "decreciente", "constante"]
Direction = Literal["lower_is_better", "higher_is_better"]

# --------------------------------------------------------------------------- notes

NOTE_TEXT: dict[str, dict[str, str]] = {
    "no_data": {"es": "{year}: sin datos", "en": "{year}: no data"},
    "no_target": {"es": "{year}: sin meta programada; avance no definido", "en": "{year}: no programmed target; progress undefined"},
    "suma_without_target": {
        "es": "{year}: sin meta programada; avance no definido; en la serie Suma su valor observado se acumula sin meta",
        "en": "{year}: no programmed target; progress undefined; in the Suma series its actual is accumulated without a target",
    },
    "suma_missing_actual": {
        "es": "{year}: avance acumulado no definido: faltan datos de {years}",
        "en": "{year}: cumulative progress undefined: no data for {years}",
    },
    "no_baseline": {
        "es": "{year}: sin línea base; el avance de una serie {trend} no está definido",
        "en": "{year}: no baseline; progress of a {trend} series is undefined",
    },
    "target_equals_baseline": {
        "es": "{year}: la meta ({target}) es igual a la línea base; se usa el cumplimiento ({formula})",
        "en": "{year}: the target ({target}) equals the baseline; attainment ({formula}) is used",
    },
    "target_wrong_side": {
        "es": "{year}: la meta ({target}) no está {side} de la línea base ({baseline}); se usa el cumplimiento ({formula})",
        "en": "{year}: the target ({target}) is not {side} the baseline ({baseline}); attainment ({formula}) is used",
    },
    "zero_actual": {
        "es": "{year}: valor observado 0 (menor es mejor): meta cumplida; el avance sin tope (T/0) no está definido",
        "en": "{year}: actual 0 (lower is better): target met; uncapped progress (T/0) undefined",
    },
    "zero_target": {
        "es": "{year}: meta 0 (mayor es mejor): cumplida; el avance sin tope (A/0) no está definido",
        "en": "{year}: target 0 (higher is better): met; uncapped progress (A/0) undefined",
    },
    "partial_year": {
        "es": "{year}: datos de {months} meses (hasta {until}); el acumulado del año se compara con la meta prorrateada ({months}/12)",
        "en": "{year}: {months} months of data (to {until}); the year to date is compared with the target prorated ({months}/12)",
    },
    "baseline_partial": {
        "es": "línea base {year} con datos de {months} meses: anualizada (×12/{months})",
        "en": "baseline {year} from {months} months of data: annualized (×12/{months})",
    },
    "baseline_differs": {
        "es": "la línea base dada ({given}) difiere de la calculada con los datos ({computed})",
        "en": "the given baseline ({given}) differs from the one computed from the data ({computed})",
    },
    "zero_population": {
        "es": "{year}: población 0 en {zone}; tasa no definida",
        "en": "{year}: population 0 in {zone}; rate undefined",
    },
    "unplaced": {
        "es": "{year}: {count} casos sin zona ({what}) se cuentan en el total de la ciudad y en ninguna zona",
        "en": "{year}: {count} cases without a zone ({what}) count in the city total and in no zone",
    },
    "unplaced_excluded": {
        "es": "{count} casos sin zona ({what}) no se cuentan (unplaced = 'exclude')",
        "en": "{count} cases without a zone ({what}) are not counted (unplaced = 'exclude')",
    },
    "zones_not_in_table": {
        "es": "zonas sin fila en la tabla (cuentan 0 en el total de la ciudad): {zones}",
        "en": "zones without a row in the table (count 0 in the city total): {zones}",
    },
    "period_inferred": {
        "es": "periodo de datos de '{source}' inferido: {start} a {end} (use options.as_of u options.periods si no es así)",
        "en": "data period of '{source}' inferred: {start} to {end} (set options.as_of or options.periods otherwise)",
    },
    "no_zone_target": {
        "es": "sin meta para esta zona: su avance no está definido",
        "en": "no target for this zone: its progress is undefined",
    },
    "breakdown_no_population": {
        "es": "desagregación por {level}: la población no está por {level}; se muestran contribuciones, no tasas por zona",
        "en": "breakdown by {level}: population is not given per {level}; contributions are shown, not zone rates",
    },
    "relative_without_baseline": {
        "es": "meta relativa sin línea base: meta no definida",
        "en": "relative target without a baseline: target undefined",
    },
}


_SIDE_ES = {"above": "por encima", "below": "por debajo"}


def _num(v: float | None, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:,.0f}"


@dataclass(frozen=True)
class Note:
    """Something a reader must know about a value: a code, the year and parameters."""

    code: str
    year: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    zone_id: str | None = None

    def text(self, lang: str = "es") -> str:
        """The note in Spanish (default) or English."""
        template = NOTE_TEXT[self.code]["es" if lang == "es" else "en"]
        params = {k: (_num(v) if isinstance(v, float) else v) for k, v in self.params.items()}
        if lang == "es" and "side" in params:
            params["side"] = _SIDE_ES.get(params["side"], params["side"])
        return template.format(year=self.year if self.year is not None else "", **params).removeprefix(": ")

    def to_dict(self, lang: str = "es") -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "year": self.year, "text": self.text(lang)}
        if self.zone_id is not None:
            d["zone_id"] = self.zone_id
        return d


# --------------------------------------------------------------------------- core arithmetic


def capped(value: float | None) -> float | None:
    """``value`` clipped to [0, 1] (None stays None)."""
    if value is None or math.isnan(value):
        return None
    return min(max(value, 0.0), 1.0)


def attainment(
    actual: float, target: float, *, direction: Direction, year: int | None = None
) -> tuple[float | None, float | None, list[Note]]:
    """Attainment ``A/T`` (higher is better) or ``T/A`` (lower is better).

    Returns ``(uncapped, capped, notes)``. When the ratio divides by zero with the target
    met (``A = 0`` lower is better, ``T = 0`` higher is better) the capped progress is 1 and
    the uncapped one undefined; ``A = T = 0`` is exactly 1.
    """
    if actual < 0 or target < 0:
        raise ValueError(f"attainment needs non-negative values; got actual {actual}, target {target}")
    if direction == "lower_is_better":
        if actual > 0:
            p = target / actual
            return p, capped(p), []
        return (1.0, 1.0, []) if target == 0 else (None, 1.0, [Note("zero_actual", year)])
    if target > 0:
        p = actual / target
        return p, capped(p), []
    return (1.0, 1.0, []) if actual == 0 else (None, 1.0, [Note("zero_target", year)])


def level_progress(
    actual: float | None,
    target: float | None,
    baseline: float | None,
    *,
    trend: Literal["creciente", "decreciente", "constante"],
    direction: Direction,
    year: int | None = None,
) -> tuple[float | None, float | None, list[Note]]:
    """Progress of one year for a level trend; ``(uncapped, capped, notes)``.

    ``creciente``: ``(A − B)/(T − B)``; ``decreciente``: ``(B − A)/(B − T)``;
    ``constante``: :func:`attainment`. A target equal to the baseline or on the wrong side
    of it falls back to attainment with a note.
    """
    if actual is None or math.isnan(actual):
        return None, None, [Note("no_data", year)]
    if target is None or math.isnan(target):
        return None, None, [Note("no_target", year)]
    if trend == "constante":
        return attainment(actual, target, direction=direction, year=year)
    if baseline is None or math.isnan(baseline):
        return None, None, [Note("no_baseline", year, {"trend": trend})]
    up = trend == "creciente"
    gap = (target - baseline) if up else (baseline - target)
    formula = "T/A" if direction == "lower_is_better" else "A/T"
    if math.isclose(gap, 0.0, rel_tol=1e-12, abs_tol=1e-12):
        p, c, notes = attainment(actual, target, direction=direction, year=year)
        return p, c, [Note("target_equals_baseline", year, {"target": float(target), "formula": formula}), *notes]
    if gap < 0:
        p, c, notes = attainment(actual, target, direction=direction, year=year)
        side = "above" if up else "below"
        note = Note("target_wrong_side", year, {"target": float(target), "baseline": float(baseline), "formula": formula, "side": side})
        return p, c, [note, *notes]
    p = (actual - baseline) / gap if up else (baseline - actual) / gap
    return p, capped(p), []


@dataclass(frozen=True)
class YearProgress:
    """One year of an indicator's series.

    ``actual`` is the value observed (year to date when ``fraction < 1``);
    ``actual_annualized`` is ``actual / fraction``; ``target_to_date`` is ``target ·
    fraction``. The cumulative fields are filled for the *suma* trend only.
    """

    year: int
    actual: float | None
    target: float | None
    fraction: float = 1.0
    actual_annualized: float | None = None
    target_to_date: float | None = None
    progress: float | None = None
    progress_capped: float | None = None
    cumulative_actual: float | None = None
    cumulative_target: float | None = None
    plan_total_target: float | None = None
    progress_plan_total: float | None = None
    notes: tuple[Note, ...] = ()


def _clean(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def progress_series(
    actual: Mapping[int, float | None],
    targets: Mapping[int, float],
    *,
    trend: Trend,
    direction: Direction,
    baseline: float | None = None,
    fraction: Mapping[int, float] | None = None,
    years: Iterable[int] | None = None,
) -> list[YearProgress]:
    """Progress per year of one indicator in one place (the city or a zone).

    Parameters
    ----------
    actual
        Year → observed value (None or missing = no data). For a partial year, the year
        to date.
    targets
        Year → programmed target (the program; a year absent here has no target).
    trend, direction
        The trend type and whether lower or higher values are better.
    baseline
        Needed by *creciente* and *decreciente*.
    fraction
        Year → share of the year observed (``months / 12``) for years to date of additive
        units (counts, rates); 1 (the default) for complete years and for shares.
    years
        Years to report; default: every year in ``actual`` or ``targets``.
    """
    fraction = fraction or {}
    if any(not (0 < f <= 1) for f in fraction.values()):
        raise ValueError(f"fractions of a year must be in (0, 1]; got {dict(fraction)}")
    ys = sorted(set(years) if years is not None else set(actual) | set(targets))
    program = sorted(targets)
    first, last = (program[0], program[-1]) if program else (None, None)
    out = []
    for y in ys:
        a = _clean(actual.get(y))
        f = float(fraction.get(y, 1.0))
        t = _clean(targets.get(y))
        a_eff = None if a is None else a / f
        t_date = None if t is None else t * f
        in_span = first is not None and first <= y <= last  # type: ignore[operator]
        if trend == "suma":
            out.append(_suma_year(y, a, a_eff, t, t_date, f, actual, targets, fraction, direction, first, in_span))
            continue
        if first is None or y < first:
            notes: list[Note] = []
            p = c = None
        else:
            p, c, notes = level_progress(a_eff, t, baseline, trend=trend, direction=direction, year=y)  # type: ignore[arg-type]
            if t is None and not in_span:
                notes = []
        out.append(YearProgress(y, a, t, f, a_eff, t_date, p, c, notes=tuple(notes)))
    return out


def _suma_year(
    y: int,
    a: float | None,
    a_eff: float | None,
    t: float | None,
    t_date: float | None,
    f: float,
    actual: Mapping[int, float | None],
    targets: Mapping[int, float],
    fraction: Mapping[int, float],
    direction: Direction,
    first: int | None,
    in_span: bool,
) -> YearProgress:
    if first is None or y < first:
        return YearProgress(y, a, t, f, a_eff, t_date)
    span = range(first, y + 1)
    missing = [s for s in span if _clean(actual.get(s)) is None]
    total = float(sum(targets.values()))
    notes: list[Note] = []
    cum_t = float(sum(targets[s] * float(fraction.get(s, 1.0)) for s in span if s in targets))
    if missing:
        if y in missing:
            notes.append(Note("no_data", y))
        others = [s for s in missing if s != y]
        if others:
            notes.append(Note("suma_missing_actual", y, {"years": ", ".join(map(str, others))}))
        if t is None:
            notes.append(Note("suma_without_target", y) if in_span else Note("no_target", y))
        return YearProgress(y, a, t, f, a_eff, t_date, cumulative_target=cum_t, plan_total_target=total, notes=tuple(notes))
    cum_a = float(sum(float(actual[s]) for s in span))  # type: ignore[arg-type]
    p = c = None
    if t is None:
        notes.append(Note("suma_without_target", y) if in_span else Note("no_target", y))
    else:
        p, c, more = attainment(cum_a, cum_t, direction=direction, year=y)
        notes += more
    plan_total = cum_a / total if direction == "higher_is_better" and total > 0 else None
    return YearProgress(y, a, t, f, a_eff, t_date, p, c, cum_a, cum_t, total, plan_total, tuple(notes))


def weighted_progress(values: Sequence[float | None], weights: Sequence[float]) -> float | None:
    """``Σ w p / Σ w`` over the entries whose progress is defined (None if none, or Σ w = 0)."""
    if len(values) != len(weights):
        raise ValueError(f"{len(values)} progress values but {len(weights)} weights")
    pairs = [(float(v), float(w)) for v, w in zip(values, weights, strict=True) if v is not None and not math.isnan(v)]
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return None
    return sum(v * w for v, w in pairs) / total


def decompose_change(
    parts_base: pd.Series,
    parts_year: pd.Series,
    *,
    target: float,
    direction: Direction,
    cumulative: bool = False,
) -> pd.DataFrame:
    """Split a city value's change between zones, and its gap to the target.

    ``parts_base`` and ``parts_year`` are each zone's additive part of the city value in
    the baseline year and in the year (for a rate, ``per · n_zone / population_city``; for
    a count, the zone's count; for a share, ``100 · n_zone / denominator_city``), so that
    their sums are the city values ``B`` and ``A``. Returns per zone:

    * ``change`` = part in the year − part in the baseline year (sums to ``A − B``); with
      ``cumulative=True`` (the *suma* trend) the year's part itself (sums to ``A``);
    * ``share_of_change`` = change / Σ change (undefined when Σ change is 0);
    * ``expected`` = the zone's baseline share ``part_base / B`` times the city's planned
      change ``T − B`` (cumulative: times ``T``): its part of the plan if every zone moved in
      proportion;
    * ``shortfall`` = ``s · (change − expected)`` with ``s = +1`` when lower is better and
      ``−1`` otherwise; the shortfalls add up to the city's shortfall ``s · (A − T)``
      (positive when the target is missed), so the largest ones say where it is lost;
    * ``share_of_shortfall`` = shortfall / Σ shortfall when the city misses its target.
    """
    base = parts_base.astype(float)
    year = parts_year.reindex(base.index).astype(float)
    b_total = float(base.sum())
    change = year if cumulative else year - base
    total_change = float(change.sum())
    share = base / b_total if b_total != 0 else pd.Series(np.nan, index=base.index)
    planned = target if cumulative else target - b_total
    expected = share * planned
    sign = 1.0 if direction == "lower_is_better" else -1.0
    shortfall = sign * (change - expected)
    total_short = float(shortfall.sum())
    return pd.DataFrame(
        {
            "change": change,
            "share_of_change": change / total_change if not math.isclose(total_change, 0.0, abs_tol=1e-12) else np.nan,
            "expected": expected,
            "shortfall": shortfall,
            "share_of_shortfall": shortfall / total_short if total_short > 1e-12 else np.nan,
        },
        index=base.index,
    )


# --------------------------------------------------------------------------- the adapter

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "city": "Ciudad",
        "unplaced": "Sin zona",
        "count": "casos",
        "rate": "por {per} habitantes",
        "share": "%",
        "suma": "Suma",
        "creciente": "Creciente",
        "decreciente": "Decreciente",
        "constante": "Constante",
        "lower_is_better": "menor es mejor",
        "higher_is_better": "mayor es mejor",
        "table_ids": "ids de la tabla que no son zonas",
        "keyed": "lugares sin zona correspondiente",
    },
    "en": {
        "city": "City",
        "unplaced": "No zone",
        "count": "cases",
        "rate": "per {per} residents",
        "share": "%",
        "suma": "Sum (cumulative)",
        "creciente": "Increasing",
        "decreciente": "Decreasing",
        "constante": "Constant",
        "lower_is_better": "lower is better",
        "higher_is_better": "higher is better",
        "table_ids": "table ids that are not zones",
        "keyed": "places that match no zone",
    },
}


@dataclass
class UnitSeries:
    """One indicator in one place (the city, or a zone of the indicator's level)."""

    zone_id: str
    name: str
    baseline: float | None
    targets: dict[int, float]
    series: list[YearProgress]
    months: dict[int, int]
    counts: dict[int, float]
    monthly: list[dict[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def at(self, year: int) -> YearProgress | None:
        return next((s for s in self.series if s.year == year), None)


@dataclass
class IndicatorResult:
    """An indicator's results: its units' series, its progress per year, its breakdown."""

    config: TrackedIndicator
    level: str
    years: list[int]
    baseline_year: int | None
    units: list[UnitSeries]
    progress_by_year: dict[int, float | None]
    progress_uncapped_by_year: dict[int, float | None]
    breakdown: dict[int, pd.DataFrame] = field(default_factory=dict)
    breakdown_level: str | None = None
    notes: list[Note] = field(default_factory=list)
    data_notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrackingResult:
    """Everything ``geoprio indicators`` computed."""

    config: TargetsConfig
    data: TrackingData
    year: int
    years: list[int]
    lang: str
    indicators: list[IndicatorResult]
    objectives: dict[str, dict[int, float | None]]
    plan: dict[int, float | None]
    outputs: list[Path] = field(default_factory=list)
    manifest: Path | None = None

    def indicator(self, ident: str) -> IndicatorResult:
        for r in self.indicators:
            if r.config.id == ident:
                return r
        raise KeyError(ident)

    def table(self) -> pd.DataFrame:
        """Indicator × place × year: the ``seguimiento.csv`` table."""
        return _table(self)

    def to_dict(self) -> dict[str, Any]:
        """What ``seguimiento.json`` holds and the API serves."""
        return _document(self)


class _Levels:
    """Aggregation of base-zone numerators to a level, and population lookups."""

    def __init__(self, data: Any, include_unplaced: bool, lang: str) -> None:
        self.data = data
        self.include = include_unplaced
        self.lang = lang
        lv = data.levels
        self.order = [lv.base, *([lv.parent] if lv.parent else []), "city"]

    def aggregate(self, frame: pd.DataFrame, level: str, *, residual: bool = False) -> pd.DataFrame:
        lv = self.data.levels
        zones = frame.drop(index=UNPLACED)
        lost = frame.loc[[UNPLACED]]
        if level == CITY:
            parts = [zones] + ([lost] if self.include else [])
            total = pd.concat(parts).sum(axis=0, min_count=1)
            return total.to_frame(CITY).T
        if level == lv.base:
            out = zones.copy()
        else:
            parent = self.data.parent_of.reindex(zones.index)
            has = parent.notna().to_numpy()
            out = zones[has].groupby(parent[has].astype(str).to_numpy()).sum(min_count=1)
            out = out.reindex(self.data.level_ids[level])
            lost = pd.concat([lost, zones[~has]]).sum(axis=0, min_count=1).to_frame(UNPLACED).T
        if residual and self.include:
            out = pd.concat([out, lost.rename(index={lost.index[0]: UNPLACED})])
        out.index.name = "zone_id"
        return out

    def table_for(self, level: str) -> Any | None:
        """The population table that serves ``level`` (its own level first, then finer)."""
        rank = {name: i for i, name in enumerate(self.order)}
        best = None
        for t in self.data.population:
            if rank[t.level] <= rank[level] and (best is None or rank[t.level] > rank[best.level]):
                best = t
        return best

    def population(self, level: str, zone_id: str, year: int, *, indicator: str) -> float:
        table = self.table_for(level)
        if table is None:
            have = sorted({t.level for t in self.data.population})
            raise InputError(
                f"indicator {indicator!r}: a rate at level {level!r} needs population at that level or a finer one; "
                f"the population tables are per {have}"
            )
        if level == table.level:
            members = [zone_id]
        elif level == CITY:
            members = list(self.data.level_ids[table.level])
        else:  # parent level from base-level population
            members = list(self.data.parent_of.index[(self.data.parent_of == zone_id).fillna(False).to_numpy()])
        vals = table.values
        years = table.years
        total = 0.0
        for m in members:
            v = vals.at[m, year] if (m in vals.index and year in vals.columns) else np.nan
            if v != v:
                name = self.data.level_names.get(table.level, {}).get(m, "")
                span = f"{min(years)}–{max(years)}" if years else "none"
                scope = "the city" if level == CITY else f"{level} {zone_id!r}"
                raise InputError(
                    f"indicator {indicator!r}: the rate of {scope} in {year} needs the population of {table.level} {m!r}"
                    f"{' (' + name + ')' if name else ''}; {table.source} has no row for it (years in the file: {span})"
                )
            total += float(v)
        return total

    def can_serve(self, level: str) -> bool:
        return self.table_for(level) is not None


def _values(
    ind: Any,
    num: pd.DataFrame,
    den: pd.DataFrame | None,
    level: str,
    lv: _Levels,
    notes: list[Note],
) -> pd.DataFrame:
    """Units × years values in the indicator's unit (not annualized)."""
    if ind.unit == "count":
        return num.astype(float)
    if ind.unit == "share":
        assert den is not None
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 100.0 * num / den.reindex_like(num)
        return out.where(den.reindex_like(num) > 0)
    out = pd.DataFrame(np.nan, index=num.index, columns=num.columns)
    for z in num.index:
        for y in num.columns:
            n = num.at[z, y]
            if n != n:
                continue
            p = lv.population(level, str(z), int(y), indicator=ind.id)
            if p <= 0:
                notes.append(Note("zero_population", int(y), {"zone": str(z)}, zone_id=str(z)))
                continue
            out.at[z, y] = float(n) / p * ind.per
    return out


def _is_additive(ind: Any) -> bool:
    return ind.unit in ("count", "rate")


def _fractions(ind: Any, months: dict[int, int]) -> dict[int, float]:
    if not _is_additive(ind):
        return {}
    return {y: m / 12 for y, m in months.items() if 0 < m < 12}


def _baseline(
    ind: Any,
    given: float | None,
    values: pd.Series,
    months: dict[int, int],
    notes: list[Note],
    zone_id: str | None,
) -> tuple[float | None, float | None]:
    """(baseline used, baseline computed from the data)."""
    by = ind.resolved_baseline_year
    computed = None
    if by is not None and by in values.index and values[by] == values[by]:
        computed = float(values[by])
        m = months.get(by, 12)
        if m < 12 and _is_additive(ind):
            computed = computed * 12 / m
            notes.append(Note("baseline_partial", by, {"months": m}, zone_id=zone_id))
    if given is not None:
        if computed is not None and not math.isclose(given, computed, rel_tol=0.005):
            notes.append(Note("baseline_differs", None, {"given": float(given), "computed": computed}, zone_id=zone_id))
        return float(given), computed
    return computed, computed


def _targets_for(ind: Any, zone_id: str | None, baseline: float | None, notes: list[Note]) -> dict[int, float]:
    if zone_id is not None and ind.zone_targets and zone_id in ind.zone_targets:
        return {int(y): float(v) for y, v in ind.zone_targets[zone_id].items()}
    if ind.relative_targets:
        if baseline is None:
            notes.append(Note("relative_without_baseline", None, zone_id=zone_id))
            return {}
        return {int(y): baseline * (1 + r) for y, r in ind.relative_targets.items()}
    if ind.targets:
        return {int(y): float(v) for y, v in ind.targets.items()}
    notes.append(Note("no_zone_target", None, zone_id=zone_id))
    return {}


def _axis(ind: Any, covered: Iterable[int]) -> list[int]:
    """The years tracked: the baseline year, the programmed years and the data years between them."""
    program = ind.program_years
    by = ind.resolved_baseline_year
    years = set(program) | ({by} if by is not None else set())
    first, last = min(years), max(years)
    return sorted(years | {y for y in covered if first <= y <= last})


def _partial_notes(months: dict[int, int], period: Any, zone_id: str | None) -> list[Note]:
    out = []
    for y, m in months.items():
        if m < 12 and period is not None:
            out.append(Note("partial_year", y, {"months": m, "until": str(period[1])}, zone_id=zone_id))
    return out


def _monthly(ind: Any, idata: Any, level: str, unit_id: str, lv: _Levels, notes: list[Note]) -> list[dict[str, Any]]:
    if idata.monthly is None:
        return []
    num = lv.aggregate(idata.monthly, level).loc[[unit_id]]
    den = lv.aggregate(idata.den_monthly, level).loc[[unit_id]] if idata.den_monthly is not None else None
    rows = []
    ytd_n: dict[int, float] = {}
    ytd_d: dict[int, float] = {}
    for col in num.columns:
        y = int(col[:4])
        n = float(num.iloc[0][col])
        ytd_n[y] = ytd_n.get(y, 0.0) + n
        if ind.unit == "count":
            value, ytd = n, ytd_n[y]
        elif ind.unit == "share":
            d = float(den.iloc[0][col]) if den is not None else 0.0
            ytd_d[y] = ytd_d.get(y, 0.0) + d
            value = 100 * n / d if d > 0 else None
            ytd = 100 * ytd_n[y] / ytd_d[y] if ytd_d[y] > 0 else None
        else:
            p = lv.population(level, unit_id, y, indicator=ind.id)
            value = n / p * ind.per if p > 0 else None
            ytd = ytd_n[y] / p * ind.per if p > 0 else None
        rows.append({"month": col, "count": n, "value": value, "year_to_date": ytd})
    return rows


def _unit_series(
    ind: Any,
    idata: Any,
    level: str,
    values: pd.DataFrame,
    counts: pd.DataFrame,
    zone_id: str,
    name: str,
    lv: _Levels,
    axis: list[int],
    given_baseline: float | None,
    notes_out: list[Note],
) -> UnitSeries:
    notes: list[Note] = []
    zid = None if zone_id == CITY else zone_id
    row = values.loc[zone_id] if zone_id in values.index else pd.Series(dtype=float)
    base, _computed = _baseline(ind, given_baseline, row, idata.months, notes, zid)
    targets = _targets_for(ind, zid, base, notes)
    actual = {int(y): (None if v != v else float(v)) for y, v in row.items()}
    fraction = _fractions(ind, idata.months)
    series = progress_series(
        actual, targets, trend=ind.trend, direction=ind.resolved_direction, baseline=base, fraction=fraction, years=axis
    )
    series = [YearProgress(**{**s.__dict__, "notes": tuple(Note(n.code, n.year, n.params, zid) for n in s.notes)}) for s in series]
    c_row = counts.loc[zone_id] if zone_id in counts.index else pd.Series(dtype=float)
    unit = UnitSeries(
        zone_id=zone_id,
        name=name,
        baseline=base,
        targets=targets,
        series=series,
        months={int(y): int(m) for y, m in idata.months.items()},
        counts={int(y): float(v) for y, v in c_row.items() if v == v},
        notes=notes,
    )
    notes_out += notes
    return unit


def _breakdown(
    ind: Any,
    idata: Any,
    level: str,
    lv: _Levels,
    city: UnitSeries,
    axis: list[int],
    lang: str,
    notes: list[Note],
) -> dict[int, pd.DataFrame]:
    by = ind.resolved_baseline_year
    if by is None or by not in idata.yearly.columns:
        return {}
    num = lv.aggregate(idata.yearly, level, residual=True)
    den_city = lv.aggregate(idata.den_yearly, CITY) if idata.den_yearly is not None else None
    show_rates = ind.unit != "rate" or lv.can_serve(level)
    if not show_rates:
        notes.append(Note("breakdown_no_population", None, {"level": level}))
    zone_rows = num.drop(index=[UNPLACED], errors="ignore")
    zone_values = pd.DataFrame(np.nan, index=num.index, columns=num.columns)
    if show_rates:
        den_zone = lv.aggregate(idata.den_yearly, level, residual=True) if idata.den_yearly is not None else None
        zone_values.loc[zone_rows.index] = _values(
            ind, zone_rows, None if den_zone is None else den_zone.loc[zone_rows.index], level, lv, notes
        )
    fraction = _fractions(ind, idata.months)

    def parts(year: int) -> pd.Series:
        n = num[year].astype(float).fillna(0.0)
        if _is_additive(ind):
            n = n / fraction.get(year, 1.0)
        if ind.unit == "count":
            return n
        if ind.unit == "share":
            d = float(den_city.iloc[0][year])
            return 100 * n / d if d > 0 else n * np.nan
        p = lv.population(CITY, CITY, year, indicator=ind.id)
        return n / p * ind.per

    city_base = city.baseline
    direction = ind.resolved_direction
    out = {}
    base_parts = parts(by)
    b_zone = zone_values[by] / (fraction.get(by, 1.0) if _is_additive(ind) else 1.0)
    for y in ind.program_years:
        entry = city.at(y)
        if y not in num.columns or entry is None or entry.actual is None or y not in city.targets:
            continue
        target = city.targets[y]
        if ind.trend == "suma":
            span = [s for s in range(min(city.targets), y + 1)]
            if any(s not in num.columns for s in span):
                continue
            year_parts = sum(parts(s) for s in span)
            planned = entry.cumulative_target if entry.cumulative_target is not None else target
            dec = decompose_change(base_parts, year_parts, target=planned, direction=direction, cumulative=True)
        else:
            year_parts = parts(y)
            dec = decompose_change(base_parts, year_parts, target=target, direction=direction)
        frame = pd.DataFrame(index=num.index)
        frame["count_base"] = num[by]
        frame["count"] = num[y]
        frame["value_base"] = b_zone
        frame["value"] = zone_values[y]
        frame["value_annualized"] = zone_values[y] / (fraction.get(y, 1.0) if _is_additive(ind) else 1.0)
        frame["value_change"] = frame["value_annualized"] - frame["value_base"]
        frame["part_base"] = base_parts
        frame["part"] = year_parts
        frame = frame.join(dec)
        # each zone against the city's planned relative change
        prop_target, prog, prog_c = [], [], []
        for z in frame.index:
            bz = b_zone.get(z, np.nan)
            if z == UNPLACED or bz != bz or city_base is None or city_base == 0:
                prop_target.append(np.nan)
                prog.append(np.nan)
                prog_c.append(np.nan)
                continue
            tz = {yy: bz * t / city_base for yy, t in city.targets.items()}
            zs = progress_series(
                {int(c): (None if v != v else float(v)) for c, v in zone_values.loc[z].items()},
                tz,
                trend=ind.trend,
                direction=direction,
                baseline=float(bz),
                fraction=fraction,
                years=axis,
            )
            e = next(s for s in zs if s.year == y)
            prop_target.append(tz[y])
            prog.append(np.nan if e.progress is None else e.progress)
            prog_c.append(np.nan if e.progress_capped is None else e.progress_capped)
        frame["proportional_target"] = prop_target
        frame["progress"] = prog
        frame["progress_capped"] = prog_c
        if ind.unit in ("rate", "share"):
            frame["gap_to_city_target"] = frame["value_annualized"] - target
        else:
            frame["gap_to_city_target"] = np.nan
        names = lv.data.level_names.get(level, {})
        label = LABELS[lang]["unplaced"]
        frame.insert(0, "name", [label if z == UNPLACED else names.get(str(z), "") for z in frame.index])
        out[y] = frame
    return out


def _level_name(cfg: Any, data: Any) -> dict[str, dict[str, str]]:
    names = dict(data.level_names)
    if data.parent_zones is not None and data.levels.parent:
        pf = data.parent_zones.frame
        extra = dict(zip(pf["zone_id"].astype(str), pf["name"].astype("string").fillna("").astype(str), strict=True))
        names[data.levels.parent] = {z: (n or extra.get(z, "")) for z, n in names[data.levels.parent].items()}
    return names


def track(
    cfg: TargetsConfig,
    *,
    year: int | None = None,
    lang: str | None = None,
    data: TrackingData | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrackingResult:
    """Compute every indicator's actual values, progress, objective and plan progress.

    Parameters
    ----------
    cfg
        A :class:`geoprio.seguimiento.targets.TargetsConfig` (see :func:`geoprio.seguimiento.targets.load_targets`).
    year
        The year to report (default ``options.year``, else the latest programmed year with
        data for some indicator).
    lang
        Language of notes and labels (default ``options.lang``).
    data
        Already loaded :class:`geoprio.seguimiento.targets.TrackingData` (default: load it).
    """
    say = progress or (lambda _m: None)
    lang = lang or cfg.options.lang
    if lang not in ("es", "en"):
        raise ConfigError(f"lang must be 'es' or 'en', got {lang!r}")
    if data is None:
        say("datos")
        data = load_tracking_data(cfg)
    data.level_names = _level_name(cfg, data)
    lv = _Levels(data, cfg.options.unplaced == "include", lang)
    results = []
    for ind in cfg.indicators:
        say(f"indicador {ind.id}")
        idata = data.indicators[ind.id]
        notes: list[Note] = []
        axis = _axis(ind, idata.months)
        level = ind.level
        num = lv.aggregate(idata.yearly, level).reindex(columns=axis)
        den = lv.aggregate(idata.den_yearly, level).reindex(columns=axis) if idata.den_yearly is not None else None
        values = _values(ind, num, den, level, lv, notes)
        if idata.period_inferred and idata.period is not None:
            notes.append(Note("period_inferred", None, {"source": ind.source, "start": str(idata.period[0]), "end": str(idata.period[1])}))
        notes += _partial_notes(idata.months, idata.period, None)
        _unplaced_notes(ind, idata, cfg.options.unplaced, level, lang, notes)
        units = []
        if level == CITY:
            u = _unit_series(ind, idata, level, values, num, CITY, LABELS[lang]["city"], lv, axis, ind.baseline, notes)
            u.monthly = _monthly(ind, idata, level, CITY, lv, notes)
            units.append(u)
            notes += [n for s in u.series for n in s.notes]
        else:
            names = data.level_names.get(level, {})
            given = ind.zone_baselines or {}
            for z in data.level_ids[level]:
                u = _unit_series(ind, idata, level, values, num, str(z), names.get(str(z), ""), lv, axis, given.get(str(z)), notes)
                u.monthly = _monthly(ind, idata, level, str(z), lv, notes)
                units.append(u)
        by_year, uncapped = {}, {}
        for y in axis:
            entries = [u.at(y) for u in units]
            cs = [e.progress_capped for e in entries if e is not None and e.progress_capped is not None]
            ps = [e.progress for e in entries if e is not None and e.progress is not None]
            by_year[y] = float(np.mean(cs)) if cs else None
            # a zone-level indicator's progress is the mean of its zones' capped progress; the mean of
            # unbounded ratios says little (one small zone can make it -2000 %), so it is not reported
            uncapped[y] = (ps[0] if ps else None) if level == CITY else None
        breakdown, b_level = {}, None
        if level == CITY and ind.breakdown != "none":
            b_level = ind.breakdown or _default_breakdown(ind, data, lv)
            breakdown = _breakdown(ind, idata, b_level, lv, units[0], axis, lang, notes)
        results.append(
            IndicatorResult(
                config=ind,
                level=level,
                years=axis,
                baseline_year=ind.resolved_baseline_year,
                units=units,
                progress_by_year=by_year,
                progress_uncapped_by_year=uncapped,
                breakdown=breakdown,
                breakdown_level=b_level,
                notes=_dedupe(notes),
                data_notes=idata.notes,
            )
        )
    years = sorted({y for r in results for y in r.years})
    objectives, plan = _aggregate_progress(cfg, results, years)
    report_year = year if year is not None else cfg.options.year
    if report_year is None:
        report_year = _default_year(cfg, results, years)
    elif report_year not in years:
        raise ConfigError(f"year {report_year} is not tracked; years: {years}")
    return TrackingResult(cfg, data, report_year, years, lang, results, objectives, plan)


def _dedupe(notes: list[Note]) -> list[Note]:
    """Notes without repeats: those about the whole series first, then by year."""
    seen, out = set(), []
    for n in notes:
        key = (n.code, n.year, n.zone_id, tuple(sorted((k, str(v)) for k, v in n.params.items())))
        if key not in seen:
            seen.add(key)
            out.append(n)
    return sorted(out, key=lambda n: (n.year is not None, n.year or 0))


def _unplaced_notes(ind: Any, idata: Any, mode: str, level: str, lang: str, notes: list[Note]) -> None:
    what = LABELS[lang]["table_ids" if "table_ids_not_zones" in idata.notes else "keyed"]
    if "table_ids_not_zones" in idata.notes:
        what += ": " + ", ".join(idata.notes["table_ids_not_zones"][:6])
    lost = idata.yearly.loc["_unplaced"]
    total = float(lost.sum())
    if total <= 0:
        return
    if mode == "exclude":
        notes.append(Note("unplaced_excluded", None, {"count": total, "what": what}))
        return
    if level == CITY:
        for y, v in lost.items():
            if v > 0:
                notes.append(Note("unplaced", int(y), {"count": float(v), "what": what}))
    if "zones_not_in_table" in idata.notes:
        notes.append(Note("zones_not_in_table", None, {"zones": ", ".join(idata.notes["zones_not_in_table"][:10])}))


def _default_breakdown(ind: Any, data: Any, lv: _Levels) -> str:
    """The parent level, or the base level when the zones have no parent."""
    return data.levels.parent or data.levels.base


def _aggregate_progress(
    cfg: Any, results: list[IndicatorResult], years: list[int]
) -> tuple[dict[str, dict[int, float | None]], dict[int, float | None]]:
    objectives: dict[str, dict[int, float | None]] = {}
    for name in cfg.objectives:
        members = [r for r in results if r.config.objective == name]
        objectives[name] = {
            y: weighted_progress([r.progress_by_year.get(y) for r in members], [r.config.weight for r in members]) for y in years
        }
    plan = {
        y: weighted_progress([objectives[n][y] for n in cfg.objectives], [cfg.objectives[n].weight for n in cfg.objectives]) for y in years
    }
    return objectives, plan


def _default_year(cfg: Any, results: list[IndicatorResult], years: list[int]) -> int:
    program = sorted({y for r in results for y in r.config.program_years})
    with_data = [
        y
        for y in program
        if any(u.at(y) is not None and u.at(y).actual is not None for r in results for u in r.units)  # type: ignore[union-attr]
    ]
    if with_data:
        return max(with_data)
    return program[0] if program else years[-1]


# --------------------------------------------------------------------------- outputs


def _f(v: Any, digits: int = 6) -> float | None:
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else round(x, digits)


def unit_label(ind: Any, lang: str) -> str:
    """How the indicator's unit reads: ``casos``, ``por 100,000 habitantes``, ``%``."""
    text = LABELS[lang][ind.unit]
    return text.format(per=f"{ind.per:,.0f}")


def _year_dict(s: YearProgress, unit: UnitSeries, lang: str) -> dict[str, Any]:
    return {
        "year": s.year,
        "months": unit.months.get(s.year),
        "actual": _f(s.actual),
        "actual_annualized": _f(s.actual_annualized) if s.fraction < 1 else None,
        "count": _f(unit.counts.get(s.year)),
        "target": _f(s.target),
        "target_to_date": _f(s.target_to_date) if s.fraction < 1 else None,
        "progress": _f(s.progress),
        "progress_capped": _f(s.progress_capped),
        "cumulative_actual": _f(s.cumulative_actual),
        "cumulative_target": _f(s.cumulative_target),
        "plan_total_target": _f(s.plan_total_target),
        "progress_plan_total": _f(s.progress_plan_total),
        "notes": [n.text(lang) for n in s.notes],
    }


def _breakdown_rows(frame: pd.DataFrame, year: int) -> list[dict[str, Any]]:
    rows = []
    for z, r in frame.iterrows():
        row: dict[str, Any] = {"zone_id": str(z), "name": str(r["name"])}
        for c in frame.columns:
            if c != "name":
                row[c] = _f(r[c])
        rows.append(row)
    return rows


def _unit_dict(u: UnitSeries, lang: str, *, with_months: bool = True) -> dict[str, Any]:
    d = {
        "zone_id": u.zone_id,
        "name": u.name,
        "baseline": _f(u.baseline),
        "targets": {str(y): _f(v) for y, v in sorted(u.targets.items())},
        "series": [_year_dict(s, u, lang) for s in u.series],
        "notes": [n.text(lang) for n in u.notes],
    }
    if with_months and u.monthly:
        d["months"] = [{k: (_f(v) if k != "month" else v) for k, v in m.items()} for m in u.monthly]
    return d


def _indicator_dict(r: IndicatorResult, year: int, lang: str, cfg: Any) -> dict[str, Any]:
    ind = r.config
    obj = cfg.objectives[ind.objective]
    d: dict[str, Any] = {
        "id": ind.id,
        "label": ind.display,
        "objective": ind.objective,
        "objective_label": obj.label or ind.objective,
        "weight": ind.weight,
        "source": ind.source,
        "unit": ind.unit,
        "unit_label": unit_label(ind, lang),
        "per": ind.per if ind.unit == "rate" else None,
        "direction": ind.resolved_direction,
        "trend": ind.trend,
        "trend_label": LABELS[lang][ind.trend],
        "level": r.level,
        "baseline_year": r.baseline_year,
        "baseline": _f(r.units[0].baseline) if r.level == CITY else None,
        "targets": {str(y): _f(v) for y, v in sorted(r.units[0].targets.items())} if r.level == CITY else None,
        "relative_targets": {str(y): v for y, v in sorted(ind.relative_targets.items())} or None,
        "program_years": ind.program_years,
        "years": r.years,
        "progress_by_year": {str(y): _f(v) for y, v in r.progress_by_year.items()},
        "progress_uncapped_by_year": {str(y): _f(v) for y, v in r.progress_uncapped_by_year.items()},
        "notes": [n.to_dict(lang) for n in r.notes],
    }
    if r.level == CITY:
        d["series"] = _unit_dict(r.units[0], lang)["series"]
        d["months"] = _unit_dict(r.units[0], lang).get("months", [])
    else:
        d["zones"] = [_unit_dict(u, lang) for u in r.units]
    if r.breakdown:
        d["breakdown"] = {
            "level": r.breakdown_level,
            "baseline_year": r.baseline_year,
            "by_year": {str(y): _breakdown_rows(f, y) for y, f in sorted(r.breakdown.items())},
        }
    return d


def _document(res: TrackingResult) -> dict[str, Any]:
    from geoprio._version import __version__

    cfg = res.config
    year = res.year
    inds = [_indicator_dict(r, year, res.lang, cfg) for r in res.indicators]
    for d, r in zip(inds, res.indicators, strict=True):
        d["summary"] = _summary(r, year)
    return {
        "kind": "geoprio.seguimiento",
        "geoprio_version": __version__,
        "title": cfg.title,
        "lang": res.lang,
        "year": year,
        "years": res.years,
        "levels": res.data.levels.all,
        "plan": {
            "progress": _f(res.plan.get(year)),
            "progress_by_year": {str(y): _f(v) for y, v in res.plan.items()},
        },
        "objectives": [
            {
                "id": name,
                "label": o.label or name,
                "weight": o.weight,
                "progress": _f(res.objectives[name].get(year)),
                "progress_by_year": {str(y): _f(v) for y, v in res.objectives[name].items()},
                "indicators": [r.config.id for r in res.indicators if r.config.objective == name],
            }
            for name, o in cfg.objectives.items()
        ],
        "indicators": inds,
    }


def _summary(r: IndicatorResult, year: int) -> dict[str, Any]:
    """The indicator in the report year: actual, target, progress (city) or zone counts."""
    out: dict[str, Any] = {
        "year": year,
        "progress": _f(r.progress_by_year.get(year)),
        "progress_uncapped": _f(r.progress_uncapped_by_year.get(year)),
    }
    if r.level == CITY:
        e = r.units[0].at(year)
        out.update(
            actual=_f(e.actual) if e else None,
            actual_annualized=_f(e.actual_annualized) if e and e.fraction < 1 else None,
            target=_f(e.target) if e else None,
            months=r.units[0].months.get(year),
        )
    else:
        entries = [u.at(year) for u in r.units]
        defined = [e for e in entries if e is not None and e.progress_capped is not None]
        out.update(zones=len(r.units), zones_with_progress=len(defined), zones_met=sum(1 for e in defined if e.progress_capped >= 1))
    return out


def _table(res: TrackingResult) -> pd.DataFrame:
    rows = []
    for r in res.indicators:
        ind = r.config
        for u in r.units:
            for s in u.series:
                rows.append(
                    {
                        "indicator": ind.id,
                        "label": ind.display,
                        "objective": ind.objective,
                        "unit": ind.unit,
                        "trend": ind.trend,
                        "direction": ind.resolved_direction,
                        "level": r.level,
                        "zone_id": u.zone_id,
                        "name": u.name,
                        "year": s.year,
                        "months": u.months.get(s.year),
                        "count": _f(u.counts.get(s.year)),
                        "actual": _f(s.actual),
                        "actual_annualized": _f(s.actual_annualized) if s.fraction < 1 else None,
                        "baseline": _f(u.baseline),
                        "target": _f(s.target),
                        "progress": _f(s.progress),
                        "progress_capped": _f(s.progress_capped),
                        "cumulative_actual": _f(s.cumulative_actual),
                        "cumulative_target": _f(s.cumulative_target),
                        "progress_plan_total": _f(s.progress_plan_total),
                        "notes": " | ".join(n.text(res.lang) for n in s.notes),
                    }
                )
    return pd.DataFrame(rows)


def zone_layer(res: TrackingResult, *, simplify_m: float = 10.0) -> Any:
    """Per-zone progress in the report year, one feature per indicator and zone (EPSG:4326).

    Geometry is simplified to ``simplify_m`` metres (in the zones' metric CRS) and rounded
    to 6 decimals (about 0.1 m), which keeps the layer light enough for a web map.

    City indicators contribute their breakdown zones (with the zone's change, its part of
    the city's change and shortfall, and its progress against the city's planned relative
    change); zone-level indicators contribute each zone's own progress.
    """
    import geopandas as gpd
    import shapely

    data = res.data
    frame = data.zones.frame
    geoms: dict[str, dict[str, Any]] = {data.levels.base: dict(zip(frame["zone_id"].astype(str), frame.geometry.values, strict=True))}
    if data.levels.parent:
        if data.parent_zones is not None:
            pf = data.parent_zones.frame
            geoms[data.levels.parent] = dict(zip(pf["zone_id"].astype(str), pf.geometry.values, strict=True))
        else:
            parent = data.parent_of.reindex(frame["zone_id"].astype(str)).to_numpy()
            geoms[data.levels.parent] = {
                str(p): shapely.union_all(frame.geometry.values[parent == p]) for p in data.level_ids[data.levels.parent]
            }
    rows, shapes = [], []
    year = res.year
    for r in res.indicators:
        ind = r.config
        common = {
            "indicator": ind.id,
            "label": ind.display,
            "objective": ind.objective,
            "unit": ind.unit,
            "per": ind.per if ind.unit == "rate" else None,
            "trend": ind.trend,
            "year": year,
        }
        if r.level == CITY:
            frame_y = r.breakdown.get(year)
            if frame_y is None:
                continue
            for z, b in frame_y.iterrows():
                if z == UNPLACED:
                    continue
                rows.append(
                    {
                        **common,
                        "level": r.breakdown_level,
                        "zone_id": str(z),
                        "name": b["name"],
                        "scope": "breakdown",
                        "actual": _f(b["value_annualized"]),
                        "baseline": _f(b["value_base"]),
                        "target": _f(b["proportional_target"]),
                        "progress": _f(b["progress"]),
                        "progress_capped": _f(b["progress_capped"]),
                        "value_change": _f(b["value_change"]),
                        "change": _f(b["change"]),
                        "share_of_change": _f(b["share_of_change"]),
                        "shortfall": _f(b["shortfall"]),
                        "share_of_shortfall": _f(b["share_of_shortfall"]),
                        "gap_to_city_target": _f(b["gap_to_city_target"]),
                        "count": _f(b["count"]),
                    }
                )
                shapes.append(geoms[r.breakdown_level].get(str(z)))
        else:
            for u in r.units:
                e = u.at(year)
                rows.append(
                    {
                        **common,
                        "level": r.level,
                        "zone_id": u.zone_id,
                        "name": u.name,
                        "scope": "zone",
                        "actual": _f(e.actual_annualized) if e else None,
                        "baseline": _f(u.baseline),
                        "target": _f(e.target) if e else None,
                        "progress": _f(e.progress) if e else None,
                        "progress_capped": _f(e.progress_capped) if e else None,
                        "value_change": _f(e.actual_annualized - u.baseline)
                        if e and e.actual_annualized is not None and u.baseline is not None
                        else None,
                        "change": None,
                        "share_of_change": None,
                        "shortfall": None,
                        "share_of_shortfall": None,
                        "gap_to_city_target": None,
                        "count": _f(u.counts.get(year)),
                    }
                )
                shapes.append(geoms[r.level].get(u.zone_id))
    columns = list(rows[0]) if rows else ["indicator", "zone_id"]
    layer = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=list(shapes), crs="EPSG:4326")
    if simplify_m > 0 and len(layer):
        metric = layer.geometry.to_crs(data.zones.metric_crs).simplify(simplify_m, preserve_topology=True)
        layer = layer.set_geometry(metric.to_crs("EPSG:4326").set_precision(1e-6))
    return layer


#: Output file names (inside the output folder).
OUTPUT_NAMES = {
    "csv": "seguimiento.csv",
    "json": "seguimiento.json",
    "geojson": "seguimiento_zonas.geojson",
    "html": "seguimiento.html",
    "manifest": "seguimiento_manifest.json",
}


def _input_paths(cfg: Any, targets_file: Path | None) -> list[Path]:
    z = cfg.zones
    paths = [z.path]
    if z.population:
        paths.append(z.population.path)
    if z.parent:
        paths.append(z.parent.path)
    used = {i.source for i in cfg.indicators}
    paths += [s.path for n, s in cfg.sources.items() if n in used]
    paths += [p.path for p in cfg.population]
    paths += list(cfg.program)
    if targets_file is not None:
        paths.insert(0, Path(targets_file).resolve())
    return list(dict.fromkeys(paths))


def write_tracking(
    res: TrackingResult,
    out_dir: Path | None = None,
    *,
    command: str | None = None,
    targets_file: Path | None = None,
) -> list[Path]:
    """Write ``seguimiento.csv``, ``.json``, ``_zonas.geojson``, ``.html`` and the manifest."""
    from geoprio.io import files as io
    from geoprio.io import manifest
    from geoprio.seguimiento.report_html import render_report

    out = Path(out_dir) if out_dir is not None else res.config.output.dir
    doc = res.to_dict()
    paths = [
        io.write_table(res.table(), out / OUTPUT_NAMES["csv"]),
        io.write_json(doc, out / OUTPUT_NAMES["json"]),
        io.write_layer(zone_layer(res), out / OUTPUT_NAMES["geojson"]),
        io.write_text(render_report(doc), out / OUTPUT_NAMES["html"]),
    ]
    params = {"year": res.year, "lang": res.lang, "years": res.years, "unplaced": res.config.options.unplaced}
    doc_m = manifest.document(
        kind="geoprio.seguimiento",
        command=command,
        config=res.config,
        inputs=_input_paths(res.config, targets_file),
        outputs=paths,
        parameters=params,
    )
    res.outputs = paths
    res.manifest = manifest.write(doc_m, out / OUTPUT_NAMES["manifest"])
    return paths
