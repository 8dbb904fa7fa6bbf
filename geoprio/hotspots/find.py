"""Hot spots on validated records: :func:`find_hotspots` and its result, :class:`HotspotRun`.

:func:`find_hotspots` takes validated records (:class:`geoprio.records.load.Records`), optional
zones (:class:`geoprio.zones.layers.Zones`) and :class:`~geoprio.hotspots.options.HotspotOptions`
and computes, per grid cell (:func:`geoprio.hotspots.grid.make_cells`), the incidents, Gi*
(z, p, FDR, class), the kernel density and the emerging-hot-spot pattern, and the density
clusters with their profiles and complexity rank. It writes nothing: ``run.write(out_dir)``
writes ``hotspots_celdas``, ``hotspots_clusters``, ``hotspots_notas.json`` and the manifest
(kind ``geoprio.hotspots``) by the run protocol of :mod:`geoprio.io.results`.

Computations use codes: the cells carry ``gi_code`` (``hot_99`` … ``cold_99``, ``none``) and
``trend_code``; ``gi_class`` and ``trend_class`` are their words in the options' language
(``geoprio/resources/labels/hotspots.toml``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.errors import InputError
from geoprio.hotspots.accel import ProgressCallback
from geoprio.hotspots.clusters import (
    DEFAULT_COMPLEXITY,
    ComplexityConfig,
    DensityClusters,
    cluster_polygons,
    profile_clusters,
    rank_complexity,
)
from geoprio.hotspots.density import kernel_density
from geoprio.hotspots.emerging import emerging_hotspots, pattern_labels
from geoprio.hotspots.gistar import gi_star, make_weights
from geoprio.hotspots.grid import Grid, make_cells, to_metric, to_output_crs
from geoprio.hotspots.options import PERIOD_FREQ, HotspotOptions
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.results import Written, write_result
from geoprio.labels import label
from geoprio.options import Options
from geoprio.records.gazetteer import approximate_locations
from geoprio.records.harm import load_harm_table
from geoprio.records.load import Records
from geoprio.records.report import ValidationReport
from geoprio.settings import DEFAULT_FORMATS, OUTPUT_CRS
from geoprio.zones.layers import Zones

__all__ = ["GI_CODES", "HOTSPOTS_KIND", "HotspotRun", "find_hotspots", "gi_class_labels", "gi_codes"]

#: The manifest kind of a hot-spot run.
HOTSPOTS_KIND = "geoprio.hotspots"

#: Gi* bin (−3…3, :func:`geoprio.hotspots.gistar.classify`) → class code.
GI_CODES: dict[int, str] = {3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "none", -1: "cold_90", -2: "cold_95", -3: "cold_99"}


def gi_codes(bins: np.ndarray) -> np.ndarray:
    """Gi* class codes of bins (``3`` → ``"hot_99"``, ``0`` → ``"none"``)."""
    return np.array([GI_CODES[int(b)] for b in np.asarray(bins)], dtype=object)


def gi_class_labels(bins: np.ndarray, lang: str = "es") -> np.ndarray:
    """Readable Gi* classes (``3`` → ``"caliente 99 %"``)."""
    words = {b: label("hotspots", code, "en" if lang == "en" else "es") for b, code in GI_CODES.items()}
    return np.array([words[int(b)] for b in np.asarray(bins)], dtype=object)


@dataclass(frozen=True, eq=False)
class HotspotRun:
    """Everything :func:`find_hotspots` produced; ``write`` writes it.

    ``job`` is the file-level options object when the run was made from files
    (:class:`geoprio.hotspots.jobs.HotspotJob`), recorded in the manifest so that the run
    can be replayed; ``inputs`` are the files it read and ``reports``
    the validation reports of the records loaded from them.
    """

    cells: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame | None
    options: HotspotOptions
    params: dict[str, Any]
    notes: dict[str, Any]
    grid: Grid
    job: Options | None = None
    inputs: tuple[Path, ...] = ()
    reports: tuple[ValidationReport, ...] = ()
    #: The disclosure policy of a public release (:func:`geoprio.hotspots.public.public_run`), else None.
    policy: DisclosurePolicy | None = None

    kind: str = field(default=HOTSPOTS_KIND, init=False)
    #: Layer formats written when none are asked for.
    default_formats: ClassVar[tuple[str, ...]] = DEFAULT_FORMATS

    def write(
        self,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        inputs: Sequence[str | Path] | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write ``hotspots_celdas`` and ``hotspots_clusters`` in each format, the notes and ``manifest.json``.

        ``export`` sets the output CRS and CSV dialect (:class:`~geoprio.io.export.Export`);
        with ``xlsx``, one workbook ``hotspots.xlsx`` holds the cells and the clusters.
        """
        out = Path(out_dir)
        fmts = list(formats) if formats else list(self.default_formats)
        export = export or Export(lang=self.options.lang)
        layers = {"hotspots_celdas": self.cells, "hotspots_clusters": self.clusters}
        paths = io.write_outputs(out, fmts, layers=layers, workbook="hotspots", export=export)
        paths.append(io.write_json(self.notes, out / "hotspots_notas.json"))
        used = self.inputs if inputs is None else tuple(Path(p) for p in inputs)
        extra: dict[str, Any] = {"disclosure": disclosure_record(self.policy)} if self.policy is not None else {}
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
            **extra,
        )


def _time_bins(dates: pd.Series, time_bin: str) -> tuple[np.ndarray, list[str]]:
    per = dates.dt.to_period(PERIOD_FREQ[time_bin])
    ok = per.notna().to_numpy()
    if not ok.any():
        return np.full(len(dates), -1), []
    lo, hi = per[ok].min(), per[ok].max()
    labels = pd.period_range(lo, hi, freq=PERIOD_FREQ[time_bin])
    idx = np.full(len(dates), -1, dtype=np.int64)
    idx[ok] = np.asarray(per.array.asi8, dtype=np.int64)[ok] - lo.ordinal
    return idx, [str(p) for p in labels]


def find_hotspots(
    records: Records,
    *,
    zones: Zones | None = None,
    context: Mapping[str, Records] | None = None,
    options: HotspotOptions | None = None,
    complexity: ComplexityConfig = DEFAULT_COMPLEXITY,
    harm_table: str | None = None,
    progress: ProgressCallback | None = None,
) -> HotspotRun:
    """Hot-spot cells (Gi*, KDE, emerging patterns) and ranked density clusters.

    Parameters
    ----------
    records
        Point records (:func:`geoprio.records.load.load_points`).
    zones
        The study area and the zones clusters are reported in; without zones the study
        area is the concave hull of the points (grown by 250 m).
    context
        Other point sources to count inside each cluster (``{"convivencia": records}``).
    options
        :class:`HotspotOptions` (defaults documented there).
    complexity
        How clusters are ranked (:class:`geoprio.hotspots.clusters.ComplexityConfig`).
    harm_table
        Harm table for the clusters' ``harm`` (default: geoprio's).
    progress
        Called as ``progress(step, done, total)`` during the long steps (Gi* permutations,
        clustering); :func:`geoprio.cli.progress.console_progress` draws it on the console.
    """
    opts = options or HotspotOptions()
    if records.layout != "points":
        raise InputError(f"{records.report.source}: hot spots need point records with coordinates, got {records.layout} records")
    xy_all = to_metric(records, opts.metric_crs)
    grid = make_cells(zones=zones, xy=xy_all, cell_size_m=opts.cell_size_m, shape=opts.shape, metric_crs=opts.metric_crs)
    cell_all = grid.locate(xy_all)
    inside = cell_all >= 0
    if not inside.any():
        raise InputError(f"{records.report.source}: none of {len(xy_all):,} points falls in the study area")
    report = records.report.copy()  # the rows outside the study area are not used: say so
    if not inside.all():
        out = records.data.loc[~inside]
        xcol, ycol = report.columns.get("x") or "x", report.columns.get("y") or "y"
        examples = [f"{a:.6f}, {b:.6f}" for a, b in out[["x", "y"]].to_numpy()[:5]]
        report.drop("outside_study_area", out["row"].to_numpy(), f"{xcol}/{ycol}", examples)
    data = records.data.loc[inside].reset_index(drop=True)
    xy = xy_all[inside]
    cell = cell_all[inside]
    w = data["weight"].to_numpy(dtype=float)
    counts = grid.count(cell, w)
    notes: dict[str, Any] = {"points": int(len(xy_all)), "points_used": int(inside.sum()), "points_outside": int((~inside).sum())}
    notes["study_area"] = "zones" if zones is not None else "points"  # "points": the cells at the edge are cut around incidents
    approximate = approximate_locations(data)
    if approximate is not None:  # points placed at a barrio by name: every output says so
        notes["approximate_locations"] = approximate

    W = make_weights(grid.xy, kind=opts.weights, distance_m=opts.band_m, k=opts.k)
    gi = gi_star(counts, W, permutations=opts.permutations, fdr=opts.fdr, random_state=opts.random_state, progress=progress)
    bw = opts.kde_bandwidth(xy, w)
    kde = kernel_density(xy, grid.xy, bandwidth_m=bw, kernel=opts.kernel, weights=w)  # type: ignore[arg-type]
    notes["bandwidth_m"] = round(float(bw), 1)
    if opts.permutations and opts.fdr:
        need = math.ceil(len(grid) / ((opts.permutations + 1) * 0.10))
        # plain data (the CLI words it): the smallest permutation p-value is 1/(permutations + 1);
        # with the FDR over `cells` cells, at least `cells_needed` must reach it for any to be
        # significant at 90 %
        notes["permutation_resolution"] = {
            "code": "permutation_resolution",
            "permutations": int(opts.permutations),
            "cells": len(grid),
            "cells_needed": need,
        }
    notes["islands"] = int((gi.n_neighbors == 0).sum())

    frame = grid.cells.frame
    cells = gpd.GeoDataFrame(
        {
            "cell_id": frame["zone_id"].to_numpy(),
            "zone_id": frame["parent_id"].to_numpy(),
            "zone_name": frame["parent_name"].to_numpy(),
            "area_km2": frame["area_km2"].to_numpy(),
            "incidents": counts,
            "gi_z": gi.z,
            "gi_p": gi.p,
            **({"gi_p_sim": gi.p_sim} if gi.p_sim is not None else {}),
            "gi_q": gi.q,
            "gi_bin": gi.bin.astype(int),
            "gi_code": gi_codes(gi.bin),
            "gi_class": gi_class_labels(gi.bin, opts.lang),
            "kde_km2": kde,
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    if opts.time_bin is not None:
        _add_emerging(cells, data, cell, w, W, grid, opts, notes)

    clusters_gdf = None
    params: dict[str, Any] = {"options": opts.to_dict(), "bandwidth_m": float(bw)}
    if opts.clusters != "none":
        model = DensityClusters(
            method=opts.clusters,
            eps_m=opts.eps_m,
            min_samples=opts.min_samples,
            min_cluster_size=opts.min_cluster_size,
            min_membership=opts.min_membership,
            selection=opts.selection,
            engine=opts.engine,
        ).fit(xy, w, progress=progress)
        params["clusters"] = model.params_
        clusters_gdf, cnotes = _clusters_frame(model.labels_, xy, data, zones, context, opts, complexity, harm_table, float(w.sum()))
        notes["clusters"] = cnotes
    return HotspotRun(cells=cells, clusters=clusters_gdf, options=opts, params=params, notes=notes, grid=grid, reports=(report,))


def _add_emerging(
    cells: gpd.GeoDataFrame,
    data: pd.DataFrame,
    cell: np.ndarray,
    w: np.ndarray,
    W: Any,
    grid: Grid,
    opts: HotspotOptions,
    notes: dict[str, Any],
) -> None:
    """Add the emerging-hot-spot columns to ``cells`` (or say in ``notes`` why they were skipped)."""
    assert opts.time_bin is not None
    dates = pd.to_datetime(data["date"]).reset_index(drop=True)
    bidx, blabels = _time_bins(dates, opts.time_bin)
    if len(blabels) < 3:
        notes["emerging"] = {"code": "emerging_skipped", "bins": len(blabels), "time_bin": opts.time_bin, "bins_needed": 3}
        return
    ok = bidx >= 0
    T = len(blabels)
    C = np.bincount(cell[ok] * T + bidx[ok], weights=w[ok], minlength=len(grid) * T).reshape(len(grid), T)
    em = emerging_hotspots(C, W, bins=blabels, alpha=opts.alpha, trend_alpha=opts.trend_alpha, fdr=opts.fdr)
    cells["trend_code"] = em.pattern
    cells["trend_class"] = pattern_labels(em.pattern, opts.lang)
    cells["trend_tau"] = em.trend_tau
    cells["trend_z"] = em.trend_z
    cells["trend_p"] = em.trend_p
    cells["hot_bins"] = em.hot_bins
    cells["cold_bins"] = em.cold_bins
    notes["time_bins"] = blabels


def _clusters_frame(
    labels: np.ndarray,
    xy: np.ndarray,
    data: pd.DataFrame,
    zones: Zones | None,
    context: Mapping[str, Records] | None,
    opts: HotspotOptions,
    complexity: ComplexityConfig,
    harm_table: str | None,
    total: float,
) -> tuple[gpd.GeoDataFrame | None, dict[str, Any]]:
    k = int(labels.max()) + 1 if (labels >= 0).any() else 0
    notes: dict[str, Any] = {"n_clusters": k, "noise_share": float((labels < 0).mean())}
    if k == 0:
        return None, notes
    polys = cluster_polygons(xy, labels, ratio=opts.hull_ratio, buffer_m=opts.hull_buffer_m)
    harm = None
    if "category" in data and data["category"].notna().any():
        harm = load_harm_table(harm_table).lookup(data["category"]).to_numpy(dtype=float)
        if np.isfinite(harm).mean() < 0.5:
            notes["harm"] = "not used: fewer than half of the categories are in the harm table"
            harm = None
    ctx = {name: to_metric(rec, opts.metric_crs) for name, rec in (context or {}).items()}
    if zones is not None:
        zinfo = (np.asarray(zones.metric_geometry.values, dtype=object), zones.frame["name"].astype(str).to_numpy())
    else:
        zinfo = None
    prof = profile_clusters(labels, xy, data, polys, context=ctx, zones=zinfo, harm=harm, total_weight=total, lang=opts.lang)
    if complexity.index.lang != opts.lang:
        complexity = complexity.model_copy(update={"index": complexity.index.model_copy(update={"lang": opts.lang})})
    ranked, rnotes = rank_complexity(prof, complexity)
    notes["complexity"] = rnotes
    order = ranked["cluster_id"].str[2:].astype(int).to_numpy() - 1
    gdf = gpd.GeoDataFrame(ranked, geometry=to_output_crs(polys[order], opts.metric_crs).values, crs=OUTPUT_CRS)
    lon_lat = to_output_crs(shapely.points(ranked["x_m"].to_numpy(), ranked["y_m"].to_numpy()), opts.metric_crs)
    gdf.insert(gdf.columns.get_loc("x_m"), "lon", lon_lat.x.round(6).to_numpy())
    gdf.insert(gdf.columns.get_loc("x_m"), "lat", lon_lat.y.round(6).to_numpy())
    gdf = gdf.drop(columns=["x_m", "y_m"])
    return gdf, notes
