"""Geo adapter for placement: demand, candidate sites, existing facilities and shores.

Turns layers into the arrays :mod:`geoprio.placement.problem` holds, with all the GIS care
on this side (like spopt's ``from_geodataframe``): every distance is measured in a
projected CRS in metres (:func:`geoprio.zones.layers.check_metric_crs` refuses degrees), every
layer must declare its CRS, and everything returned for maps is in EPSG:4326.

* **Demand** (:func:`demand_from_points`): incident points weighted by the harm of their
  category (:mod:`geoprio.records.harm`) and by the priority index of their zone
  (``1 + index_weight · index / 100``), optionally aggregated into square grid cells
  (a density surface: one demand point per cell, at the weighted centre of its records).
* **Candidates**: given points (:func:`candidates_from_points`), a regular grid with a
  spacing (:func:`candidate_grid`), or points every ``spacing_m`` along street centre
  lines (:func:`candidates_along_lines`); exclusion areas (:func:`exclude_areas`);
  optional cost per site.
* **Forecast demand** (:func:`forecast_demand`): a forecast surface table (``geoprio forecast
  --surface``) read as demand points, one per cell at its centre, weighing its expected incidents.
* **Existing facilities** (:func:`facilities_from_points`): kept, their coverage counted.
* **Shores** for garitas are in :mod:`geoprio.placement.shore` (coverage measured along
  the shore line).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.io.files import read_table
from geoprio.placement.problem import CoverageProblem, coverage_counts, coverage_matrix, spacing_conflicts
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS
from geoprio.zones.layers import check_metric_crs

__all__ = [
    "Demand",
    "ForecastDemand",
    "NoCategoryWarning",
    "Sites",
    "candidate_grid",
    "candidates_along_lines",
    "candidates_from_points",
    "combine_sites",
    "coverage_problem",
    "demand_from_points",
    "drop_near",
    "exclude_areas",
    "facilities_from_points",
    "forecast_demand",
    "layer_to_metric",
    "make_sites",
    "metric_crs_or_default",
    "points_from_table",
    "points_to_output",
]


class NoCategoryWarning(UserWarning):
    """Harm weighting is on but no demand point has a category: every point weighs the same."""


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True, eq=False)
class Demand:
    """Demand points with weights.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        One row per demand point (EPSG:4326): ``demand_id``, ``weight``, ``n_records``
        and, where used, ``harm``, ``zone_id``, ``index``, ``index_factor``.
    xy : numpy.ndarray
        Metric coordinates, shape (n, 2).
    metric_crs : str
    notes : dict
        Counts worth reporting (unknown harm categories, points outside the index zones…).
    shore_pos : numpy.ndarray or None
        For shore demand: position along the shore in the 1-D embedding (metres).
    """

    frame: gpd.GeoDataFrame
    xy: np.ndarray
    metric_crs: str
    notes: dict = field(default_factory=dict)
    shore_pos: np.ndarray | None = None

    @property
    def weight(self) -> np.ndarray:
        return self.frame["weight"].to_numpy(dtype=float)

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True, eq=False)
class Sites:
    """Candidate or existing sites.

    ``frame`` (EPSG:4326) has ``site_id``, ``source`` and ``cost``; ``xy`` the metric
    coordinates; ``shore_pos`` the position along a shore, for garitas.
    """

    frame: gpd.GeoDataFrame
    xy: np.ndarray
    metric_crs: str
    notes: dict = field(default_factory=dict)
    shore_pos: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def cost(self) -> np.ndarray:
        return self.frame["cost"].to_numpy(dtype=float)

    def subset(self, mask: np.ndarray) -> Sites:
        mask = np.asarray(mask)
        return replace(
            self,
            frame=self.frame.loc[mask].reset_index(drop=True),
            xy=self.xy[mask],
            shore_pos=None if self.shore_pos is None else self.shore_pos[mask],
        )


# --------------------------------------------------------------------------- CRS helpers


def metric_crs_or_default(metric_crs: str | None) -> str:
    """``metric_crs`` (geoprio's default when None), refused unless it is projected in metres."""
    crs = metric_crs or DEFAULT_METRIC_CRS
    check_metric_crs(crs)
    return crs


def layer_to_metric(gdf: gpd.GeoDataFrame, metric_crs: str, what: str) -> gpd.GeoSeries:
    """The geometries of a layer (named ``what`` in errors) in ``metric_crs``; the layer must declare its CRS."""
    if not isinstance(gdf, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise CRSError(f"{what}: the layer has no CRS; set one (e.g. EPSG:4326) before planning")
    geom = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    return geom.to_crs(metric_crs)


def _points_xy(geom: gpd.GeoSeries, what: str) -> np.ndarray:
    geom = geom[~(geom.isna() | geom.is_empty)]
    if len(geom) and not (geom.geom_type == "Point").all():
        # polygons or lines given as sites: use a point inside each
        geom = geom.representative_point()
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()]) if len(geom) else np.empty((0, 2))


def points_to_output(xy: np.ndarray, metric_crs: str) -> gpd.GeoSeries:
    """Metric x/y coordinates as points in the output CRS (EPSG:4326)."""
    return gpd.GeoSeries(shapely.points(xy), crs=metric_crs).to_crs(OUTPUT_CRS)


def _lonlat_to_metric(lon: np.ndarray, lat: np.ndarray, metric_crs: str) -> np.ndarray:
    tr = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([x, y])


# --------------------------------------------------------------------------- demand


def demand_from_points(
    points: Any,
    *,
    metric_crs: str | None = None,
    weight: str | None = None,
    category: str | None = None,
    harm: Any = None,
    unknown_harm: float = 1.0,
    zones: gpd.GeoDataFrame | None = None,
    index_column: str = "index",
    zone_id_column: str | None = None,
    index_weight: float = 1.0,
    cell_size_m: float | None = None,
) -> Demand:
    """Demand from incident points, weighted by harm and by the priority index of their zone.

    Parameters
    ----------
    points
        :class:`geoprio.records.load.Records` (point records), a point GeoDataFrame, or a
        DataFrame with ``x``/``y`` longitude/latitude columns.
    weight
        Column whose value multiplies each point's base weight (records: their ``weight``,
        the count column; otherwise 1), e.g. victims or a severity.
    category, harm
        ``harm``: a :class:`geoprio.records.harm.HarmTable` (or ``True`` for the default table)
        multiplies each point's weight by the harm of its category (column ``category``,
        records: their category). Categories not in the table weigh ``unknown_harm``; when
        no point has a category at all, every point weighs ``unknown_harm`` and a
        :class:`NoCategoryWarning` says so (``notes["harm_without_categories"]``).
    zones, index_column, index_weight
        Polygons carrying a priority index on 0–100 (e.g. ``indice_upz.geojson``); each
        point's weight is multiplied by ``1 + index_weight · index / 100``; points outside
        every zone (or in a zone without index) get factor 1.
    cell_size_m
        Aggregate points into square cells of this size: one demand point per cell, at
        the weighted centre of its points, carrying their total weight.
    """
    crs = metric_crs_or_default(metric_crs)
    notes: dict[str, Any] = {}
    from geoprio.records.load import Records

    if isinstance(points, Records):
        df = points.data
        if points.layout != "points":
            raise InputError("demand needs point records (with coordinates), not keyed records")
        xy = _lonlat_to_metric(df["x"].to_numpy(float), df["y"].to_numpy(float), crs)
        base = df["weight"].to_numpy(float)
        if weight is not None and weight != "weight":
            base = base * _num_col(df, weight, "points")
        cats = df["category"] if category is None else _col(df, category, "points")
        attrs = pd.DataFrame({"record_id": df["record_id"].astype("string")}) if "record_id" in df else pd.DataFrame(index=df.index)
    elif isinstance(points, gpd.GeoDataFrame):
        geom = layer_to_metric(points, crs, "demand points")
        if not (geom.geom_type == "Point").all():
            geom = geom.representative_point()
        xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
        base = np.ones(len(points)) if weight is None else _num_col(points, weight, "demand points")
        cats = None if category is None else _col(points, category, "demand points")
        attrs = pd.DataFrame(index=points.index)
    elif isinstance(points, pd.DataFrame):
        if not {"x", "y"} <= set(points.columns):
            raise ColumnError(f"demand points: a DataFrame needs 'x' (longitude) and 'y' (latitude) columns; found {list(points.columns)}")
        xy = _lonlat_to_metric(points["x"].to_numpy(float), points["y"].to_numpy(float), crs)
        base = np.ones(len(points)) if weight is None else _num_col(points, weight, "demand points")
        cats = None if category is None else _col(points, category, "demand points")
        attrs = pd.DataFrame(index=points.index)
    else:
        raise InputError(f"demand points: expected Records, a GeoDataFrame or a DataFrame, got {type(points).__name__}")
    if len(xy) == 0:
        raise InputError("demand points: no points")
    ok = np.isfinite(xy).all(axis=1)
    if not ok.all():
        notes["dropped_without_coordinates"] = int((~ok).sum())
    w = np.asarray(base, dtype=float).copy()
    if np.isnan(w).any() or (w < 0).any():
        raise InputError(f"demand points: weights must be numbers ≥ 0; {int((np.isnan(w) | (w < 0)).sum())} are not")
    out = pd.DataFrame({"n_records": np.ones(len(xy), dtype=np.int64)}, index=attrs.index)
    if harm is not None and harm is not False:
        from geoprio.records.harm import HarmTable, load_harm_table

        table = load_harm_table() if harm is True else harm
        if not isinstance(table, HarmTable):
            raise InputError(f"harm must be True, False or a HarmTable, got {type(harm).__name__}")
        if cats is None:
            raise InputError("harm weighting needs a category for each point (give category=…)")
        if pd.Series(np.asarray(cats, dtype=object)).isna().all():
            notes["harm_without_categories"] = len(xy)
            warnings.warn(
                f"harm weighting is on but none of the {len(xy):,} demand points has a category (no category column found): "
                f"every point weighs {unknown_harm:g}; name the column (category=…) or turn harm weighting off",
                NoCategoryWarning,
                stacklevel=2,
            )
        h = table.lookup(pd.Series(np.asarray(cats, dtype=object), dtype="string")).to_numpy(dtype=float)
        unknown = np.isnan(h)
        if unknown.any():
            vc = pd.Series(np.asarray(cats, dtype=object)[unknown]).value_counts()
            notes["unknown_harm_categories"] = {str(k): int(v) for k, v in vc.head(10).items()}
            notes["unknown_harm_points"] = int(unknown.sum())
            h = np.where(unknown, unknown_harm, h)
        out["harm"] = h
        w = w * h
    if zones is not None:
        if index_column not in zones.columns:
            raise ColumnError(f"index zones: column {index_column!r} not found; columns: {list(zones.columns)}")
        from geoprio.zones.assign import PointLocator

        zgeom = layer_to_metric(zones, crs, "index zones")
        idx = pd.to_numeric(zones[index_column], errors="coerce").to_numpy(dtype=float)
        if np.nanmax(np.abs(idx), initial=0) > 100 + 1e-9 or np.nanmin(idx, initial=0) < -1e-9:
            raise InputError(
                f"index zones: column {index_column!r} must hold an index on 0–100, found {np.nanmin(idx):g}…{np.nanmax(idx):g}"
            )
        code = PointLocator().fit(zgeom.values).locate(np.where(ok, xy[:, 0], np.nan), np.where(ok, xy[:, 1], np.nan))
        inside = code >= 0
        zi = np.where(inside, idx[np.maximum(code, 0)], np.nan)
        factor = 1.0 + float(index_weight) * np.where(np.isnan(zi), 0.0, zi) / 100.0
        notes["outside_index_zones"] = int((~inside & ok).sum())
        if zone_id_column is not None:
            out["zone_id"] = np.where(inside, zones[zone_id_column].astype(str).to_numpy()[np.maximum(code, 0)], None)
        out["index"] = zi
        out["index_factor"] = factor
        w = w * factor
    out["weight"] = w
    xy, out = xy[ok], out.loc[ok].reset_index(drop=True)
    attrs = attrs.loc[ok].reset_index(drop=True)
    out = pd.concat([attrs, out], axis=1)
    if cell_size_m is not None:
        size = float(cell_size_m)
        if not size > 0:
            raise InputError(f"cell_size_m must be a positive number of metres, got {cell_size_m!r}")
        cx = np.floor(xy[:, 0] / size).astype(np.int64)
        cy = np.floor(xy[:, 1] / size).astype(np.int64)
        key = pd.MultiIndex.from_arrays([cx, cy])
        codes, uniq = pd.factorize(key)
        wsum = np.bincount(codes, weights=out["weight"].to_numpy())
        n = np.bincount(codes)
        # weighted centre (plain centre of the records where their weights sum to zero)
        ww = np.where(wsum[codes] > 0, out["weight"].to_numpy(), 1.0)
        den = np.bincount(codes, weights=ww)
        gx = np.bincount(codes, weights=ww * xy[:, 0]) / den
        gy = np.bincount(codes, weights=ww * xy[:, 1]) / den
        xy = np.column_stack([gx, gy])
        cells = pd.DataFrame({"cell_x": [u[0] for u in uniq], "cell_y": [u[1] for u in uniq], "n_records": n, "weight": wsum})
        if "index_factor" in out:
            cells["index_factor"] = np.bincount(codes, weights=out["index_factor"].to_numpy() * out["weight"].to_numpy()) / np.where(
                wsum > 0, wsum, 1
            )
        out = cells
        notes["cells"] = int(len(cells))
    out.insert(0, "demand_id", np.arange(len(out)))
    frame = gpd.GeoDataFrame(out, geometry=points_to_output(xy, crs).values, crs=OUTPUT_CRS)
    notes["points"] = int(ok.sum())
    notes["total_weight"] = float(frame["weight"].sum())
    return Demand(frame=frame, xy=xy, metric_crs=crs, notes=notes)


@dataclass(frozen=True)
class ForecastDemand:
    """How to read a forecast surface table as demand points: its file, the centre's ``x``/``y``
    (longitude/latitude) columns, the ``weight_column`` of expected incidents, the number of
    ``cells`` and their ``total`` expected incidents.
    """

    path: Path
    x: str
    y: str
    weight_column: str
    cells: int
    total: float


def forecast_demand(path: str | Path) -> ForecastDemand:
    """Check that ``path`` is a forecast surface table (``pronostico_superficie.csv`` of ``geoprio
    forecast --surface``: ``lon``, ``lat`` and ``expected`` ≥ 0 per cell) and say how to read it as demand.
    """
    p = Path(path)
    table = read_table(p)
    need = ("lon", "lat", "expected")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ColumnError(
            f"{p}: not a forecast surface table (geoprio forecast --surface writes pronostico_superficie.csv); "
            f"missing column(s) {missing}, found {list(table.columns)}"
        )
    e = pd.to_numeric(table["expected"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(e) | (e < 0))
    if len(bad) and "suppressed" in table.columns:
        raise InputError(
            f"{p}: a public release of a forecast surface (geoprio forecast --public): its {len(bad):,} suppressed "
            "cells have no expected value, so it cannot be a plan's demand; plan on the full surface (without --public)"
        )
    if len(bad):
        raise InputError(f"{p}: column 'expected' must hold numbers ≥ 0; row {int(bad[0]) + 2} holds {table['expected'].iloc[bad[0]]!r}")
    return ForecastDemand(path=p, x="lon", y="lat", weight_column="expected", cells=len(table), total=float(e.sum()))


def _col(df: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name not in df.columns:
        raise ColumnError(f"{what}: column {name!r} not found; columns: {[c for c in df.columns if c != 'geometry']}")
    return df[name]


def _num_col(df: pd.DataFrame, name: str, what: str) -> np.ndarray:
    s = pd.to_numeric(_col(df, name, what), errors="coerce")
    bad = s.isna() & df[name].notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{what}: column {name!r} row {i + 1}: {df[name].iloc[i]!r} is not a number")
    return s.fillna(0.0).to_numpy(dtype=float)


# --------------------------------------------------------------------------- candidate sites


def make_sites(xy: np.ndarray, crs: str, source: str, ids: Any = None, cost: Any = None, extra: pd.DataFrame | None = None) -> Sites:
    """:class:`Sites` at metric ``xy`` with ids (``SOU-00001``… by default), a source, costs and extra columns."""
    n = len(xy)
    ids = [f"{source[:3].upper()}-{i + 1:05d}" for i in range(n)] if ids is None else [str(v) for v in ids]
    frame = pd.DataFrame({"site_id": ids, "source": source, "cost": np.ones(n) if cost is None else np.asarray(cost, dtype=float)})
    if extra is not None:
        for c in extra.columns:
            if c not in frame.columns and c != "geometry":
                frame[c] = extra[c].to_numpy()
    gdf = gpd.GeoDataFrame(frame, geometry=points_to_output(xy, crs).values if n else gpd.GeoSeries([], crs=OUTPUT_CRS), crs=OUTPUT_CRS)
    return Sites(frame=gdf, xy=np.asarray(xy, dtype=float).reshape(-1, 2), metric_crs=crs)


def points_from_table(
    table: pd.DataFrame, *, what: str, x: str | None = None, y: str | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """A point layer from a table with coordinate columns (candidates or existing sites as CSV or Excel).

    ``x``/``y`` are detected from their usual names (``lon``, ``longitud``, ``x``…) when
    omitted; decimal commas are read when the table was read with them
    (:func:`geoprio.io.files.read_csv` notes it). Without ``crs`` the coordinates must be
    degrees (EPSG:4326); metres need ``crs``. A row without usable coordinates is an
    :class:`~geoprio.errors.InputError` naming it: a site is given, not sampled, so
    nothing is dropped silently.
    """
    from geoprio.records.parse import parse_numbers, resolve_column

    if isinstance(table, gpd.GeoDataFrame) and table.geometry.notna().any():
        return table
    read = dict(table.attrs.get("geoprio_read", {}))
    df = pd.DataFrame(table)
    if df.empty:
        raise InputError(f"{what}: the table has no rows")
    x_col = str(resolve_column(df, x, "x", what, required=True))
    y_col = str(resolve_column(df, y, "y", what, required=True))
    decimal = str(read.get("decimal", "."))
    xs, xmiss, xbad = parse_numbers(df[x_col], decimal)
    ys, ymiss, ybad = parse_numbers(df[y_col], decimal)
    bad = xmiss | ymiss | xbad | ybad
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        col = x_col if (xmiss | xbad)[i] else y_col
        raise InputError(
            f"{what}: row {i + 2}, column {col!r}: {df[col].iloc[i]!r} is not a coordinate "
            f"({int(bad.sum())} rows without usable coordinates); every site needs one"
        )
    if crs is None and ((np.abs(xs) > 180) | (np.abs(ys) > 90)).any():
        raise CRSError(f"{what}: coordinates in {x_col!r}/{y_col!r} look projected (metres); give their CRS, e.g. crs='EPSG:9377'")
    out = df.copy()
    out[x_col], out[y_col] = xs, ys
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(xs, ys), crs=crs or OUTPUT_CRS)


def candidates_from_points(
    layer: gpd.GeoDataFrame,
    *,
    metric_crs: str | None = None,
    id_column: str | None = None,
    cost_column: str | None = None,
    source: str = "puntos",
) -> Sites:
    """Candidate sites from a point layer (polygons or lines: a point inside each)."""
    crs = metric_crs_or_default(metric_crs)
    geom = layer_to_metric(layer, crs, "candidate sites")
    keep = ~(geom.isna() | geom.is_empty).to_numpy()
    xy = _points_xy(geom, "candidate sites")
    ids = None if id_column is None else _col(layer, id_column, "candidate sites").to_numpy()[keep]
    cost = None if cost_column is None else _num_col(layer, cost_column, "candidate sites")[keep]
    if cost is not None and (cost <= 0).any():
        raise InputError(f"candidate sites: column {cost_column!r} must be > 0 for every site; {int((cost <= 0).sum())} are not")
    return make_sites(xy, crs, source, ids, cost)


def facilities_from_points(layer: gpd.GeoDataFrame, *, metric_crs: str | None = None, id_column: str | None = None) -> Sites:
    """Existing facilities (kept as they are; their coverage counts as provided)."""
    if id_column is None:
        id_column = next((c for c in ("id", "codigo", "nombre", "name") if c in layer.columns), None)
    s = candidates_from_points(layer, metric_crs=metric_crs, id_column=id_column, source="existente")
    return s


def candidate_grid(
    *,
    spacing_m: float,
    area: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    near: np.ndarray | None = None,
    near_m: float | None = None,
    metric_crs: str | None = None,
) -> Sites:
    """Candidate sites on a square grid with ``spacing_m`` between neighbours.

    ``area``: keep the grid points inside these polygons. ``near``/``near_m``: keep only
    points within ``near_m`` of some point of ``near`` (metric coordinates, e.g. the
    demand), which drops sites that could cover nothing. At least one is needed.
    """
    crs = metric_crs_or_default(metric_crs)
    s = float(spacing_m)
    if not s > 0:
        raise InputError(f"spacing_m must be a positive number of metres, got {spacing_m!r}")
    if area is None and near is None:
        raise InputError("candidate_grid needs an area (polygons) or demand points to stay near")
    if area is not None:
        geom = layer_to_metric(area, crs, "candidate area")
        union = shapely.union_all(geom.values)
        x0, y0, x1, y1 = union.bounds
    elif near is not None:
        nr = float(near_m or 0.0)
        x0, y0 = near.min(axis=0) - nr
        x1, y1 = near.max(axis=0) + nr
    nx, ny = max(1, int(np.ceil((x1 - x0) / s))), max(1, int(np.ceil((y1 - y0) / s)))
    if nx * ny > 20_000_000:
        raise InputError(f"a {s:g} m grid over this area has {nx * ny:,} points; use a larger spacing_m or candidate points")
    # cell centres of a grid centred on the bounding box
    gx = x0 + (np.arange(nx) + 0.5) * s + ((x1 - x0) - nx * s) / 2
    gy = y0 + (np.arange(ny) + 0.5) * s + ((y1 - y0) - ny * s) / 2
    X, Y = np.meshgrid(gx, gy)
    xy = np.column_stack([X.ravel(), Y.ravel()])
    if near is not None and len(xy):
        d, _ = cKDTree(near).query(xy, distance_upper_bound=float(near_m or 0.0) + 1e-9)
        xy = xy[np.isfinite(d)]
    if area is not None and len(xy):
        shapely.prepare(union)
        xy = xy[shapely.intersects_xy(union, xy[:, 0], xy[:, 1])]
    return make_sites(xy, crs, "grilla")


def candidates_along_lines(
    lines: gpd.GeoDataFrame,
    *,
    spacing_m: float,
    metric_crs: str | None = None,
    cost_column: str | None = None,
) -> Sites:
    """Candidate sites every ``spacing_m`` along lines (street centre lines, a promenade).

    Each line of length ``L`` gets ``⌈L / spacing_m⌉`` points at the centres of equal
    pieces, so lines shorter than the spacing get one point at their middle and no two
    lines meeting at a crossing put two candidates on it.
    """
    crs = metric_crs_or_default(metric_crs)
    s = float(spacing_m)
    if not s > 0:
        raise InputError(f"spacing_m must be a positive number of metres, got {spacing_m!r}")
    geom = layer_to_metric(lines, crs, "lines")
    cost_all = None if cost_column is None else _num_col(lines, cost_column, "lines")
    parts = geom.explode(index_parts=False)
    parts = parts[parts.geom_type.isin(["LineString", "LinearRing"]) & ~parts.is_empty]
    if parts.empty:
        raise InputError("lines: the layer has no line geometry (expected LineString or MultiLineString features)")
    g = parts.values
    L = shapely.length(g)
    n = np.maximum(1, np.ceil(L / s)).astype(np.int64)
    rep = np.repeat(np.arange(len(g)), n)
    within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    dist = (within + 0.5) * (L[rep] / n[rep])
    pts = shapely.line_interpolate_point(g[rep], dist)
    xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
    cost = None
    if cost_all is not None:
        pos = pd.Index(lines.index).get_indexer(parts.index)
        cost = cost_all[pos][rep]
    return make_sites(xy, crs, "calles", cost=cost)


def combine_sites(*sites: Sites) -> Sites:
    """Concatenate candidate sets (same metric CRS); site ids are kept."""
    sites = tuple(s for s in sites if s is not None)
    if not sites:
        raise InputError("no candidate sites given")
    crs = sites[0].metric_crs
    if any(s.metric_crs != crs for s in sites):
        raise CRSError("candidate sets use different metric CRS")
    frame = gpd.GeoDataFrame(pd.concat([s.frame for s in sites], ignore_index=True), crs=OUTPUT_CRS)
    pos = None if any(s.shore_pos is None for s in sites) else np.concatenate([s.shore_pos for s in sites])
    return Sites(frame=frame, xy=np.vstack([s.xy for s in sites]), metric_crs=crs, shore_pos=pos)


def exclude_areas(sites: Sites, areas: gpd.GeoDataFrame, *, buffer_m: float = 0.0) -> Sites:
    """Drop candidate sites inside exclusion polygons (optionally grown by ``buffer_m``)."""
    geom = layer_to_metric(areas, sites.metric_crs, "exclusion areas")
    union = shapely.union_all(geom.values)
    if buffer_m:
        union = union.buffer(float(buffer_m))
    inside = shapely.intersects_xy(union, sites.xy[:, 0], sites.xy[:, 1]) if len(sites) else np.zeros(0, bool)
    out = sites.subset(~inside)
    return replace(out, notes={**sites.notes, "excluded": int(inside.sum())})


def drop_near(sites: Sites, others: Sites, distance_m: float) -> Sites:
    """Drop candidate sites closer than ``distance_m`` to any of ``others`` (existing facilities)."""
    if len(others) == 0 or len(sites) == 0:
        return sites
    if sites.shore_pos is not None and others.shore_pos is not None:
        d, _ = cKDTree(others.shore_pos[:, None]).query(sites.shore_pos[:, None])
    else:
        d, _ = cKDTree(others.xy).query(sites.xy)
    near = d < float(distance_m)
    out = sites.subset(~near)
    return replace(out, notes={**sites.notes, "too_close_to_existing": int(near.sum())})


def coverage_problem(
    demand: Demand,
    sites: Sites,
    *,
    radius_m: float,
    existing: Sites | None = None,
    min_spacing_m: float | None = None,
    use_costs: bool = False,
) -> CoverageProblem:
    """The coverage problem of ``demand`` by ``sites`` within ``radius_m`` (straight-line metres).

    Existing facilities' coverage counts as provided. ``min_spacing_m`` forbids two new
    sites closer than that (drop candidates too close to existing ones first with
    :func:`drop_near`).
    """
    _check_same_crs(demand.metric_crs, sites.metric_crs, existing)
    if len(sites) == 0:
        raise InputError("there are no candidate sites (after exclusions)")
    A = coverage_matrix(demand.xy, sites.xy, radius_m)
    if A.nnz == 0:
        raise InputError(
            f"no demand point is within radius_m={radius_m:g} m of any of the {len(sites)} candidate sites "
            f"(metric CRS {demand.metric_crs}); check the radius and that demand and candidates cover the same area"
        )
    e = None if existing is None or len(existing) == 0 else coverage_counts(demand.xy, existing.xy, radius_m)
    conf = spacing_conflicts(sites.xy, min_spacing_m) if min_spacing_m else None
    return CoverageProblem(A, demand.weight, existing=e, costs=sites.cost if use_costs else None, conflicts=conf)


def _check_same_crs(a: str, b: str, existing: Sites | None) -> None:
    if a != b or (existing is not None and existing.metric_crs != a):
        raise CRSError(f"demand and sites were projected to different CRS ({a} vs {b}); build them with the same metric_crs")
