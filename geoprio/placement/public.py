"""The public release of a camera or garita plan under a
:class:`~geoprio.disclosure.DisclosurePolicy`.

A plan's sites sit where its incidents are: with a 7 m radius and a fine candidate grid, a
plan of 200 cameras is a map of 200 incidents to within a few metres, and a site's weight
(harm × zone index) names the incident's category. :func:`public_plan` serves every channel
(``GET /plans/{id}`` for plans made through the API and plans written by ``geoprio plan``,
and ``geoprio plan … --public`` through :func:`write_public_plan`). ``policy=None`` is full
access: everything unchanged.

Under a policy:

* **sites**: a new site is published as the centre of its cell in a fixed grid of
  ``policy.min_site_spacing_m`` (origin at 0, 0 of the metric CRS, so the grid does not
  depend on the data): never the candidate point, which may be an incident. Sites in the same
  cell are published once, with ``n_sites``, the rank of the best, and a cell ``site_id``
  (the candidate id would give the exact point back). Only the plan's own columns are kept
  (rank, id, state, source, cost, shore, position). Existing facilities (an input layer,
  not incidents) are published as given;
* **per-site figures** (``marginal_weight``, ``marginal_share``, ``cumulative_share``,
  ``unique_weight``) and the **coverage curve** (its differences are the marginal shares) are
  published only where the incidents each new site covers are known (a camera plan with its
  demand layer) and every one reaches ``min_count``; otherwise hidden for every site (a
  single hidden one would follow from the cumulative shares);
* **totals** (:data:`PLAN_TOTALS`) are published when the incidents behind them are known
  (:func:`plan_counts`) and, with their complement, are 0 or reach ``min_count``: the covered
  weight and share when the incidents covered and those left uncovered do, the existing
  facilities' share when the incidents they cover and those only the new sites cover do, the
  total weight when the demand does; a backup share other than 0 and a coverable share other
  than 1 are hidden. A plan whose demand is not incidents (metres of shore, visitors)
  publishes every figure. ``notes.demand`` (records dropped, categories without a harm
  weight: small counts) is not published.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.results import Written, write_result
from geoprio.placement.options import check_plan_formats
from geoprio.placement.plan import PlanRun
from geoprio.records import public_approximate
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS

__all__ = [
    "PLAN_TOTALS",
    "SITE_FIGURES",
    "PlanCounts",
    "PublicPlan",
    "plan_counts",
    "public_plan",
    "public_plan_run",
    "sites_frame",
    "snap_to_grid",
    "write_public_plan",
]

#: Per-site figures: published only when every new site covers at least ``min_count`` incidents.
SITE_FIGURES = ("marginal_weight", "marginal_share", "cumulative_share", "unique_weight")
#: Summary totals that weigh the incidents covered: published when those reach ``min_count``.
PLAN_TOTALS = ("objective", "bound", "total_weight", "covered_share", "backup_share", "existing_share", "coverable_share")
#: The columns a public new site keeps (besides :data:`SITE_FIGURES`).
_SITE_KEEP = ("rank", "site_id", "estado", "source", "n_sites", "cost", "shore", "lon", "lat")


@dataclass(frozen=True)
class PublicPlan:
    """What a plan publishes under a policy.

    Attributes
    ----------
    summary : dict
        The plan's summary (hidden totals are None; ``disclosure`` says what was hidden).
    sites : geopandas.GeoDataFrame
        New sites (snapped, merged per cell) then the existing ones, EPSG:4326.
    curve : pandas.DataFrame or None
        The coverage curve, None where hidden.
    policy : DisclosurePolicy or None
    """

    summary: dict[str, Any]
    sites: gpd.GeoDataFrame
    curve: pd.DataFrame | None
    policy: DisclosurePolicy | None = None

    def sites_geojson(self) -> dict[str, Any]:
        """The sites as a GeoJSON FeatureCollection (NaN as null)."""
        return json.loads(self.sites.to_json(drop_id=True, na="null"))


def snap_to_grid(x: np.ndarray, y: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The centres of the cells of a ``spacing_m`` grid (origin 0, 0) holding the points."""
    s = float(spacing_m)
    return (np.floor(np.asarray(x, float) / s) + 0.5) * s, (np.floor(np.asarray(y, float) / s) + 0.5) * s


@dataclass(frozen=True)
class PlanCounts:
    """Incidents behind a plan's figures (None where unknown).

    ``per_site``: incidents within the radius of each row of the sites (camera plans only);
    ``covered``: incidents the plan covers (new and existing sites); ``existing``: those the
    existing facilities cover; ``total``: incidents in the demand.
    """

    per_site: np.ndarray | None = None
    covered: float | None = None
    existing: float | None = None
    total: float | None = None


def _flag(values: pd.Series) -> np.ndarray:
    """A boolean or count column read from a layer (text ``True``/``False`` included) as a mask."""
    num = pd.to_numeric(values, errors="coerce")
    text = values.astype(str).str.lower().isin(("true", "1", "1.0"))
    return np.where(num.notna(), num.fillna(0).to_numpy(float) > 0, text.to_numpy())


def plan_counts(
    sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame | None, *, radius_m: float | None, kind: str, metric_crs: str = DEFAULT_METRIC_CRS
) -> PlanCounts:
    """The incidents behind a plan's figures (:class:`PlanCounts`).

    ``demand``: the plan's demand layer (``n_records`` each, default 1; ``covered`` and
    ``covered_existing`` as the plan wrote them) or the incident points it was made from
    (without them: a camera plan's coverage is counted within ``radius_m`` of its sites, new
    and existing). Per-site counts are given for camera plans only (a garita covers along the
    shore, not within a circle). Everything is None without ``demand``.
    """
    if demand is None or demand.empty:
        return PlanCounts()
    n = pd.to_numeric(demand["n_records"], errors="coerce").fillna(0.0).to_numpy(float) if "n_records" in demand else np.ones(len(demand))
    radius = float(radius_m) if radius_m is not None else 0.0
    cameras = kind == "cameras" and radius_m is not None and not sites.empty
    near: list[list[int]] = []
    if cameras:
        d = demand.to_crs(metric_crs) if demand.crs is not None else demand
        s = sites.to_crs(metric_crs) if sites.crs is not None else sites
        dxy = np.column_stack([d.geometry.x, d.geometry.y])
        ok = np.isfinite(dxy).all(axis=1)
        rows = np.flatnonzero(ok)
        found = cKDTree(dxy[ok]).query_ball_point(np.column_stack([s.geometry.x, s.geometry.y]), r=radius)
        near = [rows[ix].tolist() for ix in found]
    old_rows = np.flatnonzero((sites["estado"] != "nueva").to_numpy()) if "estado" in sites else np.zeros(0, dtype=int)

    def union(which: Iterable[int]) -> np.ndarray:
        mask = np.zeros(len(demand), dtype=bool)
        for i in which:
            mask[near[i]] = True
        return mask

    if "covered" in demand:
        covered = _flag(demand["covered"])
    elif cameras:
        covered = union(range(len(near)))
    else:
        return PlanCounts(total=float(n.sum()))
    if "covered_existing" in demand:
        existing: float | None = float(n[_flag(demand["covered_existing"])].sum())
    else:
        existing = float(n[union(old_rows)].sum()) if cameras else None
    per_site = np.array([n[ix].sum() for ix in near], dtype=float) if cameras else None
    return PlanCounts(per_site, float(n[covered].sum()), existing, float(n.sum()))


def sites_frame(sites: gpd.GeoDataFrame | dict[str, Any]) -> gpd.GeoDataFrame:
    """A plan's sites as a GeoDataFrame (EPSG:4326), from a GeoDataFrame (copied) or GeoJSON."""
    if isinstance(sites, gpd.GeoDataFrame):
        return sites.copy()
    feats = sites.get("features") if isinstance(sites, dict) else None
    if not feats:
        return gpd.GeoDataFrame({"estado": pd.Series(dtype=object)}, geometry=gpd.GeoSeries([], crs=OUTPUT_CRS), crs=OUTPUT_CRS)
    return gpd.GeoDataFrame.from_features(feats, crs=OUTPUT_CRS)


def _public_sites(
    sites: gpd.GeoDataFrame, policy: DisclosurePolicy, counts: np.ndarray | None, metric_crs: str, *, incident_demand: bool = True
) -> tuple[gpd.GeoDataFrame, bool]:
    new_mask = (sites["estado"] == "nueva").to_numpy() if "estado" in sites else np.ones(len(sites), bool)
    new, old = sites[new_mask].copy(), sites[~new_mask].copy()
    counts_new = counts[new_mask] if counts is not None and len(counts) == len(sites) else None
    figures = not incident_demand or (counts_new is not None and not policy.hidden(counts_new).any())
    if new.empty:
        return gpd.GeoDataFrame(pd.concat([new, old], ignore_index=True), crs=OUTPUT_CRS), figures
    m = new.to_crs(metric_crs)
    cx, cy = snap_to_grid(m.geometry.x.to_numpy(), m.geometry.y.to_numpy(), policy.min_site_spacing_m)
    s = policy.min_site_spacing_m
    new["_cell"] = [f"{int(np.floor(a / s))}_{int(np.floor(b / s))}" for a, b in zip(cx, cy, strict=True)]
    new["_cx"], new["_cy"] = cx, cy
    new["rank"] = pd.to_numeric(new.get("rank"), errors="coerce")
    new = new.sort_values("rank", kind="stable")
    agg: dict[str, Any] = {"rank": "min", "_cx": "first", "_cy": "first", "estado": "first"}
    for c in ("source", "shore"):
        if c in new:
            agg[c] = "first"
    if "cost" in new:
        agg["cost"] = "sum"
    if figures:
        agg.update({"marginal_weight": "sum", "marginal_share": "sum", "unique_weight": "sum", "cumulative_share": "max"})
    grouped = new.groupby("_cell", sort=False).agg(agg)
    grouped["n_sites"] = new.groupby("_cell", sort=False).size()
    grouped = grouped.sort_values("rank", kind="stable").reset_index()
    grouped["site_id"] = "CELDA-" + grouped["_cell"].astype(str)
    geom = gpd.GeoSeries(gpd.points_from_xy(grouped["_cx"], grouped["_cy"]), crs=metric_crs).to_crs(OUTPUT_CRS)
    grouped["lon"] = geom.x.round(7).to_numpy()
    grouped["lat"] = geom.y.round(7).to_numpy()
    keep = [c for c in _SITE_KEEP if c in grouped] + ([c for c in SITE_FIGURES if c in grouped] if figures else [])
    pub_new = gpd.GeoDataFrame(grouped[keep], geometry=geom.to_numpy(), crs=OUTPUT_CRS)
    if not figures:
        for c in SITE_FIGURES:
            if c in sites:
                pub_new[c] = np.nan
    old = old.drop(columns=[c for c in old.columns if c not in set(pub_new.columns) | {"distance_to_shore_m", old.geometry.name}])
    if old.crs is None:
        old = old.set_crs(OUTPUT_CRS)
    old = old.to_crs(OUTPUT_CRS)
    if old.geometry.name != "geometry":
        old = old.rename_geometry("geometry")
    out = pd.concat([pub_new, old], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=OUTPUT_CRS), figures


def _shown_totals(summary: dict[str, Any], policy: DisclosurePolicy, k: PlanCounts, incident_demand: bool) -> set[str]:
    """The totals of :data:`PLAN_TOTALS` a plan may publish: each one's incidents (and the
    complement it gives away with the total) must be 0 or reach ``min_count``.
    """
    if not incident_demand:
        return set(PLAN_TOTALS)

    def fine(*counts: float | None) -> bool:
        return all(c is not None and not policy.hides(c) for c in counts)

    shown: set[str] = set()
    if fine(k.total):
        shown.add("total_weight")
    if k.covered is not None and k.total is not None and fine(k.covered, k.total - k.covered):
        shown |= {"objective", "bound", "covered_share"}
        if k.existing is not None and fine(k.existing, k.covered - k.existing):
            shown.add("existing_share")
    if summary.get("backup_share") in (0, 0.0, None):
        shown.add("backup_share")
    if summary.get("coverable_share") in (1, 1.0, None):
        shown.add("coverable_share")
    return shown


def public_plan(
    summary: dict[str, Any],
    sites: gpd.GeoDataFrame | dict[str, Any],
    policy: DisclosurePolicy | None,
    *,
    curve: pd.DataFrame | None = None,
    counts: PlanCounts | None = None,
    incident_demand: bool = True,
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> PublicPlan:
    """What a plan publishes under ``policy`` (see the module docstring).

    Parameters
    ----------
    summary
        The plan's summary (``PlanRun.summary()``, ``<prefix>_resumen.json`` or a job's).
    sites
        Its sites (GeoDataFrame or GeoJSON), new ones with ``estado`` = ``nueva``.
    policy
        None is full access: everything unchanged.
    curve
        The coverage curve (also read from ``summary["curve"]`` when there).
    counts
        The incidents behind the figures (:func:`plan_counts`); None: unknown.
    incident_demand
        False where the demand is not incidents (metres of shore, visitors).
    """
    frame = sites_frame(sites)
    if policy is None:
        return PublicPlan(dict(summary), frame, curve, None)
    k = counts if counts is not None else PlanCounts()
    pub_sites, figures = _public_sites(frame, policy, k.per_site, metric_crs, incident_demand=incident_demand)
    shown = _shown_totals(summary, policy, k, incident_demand)
    out = {key: v for key, v in summary.items() if key != "notes"}
    notes = summary.get("notes")
    if isinstance(notes, dict):
        out["notes"] = {key: v for key, v in notes.items() if key != "demand"}
        if "approximate_locations" in out["notes"]:  # that locations are approximate, without their count
            out["notes"]["approximate_locations"] = public_approximate(out["notes"]["approximate_locations"])
    for key in PLAN_TOTALS:
        if key in out and key not in shown:
            out[key] = None
    n_demand = out.get("n_demand")
    if incident_demand and isinstance(n_demand, (int, float)) and policy.hides(n_demand):
        out["n_demand"] = None
    totals_ok = "covered_share" in shown
    show_curve = figures and totals_ok
    if "curve" in out and not show_curve:
        out["curve"] = None
    out["disclosure"] = {
        **(disclosure_record(policy) or {}),
        "site_grid_m": policy.min_site_spacing_m,
        "site_figures": bool(figures),
        "totals": bool(totals_ok),
    }
    return PublicPlan(out, pub_sites, curve if show_curve else None, policy)


def public_plan_run(run: PlanRun, policy: DisclosurePolicy | None) -> PublicPlan:
    """:func:`public_plan` of a solved plan, with the incidents it covers counted from its demand."""
    metric_crs = str(run.parameters.get("metric_crs") or DEFAULT_METRIC_CRS)
    incident_demand = run.kind == "cameras" or run.parameters.get("demand") == "incidents"
    counts = plan_counts(run.sites, run.demand, radius_m=run.parameters.get("radius_m"), kind=run.kind, metric_crs=metric_crs)
    return public_plan(
        run.summary(volatile=False),
        run.sites,
        policy,
        curve=run.curve,
        counts=counts,
        incident_demand=incident_demand,
        metric_crs=metric_crs,
    )


def write_public_plan(
    run: PlanRun,
    policy: DisclosurePolicy,
    out_dir: str | Path,
    formats: Sequence[str] | None = None,
    *,
    command: str | None = None,
    export: Export | None = None,
) -> Written:
    """Write the public release of ``run`` (``geoprio plan … --public``): the public sites
    (``<prefix>_sitios.<format>``), the summary (``<prefix>_resumen.json``) and, where
    published, the curve (``<prefix>_curva.csv``), with a ``manifest.json`` whose
    ``disclosure`` records the policy. The demand (incident points), the covered stretches and
    the shore are not part of it. ``export`` sets the output CRS and CSV dialect, as for
    :meth:`PlanRun.write <geoprio.placement.plan.PlanRun.write>`.
    """
    fmts = check_plan_formats(formats)
    export = export or Export()
    out = Path(out_dir)
    prefix = "camaras" if run.kind == "cameras" else "garitas"
    pub = public_plan_run(run, policy)
    written = io.write_outputs(
        out,
        fmts,
        layers={f"{prefix}_sitios": pub.sites},
        tables={f"{prefix}_curva": pub.curve},
        workbook=prefix,
        export=export,
    )
    written.append(io.write_json(pub.summary, out / f"{prefix}_resumen.json"))
    return write_result(
        kind=run.manifest_kind,
        out_dir=out,
        files=written,
        options=run.options,
        inputs=list(run.inputs),
        formats=fmts,
        command=command,
        export=export,
        run=f"plan {run.kind}",
        parameters=run.parameters,
        disclosure=disclosure_record(policy),
    )
