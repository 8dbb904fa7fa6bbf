"""The public release of an entornos run: what may be published of each place, its profiles
and the deployment plan under a :class:`~geoprio.disclosure.DisclosurePolicy`.

One function, :func:`public_entornos`, serves every channel (the API's ``/entornos`` routes in
every format, ``/entornos/plan`` and ``geoprio entornos --public``, through
:func:`write_public_entornos`), so that they agree. ``policy=None`` is full access: the tables
come back unchanged.

The unit of a place is its ``weighted_incidents`` (what its profiles, surroundings and the
deployment plan count). Under a policy:

* a **hidden place** (1 to ``min_count - 1`` weighted incidents) keeps only what identifies it
  (id, name, type, radius, position, influence area, why it was excluded); its counts, index,
  rank, indicators, drivers, surroundings, pattern, profiles, peak hours and deployment shifts
  are hidden;
* a **visible place**'s indicator with a count of 1 to ``min_count - 1`` hides its value,
  normalized value, contribution and count; since the index is the sum of the contributions
  (each a linear function of the count), further indicators of the place are hidden by
  :func:`geoprio.disclosure.complementary.protect`; where no choice protects the hidden ones,
  the index and rank of the place are hidden too. ``drivers`` is hidden wherever an indicator
  is. The surroundings (ring counts, ratio, p-value, pattern) are hidden when the ring holds
  too few records;
* **profiles**: the 24 hourly and 168 weekly bins of a place are counts too, and at a place's
  scale nearly all of them are below any useful threshold, so the public profile is coarser:
  four blocks of six hours (``block_00_06`` … ``block_18_24``) and seven weekdays
  (``weekday_0`` = Monday … ``weekday_6``), each bin below the threshold hidden with
  complementary suppression against the two sums (the attacker knows both totals); a
  profile that cannot be protected is hidden whole. The hourly profile and the peak hours of
  the day (of the week) are published only where none of the 24 (168) bins is hidden;
* the **deployment plan**: shifts at hidden places are dropped; a shift's covered value below
  the threshold is hidden, with complementary suppression against the plan's covered total
  (hidden with its share and bound when no choice protects the shifts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.disclosure.complementary import Protection, Relation, protect
from geoprio.entornos.run import MANIFEST_KIND, OUTPUT_NAME, EntornosRun, plan_summary
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.results import Written, write_result

__all__ = [
    "BLOCK_COLUMNS",
    "PLACE_KEYS",
    "WEEKDAY_COLUMNS",
    "PublicEntornos",
    "public_entornos",
    "write_public_entornos",
]

#: Columns that identify a place: published for every place, hidden or not.
PLACE_KEYS = ("place_id", "name", "type", "radius_m", "lon", "lat", "influence_km2", "excluded", "geometry")
#: Hours per block of the public day profile.
BLOCK_HOURS = 6
#: The public day profile: weighted incidents from 00:00 to 06:00, 06:00 to 12:00…
BLOCK_COLUMNS = tuple(f"block_{h:02d}_{h + BLOCK_HOURS:02d}" for h in range(0, 24, BLOCK_HOURS))
#: The public week profile: weighted incidents per weekday, 0 = Monday.
WEEKDAY_COLUMNS = tuple(f"weekday_{d}" for d in range(7))
#: The index and what is derived from it alone (hidden with the index).
_INDEX_COLUMNS = ("index", "rank", "tier", "rank_median", "rank_p05", "rank_p95", "p_top_5")
#: The surroundings: hidden when the ring holds fewer than the threshold.
_RING_COLUMNS = ("incidents_ring", "records_ring", "area_ring_km2", "density_ring_km2", "ratio_ring", "p_value_ring", "pattern")
#: Columns of the hourly profile and its peak hours (published only with every bin).
_DAY_COLUMNS = ("hours_profile", "hours_peak", "peak_hours", "peak_hours_n", "peak_hours_share")
_WEEK_COLUMNS = ("peak_week", "peak_week_n", "peak_week_share")
#: Shift columns hidden with a shift's value.
_SHIFT_VALUES = ("value", "share")


@dataclass(frozen=True)
class PublicEntornos:
    """What an entornos run publishes under a policy (``policy=None``: everything, unchanged).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per place, with a boolean ``suppressed`` (the place is hidden) and, under a
        policy, the coarse profile columns (:data:`BLOCK_COLUMNS`, :data:`WEEKDAY_COLUMNS`);
        hidden values are NaN (None in text columns).
    profiles : pandas.DataFrame or None
        The weekly profile (place, weekday, hour, incidents): in full, or, under a policy, the
        public coarse profile as a long table (``place_id``, ``profile`` = ``block`` or
        ``weekday``, ``bin``, ``incidents``; NaN where hidden).
    summary : dict or None
        The deployment plan's summary (``covered``, ``share``, ``bound`` None where hidden).
    by_team, by_place : pandas.DataFrame or None
        The plan's shifts (none at a hidden place; ``value`` and ``share`` NaN where hidden).
    hidden : pandas.DataFrame
        Per place (rows) and indicator (columns): True where the indicator is hidden (a
        hidden place: every indicator).
    policy : DisclosurePolicy or None
    """

    table: pd.DataFrame
    profiles: pd.DataFrame | None = None
    summary: dict[str, Any] | None = None
    by_team: pd.DataFrame | None = None
    by_place: pd.DataFrame | None = None
    hidden: pd.DataFrame = field(default_factory=pd.DataFrame)
    policy: DisclosurePolicy | None = None


def _indicators(table: pd.DataFrame) -> list[str]:
    return [c.removesuffix("__count") for c in table.columns if c.endswith("__count")]


def _blank(table: pd.DataFrame, rows: np.ndarray, columns: Sequence[str]) -> None:
    """Hide ``columns`` (those present) of ``rows`` (a boolean mask) in place."""
    cols = [c for c in columns if c in table.columns]
    if not cols or not rows.any():
        return
    for c in cols:
        if table[c].dtype.kind in "fc":
            table.loc[rows, c] = np.nan
        else:
            table[c] = table[c].astype(object)
            table.loc[rows, c] = None


def _floats(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.zeros(n)
    return pd.to_numeric(series, errors="coerce").fillna(0.0).to_numpy(dtype=float)


def _safe_cells(prot: Protection, values: np.ndarray, primary: np.ndarray, policy: DisclosurePolicy) -> np.ndarray:
    """Primary cells whose attacker bounds leave the protection interval on both sides
    (clipped below at the a-priori bound of 1 record).
    """
    u = policy.protection_level
    lo_need = np.maximum(values - u, 1.0)
    hi_need = values + u
    with np.errstate(invalid="ignore"):
        ok = (prot.lower <= lo_need + 1e-6) & (prot.upper >= hi_need - 1e-6)
    return ~primary | ok


def _linear_contribution(table: pd.DataFrame, name: str) -> tuple[float, float]:
    """``contribution = slope · value + intercept`` of indicator ``name``, read off the table
    (as an attacker would from the published rows); (0, 0) where it does not vary.
    """
    v = pd.to_numeric(table.get(name), errors="coerce")
    c = pd.to_numeric(table.get(f"{name}__contrib"), errors="coerce")
    ok = v.notna() & c.notna()
    if ok.sum() < 2 or v[ok].max() == v[ok].min():
        return 0.0, float(c[ok].mean()) if ok.any() else 0.0
    i, j = v[ok].idxmin(), v[ok].idxmax()
    slope = float((c[j] - c[i]) / (v[j] - v[i]))
    return slope, float(c[i] - slope * v[i])


def _protect_indicators(
    table: pd.DataFrame, names: list[str], visible: np.ndarray, policy: DisclosurePolicy
) -> tuple[np.ndarray, np.ndarray]:
    """Hidden indicator cells (places × indicators) and the places whose index must go too."""
    n, k = len(table), len(names)
    counts = np.column_stack([_floats(table.get(f"{m}__count"), n) for m in names]) if k else np.zeros((n, 0))
    primary = policy.hidden(counts) & visible[:, None]
    unsafe_index = np.zeros(n, dtype=bool)
    if not primary.any():
        return primary, unsafe_index
    slopes = [_linear_contribution(table, m)[0] for m in names]
    values = np.column_stack([_floats(table.get(m), n) for m in names])
    relations = []
    for p in np.flatnonzero(primary.any(axis=1)):
        coefs = [slopes[j] * (values[p, j] / counts[p, j] if counts[p, j] > 0 else 1.0) for j in range(k)]
        cells = [int(p) * k + j for j in range(k)]
        rhs = float(np.dot(coefs, counts[p]))
        relations.append(Relation(cells=cells, coefs=coefs, rhs=rhs))
    flat, prim = counts.ravel(), primary.ravel()
    candidates = (flat > 0) & np.repeat(visible, k)
    prot = protect(flat, prim, relations, policy, candidates=candidates)
    hidden = prot.hidden.reshape(n, k) | primary
    safe = _safe_cells(prot, flat, prim, policy).reshape(n, k)
    return hidden, np.asarray(~safe.all(axis=1), dtype=bool)


def _day_profile(table: pd.DataFrame) -> np.ndarray:
    """The 24 hourly bins of each place, from ``hours_profile`` (zeros where absent)."""
    out = np.zeros((len(table), 24))
    if "hours_profile" not in table:
        return out
    for i, text in enumerate(table["hours_profile"]):
        parts = str(text).split() if isinstance(text, str) else []
        if len(parts) == 24:
            out[i] = [float(v) for v in parts]
    return out


def _week_profile(table: pd.DataFrame, profiles: pd.DataFrame | None) -> np.ndarray:
    """The 168 weekly bins of each place, from the long profile table (zeros where absent)."""
    out = np.zeros((len(table), 168))
    if profiles is None or profiles.empty:
        return out
    row = pd.Series(np.arange(len(table)), index=table["place_id"].astype(str).to_numpy())
    p = row.reindex(profiles["place_id"].astype(str).to_numpy()).to_numpy()
    ok = ~np.isnan(p)
    slot = profiles["weekday"].to_numpy(dtype=int)[ok] * 24 + profiles["hour"].to_numpy(dtype=int)[ok]
    np.add.at(out, (p[ok].astype(int), slot), profiles["incidents"].to_numpy(dtype=float)[ok])
    return out


def _protect_profiles(coarse: np.ndarray, visible: np.ndarray, policy: DisclosurePolicy) -> np.ndarray:
    """Hidden bins of the coarse profiles (places × (4 blocks + 7 weekdays)); a profile that
    cannot be protected is hidden whole; a hidden place's are hidden whole.
    """
    n, k = coarse.shape
    nb = len(BLOCK_COLUMNS)
    primary = policy.hidden(coarse) & visible[:, None]
    hidden = np.zeros_like(primary) | ~visible[:, None]
    if primary.any():
        relations = []
        for p in np.flatnonzero(primary.any(axis=1)):
            for part in (range(nb), range(nb, k)):
                cells = [int(p) * k + j for j in part]
                relations.append(Relation(cells=cells, coefs=[1.0] * len(cells), rhs=float(coarse[p, list(part)].sum())))
        flat, prim = coarse.ravel(), primary.ravel()
        prot = protect(flat, prim, relations, policy, candidates=(flat > 0) & np.repeat(visible, k))
        hidden |= prot.hidden.reshape(n, k) | primary
        safe = _safe_cells(prot, flat, prim, policy).reshape(n, k)
        for lo, hi in ((0, nb), (nb, k)):
            bad = ~safe[:, lo:hi].all(axis=1)
            hidden[bad, lo:hi] = True
    return hidden


def _public_table(
    table: pd.DataFrame, profiles: pd.DataFrame | None, policy: DisclosurePolicy
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    t = table.copy().reset_index(drop=True)
    n = len(t)
    weighted = _floats(t.get("weighted_incidents"), n)
    hidden_place = policy.hidden(weighted)
    visible = ~hidden_place
    t["suppressed"] = hidden_place
    # indicators, index, drivers
    names = _indicators(t)
    hidden_ind, unsafe_index = _protect_indicators(t, names, visible, policy)
    for j, m in enumerate(names):
        _blank(t, hidden_ind[:, j], (m, f"{m}__norm", f"{m}__contrib", f"{m}__count"))
    _blank(t, unsafe_index, _INDEX_COLUMNS)
    _blank(t, np.asarray(hidden_ind.any(axis=1), dtype=bool), ("drivers",))
    # surroundings
    ring = _floats(t.get("records_ring"), n)
    _blank(t, visible & policy.hidden(ring), _RING_COLUMNS)
    _blank(t, visible & policy.hidden(_floats(t.get("no_hour"), n)), ("no_hour",))
    # profiles: the coarse public one, and the fine ones only where every bin passes
    day, week = _day_profile(t), _week_profile(t, profiles)
    blocks = day.reshape(n, len(BLOCK_COLUMNS), BLOCK_HOURS).sum(axis=2)
    weekdays = week.reshape(n, 7, 24).sum(axis=2)
    coarse = np.column_stack([blocks, weekdays])
    hidden_bins = _protect_profiles(coarse, visible, policy)
    for j, col in enumerate(BLOCK_COLUMNS + WEEKDAY_COLUMNS):
        t[col] = np.where(hidden_bins[:, j], np.nan, coarse[:, j])
    _blank(t, visible & policy.hidden(day).any(axis=1), _DAY_COLUMNS)
    _blank(t, visible & policy.hidden(week).any(axis=1), _WEEK_COLUMNS)
    # a forecast's expected incidents per place are area-weighted sums of the surface's cells: with
    # the surface's own public release, a place over a single suppressed cell would give that cell's
    # value (and, with prior counts, its small count) back by subtraction; never published
    if "forecast_expected" in t.columns:
        t["forecast_expected"] = np.nan
    # a hidden place: everything but what identifies it
    _blank(t, hidden_place, [c for c in t.columns if c not in PLACE_KEYS and c != "suppressed"])
    long = pd.DataFrame(
        {
            "place_id": np.repeat(t["place_id"].astype(str).to_numpy(), coarse.shape[1]),
            "profile": np.tile(["block"] * len(BLOCK_COLUMNS) + ["weekday"] * 7, n),
            "bin": np.tile(list(BLOCK_COLUMNS + WEEKDAY_COLUMNS), n),
            "incidents": np.where(hidden_bins, np.nan, coarse).ravel(),
        }
    )
    return t, long[~np.repeat(hidden_place, coarse.shape[1])].reset_index(drop=True), hidden_place


def _public_plan(
    summary: dict[str, Any] | None,
    by_team: pd.DataFrame | None,
    by_place: pd.DataFrame | None,
    hidden_places: set[str],
    policy: DisclosurePolicy,
) -> tuple[dict[str, Any] | None, pd.DataFrame | None, pd.DataFrame | None]:
    if by_team is None:
        return (dict(summary) if summary is not None else None), None, by_place
    shifts = by_team.reset_index(drop=True)
    values = pd.to_numeric(shifts["value"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    at_hidden = shifts["place"].astype(str).isin(hidden_places).to_numpy()
    primary = (policy.hidden(values) | at_hidden) & (values > 0)
    hidden = primary.copy()
    out_summary = dict(summary) if summary is not None else None
    if primary.any():
        rel = [Relation(cells=list(range(len(values))), coefs=[1.0] * len(values), rhs=float(values.sum()))]
        prot = protect(values, primary, rel, policy)
        hidden |= prot.hidden
        if not _safe_cells(prot, values, primary, policy).all() and out_summary is not None:
            for k in ("covered", "share", "bound", "gap"):
                out_summary[k] = None
    if out_summary is not None:
        covered = out_summary.get("covered")
        if isinstance(covered, (int, float)) and policy.hides(covered):
            for k in ("covered", "share", "bound", "gap"):
                out_summary[k] = None
        total = out_summary.get("total")
        if isinstance(total, (int, float)) and policy.hides(total):
            out_summary["total"] = out_summary["share"] = None
        if isinstance(out_summary.get("forecast"), dict):  # a sum of the places' forecasts: withheld with them
            out_summary["forecast"] = {k: v for k, v in out_summary["forecast"].items() if k != "places_expected_total"}
    public = shifts.copy()
    for c in _SHIFT_VALUES:
        if c in public:
            public[c] = public[c].astype(float).where(~hidden)
    keys = ["team", "day", "start_slot", "place"]
    public_team = public[~at_hidden].reset_index(drop=True)
    public_place = None
    if by_place is not None:
        merged = by_place.drop(columns=[c for c in _SHIFT_VALUES if c in by_place]).merge(
            public[keys + [c for c in _SHIFT_VALUES if c in public]], on=keys, how="left"
        )
        public_place = merged[~merged["place"].astype(str).isin(hidden_places)].reset_index(drop=True)[list(by_place.columns)]
    return out_summary, public_team, public_place


def public_entornos(
    table: pd.DataFrame,
    policy: DisclosurePolicy | None,
    *,
    profiles: pd.DataFrame | None = None,
    summary: dict[str, Any] | None = None,
    by_team: pd.DataFrame | None = None,
    by_place: pd.DataFrame | None = None,
) -> PublicEntornos:
    """What an entornos run publishes under ``policy`` (see the module docstring).

    Parameters
    ----------
    table
        The place table (``EntornosRun.table`` or the ``entornos`` layer written from it).
    policy
        The disclosure policy; None is full access (every table unchanged).
    profiles
        The long weekly profile (``<name>_perfiles.csv``: place_id, weekday, hour, incidents).
    summary, by_team, by_place
        The deployment plan (``<name>_despliegue.json``, ``_equipos.csv``, ``_lugares.csv``).
    """
    if policy is None:
        full = table.copy()
        full["suppressed"] = False
        names = _indicators(table)
        hidden = pd.DataFrame(False, index=table["place_id"].astype(str).to_numpy(), columns=names)
        return PublicEntornos(full, profiles, summary, by_team, by_place, hidden, None)
    public, long, hidden_place = _public_table(table, profiles, policy)
    hidden_ids = set(public.loc[hidden_place, "place_id"].astype(str))
    s, team, place = _public_plan(summary, by_team, by_place, hidden_ids, policy)
    names = _indicators(table)
    hidden = pd.DataFrame(public[[f"{m}__count" for m in names]].isna().to_numpy() if names else np.zeros((len(public), 0), bool))
    hidden.index, hidden.columns = public["place_id"].astype(str).to_numpy(), names
    return PublicEntornos(public, long, s, team, place, hidden, policy)


def write_public_entornos(
    run: EntornosRun,
    policy: DisclosurePolicy,
    out_dir: str | Path | None = None,
    formats: Sequence[str] | None = None,
    *,
    command: str | None = None,
    export: Export | None = None,
) -> Written:
    """Write the public release of ``run`` (``geoprio entornos --public``): the place table
    (``<name>.<format>``, with the coarse profile columns), the coarse profiles
    (``<name>_perfiles.csv``) and the deployment plan, under the same names as the full
    release, and a ``manifest.json`` whose ``disclosure`` records the policy. The input
    validation report and the notes (counts of dropped records) are not part of it.
    ``export`` sets the output CRS and CSV dialect, as for :meth:`EntornosRun.write
    <geoprio.entornos.run.EntornosRun.write>`.
    """
    cfg = run.config
    out = Path(out_dir) if out_dir is not None else cfg.output.dir
    fmts = list(formats) if formats is not None else list(cfg.output.formats)
    name = cfg.output.name or OUTPUT_NAME
    plan = run.plan is not None and cfg.deploy is not None
    pub = public_entornos(
        run.table,
        policy,
        profiles=run.profiles.long(lang=cfg.index.lang),
        summary=plan_summary(run.plan, cfg.deploy, forecast=run.forecast) if run.plan is not None and cfg.deploy is not None else None,
        by_team=run.plan.by_team() if run.plan is not None else None,
        by_place=run.plan.by_place() if run.plan is not None else None,
    )
    table = gpd.GeoDataFrame(pub.table, geometry="geometry", crs=run.table.crs)
    export = export or Export(lang=cfg.index.lang)
    assert pub.profiles is not None
    deployed = plan and pub.by_team is not None and pub.by_place is not None and pub.summary is not None
    tables = {
        f"{name}_perfiles": pub.profiles.round(6),
        f"{name}_despliegue_equipos": pub.by_team if deployed else None,
        f"{name}_despliegue_lugares": pub.by_place if deployed else None,
    }
    paths = io.write_outputs(out, fmts, layers={name: table}, tables=tables, workbook=name, export=export)
    if deployed and pub.summary is not None:
        paths.append(io.write_json(pub.summary, out / f"{name}_despliegue.json"))
    return write_result(
        kind=MANIFEST_KIND,
        out_dir=out,
        files=paths,
        options=cfg,
        inputs=cfg.input_paths(),
        formats=fmts,
        command=command,
        export=export,
        parameters={"index": run.index.get_params()},
        disclosure=disclosure_record(policy),
    )
