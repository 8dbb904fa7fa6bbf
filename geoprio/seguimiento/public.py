"""The public release of a tracking run: what ``seguimiento.json``, ``seguimiento.csv`` and the
per-zone layer may show to someone without access to the records.

:func:`public_tracking` turns the full outputs (the document :meth:`TrackingResult.to_dict
<geoprio.seguimiento.result.TrackingResult.to_dict>` returns, its table and its zone layer)
into their public version for a :class:`~geoprio.disclosure.DisclosurePolicy`; the API serves
it to callers without the ``read:records`` scope and ``geoprio indicators --public`` writes it.
``None`` in place of a policy returns the outputs as they are.

The cells are counts: an indicator's numerator in one place (the city, or a zone of a level)
and one year. A count of 1 to ``min_count - 1`` is hidden (primary). Where a margin is
published the attacker knows a linear relation between cells: a city indicator's count is the
sum of its breakdown zones' counts (and of the unplaced row) in each year, a level's zones add
up to the city, and a parent zone's children to the parent (``parents``; without the
hierarchy, the base level's counts are withheld whole when two zone levels are published).
Further cells are hidden (secondary, chosen by :func:`geoprio.disclosure.complementary.protect`)
so that no hidden count can be bounded within the policy's protection interval. The same count
met in two indicators (a zone-level indicator and a city indicator's breakdown on the same
records) is one cell: cells are identified by level, place, year and value, so two copies of a
count are hidden together (two different counts that happen to be equal are then hidden
together too, which is only more cautious).

Month splits are published for the city only, and a year's split is withheld whole (zeros
included, so each month lies anywhere between 0 and the year's count) when one of its months
has 1 to ``min_count - 1`` records or the year itself is hidden; a zone's months are internal.

Everything derived from a hidden count is hidden with it: the value, its rate or share, the
annualized value, the progress, cumulative sums that include it (the *suma* trend), the
baseline measured in a hidden year, every target derived from a hidden baseline
(``relative_targets``, and the breakdown's proportional targets), the progress computed
against a hidden baseline, a breakdown row's parts, changes and shortfalls, and the notes that
quote a count or a value (those are left out of every public indicator). Aggregates (a zone-level indicator's mean progress, the
objectives' and the plan's weighted progress) are recomputed from the published values only
where one of their members is hidden, so they reveal nothing about it.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.disclosure.complementary import Relation, attack_intervals, protect
from geoprio.errors import InputError
from geoprio.index.run import build_zones
from geoprio.io import files as io
from geoprio.io import manifest
from geoprio.io.export import Export
from geoprio.io.results import Written
from geoprio.labels import check_lang
from geoprio.seguimiento.arithmetic import weighted_progress
from geoprio.seguimiento.config import UNPLACED, TargetsConfig
from geoprio.seguimiento.report_html import render_report
from geoprio.seguimiento.result import (
    KIND,
    MANIFEST_NAME,
    OUTPUT_NAMES,
    ZONE_FORMATS,
    ZONES_STEM,
    TrackingResult,
    zone_layer,
)
from geoprio.settings import EXPORT_FORMATS

__all__ = ["PublicTracking", "public_tracking", "tracking_parents", "write_public_tracking"]

#: Notes whose text quotes a count or a value (an unplaced count, a computed baseline, a target
#: against the baseline): left out of every public indicator.
VALUE_NOTES = frozenset({"unplaced", "unplaced_excluded", "baseline_differs", "target_wrong_side", "target_equals_baseline"})

#: Fields of a yearly entry that are the year's value.
_VALUE_FIELDS = ("actual", "actual_annualized", "count")
#: Fields of a yearly entry computed against the targets.
_TARGET_FIELDS = ("target", "target_to_date", "cumulative_target", "plan_total_target")
#: Fields of a yearly entry that are progress.
_PROGRESS_FIELDS = ("progress", "progress_capped")
#: Fields of a *suma* entry that add up the years so far.
_CUMULATIVE_FIELDS = ("cumulative_actual", "progress_plan_total")
#: Fields of a month.
_MONTH_FIELDS = ("count", "value", "year_to_date")

#: What each field of a breakdown row rests on: the zone's count in the year (``own``; with
#: ``own_cum`` every year so far, for the *suma* trend, whose parts add up the years), in the
#: baseline year (``own_base``), the city's (``city``, ``city_base``) and the city's target.
#: A zone's proportional target is ``zone baseline × T / B``; its progress compares its value
#: with that; its expected change is its baseline share of ``T − B``; Σ shortfall is ``A − T``.
_ROW_DEPENDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("count", "value", "value_annualized"), frozenset({"own"})),
    "part": frozenset({"own", "own_cum"}),
    "gap_to_city_target": frozenset({"own", "target"}),
    **dict.fromkeys(("count_base", "value_base", "part_base"), frozenset({"own_base"})),
    "value_change": frozenset({"own", "own_base"}),
    "change": frozenset({"own", "own_cum", "own_base"}),
    "share_of_change": frozenset({"own", "own_cum", "own_base", "city", "city_base"}),
    **dict.fromkeys(("proportional_target", "expected"), frozenset({"own_base", "city_base", "target"})),
    **dict.fromkeys(("shortfall", "progress", "progress_capped"), frozenset({"own", "own_cum", "own_base", "city_base", "target"})),
    "share_of_shortfall": frozenset({"own", "own_cum", "own_base", "city", "city_base", "target"}),
}

#: The per-zone layer's properties and the field of the public document each one shows.
_LAYER_BREAKDOWN = {
    "actual": "value_annualized",
    "baseline": "value_base",
    "target": "proportional_target",
    "progress": "progress",
    "progress_capped": "progress_capped",
    "value_change": "value_change",
    "change": "change",
    "share_of_change": "share_of_change",
    "shortfall": "shortfall",
    "share_of_shortfall": "share_of_shortfall",
    "gap_to_city_target": "gap_to_city_target",
    "count": "count",
}
_LAYER_ZONE = {"actual": "actual", "target": "target", "progress": "progress", "progress_capped": "progress_capped", "count": "count"}

#: ``seguimiento.csv`` columns and the field of the public yearly entry each one shows.
_TABLE_FIELDS = (
    "count",
    "actual",
    "actual_annualized",
    "target",
    "progress",
    "progress_capped",
    "cumulative_actual",
    "cumulative_target",
    "progress_plan_total",
)


@dataclass(frozen=True)
class PublicTracking:
    """The public version of a tracking run's outputs (see :func:`public_tracking`).

    ``document``, ``table`` and ``layer`` are the inputs with what the policy hides set to
    None (the table and the layer get a ``suppressed`` column / property; the inputs are not
    changed). ``primary`` and ``secondary`` count the hidden cells (counts of one place and
    period); ``safe`` is False when the complementary suppression could not protect every
    hidden count, in which case every cell of an exposed relation was hidden as well.
    """

    document: dict[str, Any]
    table: pd.DataFrame | None
    layer: Any
    primary: int = 0
    secondary: int = 0
    safe: bool = True


class _Cells:
    """The counts of a tracking document as cells, and the relations between them."""

    def __init__(self) -> None:
        self.index: dict[tuple[str, str, str, float], int] = {}
        self.values: list[float] = []
        self.relations: dict[tuple[tuple[int, ...], tuple[float, ...]], Relation] = {}

    @staticmethod
    def key(level: str, zone: str, period: Any, count: Any) -> tuple[str, str, str, float] | None:
        c = _num(count)
        return None if c is None else (str(level), str(zone), str(period), round(c, 6))

    def add(self, level: str, zone: str, period: Any, count: Any) -> int | None:
        k = self.key(level, zone, period, count)
        if k is None:
            return None
        if k not in self.index:
            self.index[k] = len(self.values)
            self.values.append(k[3])
        return self.index[k]

    def relate(self, total: int | None, parts: list[int | None]) -> None:
        """``total = Σ parts`` when every cell is known and the counts add up."""
        if total is None or any(p is None for p in parts) or not parts:
            return
        members = [p for p in parts if p is not None]
        if not math.isclose(self.values[total], sum(self.values[p] for p in members), abs_tol=1e-6):
            return
        if all(self.values[p] == 0 for p in members) and self.values[total] == 0:
            return  # zeros are published: nothing to protect
        coefs: dict[int, float] = {total: 1.0}
        for p in members:
            coefs[p] = coefs.get(p, 0.0) - 1.0
        cells = tuple(sorted(i for i, a in coefs.items() if a != 0))
        a = tuple(coefs[i] for i in cells)
        if cells:
            self.relations.setdefault((cells, a), Relation(cells=cells, coefs=a, rhs=0.0))


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def _units(ind: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(place id, unit) of an indicator: the city (the indicator itself) or each zone."""
    if ind["level"] == "city":
        return [("city", {"series": ind.get("series", []), "months": ind.get("months", [])})]
    return [(str(z["zone_id"]), z) for z in ind.get("zones", [])]


def _register(doc: Mapping[str, Any], parents: Mapping[str, str]) -> _Cells:
    """Every count of the document as a cell, and the sums the attacker can form between them:
    each breakdown (city = Σ zones + unplaced), and across indicators every set of zones of a
    level whose counts add up to a city count, or (with ``parents``, base zone → parent zone)
    to a parent zone's count in the same year.
    """
    cells = _Cells()
    zone_sets: list[tuple[str, str, dict[str, int | None]]] = []  # (level, year, zone → cell)
    for ind in doc["indicators"]:
        level = str(ind["level"])
        by_year: dict[str, dict[str, int | None]] = {}
        for zone, unit in _units(ind):
            for e in unit.get("series", []):
                by_year.setdefault(str(e["year"]), {})[zone] = cells.add(level, zone, e["year"], e.get("count"))
        if level != "city":
            zone_sets += [(level, y, z) for y, z in by_year.items()]
        b = ind.get("breakdown")
        if not b:
            continue
        city = {y: z.get("city") for y, z in by_year.items()}
        by = str(b["baseline_year"])
        for y, rows in b["by_year"].items():
            now = {str(r["zone_id"]): cells.add(b["level"], r["zone_id"], y, r.get("count")) for r in rows}
            base = {str(r["zone_id"]): cells.add(b["level"], r["zone_id"], by, r.get("count_base")) for r in rows}
            cells.relate(city.get(y), list(now.values()))
            cells.relate(city.get(by), list(base.values()))
            zone_sets += [(b["level"], y, now), (b["level"], by, base)]
    _cross_relations(cells, zone_sets, parents, [str(v) for v in doc.get("levels", [])])
    return cells


def _cross_relations(
    cells: _Cells, zone_sets: list[tuple[str, str, dict[str, int | None]]], parents: Mapping[str, str], levels: list[str]
) -> None:
    """City = Σ a level's zones, parent = Σ its children, wherever the counts add up
    (``levels``: the document's, ``["city", base, parent]``).
    """
    at: dict[tuple[str, str, str], list[int]] = {}  # (level, zone, year) → cells
    for (level, zone, period, _value), i in cells.index.items():
        at.setdefault((level, zone, period), []).append(i)
    base, parent = (levels[1], levels[2]) if len(levels) > 2 else (None, None)
    for level, year, zones in zone_sets:
        placed = {z: c for z, c in zones.items() if z != UNPLACED}
        if any(c is None for c in placed.values()):
            continue
        for total in at.get(("city", "city", year), []):
            cells.relate(total, list(placed.values()))
        if level != base or parent is None:
            continue
        children: dict[str, list[int | None]] = {}
        for z, c in placed.items():
            if z in parents:
                children.setdefault(str(parents[z]), []).append(c)
        for p, members in children.items():
            for total in at.get((parent, p, year), []):
                cells.relate(total, members)


Hidden = Callable[[str, str, Any, Any], bool]


def _choose(
    values: np.ndarray, primary: np.ndarray, relations: list[Relation], policy: DisclosurePolicy, time_limit_s: float
) -> tuple[np.ndarray, bool]:
    """The hidden cells (primary and secondary) and whether every primary is protected.

    When :func:`protect` cannot protect a primary, every positive cell of the relations that
    hold an exposed primary is hidden too, until the attacker's bounds protect each primary
    or nothing more can be hidden.
    """
    if not primary.any() or not relations:
        return primary.copy(), True
    prot = protect(values, primary, relations, policy, time_limit_s=time_limit_s)
    hidden = prot.hidden.copy()
    if prot.safe:
        return hidden, True
    level = float(policy.protection_level)
    for _ in range(len(relations) + 1):
        lo, hi = attack_intervals(values, hidden, relations)
        floor = np.maximum(values - level, 1.0)
        exposed = primary & ((hi < values + level - 1e-6) | (lo > floor + 1e-6))
        if not exposed.any():
            return hidden, True
        more = hidden.copy()
        for r in relations:
            cells = list(r.cells)
            if exposed[cells].any():
                more[[c for c in cells if values[c] > 0]] = True
        if (more == hidden).all():
            return hidden, False
        hidden = more
    return hidden, False


def public_tracking(
    doc: Mapping[str, Any],
    policy: DisclosurePolicy | None,
    *,
    table: pd.DataFrame | None = None,
    layer: Any = None,
    parents: Mapping[str, str] | None = None,
    time_limit_s: float = 10.0,
) -> PublicTracking:
    """The public version of a tracking run's outputs under ``policy``.

    Parameters
    ----------
    doc
        The ``seguimiento.json`` document (:meth:`TrackingResult.to_dict
        <geoprio.seguimiento.result.TrackingResult.to_dict>`).
    policy
        The disclosure policy; None (full access) returns the outputs unchanged.
    table
        ``seguimiento.csv`` as a DataFrame (numbers, or the text the file holds), optional.
    layer
        The per-zone layer, optional: a (Geo)DataFrame (:func:`~geoprio.seguimiento.zone_layer`)
        or a GeoJSON FeatureCollection dict (``seguimiento_zonas.geojson`` read back).
    parents
        Base zone id → parent zone id (the attacker knows the geography, so a parent zone's
        count is the sum of its children's where indicators of both levels are published);
        default: the document's ``parents`` entry (see :func:`tracking_parents`). Without
        either, when counts of two zone levels are published, every count of the base level
        is withheld.
    time_limit_s
        Time limit of each integer program of the complementary suppression.

    The document gets a ``disclosure`` entry (:func:`~geoprio.disclosure.disclosure_record`
    with the numbers of hidden cells); hidden entries and rows get ``suppressed: true``.
    """
    if policy is None:
        return PublicTracking(dict(doc), table, layer)
    if parents is None:
        parents = doc.get("parents")
    cells = _register(doc, parents or {})
    values = np.asarray(cells.values, dtype=float)
    primary = policy.hidden(values)
    relations = list(cells.relations.values())
    hidden_mask, safe = _choose(values, primary, relations, policy, time_limit_s)
    levels = list(doc.get("levels", []))
    if parents is None and primary.any() and len({k[0] for k in cells.index} - {"city"}) > 1 and len(levels) > 1:
        # two zone levels and no hierarchy to protect parent = Σ children with: the base level's
        # counts are withheld whole
        for k, i in cells.index.items():
            if k[0] == levels[1] and k[3] > 0:
                hidden_mask[i] = True

    def hidden(level: str, zone: str, period: Any, count: Any) -> bool:
        k = cells.key(level, zone, period, count)
        if k is None or k not in cells.index:
            return False
        return bool(hidden_mask[cells.index[k]])

    pub = _public_document(doc, hidden, policy)
    n_primary, n_all = int(primary.sum()), int(hidden_mask.sum())
    pub["disclosure"] = {**(disclosure_record(policy) or {}), "hidden": n_all, "secondary": n_all - n_primary, "safe": safe}
    return PublicTracking(
        document=pub,
        table=None if table is None else _public_table(table, pub),
        layer=None if layer is None else _public_layer(layer, pub),
        primary=n_primary,
        secondary=n_all - n_primary,
        safe=safe,
    )


# --------------------------------------------------------------------------- the document


def _blank(entry: dict[str, Any], keys: tuple[str, ...] | frozenset[str] | list[str]) -> bool:
    """Set ``keys`` of ``entry`` to None; True when one of them held a value."""
    changed = False
    for k in keys:
        if entry.get(k) is not None:
            changed = True
        if k in entry:
            entry[k] = None
    return changed


def _public_unit(
    ind: Mapping[str, Any], level: str, zone: str, unit: dict[str, Any], hidden: Hidden, policy: DisclosurePolicy
) -> tuple[set[int], bool, bool]:
    """Hide a unit's values in place; return (hidden years, baseline hidden, targets hidden)."""
    series = unit.get("series", [])
    years = {int(e["year"]) for e in series if hidden(level, zone, e["year"], e.get("count"))}
    by = ind.get("baseline_year")
    base_hidden = by is not None and int(by) in years
    targets_hidden = base_hidden and bool(ind.get("relative_targets"))
    against_base = base_hidden and (ind["trend"] in ("creciente", "decreciente") or targets_hidden)
    suma = ind["trend"] == "suma"
    for e in series:
        y = int(e["year"])
        gone = _blank(e, _VALUE_FIELDS) if y in years else False
        cum = suma and any(h <= y for h in years)
        if y in years or against_base or cum:
            gone |= _blank(e, _PROGRESS_FIELDS)
        if cum:
            gone |= _blank(e, _CUMULATIVE_FIELDS)
        if targets_hidden:
            gone |= _blank(e, _TARGET_FIELDS)
        if gone or y in years:
            e["suppressed"] = True
            e["notes"] = []
    months = unit.get("months") or []
    if level != "city":  # zone month splits stay internal (see the module docstring)
        unit["months"] = []
    else:
        withheld = {str(m["month"])[:4] for m in months if policy.hides(m.get("count"))} | {str(y) for y in years}
        for m in months:
            if str(m["month"])[:4] in withheld:
                _blank(m, _MONTH_FIELDS)
                m["suppressed"] = True
    return years, base_hidden, targets_hidden


def _public_breakdown(
    ind: dict[str, Any], b: dict[str, Any], city_years: set[int], base_hidden: bool, targets_hidden: bool, hidden: Hidden
) -> None:
    by = b["baseline_year"]
    suma = ind["trend"] == "suma"
    gone_zone: dict[str, set[int]] = {}  # zone → years of its own hidden counts
    for y, rows in b["by_year"].items():
        for r in rows:
            if hidden(b["level"], r["zone_id"], y, r.get("count")):
                gone_zone.setdefault(r["zone_id"], set()).add(int(y))
            if hidden(b["level"], r["zone_id"], by, r.get("count_base")):
                gone_zone.setdefault(r["zone_id"], set()).add(int(by))
    for y, rows in b["by_year"].items():
        yi = int(y)
        for r in rows:
            own = gone_zone.get(r["zone_id"], set())
            lost = set()
            if yi in own:
                lost.add("own")
            if by is not None and int(by) in own:
                lost.add("own_base")
            if suma and any(h <= yi for h in own):
                lost.add("own_cum")
            if (yi in city_years) or (suma and any(h <= yi for h in city_years)):
                lost.add("city")
            if base_hidden:
                lost.add("city_base")
            if targets_hidden:
                lost.add("target")
            keys = [k for k, deps in _ROW_DEPENDS.items() if deps & lost]
            if _blank(r, keys) or "own" in lost or "own_base" in lost:
                r["suppressed"] = True


def _public_indicator(ind: dict[str, Any], hidden: Hidden, policy: DisclosurePolicy) -> None:
    """Hide an indicator's values in place."""
    level = str(ind["level"])
    if level == "city":
        unit = {"series": ind.get("series", []), "months": ind.get("months", [])}
        years, base_hidden, targets_hidden = _public_unit(ind, level, "city", unit, hidden, policy)
        if base_hidden:
            ind["baseline"] = None
            ind["baseline_suppressed"] = True
        if targets_hidden and ind.get("targets"):
            ind["targets"] = dict.fromkeys(ind["targets"])
        if ind.get("breakdown"):
            _public_breakdown(ind, ind["breakdown"], years, base_hidden, targets_hidden, hidden)
        by_year = {int(e["year"]): e for e in ind.get("series", [])}
        for key, field in (("progress_by_year", "progress_capped"), ("progress_uncapped_by_year", "progress")):
            for y in ind.get(key, {}):
                e = by_year.get(int(y))
                if e is not None and e.get("suppressed"):
                    ind[key][y] = e.get(field)
    else:
        hidden_years: set[int] = set()
        for z in ind.get("zones", []):
            years, base_hidden, targets_hidden = _public_unit(ind, level, str(z["zone_id"]), z, hidden, policy)
            if base_hidden:
                z["baseline"] = None
                z["baseline_suppressed"] = True
                z["notes"] = []
            if targets_hidden:
                z["targets"] = dict.fromkeys(z.get("targets", {}))
            hidden_years |= {int(e["year"]) for e in z["series"] if e.get("suppressed")}
        for y in ind.get("progress_by_year", {}):
            if int(y) in hidden_years:  # the mean over the zones whose progress is published
                cs = [e.get("progress_capped") for z in ind["zones"] for e in z["series"] if int(e["year"]) == int(y)]
                ind["progress_by_year"][y] = _round(weighted_progress(cs, [1.0] * len(cs)))
    ind["notes"] = [n for n in ind.get("notes", []) if n.get("code") not in VALUE_NOTES]
    _summary(ind)


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def _summary(ind: dict[str, Any]) -> None:
    """The indicator's summary in the report year, from its public values."""
    s = ind.get("summary")
    if not s:
        return
    y = s["year"]
    s["progress"] = ind["progress_by_year"].get(str(y))
    s["progress_uncapped"] = ind.get("progress_uncapped_by_year", {}).get(str(y))
    if ind["level"] == "city":
        e = next((e for e in ind.get("series", []) if int(e["year"]) == int(y)), None)
        if e is not None:
            s.update(actual=e.get("actual"), actual_annualized=e.get("actual_annualized"), target=e.get("target"))
    else:
        entries = [next((e for e in z["series"] if int(e["year"]) == int(y)), None) for z in ind.get("zones", [])]
        defined = [e for e in entries if e is not None and e.get("progress_capped") is not None]
        s.update(zones_with_progress=len(defined), zones_met=sum(1 for e in defined if e["progress_capped"] >= 1))


def _public_document(doc: Mapping[str, Any], hidden: Hidden, policy: DisclosurePolicy) -> dict[str, Any]:
    pub = copy.deepcopy(dict(doc))
    before = {i["id"]: dict(i.get("progress_by_year", {})) for i in pub["indicators"]}
    for ind in pub["indicators"]:
        _public_indicator(ind, hidden, policy)
    changed = {i["id"]: {y for y, v in i.get("progress_by_year", {}).items() if v != before[i["id"]].get(y)} for i in pub["indicators"]}
    inds = {i["id"]: i for i in pub["indicators"]}
    obj_changed: set[str] = set()
    for o in pub["objectives"]:
        for y in o["progress_by_year"]:
            if any(y in changed.get(i, set()) for i in o["indicators"]):
                members = [inds[i] for i in o["indicators"] if i in inds]
                o["progress_by_year"][y] = _round(
                    weighted_progress([m["progress_by_year"].get(y) for m in members], [m["weight"] for m in members])
                )
                obj_changed.add(y)
        o["progress"] = o["progress_by_year"].get(str(pub["year"]))
    plan = pub["plan"]
    for y in plan["progress_by_year"]:
        if y in obj_changed:
            plan["progress_by_year"][y] = _round(
                weighted_progress([o["progress_by_year"].get(y) for o in pub["objectives"]], [o["weight"] for o in pub["objectives"]])
            )
    plan["progress"] = plan["progress_by_year"].get(str(pub["year"]))
    return pub


# --------------------------------------------------------------------------- table and layer


def _entries(pub: Mapping[str, Any]) -> dict[tuple[str, str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """(indicator, place, year) → (public yearly entry, its unit)."""
    out = {}
    for ind in pub["indicators"]:
        units = [("city", ind)] if ind["level"] == "city" else [(str(z["zone_id"]), z) for z in ind.get("zones", [])]
        for zone, unit in units:
            for e in unit.get("series", []):
                out[(str(ind["id"]), zone, str(int(e["year"])))] = (e, unit)
    return out


def _year_key(v: Any) -> str:
    x = _num(v)
    return str(int(x)) if x is not None else str(v)


def _public_table(table: pd.DataFrame, pub: Mapping[str, Any]) -> pd.DataFrame:
    """``seguimiento.csv`` with the values the public document hides set to None."""
    entries = _entries(pub)
    out = table.copy()
    keys = list(zip(out["indicator"].astype(str), out["zone_id"].astype(str), out["year"].map(_year_key), strict=True))
    found = [entries.get(k) for k in keys]
    columns = [c for c in (*_TABLE_FIELDS, "baseline", "notes") if c in out.columns]
    for col in columns:
        mask = []
        for pair in found:
            if pair is None:
                mask.append(False)
            elif col == "baseline":
                mask.append(pair[1].get("baseline") is None)
            elif col == "notes":
                mask.append(not pair[0].get("notes"))
            else:
                mask.append(pair[0].get(col) is None)
        m = np.asarray(mask, dtype=bool)
        if m.any():
            if out[col].dtype != object:
                out[col] = out[col].astype(object)
            out.loc[m, col] = None
    out["suppressed"] = [pair is not None and bool(pair[0].get("suppressed") or pair[1].get("baseline_suppressed")) for pair in found]
    return out


def _layer_props(props: Mapping[str, Any], pub_index: Mapping[tuple[str, str, str], dict[str, Any]]) -> dict[str, Any]:
    """One feature's properties with what the public document hides set to None."""
    key = (str(props.get("indicator")), str(props.get("zone_id")), str(props.get("scope")))
    src = pub_index.get(key)
    out = dict(props)
    if src is None:
        out["suppressed"] = False
        return out
    if props.get("scope") == "breakdown":
        for k, f in _LAYER_BREAKDOWN.items():
            if k in out and src.get(f) is None:
                out[k] = None
    else:
        for k, f in _LAYER_ZONE.items():
            if k in out and src.get(f) is None:
                out[k] = None
        if "baseline" in out and src.get("baseline") is None:
            out["baseline"] = None
        if "value_change" in out and (out.get("actual") is None or out.get("baseline") is None):
            out["value_change"] = None
    out["suppressed"] = bool(src.get("suppressed"))
    return out


def _layer_index(pub: Mapping[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(indicator, zone, scope) → the public row or entry of the report year the layer shows."""
    year = str(pub["year"])
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for ind in pub["indicators"]:
        b = ind.get("breakdown")
        if b and year in b["by_year"]:
            for r in b["by_year"][year]:
                out[(str(ind["id"]), str(r["zone_id"]), "breakdown")] = r
        for z in ind.get("zones", []) if ind["level"] != "city" else []:
            e: dict[str, Any] = next((e for e in z["series"] if str(e["year"]) == year), {})
            suppressed = bool(e.get("suppressed") or z.get("baseline_suppressed"))
            out[(str(ind["id"]), str(z["zone_id"]), "zone")] = {**e, "baseline": z.get("baseline"), "suppressed": suppressed}
    return out


def _public_layer(layer: Any, pub: Mapping[str, Any]) -> Any:
    index = _layer_index(pub)
    if isinstance(layer, Mapping):
        features = [{**f, "properties": _layer_props(f.get("properties") or {}, index)} for f in layer.get("features", [])]
        return {**layer, "features": features}
    frame = layer.copy()
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    rows = [_layer_props(r, index) for r in pd.DataFrame(frame.drop(columns=[geometry] if geometry else [])).to_dict("records")]
    for col in (*_LAYER_BREAKDOWN, "baseline", "suppressed"):
        if col in frame.columns or col == "suppressed":
            frame[col] = [r.get(col) for r in rows]
    return frame


# --------------------------------------------------------------------------- files


def tracking_parents(manifest_path: str | Path) -> dict[str, str] | None:
    """Base zone id → parent zone id of the run a ``seguimiento_manifest.json`` describes (its
    zones file read again), or None when the manifest or the zones cannot be read.
    """
    try:
        doc = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        cfg = TargetsConfig.model_validate(doc["options"])
        frame = build_zones(cfg.zones).frame
    except (OSError, ValueError, KeyError, TypeError):
        return None
    pairs = zip(frame["zone_id"].astype(str), frame["parent_id"].astype("string"), strict=True)
    return {z: str(p) for z, p in pairs if not pd.isna(p)}


def write_public_tracking(
    res: TrackingResult,
    policy: DisclosurePolicy | None,
    out_dir: str | Path | None = None,
    formats: Sequence[str] | None = None,
    *,
    command: str | None = None,
    targets_file: str | Path | None = None,
    export: Export | None = None,
) -> Written:
    """Write a tracking run's outputs as :meth:`TrackingResult.write
    <geoprio.seguimiento.result.TrackingResult.write>` does, in their public version under
    ``policy`` (:func:`public_tracking`); the manifest records the policy under
    ``disclosure`` (:func:`~geoprio.disclosure.disclosure_record`). ``policy=None`` is
    :meth:`TrackingResult.write` itself (the full release). ``export`` sets the layer's CRS
    and the CSV dialect.
    """
    if policy is None:
        return res.write(out_dir, formats, command=command, targets_file=targets_file, export=export)
    out = Path(out_dir) if out_dir is not None else res.config.output.dir
    fmts = list(ZONE_FORMATS if formats is None else formats)
    bad = [f for f in fmts if f not in EXPORT_FORMATS]
    if bad:
        raise InputError(f"unknown format(s) {bad} for {ZONES_STEM}; choose from {', '.join(EXPORT_FORMATS)}")
    export = export or Export(lang=check_lang(res.lang))
    parents = {str(z): str(p) for z, p in res.data.parent_of.dropna().items()}
    pub = public_tracking(res.to_dict(), policy, table=res.table(), layer=zone_layer(res), parents=parents)
    files = [
        io.write_table(pub.table, out / OUTPUT_NAMES["csv"], export=export),
        io.write_json(pub.document, out / OUTPUT_NAMES["json"]),
        *io.write_outputs(
            out,
            fmts,
            layers={ZONES_STEM: pub.layer},
            workbook=Path(OUTPUT_NAMES["csv"]).stem,
            sheets={Path(OUTPUT_NAMES["csv"]).stem: pub.table},
            export=export,
        ),
        io.write_text(render_report(pub.document), out / OUTPUT_NAMES["html"]),
    ]
    options = res.config.model_copy(update={"output": res.config.output.model_copy(update={"dir": out.resolve()})})
    inputs = [Path(targets_file).resolve()] if targets_file is not None else []
    m = manifest.document(
        kind=KIND,
        command=command if command is not None else res.command,
        inputs=list(dict.fromkeys([*inputs, *options.input_paths()])),
        outputs=files,
        options=options.model_dump(mode="json"),
        formats=fmts,
        export=export.record(),
        parameters={"year": res.year, "lang": res.lang, "years": res.years, "unplaced": res.config.options.unplaced},
        disclosure=disclosure_record(policy),
    )
    return Written(tuple(files), manifest.write(m, out / MANIFEST_NAME))
