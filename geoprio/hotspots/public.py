"""Public releases of hot spots: what :func:`find_hotspots`'s cells and clusters publish under a
:class:`~geoprio.disclosure.DisclosurePolicy`.

One function per layer, used by the API at request time and by ``geoprio hotspots --public``
for the files, so that a served layer and a public file agree:

* :func:`public_cells` — grid cells. No Gi* statistic is published (no z, p, q or bin: Gi* is
  linear in the counts, so served z-scores give the hidden counts back by a linear solve);
  only the classes ``gi_code`` / ``gi_class``. No kernel density either (the density at a
  cell's centre is a fixed linear combination of the counts around it, so thousands of
  published densities are as good as a linear system in the hidden counts); no trend
  statistic (``trend_tau``, ``trend_z``, ``trend_p``). A cell with a hidden count (1 to
  ``min_count - 1`` incidents) also loses its emerging pattern (``trend_code``,
  ``trend_class``, ``hot_bins``, ``cold_bins``) and gets ``suppressed = True``.
* :func:`public_clusters` — density clusters. A cluster of fewer than ``min_count`` incidents
  is not published at all. In the others every small count (``records``, ``n_<source>``,
  ``last_12m``, ``previous_12m``) is hidden, with complementary suppression of the other
  period where ``incidents = last_12m + previous_12m``
  (:func:`geoprio.disclosure.complementary.protect`), ``change_12m`` with either period, and
  ``night_share`` / ``weekend_share`` / ``peak_hours`` / ``peak_days`` where they rest on a
  hidden count. Never published: the 24 hour and 7 weekday shares, ``share`` (it gives the
  study area's total), ``harm`` and ``harm_known_share`` and ``top_categories`` (per-category
  counts, mostly small), the first and last dates (single incidents), the complexity score and
  its ``drivers`` (a score that is a sum of contributions gives a hidden one by subtraction);
  ``complexity_rank`` and ``complexity_tier`` stay. The outline is coarsened: the buffered
  hull's arcs are centred on single incidents, so it is grown by half the policy's site spacing
  and snapped to a grid of that size.
* :func:`public_notes` — the run's notes without the point totals (a sum over all cells) and
  the noise share.
* :func:`public_run` — a :class:`HotspotRun` with the three and the policy, whose ``write``
  records ``disclosure`` in the manifest (and whose manifest replays as the same release).

``None`` in place of a policy means full access: every function returns its input unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoprio.disclosure import DisclosurePolicy
from geoprio.disclosure.complementary import Relation, protect
from geoprio.hotspots.find import HotspotRun
from geoprio.records import public_approximate
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS

__all__ = [
    "CELL_STATISTICS",
    "CLUSTER_WITHHELD",
    "public_cells",
    "public_clusters",
    "public_notes",
    "cut_around_points",
    "public_run",
    "whole_grid_squares",
]

#: Cell columns never published: Gi* and trend statistics, and the kernel density.
CELL_STATISTICS = ("gi_z", "gi_p", "gi_p_sim", "gi_q", "gi_bin", "trend_tau", "trend_z", "trend_p", "kde_km2", "kde")
#: Cell columns hidden where the cell's count is hidden (derived from it).
CELL_DERIVED = ("trend_code", "trend_class", "hot_bins", "cold_bins")
#: Cluster columns never published (see the module docstring).
CLUSTER_WITHHELD = (
    "share",
    "harm",
    "harm_known_share",
    "top_categories",
    "first_date",
    "last_date",
    "complexity",
    "drivers",
)
#: Cluster count columns hidden when small (besides ``n_<source>`` context counts).
CLUSTER_COUNTS = ("records", "last_12m", "previous_12m")
_HOURS = [f"hour_{h:02d}" for h in range(24)]
_DAYS = ["dow_mon", "dow_tue", "dow_wed", "dow_thu", "dow_fri", "dow_sat", "dow_sun"]
_CONTEXT = re.compile(r"^n_(?!zones$)\w+$")
_NOTE_TOTALS = ("points", "points_used", "points_outside")


def _hide(frame: pd.DataFrame, column: str, mask: np.ndarray) -> None:
    """Blank ``column`` where ``mask`` (in place; numbers become NaN, the rest None)."""
    if column not in frame or not mask.any():
        return
    if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]):
        frame[column] = frame[column].astype(float).where(~mask, np.nan)
    else:
        frame[column] = frame[column].astype(object).where(~mask, None)


def public_cells(cells: pd.DataFrame, policy: DisclosurePolicy | None, *, grid: tuple[float, str] | None = None) -> pd.DataFrame:
    """Hot-spot grid cells as the public sees them under ``policy`` (see the module docstring).

    ``incidents`` of 1 to ``min_count - 1`` becomes NaN (None in JSON, null in GeoJSON) with
    ``suppressed = True``; zeros are published. ``grid`` (cell size in metres and metric CRS),
    for a run without zones: the clipped cells at the study area's edge are published as whole
    squares (:func:`whole_grid_squares`). ``policy=None`` returns ``cells`` itself.
    """
    if policy is None:
        return cells
    if grid is not None and isinstance(cells, gpd.GeoDataFrame):
        cells = whole_grid_squares(cells, grid[0], grid[1])
    out = cells.drop(columns=[c for c in CELL_STATISTICS if c in cells.columns]).copy()
    if "incidents" not in out:
        return out
    hidden = policy.hidden(pd.to_numeric(out["incidents"], errors="coerce").to_numpy(dtype=float))
    for column in ("incidents", *CELL_DERIVED):
        _hide(out, column, hidden)
    out["suppressed"] = hidden
    if isinstance(out, gpd.GeoDataFrame):  # keep the geometry column last, as the files have it
        out = out[[c for c in out.columns if c != out.geometry.name] + [out.geometry.name]]
    return out


def whole_grid_squares(cells: gpd.GeoDataFrame, size: float, metric_crs: str) -> gpd.GeoDataFrame:
    """``cells`` with every clipped cell of a square grid of side ``size`` (metres in
    ``metric_crs``) replaced by its whole square, and its ``lon``/``lat`` and ``area_km2`` by the
    square's; as it is for other grids (hexagons) or with no whole cell to align on.

    Without zones a study area is the incidents' concave hull grown by a buffer, so the cells at
    its edge are cut by arcs centred on single incidents: a public release publishes whole
    squares instead.
    """
    if cells.crs is None or size <= 0 or not len(cells):
        return cells
    metric = cells.geometry.to_crs(metric_crs)
    area = metric.area.to_numpy(dtype=float)
    full = np.abs(area - size * size) <= 1e-6 * size * size
    b = metric[full].bounds
    if full.all() or not full.any() or not np.allclose(b["maxx"] - b["minx"], size, rtol=1e-6):
        return cells
    x0, y0 = float(b["minx"].iloc[0]), float(b["miny"].iloc[0])
    inner = shapely.point_on_surface(np.asarray(metric.values[~full], dtype=object))
    i = np.floor((shapely.get_x(inner) - x0) / size)
    j = np.floor((shapely.get_y(inner) - y0) / size)
    boxes = gpd.GeoSeries(shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size), crs=metric_crs)
    out = cells.copy()
    geometry = np.asarray(out.geometry.values, dtype=object)
    geometry[~full] = np.asarray(boxes.to_crs(cells.crs).values, dtype=object)
    out = out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=cells.crs))
    if "area_km2" in out:
        out.loc[~full, "area_km2"] = size * size / 1e6
    if "lon" in out and "lat" in out:
        centres = gpd.GeoSeries(shapely.centroid(boxes.values), crs=metric_crs).to_crs(OUTPUT_CRS)
        out.loc[~full, "lon"] = centres.x.round(7).to_numpy()
        out.loc[~full, "lat"] = centres.y.round(7).to_numpy()
    return out


def cut_around_points(notes: dict[str, Any] | None, parameters: dict[str, Any] | None) -> tuple[float, str] | None:
    """The grid (cell size in metres, metric CRS) of a hot-spot run whose study area was drawn
    around its points (``notes["study_area"] == "points"``), for :func:`public_cells`; None for
    a run over zones or a hexagonal grid. A run whose notes do not say (written before December
    2026) counts as drawn around its points: whole squares lose nothing that must be kept.
    """
    options = (parameters or {}).get("options") or {}
    if (notes or {}).get("study_area") == "zones" or options.get("shape", "square") != "square":
        return None
    size = options.get("cell_size_m")
    return (float(size), str(options.get("metric_crs") or DEFAULT_METRIC_CRS)) if size else None


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _protect_periods(out: pd.DataFrame, policy: DisclosurePolicy) -> np.ndarray:
    """Hide small ``last_12m`` / ``previous_12m`` and, where they add up to the published
    ``incidents``, what else :func:`protect` chooses. Returns the rows with a hidden period.
    """
    n = len(out)
    if n == 0 or "last_12m" not in out or "previous_12m" not in out:
        return np.zeros(n, dtype=bool)
    last, prev, total = _numbers(out, "last_12m"), _numbers(out, "previous_12m"), _numbers(out, "incidents")
    values = np.column_stack([last, prev]).ravel()  # cell 2i: last_12m of row i, 2i + 1: previous_12m
    relations = [
        Relation(cells=(2 * i, 2 * i + 1), coefs=(1.0, 1.0), rhs=float(total[i]))
        for i in range(n)
        if np.isfinite(total[i]) and abs(last[i] + prev[i] - total[i]) < 1e-6
    ]
    primary = policy.hidden(np.nan_to_num(values))
    hidden = protect(np.nan_to_num(values), primary, relations, policy).hidden if primary.any() else primary
    hidden = hidden.reshape(n, 2)
    _hide(out, "last_12m", hidden[:, 0])
    _hide(out, "previous_12m", hidden[:, 1])
    rows = np.asarray(hidden.any(axis=1), dtype=bool)
    _hide(out, "change_12m", rows)
    return rows


def _implied_counts(shares: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Counts behind shares of a published total (rounded; shares are written to 4 decimals)."""
    return np.rint(shares * total[:, None])


def _hide_profile(out: pd.DataFrame, policy: DisclosurePolicy, total: np.ndarray) -> np.ndarray:
    """Hide the hour and weekday profile where it rests on a hidden count; returns the rows touched."""
    touched = np.zeros(len(out), dtype=bool)
    for share, parts, peak in (("night_share", _HOURS, "peak_hours"), ("weekend_share", _DAYS, "peak_days")):
        if share in out:
            s = _numbers(out, share)
            counts = _implied_counts(np.column_stack([s, 1.0 - s]), total)
            mask = np.asarray(policy.hidden(counts).any(axis=1), dtype=bool)
            _hide(out, share, mask)
            touched |= mask
        if peak in out:
            present = [c for c in parts if c in out]
            listed = out[peak].fillna("").astype(str).map(lambda t: len([p for p in t.split(",") if p.strip()])).to_numpy()
            if len(present) == len(parts):
                counts = -np.sort(-_implied_counts(out[present].to_numpy(dtype=float), total), axis=1)
                shown = np.take_along_axis(counts, np.clip(listed - 1, 0, len(parts) - 1)[:, None], axis=1)[:, 0]
                mask = np.asarray((listed > 0) & (policy.hidden(shown) | (shown < 1)), dtype=bool)  # the least listed item
            else:  # no shares to check the listed items against: withhold them
                mask = listed > 0
            _hide(out, peak, mask)
            touched |= mask
    return touched


def _coarsen(clusters: gpd.GeoDataFrame, spacing_m: float) -> gpd.GeoSeries:
    """Outlines grown by half of ``spacing_m`` and snapped to a grid of that size (metres)."""
    step = spacing_m / 2.0
    metric = clusters.geometry.to_crs(DEFAULT_METRIC_CRS)
    coarse = shapely.set_precision(shapely.buffer(metric.values, step, quad_segs=1), grid_size=step)
    return gpd.GeoSeries(coarse, index=clusters.index, crs=DEFAULT_METRIC_CRS).to_crs(clusters.crs)


def public_clusters(clusters: pd.DataFrame, policy: DisclosurePolicy | None) -> pd.DataFrame:
    """Hot-spot clusters as the public sees them under ``policy`` (see the module docstring).

    Clusters with fewer than ``min_count`` incidents are left out; in the others hidden values
    become NaN / None and ``suppressed`` says which rows lost a value. ``policy=None`` returns
    ``clusters`` itself.
    """
    if policy is None:
        return clusters
    total = _numbers(clusters, "incidents") if "incidents" in clusters else np.zeros(len(clusters))
    keep = np.isfinite(total) & (total >= policy.min_count)
    out = clusters.loc[keep].reset_index(drop=True).copy()
    total = total[keep]
    withheld = [c for c in (*CLUSTER_WITHHELD, *_HOURS, *_DAYS) if c in out.columns]
    suppressed = _hide_profile(out, policy, total)
    out = out.drop(columns=withheld)
    for column in [*CLUSTER_COUNTS, *(c for c in out.columns if _CONTEXT.match(str(c)))]:
        if column in out and column not in ("last_12m", "previous_12m"):
            mask = policy.hidden(np.nan_to_num(_numbers(out, column)))
            _hide(out, column, mask)
            suppressed |= mask
    suppressed |= _protect_periods(out, policy)
    out["suppressed"] = suppressed
    if isinstance(out, gpd.GeoDataFrame) and out.crs is not None and len(out):
        geometry = _coarsen(out, policy.min_site_spacing_m)
        out = out.set_geometry(geometry.values)
        out = out[[c for c in out.columns if c != out.geometry.name] + [out.geometry.name]]
    return out


def public_notes(notes: dict[str, Any], policy: DisclosurePolicy | None) -> dict[str, Any]:
    """A run's notes without the point totals (a sum over every cell) and the clusters' noise share."""
    if policy is None:
        return notes
    out = {k: v for k, v in notes.items() if k not in _NOTE_TOTALS}
    if "approximate_locations" in out:  # that locations are approximate, without their count
        out["approximate_locations"] = public_approximate(out["approximate_locations"])
    if isinstance(out.get("clusters"), dict):
        out["clusters"] = {k: v for k, v in out["clusters"].items() if k != "noise_share"}
    return out


def public_run(run: HotspotRun, policy: DisclosurePolicy | None) -> HotspotRun:
    """``run`` as a public release under ``policy`` (``run`` itself when ``policy`` is None)."""
    if policy is None:
        return run
    clusters = public_clusters(run.clusters, policy) if run.clusters is not None else None
    grid = None
    if run.notes.get("study_area") == "points" and run.grid is not None and run.grid.shape == "square":
        grid = (run.grid.cell_size_m, run.grid.metric_crs)
    return HotspotRun(
        cells=public_cells(run.cells, policy, grid=grid),
        clusters=clusters,
        options=run.options,
        params=run.params,
        notes=public_notes(run.notes, policy),
        grid=run.grid,
        job=run.job,
        inputs=run.inputs,
        reports=run.reports,
        policy=policy,
    )
