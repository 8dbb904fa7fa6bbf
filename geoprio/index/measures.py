"""Indicator values per zone from records or per-zone tables.

This is the bridge between the loaded data (records tied to zones, or tables already
aggregated per zone) and the numeric index: for each indicator it filters the records
(categories, dates, hours, weekdays), counts them per zone (summing the count column,
optionally weighted by harm) and turns the count into the indicator's measure:

* ``count`` — records (or the table's value);
* ``rate`` — count per ``per`` (100,000 by default) residents, or per ambient population
  (``denominator = "ambient"``); NaN where the zone has no denominator, so the zone is
  listed as excluded rather than ranked on a division by zero; optionally smoothed by
  Empirical Bayes (``smoothing = "eb"`` or ``"eb_spatial"``, see :mod:`geoprio.index.rates`), with
  the raw rate kept beside it;
* ``density`` — count per km² (area in the metric CRS);
* ``change`` — count in the period minus count in the previous period of equal length
  (for tables: ``column`` minus ``previous_column``).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from geoprio.errors import ConfigError, InputError
from geoprio.index import rates
from geoprio.index.config import IndicatorConfig
from geoprio.labels import label
from geoprio.records.harm import HarmTable
from geoprio.records.load import Records, ZoneTable
from geoprio.records.text import fold, fold_series
from geoprio.settings import DEFAULT_LANG
from geoprio.zones.layers import Zones, as_zones

__all__ = [
    "IndicatorTable",
    "IndicatorValues",
    "SmallZoneRule",
    "filter_records",
    "harm_weights",
    "indicator_table",
    "indicator_values",
    "previous_period",
]


def previous_period(date_from: dt.date, date_to: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length that ends the day before ``date_from``."""
    days = (date_to - date_from).days + 1
    return date_from - dt.timedelta(days=days), date_from - dt.timedelta(days=1)


def filter_records(
    data: pd.DataFrame,
    *,
    categories: list[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    hours: tuple[int, int] | None = None,
    weekdays: list[int] | None = None,
) -> pd.DataFrame:
    """Select records by category (case/accent-insensitive, ``*`` wildcards), date range
    (inclusive days), hour window ``[start, end)`` (wrapping past midnight when start > end)
    and weekdays (0 = Monday). Records without the field a filter needs are left out.
    """
    mask = np.ones(len(data), dtype=bool)
    if categories:
        folded = fold_series(data["category"])
        pats = [fold(c) if "*" not in c else "*".join(fold(p) for p in c.split("*")) for c in categories]
        exact = {p for p in pats if "*" not in p}
        wild = [p for p in pats if "*" in p]
        uniq = folded.dropna().unique()
        ok = {u for u in uniq if u in exact or any(fnmatch.fnmatchcase(u, w) for w in wild)}
        mask &= folded.isin(ok).fillna(False).to_numpy(dtype=bool)
    if date_from is not None or date_to is not None:
        day = data["date"].dt.normalize()
        if date_from is not None:
            mask &= (day >= pd.Timestamp(date_from)).fillna(False).to_numpy(dtype=bool)
        if date_to is not None:
            mask &= (day <= pd.Timestamp(date_to)).fillna(False).to_numpy(dtype=bool)
    if hours is not None:
        h = data["hour"].astype("float").to_numpy()
        start, end = hours
        within = (h >= start) & (h < end) if start < end else (h >= start) | (h < end)
        mask &= within & ~np.isnan(h)
    if weekdays is not None:
        mask &= data["date"].dt.day_of_week.isin(weekdays).fillna(False).to_numpy(dtype=bool)
    return data.loc[mask]


def _counts(data: pd.DataFrame, zones: Zones, harm: pd.Series | None = None) -> pd.Series:
    w = data["weight"] if harm is None else data["weight"] * harm.loc[data.index]
    return w.groupby(data["zone_id"]).sum().reindex(zones.ids, fill_value=0.0).astype(float)


@dataclass(frozen=True)
class SmallZoneRule:
    """What to do with zones whose rate denominator is under ``min_population``.

    ``flag`` marks them in every output; ``exclude`` also leaves them out of the ranking
    (with the reason); ``smooth`` gives them the Empirical Bayes smoothed rate instead of
    the raw one (spatial EB when the indicator already uses it, global EB otherwise).
    """

    min_population: float | None = None
    action: Literal["flag", "exclude", "smooth"] = "flag"


@dataclass
class IndicatorValues:
    """One indicator's values per zone, with what the manifest and outputs need besides."""

    values: pd.Series
    notes: dict[str, object]
    raw_rate: pd.Series | None = None
    small: pd.Series | None = None
    count: pd.Series | None = None


def indicator_values(
    ind: IndicatorConfig,
    source: Records | ZoneTable,
    zones: Zones,
    *,
    harm_table: HarmTable | None = None,
    small_zones: SmallZoneRule = SmallZoneRule(),
) -> IndicatorValues:
    """Values of one indicator for every zone, with notes for the manifest.

    ``source`` must already be tied to ``zones`` (records with a ``zone_id`` column; see
    :func:`geoprio.zones.tie.attach`), or be a per-zone table. For rates, ``raw_rate`` keeps
    the unsmoothed rate and ``small`` marks zones under the rule's minimum denominator.
    """
    notes: dict[str, object] = {}
    if isinstance(source, ZoneTable):
        cols = [ind.column] + ([ind.previous_column] if ind.measure == "change" else [])
        for c in cols:
            if c not in source.values.columns:
                raise ConfigError(f"indicator {ind.name!r}: column {c!r} is not in {source.report.source}")
        values = source.values.reindex(zones.ids)
        current = values[ind.column].astype(float)
        missing = current.isna()
        if missing.any():
            notes["zones_not_in_table"] = list(current.index[missing])
        records = current
        counts = current - values[ind.previous_column].astype(float) if ind.measure == "change" else current
        unknown = source.values.index[~source.values.index.isin(zones.ids)]
        if len(unknown):
            notes["table_ids_not_zones"] = {str(k): float(source.values.loc[k, ind.column]) for k in unknown}
    else:
        if "zone_id" not in source.data.columns:
            raise InputError(f"{source.report.source}: records are not tied to zones yet (call geoprio.zones.tie.attach)")
        data = source.data
        harm = None
        if ind.harm_weighted:
            if harm_table is None:
                raise ConfigError(f"indicator {ind.name!r}: harm_weighted needs a harm table")
            harm = harm_table.lookup(data["category"])
            unknown = data.loc[harm.isna(), "category"].dropna().unique()
            if len(unknown):
                raise ConfigError(
                    f"indicator {ind.name!r}: categories {sorted(map(str, unknown))[:8]} are not in the harm table ({harm_table.source})"
                )
        selected = filter_records(
            data, categories=ind.categories, date_from=ind.date_from, date_to=ind.date_to, hours=ind.hours, weekdays=ind.weekdays
        )
        if ind.categories and selected.empty:
            raise ConfigError(
                f"indicator {ind.name!r}: no record of {source.report.source} has categories {ind.categories}; "
                f"categories present: {sorted(map(str, data['category'].dropna().unique()))[:12]}"
            )
        notes["records"] = int(len(selected))
        notes["weighted_count"] = float(selected["weight"].sum())
        counts = _counts(selected, zones, harm)
        records = counts if harm is None else _counts(selected, zones)
        if ind.measure == "change":
            assert ind.date_from and ind.date_to  # checked by the config
            p0, p1 = previous_period(ind.date_from, ind.date_to)
            prev = filter_records(data, categories=ind.categories, date_from=p0, date_to=p1, hours=ind.hours, weekdays=ind.weekdays)
            if prev.empty:
                raise ConfigError(f"indicator {ind.name!r}: no records in the previous period {p0} to {p1}, so change is undefined")
            notes["previous_period"] = [str(p0), str(p1)]
            counts = counts - _counts(prev, zones, harm)
        if ind.harm_weighted is False and harm_table is not None:
            h = harm_table.lookup(selected["category"]) if len(selected) else pd.Series(dtype=float)
            if len(h) and h.notna().all():
                notes["harm_per_record"] = float(np.average(h, weights=selected["weight"]))
    frame = zones.frame.set_index("zone_id")
    if ind.measure == "rate":
        result = _rate(ind, counts.astype(float), frame, zones, notes, small_zones)
    elif ind.measure == "density":
        result = IndicatorValues((counts / frame["area_km2"].astype(float)).rename(ind.name).astype(float), notes)
    else:
        result = IndicatorValues(counts.rename(ind.name).astype(float), notes)
    result.count = records.astype(float).rename(f"{ind.name}__count")
    return result


def _rate(
    ind: IndicatorConfig, counts: pd.Series, frame: pd.DataFrame, zones: Zones, notes: dict[str, object], rule: SmallZoneRule
) -> IndicatorValues:
    column = "population" if ind.denominator == "population" else "ambient_population"
    denom = frame[column].astype(float)
    ok = (denom > 0).to_numpy()
    notes["denominator"] = ind.denominator
    notes["zones_without_denominator"] = list(denom.index[~ok])
    raw = pd.Series(rates.raw_rate(counts.to_numpy(), denom.to_numpy()) * ind.per, index=counts.index, name=ind.name)
    small = pd.Series(
        ok & (denom < rule.min_population).to_numpy() if rule.min_population else np.zeros(len(denom), bool), index=denom.index
    )
    method = ind.smoothing if ind.smoothing != "none" else ("eb" if rule.action == "smooth" and small.any() else None)
    values = raw.copy()
    if method is not None:
        e, b = counts.to_numpy()[ok], denom.to_numpy()[ok]
        if (e < 0).any():
            raise ConfigError(f"indicator {ind.name!r}: Empirical Bayes smoothing needs non-negative counts")
        smoothed = np.full(len(raw), np.nan)
        if method == "eb":
            smoothed[ok] = rates.eb_global(e, b) * ind.per
        else:
            A = zones.adjacency[ok][:, ok]
            smoothed[ok] = rates.eb_spatial(e, b, A) * ind.per
        notes["smoothing"] = method
        if ind.smoothing != "none":
            values[:] = smoothed
        else:  # only the small zones take the smoothed value
            values[small.to_numpy()] = smoothed[small.to_numpy()]
    if small.any():
        notes["small_zones"] = {str(z): float(denom[z]) for z in small.index[small.to_numpy()]}
    return IndicatorValues(values.astype(float), notes, raw_rate=raw, small=small)


@dataclass
class IndicatorTable:
    """Zones × indicators values, and what goes beside them in outputs and the manifest.

    ``extras`` holds ``<indicator>__count`` (the records behind each value: the numerator
    of a rate, this period's records for a change) and ``<indicator>__rate_raw`` for rate
    indicators whose value is smoothed (the raw rate kept beside it); ``small`` marks zones under the minimum denominator of
    any rate indicator; ``exclude`` maps zones left out of the ranking to the reason.
    """

    values: pd.DataFrame
    notes: dict[str, dict[str, object]]
    extras: pd.DataFrame
    small: pd.Series
    exclude: dict[str, str]


def indicator_table(
    indicators: list[IndicatorConfig],
    sources: dict[str, Records | ZoneTable],
    zones: Zones,
    *,
    harm_table: HarmTable | None = None,
    small_zones: SmallZoneRule = SmallZoneRule(),
    lang: str = DEFAULT_LANG,
) -> IndicatorTable:
    """Compute every indicator for every zone (``sources`` maps each indicator's source name to its records)."""
    zones = as_zones(zones)
    missing = sorted({ind.source for ind in indicators} - set(sources))
    if missing:
        raise InputError(f"indicator_table: no records for source(s) {missing}; sources given: {sorted(sources)}")
    cols, notes, extras = {}, {}, {}
    small = pd.Series(False, index=zones.ids, name="small_denominator")
    for ind in indicators:
        iv = indicator_values(ind, sources[ind.source], zones, harm_table=harm_table, small_zones=small_zones)
        cols[ind.name], notes[ind.name] = iv.values, iv.notes
        if iv.count is not None:
            extras[f"{ind.name}__count"] = iv.count
        if iv.raw_rate is not None and "smoothing" in iv.notes:
            extras[f"{ind.name}__rate_raw"] = iv.raw_rate
        if iv.small is not None:
            small |= iv.small
    exclude: dict[str, str] = {}
    if small_zones.action == "exclude" and small.any():
        pop = zones.frame.set_index("zone_id")["population"]
        why = label("index", "small_denominator", lang)
        for z in small.index[small.to_numpy()]:
            exclude[str(z)] = why.format(minimum=f"{small_zones.min_population:g}", population=f"{pop[z]:g}")
    return IndicatorTable(pd.DataFrame(cols, index=zones.ids), notes, pd.DataFrame(extras, index=zones.ids), small, exclude)


def harm_weights(
    indicators: list[IndicatorConfig],
    notes: dict[str, dict[str, object]],
    harm_table: HarmTable,
) -> dict[str, float]:
    """Indicator weights from harm: the explicit ``harm``, else the ``harm_category``'s
    weight, else the mean harm per record of the indicator's selection.
    """
    out = {}
    for ind in indicators:
        if ind.harm is not None:
            out[ind.name] = float(ind.harm)
        elif ind.harm_category is not None:
            out[ind.name] = harm_table.weight(ind.harm_category)
        elif "harm_per_record" in notes.get(ind.name, {}):
            out[ind.name] = float(notes[ind.name]["harm_per_record"])  # type: ignore[arg-type]
        else:
            raise ConfigError(
                f"indicator {ind.name!r}: weighting = 'harm' needs its harm: give harm = <months> or "
                f"harm_category = '<category in the harm table>' (its records' categories are not all in the table)"
            )
    return out
