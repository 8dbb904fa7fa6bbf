"""The placement core: coverage matrices, MCLP / LSCP / budgeted models, heuristics, bounds, deadlines.

Optima are checked against brute force on tiny instances and against PySAL spopt (PuLP + CBC)
on small ones; heuristics against the bounds they report.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from geoprio.errors import InputError
from geoprio.placement import (
    CoverageProblem,
    coverage_counts,
    coverage_curve,
    coverage_matrix,
    maximize_coverage,
    minimize_sites,
    spacing_conflicts,
)
from geoprio.placement.heuristics import CoverModel, lazy_greedy, swap_search
from geoprio.placement.milp import lns
from geoprio.placement.workers import Worker, run_workers

# --------------------------------------------------------------------------- helpers


def brute_max(A, w, e=None, *, p=None, beta=0.0, conflicts=None, cost=None, budget=None):
    """Best objective over every subset (tiny instances only)."""
    A = np.asarray(A.toarray() if sp.issparse(A) else A)
    e = np.zeros(A.shape[0]) if e is None else np.asarray(e)
    conf = None if conflicts is None else np.asarray(conflicts.toarray() if sp.issparse(conflicts) else conflicts)
    m = A.shape[1]
    best = -1.0
    for k in range(0, (p if p is not None else m) + 1):
        for S in itertools.combinations(range(m), k):
            S = list(S)
            if conf is not None and any(conf[a, b] for a in S for b in S if a != b):
                continue
            if budget is not None and (np.sum(cost[S]) if cost is not None else len(S)) > budget + 1e-9:
                continue
            c = e + A[:, S].sum(axis=1)
            best = max(best, float((w * (c >= 1)).sum() + beta * (w * (c >= 2)).sum()))
    return best


def brute_cover(A, w, e, share, cost=None):
    A = np.asarray(A)
    m = A.shape[1]
    best = np.inf
    for k in range(0, m + 1):
        for S in itertools.combinations(range(m), k):
            S = list(S)
            c = e + A[:, S].sum(axis=1)
            ok = ((c >= 1) | (w == 0)).all() if share >= 1 else (w * (c >= 1)).sum() >= share * w.sum() - 1e-9
            if ok:
                best = min(best, float(np.sum(cost[S])) if cost is not None else float(k))
    return best


def random_instance(rng, n, m, density=0.3):
    A = (rng.random((n, m)) < density).astype(float)
    w = rng.integers(1, 10, n).astype(float)
    return A, w


def clustered(n_demand, n_cand, side, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, side, (max(3, n_demand // 400), 2))
    k = rng.integers(0, len(centres), n_demand)
    d = np.clip(centres[k] + rng.normal(0, side / 15, (n_demand, 2)), 0, side)
    c = rng.uniform(0, side, (n_cand, 2))
    w = rng.choice([1.0, 1.0, 2.0, 4.0, 16.0], n_demand)
    return d, c, w


# --------------------------------------------------------------------------- coverage matrices


def test_coverage_matrix_equals_brute_force_distances():
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 1000, (300, 2))
    c = rng.uniform(0, 1000, (40, 2))
    c[0] = d[0] + [100.0, 0.0]  # exactly at the radius: covered (≤)
    A = coverage_matrix(d, c, 100.0)
    expected = cdist(d, c) <= 100.0
    assert sp.isspmatrix_csr(A) or isinstance(A, sp.csr_matrix)
    np.testing.assert_array_equal(A.toarray() > 0, expected)
    assert A[0, 0] == 1


def test_coverage_counts_and_spacing_conflicts_match_cdist():
    rng = np.random.default_rng(4)
    d = rng.uniform(0, 500, (200, 2))
    f = rng.uniform(0, 500, (25, 2))
    np.testing.assert_array_equal(coverage_counts(d, f, 80.0), (cdist(d, f) <= 80.0).sum(axis=1))
    conf = spacing_conflicts(f, 60.0).toarray()
    dist = cdist(f, f)
    np.testing.assert_array_equal(conf > 0, (dist < 60.0) & ~np.eye(len(f), dtype=bool))
    assert (conf == conf.T).all()


def test_identical_demand_rows_are_merged():
    A = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 0], [1, 0, 1], [0, 1, 1], [0, 0, 0]], dtype=float)
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    r = maximize_coverage(CoverageProblem(A, w), p=1, method="heuristic")
    patterns = {tuple(row) for row in A if row.any()}
    assert r.stats["rows_after_merge"] <= len(patterns) == 3
    # one site: column 2 sees rows 0, 1, 3, 4 → 1 + 2 + 4 + 5 = 12 of 21
    assert r.objective == 12.0
    assert r.coverable_share == pytest.approx(15 / 21)


# --------------------------------------------------------------------------- maximal covering


def test_hand_computed_mclp_with_existing_facility():
    # demand a (w 10) seen by sites 0 and existing; b (w 6) by site 1; c (w 5) by sites 1, 2; d (w 4) by site 2
    A = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=float)
    w = np.array([10.0, 6.0, 5.0, 4.0])
    existing = np.array([1, 0, 0, 0])
    r = maximize_coverage(CoverageProblem(A, w, existing=existing), p=1, mip_rel_gap=0)
    # 'a' is already covered: site 1 (6 + 5 = 11) beats site 0 (0) and site 2 (9)
    assert list(r.selected) == [1]
    assert r.objective == 21.0
    assert r.existing_share == pytest.approx(10 / 25)
    assert r.covered_share == pytest.approx(21 / 25)
    assert r.status == "optimal" and r.gap == 0.0
    r2 = maximize_coverage(CoverageProblem(A, w, existing=existing), p=2, mip_rel_gap=0)
    assert sorted(r2.selected) == [1, 2] and r2.objective == 25.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(4, 18),
    m=st.integers(2, 8),
    mode=st.sampled_from(["p", "backup", "budget", "spacing"]),
)
def test_heuristic_never_exceeds_its_bound_and_bound_is_valid(seed, n, m, mode):
    rng = np.random.default_rng(seed)
    A, w = random_instance(rng, n, m)
    if A.sum() == 0:
        A[0, 0] = 1
    e = (rng.random(n) < 0.2).astype(int)
    kw, conf, cost = {}, None, None
    if mode in ("p", "spacing"):
        kw["p"] = int(rng.integers(1, m + 1))
    if mode == "backup":
        kw.update(p=int(rng.integers(1, m + 1)), backup_weight=0.5)
    if mode == "budget":
        cost = rng.integers(1, 4, m).astype(float)
        kw["budget"] = float(rng.integers(1, 8))
    if mode == "spacing":
        c = np.triu(rng.random((m, m)) < 0.3, 1)
        conf = (c | c.T).astype(float)
    prob = CoverageProblem(A, w, existing=e, costs=cost, conflicts=conf)
    r = maximize_coverage(prob, method="heuristic", mip_rel_gap=0, **kw)
    best = brute_max(A, w, e, p=kw.get("p"), beta=kw.get("backup_weight", 0.0), conflicts=conf, cost=cost, budget=kw.get("budget"))
    assert r.objective <= best + 1e-9  # a feasible plan
    assert r.bound >= best - 1e-9  # a valid bound
    assert r.objective <= r.bound + 1e-9
    assert r.stats.get("greedy_value", r.objective) <= r.bound + 1e-9
    assert 0 <= r.gap <= 1
    if r.status == "optimal":
        assert r.objective == pytest.approx(best)
    # the plan is feasible
    sel = r.selected
    assert len(set(sel)) == len(sel)
    if "p" in kw:
        assert len(sel) <= kw["p"]
    if cost is not None:
        assert cost[sel].sum() <= kw["budget"] + 1e-9
    if conf is not None:
        assert not conf[np.ix_(sel, sel)].any()


@pytest.mark.parametrize("seed", range(6))
def test_exact_optimum_equals_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(10, 22)), int(rng.integers(5, 9))
    A, w = random_instance(rng, n, m, density=0.35)
    e = (rng.random(n) < 0.15).astype(int)
    cost = rng.integers(1, 5, m).astype(float)
    c = np.triu(rng.random((m, m)) < 0.25, 1)
    conf = (c | c.T).astype(float)
    cases = [
        ({"p": 2}, CoverageProblem(A, w, existing=e), {}),
        ({"p": 3, "backup_weight": 0.4}, CoverageProblem(A, w, existing=e), {"beta": 0.4}),
        ({"budget": 6.0}, CoverageProblem(A, w, existing=e, costs=cost), {"cost": cost, "budget": 6.0}),
        ({"p": 3}, CoverageProblem(A, w, existing=e, conflicts=conf), {"conflicts": conf}),
    ]
    for kw, prob, bkw in cases:
        r = maximize_coverage(prob, method="milp", mip_rel_gap=0, time_limit_s=30, **kw)
        best = brute_max(A, w, e, p=kw.get("p"), **bkw)
        assert r.objective == pytest.approx(best), kw
        assert r.status == "optimal"
        assert r.bound == pytest.approx(best)


def test_greedy_is_lazy_but_equal_to_plain_greedy():
    rng = np.random.default_rng(7)
    A = sp.csr_matrix((rng.random((400, 60)) < 0.08).astype(float))
    w = rng.random(400) + 0.1  # continuous weights: no ties
    model = CoverModel(A=A, w1=w, w2=np.zeros(400))
    path = lazy_greedy(model, max_sites=15)
    # plain greedy, recomputing every gain every step
    covered = np.zeros(400, dtype=bool)
    order = []
    Ad = A.toarray() > 0
    for _ in range(15):
        gains = (Ad & ~covered[:, None]).T @ w
        gains[order] = -1
        j = int(np.argmax(gains))
        order.append(j)
        covered |= Ad[:, j]
    assert list(path.order) == order
    assert path.value == pytest.approx(float(w[covered].sum()))


def test_swap_search_ends_in_a_one_swap_local_optimum():
    rng = np.random.default_rng(11)
    A = sp.csr_matrix((rng.random((120, 25)) < 0.12).astype(float))
    w = rng.integers(1, 20, 120).astype(float)
    model = CoverModel(A=A, w1=w, w2=np.zeros(120))
    start = lazy_greedy(model, max_sites=5).order
    res = swap_search(model, start, time_budget_s=30)
    assert res.converged
    assert res.value >= model.value(start)
    chosen = set(res.chosen.tolist())
    for s in chosen:
        for j in set(range(25)) - chosen:
            trial = np.array(sorted(chosen - {s} | {j}))
            assert model.value(trial) <= res.value + 1e-9


def test_lns_keeps_feasibility_and_never_worsens():
    d, c, w = clustered(1500, 150, 2000.0, seed=5)
    prob = CoverageProblem.from_points(d, c, radius_m=150.0, weights=w)
    from geoprio.placement.reduce import reduce_problem

    model = reduce_problem(prob, backup_weight=0.0, allow_dominance=False).model
    start = lazy_greedy(model, max_sites=12).order
    import time

    S, value, windows = lns(model, start, p=12, budget=None, deadline=time.perf_counter() + 3.0, max_stall=15)
    assert len(S) == 12 and len(set(S.tolist())) == 12
    assert value >= model.value(start) - 1e-9
    assert value == pytest.approx(model.value(S))
    assert windows >= 1


def test_existing_coverage_is_kept_and_never_paid_twice():
    d, c, w = clustered(2000, 200, 2000.0, seed=9)
    rng = np.random.default_rng(1)
    existing_xy = rng.uniform(0, 2000, (30, 2))
    prob = CoverageProblem.from_points(d, c, radius_m=120.0, weights=w, existing_xy=existing_xy)
    r = maximize_coverage(prob, p=15, method="heuristic")
    e = coverage_counts(d, existing_xy, 120.0)
    assert r.existing_share == pytest.approx(w[e >= 1].sum() / w.sum())
    # covered share recomputed from scratch: existing or a chosen site within the radius
    new = coverage_matrix(d, c[r.selected], 120.0).sum(axis=1).A1
    assert r.covered_share == pytest.approx(w[(e + new) >= 1].sum() / w.sum())
    assert r.objective == pytest.approx(w[(e + new) >= 1].sum())
    # marginal gains add up to what the new sites add
    assert r.ranking["marginal_weight"].sum() == pytest.approx(r.objective - w[e >= 1].sum())
    assert r.ranking["cumulative_share"].iloc[-1] == pytest.approx(r.covered_share)
    assert r.curve["covered_share"].iloc[0] == pytest.approx(r.existing_share)


def test_coverage_curve_is_monotone_and_below_its_bound():
    d, c, w = clustered(3000, 300, 3000.0, seed=2)
    prob = CoverageProblem.from_points(d, c, radius_m=150.0, weights=w)
    curve = coverage_curve(prob, max_sites=40)
    assert list(curve["n_sites"]) == list(range(41))
    assert (np.diff(curve["covered_share"]) >= -1e-12).all()
    assert (curve["bound_share"] >= curve["covered_share"] - 1e-12).all()
    assert (np.diff(curve["bound_share"]) >= -1e-12).all()
    # the exact optimum for 10 sites lies between the greedy point and the bound
    r = maximize_coverage(prob, p=10, method="milp", time_limit_s=60)
    if r.status == "optimal":
        assert curve["covered_share"][10] - 1e-12 <= r.covered_share <= curve["bound_share"][10] + 1e-12


def test_heuristic_method_is_deterministic():
    d, c, w = clustered(2000, 250, 2000.0, seed=8)
    prob = CoverageProblem.from_points(d, c, radius_m=130.0, weights=w)
    a = maximize_coverage(prob, p=20, method="heuristic")
    b = maximize_coverage(prob, p=20, method="heuristic")
    assert list(a.selected) == list(b.selected) and a.bound == b.bound
    assert a.status in ("optimal", "stopped")


# --------------------------------------------------------------------------- set covering


@pytest.mark.parametrize("seed", range(5))
def test_set_cover_equals_brute_force(seed):
    rng = np.random.default_rng(200 + seed)
    n, m = int(rng.integers(8, 20)), int(rng.integers(4, 9))
    A, w = random_instance(rng, n, m, density=0.3)
    A[np.arange(n), rng.integers(0, m, n)] = 1  # every demand point reachable
    e = (rng.random(n) < 0.15).astype(int)
    cost = rng.integers(1, 5, m).astype(float) if seed % 2 else None
    for share in (1.0, 0.75):
        r = minimize_sites(CoverageProblem(A, w, existing=e, costs=cost), target_share=share, mip_rel_gap=0)
        assert r.objective == pytest.approx(brute_cover(A, w, e, share, cost))
        assert r.covered_share >= share - 1e-9
        assert r.bound <= r.objective + 1e-9


def test_set_cover_heuristics_bracket_the_optimum():
    d, c, w = clustered(3000, 300, 3000.0, seed=4)
    prob = CoverageProblem.from_points(d, c, radius_m=150.0, weights=w)
    exact = minimize_sites(prob, target_share=0.7, mip_rel_gap=0, time_limit_s=60)
    heur = minimize_sites(prob, target_share=0.7, method="heuristic", time_limit_s=10)
    assert heur.covered_share >= 0.7 and exact.covered_share >= 0.7
    if exact.status == "optimal":
        assert heur.bound <= exact.objective <= heur.objective
    assert heur.objective <= heur.stats["greedy_value"]  # maximal-covering rounds never add sites


def test_a_budget_without_costs_is_a_number_of_sites():
    d, c, w = clustered(1500, 150, 2000.0, seed=6)
    prob = CoverageProblem.from_points(d, c, radius_m=150.0, weights=w)
    a = maximize_coverage(prob, budget=7.5, method="heuristic")
    b = maximize_coverage(prob, p=7, method="heuristic")
    assert list(a.selected) == list(b.selected) and a.problem == "budget"
    with pytest.raises(InputError, match=r"budget=0.5 does not pay for a single site"):
        maximize_coverage(prob, budget=0.5)


def test_set_cover_refuses_unreachable_targets():
    A = np.array([[1, 0], [0, 1], [0, 0]], dtype=float)
    w = np.array([5.0, 3.0, 2.0])
    with pytest.raises(InputError, match=r"target_share=1 cannot be reached: only 80.00% of the demand weight"):
        minimize_sites(CoverageProblem(A, w), target_share=1.0)
    r = minimize_sites(CoverageProblem(A, w), target_share=0.5)
    assert list(r.selected) == [0] and r.objective == 1


# --------------------------------------------------------------------------- peers: PySAL spopt (PuLP + CBC)


def _cbc():
    pulp = pytest.importorskip("pulp")
    pytest.importorskip("spopt")
    solver = pulp.PULP_CBC_CMD(msg=False)
    if not solver.available():
        pytest.skip("CBC is not available to PuLP here")
    return solver


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3.3 deprecates the LpVariable constructor spopt uses
@pytest.mark.parametrize("seed", range(4))
def test_mclp_optimum_equals_spopt(seed):
    solver = _cbc()
    from spopt.locate import MCLP

    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 1000, (80, 2))
    c = rng.uniform(0, 1000, (18, 2))
    w = rng.integers(1, 12, 80).astype(float)
    cost = cdist(d, c)
    p = int(rng.integers(2, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = MCLP.from_cost_matrix(cost, w, service_radius=180.0, p_facilities=p).solve(solver)
    ours = maximize_coverage(CoverageProblem(cost <= 180.0, w), p=p, mip_rel_gap=0)
    assert ours.objective == pytest.approx(peer.problem.objective.value())
    assert ours.covered_share * 100 == pytest.approx(
        np.dot(w, (cost[:, [i for i, f in enumerate(peer.fac2cli) if f]] <= 180).any(1)) / w.sum() * 100
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_mclp_with_existing_sites_equals_spopt_predefined_facilities():
    solver = _cbc()
    from spopt.locate import MCLP

    rng = np.random.default_rng(42)
    d = rng.uniform(0, 1000, (90, 2))
    c = rng.uniform(0, 1000, (16, 2))
    old = rng.uniform(0, 1000, (3, 2))
    w = rng.integers(1, 12, 90).astype(float)
    p = 4
    allf = np.vstack([c, old])
    predefined = np.r_[np.zeros(len(c)), np.ones(len(old))].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = MCLP.from_cost_matrix(cdist(d, allf), w, service_radius=200.0, p_facilities=p + 3, predefined_facilities_arr=predefined)
        peer = peer.solve(solver)
    prob = CoverageProblem.from_points(d, c, radius_m=200.0, weights=w, existing_xy=old)
    ours = maximize_coverage(prob, p=p, mip_rel_gap=0)
    assert ours.objective == pytest.approx(peer.problem.objective.value())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("seed", range(3))
def test_lscp_optimum_equals_spopt(seed):
    solver = _cbc()
    from spopt.locate import LSCP

    rng = np.random.default_rng(50 + seed)
    d = rng.uniform(0, 1000, (70, 2))
    c = rng.uniform(0, 1000, (30, 2))
    cost = cdist(d, c)
    radius = float(np.sort(cost, axis=1)[:, 0].max()) + 150.0  # every demand point reachable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = LSCP.from_cost_matrix(cost, service_radius=radius).solve(solver)
    ours = minimize_sites(CoverageProblem(cost <= radius, np.ones(70)), target_share=1.0, mip_rel_gap=0)
    assert ours.objective == pytest.approx(peer.problem.objective.value())
    assert ours.covered_share == 1.0


# --------------------------------------------------------------------------- decomposition by site price


def _spread(seed, n_demand, n_cand, *, side=1000.0):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, side, (n_demand, 2))
    c = rng.uniform(0, side, (n_cand, 2))
    w = rng.integers(1, 20, n_demand).astype(float)
    return rng, d, c, w


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    mode=st.sampled_from(["p", "existing", "backup", "spacing"]),
    price_scale=st.floats(0.0, 1.5),
    lp=st.booleans(),
    n_cand=st.integers(6, 13),
    enumerate_small=st.booleans(),
)
def test_decomposition_bound_holds_for_any_price_and_its_proof_is_exact(seed, mode, price_scale, lp, n_cand, enumerate_small):
    """Z(μ) bounds every plan for every μ ≥ 0; the size branch and bound then proves the brute-force optimum."""
    import geoprio.placement.decomposition as dec
    from geoprio.placement.reduce import reduce_problem

    rng, d, c, w = _spread(seed, 50, n_cand)
    radius = float(rng.uniform(120, 300))
    A = (cdist(d, c) <= radius).astype(float)
    if A.sum() == 0:
        A[0, 0] = 1.0
    e = (rng.random(50) < 0.2).astype(int) if mode in ("existing", "backup") else None
    beta = 0.5 if mode == "backup" else 0.0
    conf = None
    if mode == "spacing":
        conf = (cdist(c, c) < radius).astype(float)
        np.fill_diagonal(conf, 0)
    p = int(rng.integers(1, 5))
    prob = CoverageProblem(A, w, existing=e, conflicts=conf)
    model = reduce_problem(prob, backup_weight=beta, allow_dominance=True).model
    best = brute_max(A, w, e, p=p, beta=beta, conflicts=conf)
    colw = np.asarray(model.csc.T @ model.w1).ravel()
    mu = price_scale * float(np.median(colw)) if len(colw) else 0.0
    start = lazy_greedy(model, max_sites=p).order
    sent = []
    saved = dec.ENUMERATE_MAX_COLS
    dec.ENUMERATE_MAX_COLS = saved if enumerate_small else 0  # components by enumeration, or all by HiGHS
    try:
        res = dec.decompose(model, p=p, mu=mu, incumbent=start, deadline=time.perf_counter() + 60, refine_price=lp, send=sent.append)
    finally:
        dec.ENUMERATE_MAX_COLS = saved
    const = model.const
    for kind, payload in sent:  # every bound sent on the way is valid too
        if kind == "bound":
            assert payload + const >= best - 1e-9
    assert res.bound + const >= best - 1e-9
    assert res.value == pytest.approx(model.value(res.chosen))
    assert len(res.chosen) <= p and len(set(res.chosen.tolist())) == len(res.chosen)
    if model.conflicts is not None and len(res.chosen) > 1:
        assert model.conflicts[res.chosen][:, res.chosen].nnz == 0
    assert res.value + const <= best + 1e-9
    if res.stats["reason"] in ("proven", "stuck"):  # tiny components, no time limit: the proof is complete
        assert res.optimal and res.stats["reason"] == "proven"
        assert res.value + const == pytest.approx(best)
        assert res.bound + const == pytest.approx(best)


def test_decomposition_price_is_the_lp_dual_and_components_are_independent():
    from scipy.optimize import linprog

    from geoprio.placement.decomposition import _components, lp_price
    from geoprio.placement.reduce import reduce_problem

    _, d, c, w = _spread(4, 600, 60, side=3000.0)
    prob = CoverageProblem.from_points(d, c, radius_m=250.0, weights=w)
    model = reduce_problem(prob, backup_weight=0.0, allow_dominance=False).model
    n, m = model.A.shape
    p = 8
    # the LP relaxation in full: max w·y, y ≤ A x, Σ x ≤ p
    cover = sp.hstack([-model.A, sp.identity(n)])
    lp = linprog(
        -np.concatenate([np.zeros(m), model.w1]),
        A_ub=sp.vstack([cover, sp.hstack([sp.csr_matrix(np.ones((1, m))), sp.csr_matrix((1, n))])]),
        b_ub=np.concatenate([np.zeros(n), [p]]),
        bounds=(0, 1),
        method="highs",
    )
    mu = lp_price(model, p, columns=np.arange(m), time_limit_s=30)
    assert mu > 0
    # an optimal dual price (it need not be unique): pricing sites at μ instead of limiting them gives the LP's value
    priced = linprog(-np.concatenate([np.full(m, -mu), model.w1]), A_ub=cover, b_ub=np.zeros(n), bounds=(0, 1), method="highs")
    assert -priced.fun + mu * p == pytest.approx(-lp.fun, rel=1e-7)
    colw = np.asarray(model.csc.T @ model.w1).ravel()
    groups = _components(model, np.flatnonzero(colw > mu))
    assert sorted(np.concatenate(groups).tolist()) == np.flatnonzero(colw > mu).tolist()
    shared = (model.A.T @ model.A).tocsr()
    for a, ga in enumerate(groups):  # no demand row is covered by two components
        for gb in groups[a + 1 :]:
            assert shared[ga][:, gb].nnz == 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("seed", range(3))
def test_decomposition_optimum_equals_the_full_milp_and_spopt(seed):
    """Exact mode (gap 0) on a clustered city: the optimum of the unreduced MILP and of spopt."""
    solver = _cbc()
    from spopt.locate import MCLP

    from geoprio.placement.decomposition import decompose, price_from_multipliers
    from geoprio.placement.heuristics import initial_multipliers, lagrangian_bound
    from geoprio.placement.milp import mclp_milp
    from geoprio.placement.reduce import reduce_problem

    d, c, w = clustered(1500, 120, 3000.0, seed=seed)
    cost = cdist(d, c)
    p = 10
    prob = CoverageProblem(cost <= 200.0, w)
    model = reduce_problem(prob, backup_weight=0.0, allow_dominance=True).model
    unreduced = CoverModel(A=prob.coverage, w1=prob.weights, w2=np.zeros(prob.n_demand))
    full = mclp_milp(unreduced, p=p, budget=None, time_limit_s=120, mip_rel_gap=0.0)
    assert full.status == 0
    start = swap_search(model, lazy_greedy(model, max_sites=p).order).chosen
    lam = lagrangian_bound(
        model, p=p, budget=None, incumbent=model.value(start), lam0=initial_multipliers(model, model.counts(start), p=p, budget=None)
    ).lam

    res = decompose(model, p=p, mu=price_from_multipliers(model, lam, p), incumbent=start, deadline=time.perf_counter() + 120)
    assert res.optimal and res.stats["reason"] == "proven"
    assert res.value + model.const == pytest.approx(unreduced.value(full.chosen))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = MCLP.from_cost_matrix(cost, w, service_radius=200.0, p_facilities=p).solve(solver)
    assert res.value + model.const == pytest.approx(peer.problem.objective.value())


def test_decomposition_runs_in_the_search_worker_and_reports_its_proof():
    from geoprio.placement.decomposition import price_from_multipliers
    from geoprio.placement.heuristics import initial_multipliers, lagrangian_bound
    from geoprio.placement.milp import mclp_milp
    from geoprio.placement.reduce import reduce_problem

    d, c, w = clustered(3000, 250, 4000.0, seed=2)
    prob = CoverageProblem.from_points(d, c, radius_m=200.0, weights=w)
    model = reduce_problem(prob, backup_weight=0.0, allow_dominance=True).model
    p = 15
    start = lazy_greedy(model, max_sites=p).order
    lam = lagrangian_bound(
        model, p=p, budget=None, incumbent=model.value(start), lam0=initial_multipliers(model, model.counts(start), p=p, budget=None)
    ).lam
    worker = Worker("lns")
    worker.submit(
        {
            "kind": "lns",
            "model": model.slim(),
            "chosen": start,
            "p": p,
            "budget": None,
            "gap": 0.0,
            "price": price_from_multipliers(model, lam, p),
            "random_state": 0,
            "seconds": 120.0,
        }
    )
    seen = []

    run_workers([worker], time.perf_counter() + 120, lambda name, kind, payload: seen.append((kind, payload)) or kind == "decomp_end")
    kinds = [k for k, _ in seen]
    assert "bound" in kinds and kinds[-1] == "decomp_end"
    final = seen[-1][1]
    assert final["reason"] == "proven"
    full = mclp_milp(model, p=p, budget=None, time_limit_s=120, mip_rel_gap=0.0)
    optimum = model.value(full.chosen)
    assert min(b for k, b in seen if k == "bound") == pytest.approx(optimum)
    plans = [pl for k, pl in seen if k == "incumbent"]
    best = max([model.value(start)] + [model.value(np.asarray(pl[0])) for pl in plans])
    assert best == pytest.approx(optimum)
    assert all(pl[2] == "decomposition" for pl in plans)


# --------------------------------------------------------------------------- hard deadline


def test_hard_deadline_returns_the_best_plan_found_and_its_bound():
    # wide radius: HiGHS needs far longer than the limit to prove anything here
    d, c, w = clustered(20_000, 2_000, 5_000.0, seed=1)
    prob = CoverageProblem.from_points(d, c, radius_m=300.0, weights=w)
    r = maximize_coverage(prob, p=100, time_limit_s=3.0, method="milp", mip_rel_gap=0)
    assert r.status == "time_limit"
    assert r.stats["deadline_reached"] is True
    assert r.solver in ("greedy", "greedy+swap", "lagrangian+swap", "highs-lns", "highs")
    assert r.bound_source in ("lagrangian", "highs", "trivial")
    assert r.objective <= r.bound and r.gap > 0
    assert len(r.selected) == 100
    assert not [c for c in mp.active_children() if c.name.startswith("geoprio-")]  # the workers were stopped


def test_worker_is_terminated_at_the_deadline():
    d, c, w = clustered(20_000, 2_000, 5_000.0, seed=1)
    prob = CoverageProblem.from_points(d, c, radius_m=300.0, weights=w)
    from geoprio.placement.reduce import reduce_problem

    model = reduce_problem(prob, backup_weight=0.0, allow_dominance=True).model
    worker = Worker("milp")
    worker.submit({"kind": "mclp", "model": model.slim(), "p": 100, "budget": None, "gap": 0.0, "seconds": 600.0})
    seen = []
    import time

    hit = run_workers([worker], time.perf_counter() + 1.5, lambda name, kind, payload: seen.append(kind) or False)
    assert hit is True and seen == []
    assert not worker.proc.is_alive()


# --------------------------------------------------------------------------- bad input


def test_bad_input_gives_clear_errors():
    d = np.array([[0.0, 0.0], [10.0, 0.0]])
    c = np.array([[0.0, 5.0], [500.0, 500.0], [900.0, 900.0]])
    with pytest.raises(InputError, match=r"radius_m must be a positive number of metres, got 0"):
        coverage_matrix(d, c, 0)
    with pytest.raises(InputError, match=r"radius_m must be a positive number of metres, got -5"):
        CoverageProblem.from_points(d, c, radius_m=-5)
    prob = CoverageProblem.from_points(d, c, radius_m=50)
    with pytest.raises(InputError, match=r"p=4 new sites requested but there are only 3 candidate sites"):
        maximize_coverage(prob, p=4)
    with pytest.raises(InputError, match=r"p must be a whole number ≥ 1, got 0"):
        maximize_coverage(prob, p=0)
    with pytest.raises(InputError, match=r"give p \(number of new sites\) or budget"):
        maximize_coverage(prob)
    with pytest.raises(InputError, match=r"backup_weight must be between 0 and 1"):
        maximize_coverage(prob, p=1, backup_weight=2)
    with pytest.raises(InputError, match=r"method must be 'auto', 'milp' or 'heuristic'"):
        maximize_coverage(prob, p=1, method="cbc")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"time_limit_s must be a positive number"):
        maximize_coverage(prob, p=1, time_limit_s=0)
    far = CoverageProblem.from_points(d, c[1:], radius_m=50)
    with pytest.raises(InputError, match=r"no demand point is within the coverage radius of any candidate site"):
        maximize_coverage(far, p=1)
    with pytest.raises(InputError, match=r"weights has 3 values but the coverage matrix has 2 demand rows"):
        CoverageProblem(np.ones((2, 3)), [1, 2, 3])
    with pytest.raises(InputError, match=r"weights must be finite and ≥ 0; 1 value\(s\) are not"):
        CoverageProblem(np.ones((2, 3)), [1, -2])
    with pytest.raises(InputError, match=r"every demand weight is zero"):
        CoverageProblem(np.ones((2, 3)), [0, 0])
    with pytest.raises(InputError, match=r"site costs must be finite and > 0"):
        CoverageProblem(np.ones((2, 3)), [1, 1], costs=[1, 0, 2])
    with pytest.raises(InputError, match=r"target_share must be in \(0, 1\], got 1.5"):
        minimize_sites(prob, target_share=1.5)
    with pytest.raises(InputError, match=r"demand_xy must be an \(n, 2\) array"):
        coverage_matrix(np.zeros(5), c, 10)
