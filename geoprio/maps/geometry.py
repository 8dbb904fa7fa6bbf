"""The maps' geometry: checking layers, simplifying in metres, rounding, GeoJSON and Leaflet's view.

This is the only module of geoprio that knows Leaflet's ``[lat, lon]`` order
(:func:`leaflet_view`); everything else hands over GeoJSON, which is ``[lon, lat]``.

**Light pages.** Only aggregates are drawn (zones, clusters, cells, sites), never incident
points. Polygons are simplified in a metric CRS (EPSG:9377 by default) with a tolerance in
metres — zone layers with :func:`shapely.coverage_simplify`, so neighbouring zones keep one
shared border (no gaps or slivers) — then coordinates are rounded (5 decimals ≈ 1 m).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS
from geoprio.zones.layers import check_metric_crs

__all__ = [
    "DEFAULT_DECIMALS",
    "DEFAULT_TOLERANCE_M",
    "check_frame",
    "column_list",
    "dissolve_by",
    "feature_collection",
    "first_column",
    "label_points",
    "layer_name",
    "leaflet_view",
    "prepare_geometries",
    "require_columns",
    "round_coordinates",
    "simplify_m",
    "to_metric",
]

#: Simplification tolerance of polygons, metres.
DEFAULT_TOLERANCE_M = 10.0
#: Decimals kept in longitudes and latitudes (5 ≈ 1.1 m).
DEFAULT_DECIMALS = 5
#: Where an empty map opens: Bogotá, as Leaflet wants it, ``[lat, lon]``.
_DEFAULT_CENTRE = (4.6, -74.1)


def layer_name(frame: Any, role: str) -> str:
    """How errors name a layer: its file (``attrs["source"]``, set when read from disk) and role."""
    src = getattr(frame, "attrs", {}).get("source")
    return f"{src} ({role})" if src else role


def check_frame(frame: gpd.GeoDataFrame, name: str, *, geom_types: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The layer without empty geometries, checked to have a CRS and only ``geom_types``."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{name}: expected a GeoDataFrame, got {type(frame).__name__}")
    source = frame.attrs.get("source")
    name = layer_name(frame, name)
    if frame.crs is None:
        raise CRSError(f"{name}: the layer has no CRS; set one (geoprio writes EPSG:4326)")
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    bad = sorted(set(frame.geom_type) - set(geom_types))
    if bad:
        raise InputError(f"{name}: expected {' or '.join(geom_types)} geometries, got {', '.join(bad)}")
    frame = frame.reset_index(drop=True)
    if source:
        frame.attrs["source"] = source
    return frame


def column_list(frame: pd.DataFrame) -> list[str]:
    """The layer's columns but its geometry, for error messages."""
    return [str(c) for c in frame.columns if c != "geometry"]


def require_columns(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    """Raise :class:`ColumnError` naming the layer and the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ColumnError(f"{layer_name(frame, name)}: missing column(s) {missing}; columns present: {column_list(frame)}")


def first_column(frame: pd.DataFrame, *candidates: str) -> str | None:
    """The first of ``candidates`` the layer has, or ``None``."""
    return next((c for c in candidates if c in frame.columns), None)


def to_metric(frame: gpd.GeoDataFrame, metric_crs: str) -> gpd.GeoSeries:
    """The layer's geometries in ``metric_crs`` (checked to be a projected CRS in metres)."""
    check_metric_crs(metric_crs)
    return frame.geometry.to_crs(metric_crs)


def simplify_m(
    frame: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    tolerance_m: float,
    metric_crs: str = DEFAULT_METRIC_CRS,
    coverage: bool = True,
) -> gpd.GeoSeries:
    """Simplify polygons with a tolerance in metres; the result is in EPSG:4326.

    The geometries are projected to ``metric_crs`` (MAGNA-SIRGAS Origen-Nacional by
    default), simplified there and projected back. With ``coverage=True`` (zones, grid
    classes: polygons that tile without overlapping) GEOS's coverage simplification
    (Visvalingam–Whyatt) simplifies each shared border once, so neighbours stay exactly
    adjacent; a vertex goes when the triangle it makes with its neighbours has an area under
    ``tolerance_m²``. Layers that are not a valid coverage (overlapping clusters) are
    simplified one by one (:func:`shapely.simplify`, Douglas–Peucker keeping topology), which
    drops the vertices that lie within about ``tolerance_m`` of the simplified line.
    """
    if not isinstance(tolerance_m, (int, float)) or not math.isfinite(tolerance_m) or tolerance_m < 0:
        raise InputError(f"tolerance_m must be a non-negative number of metres, got {tolerance_m!r}")
    gs = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if gs.crs is None:
        raise CRSError("simplify_m: the geometries have no CRS")
    g = to_metric(gpd.GeoDataFrame(geometry=gs), metric_crs).to_numpy()
    if tolerance_m > 0 and len(g):
        polygonal = np.isin(shapely.get_type_id(g), (3, 6))
        if coverage and polygonal.all() and bool(shapely.coverage_is_valid(g)):
            g = shapely.coverage_simplify(g, tolerance_m, simplify_boundary=True)
        else:
            g = shapely.simplify(g, tolerance_m, preserve_topology=True)
    return gpd.GeoSeries(g, index=gs.index, crs=metric_crs).to_crs(OUTPUT_CRS)


def round_coordinates(geoms: gpd.GeoSeries | np.ndarray, decimals: int = DEFAULT_DECIMALS) -> np.ndarray:
    """Round every coordinate to ``decimals`` and drop the repeated vertices this creates.

    A part of a polygon smaller than the rounding grid (a sliver left where a grid cell was
    clipped to a zone border: 0.1 m² when 5 decimals are about 1 m) collapses to a ring of
    fewer than three distinct vertices, which no polygon may hold. Such a geometry is snapped
    to the grid by GEOS instead (:func:`shapely.set_precision`), which drops the collapsed parts
    and keeps the rest valid; a geometry that would collapse whole is kept at a finer grid
    (up to 8 decimals, then unrounded), so that no non-empty feature disappears from a map.
    """
    arr = geoms.to_numpy() if isinstance(geoms, gpd.GeoSeries) else np.asarray(geoms)
    rounded = shapely.transform(arr, lambda c: np.round(c, decimals))
    try:
        out = shapely.remove_repeated_points(rounded, 0.0)
    except GEOSException:  # some ring collapsed to fewer than three points: geometry by geometry
        out = np.array([_without_repeats(r) for r in rounded], dtype=object)
    # polygons with a part collapsed by the rounding (no longer valid, or of no area)
    polygonal = np.isin(shapely.get_type_id(arr), (3, 6)) & ~shapely.is_empty(arr)
    bad = polygonal & (shapely.is_missing(out) | ~shapely.is_valid(out) | (shapely.area(out) == 0))
    for i in np.flatnonzero(bad):
        out[i] = _snap_to_grid(arr[i], decimals)
    return out


def _without_repeats(geom: Any) -> Any:
    """``geom`` without repeated vertices, or ``None`` when a ring collapses."""
    try:
        return shapely.remove_repeated_points(geom, 0.0)
    except GEOSException:
        return None


def _snap_to_grid(geom: Any, decimals: int) -> Any:
    """``geom`` snapped to a grid of ``10**-decimals`` (collapsed parts dropped, valid result),
    on a finer grid when it would vanish whole; ``geom`` itself when even 8 decimals cannot keep it.
    """
    for d in range(decimals, max(decimals, 8) + 1):
        snapped = shapely.set_precision(geom, 10.0**-d)
        if not snapped.is_empty:
            return snapped
    return geom


def prepare_geometries(frame: gpd.GeoDataFrame, *, tolerance_m: float, decimals: int, metric_crs: str, coverage: bool = True) -> np.ndarray:
    """The layer's geometries ready to draw: polygons simplified (:func:`simplify_m`), all rounded, in EPSG:4326."""
    polys = frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    if polys:
        geoms = simplify_m(frame, tolerance_m=tolerance_m, metric_crs=metric_crs, coverage=coverage)
    else:
        geoms = frame.geometry.to_crs(OUTPUT_CRS)
    return round_coordinates(geoms, decimals)


def label_points(geoms: np.ndarray) -> np.ndarray:
    """Where a label goes on each polygon: its centroid, or a point inside it (GEOS's point on
    surface) when the centroid falls outside (an L-shaped zone, a crescent).
    """
    centres = shapely.centroid(geoms)
    return np.where(shapely.contains(geoms, centres), centres, shapely.point_on_surface(geoms))


def feature_collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    """A compact GeoJSON FeatureCollection (string ids for folium's style lookup)."""
    shapes = shapely.to_geojson(geoms)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": str(i), "properties": p, "geometry": json.loads(s)}
            for i, (p, s) in enumerate(zip(props, shapes, strict=True))
        ],
    }


def dissolve_by(geoms_metric: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (multi)polygon per distinct key: ``(geometries, keys, cell counts)``."""
    uniq, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    merged = np.array([shapely.union_all(geoms_metric[inv == i]) for i in range(len(uniq))], dtype=object)
    return merged, uniq, counts


def leaflet_view(frames: Sequence[gpd.GeoDataFrame | None]) -> tuple[list[float], list[list[float]] | None]:
    """Where a map opens: its centre ``[lat, lon]`` and the bounds ``[[south, west], [north, east]]``
    of ``frames`` (``None`` without any geometry), in Leaflet's order.
    """
    boxes = [f.to_crs(OUTPUT_CRS).total_bounds for f in frames if f is not None and len(f) and f.crs is not None]
    if not boxes:
        return list(_DEFAULT_CENTRE), None
    b = np.array(boxes)
    west, south, east, north = float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())
    return [(south + north) / 2, (west + east) / 2], [[south, west], [north, east]]
