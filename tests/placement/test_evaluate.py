"""The workspace's exact evaluation of a proposal (geoprio.placement.evaluate).

Checked against a hand-computed case, against the coverage matrix and the maximal covering
objective of the existing solver (the same set, the same count), against its greedy ranking,
the camera demand against the demand plan_cameras builds, and the garita evaluation (along
the shore) against plan_garitas' objective.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoprio.errors import InputError
from geoprio.placement import (
    CoverageEvaluator,
    CoverageProblem,
    camera_demand,
    coverage_counts,
    coverage_matrix,
    evaluate_proposal,
    maximize_coverage,
    plan_cameras,
    plan_garitas,
)
from geoprio.placement.evaluate import ShoreEvaluator, garita_demand

# demand on a line: A(0) w1, B(150) w2, C(300) w4, D(1000) w8, E(2000) w16; radius 100 m
DEMAND = np.array([[0, 0], [150, 0], [300, 0], [1000, 0], [2000, 0]], dtype=float)
WEIGHTS = np.array([1, 2, 4, 8, 16], dtype=float)
EXISTING = np.array([[1000, 50]], dtype=float)  # sees D
# s0 sees A, B (75 m each); s1 sees B, C; s2 sees C at exactly 100 m (inclusive)
SITES = np.array([[75, 0], [225, 0], [300, 100]], dtype=float)


def test_the_hand_computed_case_in_the_given_order():
    ev = evaluate_proposal(DEMAND, SITES, radius_m=100, weights=WEIGHTS, existing_xy=EXISTING)
    assert ev.total_weight == 31 and ev.existing_weight == 8 and ev.covered_weight == 15
    assert ev.covered_share == pytest.approx(15 / 31) and ev.existing_share == pytest.approx(8 / 31)
    np.testing.assert_array_equal(ev.order, [0, 1, 2])
    np.testing.assert_array_equal(ev.gain, [3, 4, 0])  # s0: A + B; s1: C; s2: nothing new
    np.testing.assert_array_equal(ev.unique_weight, [1, 0, 0])  # only s0 sees A; B and C are seen twice
    np.testing.assert_array_equal(ev.reach_weight, [3, 6, 4])
    np.testing.assert_allclose(ev.curve, np.array([8, 11, 15, 15]) / 31)
    np.testing.assert_array_equal(ev.covered, [True, True, True, True, False])


def test_the_hand_computed_case_in_greedy_order():
    ev = evaluate_proposal(DEMAND, SITES, radius_m=100, weights=WEIGHTS, existing_xy=EXISTING, order="greedy")
    np.testing.assert_array_equal(ev.order, [1, 0, 2])  # s1 sees 6, then s0 adds A (1), s2 nothing
    np.testing.assert_array_equal(ev.gain, [1, 6, 0])
    np.testing.assert_allclose(ev.curve, np.array([8, 14, 15, 15]) / 31)
    table = ev.sites_table()
    assert table["rank"].tolist() == [2, 1, 3] and table["gain_share"].tolist() == pytest.approx([1 / 31, 6 / 31, 0])


def test_no_site_and_no_existing():
    ev = evaluate_proposal(DEMAND, np.empty((0, 2)), radius_m=100, weights=WEIGHTS)
    assert ev.covered_weight == 0 and ev.n_sites == 0 and ev.curve.tolist() == [0.0]


def test_equals_the_coverage_matrix_and_the_mclp_objective():
    rng = np.random.default_rng(3)
    demand = rng.uniform(0, 3000, size=(4000, 2))
    w = rng.gamma(2.0, size=4000)
    cand = rng.uniform(0, 3000, size=(300, 2))
    old = rng.uniform(0, 3000, size=(10, 2))
    problem = CoverageProblem.from_points(demand, cand, radius_m=150, weights=w, existing_xy=old)
    result = maximize_coverage(problem, p=12, time_limit_s=30)
    chosen = result.ranking["candidate"].to_numpy()
    ev = CoverageEvaluator(demand, w).evaluate(cand[chosen], radius_m=150, existing_xy=old)
    # the solver's objective for that set, and the same count from the sparse matrix
    assert ev.covered_weight == pytest.approx(result.objective, rel=1e-12)
    x = np.zeros(len(cand))
    x[chosen] = 1
    counts = coverage_matrix(demand, cand, 150) @ x + coverage_counts(demand, old, 150)
    assert ev.covered_weight == pytest.approx(float(w[counts >= 1].sum()), rel=1e-12)
    np.testing.assert_array_equal(ev.covered, counts >= 1)
    # in the solver's ranking order, the gains are its marginal weights and the curve its cumulative share
    np.testing.assert_allclose(ev.gain, result.ranking["marginal_weight"].to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ev.curve[1:], result.ranking["cumulative_share"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ev.unique_weight, result.ranking["unique_weight"].to_numpy(), rtol=1e-9, atol=1e-9)


def test_greedy_order_is_the_solver_s_greedy_ranking():
    rng = np.random.default_rng(5)
    demand = rng.uniform(0, 2000, size=(3000, 2))
    w = rng.gamma(2.0, size=3000)
    cand = rng.uniform(0, 2000, size=(200, 2))
    problem = CoverageProblem.from_points(demand, cand, radius_m=120, weights=w)
    result = maximize_coverage(problem, p=15, time_limit_s=30)
    chosen = np.sort(result.selected)
    ev = evaluate_proposal(demand, cand[chosen], radius_m=120, weights=w, order="greedy")
    np.testing.assert_array_equal(chosen[ev.order], result.ranking["candidate"].to_numpy())
    assert ev.gain.sum() == pytest.approx(ev.covered_weight - ev.existing_weight)


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="radius_m must be a positive"):
        evaluate_proposal(DEMAND, SITES, radius_m=0)
    with pytest.raises(InputError, match="weights has 2 values but there are 5 demand points"):
        CoverageEvaluator(DEMAND, [1, 2])
    with pytest.raises(InputError, match="sites_xy has 1 point"):
        evaluate_proposal(DEMAND, [[np.nan, 0]], radius_m=10)
    with pytest.raises(InputError, match="order must be"):
        evaluate_proposal(DEMAND, SITES, radius_m=10, order="best")  # type: ignore[arg-type]


def test_camera_demand_is_the_plan_s_demand():
    rng = np.random.default_rng(7)
    n = 300
    incidents = pd.DataFrame(
        {
            "x": -74.08 + rng.uniform(0, 0.02, n),
            "y": 4.60 + rng.uniform(0, 0.02, n),
            "category": rng.choice(["hurto a personas", "homicidio", "lesiones personales"], n),
        }
    )
    run = plan_cameras(incidents, p=3, radius_m=150, time_limit_s=20)
    demand = camera_demand(incidents)
    np.testing.assert_allclose(demand.weight, run.demand["weight"].to_numpy())
    assert len(np.unique(demand.weight)) > 1  # harm weights, not 1 each
    new = run.sites[run.sites["estado"] == "nueva"].to_crs("EPSG:9377")
    ev = evaluate_proposal(demand.xy, np.column_stack([new.geometry.x, new.geometry.y]), radius_m=150, weights=demand.weight)
    assert ev.covered_weight == pytest.approx(run.result.objective, rel=1e-9)


# --------------------------------------------------------------------------- garitas along the shore

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.mark.parametrize("beach_incidents", [True, False])
def test_garita_evaluation_is_the_garita_plan_s_objective(beach_incidents):
    layers = {"coast": DEMO / "costa.geojson", "beaches": DEMO / "playas.geojson"}
    incidents = DEMO / "delitos.csv" if beach_incidents else None
    run = plan_garitas(
        **layers, existing=DEMO / "garitas.geojson", incidents=incidents, p=3, radius_m=400.0, method="milp", time_limit_s=20
    )
    shore, demand = garita_demand(**layers, incidents=incidents)
    np.testing.assert_allclose(demand.weight, run.demand["weight"].to_numpy())
    if beach_incidents:  # harm-weighted incidents snapped to the shore
        assert demand.notes["snapped"] == len(demand.weight) and demand.notes["too_far_from_shore"] > 0
    else:  # a weight per metre of shore
        assert demand.weight.sum() == pytest.approx(shore.length_m)
    metric = run.sites.to_crs("EPSG:9377")
    xy = np.column_stack([metric.geometry.x, metric.geometry.y])
    new, old = (run.sites["estado"] == "nueva").to_numpy(), (run.sites["estado"] == "existente").to_numpy()
    assert new.sum() == 3 and old.sum() == 4
    ev = ShoreEvaluator(shore, demand).evaluate(xy[new], radius_m=400.0, existing_xy=xy[old])
    assert ev.covered_weight == pytest.approx(run.result.objective, rel=1e-9)
    assert ev.existing_share == pytest.approx(run.result.existing_share, rel=1e-9)


def test_garitas_on_a_closed_shore_wrap_around_and_snap():
    # a square island of 4 km of shore; uniform demand every 10 m: 400 pieces of 10 m
    island = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1000, 0), (1000, 1000), (0, 1000), (0, 0)])], crs="EPSG:9377")
    shore, demand = garita_demand(coast=island)
    ev_ = ShoreEvaluator(shore, demand)
    assert ev_.total_weight == pytest.approx(4000)
    # a garita at the ring's start covers 150 m either way (wrapping): 30 pieces; one 20 m off shore snaps
    ev = ev_.evaluate([[0, 0], [500, -20]], radius_m=150)
    assert ev.covered_weight == pytest.approx(600) and ev.reach_weight.tolist() == pytest.approx([300, 300])
    # 1000 m from the shore: covers nothing when the snap distance is 200 m
    far = ev_.evaluate([[500, 500], [500, -1200]], radius_m=150, max_snap_m=200.0)
    assert far.covered_weight == 0 and far.reach_weight.tolist() == [0, 0]
    # an existing garita at (0, 0) takes the first site's stretch
    ex = ev_.evaluate([[0, 0], [500, 0]], radius_m=150, existing_xy=[[0, 0]])
    assert ex.existing_weight == pytest.approx(300) and ex.gain.tolist() == pytest.approx([0, 300])
