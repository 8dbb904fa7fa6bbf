"""Anonymous map points (geoprio.disclosure.points), hand-computed."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geoprio.disclosure.points import anonymous_points

X0, Y0 = 4_800_000.0, 2_000_000.0  # multiples of the coarsest cell (200 m), so cells start here


def pts(xy, crs="EPSG:9377") -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(X0 + x, Y0 + y) for x, y in xy], crs=crs)


def test_points_snap_to_cells_with_k_and_coarsen_or_drop():
    xy = [(10, 10), (20, 80), (90, 40)]  # three in the 100 m cell [0, 100)²
    xy += [(150, 50), (150, 150), (50, 150)]  # one in each other 100 m cell of the 200 m cell [0, 200)²
    xy += [(1010, 1010)]  # alone, even at 200 m: dropped
    out = anonymous_points(pts(xy), 3, cell_m=100, levels=1)
    got = sorted((p.x - X0, p.y - Y0, c, s) for p, c, s in zip(out.points.geometry, out.points["count"], out.points["cell_m"], strict=True))
    assert got == [(50.0, 50.0, 3, 100.0), (100.0, 100.0, 3, 200.0)]
    assert out.dropped == 1 and out.of_input[-1] == -1
    assert len(set(out.of_input[:3])) == 1 and len(set(out.of_input[3:6])) == 1 and out.of_input[0] != out.of_input[3]
    assert (out.points["count"] >= 3).all() and out.points["count"].sum() == len(xy) - out.dropped
    assert out.points.crs == "EPSG:9377"


def test_no_published_point_is_an_incident_and_geographic_input_comes_back_geographic():
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 800, size=(300, 2))
    metric = pts(xy)
    out = anonymous_points(metric.to_crs("EPSG:4326"), 8, cell_m=50, levels=3)
    assert out.points.crs == "EPSG:4326"
    assert (out.points["count"] >= 8).all()
    back = out.points.to_crs("EPSG:9377")
    # every published point is a cell centre: at (i + ½)·size from the origin, never an incident
    for p, size in zip(back.geometry, out.points["cell_m"], strict=True):
        assert ((p.x - X0) / size - 0.5) == pytest.approx(round((p.x - X0) / size - 0.5), abs=1e-5)
    assert min(metric.distance(p).min() for p in back.geometry) > 1e-6
    kept = out.of_input >= 0
    assert out.points["count"].sum() == kept.sum() and out.dropped == (~kept).sum()


def test_k_1_keeps_every_point_at_the_finest_cell_and_bad_inputs():
    out = anonymous_points(pts([(10, 10), (510, 10)]), 1, cell_m=100)
    assert out.points["count"].tolist() == [1, 1] and set(out.points["cell_m"]) == {100.0} and out.dropped == 0
    with pytest.raises(ValueError, match="k must be at least 1"):
        anonymous_points(pts([(0, 0)]), 0)
    with pytest.raises(ValueError, match="geographic"):
        anonymous_points(pts([(0, 0)]), 2, crs="EPSG:4326")
    with pytest.raises(ValueError, match="Point"):
        anonymous_points(gpd.GeoSeries([box(0, 0, 1, 1)], crs="EPSG:9377"), 2)
    with pytest.raises(ValueError, match="no CRS"):
        anonymous_points(gpd.GeoSeries([Point(0, 0)]), 2)
    empty = anonymous_points(gpd.GeoSeries([], crs="EPSG:9377"), 3)
    assert len(empty.points) == 0 and empty.dropped == 0
