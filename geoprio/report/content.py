"""What the bulletin says, as numbers: the ranking with its changes, the method, and each zone's sheet.

Nothing here is computed afresh: the index run already ranked the zones, and the bulletin only
lines its outputs up. :func:`rank_changes` sets the current ranking beside the previous
period's (``rank_change = rank_previous − rank``: positive when a zone climbed towards first
place; ``tier_change`` in tier steps, positive when it went up a tier). :func:`method_facts`
reads the index manifest (indicators, weights, normalization, denominators, robustness, sources,
period). :func:`zone_sheets` gathers, per zone, its indicators (value, count, contribution and
share of the index, previous value and change), its hot-spot clusters and places inside (by
geometry: a cluster or place whose interior meets the zone's polygon), and its peak hours (the
clusters' hourly profiles weighted by their incidents). Formatting is :mod:`geoprio.report.render`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.errors import InputError
from geoprio.index import TIER_CODES
from geoprio.labels import LANGS, label

__all__ = [
    "IndicatorInfo",
    "ZoneSheet",
    "indicator_info",
    "method_facts",
    "period_of",
    "rank_changes",
    "tier_level",
    "zone_sheets",
]

#: The hourly profile columns of a cluster table (``hour_00`` … ``hour_23``).
HOUR_COLUMNS = tuple(f"hour_{h:02d}" for h in range(24))
#: How many peak hours a sheet names.
PEAK_HOURS = 3


@dataclass(frozen=True)
class IndicatorInfo:
    """One indicator as the index manifest describes it."""

    name: str
    label: str
    measure: str
    per: float
    denominator: str
    smoothing: str
    direction: str
    source: str
    weight: float | None
    detail: str


@dataclass(frozen=True)
class ZoneSheet:
    """A zone's *ficha*: its ranking row, its indicators, the hot spots and places inside."""

    zone_id: str
    row: dict[str, Any]
    indicators: pd.DataFrame
    hotspots: pd.DataFrame = field(default_factory=pd.DataFrame)
    places: pd.DataFrame = field(default_factory=pd.DataFrame)
    peak_hours: tuple[tuple[int, float], ...] = ()


def _options(manifest: Mapping[str, Any]) -> dict[str, Any]:
    stored = manifest.get("options") or manifest.get("config") or {}
    return dict(stored) if isinstance(stored, Mapping) else {}


def indicator_info(manifest: Mapping[str, Any], table: pd.DataFrame) -> list[IndicatorInfo]:
    """The indicators of an index run, in the config's order (those with a column in ``table``)."""
    params = (manifest.get("parameters") or {}) if isinstance(manifest.get("parameters"), Mapping) else {}
    weights = params.get("weights_used") or {}
    out = []
    for ind in _options(manifest).get("indicators") or []:
        if not isinstance(ind, Mapping) or str(ind.get("name")) not in table:
            continue
        name = str(ind["name"])
        cats = ind.get("categories")
        detail = ", ".join(str(c) for c in cats) if isinstance(cats, list) and cats else str(ind.get("column") or "")
        dates = [str(d) for d in (ind.get("date_from"), ind.get("date_to")) if d]
        if dates:
            span = " – ".join(dates)
            detail = f"{detail}; {span}" if detail else span
        w = weights.get(name)
        out.append(
            IndicatorInfo(
                name=name,
                label=str(ind.get("label") or name),
                measure=str(ind.get("measure") or "count"),
                per=float(ind.get("per") or 100_000),
                denominator=str(ind.get("denominator") or "population"),
                smoothing=str(ind.get("smoothing") or "none"),
                direction=str(ind.get("direction") or "higher_is_worse"),
                source=str(ind.get("source") or ""),
                weight=float(w) if isinstance(w, (int, float)) else None,
                detail=detail,
            )
        )
    if not out:
        raise InputError("index manifest: no indicator of its configuration has a column in the ranked table")
    return out


_YEAR_COLUMN = re.compile(r"(?<!\d)(\d{2})CONT$|(?<!\d)(20\d{2})(?!\d)")


def period_of(manifest: Mapping[str, Any]) -> str | None:
    """The period an index run covers: its indicators' dates when every one is dated
    (``2024-01-01 – 2024-12-31``), else the year in their table columns (``CMH19CONT`` →
    ``2019``), else None (the cover then names none; give ``period``).
    """
    inds = [i for i in _options(manifest).get("indicators") or [] if isinstance(i, Mapping)]
    starts = sorted(str(i["date_from"]) for i in inds if i.get("date_from"))
    ends = sorted(str(i["date_to"]) for i in inds if i.get("date_to"))
    if inds and len(starts) == len(ends) == len(inds):  # every indicator is dated: their span
        return f"{starts[0]} – {ends[-1]}"
    years = set()
    for i in inds:
        m = _YEAR_COLUMN.search(str(i.get("column") or ""))
        if m:
            years.add(f"20{m.group(1)}" if m.group(1) else m.group(2))
    return " – ".join(sorted(years)) if len(years) in (1, 2) else None


def method_facts(manifest: Mapping[str, Any], table: pd.DataFrame, notes: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of the method section, from the index manifest, its table and notes."""
    opts = _options(manifest)
    index = opts.get("index") or {}
    rb = opts.get("robustness") or {}
    zones = opts.get("zones") or {}
    ranked = pd.to_numeric(table["rank"], errors="coerce").notna()
    sources = opts.get("sources") or {}
    inputs = [
        {"name": str(e.get("path", "")).rsplit("/", 1)[-1], "sha256": str(e.get("sha256", ""))[:12]}
        for e in manifest.get("inputs") or []
        if isinstance(e, Mapping)
    ]
    small = notes.get("small_denominator") if isinstance(notes.get("small_denominator"), Mapping) else None
    return {
        "level": str(table["level"].iloc[0]) if "level" in table and len(table) else str(zones.get("level") or ""),
        "zones": len(table),
        "ranked": int(ranked.sum()),
        "normalization": str(index.get("normalization") or "minmax"),
        "aggregation": str(index.get("aggregation") or "arithmetic"),
        "weighting": str(index.get("weighting") or "explicit"),
        "tiers": str(index.get("tiers") or "quantiles"),
        "n_tiers": int(index.get("n_tiers") or 3),
        "min_population": index.get("min_population"),
        "small_zones": str(index.get("small_zones") or "flag"),
        "pillars": index.get("pillars"),
        "draws": int(rb.get("draws") or 0),
        "weight_spread": rb.get("weight_spread"),
        "normalizations": list(rb.get("normalizations") or []),
        "denominators": list(rb.get("denominators") or []),
        "top_k": rb.get("top_k"),
        "random_state": rb.get("random_state"),
        "sources": sorted(sources),
        "inputs": inputs,
        "small_message": str(small.get("message") or "") if small else "",
        "created_at": str(manifest.get("created_at") or ""),
        "version": str(manifest.get("geoprio_version") or ""),
    }


def tier_level(tier: Any, n_tiers: int) -> float:
    """The level of a tier word (0 = lowest) among ``n_tiers`` tiers, in either language; NaN if unknown."""
    if not isinstance(tier, str) or n_tiers not in TIER_CODES:
        return np.nan
    for lang in LANGS:
        for level, code in enumerate(TIER_CODES[n_tiers]):
            if tier.strip().lower() in (code, label("index_tiers", code, lang).lower()):
                return float(level)
    return np.nan


def _n_tiers(manifest: Mapping[str, Any] | None) -> int:
    return int((_options(manifest or {}).get("index") or {}).get("n_tiers") or 3)


def rank_changes(
    current: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    *,
    manifest: Mapping[str, Any] | None = None,
    previous_manifest: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The ranked table (no geometry) sorted by rank, with the previous period beside it.

    Adds ``rank_previous``, ``rank_change`` (``rank_previous − rank``: positive when the zone
    climbed towards first place), ``tier_previous``, ``tier_change`` (tier steps, positive when
    it went up) and ``index_previous`` when ``previous`` (the previous run's table) is given;
    zones new or unranked in either period get NaN.
    """
    t = pd.DataFrame(current.drop(columns=current.geometry.name) if isinstance(current, gpd.GeoDataFrame) else current).copy()
    t["zone_id"] = t["zone_id"].astype(str)
    t["rank"] = pd.to_numeric(t["rank"], errors="coerce")
    if previous is not None:
        p = pd.DataFrame(previous).copy()
        p["zone_id"] = p["zone_id"].astype(str)
        p = p.drop_duplicates("zone_id").set_index("zone_id")
        t["rank_previous"] = pd.to_numeric(t["zone_id"].map(p["rank"]), errors="coerce")
        t["index_previous"] = pd.to_numeric(t["zone_id"].map(p["index"]), errors="coerce")
        t["tier_previous"] = t["zone_id"].map(p["tier"]) if "tier" in p else None
        t["rank_change"] = t["rank_previous"] - t["rank"]
        if "tier" in t and "tier" in p:
            now = t["tier"].map(lambda x: tier_level(x, _n_tiers(manifest)))
            before = t["tier_previous"].map(lambda x: tier_level(x, _n_tiers(previous_manifest or manifest)))
            t["tier_change"] = now - before
    return t.sort_values(["rank", "zone_id"], na_position="last", kind="stable").reset_index(drop=True)


def _inside(things: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs (position in ``things``, zone_id) where a thing's interior meets a zone (points: inside it)."""
    if things.crs is not None and zones.crs is not None and things.crs != zones.crs:
        things = things.to_crs(zones.crs)
    z = zones[["zone_id", zones.geometry.name]].reset_index(drop=True)
    t = things[[things.geometry.name]].reset_index(drop=True)
    joined = gpd.sjoin(t, z, how="inner", predicate="intersects")
    if joined.empty:
        return pd.DataFrame({"pos": pd.Series(dtype=int), "zone_id": pd.Series(dtype=str)})
    geoms = t.geometry.values[joined.index.to_numpy()]
    zgeoms = z.geometry.values[joined["index_right"].to_numpy()]
    keep = ~np.asarray(geoms.touches(zgeoms), dtype=bool)
    return pd.DataFrame({"pos": joined.index.to_numpy()[keep], "zone_id": joined["zone_id"].to_numpy()[keep].astype(str)})


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame | None:
    """``frame`` as a GeoDataFrame: its own geometry, else its ``lon``/``lat`` points (EPSG:4326)."""
    if isinstance(frame, gpd.GeoDataFrame):
        return frame
    if {"lon", "lat"} <= set(frame.columns):
        return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    return None


def _by_zone(things: pd.DataFrame | None, zones: pd.DataFrame, sort: str) -> dict[str, pd.DataFrame]:
    if things is None or things.empty or not isinstance(zones, gpd.GeoDataFrame):
        return {}
    geo = _points(things)
    if geo is None:
        return {}
    pairs = _inside(geo, zones)
    plain = pd.DataFrame(things.drop(columns=geo.geometry.name, errors="ignore")).reset_index(drop=True)
    out = {}
    for zid, group in pairs.groupby("zone_id"):
        rows = plain.iloc[group["pos"].to_numpy()]
        if sort in rows:
            rows = rows.sort_values(sort, kind="stable")
        out[str(zid)] = rows.reset_index(drop=True)
    return out


def _peak_hours(clusters: pd.DataFrame) -> tuple[tuple[int, float], ...]:
    cols = [c for c in HOUR_COLUMNS if c in clusters]
    if len(cols) != 24 or clusters.empty:
        return ()
    shares = clusters[cols].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy()
    weight = pd.to_numeric(clusters.get("incidents", pd.Series(1.0, index=clusters.index)), errors="coerce").fillna(0.0).to_numpy()
    profile = (shares * weight[:, None]).sum(axis=0)
    total = profile.sum()
    if total <= 0:
        return ()
    order = np.argsort(-profile, kind="stable")[:PEAK_HOURS]
    return tuple((int(h), float(profile[h] / total)) for h in order if profile[h] > 0)


def zone_sheets(
    ranking: pd.DataFrame,
    zones: pd.DataFrame,
    indicators: Sequence[IndicatorInfo],
    *,
    previous: pd.DataFrame | None = None,
    hotspots: pd.DataFrame | None = None,
    places: pd.DataFrame | None = None,
    limit: int | None = None,
) -> list[ZoneSheet]:
    """One sheet per zone of ``ranking`` (in its order; the first ``limit`` when given).

    ``zones`` is the index table with its geometry (to find the ``hotspots`` clusters and
    ``places`` inside each zone); ``previous`` the previous period's table (each indicator's
    previous value and change).
    """
    prev = None
    if previous is not None:
        prev = pd.DataFrame(previous).copy()
        prev["zone_id"] = prev["zone_id"].astype(str)
        prev = prev.drop_duplicates("zone_id").set_index("zone_id")
    clusters = _by_zone(hotspots, zones, "complexity_rank")
    inside = _by_zone(places, zones, "rank")
    rows = ranking if limit is None else ranking.head(limit)
    sheets = []
    for _, r in rows.iterrows():
        zid = str(r["zone_id"])
        total = float(r["index"]) if pd.notna(r.get("index")) else np.nan
        lines = []
        for ind in indicators:
            contrib = r.get(f"{ind.name}__contrib")
            before = prev.at[zid, ind.name] if prev is not None and zid in prev.index and ind.name in prev else np.nan
            value = r.get(ind.name)
            ok = pd.notna(value) and pd.notna(before)
            lines.append(
                {
                    "name": ind.name,
                    "label": ind.label,
                    "measure": ind.measure,
                    "per": ind.per,
                    "value": value,
                    "count": r.get(f"{ind.name}__count"),
                    "contribution": contrib,
                    "share": float(contrib) / total if pd.notna(contrib) and np.isfinite(total) and total != 0 else np.nan,
                    "previous": before,
                    "change": float(value) - float(before) if ok else np.nan,
                }
            )
        hs = clusters.get(zid, pd.DataFrame())
        sheets.append(
            ZoneSheet(
                zone_id=zid,
                row=r.to_dict(),
                indicators=pd.DataFrame(lines),
                hotspots=hs,
                places=inside.get(zid, pd.DataFrame()),
                peak_hours=_peak_hours(hs),
            )
        )
    return sheets
