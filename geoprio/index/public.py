"""The public release of an index table: what a caller without the right to see records gets.

:func:`public_index` takes the ranked table :func:`~geoprio.index.run.run_index` produces (the
one the API serves) and a :class:`~geoprio.disclosure.DisclosurePolicy`, and hides every
indicator cell (zone × indicator) whose count is too small to publish, with everything derived
from it: the count, the value, the raw rate, the normalized value, the contribution, the
pillar score of its pillar, and its place in ``drivers`` (rebuilt from the published
contributions only). The index, rank, tier and rank interval of every zone stay published.

Because the index is the sum of the contributions, and each contribution is a known linear
function of the count (``contribution = a·count + b``: the slope ``a`` from the normalization,
visible from the other zones, times the value per record, e.g. 100,000 / population for a
rate), hiding one cell of a zone would let anyone recover it by subtraction. So further cells
are hidden (*secondary suppression*, :func:`geoprio.disclosure.protect`) over the relations
``Σ_i a_zi·count_zi = index_z − Σ_i b_zi`` of every ranked zone, in count space, with the
a-priori bounds an attacker has: at least 1 record (zeros are published), and the counts
whose contribution lies within the indicator's published range. With nested levels served
together, ``parent count = Σ child counts`` (:func:`public_levels`) joins the relations; with
``zscore`` normalization, each indicator's sum over zones (its published mean) does too. With
``minmax`` normalization the published values give each indicator's minimum and maximum, which
some zone holds: where only hidden cells hold one and a single hidden cell could, the published
cell nearest it is hidden too, so the extreme does not point at one zone.
:class:`PublicIndexRun` / :func:`public_run` make a whole run public (``geoprio index --public``):
the table, the notes without city totals, no validation report, ``disclosure`` in the manifest.

Limits: the model is exact for ``minmax`` and ``zscore`` normalization with arithmetic
aggregation and for counts, rates and densities; for ``rank`` normalization, geometric
aggregation, smoothed rates and harm-weighted values the contribution is linearized (value
per record = value / count; one record per unit for a change), and a zone whose primary
cells no choice can protect (for instance the only positive count of a zone) is reported in
:attr:`PublicIndex.exposed_zones`, where its index is withheld too (its rank stays, which
bounds the index between its neighbours'; an interval, not a value). Rank intervals and top-k
probabilities of the Monte Carlo are published as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.disclosure import DisclosurePolicy, Relation, disclosure_record, protect
from geoprio.index.run import IndexRun
from geoprio.io import manifest as manifests
from geoprio.io.export import Export
from geoprio.io.results import Written
from geoprio.records.report import ValidationReport

__all__ = [
    "PublicIndex",
    "PublicIndexRun",
    "indicator_names",
    "measures_of",
    "public_index",
    "public_levels",
    "public_notes",
    "public_run",
]

#: Rounds of hiding a published cell next to a min–max extreme held only by hidden cells.
MAX_DECOY_ROUNDS = 4

#: Keys of an indicator's run notes that are sums over every zone (a margin of the counts).
NOTE_TOTALS: frozenset[str] = frozenset({"records", "weighted_count", "harm_per_record"})

#: Columns of an indicator cell, by suffix ("" is the value itself).
CELL_SUFFIXES: tuple[str, ...] = ("", "__norm", "__contrib", "__count", "__rate_raw")


@dataclass(frozen=True)
class PublicIndex:
    """A public index table and what it hides.

    ``table``: the input with hidden cells blanked (NaN), ``drivers`` rebuilt where a zone has
    hidden cells; ``hidden`` / ``secondary``: boolean frames zones × indicators (index =
    ``zone_id``); ``safe``: every hidden count keeps the protection interval against the
    attacker's linear program; ``exposed_zones``: zones whose index was withheld because no
    choice of cells could protect their hidden counts.
    """

    table: pd.DataFrame
    hidden: pd.DataFrame
    secondary: pd.DataFrame
    safe: bool
    exposed_zones: tuple[str, ...] = ()


def indicator_names(table: pd.DataFrame) -> list[str]:
    """The indicators of an index table (the columns ``<name>__contrib``), in order."""
    return [c.removesuffix("__contrib") for c in table.columns if c.endswith("__contrib")]


def measures_of(manifest: Mapping[str, Any] | None) -> dict[str, str]:
    """Indicator → measure (``count``, ``rate``, ``density``, ``change``) from an index manifest."""
    options = (manifest or {}).get("options") or (manifest or {}).get("config") or {}
    return {str(i.get("name")): str(i.get("measure", "count")) for i in options.get("indicators", []) if isinstance(i, Mapping)}


def _labels_of(manifest: Mapping[str, Any] | None) -> dict[str, str]:
    params = (manifest or {}).get("parameters", {}).get("index", {}) or {}
    labels = params.get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def _slope(values: np.ndarray, contrib: np.ndarray) -> float:
    """Contribution per unit of value across zones (exact for min–max and z-scores)."""
    ok = np.isfinite(values) & np.isfinite(contrib)
    if ok.sum() < 2 or np.ptp(values[ok]) == 0:
        return 0.0
    return float(np.polyfit(values[ok], contrib[ok], 1)[0])


@dataclass(frozen=True)
class _Cells:
    """The indicator cells of one table as flat arrays (zone-major), with the linear model."""

    counts: np.ndarray  # records (NaN where no count column)
    a: np.ndarray  # contribution per record (0 where unknown)
    b: np.ndarray  # contribution = a·count + b
    contrib: np.ndarray  # the contributions as written (NaN for unranked zones)
    lower: np.ndarray  # a-priori bounds of a hidden count
    upper: np.ndarray
    relations: list[Relation]


def _cells(table: pd.DataFrame, names: Sequence[str], measures: Mapping[str, str], normalization: str, offset: int = 0) -> _Cells:
    nz, ni = len(table), len(names)
    counts = np.full((nz, ni), np.nan)
    a = np.zeros((nz, ni))
    bs = np.zeros((nz, ni))
    contribs = np.full((nz, ni), np.nan)
    relations = []
    lower = np.ones((nz, ni))
    upper = np.full((nz, ni), np.inf)
    index = pd.to_numeric(table["index"], errors="coerce").to_numpy(dtype=float) if "index" in table else np.full(nz, np.nan)
    for j, n in enumerate(names):
        if f"{n}__count" not in table:
            continue
        c = pd.to_numeric(table[f"{n}__count"], errors="coerce").to_numpy(dtype=float)
        v = pd.to_numeric(table[n], errors="coerce").to_numpy(dtype=float) if n in table else np.full(nz, np.nan)
        k = pd.to_numeric(table[f"{n}__contrib"], errors="coerce").to_numpy(dtype=float)
        counts[:, j] = c
        beta = _slope(v, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_record = np.where((c > 0) & (v / c > 0), v / c, 1.0) if measures.get(n) != "change" else np.ones(nz)
        a[:, j] = np.where(np.isfinite(k), beta * per_record, 0.0)
        lo_c, hi_c = (np.nanmin(k), np.nanmax(k)) if np.isfinite(k).any() else (np.nan, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = k - a[:, j] * c
            ends = np.sort(np.stack([(lo_c - b) / a[:, j], (hi_c - b) / a[:, j]]), axis=0)
        usable = np.isfinite(ends).all(axis=0) & (a[:, j] != 0)
        lower[:, j] = np.where(usable, np.maximum(1.0, np.floor(ends[0] + 1e-9)), 1.0)
        upper[:, j] = np.where(usable, np.ceil(ends[1] - 1e-9), np.inf)
        bs[:, j] = np.where(np.isfinite(b), b, 0.0)
        contribs[:, j] = k
        ranked = np.flatnonzero(np.isfinite(k) & np.isfinite(c))
        if normalization == "zscore" and beta != 0 and len(ranked) > 1:
            # the published means give each indicator's sum over zones: Σ value = n · mean
            coefs = [float(per_record[z]) for z in ranked]
            relations.append(Relation([offset + int(z) * ni + j for z in ranked], coefs, float(np.dot(coefs, c[ranked]))))
    counts_f = counts.ravel()
    pos = np.nan_to_num(counts_f) > 0
    lower_f = np.where(pos, np.minimum(lower.ravel(), counts_f), 0.0)
    upper_f = np.where(pos, np.maximum(upper.ravel(), counts_f), np.inf)
    for z in range(nz):
        cols = [j for j in range(ni) if a[z, j] != 0 and np.isfinite(counts[z, j])]
        if not np.isfinite(index[z]) or not cols:
            continue
        coefs = [float(a[z, j]) for j in cols]
        rhs = float(sum(a[z, j] * counts[z, j] for j in cols))
        relations.append(Relation([offset + z * ni + j for j in cols], coefs, rhs))
    return _Cells(counts_f, a.ravel(), bs.ravel(), contribs.ravel(), lower_f, upper_f, relations)


def _decoys(
    columns: Sequence[np.ndarray], x: np.ndarray, cells: _Cells, hidden: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Published cells to hide so that a min–max extreme held only by hidden cells does not
    point at one of them.

    With min–max normalization two published values with their normalized values give each
    indicator's minimum and maximum, and some zone holds each. If every zone that holds it is
    hidden and only one hidden cell's attacker interval reaches it, that cell is found
    exactly; hiding the published cell nearest the extreme gives a second candidate.
    Returns the cells to hide and the hidden cells that are still the only candidate.
    """
    force = np.zeros(len(x), dtype=bool)
    alone = np.zeros(len(x), dtype=bool)
    for col in columns:
        k = cells.contrib[col]
        ok = np.isfinite(k)
        if len(np.unique(k[ok & ~hidden[col]])) < 2:  # fewer than two published values: no extremes to learn
            continue
        for ext in (np.nanmin(k), np.nanmax(k)):
            tol = 1e-9 * max(1.0, abs(ext))
            holders = col[ok & (np.abs(k - ext) <= tol)]
            if not hidden[holders].all():
                continue
            hid = col[ok & hidden[col]]
            ends = np.sort(np.stack([cells.b[hid] + cells.a[hid] * low[hid], cells.b[hid] + cells.a[hid] * high[hid]]), axis=0)
            reach = (ends[0] <= ext + 1e-6) & (ends[1] >= ext - 1e-6)
            if reach.sum() >= 2:
                continue
            alone[hid[reach]] = True
            shown = col[ok & ~hidden[col] & (x[col] > 0)]
            if len(shown):
                force[shown[np.argmin(np.abs(cells.contrib[shown] - ext))]] = True
    return force, alone


def _drivers(row: pd.Series, names: Sequence[str], labels: Mapping[str, str], top: int = 3) -> str:
    """``drivers`` rebuilt from a zone's published contributions (as the estimator writes it)."""
    total = float(row["index"]) if pd.notna(row.get("index")) else np.nan
    if not np.isfinite(total) or total == 0:
        return ""
    shown = [(float(row[f"{n}__contrib"]), i, n) for i, n in enumerate(names) if pd.notna(row.get(f"{n}__contrib"))]
    shown.sort(key=lambda t: (-t[0], t[1]))
    return "; ".join(f"{labels.get(n, n)} {100 * c / total:.0f} %" for c, _, n in shown[:top] if c > 0)


def _blank(table: pd.DataFrame, names: Sequence[str], hidden: np.ndarray, pillars: Mapping[str, Sequence[str]] | None) -> pd.DataFrame:
    out = table.copy()
    for j, n in enumerate(names):
        rows = hidden[:, j]
        if not rows.any():
            continue
        for suffix in CELL_SUFFIXES:
            col = f"{n}{suffix}"
            if col in out:
                out[col] = out[col].astype(float)
                out.loc[rows, col] = np.nan
    for p in (c.removeprefix("pillar__") for c in table.columns if c.startswith("pillar__")):
        members = [names.index(m) for m in (pillars or {}).get(p, names) if m in names]
        in_pillar = hidden[:, members].any(axis=1) if members else np.zeros(len(out), dtype=bool)
        if in_pillar.any():
            out[f"pillar__{p}"] = out[f"pillar__{p}"].astype(float)
            out.loc[in_pillar, f"pillar__{p}"] = np.nan
    return out


def public_levels(
    tables: Mapping[str, pd.DataFrame],
    policy: DisclosurePolicy | None,
    *,
    parents: Mapping[str, str] | None = None,
    measures: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    pillars: Mapping[str, Sequence[str]] | None = None,
    normalization: str = "minmax",
    time_limit_s: float = 10.0,
) -> dict[str, PublicIndex]:
    """:func:`public_index` of several levels served together, one protection for all.

    ``parents`` maps a child level to its parent level: the child table's ``parent_id`` names
    the parent zone, and each indicator's parent count is the sum of its children's counts
    (a relation the attacker knows). ``normalization`` is the index's (``minmax``: an extreme
    held only by hidden cells gets a second candidate; ``zscore``: each indicator's sum over
    zones joins the relations). ``None`` as the policy returns every table unchanged.
    """
    names = {lv: indicator_names(t) for lv, t in tables.items()}
    if policy is None:
        return {
            lv: PublicIndex(
                t,
                pd.DataFrame(False, index=t["zone_id"].astype(str), columns=names[lv]),
                pd.DataFrame(False, index=t["zone_id"].astype(str), columns=names[lv]),
                True,
            )
            for lv, t in tables.items()
        }
    measures = dict(measures or {})
    offsets: dict[str, int] = {}
    parts: dict[str, _Cells] = {}
    columns: list[np.ndarray] = []
    total = 0
    for lv, t in tables.items():
        offsets[lv] = total
        parts[lv] = _cells(t.reset_index(drop=True), names[lv], measures, normalization, total)
        columns += [total + np.arange(len(t)) * len(names[lv]) + j for j in range(len(names[lv]))]
        total += len(t) * len(names[lv])

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts.values()]) if parts else np.zeros(0)

    flat = _Cells(joined("counts"), joined("a"), joined("b"), joined("contrib"), joined("lower"), joined("upper"), [])
    counts, lower, upper = flat.counts, flat.lower, flat.upper
    relations = [r for p in parts.values() for r in p.relations]
    for child, parent in (parents or {}).items():
        if child not in tables or parent not in tables or "parent_id" not in tables[child]:
            continue
        pid = {str(z): i for i, z in enumerate(tables[parent]["zone_id"])}
        kids = tables[child]["parent_id"].astype(str).to_numpy()
        for j, n in enumerate(names[child]):
            if n not in names[parent]:
                continue
            jp = names[parent].index(n)
            for zp, ip in pid.items():
                cells = [offsets[child] + int(r) * len(names[child]) + j for r in np.flatnonzero(kids == zp)]
                pcell = offsets[parent] + ip * len(names[parent]) + jp
                if cells and np.isfinite(counts[cells]).all() and np.isfinite(counts[pcell]):
                    relations.append(Relation([*cells, pcell], [1.0] * len(cells) + [-1.0], 0.0))
    x = np.nan_to_num(counts)
    primary = policy.hidden(x)
    forced = np.zeros(len(x), dtype=bool)
    alone = np.zeros(len(x), dtype=bool)
    for _ in range(MAX_DECOY_ROUNDS + 1):
        cost = np.where(forced, -(x.sum() + 1.0), x)  # forced cells: hidden by the integer program, not protected
        result = protect(x, primary, relations, policy, lower=lower, upper=upper, cost=cost, time_limit_s=time_limit_s)
        if normalization != "minmax":
            break
        more, alone = _decoys(columns, x, flat, result.hidden, result.lower, result.upper)
        if not (more & ~forced).any():
            break
        forced |= more
    level = float(policy.protection_level)
    exposed = primary & ((result.upper < np.minimum(x + level, upper) - 1e-6) | (result.lower > np.maximum(x - level, lower) + 1e-6))
    exposed |= primary & alone
    secondary_all = result.hidden & ~primary
    out = {}
    for lv, t in tables.items():
        n_i = len(names[lv])
        span = slice(offsets[lv], offsets[lv] + len(t) * n_i)
        hidden = result.hidden[span].reshape(len(t), n_i)
        secondary = secondary_all[span].reshape(len(t), n_i)
        bad = exposed[span].reshape(len(t), n_i).any(axis=1)
        public = _blank(t, names[lv], hidden, pillars)
        touched = hidden.any(axis=1)
        if "drivers" in public and touched.any():
            rebuilt = [_drivers(r, names[lv], labels or {}) for _, r in public[touched].iterrows()]
            public["drivers"] = public["drivers"].astype(object)
            public.loc[touched, "drivers"] = rebuilt
            public["drivers"] = public["drivers"].astype(t["drivers"].dtype)
        if bad.any():
            public["index"] = public["index"].astype(float)
            public.loc[bad, "index"] = np.nan
        zid = t["zone_id"].astype(str).to_numpy()
        out[lv] = PublicIndex(
            table=public,
            hidden=pd.DataFrame(hidden, index=pd.Index(zid, name="zone_id"), columns=names[lv]),
            secondary=pd.DataFrame(secondary, index=pd.Index(zid, name="zone_id"), columns=names[lv]),
            safe=bool(result.safe and not exposed.any()),
            exposed_zones=tuple(zid[bad]),
        )
    return out


def public_index(
    table: pd.DataFrame,
    policy: DisclosurePolicy | None,
    *,
    measures: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    pillars: Mapping[str, Sequence[str]] | None = None,
    manifest: Mapping[str, Any] | None = None,
    normalization: str | None = None,
    time_limit_s: float = 10.0,
) -> PublicIndex:
    """The public release of one index table under ``policy`` (``None``: the table unchanged).

    Parameters
    ----------
    table
        The ranked table of an index run (``zone_id``, ``index``, ``drivers`` and per indicator
        ``<name>``, ``<name>__norm``, ``<name>__contrib``, ``<name>__count``…).
    policy
        What to hide; see :class:`~geoprio.disclosure.DisclosurePolicy`.
    measures
        Indicator → measure (a ``change`` moves by one per record); default from ``manifest``.
    labels
        Indicator → display name for the rebuilt ``drivers``; default from ``manifest``.
    pillars
        Pillar → its indicators (a pillar score is hidden where one of them is); default: every
        pillar holds every indicator.
    manifest
        The run's manifest (``manifest.json``), read for ``measures``, ``labels``, ``pillars``
        and ``normalization``.
    normalization
        The index's normalization (see :func:`public_levels`); default from ``manifest``, else
        ``minmax``.
    time_limit_s
        Time limit of each integer program of the secondary suppression.
    """
    params = (manifest or {}).get("parameters", {}).get("index", {}) or {}
    level = "level"
    return public_levels(
        {level: table},
        policy,
        measures=measures if measures is not None else measures_of(manifest),
        labels=labels if labels is not None else _labels_of(manifest),
        pillars=pillars if pillars is not None else params.get("pillars"),
        normalization=normalization or str(params.get("normalization") or "minmax"),
        time_limit_s=time_limit_s,
    )[level]


def public_notes(notes: Mapping[str, Any], policy: DisclosurePolicy | None) -> dict[str, Any]:
    """An index run's notes without the city totals of each indicator (a sum of every zone's
    count would be one more relation to protect); ``notes`` as is when ``policy`` is None.
    """
    if policy is None:
        return dict(notes)
    out = dict(notes)
    if isinstance(out.get("indicators"), Mapping):
        out["indicators"] = {
            name: {k: v for k, v in doc.items() if k not in NOTE_TOTALS} if isinstance(doc, Mapping) else doc
            for name, doc in out["indicators"].items()
        }
    return out


@dataclass(frozen=True)
class PublicIndexRun(IndexRun):
    """An :class:`~geoprio.index.run.IndexRun` made public by :func:`public_run`: its table
    and notes are the public release, it writes no validation report (record counts per
    source), and its manifest records ``disclosure``.
    """

    policy: DisclosurePolicy | None = field(default=None)
    #: Zones × indicators hidden in the public table (primary and secondary).
    hidden: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def reports(self) -> list[ValidationReport]:
        """None: the validation report counts records per source, which a public release omits."""
        return []

    def write(
        self,
        out_dir: str | Path | None = None,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write the public table, notes and ``manifest.json`` (with ``disclosure``)."""
        written = super().write(out_dir, formats, command=command, export=export)
        doc = manifests.read(written.manifest)
        doc["disclosure"] = disclosure_record(self.policy)
        manifests.write(doc, written.manifest)
        return written


def public_run(run: IndexRun, policy: DisclosurePolicy | None, *, time_limit_s: float = 10.0) -> IndexRun:
    """``run`` as a public release under ``policy`` (``run`` itself when ``policy`` is None):
    its table from :func:`public_index`, its raw values with the hidden cells blanked, its
    notes from :func:`public_notes`. ``geoprio index --public`` writes it.
    """
    if policy is None:
        return run
    public = public_index(
        run.table,
        policy,
        measures={ind.name: ind.measure for ind in run.config.indicators},
        labels=dict(run.index.labels or {}),
        pillars=run.index.pillars,
        normalization=run.index.normalization,
        time_limit_s=time_limit_s,
    )
    values = run.values.copy()
    mask = public.hidden.reindex(index=values.index.astype(str), columns=values.columns, fill_value=False).to_numpy(dtype=bool)
    values = values.astype(float).mask(mask)
    return PublicIndexRun(
        run.config,
        run.zones,
        run.sources,
        values,
        run.index,
        run.stability,
        gpd.GeoDataFrame(public.table, geometry=run.table.geometry.name, crs=run.table.crs),
        public_notes(run.notes, policy),
        command=run.command,
        policy=policy,
        hidden=public.hidden,
    )
