"""Anonymous map points: where a public map may put incidents.

As police.uk snaps each crime to an anonymous map point that covers at least eight postal
addresses, :func:`anonymous_points` snaps each incident to the centre of a grid cell that
holds at least ``k`` of them. Cells nest as a quadtree: a point whose ``cell_m`` cell holds
fewer than ``k`` points (not already snapped) goes up to the 2×, 4×, … coarser cell that
contains it; a point that reaches no cell with ``k`` points at the coarsest size
(``cell_m · 2**levels``) is dropped, never published. Every published point stands for at
least ``k`` incidents, and no incident location appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geoprio.settings import DEFAULT_METRIC_CRS

__all__ = ["AnonymousPoints", "anonymous_points"]


@dataclass(frozen=True)
class AnonymousPoints:
    """The anonymous points and how the input points map onto them.

    ``points``: one row per anonymous point (its cell's centre, in the input's CRS) with
    ``count`` (incidents snapped to it, each ≥ k) and ``cell_m`` (the size of its cell);
    ``of_input``: for each input point, the row of ``points`` it was snapped to, −1 where
    dropped; ``dropped``: how many input points were dropped.
    """

    points: gpd.GeoDataFrame
    of_input: np.ndarray
    dropped: int


def _metric(points: gpd.GeoSeries, crs: Any) -> gpd.GeoSeries:
    if points.crs is None:
        raise ValueError("anonymous_points: the points have no CRS; set one (e.g. EPSG:4326 for longitude/latitude)")
    target = CRS.from_user_input(crs if crs is not None else (points.crs if points.crs.is_projected else DEFAULT_METRIC_CRS))
    if not target.is_projected:
        raise ValueError(
            f"anonymous_points: crs={crs!r} is geographic (degrees); cells need a projected CRS in metres, e.g. {DEFAULT_METRIC_CRS}"
        )
    return points.to_crs(target)


def anonymous_points(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    k: int,
    *,
    cell_m: float = 100.0,
    levels: int = 4,
    crs: Any = None,
) -> AnonymousPoints:
    """Snap points to the centres of quadtree grid cells holding at least ``k`` of them.

    Parameters
    ----------
    points
        Incident points (any CRS; projected to ``crs`` for the grid).
    k
        The fewest points an anonymous point may stand for (e.g. the policy's ``min_count``).
    cell_m
        Side of the finest cell, in metres.
    levels
        Coarsenings tried after the finest cell (2×, 4×, … up to ``cell_m · 2**levels``).
    crs
        Projected CRS of the grid (default: the points' CRS if projected, else
        :data:`~geoprio.settings.DEFAULT_METRIC_CRS`).
    """
    if k < 1:
        raise ValueError(f"anonymous_points: k must be at least 1, got {k!r}")
    if not cell_m > 0 or levels < 0:
        raise ValueError(f"anonymous_points: cell_m must be positive and levels ≥ 0, got cell_m={cell_m!r}, levels={levels!r}")
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if len(geoms) and not (geoms.geom_type == "Point").all():
        raise ValueError("anonymous_points: every geometry must be a Point")
    metric = _metric(geoms, crs)
    x, y = metric.x.to_numpy(dtype=float), metric.y.to_numpy(dtype=float)
    n = len(x)
    coarsest = cell_m * 2**levels
    ox = np.floor(np.nanmin(x) / coarsest) * coarsest if n else 0.0  # cells of every size nest
    oy = np.floor(np.nanmin(y) / coarsest) * coarsest if n else 0.0
    of_input = np.full(n, -1)
    left = np.isfinite(x) & np.isfinite(y)
    centres: list[tuple[float, float, int, float]] = []
    for level in range(levels + 1):
        size = cell_m * 2**level
        ix = np.floor((x - ox) / size).astype(np.int64, copy=False) if n else np.zeros(0, dtype=np.int64)
        iy = np.floor((y - oy) / size).astype(np.int64, copy=False) if n else np.zeros(0, dtype=np.int64)
        cells = pd.DataFrame({"ix": ix[left], "iy": iy[left], "i": np.flatnonzero(left)})
        for (cx, cy), members in cells.groupby(["ix", "iy"], sort=True)["i"]:
            if len(members) < k:
                continue
            of_input[members.to_numpy()] = len(centres)
            centres.append((ox + (cx + 0.5) * size, oy + (cy + 0.5) * size, len(members), size))
            left[members.to_numpy()] = False
    frame = pd.DataFrame(centres, columns=["x", "y", "count", "cell_m"])
    out = gpd.GeoDataFrame(
        {"count": frame["count"].astype(int), "cell_m": frame["cell_m"].astype(float)},
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=metric.crs,
    ).to_crs(geoms.crs)
    return AnonymousPoints(out, of_input, int((of_input < 0).sum()))
