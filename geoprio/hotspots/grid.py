"""Grid cells of a study area, and record coordinates in metres.

* :func:`to_metric` projects validated records (lon/lat) into the metric CRS, and says which
  UTM zone to use when points far from Colombia meet the Colombian default (EPSG:9377);
* :func:`area_from_points` is the study area of points without zones (their concave hull);
* :func:`make_cells` covers the zones (or that hull) with square or hexagonal cells
  (:func:`geoprio.zones.layers.make_grid`) and returns a :class:`Grid` that locates and counts
  points in them (:class:`geoprio.zones.assign.PointLocator`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geoprio.errors import CRSError, InputError
from geoprio.hotspots.options import check_positive
from geoprio.records.load import Records
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_METRIC_CRS, OUTPUT_CRS
from geoprio.zones.assign import PointLocator
from geoprio.zones.layers import Zones, check_metric_crs, make_grid

__all__ = ["Grid", "area_from_points", "make_cells", "to_metric", "to_output_crs"]


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


def to_output_crs(geoms: np.ndarray, metric_crs: str) -> gpd.GeoSeries:
    """Geometries in ``metric_crs`` as a GeoSeries in the output CRS (EPSG:4326)."""
    return gpd.GeoSeries(geoms, crs=metric_crs).to_crs(OUTPUT_CRS)


def area_from_points(xy: np.ndarray, *, buffer_m: float = 250.0, ratio: float = 0.05) -> shapely.Geometry:
    """A study area for points without zones: their concave hull (``ratio``) grown by ``buffer_m``."""
    xy = np.asarray(xy, dtype=float)
    if len(xy) < 3:
        raise InputError(f"a study area from points needs at least 3 points, got {len(xy)}; give zones")
    u = np.unique(xy, axis=0)
    hull = shapely.concave_hull(shapely.multipoints(u), ratio=ratio)
    return cast(shapely.Geometry, shapely.buffer(hull, buffer_m))


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
        """The metric CRS of ``xy`` and ``area_m2``."""
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
    check_positive("cell_size_m", cell_size_m, allow_none=False)
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
