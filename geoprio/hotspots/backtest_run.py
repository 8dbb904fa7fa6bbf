"""Backtests of hot-spot methods: :func:`run_backtest` and its result, :class:`BacktestRun`.

:func:`run_backtest` fits every method (prior counts, recent counts, kernel density, Gi*,
HDBSCAN, DBSCAN) on the records before a split date and scores it on the records after,
over the grid cells of :mod:`geoprio.hotspots.grid`; the metrics (hit rate, PAI, PEI, RRI)
come from the numeric core :mod:`geoprio.hotspots.backtest`. It writes nothing:
``run.write(out_dir)`` writes the table, the hit-rate curve (CSV and SVG, :func:`curve_svg`),
the cells, the notes and the manifest (kind ``geoprio.backtest``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoprio.errors import InputError
from geoprio.hotspots.backtest import DEFAULT_AREA_SHARES, capture_curve, evaluate_methods
from geoprio.hotspots.clusters import DensityClusters, cluster_polygons
from geoprio.hotspots.density import kernel_density
from geoprio.hotspots.gistar import gi_star, make_weights
from geoprio.hotspots.grid import Grid, make_cells, to_metric
from geoprio.hotspots.options import HotspotOptions, as_timestamp
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.results import Written, write_result
from geoprio.labels import label
from geoprio.numbers import LangNumber
from geoprio.options import Options
from geoprio.records.load import Records
from geoprio.records.report import ValidationReport
from geoprio.zones.layers import Zones

__all__ = ["BACKTEST_KIND", "BACKTEST_METHODS", "BacktestRun", "backtest_title", "curve_svg", "run_backtest"]

#: The manifest kind of a backtest.
BACKTEST_KIND = "geoprio.backtest"

#: Methods scored by :func:`run_backtest` (``prior`` is the baseline).
BACKTEST_METHODS: tuple[str, ...] = ("prior", "recent", "kde", "gistar", "hdbscan", "dbscan")


@dataclass(frozen=True, eq=False)
class BacktestRun:
    """Everything :func:`run_backtest` produced: the metrics table, the hit-rate curve and
    the cells with their training and test counts and each method's score; ``write`` writes it.

    ``job`` is the file-level options object when the run was made from files
    (:class:`geoprio.hotspots.jobs.BacktestJob`); ``inputs`` are the files it read and ``reports``
    the validation reports of the records loaded from them; ``title``
    titles the curve (a generic title when None).
    """

    table: pd.DataFrame
    curve: pd.DataFrame
    cells: gpd.GeoDataFrame
    options: HotspotOptions
    params: dict[str, Any]
    notes: dict[str, Any]
    job: Options | None = None
    inputs: tuple[Path, ...] = ()
    reports: tuple[ValidationReport, ...] = ()
    title: str | None = None

    kind: str = field(default=BACKTEST_KIND, init=False)
    #: Layer formats of the cells written when none are asked for.
    default_formats: ClassVar[tuple[str, ...]] = ("gpkg",)

    def write(
        self,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        inputs: Sequence[str | Path] | None = None,
        title: str | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write ``backtest_tabla.csv``, ``backtest_curva.csv``/``.svg``, the cells, the notes and ``manifest.json``."""
        out = Path(out_dir)
        fmts = list(formats) if formats else list(self.default_formats)
        export = export or Export(lang=self.options.lang)
        paths = [
            io.write_table(self.table.round(6), out / "backtest_tabla.csv", export=export),
            io.write_table(self.curve.round(6), out / "backtest_curva.csv", export=export),
            io.write_text(curve_svg(self.curve, lang=self.options.lang, title=title or self.title), out / "backtest_curva.svg"),
        ]
        paths += io.write_outputs(
            out,
            fmts,
            layers={"backtest_celdas": self.cells},
            workbook="backtest",
            sheets={"backtest_tabla": self.table.round(6), "backtest_curva": self.curve.round(6)},
            export=export,
        )
        paths.append(io.write_json(self.notes, out / "backtest_notas.json"))
        used = self.inputs if inputs is None else tuple(Path(p) for p in inputs)
        return write_result(
            kind=self.kind,
            out_dir=out,
            files=paths,
            options=self.job,
            inputs=[p.resolve() for p in used],
            formats=fmts,
            command=command,
            export=export,
            parameters=self.params,
            notes=self.notes,
        )


def _dates(records: Records) -> pd.Series:
    return pd.to_datetime(records.data["date"]).reset_index(drop=True)


def run_backtest(
    records: Records,
    *,
    split: dt.date | str,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    zones: Zones | None = None,
    options: HotspotOptions | None = None,
    methods: Sequence[str] = BACKTEST_METHODS,
    shares: Sequence[float] = DEFAULT_AREA_SHARES,
) -> BacktestRun:
    """Fit every method on ``[start, split)`` and score it on ``[split, end]``.

    Parameters
    ----------
    split
        First day of the test period; it must fall inside the data's dates.
    start, end
        Optional bounds (default: the first and last dates of the data; ``end`` inclusive).
    zones
        Study area; without zones it is the concave hull of the training points.
    methods
        Among ``prior`` (past counts per cell, the baseline), ``recent`` (counts in the
        last stretch of training as long as the test period), ``kde``, ``gistar`` (z),
        ``hdbscan`` and ``dbscan`` (each cell scored by the incident density of the
        cluster polygon containing its centre).
    shares
        Flagged-area shares (default 1, 2, 5 and 10 %).
    """
    opts = options or HotspotOptions()
    bad = [m for m in methods if m not in BACKTEST_METHODS]
    if bad or not methods:
        raise InputError(f"unknown backtest method(s) {bad}; choose from {list(BACKTEST_METHODS)}")
    dates = _dates(records)
    ok = dates.notna().to_numpy()
    if not ok.any():
        raise InputError(f"{records.report.source}: no record has a date; a backtest needs dated records")
    first, last = dates[ok].min(), dates[ok].max()
    t_split = as_timestamp(split, "split")
    t0 = as_timestamp(start, "start") if start is not None else first.normalize()
    t1 = as_timestamp(end, "end") + pd.Timedelta(days=1) if end is not None else last + pd.Timedelta(microseconds=1)
    if not (first < t_split <= last):
        raise InputError(f"split date {t_split.date()} is outside the data ({first.date()} – {last.date()}); it must fall inside")
    if not t0 < t_split < t1:
        raise InputError(f"start ({t0.date()}) must come before split ({t_split.date()}), and split before end")
    d = dates.to_numpy()
    train = ok & (d >= t0) & (d < t_split)
    test = ok & (d >= t_split) & (d < t1)
    if not train.any():
        raise InputError(f"the training period {t0.date()} – {t_split.date()} is empty")
    if not test.any():
        raise InputError(f"the test period from {t_split.date()} is empty")
    xy_all = to_metric(records, opts.metric_crs)
    w_all = records.data["weight"].to_numpy(dtype=float)
    grid = make_cells(zones=zones, xy=xy_all[train], cell_size_m=opts.cell_size_m, shape=opts.shape, metric_crs=opts.metric_crs)
    cell_all = grid.locate(xy_all)
    inside = cell_all >= 0
    tr, te = train & inside, test & inside
    if not tr.any():
        raise InputError("no training incident falls in the study area")
    if not te.any():
        raise InputError("no test incident falls in the study area; the test period is empty there")
    train_counts = grid.count(cell_all[tr], w_all[tr])
    test_counts = grid.count(cell_all[te], w_all[te])
    test_days = ((t1 if end is not None else last.normalize() + pd.Timedelta(days=1)) - t_split).days
    train_days = (t_split - max(t0, first.normalize())).days
    notes: dict[str, Any] = {
        "train": {
            "from": str(max(t0, first).date()),
            "to": str((t_split - pd.Timedelta(days=1)).date()),
            "incidents": float(w_all[tr].sum()),
        },
        "test": {
            "from": str(t_split.date()),
            "to": str((last if end is None else min(as_timestamp(end, "end"), last)).date()),
            "incidents": float(w_all[te].sum()),
        },
        "outside_study_area": {"train": int((train & ~inside).sum()), "test": int((test & ~inside).sum())},
        "cells": len(grid),
        "study_area_km2": round(float(grid.area_m2.sum()) / 1e6, 3),
    }
    scores: dict[str, np.ndarray] = {}
    params: dict[str, Any] = {"options": opts.to_dict(), "split": str(t_split.date()), "methods": list(methods), "shares": list(shares)}
    xy_tr, w_tr = xy_all[tr], w_all[tr]
    for m in methods:
        if m == "prior":
            scores[m] = train_counts
        elif m == "recent":
            days = max(1, min(test_days, train_days))
            rec = tr & (dates.to_numpy() >= t_split - pd.Timedelta(days=days))
            scores[m] = grid.count(cell_all[rec], w_all[rec])
            params["recent_days"] = days
        else:
            scores[m] = _fitted_scores(m, xy_tr, w_tr, train_counts, grid, opts, params, notes)
    table = evaluate_methods(
        scores, test_counts, grid.area_m2, train_counts=train_counts, shares=shares, baseline="prior" if "prior" in scores else None
    )
    curve = capture_curve(scores, test_counts, grid.area_m2)
    frame = grid.cells.frame
    cells = gpd.GeoDataFrame(
        {
            "cell_id": frame["zone_id"].to_numpy(),
            "zone_id": frame["parent_id"].to_numpy(),
            "zone_name": frame["parent_name"].to_numpy(),
            "area_km2": frame["area_km2"].to_numpy(),
            "train": train_counts,
            "test": test_counts,
            **{f"score_{k}": v for k, v in scores.items()},
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    return BacktestRun(table=table, curve=curve, cells=cells, options=opts, params=params, notes=notes)


def _fitted_scores(
    method: str,
    xy: np.ndarray,
    w: np.ndarray,
    train_counts: np.ndarray,
    grid: Grid,
    opts: HotspotOptions,
    params: dict[str, Any],
    notes: dict[str, Any],
) -> np.ndarray:
    """Each cell's score by a method fitted on the training points (``kde``, ``gistar``, ``hdbscan``, ``dbscan``).

    Records the fitted parameters in ``params`` and the clusters found in ``notes``.
    """
    if method == "kde":
        bw = opts.kde_bandwidth(xy, w)
        params["bandwidth_m"] = float(bw)
        return kernel_density(xy, grid.xy, bandwidth_m=bw, kernel=opts.kernel, weights=w)  # type: ignore[arg-type]
    if method == "gistar":
        W = make_weights(grid.xy, kind=opts.weights, distance_m=opts.band_m, k=opts.k)
        return gi_star(train_counts, W, permutations=0, fdr=False).z
    model = DensityClusters(
        method=method,  # type: ignore[arg-type]
        eps_m=opts.eps_m,
        min_samples=opts.min_samples,
        min_cluster_size=opts.min_cluster_size,
        min_membership=opts.min_membership,
        selection=opts.selection,
        engine=opts.engine,
    ).fit(xy, w)
    params[method] = model.params_
    notes[f"{method}_clusters"] = model.n_clusters_
    return _cluster_cell_scores(model.labels_, xy, w, grid, opts)


def _cluster_cell_scores(labels: np.ndarray, xy: np.ndarray, w: np.ndarray, grid: Grid, opts: HotspotOptions) -> np.ndarray:
    """Each cell's score: the incident density (per km²) of the cluster polygon containing its centre; 0 outside clusters."""
    out = np.zeros(len(grid))
    if not (labels >= 0).any():
        return out
    polys = cluster_polygons(xy, labels, ratio=opts.hull_ratio, buffer_m=opts.hull_buffer_m)
    k = len(polys)
    m = labels >= 0
    dens = np.bincount(labels[m], weights=w[m], minlength=k) / (shapely.area(polys) / 1e6)
    tree = shapely.STRtree(polys)
    ci, pi = tree.query(shapely.points(grid.xy), predicate="within")
    np.maximum.at(out, ci, dens[pi])
    return out


def backtest_title(notes: dict[str, Any], *, cell_size_m: float, lang: str = "es") -> str:
    """The title of a backtest (its table and curve) from :func:`run_backtest`'s ``notes``, with
    the counts in ``lang``'s number format: ``Backtest: entrenamiento 2019-01-01 – 2022-12-31
    (4.101 incidentes), …, 1.041 celdas de 500 m``.
    """
    train, test = notes["train"], notes["test"]
    return label("hotspots", "bt_title", lang).format(
        train=f"{train['from']} – {train['to']}",
        ntrain=LangNumber(train["incidents"], lang),
        test=f"{test['from']} – {test['to']}",
        ntest=LangNumber(test["incidents"], lang),
        cells=LangNumber(notes["cells"], lang),
        size=LangNumber(cell_size_m, lang),
    )


# --------------------------------------------------------------------------- the curve as SVG


def _method_name(method: str, lang: str) -> str:
    """The readable name of a backtest method (or of ``best``/``random``), else the code itself."""
    try:
        return label("hotspots", f"method_{method}", lang)
    except KeyError:
        return method


_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4")


def curve_svg(curve: pd.DataFrame, *, lang: str = "es", title: str | None = None, max_share: float = 0.2) -> str:
    """The hit-rate curve (hit rate against flagged-area share, up to ``max_share``) as a small SVG."""
    lang = "en" if lang == "en" else "es"
    W, H, L, R, T, B = 640, 420, 60, 150, 36, 50
    pw, ph = W - L - R, H - T - B
    c = curve[curve["area_share"] <= max_share + 1e-12]
    methods = [m for m in c.columns if m not in ("area_share",)]
    top = float(c[methods].to_numpy().max())
    step = 0.1 if top <= 0.5 else 0.2
    ymax = min(1.0, max(step, math.ceil(top / step - 1e-9) * step))

    def px(s: float) -> float:
        return L + pw * s / max_share

    def py(v: float) -> float:
        return T + ph * (1 - v / ymax)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">']
    parts.append(f'<rect width="{W}" height="{H}" fill="white"/>')
    ttl = title or label("hotspots", "curve_title", lang)
    parts.append(f'<text x="{L}" y="20" font-size="14" font-weight="bold">{escape(ttl)}</text>')
    for i in range(5):
        s = max_share * i / 4
        parts.append(f'<line x1="{px(s):.1f}" y1="{T}" x2="{px(s):.1f}" y2="{T + ph}" stroke="#ddd"/>')
        parts.append(f'<text x="{px(s):.1f}" y="{T + ph + 16}" text-anchor="middle">{100 * s:g} %</text>')
    for v in np.arange(0.0, ymax + 1e-9, step):
        parts.append(f'<line x1="{L}" y1="{py(v):.1f}" x2="{L + pw}" y2="{py(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{L - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{100 * v:.0f} %</text>')
    parts.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    xl = label("hotspots", "curve_x", lang)
    yl = label("hotspots", "curve_y", lang)
    parts.append(f'<text x="{L + pw / 2}" y="{H - 10}" text-anchor="middle">{escape(xl)}</text>')
    parts.append(f'<text transform="translate(16 {T + ph / 2}) rotate(-90)" text-anchor="middle">{escape(yl)}</text>')
    for i, m in enumerate(methods):
        colour = "#999" if m in ("best", "random") else _COLOURS[i % len(_COLOURS)]
        dash = ' stroke-dasharray="5 4"' if m in ("best", "random") else ""
        pts = " ".join(f"{px(s):.1f},{py(min(v, ymax)):.1f}" for s, v in zip(c["area_share"], c[m], strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        ly = T + 14 + 18 * i
        parts.append(f'<line x1="{L + pw + 12}" y1="{ly - 4}" x2="{L + pw + 34}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{L + pw + 40}" y="{ly}">{escape(_method_name(m, lang))}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
