"""Hot spots end to end: grid cells, Gi*, kernel density, clusters, emerging patterns, backtest.

This module ties the numeric cores (:mod:`geoprio.hotspots.gistar`, :mod:`geoprio.hotspots.density`,
:mod:`geoprio.hotspots.clusters`, :mod:`geoprio.hotspots.emerging`, :mod:`geoprio.hotspots.backtest`,
:mod:`geoprio.hotspots.displacement`) to validated records (:class:`geoprio.records.load.Records`) and
zones (:class:`geoprio.zones.layers.Zones`):

* :func:`make_cells` covers the study area (the zones, or the concave hull of the points)
  with square or hexagonal cells (:func:`geoprio.zones.layers.make_grid`) and locates points in
  them (:class:`geoprio.zones.assign.PointLocator`);
* :func:`find_hotspots` computes, per cell, the incidents, Gi* (z, p, FDR, class), the
  kernel density and the emerging-hot-spot pattern, and the density clusters with their
  profiles and complexity rank;
* :func:`run_backtest` fits every method on the period before a split date and scores it
  on the period after (hit rate, PAI, PEI, RRI; prior counts are the baseline);
* :func:`run_displacement` measures displacement around intervention polygons (WDQ);
* ``write_*`` functions write the outputs through :mod:`geoprio.io.files`, in EPSG:4326, with a
  ``manifest.json`` beside them (:func:`write_run_manifest`).

All distances are metres in a projected CRS (``metric_crs``, EPSG:9377 by default; points
far from Colombia need another one, e.g. their UTM zone, and the error says which).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geoprio.errors import CRSError, InputError
from geoprio.hotspots.backtest import DEFAULT_AREA_SHARES, capture_curve, evaluate_methods
from geoprio.hotspots.clusters import (
    DEFAULT_COMPLEXITY,
    ComplexityConfig,
    DensityClusters,
    cluster_polygons,
    profile_clusters,
    rank_complexity,
)
from geoprio.hotspots.density import KERNELS, default_bandwidth, kernel_density
from geoprio.hotspots.displacement import DEFAULT_BUFFER_M, DisplacementResult, displacement_areas, measure_displacement
from geoprio.hotspots.emerging import emerging_hotspots, pattern_labels
from geoprio.hotspots.gistar import gi_star, make_weights
from geoprio.io import files as io
from geoprio.records.load import Records
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_METRIC_CRS, OUTPUT_CRS
from geoprio.zones.assign import PointLocator
from geoprio.zones.layers import Zones, check_metric_crs, make_grid

__all__ = [
    "BACKTEST_METHODS",
    "BacktestRun",
    "DisplacementRun",
    "Grid",
    "HotspotOptions",
    "HotspotRun",
    "area_from_points",
    "curve_svg",
    "find_hotspots",
    "gi_class_labels",
    "make_cells",
    "run_backtest",
    "run_displacement",
    "to_metric",
    "write_backtest",
    "write_displacement",
    "write_hotspots",
    "write_run_manifest",
]

MANIFEST_NAME = "manifest.json"

#: Methods scored by :func:`run_backtest` (``prior`` is the baseline).
BACKTEST_METHODS: tuple[str, ...] = ("prior", "recent", "kde", "gistar", "hdbscan", "dbscan")

TimeBin = Literal["year", "quarter", "month", "week"]
_PERIOD_FREQ = {"year": "Y", "quarter": "Q", "month": "M", "week": "W"}


# --------------------------------------------------------------------------- options


def _positive(name: str, value: float | None, *, allow_none: bool = True, allow_zero: bool = False) -> None:
    if value is None:
        if not allow_none:
            raise InputError(f"{name} is required")
        return
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        expected = "a non-negative" if allow_zero else "a positive"
        unit = " of metres" if name.endswith("_m") else ""
        raise InputError(f"{name} must be {expected} number{unit}, got {value!r}")


@dataclass(frozen=True)
class HotspotOptions:
    """Every parameter of a hot-spot run (recorded in the manifest).

    Attributes
    ----------
    cell_size_m
        Grid cell size (square side, or hexagon width across flats): 150 m by default,
        about a block with its streets, like the 500-ft cells of US evaluations.
    shape
        ``"square"`` or ``"hex"``.
    weights, distance_m, k
        Gi* neighbours: a distance band (default ``1.5 × cell_size_m``: the 8 cells around
        a square, the 6 around a hexagon) or the ``k`` nearest cells.
    permutations, random_state
        Gi* conditional permutations (seeded); 0, the default, is analytic inference, as
        ArcGIS's Hot Spot Analysis does. With the FDR correction over thousands of cells
        permutations need to be many (the smallest p-value is ``1/(P + 1)``): 9,999 or more.
    fdr
        Benjamini–Hochberg correction of the Gi* p-values before classing (default on).
    bandwidth_m, kernel
        Kernel density radius in metres: by default twice the cell size (300 m with
        150 m cells), local enough to predict where the next incidents fall (see the
        README's backtests: wider kernels lose to prior counts at small flagged areas);
        ``"silverman"`` uses ArcGIS's spatial Silverman rule (:func:`geoprio.hotspots.density.default_bandwidth`,
        smoother, for city-wide maps). The kernel is ``"quartic"`` by default.
    clusters, eps_m, min_samples, min_cluster_size, min_membership, selection, engine
        ``"hdbscan"``, ``"dbscan"`` or ``"none"``, and their parameters
        (:class:`geoprio.hotspots.clusters.DensityClusters`).
    hull_ratio, hull_buffer_m
        Cluster polygons: concave-hull ratio and buffer.
    time_bin, alpha, trend_alpha
        Emerging hot spots: ``"year"``, ``"quarter"``, ``"month"``, ``"week"`` or None
        (skip); bin significance and trend significance.
    metric_crs
        Projected CRS in metres.
    lang
        ``"es"`` or ``"en"`` for labels.
    """

    cell_size_m: float = 150.0
    shape: Literal["square", "hex"] = "square"
    weights: Literal["distance", "knn"] = "distance"
    distance_m: float | None = None
    k: int = 8
    permutations: int = 0
    random_state: int = 20241
    fdr: bool = True
    bandwidth_m: float | Literal["silverman"] | None = None
    kernel: str = "quartic"
    clusters: Literal["hdbscan", "dbscan", "none"] = "hdbscan"
    eps_m: float | None = None
    min_samples: float | None = None
    min_cluster_size: int | None = None
    min_membership: float = 0.1
    selection: Literal["leaf", "eom"] = "leaf"
    engine: Literal["auto", "hdbscan", "sklearn"] = "auto"
    hull_ratio: float = 0.3
    hull_buffer_m: float = 25.0
    time_bin: TimeBin | None = "year"
    alpha: float = 0.05
    trend_alpha: float = 0.05
    metric_crs: str = DEFAULT_METRIC_CRS
    lang: Literal["es", "en"] = "es"

    def validate(self) -> HotspotOptions:
        """Raise :class:`InputError` naming the first bad parameter; return self."""
        _positive("cell_size_m", self.cell_size_m, allow_none=False)
        _positive("distance_m", self.distance_m)
        if self.bandwidth_m != "silverman":
            _positive("bandwidth_m", self.bandwidth_m)  # type: ignore[arg-type]
        _positive("eps_m", self.eps_m)
        _positive("hull_buffer_m", self.hull_buffer_m, allow_zero=True)
        if self.min_samples is not None and (not math.isfinite(self.min_samples) or self.min_samples < 1):
            raise InputError(f"min_samples must be at least 1, got {self.min_samples!r}")
        if self.min_cluster_size is not None and self.min_cluster_size < 2:
            raise InputError(f"min_cluster_size must be at least 2, got {self.min_cluster_size!r}")
        if self.selection not in ("leaf", "eom"):
            raise InputError(f"selection must be 'leaf' or 'eom', got {self.selection!r}")
        if self.shape not in ("square", "hex"):
            raise InputError(f"shape must be 'square' or 'hex', got {self.shape!r}")
        if self.weights not in ("distance", "knn"):
            raise InputError(f"weights must be 'distance' or 'knn', got {self.weights!r}")
        if self.weights == "knn" and (isinstance(self.k, bool) or self.k < 1):
            raise InputError(f"k must be a positive integer, got {self.k!r}")
        if self.permutations < 0:
            raise InputError(f"permutations must be 0 or more, got {self.permutations!r}")
        if self.kernel not in KERNELS:
            raise InputError(f"kernel must be one of {list(KERNELS)}, got {self.kernel!r}")
        if self.clusters not in ("hdbscan", "dbscan", "none"):
            raise InputError(f"clusters must be 'hdbscan', 'dbscan' or 'none', got {self.clusters!r}")
        if not 0 <= self.min_membership < 1:
            raise InputError(f"min_membership must be in [0, 1), got {self.min_membership!r}")
        if not 0 <= self.hull_ratio <= 1:
            raise InputError(f"hull_ratio must be in [0, 1], got {self.hull_ratio!r}")
        if self.time_bin is not None and self.time_bin not in _PERIOD_FREQ:
            raise InputError(f"time_bin must be one of {list(_PERIOD_FREQ)} or None, got {self.time_bin!r}")
        for name in ("alpha", "trend_alpha"):
            v = getattr(self, name)
            if not 0 < v < 1:
                raise InputError(f"{name} must be in (0, 1), got {v!r}")
        if self.lang not in ("es", "en"):
            raise InputError(f"lang must be 'es' or 'en', got {self.lang!r}")
        check_metric_crs(self.metric_crs)
        return self

    @property
    def band_m(self) -> float:
        """The Gi* distance band in metres."""
        return float(self.distance_m) if self.distance_m is not None else 1.5 * float(self.cell_size_m)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["distance_m_used"] = self.band_m if self.weights == "distance" else None
        return d


# --------------------------------------------------------------------------- geometry helpers


def _utm_hint(lon: np.ndarray, lat: np.ndarray) -> str:
    lon0, lat0 = float(np.median(lon)), float(np.median(lat))
    zone = int((lon0 + 180) // 6) + 1
    return f"EPSG:{32600 + zone if lat0 >= 0 else 32700 + zone}"


def to_metric(records: Records | pd.DataFrame, metric_crs: str) -> np.ndarray:
    """Record coordinates (``x``/``y`` longitude/latitude) projected to ``metric_crs``, shape ``(n, 2)``.

    Raises :class:`CRSError` when the default Colombian CRS (EPSG:9377) is asked for
    points far outside Colombia, naming the UTM zone to use instead.
    """
    data = records.data if isinstance(records, Records) else records
    crs = check_metric_crs(metric_crs)
    lon = data["x"].to_numpy(dtype=float)
    lat = data["y"].to_numpy(dtype=float)
    if len(lon) and crs.equals(CRS.from_user_input(DEFAULT_METRIC_CRS)):
        x0, y0, x1, y1 = COLOMBIA_BBOX
        outside = ~((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        if outside.mean() > 0.5:
            raise CRSError(
                f"the points lie outside Colombia (median {np.median(lon):.3f}, {np.median(lat):.3f}) but the metric CRS is "
                f"{DEFAULT_METRIC_CRS} (MAGNA-SIRGAS Origen-Nacional); pass metric_crs for their area, e.g. {_utm_hint(lon, lat)} (UTM)"
            )
    tr = Transformer.from_crs(OUTPUT_CRS, crs, always_xy=True)
    x, y = tr.transform(lon, lat)
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def area_from_points(xy: np.ndarray, *, buffer_m: float = 250.0, ratio: float = 0.05) -> shapely.Geometry:
    """A study area for points without zones: their concave hull (``ratio``) grown by ``buffer_m``."""
    xy = np.asarray(xy, dtype=float)
    if len(xy) < 3:
        raise InputError(f"a study area from points needs at least 3 points, got {len(xy)}; give zones")
    u = np.unique(xy, axis=0)
    hull = shapely.concave_hull(shapely.multipoints(u), ratio=ratio)
    return shapely.buffer(hull, buffer_m)


@dataclass(frozen=True, eq=False)
class Grid:
    """Grid cells of a study area: the cells as :class:`Zones` (``zone_id`` is the cell id,
    ``parent_id``/``parent_name`` the zone it overlaps most), their centres ``xy`` and
    areas ``area_m2`` in the metric CRS, and a fitted point locator.
    """

    cells: Zones
    xy: np.ndarray
    area_m2: np.ndarray
    cell_size_m: float
    shape: str
    locator: PointLocator

    @property
    def metric_crs(self) -> str:
        return self.cells.metric_crs

    def __len__(self) -> int:
        return len(self.xy)

    def locate(self, xy: np.ndarray) -> np.ndarray:
        """Cell index of each point (metres), ``-1`` outside every cell."""
        xy = np.asarray(xy, dtype=float)
        if len(xy) == 0:
            return np.zeros(0, dtype=np.int64)
        return self.locator.locate(xy[:, 0], xy[:, 1])

    def count(self, cell: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` (1 each by default) per cell, from cell indices (``-1`` ignored)."""
        cell = np.asarray(cell, dtype=np.int64)
        ok = cell >= 0
        w = np.ones(len(cell)) if weights is None else np.asarray(weights, dtype=float)
        return np.bincount(cell[ok], weights=w[ok], minlength=len(self))


def make_cells(
    *,
    zones: Zones | None = None,
    xy: np.ndarray | None = None,
    cell_size_m: float = 150.0,
    shape: Literal["square", "hex"] = "square",
    metric_crs: str = DEFAULT_METRIC_CRS,
) -> Grid:
    """Grid cells over the zones (or, without zones, over the concave hull of ``xy``)."""
    _positive("cell_size_m", cell_size_m, allow_none=False)
    check_metric_crs(metric_crs)
    if zones is not None:
        area: Zones | gpd.GeoDataFrame = zones
    elif xy is not None:
        area = gpd.GeoDataFrame(geometry=[area_from_points(xy)], crs=metric_crs)
    else:
        raise InputError("give zones or points to define the study area")
    cells = make_grid(area, cell_size_m=cell_size_m, shape=shape, metric_crs=metric_crs, population="none")
    mgeom = np.asarray(cells.frame.geometry.to_crs(metric_crs).values, dtype=object)
    centres = shapely.centroid(mgeom)
    xy_c = np.column_stack([shapely.get_x(centres), shapely.get_y(centres)])
    locator = PointLocator().fit(mgeom)
    return Grid(cells=cells, xy=xy_c, area_m2=shapely.area(mgeom), cell_size_m=float(cell_size_m), shape=shape, locator=locator)


def _bandwidth(opts: HotspotOptions, xy: np.ndarray, w: np.ndarray) -> float:
    """The KDE bandwidth of a run: given, twice the cell size (default) or ArcGIS's rule."""
    if opts.bandwidth_m is None:
        return 2.0 * float(opts.cell_size_m)
    if opts.bandwidth_m == "silverman":
        return default_bandwidth(xy, w, min_m=opts.cell_size_m)
    return float(opts.bandwidth_m)


def _to_wgs(geoms: np.ndarray, metric_crs: str) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=metric_crs).to_crs(OUTPUT_CRS)


_GI_LABELS = {
    "es": {
        3: "caliente 99 %",
        2: "caliente 95 %",
        1: "caliente 90 %",
        0: "no significativo",
        -1: "frío 90 %",
        -2: "frío 95 %",
        -3: "frío 99 %",
    },
    "en": {3: "hot 99 %", 2: "hot 95 %", 1: "hot 90 %", 0: "not significant", -1: "cold 90 %", -2: "cold 95 %", -3: "cold 99 %"},
}


def gi_class_labels(bins: np.ndarray, lang: str = "es") -> np.ndarray:
    """Readable Gi* classes (``3`` → ``"caliente 99 %"``)."""
    t = _GI_LABELS["en" if lang == "en" else "es"]
    return np.array([t[int(b)] for b in np.asarray(bins)], dtype=object)


def _dates(records: Records) -> pd.Series:
    return pd.to_datetime(records.data["date"]).reset_index(drop=True)


# --------------------------------------------------------------------------- hot spots


@dataclass
class HotspotRun:
    """Everything :func:`find_hotspots` produced."""

    cells: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame | None
    options: HotspotOptions
    params: dict[str, Any]
    notes: dict[str, Any]
    grid: Grid
    outputs: list[Path] = field(default_factory=list)
    manifest: Path | None = None


def _time_bins(dates: pd.Series, time_bin: str) -> tuple[np.ndarray, list[str]]:
    per = dates.dt.to_period(_PERIOD_FREQ[time_bin])
    ok = per.notna().to_numpy()
    if not ok.any():
        return np.full(len(dates), -1), []
    lo, hi = per[ok].min(), per[ok].max()
    labels = pd.period_range(lo, hi, freq=_PERIOD_FREQ[time_bin])
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
    """
    opts = (options or HotspotOptions()).validate()
    if records.layout != "points":
        raise InputError(f"{records.report.source}: hot spots need point records with coordinates, got {records.layout} records")
    xy_all = to_metric(records, opts.metric_crs)
    grid = make_cells(zones=zones, xy=xy_all, cell_size_m=opts.cell_size_m, shape=opts.shape, metric_crs=opts.metric_crs)
    cell_all = grid.locate(xy_all)
    inside = cell_all >= 0
    if not inside.any():
        raise InputError(f"{records.report.source}: none of {len(xy_all):,} points falls in the study area")
    data = records.data.loc[inside].reset_index(drop=True)
    xy = xy_all[inside]
    cell = cell_all[inside]
    w = data["weight"].to_numpy(dtype=float)
    counts = grid.count(cell, w)
    notes: dict[str, Any] = {"points": int(len(xy_all)), "points_used": int(inside.sum()), "points_outside": int((~inside).sum())}

    W = make_weights(grid.xy, kind=opts.weights, distance_m=opts.band_m, k=opts.k)
    gi = gi_star(counts, W, permutations=opts.permutations, fdr=opts.fdr, random_state=opts.random_state)
    bw = _bandwidth(opts, xy, w)
    kde = kernel_density(xy, grid.xy, bandwidth_m=bw, kernel=opts.kernel, weights=w)  # type: ignore[arg-type]
    notes["bandwidth_m"] = round(float(bw), 1)
    if opts.permutations and opts.fdr:
        need = math.ceil(len(grid) / ((opts.permutations + 1) * 0.10))
        notes["permutation_resolution"] = (
            f"the smallest permutation p-value is 1/{opts.permutations + 1}; with the FDR over {len(grid):,} cells, "
            f"at least {need:,} cells must reach it for any cell to be significant at 90 %"
        )
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
            "gi_class": gi_class_labels(gi.bin, opts.lang),
            "kde_km2": kde,
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )

    # emerging hot spots
    if opts.time_bin is not None:
        dates = pd.to_datetime(data["date"]).reset_index(drop=True)
        bidx, blabels = _time_bins(dates, opts.time_bin)
        if len(blabels) >= 3:
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
        else:
            notes["emerging"] = f"skipped: {len(blabels)} {opts.time_bin} bin(s), at least 3 needed"

    clusters_gdf = None
    params: dict[str, Any] = {"options": opts.to_dict(), "bandwidth_m": float(bw)}
    if opts.clusters != "none":
        model = DensityClusters(
            method=opts.clusters,  # type: ignore[arg-type]
            eps_m=opts.eps_m,
            min_samples=opts.min_samples,
            min_cluster_size=opts.min_cluster_size,
            min_membership=opts.min_membership,
            selection=opts.selection,
            engine=opts.engine,
        ).fit(xy, w)
        params["clusters"] = model.params_
        clusters_gdf, cnotes = _clusters_frame(model.labels_, xy, data, grid, zones, context, opts, complexity, harm_table, float(w.sum()))
        notes["clusters"] = cnotes
    return HotspotRun(cells=cells, clusters=clusters_gdf, options=opts, params=params, notes=notes, grid=grid)


def _clusters_frame(
    labels: np.ndarray,
    xy: np.ndarray,
    data: pd.DataFrame,
    grid: Grid,
    zones: Zones | None,
    context: Mapping[str, Records] | None,
    opts: HotspotOptions,
    complexity: ComplexityConfig,
    harm_table: str | None,
    total: float,
) -> tuple[gpd.GeoDataFrame | None, dict[str, Any]]:
    from geoprio.records.harm import load_harm_table

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
    gdf = gpd.GeoDataFrame(ranked, geometry=_to_wgs(polys[order], opts.metric_crs).values, crs=OUTPUT_CRS)
    lon_lat = _to_wgs(shapely.points(ranked["x_m"].to_numpy(), ranked["y_m"].to_numpy()), opts.metric_crs)
    gdf.insert(gdf.columns.get_loc("x_m"), "lon", lon_lat.x.round(6).to_numpy())
    gdf.insert(gdf.columns.get_loc("x_m"), "lat", lon_lat.y.round(6).to_numpy())
    gdf = gdf.drop(columns=["x_m", "y_m"])
    return gdf, notes


# --------------------------------------------------------------------------- backtest


@dataclass
class BacktestRun:
    """Everything :func:`run_backtest` produced: the metrics table, the hit-rate curve and
    the cells with their training and test counts and each method's score.
    """

    table: pd.DataFrame
    curve: pd.DataFrame
    cells: gpd.GeoDataFrame
    options: HotspotOptions
    params: dict[str, Any]
    notes: dict[str, Any]
    outputs: list[Path] = field(default_factory=list)
    manifest: Path | None = None


def _as_timestamp(value: dt.date | str | pd.Timestamp, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"{name}: {value!r} is not a date; expected e.g. 2018-01-01") from None
    if pd.isna(ts):
        raise InputError(f"{name}: {value!r} is not a date; expected e.g. 2018-01-01")
    return ts


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
    opts = (options or HotspotOptions()).validate()
    bad = [m for m in methods if m not in BACKTEST_METHODS]
    if bad or not methods:
        raise InputError(f"unknown backtest method(s) {bad}; choose from {list(BACKTEST_METHODS)}")
    dates = _dates(records)
    ok = dates.notna().to_numpy()
    if not ok.any():
        raise InputError(f"{records.report.source}: no record has a date; a backtest needs dated records")
    first, last = dates[ok].min(), dates[ok].max()
    t_split = _as_timestamp(split, "split")
    t0 = _as_timestamp(start, "start") if start is not None else first.normalize()
    t1 = _as_timestamp(end, "end") + pd.Timedelta(days=1) if end is not None else last + pd.Timedelta(microseconds=1)
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
            "to": str((last if end is None else min(_as_timestamp(end, "end"), last)).date()),
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
        elif m == "kde":
            bw = _bandwidth(opts, xy_tr, w_tr)
            scores[m] = kernel_density(xy_tr, grid.xy, bandwidth_m=bw, kernel=opts.kernel, weights=w_tr)  # type: ignore[arg-type]
            params["bandwidth_m"] = float(bw)
        elif m == "gistar":
            W = make_weights(grid.xy, kind=opts.weights, distance_m=opts.band_m, k=opts.k)
            scores[m] = gi_star(train_counts, W, permutations=0, fdr=False).z
        elif m in ("hdbscan", "dbscan"):
            model = DensityClusters(
                method=m,  # type: ignore[arg-type]
                eps_m=opts.eps_m,
                min_samples=opts.min_samples,
                min_cluster_size=opts.min_cluster_size,
                min_membership=opts.min_membership,
                selection=opts.selection,
                engine=opts.engine,
            ).fit(xy_tr, w_tr)
            params[m] = model.params_
            scores[m] = _cluster_cell_scores(model.labels_, xy_tr, w_tr, grid, opts)
            notes[f"{m}_clusters"] = model.n_clusters_
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


# --------------------------------------------------------------------------- displacement


@dataclass
class DisplacementRun:
    """A displacement analysis: the result and the three areas as a layer (EPSG:4326)."""

    result: DisplacementResult
    areas: gpd.GeoDataFrame
    params: dict[str, Any]
    outputs: list[Path] = field(default_factory=list)
    manifest: Path | None = None


def run_displacement(
    records: Records,
    targets: gpd.GeoDataFrame,
    *,
    start: dt.date | str,
    buffer_m: float = DEFAULT_BUFFER_M,
    control: gpd.GeoDataFrame | None = None,
    zones: Zones | None = None,
    days: int | None = None,
    metric_crs: str = DEFAULT_METRIC_CRS,
    lang: str = "es",
) -> DisplacementRun:
    """Incidents in the intervention polygons, a ``buffer_m`` ring and a control area, before and after ``start``; the WDQ.

    Without ``control`` the control area is the study area (the zones, or the concave hull
    of all points) beyond ``2 × buffer_m`` of the targets.
    """
    _positive("buffer_m", buffer_m, allow_none=False)
    check_metric_crs(metric_crs)
    t_start = _as_timestamp(start, "start")
    if targets.crs is None:
        raise CRSError("the intervention layer has no CRS")
    xy = to_metric(records, metric_crs)
    tgeom = np.asarray(targets.geometry.to_crs(metric_crs).values, dtype=object)
    cgeom = np.asarray(control.geometry.to_crs(metric_crs).values, dtype=object) if control is not None else None
    if cgeom is None:
        study = shapely.union_all(np.asarray(zones.metric_geometry.values, dtype=object)) if zones is not None else area_from_points(xy)
    else:
        study = None
    target, ring, ctrl = displacement_areas(tgeom, buffer_m=buffer_m, study_area=study, control=cgeom)
    res = measure_displacement(
        xy,
        records.data["date"],
        records.data["weight"].to_numpy(dtype=float),
        target,
        ring,
        ctrl,
        start=t_start.date(),
        days=days,
        lang=lang,
    )
    names = {"es": ["intervención", "anillo", "control"], "en": ["target", "buffer", "control"]}["en" if lang == "en" else "es"]
    areas = gpd.GeoDataFrame(
        {"area": ["target", "buffer", "control"], "name": names, "area_km2": [res.areas_km2[k] for k in ("target", "buffer", "control")]},
        geometry=_to_wgs(np.array([target, ring, ctrl], dtype=object), metric_crs).values,
        crs=OUTPUT_CRS,
    )
    params = {
        **res.params,
        "buffer_m": float(buffer_m),
        "metric_crs": metric_crs,
        "control": "given" if control is not None else "study area beyond 2 × buffer_m",
    }
    return DisplacementRun(result=res, areas=areas, params=params)


# --------------------------------------------------------------------------- writing


def write_run_manifest(
    out_dir: str | Path,
    *,
    command: str | None,
    inputs: Sequence[str | Path],
    parameters: Mapping[str, Any],
    outputs: Sequence[Path],
    notes: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``manifest.json`` beside a run's outputs: inputs (SHA-256), parameters, outputs, versions, time."""
    from geoprio.io import manifest

    doc = manifest.document(
        kind="geoprio.hotspots",
        command=command,
        inputs=[Path(p).resolve() for p in inputs],
        outputs=outputs,
        parameters=parameters,
        notes=notes or {},
    )
    return manifest.write(doc, Path(out_dir) / MANIFEST_NAME)


Format = Literal["csv", "geojson", "gpkg", "parquet"]


def write_hotspots(
    run: HotspotRun,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("csv", "geojson", "gpkg"),
    inputs: Sequence[str | Path] = (),
    command: str | None = None,
) -> list[Path]:
    """Write ``hotspots_celdas`` and ``hotspots_clusters`` in each format, notes and ``manifest.json``."""
    out = Path(out_dir)
    paths = io.write_formats(run.cells, out, "hotspots_celdas", formats)
    if run.clusters is not None:
        paths += io.write_formats(run.clusters, out, "hotspots_clusters", formats)
    paths.append(io.write_json(run.notes, out / "hotspots_notas.json"))
    run.outputs = paths
    run.manifest = write_run_manifest(out, command=command, inputs=inputs, parameters=run.params, outputs=paths, notes=run.notes)
    return paths


def write_backtest(
    run: BacktestRun,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("gpkg",),
    inputs: Sequence[str | Path] = (),
    command: str | None = None,
    title: str | None = None,
) -> list[Path]:
    """Write ``backtest_tabla.csv``, ``backtest_curva.csv``/``.svg``, the cells, notes and ``manifest.json``."""
    out = Path(out_dir)
    paths = [
        io.write_table(run.table.round(6), out / "backtest_tabla.csv"),
        io.write_table(run.curve.round(6), out / "backtest_curva.csv"),
        io.write_text(curve_svg(run.curve, lang=run.options.lang, title=title), out / "backtest_curva.svg"),
    ]
    paths += io.write_formats(run.cells, out, "backtest_celdas", formats)
    paths.append(io.write_json(run.notes, out / "backtest_notas.json"))
    run.outputs = paths
    run.manifest = write_run_manifest(out, command=command, inputs=inputs, parameters=run.params, outputs=paths, notes=run.notes)
    return paths


def write_displacement(
    run: DisplacementRun,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("geojson",),
    inputs: Sequence[str | Path] = (),
    command: str | None = None,
) -> list[Path]:
    """Write ``desplazamiento.csv`` (counts and measures), the areas layer and ``manifest.json``."""
    out = Path(out_dir)
    res = run.result
    table = res.table.copy()
    for k, v in res.measures.items():
        table[k] = v
    table["reading"] = res.reading
    paths = [io.write_table(table, out / "desplazamiento.csv")]
    paths += io.write_formats(run.areas, out, "desplazamiento_areas", formats)
    run.outputs = paths
    notes = {"measures": res.measures, "reading": res.reading, "before": [str(d) for d in res.before], "after": [str(d) for d in res.after]}
    run.manifest = write_run_manifest(out, command=command, inputs=inputs, parameters=run.params, outputs=paths, notes=notes)
    return paths


# --------------------------------------------------------------------------- the curve as SVG

_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4")


def curve_svg(curve: pd.DataFrame, *, lang: str = "es", title: str | None = None, max_share: float = 0.2) -> str:
    """The hit-rate curve (hit rate against flagged-area share, up to ``max_share``) as a small SVG."""
    from xml.sax.saxutils import escape

    es = lang != "en"
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
    ttl = title or ("Tasa de aciertos según el área señalada" if es else "Hit rate against flagged area")
    parts.append(f'<text x="{L}" y="20" font-size="14" font-weight="bold">{escape(ttl)}</text>')
    for i in range(5):
        s = max_share * i / 4
        parts.append(f'<line x1="{px(s):.1f}" y1="{T}" x2="{px(s):.1f}" y2="{T + ph}" stroke="#ddd"/>')
        parts.append(f'<text x="{px(s):.1f}" y="{T + ph + 16}" text-anchor="middle">{100 * s:g} %</text>')
    for v in np.arange(0.0, ymax + 1e-9, step):
        parts.append(f'<line x1="{L}" y1="{py(v):.1f}" x2="{L + pw}" y2="{py(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{L - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{100 * v:.0f} %</text>')
    parts.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    xl = "Área señalada (% del área de estudio)" if es else "Flagged area (% of the study area)"
    yl = "Incidentes capturados" if es else "Incidents captured"
    parts.append(f'<text x="{L + pw / 2}" y="{H - 10}" text-anchor="middle">{escape(xl)}</text>')
    parts.append(f'<text transform="translate(16 {T + ph / 2}) rotate(-90)" text-anchor="middle">{escape(yl)}</text>')
    names = (
        {"prior": "conteos previos", "recent": "conteos recientes", "kde": "densidad kernel", "best": "máximo posible", "random": "al azar"}
        if es
        else {"prior": "prior counts", "recent": "recent counts", "kde": "kernel density", "best": "best possible", "random": "random"}
    )
    names |= {"gistar": "Gi*", "hdbscan": "HDBSCAN", "dbscan": "DBSCAN"}
    for i, m in enumerate(methods):
        colour = "#999" if m in ("best", "random") else _COLOURS[i % len(_COLOURS)]
        dash = ' stroke-dasharray="5 4"' if m in ("best", "random") else ""
        pts = " ".join(f"{px(s):.1f},{py(min(v, ymax)):.1f}" for s, v in zip(c["area_share"], c[m], strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        ly = T + 14 + 18 * i
        parts.append(f'<line x1="{L + pw + 12}" y1="{ly - 4}" x2="{L + pw + 34}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{L + pw + 40}" y="{ly}">{escape(names.get(m, m))}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
