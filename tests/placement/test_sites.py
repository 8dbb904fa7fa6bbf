"""The geo adapter: demand weights, candidate sites, CRS checks, shores and coverage along them."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from scipy.spatial.distance import cdist

from geoprio.errors import CRSError, InputError
from geoprio.placement import (
    Shore,
    candidate_grid,
    candidates_along_lines,
    candidates_from_points,
    coverage_problem,
    demand_from_points,
    drop_near,
    exclude_areas,
    facilities_from_points,
    maximize_coverage,
    shore_candidates,
    shore_coverage_problem,
    shore_demand,
    shore_from_layers,
    snap_to_shore,
)
from geoprio.records.harm import load_harm_table

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
CRS = "EPSG:9377"
X0, Y0 = 4_720_000.0, 2_700_000.0  # somewhere in Cartagena, MAGNA-SIRGAS Origen-Nacional


def metric_points(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.asarray(xy)), crs=CRS)


def square(x, y, size):
    return shapely.box(x, y, x + size, y + size)


# --------------------------------------------------------------------------- demand


def test_demand_weight_is_harm_times_zone_index_factor():
    zones = gpd.GeoDataFrame(
        {"zone_id": ["A", "B"], "index": [0.0, 50.0]},
        geometry=[square(X0, Y0, 1000), square(X0 + 1000, Y0, 1000)],
        crs=CRS,
    ).to_crs("EPSG:4326")
    pts = metric_points(
        [[X0 + 500, Y0 + 500], [X0 + 1500, Y0 + 500], [X0 + 1500, Y0 + 600], [X0 + 5000, Y0]],
        delito=["Homicidio", "Hurto a personas", "Algo raro", "Homicidio"],
    )
    d = demand_from_points(pts, category="delito", harm=True, zones=zones, zone_id_column="zone_id", index_weight=1.0)
    table = load_harm_table()
    hom, hurto = table.weight("Homicidio"), table.weight("Hurto a personas")
    np.testing.assert_allclose(d.weight, [hom * 1.0, hurto * 1.5, 1.0 * 1.5, hom * 1.0])
    assert list(d.frame["zone_id"].iloc[:3]) == ["A", "B", "B"] and pd.isna(d.frame["zone_id"].iloc[3])
    assert d.notes["unknown_harm_categories"] == {"Algo raro": 1}
    assert d.notes["outside_index_zones"] == 1
    np.testing.assert_allclose(d.xy[0], [X0 + 500, Y0 + 500], atol=1e-6)
    assert d.frame.crs.to_epsg() == 4326


def test_demand_cells_keep_the_total_weight_at_the_weighted_centre():
    pts = metric_points([[X0 + 10, Y0 + 10], [X0 + 30, Y0 + 10], [X0 + 130, Y0 + 10]], w=[1.0, 3.0, 2.0])
    d = demand_from_points(pts, weight="w", cell_size_m=100)
    assert d.notes["cells"] == 2
    order = np.argsort(d.xy[:, 0])
    np.testing.assert_allclose(d.weight[order], [4.0, 2.0])
    np.testing.assert_allclose(d.xy[order][0], [X0 + 25, Y0 + 10], atol=1e-6)  # (1·10 + 3·30) / 4
    assert list(d.frame["n_records"].to_numpy()[order]) == [2, 1]


def test_demand_from_records_of_the_demo_city():
    from geoprio.records.load import load_points

    rec = load_points(DEMO / "delitos.csv")
    d = demand_from_points(rec, harm=True)
    table = load_harm_table()
    expected = rec.data["weight"].to_numpy() * table.lookup(rec.data["category"]).to_numpy()
    np.testing.assert_allclose(d.weight, expected)
    assert len(d) == len(rec)


# --------------------------------------------------------------------------- candidates


def test_candidate_grid_spacing_and_area():
    area = gpd.GeoDataFrame(geometry=[square(X0, Y0, 1000)], crs=CRS)
    s = candidate_grid(spacing_m=100, area=area)
    assert len(s) == 100  # 10 × 10 cell centres
    d = cdist(s.xy, s.xy)
    np.fill_diagonal(d, np.inf)
    assert d.min() == pytest.approx(100.0)
    assert shapely.contains_xy(area.geometry.iloc[0], s.xy[:, 0], s.xy[:, 1]).all()
    near = candidate_grid(spacing_m=100, near=np.array([[X0, Y0]]), near_m=150)
    assert (cdist(near.xy, [[X0, Y0]]) <= 150).all() and len(near) > 0


def test_candidates_along_lines_are_centres_of_equal_pieces():
    lines = gpd.GeoDataFrame(
        {"costo": [2.0, 5.0]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 250, Y0)]), shapely.LineString([(X0, Y0 + 500), (X0, Y0 + 540)])],
        crs=CRS,
    )
    s = candidates_along_lines(lines, spacing_m=100, cost_column="costo")
    np.testing.assert_allclose(s.xy[:3, 0] - X0, [250 / 6, 125.0, 250 * 5 / 6])
    np.testing.assert_allclose(s.xy[3], [X0, Y0 + 520])
    np.testing.assert_allclose(s.cost, [2, 2, 2, 5])


def test_exclusion_areas_and_distance_to_existing():
    area = gpd.GeoDataFrame(geometry=[square(X0, Y0, 1000)], crs=CRS)
    s = candidate_grid(spacing_m=100, area=area)
    hole = gpd.GeoDataFrame(geometry=[square(X0, Y0, 300)], crs=CRS)
    kept = exclude_areas(s, hole)
    assert len(kept) == 100 - 9 and kept.notes["excluded"] == 9
    old = facilities_from_points(metric_points([[X0 + 500, Y0 + 500]], id=["CAM-1"]))
    assert list(old.frame["site_id"]) == ["CAM-1"]
    assert len(drop_near(kept, old, 70)) == len(kept)  # the nearest cell centres are 50·√2 ≈ 70.7 m away
    far = drop_near(kept, old, 75)
    assert len(far) == len(kept) - 4
    assert far.notes["too_close_to_existing"] == 4


def test_metric_crs_and_missing_crs_are_refused():
    pts = metric_points([[X0, Y0]])
    with pytest.raises(CRSError, match=r"geographic CRS \(degrees\)"):
        demand_from_points(pts, metric_crs="EPSG:4326")
    with pytest.raises(CRSError, match=r"the layer has no CRS"):
        demand_from_points(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))
    with pytest.raises(CRSError, match=r"geographic CRS"):
        candidate_grid(spacing_m=50, near=np.zeros((1, 2)), near_m=10, metric_crs="EPSG:4686")


def test_coverage_problem_errors_name_the_radius():
    d = demand_from_points(metric_points([[X0, Y0]]))
    s = candidates_from_points(metric_points([[X0 + 500, Y0]]))
    with pytest.raises(InputError, match=r"no demand point is within radius_m=100 m of any of the 1 candidate sites"):
        coverage_problem(d, s, radius_m=100)
    with pytest.raises(InputError, match=r"radius_m must be a positive number of metres, got 0"):
        coverage_problem(d, s, radius_m=0)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3.3 deprecation inside spopt
def test_geo_pipeline_optimum_equals_spopt_from_geodataframe():
    pulp = pytest.importorskip("pulp")
    spopt_locate = pytest.importorskip("spopt.locate")
    solver = pulp.PULP_CBC_CMD(msg=False)
    if not solver.available():
        pytest.skip("CBC is not available to PuLP here")
    rng = np.random.default_rng(12)
    dem = metric_points(rng.uniform(0, 1500, (120, 2)) + [X0, Y0], peso=rng.integers(1, 9, 120).astype(float))
    fac = metric_points(rng.uniform(0, 1500, (25, 2)) + [X0, Y0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = spopt_locate.MCLP.from_geodataframe(
            dem, fac, "geometry", "geometry", "peso", service_radius=220, p_facilities=5, distance_metric="euclidean"
        ).solve(solver)
    d = demand_from_points(dem.to_crs("EPSG:4326"), weight="peso")
    s = candidates_from_points(fac.to_crs("EPSG:4326"))
    ours = maximize_coverage(coverage_problem(d, s, radius_m=220), p=5, mip_rel_gap=0)
    assert ours.objective == pytest.approx(peer.problem.objective.value())


# --------------------------------------------------------------------------- shores


def _u_bay():
    """A U-shaped shore: two 1 km arms 100 m apart joined by a 100 m bottom."""
    line = shapely.LineString([(X0, Y0 + 1000), (X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 1000)])
    return gpd.GeoDataFrame({"nombre": ["bahía"]}, geometry=[line], crs=CRS)


def test_coverage_is_measured_along_the_shore_not_across_the_bay():
    shore = shore_from_layers(_u_bay())
    assert shore.length_m == pytest.approx(2100.0)
    sites = shore_candidates(shore, spacing_m=100)
    demand = shore_demand(shore, step_m=10)
    assert demand.weight.sum() == pytest.approx(2100.0)  # one unit per metre
    prob = shore_coverage_problem(shore, demand, sites, radius_m=150)
    # the site 50 m up the left arm, and the demand point 55 m up the right arm: 10 m apart
    # across the bay (Euclidean ≈ 100 m) but 1000 − 50 + 100 + 55 ≈ 1105 m along the shore
    left = int(np.argmin(np.abs(sites.shore_pos - (1000 - 50))))
    right = int(np.argmin(np.abs(demand.shore_pos - (1100 + 55))))
    assert np.linalg.norm(sites.xy[left] - demand.xy[right]) < 150
    assert prob.coverage[right, left] == 0
    # each garita covers 300 m of shore: two garitas, 600 m of 2100 m
    r = maximize_coverage(prob, p=2, mip_rel_gap=0)
    assert r.covered_share == pytest.approx(600 / 2100, abs=0.01)


def test_closed_shores_wrap_around():
    ring = shapely.LinearRing([(X0, Y0), (X0 + 250, Y0), (X0 + 250, Y0 + 250), (X0, Y0 + 250)])
    shore = shore_from_layers(gpd.GeoDataFrame(geometry=[shapely.LineString(ring.coords)], crs=CRS))
    assert shore.closed.all() and shore.length_m == pytest.approx(1000.0)
    demand = shore_demand(shore, step_m=10)
    sites = shore_candidates(shore, spacing_m=1000)  # one site, 500 m along
    prob = shore_coverage_problem(shore, demand, sites, radius_m=600)
    assert prob.coverage.sum() == len(demand)  # 600 m both ways covers the whole ring
    prob2 = shore_coverage_problem(shore, demand, sites, radius_m=100)
    assert prob2.coverage.sum() == 20  # 200 m of shore in 10 m steps


def test_existing_garitas_are_snapped_and_their_coverage_counts():
    coast = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 4000, Y0)])], crs=CRS)
    shore = shore_from_layers(coast)
    old = snap_to_shore(shore, facilities_from_points(metric_points([[X0 + 1000, Y0 + 30]], id=["GAR-1"])))
    assert old.frame["distance_to_shore_m"].iloc[0] == pytest.approx(30.0)
    demand = shore_demand(shore, step_m=10)
    sites = drop_near(shore_candidates(shore, spacing_m=100), old, 200)
    prob = shore_coverage_problem(shore, demand, sites, radius_m=500, existing=old)
    r = maximize_coverage(prob, p=2, mip_rel_gap=0)
    assert r.existing_share == pytest.approx(1000 / 4000)
    assert r.covered_share == pytest.approx(3000 / 4000)  # 1 km by the existing garita + 2 × 1 km by new ones


def test_shore_from_coast_and_beaches_follows_the_coast_along_each_beach():
    coast = gpd.read_file(DEMO / "costa.geojson")
    beaches = gpd.read_file(DEMO / "playas.geojson")
    shore = shore_from_layers(coast, beaches, snap_m=25)
    line = coast.to_crs(CRS).geometry.iloc[0]
    expected = shapely.intersection(line, shapely.union_all(beaches.to_crs(CRS).buffer(25).values)).length
    assert shore.length_m == pytest.approx(expected, rel=1e-4)  # noding moves vertices by millimetres
    assert set(shore.names) == set(beaches["nombre"])
    only_beaches = shore_from_layers(beaches=gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 50)], crs=CRS))
    assert only_beaches.length_m == pytest.approx(1000.0, rel=0.06)


def test_beach_incidents_snap_to_the_shore_and_far_ones_are_counted():
    coast = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 1000, Y0)])], crs=CRS)
    shore = shore_from_layers(coast)
    pts = demand_from_points(metric_points([[X0 + 100, Y0 + 20], [X0 + 900, Y0 - 50], [X0 + 500, Y0 + 800]]))
    d = shore_demand(shore, points=pts, max_snap_m=200)
    np.testing.assert_allclose(np.sort(d.shore_pos), [100.0, 900.0])
    assert d.notes["too_far_from_shore"] == 1
    with pytest.raises(InputError, match=r"no demand point lies within max_snap_m=10 m of the shore"):
        shore_demand(shore, points=pts, max_snap_m=10)


def test_visitors_are_spread_along_their_beach():
    coast = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 3000, Y0)])], crs=CRS)
    beaches = gpd.GeoDataFrame(
        {"nombre": ["Norte", "Sur"], "visitantes": [1000.0, 4000.0]},
        geometry=[shapely.box(X0, Y0 - 20, X0 + 1000, Y0 + 20), shapely.box(X0 + 2000, Y0 - 20, X0 + 2500, Y0 + 20)],
        crs=CRS,
    )
    shore = shore_from_layers(coast, beaches, snap_m=5)
    d = shore_demand(shore, step_m=10, visitors=beaches, visitors_column="visitantes")
    per_beach = pd.Series(d.weight).groupby(d.frame["shore"].to_numpy()).sum()
    assert per_beach["Norte"] == pytest.approx(1000.0) and per_beach["Sur"] == pytest.approx(4000.0)


def test_shore_stretches_have_the_radius_length():
    coast = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 2000, Y0)])], crs=CRS)
    shore = shore_from_layers(coast)
    st = shore.stretches(np.array([1000.0, 100.0]), 300)
    np.testing.assert_allclose(shapely.length(st), [600.0, 400.0])
    assert isinstance(shore, Shore)


def test_transformer_round_trip_of_demand_coordinates():
    lonlat = pd.DataFrame({"x": [-75.55, -75.50], "y": [10.40, 10.42]})
    d = demand_from_points(lonlat)
    tr = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    np.testing.assert_allclose(d.xy, np.column_stack(tr.transform(lonlat["x"], lonlat["y"])))


def test_a_forecast_table_is_checked_before_it_becomes_demand(tmp_path):
    from geoprio.placement.sites import forecast_demand

    full = pd.DataFrame({"cell_id": ["a", "b"], "lon": [-75.57, -75.56], "lat": [6.24, 6.25], "expected": [0.5, 1.25]})
    full.to_csv(tmp_path / "full.csv", index=False)
    d = forecast_demand(tmp_path / "full.csv")
    assert (d.cells, d.total, d.weight_column) == (2, 1.75, "expected")
    full.assign(expected=[0.5, -1.0]).to_csv(tmp_path / "neg.csv", index=False)
    with pytest.raises(InputError, match=r"neg.csv: column 'expected' must hold numbers ≥ 0; row 3 holds '-1.0'"):
        forecast_demand(tmp_path / "neg.csv")
    # a public release: suppressed cells are null, and the message says what to use instead
    full.assign(expected=[0.5, None], suppressed=[False, True]).to_csv(tmp_path / "pub.csv", index=False)
    with pytest.raises(InputError, match=r"pub.csv: a public release .* its 1 suppressed cells .* plan on the full surface"):
        forecast_demand(tmp_path / "pub.csv")
