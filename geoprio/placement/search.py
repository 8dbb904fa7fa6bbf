"""What both solvers share: the incumbent, the settings checks and the heuristic phase.

:func:`heuristic_search` is the first phase of maximal covering (and of the set-covering
search for fewer sites): lazy greedy, 1-swap local search, the Lagrangian bound in slices
and the Lagrangian heuristic (the relaxation's sites made feasible and improved by swaps).
:class:`Incumbent` holds the best plan and bound while solving; :func:`feasible_plan`
re-checks a plan a worker process sent back.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geoprio.errors import InputError
from geoprio.placement.heuristics import CoverModel, initial_multipliers, lagrangian_bound, lazy_greedy, swap_search
from geoprio.placement.problem import CoverageProblem

__all__ = [
    "Incumbent",
    "check_reachable",
    "check_solver_settings",
    "feasible_plan",
    "heuristic_search",
    "maximization_gap",
    "minimization_gap",
    "n_cores",
]


def check_solver_settings(time_limit_s: float, mip_rel_gap: float, method: str) -> None:
    """Refuse a time limit, gap or method the solvers cannot use (:class:`~geoprio.errors.InputError`)."""
    if not (isinstance(time_limit_s, int | float) and time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise InputError(f"time_limit_s must be a positive number of seconds, got {time_limit_s!r}")
    if not (0 <= mip_rel_gap < 1):
        raise InputError(f"mip_rel_gap must be in [0, 1), got {mip_rel_gap!r}")
    if method not in ("auto", "milp", "heuristic"):
        raise InputError(f"method must be 'auto', 'milp' or 'heuristic', got {method!r}")


def check_reachable(problem: CoverageProblem) -> None:
    """Refuse a problem without candidates or where no candidate sees any demand."""
    if problem.n_candidates == 0:
        raise InputError("there are no candidate sites")
    if problem.coverage.nnz == 0:
        raise InputError(
            "no demand point is within the coverage radius of any candidate site: check the radius, the CRS of the "
            "layers and that demand and candidates cover the same area"
        )


def n_cores() -> int:
    """CPU cores this process may use (the affinity mask where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class Incumbent:
    """Incumbent plan and bound while solving (maximization or minimization)."""

    chosen: np.ndarray
    value: float  # model value (no constant) or cost for set covering
    solver: str
    bound: float
    bound_source: str
    t0: float = 0.0
    progress: list[tuple[float, str, float, float]] = field(default_factory=list)

    def log(self, event: str) -> None:
        """Record (seconds, event, value, bound) for the run's progress trace."""
        self.progress.append((round(time.perf_counter() - self.t0, 4), event, float(self.value), float(self.bound)))


def heuristic_search(
    model: CoverModel,
    *,
    p: int | None,
    budget: float | None,
    gap: float,
    time_limit_s: float,
    lagrangian_s: float,
    deadline: float,
    t_start: float,
    stats: dict[str, Any],
) -> tuple[Incumbent, dict[str, Any]]:
    """Greedy, swaps, the Lagrangian bound (in slices) and the Lagrangian heuristic."""
    t = time.perf_counter()
    path = lazy_greedy(model, max_sites=p, budget=budget)
    stats["greedy_s"] = round(time.perf_counter() - t, 4)
    stats["greedy_value"] = path.value + model.const
    t = time.perf_counter()
    sw = swap_search(model, path.order, budget=budget, time_budget_s=max(0.1, 0.1 * time_limit_s), deadline=deadline)
    stats["swap_s"] = round(time.perf_counter() - t, 4)
    stats["swap_passes"] = sw.passes
    stats["swaps"] = sw.swaps
    best = Incumbent(path.order, path.value, "greedy", float(model.w1.sum() + model.w2.sum()), "trivial", t_start)
    best.log("greedy")
    best.chosen, best.value, best.solver = sw.chosen, sw.value, "greedy+swap" if sw.swaps else "greedy"
    best.log("swap")
    t = time.perf_counter()
    lam0 = initial_multipliers(model, sw.counts, p=p, budget=budget)
    lag_state: dict[str, Any] = {}
    phase_end = time.perf_counter() + max(0.05, min(lagrangian_s, deadline - time.perf_counter()))
    tried = None
    while True:  # in slices, so that progress is logged and a closed gap stops early
        before = best.bound
        lag = lagrangian_bound(
            model,
            p=p,
            budget=budget,
            incumbent=best.value,
            lam0=lam0,
            max_iter=200,  # slices by iterations, not time: the same run gives the same plan
            time_budget_s=max(0.0, phase_end - time.perf_counter()),
            rel_tol=gap,
            state=lag_state,
        )
        if lag.bound < best.bound:
            best.bound, best.bound_source = lag.bound, "lagrangian"
            best.log("lagrangian")
        if tried is None and before - best.bound < 1e-3 * best.bound:  # the bound has settled: try its sites
            tried = lag.top
            _lagrangian_heuristic(model, lag.top, best, p=p, budget=budget, gap=gap, time_limit_s=time_limit_s, deadline=deadline)
        if maximization_gap(best) <= gap or lag_state["theta"] < 1e-5 or time.perf_counter() >= phase_end:
            break
    stats["lagrangian_s"] = round(time.perf_counter() - t, 4)
    stats["lagrangian_iterations"] = lag.iterations
    if tried is None or not np.array_equal(tried, lag.top):
        _lagrangian_heuristic(model, lag.top, best, p=p, budget=budget, gap=gap, time_limit_s=time_limit_s, deadline=deadline)
    return best, lag_state


def _lagrangian_heuristic(
    model: CoverModel,
    top: np.ndarray,
    best: Incumbent,
    *,
    p: int | None,
    budget: float | None,
    gap: float,
    time_limit_s: float,
    deadline: float,
) -> None:
    """The Lagrangian relaxation's chosen sites, made feasible and improved by swaps."""
    if not len(top) or maximization_gap(best) <= gap or time.perf_counter() >= deadline:
        return
    start = _repair(model, top, p=p, budget=budget)
    if len(start):
        sw = swap_search(model, start, budget=budget, time_budget_s=max(0.1, 0.1 * time_limit_s), deadline=deadline)
        if sw.value > best.value + 1e-12 * abs(best.value):
            best.chosen, best.value, best.solver = sw.chosen, sw.value, "lagrangian+swap"
            best.log("lagrangian+swap")


def maximization_gap(best: Incumbent) -> float:
    """``(bound − value) / bound`` of a maximization incumbent."""
    return 0.0 if best.bound <= 0 else (best.bound - best.value) / best.bound


def _repair(model: CoverModel, cols: np.ndarray, *, p: int | None, budget: float | None) -> np.ndarray:
    """Make a relaxation's column set feasible: drop conflicts and over-budget sites, fill up greedily."""
    cols = np.asarray(cols, dtype=np.int64)
    if model.conflicts is not None or budget is not None:
        keep: list[int] = []
        banned = np.zeros(model.n_cols, dtype=bool)
        spent = 0.0
        gains = np.asarray(model.csc[:, cols].T @ model.w1).ravel()
        for j in cols[np.argsort(-gains, kind="stable")]:
            cj = 1.0 if model.cost is None else float(model.cost[j])
            if banned[j] or (budget is not None and spent + cj > budget):
                continue
            keep.append(int(j))
            spent += cj
            if model.conflicts is not None:
                banned[model.conflicts.indices[model.conflicts.indptr[j] : model.conflicts.indptr[j + 1]]] = True
        cols = np.asarray(keep, dtype=np.int64)
    if p is not None and len(cols) > p:
        cols = cols[:p]
    more = None if p is None else p - len(cols)
    if more is None or more > 0:
        path = lazy_greedy(model, start=cols, max_sites=more, budget=budget)
        cols = np.concatenate([cols, path.order])
    return cols


def feasible_plan(model: CoverModel, cols: np.ndarray, *, p: int | None, budget: float | None, target: float | None = None) -> bool:
    """Whether ``cols`` are distinct valid columns within ``p``, ``budget``, the spacing rules and reaching ``target``."""
    cols = np.asarray(cols, dtype=np.int64)
    if len(np.unique(cols)) != len(cols) or (len(cols) and (cols.min() < 0 or cols.max() >= model.n_cols)):
        return False
    if p is not None and len(cols) > p:
        return False
    if budget is not None and model.col_cost(cols) > budget * (1 + 1e-9):
        return False
    if model.conflicts is not None and len(cols) > 1 and model.conflicts[cols][:, cols].nnz:
        return False
    if target is not None and model.value(cols) < target * (1 - 1e-9):
        return False
    return True


def minimization_gap(best: Incumbent) -> float:
    """``(value − bound) / value`` of a minimization incumbent."""
    return 0.0 if best.value <= 0 else (best.value - best.bound) / best.value
