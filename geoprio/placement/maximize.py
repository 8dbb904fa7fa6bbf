"""Maximal covering (MCLP, Church & ReVelle 1974), with a budget or backup coverage.

:func:`maximize_coverage` chooses ``p`` new sites (or sites within a budget on their costs)
that cover the most demand weight. How (``method="auto"``): the problem is reduced
(:mod:`geoprio.placement.reduce`); lazy greedy, a 1-swap local search and a Lagrangian
relaxation give a plan and an upper bound in milliseconds
(:func:`~geoprio.placement.search.heuristic_search`). If the gap is above ``mip_rel_gap``,
HiGHS solves the exact mixed-integer program in a worker process while a second worker, for
maximal covering with ``p`` sites, first prices the sites (a Lagrangian decomposition into
small independent components solved exactly, :mod:`geoprio.placement.decomposition`:
usually the proof of optimality) and then improves the plan by re-solving neighbourhoods
exactly. The parent kills both at ``time_limit_s`` (:mod:`geoprio.placement.workers`) and
returns the best plan found so far with the best bound; a worker that fails shows in the
result's ``status`` (``fallback``) and ``fallback`` reason.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from geoprio.errors import InputError
from geoprio.placement.decomposition import price_from_multipliers
from geoprio.placement.heuristics import CoverModel, lagrangian_bound
from geoprio.placement.problem import CoverageProblem
from geoprio.placement.reduce import reduce_problem
from geoprio.placement.result import Method, PlacementResult, Status, curve_frame, empty_curve, rank_sites
from geoprio.placement.search import (
    Incumbent,
    check_reachable,
    check_solver_settings,
    feasible_plan,
    heuristic_search,
    maximization_gap,
    n_cores,
)
from geoprio.placement.workers import Worker, run_workers

__all__ = ["MILP_MAX_NNZ", "maximize_coverage"]

#: Reduced models up to this many nonzeros get a full MILP worker in ``method="auto"``.
MILP_MAX_NNZ = 400_000
#: Reduced models above this many nonzeros start their workers before the heuristics.
EARLY_START_NNZ = 50_000


def maximize_coverage(
    problem: CoverageProblem,
    *,
    p: int | None = None,
    budget: float | None = None,
    backup_weight: float = 0.0,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    method: Method = "auto",
    random_state: int = 0,
    curve_max: int | None = None,
) -> PlacementResult:
    """Choose new sites that cover the most demand weight (MCLP; budgeted with ``budget``).

    Parameters
    ----------
    problem
        The coverage problem.
    p
        Number of new sites (at most). At least one of ``p`` and ``budget`` is needed.
    budget
        Total cost allowed for new sites (costs from ``problem.costs``, 1 each by default).
    backup_weight
        Value, as a fraction of the weight, of covering a demand point a second time
        (0 disables backup coverage; at most 1).
    time_limit_s
        Hard limit on the search: the best plan found by then is returned with its bound.
    mip_rel_gap
        Stop once the plan is proven within this relative gap of the optimum.
    method
        ``auto``: heuristics and bound, then HiGHS and neighbourhood search in worker
        processes while the gap is open; ``milp``: the full MILP (whatever the model's
        size) whenever the heuristics leave the gap open; ``heuristic``: greedy, swaps and
        the Lagrangian bound only, in-process and deterministic.
    random_state
        Seed of the neighbourhood search's order.
    curve_max
        Sizes of the coverage curve (default ``2·p``, at most the number of candidates).
    """
    t_start = time.perf_counter()
    check_solver_settings(time_limit_s, mip_rel_gap, method)
    if p is None and budget is None:
        raise InputError("give p (number of new sites) or budget (total cost of new sites)")
    m = problem.n_candidates
    if p is not None:
        if isinstance(p, bool) or int(p) != p or p < 1:
            raise InputError(f"p must be a whole number ≥ 1, got {p!r}")
        p = int(p)
        if p > m:
            raise InputError(f"p={p} new sites requested but there are only {m} candidate sites")
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise InputError(f"budget must be a positive number, got {budget!r}")
    if not (0 <= backup_weight <= 1):
        raise InputError(f"backup_weight must be between 0 and 1, got {backup_weight!r}")
    check_reachable(problem)
    kind = "budget" if budget is not None else "max_coverage"
    if budget is not None and problem.costs is None:  # unit costs: a budget is a number of sites
        if budget < 1:
            raise InputError(f"budget={budget!r} does not pay for a single site (each costs 1 without site costs)")
        p = min(p if p is not None else m, int(math.floor(budget + 1e-9)))
        budget = None
    deadline = t_start + float(time_limit_s)
    red = reduce_problem(problem, backup_weight=backup_weight, allow_dominance=True)
    model = red.model
    stats = dict(red.stats)
    params = {
        "p": p,
        "budget": budget,
        "backup_weight": backup_weight,
        "time_limit_s": time_limit_s,
        "mip_rel_gap": mip_rel_gap,
        "method": method,
        "random_state": random_state,
    }
    # small or degenerate problems: nothing to optimize
    trivial = model.n_rows == 0 or (
        p is not None and p >= model.n_cols and budget is None and model.conflicts is None and not model.has_backup
    )
    workers: list[Worker] = []
    lam = None
    if trivial:
        chosen = np.arange(model.n_cols) if model.n_rows else np.empty(0, np.int64)
        best = Incumbent(chosen, model.value(chosen), "trivial", model.value(chosen), "trivial", t_start)
        best.log("trivial")
    else:
        if model.A.nnz > EARLY_START_NNZ and method != "heuristic":  # start-up overlaps the heuristics
            workers = _start_workers(model, method)
        best, lag_state = heuristic_search(
            model,
            p=p,
            budget=budget,
            gap=mip_rel_gap,
            time_limit_s=time_limit_s,
            lagrangian_s=(0.8 if method == "heuristic" else 0.15) * time_limit_s,
            deadline=deadline,
            t_start=t_start,
            stats=stats,
        )
        lam = lag_state.get("best_lam")
        stats["heuristics_s"] = round(time.perf_counter() - t_start, 4)
        if maximization_gap(best) > mip_rel_gap and method != "heuristic" and time.perf_counter() < deadline - 0.05:
            if not workers:
                workers = _start_workers(model, method)
            hit = _solve_in_workers(
                workers,
                model,
                best,
                p=p,
                budget=budget,
                deadline=deadline,
                gap=mip_rel_gap,
                random_state=random_state,
                lag_state=lag_state,
                stats=stats,
            )
            stats["deadline_reached"] = hit
            if "lam" in lag_state:
                lam = lag_state["best_lam"]
        else:
            for w in workers:
                w.stop()
            workers = []
    value = best.value
    bound = max(best.bound, value)
    objective = model.const + value
    bound_total = model.const + bound
    gap = 0.0 if bound_total <= 0 else max(0.0, (bound_total - objective) / bound_total)
    out_of_time = stats.get("deadline_reached") or stats.get("lns_stop") == "time" or time.perf_counter() >= deadline
    fallback = "; ".join(e.splitlines()[0] for e in stats["worker_errors"]) if stats.get("worker_errors") else None
    status: Status = "optimal" if gap <= mip_rel_gap + 1e-12 else ("fallback" if fallback else "time_limit" if out_of_time else "stopped")
    best.log("end")
    stats["progress"] = [(t, ev, model.const + v, model.const + max(b, v)) for t, ev, v, b in best.progress]
    counts = model.counts(best.chosen)
    cov_share, bk_share = red.shares(counts)
    ranking = rank_sites(red, best.chosen)
    n_curve = curve_max if curve_max is not None else (2 * p if p is not None else max(2 * len(best.chosen), 1))
    by_cost = budget is not None and model.cost is not None
    curve = curve_frame(red, max(n_curve, 1), lam=lam, by_cost=by_cost) if model.n_rows else empty_curve(red)
    stats["total_s"] = round(time.perf_counter() - t_start, 4)
    return PlacementResult(
        problem=kind,
        selected=ranking["candidate"].to_numpy(dtype=np.int64),
        objective=float(objective),
        bound=float(bound_total),
        gap=float(gap),
        status=status,
        solver=best.solver,
        bound_source=best.bound_source,
        time_s=time.perf_counter() - t_start,
        total_weight=red.total,
        covered_share=cov_share,
        backup_share=bk_share,
        existing_share=red.covered_existing / red.total,
        coverable_share=red.coverable / red.total,
        ranking=ranking,
        curve=curve,
        parameters=params,
        stats=stats,
        fallback=fallback,
    )


def _start_workers(model: CoverModel, method: str) -> list[Worker]:
    """Start the worker processes the method and the model size call for (their start-up overlaps the parent's work)."""
    cores = n_cores()
    small = model.A.nnz <= MILP_MAX_NNZ or method == "milp"
    names = []
    if small:
        names.append("milp")
    if method == "auto" and (cores >= 2 or not small):
        names.append("lns")
    return [Worker(n) for n in names]


def _solve_in_workers(
    workers: list[Worker],
    model: CoverModel,
    best: Incumbent,
    *,
    p: int | None,
    budget: float | None,
    deadline: float,
    gap: float,
    random_state: int,
    lag_state: dict[str, Any],
    stats: dict[str, Any],
) -> bool:
    slim = model.slim()
    margin = 0.05
    price = None
    if p is not None and budget is None and "best_lam" in lag_state:  # the decomposition by site price applies
        price = price_from_multipliers(model, lag_state["best_lam"], p)
    for w in workers:
        left = deadline - time.perf_counter() - margin
        if w.name == "milp":  # with the decomposition running, the full MILP is the backup: it yields the CPU to it
            nice = 5 if price is not None and any(v.name == "lns" for v in workers) else 0
            w.submit({"kind": "mclp", "model": slim, "p": p, "budget": budget, "gap": gap, "until": time.time() + left, "nice": nice})
        else:
            w.submit(
                {
                    "kind": "lns",
                    "model": slim,
                    "chosen": best.chosen,
                    "p": p,
                    "budget": budget,
                    "gap": gap,
                    "price": price,
                    "random_state": random_state,
                    "until": time.time() + left,
                }
            )
    tol = 1e-9 * max(1.0, abs(best.bound))

    def handle(name: str, kind: str, payload: Any) -> bool:
        if kind == "incumbent":
            cols = np.asarray(payload[0], dtype=np.int64)
            source = payload[2] if len(payload) > 2 else "highs-lns"
            v = model.value(cols)  # recomputed here: never trust a child's arithmetic
            if v > best.value + tol and feasible_plan(model, cols, p=p, budget=budget):
                best.chosen, best.value, best.solver = cols, v, source
                best.log("lns" if source == "highs-lns" else source)
        elif kind == "bound":  # the decomposition's bound (valid for every plan of the model)
            if payload < best.bound - tol:
                best.bound, best.bound_source = max(float(payload), best.value), "decomposition"
                best.log("decomposition")
        elif kind in ("decomp_stats", "decomp_end"):
            stats["decomposition"] = payload
        elif kind == "lns_end":
            stats["lns_stop"] = payload["reason"]
            stats["lns_windows"] = payload["windows"]
            stats["lns_window_size"] = payload["window_size"]
        elif kind == "milp":
            out = payload
            stats["milp_status"] = out.message
            stats["milp_s"] = round(out.seconds, 3)
            stats["milp_nodes"] = out.nodes
            if out.chosen is not None:
                v = model.value(out.chosen)
                if v > best.value + tol and feasible_plan(model, out.chosen, p=p, budget=budget):
                    best.chosen, best.value, best.solver = out.chosen, v, "highs"
            if out.dual_bound is not None and out.dual_bound < best.bound:
                best.bound, best.bound_source = max(out.dual_bound, best.value), "highs"
            best.log("milp")
            if out.status == 0:  # HiGHS proved optimality within its gap
                best.bound = min(best.bound, max(out.dual_bound if out.dual_bound is not None else best.bound, best.value))
                return True
        elif kind == "error":
            stats.setdefault("worker_errors", []).append(f"{name}: {payload}")
        return maximization_gap(best) <= gap

    def idle() -> bool:
        lag = lagrangian_bound(
            model, p=p, budget=budget, incumbent=best.value, lam0=lag_state["lam"], time_budget_s=0.05, rel_tol=gap, state=lag_state
        )
        if lag.bound < best.bound - 1e-9 * abs(best.bound):
            best.bound, best.bound_source = lag.bound, "lagrangian"
            if len(best.progress) and best.progress[-1][1] != "lagrangian":
                best.log("lagrangian")
        stats["lagrangian_iterations"] = lag.iterations
        return lag_state.get("theta", 1.0) >= 1e-5 and lag.iterations < 50_000

    # the parent keeps tightening the bound only on a core no worker needs
    has_idle = "lam" in lag_state and n_cores() > len(workers)
    return run_workers(workers, deadline, handle, idle if has_idle else None)
