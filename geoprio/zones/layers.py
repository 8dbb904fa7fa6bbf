"""Zones: polygon layers (localidades, UPZ, barrios, cuadrantes) and regular grids.

A :class:`Zones` holds one level of zones with a standard set of columns, whatever the
source layer called them: ``zone_id`` (text), ``name``, ``parent_id``/``parent_name``
(the enclosing level, e.g. the localidad of a UPZ), ``area_km2`` (computed in a metric
CRS) and ``population``. Geometry is kept in EPSG:4326; metric work projects to
``metric_crs`` (MAGNA-SIRGAS Origen-Nacional, EPSG:9377, by default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.io import files as io
from geoprio.records.parse import column_hint
from geoprio.records.report import ValidationReport
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS

__all__ = [
    "Zones",
    "as_zones",
    "check_metric_crs",
    "contiguity",
    "join_parent",
    "load_zones",
    "make_grid",
    "with_population",
]

STANDARD_COLUMNS = ("zone_id", "name", "parent_id", "parent_name", "area_km2", "population", "ambient_population")


def check_metric_crs(crs: Any) -> CRS:
    """Return ``crs`` as a :class:`pyproj.CRS`, raising unless it is projected in metres."""
    try:
        c = CRS.from_user_input(crs)
    except Exception as exc:
        raise CRSError(f"unknown CRS {crs!r}: {exc}") from exc
    if not c.is_projected:
        raise CRSError(
            f"{crs!r} is a geographic CRS (degrees); distances and areas need a projected CRS in metres, "
            f"e.g. {DEFAULT_METRIC_CRS} (MAGNA-SIRGAS Origen-Nacional)"
        )
    unit = c.axis_info[0].unit_name if c.axis_info else ""
    if unit not in ("metre", "meter"):
        raise CRSError(f"{crs!r} is projected in {unit!r}, not metres")
    return c


@dataclass(frozen=True)
class Zones:
    """One level of zones with standard columns (see the module docstring)."""

    frame: gpd.GeoDataFrame
    level: str = "zona"
    metric_crs: str = DEFAULT_METRIC_CRS
    report: ValidationReport = field(default_factory=lambda: ValidationReport(source="<zones>"))

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def ids(self) -> pd.Index:
        return pd.Index(self.frame["zone_id"], name="zone_id")

    @cached_property
    def metric_geometry(self) -> gpd.GeoSeries:
        """Geometry projected to :attr:`metric_crs`."""
        return self.frame.geometry.to_crs(self.metric_crs)

    @cached_property
    def adjacency(self) -> Any:
        """Queen contiguity (scipy sparse, zones × zones), linking gaps up to 1 m."""
        return contiguity(self.metric_geometry.values, tolerance=1.0)

    @property
    def has_population(self) -> bool:
        return bool(self.frame["population"].notna().any())

    def summary(self) -> str:
        pop = self.frame["population"]
        s = f"{len(self)} zonas ({self.level}), {self.frame['area_km2'].sum():,.1f} km²"
        if pop.notna().any():
            s += f", {pop.sum():,.0f} habitantes ({int(pop.isna().sum())} sin población)"
        return s


def as_zones(obj: Any, *, what: str = "zones") -> Zones:
    """``obj`` if it is a :class:`Zones`; otherwise an :class:`InputError` saying how to make one."""
    if isinstance(obj, Zones):
        return obj
    hint = "; load_zones(gdf, id='<id column>') makes Zones of a GeoDataFrame" if isinstance(obj, gpd.GeoDataFrame) else ""
    raise InputError(f"{what} must be geoprio Zones (from load_zones or make_grid), got {type(obj).__name__}{hint}")


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (after make_valid)."""
    out = geoms.copy()
    odd = ~np.isin(shapely.get_type_id(out), (3, 6))  # Polygon, MultiPolygon
    for i in np.flatnonzero(odd):
        parts = shapely.get_parts(out[i])
        polys = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
        out[i] = shapely.union_all(polys) if polys else shapely.Polygon()
    return out


def _from_frame(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    id: str,
    name: str | None,
    level: str,
    metric_crs: str,
    parent: str | None,
    population: str | None,
    ambient: str | None = None,
    row_word: str = "feature",
) -> Zones:
    check_metric_crs(metric_crs)
    report = ValidationReport(source=source, n_read=len(gdf), row_word=row_word)
    if len(gdf) == 0:
        raise InputError(f"{source}: the layer has no features (it is empty); expected polygons with an id column such as {id!r}")
    for col, role in ((id, "id"), (name, "name"), (parent, "parent"), (population, "population"), (ambient, "ambient")):
        if col is not None and col not in gdf.columns:
            found = [str(c) for c in gdf.columns if c != gdf.geometry.name]
            raise ColumnError(f"{source}: column {col!r} (zone {role}) not found{column_hint(col, found)}")
        if col is not None:
            report.columns[role] = col
    if gdf.crs is None:
        raise CRSError(f"{source}: the layer has no CRS; pass crs=... (e.g. 'EPSG:4326')")
    feature = np.arange(len(gdf)) + 1
    ids = gdf[id].astype("string").str.strip()
    if ids.isna().any():
        i = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise InputError(f"{source}: feature {feature[i]}, column {id!r}: empty zone id")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        where = feature[(ids == first).to_numpy()]
        raise InputError(
            f"{source}: zone id {first!r} in column {id!r} appears in features {', '.join(map(str, where))}; ids must be unique"
        )

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError(f"{source}: feature {feature[i]} (id {ids.iloc[i]!r}) has no geometry")
    types = shapely.get_type_id(geoms)
    not_poly = ~np.isin(types, (3, 6))
    if not_poly.any():
        i = int(np.flatnonzero(not_poly)[0])
        raise InputError(f"{source}: feature {feature[i]} (id {ids.iloc[i]!r}) is a {geoms[i].geom_type}, expected polygons")
    # validity is checked (and repaired) in EPSG:4326, the CRS the zones are kept in:
    # reprojecting a valid polygon can make near-touching rings cross
    geoms = np.asarray(gpd.GeoSeries(geoms, crs=gdf.crs).to_crs(OUTPUT_CRS).values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = [f"id {i!r}: {shapely.is_valid_reason(g)}" for i, g in zip(ids.to_numpy()[invalid], geoms[invalid], strict=True)]
        report.correct("repaired_geometry", feature[invalid], "geometry", reasons)
        report.settings["repaired_ids"] = [str(i) for i in ids.to_numpy()[invalid]]
        geoms = geoms.copy()
        geoms[invalid] = _polygonal(shapely.make_valid(geoms[invalid]))

    frame = gpd.GeoDataFrame(
        {
            "zone_id": ids.to_numpy(),
            "name": gdf[name].astype("string").str.strip().to_numpy() if name else ids.to_numpy(),
            "parent_id": gdf[parent].astype("string").str.strip().to_numpy() if parent else pd.array([pd.NA] * len(gdf), dtype="string"),
            "parent_name": pd.array([pd.NA] * len(gdf), dtype="string"),
        },
        geometry=geoms,
        crs=OUTPUT_CRS,
    )
    metric = frame.geometry.to_crs(metric_crs)
    frame.insert(4, "area_km2", metric.area.to_numpy() / 1e6)
    for position, (target, col) in enumerate((("population", population), ("ambient_population", ambient)), start=5):
        if col:
            from geoprio.records.load import parse_numbers

            values, _m, bad = parse_numbers(gdf[col].astype("string"))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(f"{source}: feature {feature[i]}, column {col!r}: {gdf[col].iloc[i]!r} is not a number")
            frame.insert(position, target, values)
        else:
            frame.insert(position, target, np.nan)
    return Zones(frame=frame, level=level, metric_crs=metric_crs, report=report)


def load_zones(
    path: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    id: str,
    name: str | None = None,
    level: str = "zona",
    layer: str | int | None = None,
    crs: str | None = None,
    metric_crs: str = DEFAULT_METRIC_CRS,
    where: dict[str, Any] | None = None,
    parent: str | None = None,
    population: str | None = None,
    ambient: str | None = None,
    source: str | None = None,
) -> Zones:
    """Load a polygon layer as zones.

    Parameters
    ----------
    path
        Any vector layer geoprio reads (GeoJSON, GeoPackage, shapefile, GeoParquet), or a
        GeoDataFrame.
    id, name
        Columns with the zone code (unique) and its display name.
    level
        Name of the level, e.g. ``"upz"`` or ``"localidad"`` (used in outputs).
    crs
        CRS to assume when the layer declares none.
    where
        Keep only features whose columns equal the given values, e.g.
        ``{"UPlTipo": "1"}`` for urban UPZ (compared as text).
    parent
        Column holding the parent zone's id (e.g. ``LocCodigo`` in a UPZ layer).
    population
        Column with residents per zone, if the layer has one.
    ambient
        Column with an ambient ("floating") population per zone: visitors, workers,
        transit boardings; an alternative denominator for rates.

    Invalid polygons are repaired with ``shapely.make_valid`` and reported; duplicate or
    empty ids and non-polygon features are errors naming the feature.
    """
    if isinstance(path, gpd.GeoDataFrame):
        gdf, src = path.copy(), source or "<zones>"
    elif not isinstance(path, str | os.PathLike):
        raise InputError(f"load_zones reads a file path or a GeoDataFrame, got {type(path).__name__}")
    else:
        gdf = io.read_layer(path, layer=layer)
        src = source or os.path.basename(os.fspath(path))
    if gdf.crs is None and crs is not None:
        gdf = gdf.set_crs(crs)
    if where:
        from geoprio.records.load import where_mask

        gdf = gdf.loc[where_mask(gdf, where, source=src)].reset_index(drop=True)
    return _from_frame(
        gdf, source=src, id=id, name=name, level=level, metric_crs=metric_crs, parent=parent, population=population, ambient=ambient
    )


def with_population(
    zones: Zones,
    table: str | os.PathLike[str] | pd.DataFrame,
    *,
    zone_id: str,
    column: str,
    ambient: str | None = None,
    duplicates: Literal["error", "sum", "first"] = "error",
    where: dict[str, Any] | None = None,
    source: str | None = None,
    **read_options: Any,
) -> Zones:
    """Return ``zones`` with residents (and optionally an ambient population, from the
    ``ambient`` column) joined from a table keyed by zone id.

    Zones the table does not cover keep ``population`` NaN and are reported as
    ``missing_population``; table rows whose id is not a zone are reported as
    ``unknown_zone``. ``duplicates`` and ``where`` are passed to :func:`geoprio.records.load.load_zone_table`.
    """
    from geoprio.records.load import load_zone_table

    zones = as_zones(zones)
    columns = [column] + ([ambient] if ambient else [])
    t = load_zone_table(table, zone_id=zone_id, columns=columns, duplicates=duplicates, where=where, source=source, **read_options)
    values = t.values[column]
    report = replace(zones.report)
    report.examples = dict(zones.report.examples)
    report.corrected = dict(zones.report.corrected)
    report.dropped = dict(zones.report.dropped)
    report.flagged = dict(zones.report.flagged)
    ids = zones.frame["zone_id"]
    pop = ids.map(values).to_numpy(dtype=float)
    missing = np.isnan(pop)
    report.flag("missing_population", np.flatnonzero(missing) + 1, column, ids.to_numpy()[missing])
    unknown = ~values.index.isin(ids)
    report.flag("unknown_zone", np.flatnonzero(unknown) + 2, zone_id, values.index.to_numpy()[unknown])
    report.columns["population"] = f"{t.report.source}:{column}"
    frame = zones.frame.copy()
    frame["population"] = pop
    if ambient:
        frame["ambient_population"] = ids.map(t.values[ambient]).to_numpy(dtype=float)
        report.columns["ambient"] = f"{t.report.source}:{ambient}"
    return replace(zones, frame=frame, report=report)


def join_parent(
    zones: Zones,
    parent: Zones,
    *,
    method: Literal["overlap", "attribute"] = "overlap",
) -> Zones:
    """Attach the parent level (e.g. the localidad of each UPZ).

    ``method="overlap"`` gives each zone the parent polygon it overlaps most (areas in
    the metric CRS), which is robust to small misalignments between layers.
    ``method="attribute"`` uses ``zones.frame.parent_id`` (read from a column) and only
    fills ``parent_name``; unknown parent ids are errors.
    """
    zones, parent = as_zones(zones), as_zones(parent, what="parent")
    frame = zones.frame.copy()
    if method == "attribute":
        names = parent.frame.set_index("zone_id")["name"]
        pid = frame["parent_id"]
        unknown = pid.notna() & ~pid.isin(names.index)
        if unknown.any():
            raise InputError(f"{zones.report.source}: parent ids {sorted(set(pid[unknown]))[:5]} are not ids of {parent.report.source}")
        frame["parent_name"] = pid.map(names).astype("string")
        return replace(zones, frame=frame)
    child_geom = np.asarray(zones.metric_geometry.values, dtype=object)
    parent_geom = np.asarray(parent.frame.geometry.to_crs(zones.metric_crs).values, dtype=object)
    tree = shapely.STRtree(parent_geom)
    ci, pi = tree.query(child_geom, predicate="intersects")
    # a child inside a single parent needs no intersection (most cells of a grid)
    single = np.bincount(ci, minlength=len(child_geom)) == 1
    area = np.ones(len(ci))
    mixed = ~single[ci]
    area[mixed] = shapely.area(shapely.intersection(child_geom[ci[mixed]], parent_geom[pi[mixed]]))
    pairs = pd.DataFrame({"c": ci, "p": pi, "a": area}).sort_values(["c", "a"], ascending=[True, False])
    best = pairs.drop_duplicates("c")
    parent_id = np.full(len(frame), None, dtype=object)
    parent_id[best["c"].to_numpy()] = parent.frame["zone_id"].to_numpy()[best["p"].to_numpy()]
    frame["parent_id"] = pd.array(parent_id, dtype="string")
    frame["parent_name"] = frame["parent_id"].map(parent.frame.set_index("zone_id")["name"]).astype("string")
    return replace(zones, frame=frame)


def make_grid(
    area: Zones | gpd.GeoDataFrame,
    *,
    cell_size_m: float,
    shape: Literal["square", "hex"] = "square",
    metric_crs: str | None = None,
    clip: bool = True,
    population: Literal["areal", "none"] = "areal",
) -> Zones:
    """Cover a study area with square or hexagonal cells, clipped to it.

    Parameters
    ----------
    area
        Zones (or any polygon layer) whose union is the study area.
    cell_size_m
        Square side, or for hexagons the distance between the centres of neighbouring
        cells (the width across flats), in metres.
    shape
        ``"square"`` or ``"hex"`` (pointy-top hexagons).
    clip
        Clip cells to the study area (areas are then the clipped areas).
    population
        ``"areal"`` spreads each zone's residents over the cells in proportion to the
        overlapping area (when the zones have population); ``"none"`` leaves it empty.

    Each cell's parent is the zone it overlaps most, so grid results roll up to the
    zone level.
    """
    if not cell_size_m or cell_size_m <= 0:
        raise InputError(f"cell_size_m must be a positive number of metres, got {cell_size_m!r}")
    if isinstance(area, Zones):
        zones = area
    elif not isinstance(area, gpd.GeoDataFrame):
        raise InputError(f"make_grid covers Zones or a GeoDataFrame of polygons, got {type(area).__name__}")
    else:
        zones = _from_frame(
            area.reset_index(drop=True).assign(_gid=np.arange(len(area)).astype(str)),
            source="<area>",
            id="_gid",
            name=None,
            level="area",
            metric_crs=metric_crs or DEFAULT_METRIC_CRS,
            parent=None,
            population=None,
        )
    mcrs = metric_crs or zones.metric_crs
    check_metric_crs(mcrs)
    zone_geom = zones.frame.geometry.to_crs(mcrs).values
    study = shapely.union_all(zone_geom)
    x0, y0, x1, y1 = study.bounds
    n_est = (x1 - x0) * (y1 - y0) / (cell_size_m**2)
    if n_est > 5_000_000:
        raise InputError(f"a {cell_size_m} m grid over this area needs about {n_est:,.0f} cells; choose a larger cell_size_m")
    if shape not in ("square", "hex"):
        raise InputError(f"shape must be 'square' or 'hex', got {shape!r}")
    cells = _square_cells(x0, y0, x1, y1, cell_size_m) if shape == "square" else _hex_cells(x0, y0, x1, y1, cell_size_m)
    shapely.prepare(study)
    keep = shapely.intersects(study, cells)
    cells = cells[keep]
    if clip:
        inside = shapely.contains_properly(study, cells)
        cells = cells.copy()
        cells[~inside] = _polygonal(shapely.intersection(cells[~inside], study))
        cells = cells[shapely.area(cells) > 1e-6 * cell_size_m**2]
    ids = np.array([f"{'H' if shape == 'hex' else 'C'}{i:06d}" for i in range(len(cells))], dtype=object)
    gdf = gpd.GeoDataFrame({"cell_id": ids}, geometry=cells, crs=mcrs)
    grid = _from_frame(
        gdf,
        source=f"<{shape} grid {cell_size_m:g} m>",
        id="cell_id",
        name=None,
        level=f"grid_{shape}_{cell_size_m:g}m",
        metric_crs=mcrs,
        parent=None,
        population=None,
    )
    grid = join_parent(grid, zones)
    if population == "areal" and zones.has_population:
        grid = _areal_population(grid, zones, cells, zone_geom, clipped=clip)
    return grid


def _areal_population(grid: Zones, zones: Zones, cells: np.ndarray, zone_geom: np.ndarray, *, clipped: bool) -> Zones:
    tree = shapely.STRtree(zone_geom)
    ci, zi = tree.query(cells, predicate="intersects")
    # cells are clipped to the zones' union: one touching a single zone lies inside it
    single = (np.bincount(ci, minlength=len(cells))[ci] == 1) & clipped
    overlap = shapely.area(cells[ci])
    overlap[~single] = shapely.area(shapely.intersection(cells[ci[~single]], zone_geom[zi[~single]]))
    share = overlap / shapely.area(zone_geom[zi])
    frame = grid.frame.copy()
    for column in ("population", "ambient_population"):
        values = zones.frame[column].to_numpy(dtype=float)
        if np.isnan(values).all():
            continue
        frame[column] = np.bincount(ci, weights=np.nan_to_num(values)[zi] * share, minlength=len(cells))
    return replace(grid, frame=frame)


def _square_cells(x0: float, y0: float, x1: float, y1: float, size: float) -> np.ndarray:
    xs = x0 + size * np.arange(int(np.ceil((x1 - x0) / size)) or 1)
    ys = y0 + size * np.arange(int(np.ceil((y1 - y0) / size)) or 1)
    gx, gy = np.meshgrid(xs, ys)
    return shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size, gy.ravel() + size)


def _hex_cells(x0: float, y0: float, x1: float, y1: float, width: float) -> np.ndarray:
    """Pointy-top hexagons; ``width`` is the distance across flats (between centres)."""
    r = width / np.sqrt(3)  # circumradius
    dy = 1.5 * r
    ny = int(np.ceil((y1 - y0) / dy)) + 2
    nx = int(np.ceil((x1 - x0) / width)) + 2
    cx = x0 + width * np.arange(-1, nx)
    cy = y0 + dy * np.arange(-1, ny)
    gx, gy = np.meshgrid(cx, cy)
    gx = gx + np.where((np.arange(len(cy)) % 2 == 1)[:, None], width / 2, 0.0)
    angles = np.deg2rad(30 + 60 * np.arange(6))
    vx = gx.ravel()[:, None] + r * np.cos(angles)[None, :]
    vy = gy.ravel()[:, None] + r * np.sin(angles)[None, :]
    coords = np.stack([vx, vy], axis=-1)
    coords = np.concatenate([coords, coords[:, :1]], axis=1)
    return np.asarray(shapely.polygons(coords), dtype=object)


def contiguity(geometries: np.ndarray, *, tolerance: float = 0.0) -> sp.csr_matrix:
    """Queen contiguity of polygons: zones that share at least a boundary point.

    ``tolerance`` (in the geometries' units) also links zones separated by a gap no wider
    than it, which real layers digitized separately often have.
    """
    geoms = np.asarray(geometries, dtype=object)
    query = shapely.buffer(geoms, tolerance) if tolerance > 0 else geoms
    tree = shapely.STRtree(geoms)
    i, j = tree.query(query, predicate="intersects")
    keep = i != j
    n = geoms.size
    A = sp.coo_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(n, n)).tocsr()
    A = ((A + A.T) > 0).astype(float)
    return sp.csr_matrix(A)
