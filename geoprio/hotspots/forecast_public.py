"""The public release of a forecast surface (:mod:`geoprio.hotspots.forecast_layer`) under a
:class:`~geoprio.disclosure.DisclosurePolicy`: ``geoprio forecast --surface --public`` and
``GET /forecast`` without a ``read:records`` key.

**Why.** With prior counts a cell's ``expected`` is its past count times one scale
(``N₃₆₅ × days / 365 / N``), so a published value gives back a cell's single homicide; a
smoothing method (kernel density, prospective hot-spotting, the learned model's neighbours)
spreads one incident over the cells around it, and the published values around a lone incident
are a linear system in it.

**The rule.** A cell's *count* is the weighted number of incidents of the method's fitting
window in it (:func:`window_counts`: every incident before the period for ``prior``,
``recent``, ``kde`` and ``learned``; the last ``bandwidth_weeks`` weeks for ``promap``; the last
``window_days`` days for ``sepp``). A count of 1 to ``min_count - 1`` is *hidden*. A cell's
value rests on the counts of the cells within the method's *reach* (:func:`reach_m`: its own
cell for ``prior`` and ``recent``; cells whose centres are within ``bandwidth_m`` plus half a
cell's diagonal for ``kde``, ``bandwidth_cells`` cells for ``promap``, 1.5 cells for
``learned``, the triggering radius for ``sepp``). A cell is **suppressed** when any cell in its
reach (itself included) has a hidden count: its ``expected``, ``rank``, ``cum_area_share`` and
``top`` are null and ``suppressed`` is true. So every published value is a function of counts
of 0 or at least ``min_count`` only (and of the method's study-wide scale), and no
combination of published values, however many, carries a hidden count.

**What else is published** is computed from the published values and the public geometry
alone: ``rank`` is the rank among the published cells (1 = most expected), ``cum_area_share``
the share of the study area (every cell's area) in published cells ranked as high or higher,
``top`` is ``cum_area_share ≤ top_share``. Never published: ``score`` (the raw surface) and
``share`` (``expected / total``: with the total they give the hidden remainder by
subtraction), the per-cell counts, and in the notes the study-wide totals
(``expected_total``, ``expected_in_top_share``, ``incidents_last_365_days``); the notes give
``expected_published`` (the sum of the published values, which adds nothing) and the number of
suppressed cells instead. The backtest's summary and curve are aggregates over every origin and
the whole study area and are published as they are.

**The edge.** Without zones the study area is the incidents' concave hull grown by 250 m, so
the clipped cells at its edge are cut by arcs centred on single incidents: a public release of
such a surface (``whole_cells``) draws them as whole squares of the grid (``lon``/``lat`` their
centres). The grid's origin still comes from the hull's bounds; give zones (``--zones``) for
a release whose geometry owes nothing to the incidents.

Without the counts (a surface file written before they were, with no ``past_incidents``
column) a ``prior`` surface's own ``score`` is its count; any other method's cells are all
suppressed. ``None`` in place of a policy (or ``min_count = 1``) publishes the surface as it
is.

Limits: the scale of ``recent``/``kde``/``promap`` and the coefficients of ``learned`` and
``sepp`` are fitted on every incident; a hidden cell moves them by a fraction of one
incident over the whole area, and they are not published. The count is taken over the whole
fitting window: where a method weighs recent incidents more (``recent``'s decay, the learned
model's lag of one period), a published cell of at least ``min_count`` incidents may still owe
most of its value to a few recent ones; the value does not give their number (the decay, the
lag coefficients and the scale are not published), but it is not a count of ``min_count``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.errors import InputError
from geoprio.hotspots.backtest_run import curve_svg
from geoprio.hotspots.forecast import dated_points, past_at
from geoprio.hotspots.forecast_layer import (
    COUNT_COLUMN,
    SURFACE_KIND,
    SURFACE_LAYER,
    ForecastSurface,
    ForecastSurfaceJob,
    next_period_forecast,
    reach_m,
    window_counts,
)
from geoprio.hotspots.jobs import load_source_points, load_source_zones
from geoprio.hotspots.public import whole_grid_squares
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.results import Written, write_result
from geoprio.labels import label
from geoprio.records.load import Records
from geoprio.settings import DEFAULT_FORMATS, DEFAULT_METRIC_CRS

__all__ = [
    "PublicForecast",
    "forecast_release",
    "public_forecast",
    "public_forecast_notes",
    "run_public_forecast_job",
]

#: Columns a public release never carries.
WITHHELD = ("score", "share", COUNT_COLUMN)
#: Notes a public release never carries (study-wide totals).
WITHHELD_NOTES = ("expected_total", "expected_in_top_share", "incidents_last_365_days")
_RANKED = ("expected", "rank", "cum_area_share", "top")


def _centres(cells: gpd.GeoDataFrame, metric_crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres (metres) and areas (m²) in the grid's metric CRS."""
    metric = cells.geometry.to_crs(metric_crs) if cells.crs is not None else cells.geometry
    c = metric.centroid
    return np.column_stack([c.x.to_numpy(), c.y.to_numpy()]), metric.area.to_numpy(dtype=float)


def _cell_size(xy: np.ndarray) -> float:
    """The grid's spacing: the median distance from a centre to its nearest other centre."""
    if len(xy) < 2:
        return 0.0
    d, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(d[:, 1]))


def _spread(hidden: np.ndarray, xy: np.ndarray, radius_m: float) -> np.ndarray:
    """Cells with a hidden cell within ``radius_m`` of their centre (themselves included)."""
    out = hidden.copy()
    if radius_m <= 0 or not hidden.any():
        return out
    pairs = cKDTree(xy).query_pairs(radius_m * (1 + 1e-6), output_type="ndarray")  # a centre exactly at the reach is in it
    if len(pairs):
        n = len(xy)
        a = sp.csr_array((np.ones(2 * len(pairs)), (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])), shape=(n, n))
        out |= (a @ hidden.astype(float)) > 0
    return out


def _method(cells: pd.DataFrame) -> str:
    methods = set(cells["method"].astype(str)) if "method" in cells and len(cells) else {"prior"}
    if len(methods) != 1:
        raise InputError(f"a forecast surface has one method per layer, got {sorted(methods)}")
    return methods.pop()


def public_forecast(
    cells: gpd.GeoDataFrame,
    policy: DisclosurePolicy | None,
    *,
    counts: Sequence[float] | np.ndarray | None = None,
    params: Mapping[str, Any] | None = None,
    cell_size_m: float | None = None,
    top_share: float = 0.01,
    whole_cells: bool = False,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """A forecast surface's cells as the public sees them under ``policy`` (the rule: the module docstring).

    ``counts``: each row's weighted incidents of the fitting window (default: the
    ``past_incidents`` column; for ``prior``, its ``score``). ``params``: the method's
    hyperparameters (the manifest's ``notes.params``; needed for kde, promap and sepp).
    ``cell_size_m``: the grid's (default: the spacing of the centres). ``whole_cells``: publish
    the clipped cells at the edge of a square grid as whole squares (for a study area drawn
    around the incidents, when no zones were given: its edge passes within a buffer of single
    incidents); ``rank``, ``cum_area_share`` and ``top`` then use the whole squares' areas.
    ``metric_crs``: the grid's metric CRS, where reaches and areas are measured (the manifest's
    ``notes.metric_crs``; default EPSG:9377: give it for a city outside Colombia, where that
    projection's distances are off by a few per cent and its squares turned).
    ``policy=None`` returns ``cells`` itself.
    """
    if policy is None:
        return cells
    crs = str(metric_crs or DEFAULT_METRIC_CRS)
    if not 0 < top_share <= 1:
        raise InputError(f"top_share must be in (0, 1], got {top_share!r}")
    method = _method(cells)
    out = cells.drop(columns=[c for c in WITHHELD if c in cells.columns]).copy()
    n = len(out)
    xy, _ = _centres(cells, crs)
    size = float(cell_size_m) if cell_size_m is not None else _cell_size(xy)
    if whole_cells:
        out = whole_grid_squares(out, size, crs)
    _, area = _centres(out, crs)
    if counts is None and COUNT_COLUMN in cells:
        counts = pd.to_numeric(cells[COUNT_COLUMN], errors="coerce").to_numpy(dtype=float)
    elif counts is None and method == "prior" and "score" in cells:
        counts = pd.to_numeric(cells["score"], errors="coerce").to_numpy(dtype=float)
    if counts is None:  # nothing tells which cells rest on few incidents: publish no value
        suppressed = np.ones(n, dtype=bool)
    else:
        c = np.asarray(counts, dtype=float)
        if c.shape != (n,):
            raise InputError(f"counts: expected one value per cell ({n}), got shape {c.shape}")
        if method in ("kde", "promap", "sepp") and params is None:
            raise InputError(f"a {method} surface needs its params (the manifest's notes.params) to find each cell's reach")
        hidden = policy.hidden(np.nan_to_num(c, nan=1.0))  # an unknown count is taken as hidden
        suppressed = _spread(hidden, xy, reach_m(method, params or {}, size))
    expected = pd.to_numeric(out["expected"], errors="coerce").to_numpy(dtype=float)
    shown = ~suppressed
    order = np.lexsort((np.arange(n), -np.where(shown, expected, -np.inf)))
    order = order[shown[order]]
    cum = np.full(n, np.nan)
    cum[order] = np.cumsum(area[order]) / area.sum() if area.sum() > 0 else np.nan
    rank = pd.Series(np.where(shown, expected, np.nan)).rank(method="min", ascending=False).to_numpy()
    out["expected"] = np.where(shown, expected, np.nan)
    out["rank"] = pd.array(np.where(shown, rank, np.nan), dtype="Int64") if n else pd.array([], dtype="Int64")
    out["cum_area_share"] = cum
    top = pd.array(np.where(shown, cum <= top_share + 1e-12, False), dtype="boolean")
    top[~shown] = pd.NA
    out["top"] = top
    out["suppressed"] = suppressed
    return out[[c for c in out.columns if c != out.geometry.name] + [out.geometry.name]]


def public_forecast_notes(notes: Mapping[str, Any], cells: pd.DataFrame | None, policy: DisclosurePolicy | None) -> dict[str, Any]:
    """A surface's notes as published with ``cells`` (a :func:`public_forecast` release): without
    the study-wide totals, with the sum of the published values and the count of suppressed cells.
    """
    if policy is None:
        return dict(notes)
    out = {k: v for k, v in notes.items() if k not in WITHHELD_NOTES}
    if cells is not None:
        out["expected_published"] = round(float(np.nansum(pd.to_numeric(cells["expected"], errors="coerce"))), 6)
        out["suppressed_cells"] = int(np.asarray(cells["suppressed"], dtype=bool).sum())
    out["disclosure"] = disclosure_record(policy)
    return out


@dataclass(frozen=True, eq=False)
class PublicForecast:
    """The public release of a :class:`ForecastSurface` under ``policy``: ``cells`` (see
    :func:`public_forecast`), ``notes`` and the ``surface`` it comes from.
    """

    cells: gpd.GeoDataFrame
    notes: dict[str, Any]
    policy: DisclosurePolicy
    surface: ForecastSurface

    def write(
        self, out_dir: str | Path, formats: Sequence[str] | None = None, *, command: str | None = None, export: Export | None = None
    ) -> Written:
        """Write what :meth:`ForecastSurface.write` writes, under the same names, with the public
        cells and notes; the manifest records the policy under ``disclosure``.
        """
        s = self.surface
        out = Path(out_dir)
        lang = s.options.backtest.lang
        export = export or Export(lang=lang)
        fmts = list(formats or DEFAULT_FORMATS)
        bt = s.backtest
        paths = io.write_outputs(
            out,
            fmts,
            layers={SURFACE_LAYER: self.cells},
            tables={"pronostico_resumen": bt.summary.round(6), "pronostico_curva": bt.curve.round(6)},
            workbook=SURFACE_LAYER,
            export=export,
        )
        hz = s.options.horizon
        title = label("forecast", "curve_title", lang).format(
            horizon=label("forecast", f"horizon_{hz}", lang), origins=len(bt.notes[hz]["origins"])
        )
        curve = bt.curve[bt.curve["horizon"] == hz].drop(columns="horizon")
        paths.append(io.write_text(curve_svg(curve, lang=lang, title=title), out / f"pronostico_curva_{hz}.svg"))
        return write_result(
            kind=SURFACE_KIND,
            out_dir=out,
            files=paths,
            options=s.job if s.job is not None else s.options,
            inputs=[p.resolve() for p in s.inputs],
            formats=fmts,
            command=command,
            export=export,
            notes=self.notes,
            disclosure=disclosure_record(self.policy),
        )


def forecast_release(
    surface: ForecastSurface, records: Records, policy: DisclosurePolicy, *, whole_cells: bool | None = None
) -> PublicForecast:
    """The public release of ``surface``, with each cell's count taken from ``records`` (the data it
    was fitted on); ``whole_cells`` (see :func:`public_forecast`) defaults to True unless the
    surface's job names zones.
    """
    grid = surface.backtest.grid
    if grid is None:
        raise InputError("the forecast surface carries no grid: its counts cannot be taken")
    times, xy, w = dated_points(records, surface.options.backtest.metric_crs)
    past = past_at(times, xy, grid.locate(xy), w, surface.start)
    counts = window_counts(past.cell, past.age_days, past.weight, len(grid), method=surface.method, params=surface.params)
    if whole_cells is None:
        whole = surface.job is None or getattr(surface.job, "zones", None) is None
    else:
        whole = whole_cells
    cells = public_forecast(
        surface.cells,
        policy,
        counts=counts,
        params=surface.params,
        cell_size_m=grid.cell_size_m,
        top_share=surface.options.backtest.select_share,
        whole_cells=whole,
        metric_crs=str(surface.options.backtest.metric_crs),
    )
    notes = json.loads(json.dumps(public_forecast_notes(surface.notes, cells, policy)))
    return PublicForecast(cells=cells, notes=notes, policy=policy, surface=surface)


def run_public_forecast_job(job: ForecastSurfaceJob, policy: DisclosurePolicy) -> PublicForecast:
    """Load the job's files, run :func:`next_period_forecast` and release it under ``policy``; nothing is written."""
    zones = load_source_zones(job.zones, job.options.backtest.metric_crs)
    records = load_source_points(job.points, zones)
    run = next_period_forecast(records, zones=zones, options=job.options)
    return forecast_release(dataclasses.replace(run, job=job, inputs=job.inputs), records, policy)
