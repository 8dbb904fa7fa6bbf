"""The tracking run: from a targets file's options to every indicator's progress.

:func:`track` is the adapter between the files and the numeric core
(:mod:`geoprio.seguimiento.arithmetic`): it loads the data a
:class:`~geoprio.seguimiento.config.TargetsConfig` names (:mod:`geoprio.seguimiento.data`),
aggregates base-zone numerators to each indicator's level, turns them into values in the
indicator's unit (counts, rates per ``per`` residents, shares), applies the trend arithmetic
per place and year, splits city changes per zone (the breakdown), and weighs indicators into
objectives and the plan. It returns a :class:`~geoprio.seguimiento.result.TrackingResult` and
writes nothing. :func:`replay_tracking` re-runs a run from its manifest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoprio.errors import ConfigError, InputError
from geoprio.io.results import Replay, replay
from geoprio.labels import label
from geoprio.seguimiento.arithmetic import YearProgress, decompose_change, progress_series, weighted_progress
from geoprio.seguimiento.config import CITY, UNPLACED, TargetsConfig
from geoprio.seguimiento.data import TrackingData, load_tracking_data
from geoprio.seguimiento.notes import Note
from geoprio.seguimiento.result import KIND, IndicatorResult, TrackingResult, UnitSeries

__all__ = ["replay_tracking", "track"]

#: Label topic of the words computations put in outputs (the city's and the unplaced row's names).
TOPIC = "seguimiento"


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
        value: float | None
        ytd: float | None
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
        return _city_parts(ind, num, den_city, fraction, lv, year)

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
        prop_target, prog, prog_c = _proportional_progress(ind, frame.index, b_zone, zone_values, city, fraction, axis, y)
        frame["proportional_target"] = prop_target
        frame["progress"] = prog
        frame["progress_capped"] = prog_c
        if ind.unit in ("rate", "share"):
            frame["gap_to_city_target"] = frame["value_annualized"] - target
        else:
            frame["gap_to_city_target"] = np.nan
        names = lv.data.level_names.get(level, {})
        unplaced = label(TOPIC, "unplaced", lang)
        frame.insert(0, "name", [unplaced if z == UNPLACED else names.get(str(z), "") for z in frame.index])
        out[y] = frame
    return out


def _city_parts(
    ind: Any, num: pd.DataFrame, den_city: pd.DataFrame | None, fraction: dict[int, float], lv: _Levels, year: int
) -> pd.Series:
    """Each zone's additive part of the city value in ``year`` (annualized), so that the parts
    sum to the city value: a count, ``100 · n / denominator`` (share), ``per · n / population`` (rate).
    """
    n = num[year].astype(float).fillna(0.0)
    if _is_additive(ind):
        n = n / fraction.get(year, 1.0)
    if ind.unit == "count":
        return n
    if ind.unit == "share":
        assert den_city is not None  # a share always has its denominator
        d = float(den_city.iloc[0][year])
        return 100 * n / d if d > 0 else n * np.nan
    p = lv.population(CITY, CITY, year, indicator=ind.id)
    return n / p * ind.per


def _proportional_progress(
    ind: Any,
    zones: pd.Index,
    b_zone: pd.Series,
    zone_values: pd.DataFrame,
    city: UnitSeries,
    fraction: dict[int, float],
    axis: list[int],
    year: int,
) -> tuple[list[float], list[float], list[float]]:
    """Each zone against the city's planned relative change: its proportional target in
    ``year`` (its baseline × the city's target / the city's baseline), and its progress
    (uncapped, capped) towards it; NaN for the unplaced row and zones without a baseline.
    """
    city_base = city.baseline
    prop_target, prog, prog_c = [], [], []
    for z in zones:
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
            direction=ind.resolved_direction,
            baseline=float(bz),
            fraction=fraction,
            years=axis,
        )
        e = next(s for s in zs if s.year == year)
        prop_target.append(tz[year])
        prog.append(np.nan if e.progress is None else e.progress)
        prog_c.append(np.nan if e.progress_capped is None else e.progress_capped)
    return prop_target, prog, prog_c


def _level_name(cfg: Any, data: Any) -> dict[str, dict[str, str]]:
    names = dict(data.level_names)
    if data.parent_zones is not None and data.levels.parent:
        pf = data.parent_zones.frame
        extra = dict(zip(pf["zone_id"].astype(str), pf["name"].astype("string").fillna("").astype(str), strict=True))
        names[data.levels.parent] = {z: (n or extra.get(z, "")) for z, n in names[data.levels.parent].items()}
    return names


def track(
    options: TargetsConfig,
    *,
    year: int | None = None,
    lang: str | None = None,
    data: TrackingData | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrackingResult:
    """Compute every indicator's actual values, progress, objective and plan progress.

    Writes nothing: :meth:`TrackingResult.write <geoprio.seguimiento.result.TrackingResult.write>`
    writes the outputs and the manifest.

    Parameters
    ----------
    options
        A :class:`~geoprio.seguimiento.config.TargetsConfig` (see
        :func:`~geoprio.seguimiento.config.load_targets`).
    year
        The year to report (default ``options.year``, else the latest programmed year with
        data for some indicator).
    lang
        Language of notes and labels (default ``options.lang``).
    data
        Already loaded :class:`~geoprio.seguimiento.data.TrackingData` (default: load it).
    progress
        Called with a short message as each step starts.

    The result's ``config`` is ``options`` with ``year`` and ``lang`` when they are given, so
    that its manifest replays the same run.
    """
    cfg = options.with_run(year=year, lang=lang)
    lang = cfg.options.lang
    say = progress or (lambda _m: None)
    if data is None:
        say("datos")
        data = load_tracking_data(cfg)
    data.level_names = _level_name(cfg, data)
    lv = _Levels(data, cfg.options.unplaced == "include", lang)
    results = []
    for ind in cfg.indicators:
        say(f"indicador {ind.id}")
        results.append(_track_indicator(ind, data, lv, cfg.options.unplaced, lang))
    years = sorted({y for r in results for y in r.years})
    objectives, plan = _aggregate_progress(cfg, results, years)
    report_year = cfg.options.year
    if report_year is None:
        report_year = _default_year(cfg, results, years)
    elif report_year not in years:
        raise ConfigError(f"year {report_year} is not tracked; years: {years}")
    return TrackingResult(cfg, data, report_year, years, lang, results, objectives, plan)


def _track_indicator(ind: Any, data: TrackingData, lv: _Levels, unplaced: str, lang: str) -> IndicatorResult:
    """One indicator: its values per place and year, their progress, and the city's breakdown."""
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
    _unplaced_notes(ind, idata, unplaced, level, lang, notes)
    units = []
    if level == CITY:
        u = _unit_series(ind, idata, level, values, num, CITY, label(TOPIC, "city", lang), lv, axis, ind.baseline, notes)
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
    by_year: dict[int, float | None] = {}
    uncapped: dict[int, float | None] = {}
    for y in axis:
        entries = [u.at(y) for u in units]
        cs = [e.progress_capped for e in entries if e is not None and e.progress_capped is not None]
        ps = [e.progress for e in entries if e is not None and e.progress is not None]
        by_year[y] = float(np.mean(cs)) if cs else None
        # a zone-level indicator's progress is the mean of its zones' capped progress; the mean of
        # unbounded ratios says little (one small zone can make it -2000 %), so it is not reported
        uncapped[y] = (ps[0] if ps else None) if level == CITY else None
    breakdown: dict[int, pd.DataFrame] = {}
    b_level = None
    if level == CITY and ind.breakdown != "none":
        b_level = ind.breakdown or _default_breakdown(data)
        breakdown = _breakdown(ind, idata, b_level, lv, units[0], axis, lang, notes)
    return IndicatorResult(
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


def replay_tracking(path: str | Path, *, out_dir: str | Path | None = None, command: str | None = None) -> Replay:
    """Re-run the tracking run a ``seguimiento_manifest.json`` describes and compare the outputs.

    Writes into ``out_dir`` (default: the manifest's folder) in the formats the run used.
    Raises :class:`~geoprio.errors.ManifestError` when the file is not a seguimiento manifest or
    an input is missing or changed since the run. ``seguimiento.csv`` and ``seguimiento.json``
    are compared byte for byte with the recorded ones.
    """
    return replay(path, kind=KIND, options_type=TargetsConfig, run=track, out_dir=out_dir, command=command)


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
    what = label(TOPIC, "table_ids" if "table_ids_not_zones" in idata.notes else "keyed", lang)
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


def _default_breakdown(data: TrackingData) -> str:
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
