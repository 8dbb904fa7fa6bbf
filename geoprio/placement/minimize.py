"""Set covering (LSCP, Toregas et al. 1971): the fewest new sites that reach a coverage target.

:func:`minimize_sites` finds the fewest new sites (or the least total cost) covering a
target share of the demand weight, existing coverage included. Greedy by gain (per cost)
and a redundancy pass give a plan; with unit costs, the maximal-covering heuristics look
for plans with fewer sites while their Lagrangian bound proves sizes impossible
(:func:`~geoprio.placement.search.heuristic_search`); HiGHS then solves the exact model
in a worker process (:mod:`geoprio.placement.workers`) up to the time limit.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from geoprio.errors import InputError
from geoprio.placement.heuristics import CoverModel, lazy_greedy
from geoprio.placement.problem import CoverageProblem
from geoprio.placement.reduce import reduce_problem
from geoprio.placement.result import Method, PlacementResult, Status, curve_frame, empty_curve, rank_sites
from geoprio.placement.search import (
    Incumbent,
    check_reachable,
    check_solver_settings,
    feasible_plan,
    heuristic_search,
    minimization_gap,
)
from geoprio.placement.workers import Worker, run_workers

__all__ = ["minimize_sites"]


def minimize_sites(
    problem: CoverageProblem,
    *,
    target_share: float = 1.0,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    method: Method = "auto",
    curve_max: int | None = None,
) -> PlacementResult:
    """Fewest new sites (least total cost, with costs) covering ``target_share`` of the demand weight.

    Coverage by existing facilities counts towards the target. ``target_share=1``
    requires every demand point with positive weight to be covered (the classic LSCP);
    it raises :class:`~geoprio.errors.InputError` when some demand is out of reach of
    every site, naming the share that can be reached.
    """
    t_start = time.perf_counter()
    check_solver_settings(time_limit_s, mip_rel_gap, method)
    if not (0 < target_share <= 1):
        raise InputError(f"target_share must be in (0, 1], got {target_share!r}")
    check_reachable(problem)
    deadline = t_start + float(time_limit_s)
    red = reduce_problem(problem, backup_weight=0.0, allow_dominance=True)
    model = red.model
    stats = dict(red.stats)
    params = {"target_share": target_share, "time_limit_s": time_limit_s, "mip_rel_gap": mip_rel_gap, "method": method}
    full = target_share >= 1.0
    reach = red.coverable / red.total
    if full and red.coverable < red.total * (1 - 1e-12) or target_share > reach + 1e-12:
        raise InputError(
            f"target_share={target_share:g} cannot be reached: only {reach:.2%} of the demand weight is within the radius "
            f"of a candidate or existing site (raise the radius, add candidates or lower the target)"
        )
    need = max(0.0, target_share * red.total - red.covered_existing)
    target = None if full else need
    need_tol = need * (1 - 1e-12)
    unit = model.cost is None
    if need <= 0 or model.n_rows == 0:
        best = Incumbent(np.empty(0, np.int64), 0.0, "trivial", 0.0, "trivial")
    else:
        t = time.perf_counter()
        path = lazy_greedy(model, target=need_tol, ratio=True)
        reached = path.value >= need_tol and (target is not None or bool((path.counts >= 1).all()))
        lb = _cover_lower_bound(model, need)
        if reached:
            chosen = _drop_redundant(model, path.order, need_tol, full=target is None)
            best = Incumbent(chosen, model.col_cost(chosen), "greedy", lb, "trivial", t_start)
        else:  # spacing rules stopped greedy: only the MILP can say whether the target is reachable
            best = Incumbent(np.empty(0, np.int64), np.inf, "none", lb, "trivial", t_start)
        stats["greedy_s"] = round(time.perf_counter() - t, 4)
        stats["greedy_value"] = model.col_cost(path.order) if reached else None
        if reached and unit and minimization_gap(best) > mip_rel_gap:
            share = 1.0 if method == "heuristic" else 0.5
            _shrink_cover(model, best, need_tol, full=target is None, deadline=min(deadline, t + share * time_limit_s), stats=stats)
        if minimization_gap(best) > mip_rel_gap and method != "heuristic":
            w = Worker("milp")
            w.submit(
                {
                    "kind": "lscp",
                    "model": model.slim(),
                    "target": target,
                    "gap": mip_rel_gap,
                    "until": time.time() + deadline - time.perf_counter() - 0.05,
                }
            )

            def handle(name: str, kind: str, payload: Any) -> bool:
                if kind == "lp_bound":
                    b = math.ceil(payload - 1e-6) if unit else payload
                    if b > best.bound:
                        best.bound, best.bound_source = float(b), "lp"
                elif kind == "milp":
                    stats["milp_status"] = payload.message
                    stats["milp_s"] = round(payload.seconds, 3)
                    cols = payload.chosen
                    if (
                        cols is not None
                        and _covers(model, cols, need_tol, full=target is None)
                        and feasible_plan(model, cols, p=None, budget=None)
                    ):
                        if model.col_cost(cols) < best.value - 1e-9:
                            best.chosen, best.value, best.solver = cols, model.col_cost(cols), "highs"
                    if payload.dual_bound is not None:
                        b = math.ceil(payload.dual_bound - 1e-6) if unit else payload.dual_bound
                        if b > best.bound:
                            best.bound, best.bound_source = float(b), "highs"
                    if payload.status == 0:  # HiGHS proved its plan optimal within its gap
                        return True
                    if payload.status == 2:
                        stats["milp_infeasible"] = True
                elif kind == "error":
                    stats.setdefault("worker_errors", []).append(f"{name}: {payload}")
                return minimization_gap(best) <= mip_rel_gap

            stats["deadline_reached"] = run_workers([w], deadline, handle)
        if not np.isfinite(best.value):
            why = "is infeasible" if stats.get("milp_infeasible") else "was not reached within the time limit"
            raise InputError(
                f"target_share={target_share:g} with the minimum spacing between new sites {why} "
                f"(greedy stopped at {(red.covered_existing + float(red.cov_w @ (path.counts >= 1))) / red.total:.2%})"
            )
    objective = best.value
    bound = min(best.bound, objective)
    gap = 0.0 if objective <= 0 else (objective - bound) / objective
    fallback = "; ".join(e.splitlines()[0] for e in stats["worker_errors"]) if stats.get("worker_errors") else None
    status: Status = (
        "optimal"
        if gap <= mip_rel_gap + 1e-12
        else ("fallback" if fallback else "time_limit" if stats.get("deadline_reached") else "stopped")
    )
    counts = model.counts(best.chosen)
    cov_share, _ = red.shares(counts)
    ranking = rank_sites(red, best.chosen)
    n_curve = curve_max if curve_max is not None else max(2 * len(best.chosen), 1)
    curve = curve_frame(red, n_curve, lam=None) if model.n_rows else empty_curve(red)
    stats["total_s"] = round(time.perf_counter() - t_start, 4)
    return PlacementResult(
        problem="set_cover",
        selected=ranking["candidate"].to_numpy(dtype=np.int64),
        objective=float(objective),
        bound=float(bound),
        gap=float(gap),
        status=status,
        solver=best.solver,
        bound_source=best.bound_source,
        time_s=time.perf_counter() - t_start,
        total_weight=red.total,
        covered_share=cov_share,
        backup_share=0.0,
        existing_share=red.covered_existing / red.total,
        coverable_share=red.coverable / red.total,
        ranking=ranking,
        curve=curve,
        parameters=params,
        stats=stats,
        fallback=fallback,
    )


def _shrink_cover(model: CoverModel, best: Incumbent, need: float, *, full: bool, deadline: float, stats: dict[str, Any]) -> None:
    """Fewer sites through maximal covering (unit costs).

    For ``q`` sites fewer than the plan, the MCLP heuristics look for ``q`` sites that still
    reach the target (then ``q`` becomes the plan), and the Lagrangian bound of the
    ``q``-site MCLP may prove that no ``q`` sites can (then ``q + 1`` is a lower bound).
    ``q`` moves like a search between the proven lower bound and the plan: steps of 5 % of
    the plan, halved whenever a size stays undecided. Stops when the two meet, when a
    one-site step is undecided, or at ``deadline``.
    """
    need_value = float(model.w1.sum()) * (1 - 1e-12) if full else need
    lo, hi = int(math.ceil(best.bound - 1e-9)), len(best.chosen)
    step = max(1, round(0.05 * hi))
    rounds = 0
    while hi > max(lo, 1) and time.perf_counter() < deadline - 0.05:
        q = max(lo, hi - step, 1)
        left = deadline - time.perf_counter()
        scratch: dict[str, Any] = {}
        trial, _ = heuristic_search(
            model, p=q, budget=None, gap=1e-9, time_limit_s=left, lagrangian_s=0.8 * left, deadline=deadline, t_start=best.t0, stats=scratch
        )
        rounds += 1
        if trial.value >= need_value and _covers(model, trial.chosen, need, full=full):
            hi = len(trial.chosen)
            best.chosen, best.value, best.solver = trial.chosen, float(hi), "mclp-heuristics"
            best.log("fewer sites")
        elif trial.bound < need_value:  # no q sites can reach the target
            lo = q + 1
            if lo > best.bound:
                best.bound, best.bound_source = float(lo), "lagrangian"
                best.log("lagrangian")
            step = max(1, (hi - lo) // 2)
        elif step == 1:
            break
        else:
            step = max(1, step // 2)
    stats["mclp_rounds"] = rounds


def _covers(model: CoverModel, cols: np.ndarray, need: float, *, full: bool) -> bool:
    k = model.counts(cols)
    return bool((k >= 1).all()) if full else model.value_of_counts(k) >= need


def _drop_redundant(model: CoverModel, order: np.ndarray, need: float, *, full: bool) -> np.ndarray:
    """Remove sites the target can do without: most expensive first, then latest chosen first."""
    order = np.asarray(order, dtype=np.int64)
    k = model.counts(order)
    value = model.value_of_counts(k)
    Acsc = model.csc
    cost = np.ones(model.n_cols) if model.cost is None else model.cost
    keep = np.ones(len(order), dtype=bool)
    for t in sorted(range(len(order)), key=lambda t: (-cost[order[t]], -t)):
        rows = Acsc.indices[Acsc.indptr[order[t]] : Acsc.indptr[order[t] + 1]]
        lost = k[rows] == 1
        if full and lost.any():
            continue
        loss = float(model.w1[rows[lost]].sum())
        if value - loss >= need:
            keep[t] = False
            k[rows] -= 1
            value -= loss
    return order[keep]


def _cover_lower_bound(model: CoverModel, need: float) -> float:
    """Fewest sites (least cost) if every site's coverage were disjoint: a valid lower bound."""
    colw = np.asarray(model.csc.T @ model.w1).ravel()
    cost = np.ones(model.n_cols) if model.cost is None else model.cost
    order = np.argsort(-colw / cost, kind="stable")
    cw = np.cumsum(colw[order])
    cc = np.cumsum(cost[order])
    i = int(np.searchsorted(cw, need, side="left"))
    if i >= len(order):
        return float(cc[-1])
    prev_w = cw[i - 1] if i else 0.0
    prev_c = cc[i - 1] if i else 0.0
    lb = prev_c + (need - prev_w) / colw[order[i]] * cost[order[i]]
    return float(math.ceil(lb - 1e-9)) if model.cost is None else float(lb)
