"""Maps of grids clipped to real zones: slivers smaller than the rounding grid never crash a map.

Issue 16: ``geoprio map --cells`` failed with GEOS "LinearRing … 2 points" on Medellín's hot-spot
cells clipped to the comunas (some cells are 0.13 m²), at any tolerance.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

import geoprio.maps as maps
from geoprio import load_zones
from geoprio.cli import app
from geoprio.hotspots import make_cells

BIG = shapely.box(-74.10, 4.60, -74.09, 4.61)
# 3e-6° (0.3 m) a side: every vertex rounds to (-74.05, 4.6) at 5 decimals (a ring of 2 points), a triangle at 6
SLIVER = shapely.Polygon([(-74.05, 4.6), (-74.049997, 4.6), (-74.05, 4.600003)])


def test_plain_rounding_of_the_sliver_is_what_crashed():
    rounded = shapely.transform(np.array([SLIVER]), lambda c: np.round(c, 5))
    with pytest.raises(shapely.errors.GEOSException, match="LinearRing"):
        shapely.remove_repeated_points(rounded, 0.0)


def test_a_sliver_part_is_dropped_and_the_rest_kept():
    multi = shapely.MultiPolygon([BIG, SLIVER])
    out = maps.round_coordinates(np.array([multi, BIG]), 5)
    assert out[0].is_valid and not out[0].is_empty
    assert out[0].area == pytest.approx(BIG.area, rel=1e-9)  # the 0.01° square, without the sliver
    assert shapely.get_num_geometries(out[0]) == 1
    coords = shapely.get_coordinates(out[0])
    assert np.array_equal(coords, np.round(coords, 5))
    assert out[1].equals_exact(BIG, 0)  # the others are rounded as before


def test_a_polygon_that_would_vanish_is_kept_on_a_finer_grid():
    out = maps.round_coordinates(np.array([SLIVER, BIG]), 5)
    assert not out[0].is_empty and out[0].is_valid
    coords = shapely.get_coordinates(out[0])
    assert np.array_equal(coords, np.round(coords, 6))  # 6 decimals: the first grid that keeps it
    assert out[0].area == pytest.approx(0.5 * 3e-6 * 3e-6, rel=1e-6)
    assert out[1].equals_exact(BIG, 0)


@pytest.fixture(scope="module")
def medellin_cells(shared_data) -> gpd.GeoDataFrame:
    """The 150-m grid over Medellín's comunas, clipped to them (as ``geoprio hotspots`` makes it)."""
    comunas = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA", name="NOMBRE")
    return make_cells(zones=comunas, cell_size_m=150).cells.frame


def test_medellin_clipped_cells_map_at_any_tolerance(medellin_cells):
    cells = medellin_cells
    area = cells.to_crs("EPSG:9377").area.to_numpy()
    assert len(cells) == 17204 and (area < 1).sum() == 4  # real slivers: the smallest is 0.125 m²
    # every clipped cell (the whole ones are plain squares), all drawn as Gi* hot spots and density
    clipped = cells[area < 22_499].reset_index(drop=True).assign(gi_code="hot_99", kde_km2=1.0)
    clipped_area = clipped.to_crs("EPSG:9377").area.to_numpy()
    for tolerance_m in (0.0, 10.0, 50.0):
        res = maps.build_map(cells=clipped, tiles="none", tolerance_m=tolerance_m, max_cells=100_000)
        kinds = {li.kind: li.features for li in res.layers}
        assert kinds == {"density": len(clipped), "gistar": len(clipped)}  # no cell dropped
        data = res.layers[1].layer.data
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in data["features"]])
        assert not shapely.is_empty(geoms).any()
        small = clipped_area < 1
        assert small.sum() == 4 and shapely.area(geoms[small]).min() > 0
    # the dissolved path (one polygon per class above max_cells)
    res = maps.build_map(cells=clipped, tiles="none", max_cells=100)
    assert {li.kind: li.features for li in res.layers} == {"density": 1, "gistar": 1}


def test_medellin_cells_through_the_command(medellin_cells, tmp_path):
    cells = medellin_cells.assign(gi_code=np.where(np.arange(len(medellin_cells)) % 7 == 0, "hot_95", "none"), kde_km2=2.5)
    path = tmp_path / "celdas.gpkg"
    cells.to_file(path)
    out = CliRunner().invoke(app, ["map", "--cells", str(path), "--tiles", "none", "--out", str(tmp_path / "m.html")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "m.html").stat().st_size > 0
