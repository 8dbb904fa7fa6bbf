"""Counts of points per zone, grid cell and influence area, in memory or on a Dask cluster.

:func:`count_points` reads a partitioned GeoParquet dataset (a folder of ``part-*.parquet``
files, as ``geoprio ingest`` writes it, or any ``*.parquet`` files: Point geometry in
EPSG:4326, a date column and a category column), a single GeoParquet file, a GeoDataFrame or
a dask-geopandas frame, and counts its points

* per **zone** × period × category (``by``), with geoprio's own
  :class:`~geoprio.zones.assign.PointLocator` on the zones' polygons in EPSG:4326, exactly as
  :func:`geoprio.zones.tie.attach` places records (a point on a boundary shared by several
  zones goes to the zone listed first);
* per **grid cell** (× period), on the square or hexagonal cells of
  :func:`~geoprio.zones.layers.make_grid` over the zones, located in the metric CRS, exactly as
  the hot-spot grid (:func:`geoprio.hotspots.grid.make_cells`) locates records;
* per **influence area** × period × category (:class:`InfluenceAreas`), with any function
  that returns the (incident, place) pairs of a batch of points, such as
  :func:`geoprio.entornos.places.incident_pairs` (every point within ``radius_m`` of a place).

On a Dask cluster (:mod:`geoprio.io.cluster`) the locators are built once, broadcast to every
worker, each partition is located and counted where it is read, and the partial counts are
summed on the cluster in a tree (eight at a time); only the final tables come back. With
``engine="memory"`` the whole dataset is read here and counted in one piece by the same
functions, so both engines give identical counts (weight sums are rounded to 9 decimals:
floating additions in another order differ in the last bits). Counting is exact integer arithmetic, so the result does not
depend on how the points are partitioned.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geoprio.errors import ColumnError, InputError
from geoprio.io.cluster import Engine, EngineOptions, open_engine
from geoprio.settings import OUTPUT_CRS
from geoprio.zones.assign import PointLocator
from geoprio.zones.lattice import SquareLattice
from geoprio.zones.layers import Zones, as_zones, check_metric_crs, make_grid

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "PERIOD_FREQ",
    "CountBy",
    "CountLayers",
    "InfluenceAreas",
    "Period",
    "PointColumns",
    "PointCounts",
    "count_layers",
    "count_points",
    "dataset_parts",
]

#: Period lengths and their pandas frequency (weeks end on Sunday, as the hot-spot time bins).
PERIOD_FREQ: dict[str, str] = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
Period = Literal["day", "week", "month", "quarter", "year"]
CountBy = Literal["period", "category"]

_NAT = np.iinfo(np.int64).min  # the ordinal pandas gives a missing period
_FAN_IN = 8  # partial counts summed together at each step of the reduction
_WKB_POINT = 21  # bytes of a little-endian 2-D WKB point


@dataclass(frozen=True)
class PointColumns:
    """The dataset's columns: geometry (default: the GeoParquet primary column), date, category, weight (optional)."""

    geometry: str | None = None
    date: str = "date"
    category: str = "category"
    weight: str | None = None


@dataclass(frozen=True, eq=False)
class InfluenceAreas:
    """Areas to count points in, which may overlap: their ``ids`` and a ``pairs`` function.

    ``pairs(lon, lat)`` returns a DataFrame with columns ``incident`` (position in the arrays)
    and ``place`` (position in ``ids``), one row per point and area it counts for; e.g.
    ``functools.partial(incident_pairs, places, overlap="all")`` with
    :func:`geoprio.entornos.places.incident_pairs`. It must be picklable to run on a cluster.
    """

    ids: tuple[str, ...]
    pairs: Callable[[np.ndarray, np.ndarray], pd.DataFrame]


@dataclass(frozen=True)
class PointCounts:
    """The counts of :func:`count_points`.

    ``zones``: ``zone_id``, then ``period`` and ``category`` (as ``by`` asks), ``count`` (and
    ``weight`` with a weight column); one row per non-empty group, sorted. ``cells``: the same
    per grid cell (``cell_id``, ``zone_id`` = the zone the cell overlaps most, ``period`` if
    asked), or None without a grid. ``areas``: per influence area (``place_id``), or None.
    ``zone_layer`` and ``grid`` are the zones and cells counted in; ``notes`` say how many
    points were read, placed and left outside.
    """

    zones: pd.DataFrame
    cells: pd.DataFrame | None
    areas: pd.DataFrame | None
    zone_layer: Zones
    grid: Zones | None
    notes: dict[str, Any] = field(default_factory=dict)

    def zone_totals(self) -> pd.Series:
        """Points per zone (every zone, zeros included), indexed by ``zone_id``."""
        return _totals(self.zones, "zone_id", self.zone_layer.frame["zone_id"])

    def cell_totals(self) -> pd.Series | None:
        """Points per grid cell (every cell, zeros included), indexed by ``cell_id``; None without a grid."""
        if self.cells is None or self.grid is None:
            return None
        return _totals(self.cells, "cell_id", self.grid.frame["zone_id"])


def _totals(table: pd.DataFrame, key: str, ids: pd.Series) -> pd.Series:
    s = table.groupby(key, sort=False)["count"].sum()
    return s.reindex(pd.Index(ids.to_numpy(), name=key), fill_value=0).astype(np.int64)


# --------------------------------------------------------------------------- reading partitions


def dataset_parts(path: str | Path) -> list[Path]:
    """The files of a dataset: ``part-*.parquet`` in a folder (else every ``*.parquet``), or one file."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise InputError(f"{p}: no such dataset; expected a folder of part-*.parquet files (geoprio ingest) or a GeoParquet file")
    parts = sorted(p.glob("part-*.parquet")) or sorted(p.rglob("*.parquet"))
    if not parts:
        raise InputError(f"{p}: the folder holds no .parquet file; expected part-*.parquet files as geoprio ingest writes them")
    return parts


@dataclass
class _Points:
    """One batch of points: lon/lat, period ordinals, categories and weights (each None when not needed)."""

    x: np.ndarray
    y: np.ndarray
    period: np.ndarray | None
    category: pd.Categorical | None
    weight: np.ndarray | None

    @staticmethod
    def concat(items: Sequence[_Points]) -> _Points:
        def cat(name: str) -> np.ndarray | None:
            arrays = [getattr(i, name) for i in items]
            return None if arrays[0] is None else np.concatenate(arrays)

        x, y = cat("x"), cat("y")
        assert x is not None and y is not None
        cats = [i.category for i in items]
        category = None if cats[0] is None else pd.api.types.union_categoricals(cats)
        return _Points(x, y, cat("period"), category, cat("weight"))


def _read_partition(path: str | Path, columns: PointColumns, *, period: Period | None, category: bool, threads: bool = True) -> _Points:
    """Read one GeoParquet file: coordinates (EPSG:4326), period ordinals, categories, weights.

    ``threads=False`` reads on this thread only (a Dask worker's threads already share the cores).
    """
    pq = importlib.import_module("pyarrow.parquet")  # imported here: an optional dependency (the parquet extra)

    p = Path(path)
    try:
        schema = pq.read_schema(p)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise InputError(f"{p}: not a readable Parquet file ({exc})") from None
    geo = json.loads((schema.metadata or {}).get(b"geo", b"{}") or b"{}")
    gcol = columns.geometry or geo.get("primary_column") or ("geometry" if "geometry" in schema.names else None)
    wanted = (
        [gcol]
        + ([columns.date] if period else [])
        + ([columns.category] if category else [])
        + ([columns.weight] if columns.weight else [])
    )
    for role, col in zip(("geometry", "date", "category", "weight"), [gcol, columns.date, columns.category, columns.weight], strict=True):
        needed = role == "geometry" or (role == "date" and period) or (role == "category" and category) or (role == "weight" and col)
        if needed and (col is None or col not in schema.names):
            raise ColumnError(f"{p}: {role} column {col!r} not found; columns: {schema.names}")
    table = pq.read_table(p, columns=[c for c in dict.fromkeys(wanted) if c], use_threads=threads)
    meta = (geo.get("columns") or {}).get(gcol, {})
    x, y = _coordinates(table.column(gcol), str(meta.get("encoding", "WKB")), source=f"{p}, column {gcol!r}")
    crs = meta.get("crs")
    if crs is not None and not CRS.from_user_input(crs).equals(CRS.from_user_input(OUTPUT_CRS), ignore_axis_order=True):
        x, y = _transformer(CRS.from_user_input(crs).to_wkt(), OUTPUT_CRS).transform(x, y)
    per = _periods(_dates(table.column(columns.date)), period, f"{p}, column {columns.date!r}") if period else None
    cat = _categories(table.column(columns.category).to_pandas()) if category else None
    w = _weights(table.column(columns.weight).to_pandas(), f"{p}, column {columns.weight!r}") if columns.weight else None
    return _Points(np.asarray(x, dtype=float), np.asarray(y, dtype=float), per, cat, w)


def _frame_points(frame: gpd.GeoDataFrame, columns: PointColumns, *, period: Period | None, category: bool) -> _Points:
    """The same as :func:`_read_partition` for a GeoDataFrame (or one partition of a dask-geopandas frame)."""
    geom = frame.geometry if columns.geometry is None else frame[columns.geometry]
    for role, col in (("date", columns.date if period else None), ("category", columns.category if category else None)):
        if col is not None and col not in frame.columns:
            raise ColumnError(f"points: {role} column {col!r} not found; columns: {list(frame.columns)}")
    if columns.weight and columns.weight not in frame.columns:
        raise ColumnError(f"points: weight column {columns.weight!r} not found; columns: {list(frame.columns)}")
    if geom.crs is not None and not geom.crs.equals(OUTPUT_CRS):
        geom = geom.to_crs(OUTPUT_CRS)
    values = np.asarray(geom.values, dtype=object)
    kinds = shapely.get_type_id(values)
    odd = (kinds != 0) & (kinds != -1)
    if odd.any():
        i = int(np.flatnonzero(odd)[0])
        raise InputError(f"points: row {i + 1} holds a {values[i].geom_type}; expected Point geometries")
    x, y = shapely.get_x(values), shapely.get_y(values)
    per = _periods(frame[columns.date], period, f"points, column {columns.date!r}") if period else None
    cat = _categories(frame[columns.category]) if category else None
    w = _weights(frame[columns.weight], f"points, column {columns.weight!r}") if columns.weight else None
    return _Points(np.asarray(x, dtype=float), np.asarray(y, dtype=float), per, cat, w)


def _coordinates(column: Any, encoding: str, *, source: str) -> tuple[np.ndarray, np.ndarray]:
    """X and y of a GeoParquet geometry column (WKB points, or GeoArrow ``point`` structs); NaN for nulls."""
    pa = importlib.import_module("pyarrow")

    xs, ys = [], []
    for chunk in column.chunks:
        if pa.types.is_struct(chunk.type):  # GeoArrow "point": struct<x, y>
            xs.append(chunk.field("x").to_numpy(zero_copy_only=False).astype(float))
            ys.append(chunk.field("y").to_numpy(zero_copy_only=False).astype(float))
            if chunk.null_count:
                bad = chunk.is_null().to_numpy(zero_copy_only=False)
                xs[-1][bad] = np.nan
                ys[-1][bad] = np.nan
            continue
        if encoding.upper() != "WKB" or not (pa.types.is_binary(chunk.type) or pa.types.is_large_binary(chunk.type)):
            raise InputError(f"{source}: geometry encoding {encoding!r} ({chunk.type}) not supported; expected WKB or GeoArrow points")
        xy = _wkb_points_fast(chunk)
        if xy is None:
            geoms = shapely.from_wkb(chunk.to_numpy(zero_copy_only=False))
            kinds = shapely.get_type_id(geoms)
            odd = (kinds != 0) & (kinds != -1)
            if odd.any():
                i = int(np.flatnonzero(odd)[0])
                raise InputError(f"{source}: row {i + 1} holds a {geoms[i].geom_type}; expected Point geometries")
            xy = (shapely.get_x(geoms).astype(float), shapely.get_y(geoms).astype(float))
        xs.append(xy[0])
        ys.append(xy[1])
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys)


def _wkb_points_fast(chunk: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Decode little-endian 2-D WKB points straight from the Arrow buffers (None: use shapely)."""
    if chunk.null_count or len(chunk) == 0:
        return None
    offsets_buf, data_buf = chunk.buffers()[1], chunk.buffers()[2]
    dtype = np.int64 if "large" in str(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=dtype)[chunk.offset : chunk.offset + len(chunk) + 1]
    if offsets[-1] - offsets[0] != _WKB_POINT * len(chunk) or not (np.diff(offsets) == _WKB_POINT).all():
        return None
    raw = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, _WKB_POINT)
    head = raw[:, :5]
    if not ((head[:, 0] == 1) & (head[:, 1] == 1) & (head[:, 2:5] == 0).all(axis=1)).all():
        return None
    coords = np.ascontiguousarray(raw[:, 5:]).view("<f8")
    return coords[:, 0].astype(float), coords[:, 1].astype(float)


def _dates(column: Any) -> np.ndarray | pd.Series:
    """An Arrow date or timestamp column as ``datetime64`` values (other types as a pandas Series)."""
    pa = importlib.import_module("pyarrow")
    t = column.type
    if pa.types.is_date(t) or (pa.types.is_timestamp(t) and t.tz is None):
        return np.asarray(column.to_numpy())
    return column.to_pandas(date_as_object=False)


def _categories(values: pd.Series) -> pd.Categorical:
    """Categories as a Categorical of text (missing: NaN), whether the column is a dictionary or text."""
    s = pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        c = s.array
        return pd.Categorical.from_codes(c.codes, categories=pd.Index(c.categories.astype(str), dtype=object))
    codes, uniques = pd.factorize(s.astype("string"))
    return pd.Categorical.from_codes(codes, categories=pd.Index(np.asarray(uniques, dtype=object), dtype=object))


def _periods(dates: pd.Series | np.ndarray, period: Period, source: str) -> np.ndarray:
    """Period ordinals of ``dates`` (``_NAT`` where the date is missing), as pandas numbers them."""
    if isinstance(dates, pd.Series) and dates.dtype.kind == "M" and getattr(dates.dt, "tz", None) is None:
        dates = dates.to_numpy()
    if isinstance(dates, np.ndarray) and dates.dtype.kind == "M" and period != "week":
        # days, months and years since 1970 are pandas' daily, monthly and annual ordinals; quarters are months // 3
        unit = {"day": "D", "month": "M", "quarter": "M", "year": "Y"}[period]
        ordinal = dates.astype(f"datetime64[{unit}]").astype(np.int64)
        if period == "quarter":
            ordinal = ordinal // 3
        ordinal[np.isnat(dates)] = _NAT
        return ordinal
    s = pd.Series(dates)
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        try:
            s = pd.to_datetime(s, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise InputError(f"{source}: dates must be ISO dates (YYYY-MM-DD): {exc}") from None
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return np.asarray(s.dt.to_period(PERIOD_FREQ[period]).array.asi8, dtype=np.int64)


def _weights(values: pd.Series, source: str) -> np.ndarray:
    w = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) & pd.Series(values).notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{source}: row {i + 1}: {values.iloc[i]!r} is not a number")
    return np.nan_to_num(w)


@functools.lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


# --------------------------------------------------------------------------- counting one batch


def _group(target: np.ndarray, pts: _Points, rows: np.ndarray | None, by: tuple[str, ...]) -> pd.DataFrame:
    """Counts (and weight sums) per (target, [period], [category]) of the points ``rows`` (all: None)."""
    keep = target >= 0
    target = target[keep]
    rows = np.flatnonzero(keep) if rows is None else rows[keep]
    key = target.astype(np.int64)
    parts: list[tuple[str, np.ndarray]] = []
    for name in ("period", "category"):
        if name not in by:
            continue
        if name == "category":
            assert pts.category is not None
            names = np.array([*pts.category.categories, None], dtype=object)  # code -1 (missing) → None
            raw = pts.category.codes[rows].astype(np.int64)
            codes, used = pd.factorize(np.where(raw < 0, len(names) - 1, raw))
            uniques = names[used]
        else:
            assert pts.period is not None
            codes, uniques = pd.factorize(pts.period[rows])
            uniques = np.asarray(uniques, dtype=np.int64)
        key = key * max(len(uniques), 1) + codes
        parts.append((name, uniques))
    codes, uniq = pd.factorize(key)
    out: dict[str, Any] = {}
    rest = np.asarray(uniq, dtype=np.int64)
    for name, uniques in reversed(parts):
        rest, code = np.divmod(rest, max(len(uniques), 1))
        out[name] = uniques[code]
    frame = pd.DataFrame({"target": rest, **dict(reversed(list(out.items())))})
    frame["count"] = np.bincount(codes, minlength=len(uniq)).astype(np.int64)
    if pts.weight is not None:
        frame["weight"] = np.bincount(codes, weights=pts.weight[rows], minlength=len(uniq))
    return frame


class _Counter:
    """What every worker holds: the fitted locators, the area pairs and what to count by."""

    def __init__(
        self,
        zones: PointLocator,
        grid: PointLocator | None,
        areas: InfluenceAreas | None,
        *,
        metric_crs: str,
        by: tuple[str, ...],
        cell_by: tuple[str, ...],
        lattice: SquareLattice | None = None,
    ) -> None:
        self.zones, self.grid, self.areas, self.lattice = zones, grid, areas, lattice
        self.metric_crs, self.by, self.cell_by = metric_crs, by, cell_by

    def cells(self, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
        """Grid cell of each point (metres): the lattice's arithmetic where it is sure, the locator elsewhere."""
        assert self.grid is not None
        if self.lattice is None:
            return self.grid.locate(mx, my)
        cell = self.lattice.locate(mx, my)
        todo = np.flatnonzero(cell == -2)
        if todo.size:
            cell[todo] = self.grid.locate(mx[todo], my[todo])
        return cell

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for loc in (self.zones, self.grid):  # prepared geometries do not survive pickling
            if loc is not None:
                shapely.prepare(loc.polygons_)

    def count(self, pts: _Points) -> dict[str, Any]:
        partial: dict[str, Any] = {"points": len(pts.x)}
        zone = self.zones.locate(pts.x, pts.y)
        partial["zones"] = _group(zone, pts, None, self.by)
        partial["outside_zones"] = int((zone < 0).sum())
        if self.grid is not None:
            mx, my = _transformer(OUTPUT_CRS, self.metric_crs).transform(pts.x, pts.y)
            cell = self.cells(np.asarray(mx, dtype=float), np.asarray(my, dtype=float))
            partial["cells"] = _group(cell, pts, None, self.cell_by)
            partial["outside_grid"] = int((cell < 0).sum())
        if self.areas is not None:
            pairs = self.areas.pairs(pts.x, pts.y)
            rows = pairs["incident"].to_numpy(dtype=np.int64)
            partial["areas"] = _group(pairs["place"].to_numpy(dtype=np.int64), pts, rows, self.by)
            partial["near_areas"] = int(len(np.unique(rows)))
            partial["area_pairs"] = int(len(rows))
        return partial


def _count_part(path: str, counter: _Counter, columns: PointColumns, period: Period | None, category: bool) -> dict[str, Any]:
    return counter.count(_read_partition(path, columns, period=period, category=category, threads=False))


def _count_frame(
    frame: gpd.GeoDataFrame, counter: _Counter, columns: PointColumns, period: Period | None, category: bool
) -> dict[str, Any]:
    return counter.count(_frame_points(frame, columns, period=period, category=category))


def _combine(*partials: dict[str, Any]) -> dict[str, Any]:
    """Sum partial counts: numbers add, tables concatenate and sum per key."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for p in partials for k in p):
        items = [p[key] for p in partials if key in p]
        if isinstance(items[0], pd.DataFrame):
            frame = pd.concat(items, ignore_index=True)
            keys = [c for c in frame.columns if c not in ("count", "weight")]
            out[key] = frame.groupby(keys, sort=False, dropna=False, as_index=False).sum()
        else:
            out[key] = sum(items)
    return out


# --------------------------------------------------------------------------- the public entry point


@dataclass(frozen=True, eq=False)
class CountLayers:
    """Zones (and a grid over them) with their fitted point locators, built once by
    :func:`count_layers` and reused by every :func:`count_points` call (fitting the locator of a
    100 m grid over Bogotá takes seconds).
    """

    zones: Zones
    zone_locator: PointLocator
    metric_crs: str
    grid: Zones | None = None
    grid_locator: PointLocator | None = None
    grid_m: float | None = None
    grid_lattice: SquareLattice | None = None


def count_layers(
    zones: Zones,
    *,
    grid_m: float | None = None,
    grid_shape: Literal["square", "hex"] = "square",
    metric_crs: str | None = None,
    resolution: int = 2048,
) -> CountLayers:
    """Fit the locators :func:`count_points` uses: the zones' (EPSG:4326, as
    :func:`~geoprio.zones.tie.attach`) and, with ``grid_m``, the grid's (the metric CRS, as the
    hot-spot grid of :func:`~geoprio.hotspots.grid.make_cells`).

    ``resolution`` is the locators' index grid (:class:`~geoprio.zones.assign.PointLocator`;
    2048 as the in-memory core): answers do not depend on it, a lower one fits faster on a
    small layer.
    """
    zones = as_zones(zones)
    if grid_m is not None and not grid_m > 0:
        raise InputError(f"grid_m must be a positive number of metres, got {grid_m!r}")
    mcrs = metric_crs or zones.metric_crs
    check_metric_crs(mcrs)
    zone_loc = PointLocator(resolution=resolution).fit(zones.frame.geometry.values)
    if grid_m is None:
        return CountLayers(zones, zone_loc, mcrs)
    grid = make_grid(zones, cell_size_m=grid_m, shape=grid_shape, metric_crs=mcrs, population="none")
    cells = np.asarray(grid.frame.geometry.to_crs(mcrs).values, dtype=object)
    grid_loc = PointLocator(resolution=resolution).fit(cells)
    lattice = SquareLattice.from_cells(cells, grid_m) if grid_shape == "square" else None
    return CountLayers(zones, zone_loc, mcrs, grid, grid_loc, float(grid_m), lattice)


def count_points(
    points: str | Path | Sequence[str | Path] | gpd.GeoDataFrame | Any,
    zones: Zones | CountLayers,
    *,
    grid_m: float | None = None,
    grid_shape: Literal["square", "hex"] = "square",
    areas: InfluenceAreas | None = None,
    by: Sequence[CountBy] = ("period", "category"),
    period: Period = "month",
    grid_by_period: bool | None = None,
    columns: PointColumns | None = None,
    metric_crs: str | None = None,
    engine: Engine | EngineOptions | str = "memory",
) -> PointCounts:
    """Count points per zone, grid cell and influence area, in memory or on a Dask cluster.

    Parameters
    ----------
    points
        A dataset folder (``part-*.parquet``), GeoParquet file(s), a GeoDataFrame or a
        dask-geopandas GeoDataFrame of Point geometries.
    zones
        The zones (:func:`~geoprio.zones.layers.load_zones`), or :class:`CountLayers` already
        fitted (:func:`count_layers`), to count several datasets without fitting again.
    grid_m
        Also count on grid cells of this size over the zones (the hot-spot grid); None: no grid.
    grid_shape
        ``"square"`` or ``"hex"`` cells.
    areas
        Also count per influence area (:class:`InfluenceAreas`).
    by
        Group zone and area counts by ``"period"`` and/or ``"category"``; grid cells by period only.
    period
        Period length: ``day``, ``week``, ``month``, ``quarter`` or ``year``.
    grid_by_period
        Count grid cells per period too (default: when ``by`` holds ``"period"``); ``False``
        keeps one total per cell, which a fine grid over many periods may need.
    columns
        The dataset's column names (:class:`PointColumns`).
    metric_crs
        Metric CRS of the grid (default: the zones').
    engine
        ``"memory"``, ``"local"``, a scheduler address, :class:`~geoprio.io.cluster.EngineOptions`
        or an open :class:`~geoprio.io.cluster.Engine` (:func:`~geoprio.io.cluster.open_engine`).
    """
    layers = zones if isinstance(zones, CountLayers) else count_layers(zones, grid_m=grid_m, grid_shape=grid_shape, metric_crs=metric_crs)
    if isinstance(zones, CountLayers) and grid_m is not None and grid_m != (layers.grid_m or None):
        raise InputError(
            f"grid_m={grid_m!r} differs from the layers' grid ({layers.grid_m!r}); build the layers with count_layers(grid_m=...)"
        )
    cols = columns or PointColumns()
    by_t = tuple(dict.fromkeys(by))
    bad = [b for b in by_t if b not in ("period", "category")]
    if bad:
        raise InputError(f"by: expected 'period' and/or 'category', got {bad}")
    if period not in PERIOD_FREQ:
        raise InputError(f"period: expected one of {', '.join(PERIOD_FREQ)}, got {period!r}")
    per: Period | None = period if "period" in by_t or grid_by_period else None
    grid = layers.grid
    cell_by: tuple[str, ...] = ("period",) if (grid_by_period if grid_by_period is not None else "period" in by_t) else ()
    counter = _Counter(
        layers.zone_locator, layers.grid_locator, areas, metric_crs=layers.metric_crs, by=by_t, cell_by=cell_by, lattice=layers.grid_lattice
    )
    args = (cols, per, "category" in by_t)
    with open_engine(engine) as eng:
        if eng.client is None:
            partial, parts = _count_here(points, counter, args)
        else:
            partial, parts = _count_on_cluster(eng, points, counter, args)
        engine_doc = eng.describe()
    notes: dict[str, Any] = {
        "engine": engine_doc,
        "partitions": parts,
        "points": int(partial.get("points", 0)),
        "points_in_zones": int(partial.get("points", 0)) - int(partial.get("outside_zones", 0)),
        "points_outside_zones": int(partial.get("outside_zones", 0)),
        "by": list(by_t),
        "period": per,
    }
    if grid is not None:
        notes |= {"grid_m": float(layers.grid_m or 0), "grid_cells": len(grid), "points_outside_grid": int(partial.get("outside_grid", 0))}
    if areas is not None:
        notes |= {
            "areas": len(areas.ids),
            "points_near_areas": int(partial.get("near_areas", 0)),
            "area_pairs": int(partial.get("area_pairs", 0)),
        }
    empty = pd.DataFrame({"target": np.empty(0, np.int64), "count": np.empty(0, np.int64)})
    zone_ids = layers.zones.frame["zone_id"].to_numpy()
    zt = _finish(partial.get("zones", empty), zone_ids, "zone_id", by_t, per, cols)
    ct = None
    if grid is not None:
        ct = _finish(partial.get("cells", empty), grid.frame["zone_id"].to_numpy(), "cell_id", cell_by, per, cols)
        ct.insert(1, "zone_id", ct["cell_id"].map(grid.frame.set_index("zone_id")["parent_id"]).astype("string"))
    at = _finish(partial.get("areas", empty), np.asarray(areas.ids, dtype=object), "place_id", by_t, per, cols) if areas else None
    return PointCounts(zones=zt, cells=ct, areas=at, zone_layer=layers.zones, grid=grid, notes=notes)


def _count_here(points: Any, counter: _Counter, args: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
    """The in-memory engine: every point read here and counted in one piece."""
    cols, per, cat = args
    if _is_dask(points):
        points = points.compute()
    if hasattr(points, "geometry"):
        return counter.count(_frame_points(points, cols, period=per, category=cat)), 1
    parts = _parts_of(points)
    batch = _Points.concat([_read_partition(p, cols, period=per, category=cat) for p in parts])
    return counter.count(batch), len(parts)


def _count_on_cluster(eng: Engine, points: Any, counter: _Counter, args: tuple[Any, ...]) -> tuple[dict[str, Any], int]:
    """The Dask engine: the counter broadcast once, one task per partition, a tree of sums."""
    client = eng.client
    # a worker's threads already run partitions side by side: one thread per locate
    zones_1, grid_1 = (_one_thread(loc) for loc in (counter.zones, counter.grid))
    assert zones_1 is not None
    counter = _Counter(
        zones_1, grid_1, counter.areas, metric_crs=counter.metric_crs, by=counter.by, cell_by=counter.cell_by, lattice=counter.lattice
    )
    shared = client.scatter(counter, broadcast=True, hash=False)
    if _is_dask(points) or hasattr(points, "geometry"):
        frames = _dask_frame(points).to_delayed()
        futures = client.compute(frames)
        tasks = client.map(_count_frame, futures, counter=shared, columns=args[0], period=args[1], category=args[2], pure=False)
        n = len(frames)
    else:
        parts = [str(p) for p in _parts_of(points)]
        tasks = client.map(_count_part, parts, counter=shared, columns=args[0], period=args[1], category=args[2], pure=False)
        n = len(parts)
    while len(tasks) > 1:
        tasks = [client.submit(_combine, *tasks[i : i + _FAN_IN], pure=False) for i in range(0, len(tasks), _FAN_IN)]
    return tasks[0].result(), n


def _one_thread(loc: PointLocator | None) -> PointLocator | None:
    if loc is None:
        return None
    one = copy.copy(loc)
    one.n_jobs = 1
    return one


def _is_dask(obj: Any) -> bool:
    return hasattr(obj, "to_delayed") and hasattr(obj, "npartitions")


def _dask_frame(points: Any) -> Any:
    if _is_dask(points):
        return points
    dask_geopandas = importlib.import_module("dask_geopandas")

    n = max(1, len(points) // 1_000_000)
    return dask_geopandas.from_geopandas(points, npartitions=n)


def _parts_of(points: Any) -> list[Path]:
    if isinstance(points, str | Path):
        return dataset_parts(points)
    if isinstance(points, Sequence) and points and all(isinstance(p, str | Path) for p in points):
        return [q for p in points for q in dataset_parts(p)]
    raise InputError(
        f"points: expected a dataset folder, GeoParquet file(s), a GeoDataFrame or a dask-geopandas frame, got {type(points).__name__}"
    )


def _finish(
    partial: pd.DataFrame, ids: np.ndarray, key: str, by: tuple[str, ...], period: Period | None, cols: PointColumns
) -> pd.DataFrame:
    """Partial counts → the output table: ids, period labels, sorted rows, ``count`` (and ``weight``)."""
    frame = partial.copy()
    out = pd.DataFrame({key: pd.array(ids[frame["target"].to_numpy(dtype=np.int64)], dtype="string")})
    order = {"target": frame["target"].to_numpy(dtype=np.int64)}
    if "period" in by and period is not None:
        ordinal = frame["period"].to_numpy(dtype=np.int64) if len(frame) else np.empty(0, np.int64)
        labels = pd.PeriodIndex.from_ordinals(np.where(ordinal == _NAT, 0, ordinal), freq=PERIOD_FREQ[period]).astype(str).to_numpy()
        out["period"] = pd.array(np.where(ordinal == _NAT, None, labels), dtype="string")
        order["period"] = ordinal
    if "category" in by:
        cat = frame["category"].to_numpy(dtype=object) if len(frame) else np.empty(0, object)
        out["category"] = pd.array(cat, dtype="string")
        order["category"] = pd.Series(out["category"]).fillna("").to_numpy(dtype=object)
    out["count"] = frame["count"].to_numpy(dtype=np.int64)
    if cols.weight is not None:
        # rounded: sums of the same weights in another order differ in the last bits
        out["weight"] = np.round(frame["weight"].to_numpy(dtype=float), 9) if "weight" in frame else np.zeros(len(frame))
    if len(out):
        keys = pd.DataFrame(order).sort_values(list(order), kind="stable")
        out = out.iloc[keys.index.to_numpy()]
    return out.reset_index(drop=True)
