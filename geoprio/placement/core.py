"""Facility placement by coverage optimization: the numeric core (arrays in, plan out).

Cameras, beach garitas and patrol points are placed by the same three models over a
sparse demand × candidate coverage matrix (``a_ij = 1`` when candidate ``j`` is within the
coverage radius of demand point ``i``):

* **maximal covering** (MCLP, Church & ReVelle 1974) — choose ``p`` new sites that cover
  the most demand weight: :func:`maximize_coverage` with ``p``;
* **budgeted covering** — the same under a budget on site costs: ``budget`` (with or
  without ``p``);
* **set covering** (LSCP, Toregas et al. 1971) — the fewest new sites (or the least cost)
  that cover a target share of the demand weight: :func:`minimize_sites`.

Existing facilities are not decision variables: their coverage counts as already
provided and they are always kept. Options: **backup coverage** (``backup_weight``: a
second cover of a demand point is worth that fraction of its weight) and a **minimum
spacing** between new sites (pairwise conflicts).

How a plan is solved (``method="auto"``): the problem is reduced (demand rows with the
same coverage pattern merged, rows already served by existing facilities folded into a
constant, dominated candidates dropped); lazy greedy and a 1-swap local search give a
plan in milliseconds; a Lagrangian relaxation gives an upper bound, so the plan comes with
a proven optimality gap. If the gap is above ``mip_rel_gap``, HiGHS solves the exact
mixed-integer program in a child process while a second child, for maximal covering with
``p`` sites, first prices the sites (a Lagrangian decomposition into small independent
components solved exactly, :mod:`geoprio.placement.decomposition`: usually the proof of
optimality) and then improves the plan by re-solving neighbourhoods exactly; both are
stopped at the hard ``time_limit_s`` and the best plan found so far is returned with the
best bound. The result always states the objective, the bound, the gap, which solver
produced the plan and which the bound, the time and the status.

The geographic side (points, lines, CRS checks) is :mod:`geoprio.placement.sites`; this module
sees only arrays, like spopt's ``from_cost_matrix``.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from geoprio.errors import InputError
from geoprio.placement.heuristics import (
    CoverModel,
    initial_multipliers,
    lagrangian_bound,
    lazy_greedy,
    swap_search,
)
from geoprio.placement.reduce import Reduced, reduce_problem

__all__ = [
    "CoverageProblem",
    "Method",
    "PlacementResult",
    "coverage_counts",
    "coverage_curve",
    "coverage_matrix",
    "maximize_coverage",
    "minimize_sites",
    "spacing_conflicts",
]

Method = Literal["auto", "milp", "heuristic"]
Status = Literal["optimal", "time_limit", "stopped"]

#: Reduced models up to this many nonzeros get a full MILP worker in ``method="auto"``.
MILP_MAX_NNZ = 400_000


# --------------------------------------------------------------------------- building blocks


def _check_radius(radius_m: float, name: str = "radius_m") -> float:
    try:
        r = float(radius_m)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of metres, got {radius_m!r}") from None
    if not math.isfinite(r) or r <= 0:
        raise InputError(f"{name} must be a positive number of metres, got {radius_m!r}")
    return r


def _xy(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"{name} must be an (n, 2) array of metric x/y coordinates, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{name} has {int((~np.isfinite(arr)).any(axis=1).sum())} point(s) with missing or infinite coordinates")
    return arr


def coverage_matrix(demand_xy: Any, candidate_xy: Any, radius_m: float) -> sp.csr_matrix:
    """Sparse demand × candidate matrix, 1 where the distance is ≤ ``radius_m``.

    Coordinates are metres in a projected CRS (the geo adapter checks that). Built with a
    KD-tree (:meth:`scipy.spatial.cKDTree.sparse_distance_matrix`), so memory grows with
    the number of covered pairs, never with demand × candidates.
    """
    r = _check_radius(radius_m)
    d = _xy(demand_xy, "demand_xy")
    c = _xy(candidate_xy, "candidate_xy")
    if len(d) == 0 or len(c) == 0:
        return sp.csr_matrix((len(d), len(c)), dtype=np.float64)
    pairs = cKDTree(d).sparse_distance_matrix(cKDTree(c), r, output_type="ndarray")
    A = sp.csr_matrix((np.ones(len(pairs)), (pairs["i"], pairs["j"])), shape=(len(d), len(c)))
    A.sum_duplicates()
    A.data[:] = 1.0
    A.sort_indices()
    return A


def coverage_counts(demand_xy: Any, facility_xy: Any, radius_m: float) -> np.ndarray:
    """How many facilities lie within ``radius_m`` of each demand point."""
    r = _check_radius(radius_m)
    d = _xy(demand_xy, "demand_xy")
    f = np.asarray(facility_xy, dtype=float).reshape(-1, 2)
    if len(d) == 0 or len(f) == 0:
        return np.zeros(len(d), dtype=np.int32)
    return np.asarray(cKDTree(f).query_ball_point(d, r, return_length=True), dtype=np.int32)


def spacing_conflicts(candidate_xy: Any, min_spacing_m: float) -> sp.csr_matrix:
    """Symmetric candidate × candidate matrix of pairs closer than ``min_spacing_m``."""
    r = _check_radius(min_spacing_m, "min_spacing_m")
    c = _xy(candidate_xy, "candidate_xy")
    pairs = cKDTree(c).query_pairs(np.nextafter(r, 0), output_type="ndarray") if len(c) else np.empty((0, 2), int)
    i, j = pairs[:, 0], pairs[:, 1]
    M = sp.csr_matrix((np.ones(2 * len(i)), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(len(c), len(c)))
    M.sum_duplicates()
    M.data[:] = 1.0
    return M


@dataclass(frozen=True, eq=False)
class CoverageProblem:
    """Demand, candidates and existing coverage for one placement problem.

    Parameters
    ----------
    coverage
        Demand × candidate coverage (anything :func:`scipy.sparse.csr_matrix` accepts;
        nonzero = covered). Build it with :func:`coverage_matrix`.
    weights
        Demand weight of each row (crime harm × zone priority, metres of beach …), ≥ 0.
    existing
        Per demand row, how many existing facilities already cover it (default none).
    costs
        Cost of each candidate (default 1 each), > 0.
    conflicts
        Candidate × candidate matrix of pairs that may not both be chosen (minimum
        spacing); see :func:`spacing_conflicts`.
    """

    coverage: Any
    weights: Any
    existing: Any = None
    costs: Any = None
    conflicts: Any = None

    def __post_init__(self) -> None:
        A = sp.csr_matrix(self.coverage, dtype=np.float64)
        A.sum_duplicates()
        A.eliminate_zeros()
        A.data[:] = 1.0
        A.sort_indices()
        n, m = A.shape
        w = np.asarray(self.weights, dtype=float).ravel()
        if w.shape != (n,):
            raise InputError(f"weights has {w.size} values but the coverage matrix has {n} demand rows")
        if not np.isfinite(w).all() or (w < 0).any():
            bad = int((~np.isfinite(w) | (w < 0)).sum())
            raise InputError(f"weights must be finite and ≥ 0; {bad} value(s) are not")
        if n and not (w > 0).any():
            raise InputError("every demand weight is zero: there is nothing to cover")
        e = np.zeros(n, dtype=np.int32) if self.existing is None else np.asarray(self.existing).ravel()
        if e.shape != (n,):
            raise InputError(f"existing has {e.size} values but the coverage matrix has {n} demand rows")
        if (e < 0).any():
            raise InputError("existing coverage counts must be ≥ 0")
        e = e.astype(np.int32)
        c = None
        if self.costs is not None:
            c = np.asarray(self.costs, dtype=float).ravel()
            if c.shape != (m,):
                raise InputError(f"costs has {c.size} values but there are {m} candidate sites")
            if not np.isfinite(c).all() or (c <= 0).any():
                raise InputError(f"site costs must be finite and > 0; {int((~np.isfinite(c) | (c <= 0)).sum())} are not")
        conf = None
        if self.conflicts is not None:
            conf = sp.csr_matrix(self.conflicts, dtype=np.float64)
            if conf.shape != (m, m):
                raise InputError(f"conflicts must be {m} × {m} (candidates × candidates), got {conf.shape}")
            conf = ((conf + conf.T) != 0).astype(np.float64).tocsr()
            conf.setdiag(0)
            conf.eliminate_zeros()
        object.__setattr__(self, "coverage", A)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "existing", e)
        object.__setattr__(self, "costs", c)
        object.__setattr__(self, "conflicts", conf)

    @classmethod
    def from_points(
        cls,
        demand_xy: Any,
        candidate_xy: Any,
        *,
        radius_m: float,
        weights: Any = None,
        existing_xy: Any = None,
        costs: Any = None,
        min_spacing_m: float | None = None,
    ) -> CoverageProblem:
        """Build a problem from metric coordinates (Euclidean coverage within ``radius_m``)."""
        A = coverage_matrix(demand_xy, candidate_xy, radius_m)
        w = np.ones(A.shape[0]) if weights is None else weights
        e = None if existing_xy is None else coverage_counts(demand_xy, existing_xy, radius_m)
        conf = None if not min_spacing_m else spacing_conflicts(candidate_xy, min_spacing_m)
        return cls(A, w, existing=e, costs=costs, conflicts=conf)

    @property
    def n_demand(self) -> int:
        return int(self.coverage.shape[0])

    @property
    def n_candidates(self) -> int:
        return int(self.coverage.shape[1])

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PlacementResult:
    """A placement plan with its quality certificate.

    Attributes
    ----------
    problem : {"max_coverage", "budget", "set_cover"}
    selected : numpy.ndarray
        Chosen candidate indices (columns of the coverage matrix), best first.
    objective : float
        Maximization: covered demand weight, existing coverage included (plus
        ``backup_weight`` × weight covered twice). Set covering: number (or total cost)
        of new sites.
    bound : float
        Upper bound on the best possible objective (maximization) or lower bound on the
        fewest sites / least cost (set covering).
    gap : float
        ``(bound − objective) / bound`` (maximization) or ``(objective − bound) /
        objective`` (set covering): the plan is within this fraction of the best possible.
    status : {"optimal", "time_limit", "stopped"}
        ``optimal``: gap ≤ ``mip_rel_gap``; ``time_limit``: the hard time limit stopped the
        search first; ``stopped``: the search ended without proof (heuristic method, or
        nothing left to try).
    solver : str
        What produced the plan: ``highs``, ``highs-lns``, ``decomposition``, ``greedy+swap``,
        ``lagrangian+swap`` or ``trivial``.
    bound_source : str
        ``highs`` (the MILP's dual bound), ``decomposition`` (sites priced, components
        solved exactly), ``lagrangian``, ``lp`` or ``trivial``.
    time_s : float
        Wall time of the whole call.
    covered_share, backup_share, existing_share, coverable_share : float
        Shares of the total demand weight covered at least once, at least twice, by the
        existing facilities alone, and within reach of any site.
    ranking : pandas.DataFrame
        One row per chosen site, best first: ``rank``, ``candidate``, ``marginal_weight``
        (what it adds after the better-ranked sites), ``marginal_share``,
        ``cumulative_share``, ``unique_weight`` (what would be lost without it), ``cost``.
    curve : pandas.DataFrame
        The coverage curve: ``n_sites``, ``covered_share`` (greedy, nested plans),
        ``bound_share`` (upper bound on any plan with that many sites, when available)
        and ``cost``.
    stats : dict
        Sizes before and after the reduction and time per phase.
    """

    problem: str
    selected: np.ndarray
    objective: float
    bound: float
    gap: float
    status: Status
    solver: str
    bound_source: str
    time_s: float
    total_weight: float
    covered_share: float
    backup_share: float
    existing_share: float
    coverable_share: float
    ranking: pd.DataFrame
    curve: pd.DataFrame
    parameters: dict[str, Any]
    stats: dict[str, Any]

    @property
    def n_selected(self) -> int:
        return int(len(self.selected))

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: objective, bound, gap, solver, time, status, shares, sizes."""
        return {
            "problem": self.problem,
            "n_selected": self.n_selected,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "solver": self.solver,
            "bound_source": self.bound_source,
            "time_s": round(self.time_s, 3),
            "total_weight": self.total_weight,
            "covered_share": self.covered_share,
            "backup_share": self.backup_share,
            "existing_share": self.existing_share,
            "coverable_share": self.coverable_share,
            "parameters": self.parameters,
            "stats": self.stats,
        }


def _rank(red: Reduced, chosen: np.ndarray) -> pd.DataFrame:
    """Order the chosen columns greedily and give each its marginal and unique gain."""
    model = red.model
    chosen = np.asarray(chosen, dtype=np.int64)
    if len(chosen) == 0:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in [
                    ("rank", int),
                    ("candidate", int),
                    ("marginal_weight", float),
                    ("marginal_share", float),
                    ("cumulative_share", float),
                    ("unique_weight", float),
                    ("cost", float),
                ]
            }
        )
    mask = np.zeros(model.n_cols, dtype=bool)
    mask[chosen] = True
    path = lazy_greedy(model, allowed=mask, max_sites=len(chosen))
    rest = np.setdiff1d(chosen, path.order)
    order = np.concatenate([path.order, rest]).astype(np.int64)
    gains = np.concatenate([path.gains, np.zeros(len(rest))])
    k_all = model.counts(order)
    out = np.where(k_all >= 1, model.marginal(np.maximum(k_all - 1, 0)), 0.0)
    unique = np.asarray(model.csc[:, order].T @ out).ravel()
    # cumulative covered share along the order
    Acsc = model.csc
    k = np.zeros(model.n_rows, dtype=np.int32)
    cum = np.empty(len(order))
    cov = red.covered_existing
    for t, j in enumerate(order):
        rows = Acsc.indices[Acsc.indptr[j] : Acsc.indptr[j + 1]]
        newly = rows[k[rows] == 0]
        cov += float(red.cov_w[newly].sum())
        k[rows] += 1
        cum[t] = cov / red.total
    cost = np.ones(len(order)) if model.cost is None else model.cost[order]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "candidate": red.cols[order],
            "marginal_weight": gains,
            "marginal_share": gains / red.total,
            "cumulative_share": cum,
            "unique_weight": unique,
            "cost": cost,
        }
    )


def _curve(red: Reduced, max_sites: int, *, lam: np.ndarray | None, by_cost: bool = False) -> pd.DataFrame:
    """Greedy coverage curve for 0..max_sites new sites with an upper bound per size.

    With ``by_cost`` sites are added by gain per unit cost (the budgeted problem's order)
    and no per-size bound is given.
    """
    model = red.model
    max_sites = int(min(max_sites, model.n_cols))
    path = lazy_greedy(model, max_sites=max_sites, ratio=by_cost)
    Acsc = model.csc
    k = np.zeros(model.n_rows, dtype=np.int32)
    shares = [red.covered_existing / red.total]
    cov = red.covered_existing
    for j in path.order:
        rows = Acsc.indices[Acsc.indptr[j] : Acsc.indptr[j + 1]]
        cov += float(red.cov_w[rows[k[rows] == 0]].sum())
        k[rows] += 1
        shares.append(cov / red.total)
    n = len(shares)
    frame = pd.DataFrame({"n_sites": np.arange(n), "covered_share": shares, "cost": np.concatenate([[0.0], np.cumsum(path.costs)])})
    if lam is not None and not model.has_backup and not by_cost:
        lam = np.clip(lam, 0, model.w1)
        ks = np.minimum(np.arange(n), model.n_cols)
        b = np.full(n, float(model.w1.sum()))
        for mult in (lam, model.w1):  # the fitted multipliers, and λ = w (sum of the k largest sites)
            rho = np.sort(np.maximum(model.AT @ mult, 0))[::-1]
            base = float(np.maximum(model.w1 - mult, 0).sum())
            b = np.minimum(b, base + np.concatenate([[0.0], np.cumsum(rho)])[ks])
        b = red.covered_existing + b
        b = np.minimum.accumulate(b[::-1])[::-1]  # OPT_k ≤ OPT_k' ≤ bound_k' for k ≤ k'
        frame["bound_share"] = np.maximum(b / red.total, frame["covered_share"].to_numpy())
    return frame


def coverage_curve(problem: CoverageProblem, *, max_sites: int, backup_weight: float = 0.0) -> pd.DataFrame:
    """The greedy coverage curve (covered share for 0..``max_sites`` new sites) with bounds.

    Greedy plans are nested (the plan for ``k + 1`` sites adds one site to the plan for
    ``k``), which is what a phased rollout needs; ``bound_share`` is an upper bound on the
    share any plan of that size could reach (Lagrangian, from multipliers fitted at
    ``max_sites``).
    """
    if max_sites < 1:
        raise InputError(f"max_sites must be ≥ 1, got {max_sites}")
    red = reduce_problem(problem, backup_weight=backup_weight, allow_dominance=False)
    lam = None
    if red.model.n_rows and red.model.n_cols:
        p = min(max_sites, red.model.n_cols)
        path = lazy_greedy(red.model, max_sites=p)
        lam0 = initial_multipliers(red.model, path.counts, p=p, budget=None)
        lam = lagrangian_bound(red.model, p=p, budget=None, incumbent=path.value, lam0=lam0, time_budget_s=2.0).lam
    return _curve(red, max_sites, lam=lam)


# --------------------------------------------------------------------------- solving


def _check_common(time_limit_s: float, mip_rel_gap: float, method: str) -> None:
    if not (isinstance(time_limit_s, int | float) and time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise InputError(f"time_limit_s must be a positive number of seconds, got {time_limit_s!r}")
    if not (0 <= mip_rel_gap < 1):
        raise InputError(f"mip_rel_gap must be in [0, 1), got {mip_rel_gap!r}")
    if method not in ("auto", "milp", "heuristic"):
        raise InputError(f"method must be 'auto', 'milp' or 'heuristic', got {method!r}")


def _check_reachable(problem: CoverageProblem) -> None:
    if problem.n_candidates == 0:
        raise InputError("there are no candidate sites")
    if problem.coverage.nnz == 0:
        raise InputError(
            "no demand point is within the coverage radius of any candidate site: check the radius, the CRS of the "
            "layers and that demand and candidates cover the same area"
        )


def _n_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass
class _Best:
    """Incumbent plan and bound while solving (maximization or minimization)."""

    chosen: np.ndarray
    value: float  # model value (no constant) or cost for set covering
    solver: str
    bound: float
    bound_source: str
    t0: float = 0.0
    progress: list = field(default_factory=list)

    def log(self, event: str) -> None:
        """Record (seconds, event, value, bound) for the run's progress trace."""
        self.progress.append((round(time.perf_counter() - self.t0, 4), event, float(self.value), float(self.bound)))


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
        ``auto``: heuristics and bound, then HiGHS and neighbourhood search in child
        processes while the gap is open; ``milp``: always run the full MILP; ``heuristic``:
        greedy, swaps and the Lagrangian bound only, in-process and deterministic.
    random_state
        Seed of the neighbourhood search's order.
    curve_max
        Sizes of the coverage curve (default ``2·p``, at most the number of candidates).
    """
    t_start = time.perf_counter()
    _check_common(time_limit_s, mip_rel_gap, method)
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
    _check_reachable(problem)
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
    workers: list[Any] = []
    lam = None
    if trivial:
        chosen = np.arange(model.n_cols) if model.n_rows else np.empty(0, np.int64)
        best = _Best(chosen, model.value(chosen), "trivial", model.value(chosen), "trivial", t_start)
        best.log("trivial")
    else:
        big = model.A.nnz > 50_000 and method != "heuristic"
        starter = None
        if big:  # start the child processes now, from a thread: their start-up overlaps the heuristics
            starter = threading.Thread(target=lambda: workers.extend(_start_workers(model, method)), daemon=True)
            starter.start()
        best, lag_state = _heuristics(
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
        if starter is not None:
            starter.join()
        lam = lag_state.get("best_lam")
        stats["heuristics_s"] = round(time.perf_counter() - t_start, 4)
        if _gap(best) > mip_rel_gap and method != "heuristic" and time.perf_counter() < deadline - 0.05:
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
    status: Status = "optimal" if gap <= mip_rel_gap + 1e-12 else ("time_limit" if out_of_time else "stopped")
    best.log("end")
    stats["progress"] = [(t, ev, model.const + v, model.const + max(b, v)) for t, ev, v, b in best.progress]
    counts = model.counts(best.chosen)
    cov_share, bk_share = red.shares(counts)
    ranking = _rank(red, best.chosen)
    n_curve = curve_max if curve_max is not None else (2 * p if p is not None else max(2 * len(best.chosen), 1))
    curve = (
        _curve(red, max(n_curve, 1), lam=lam, by_cost=budget is not None and model.cost is not None) if model.n_rows else _empty_curve(red)
    )
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
    )


def _heuristics(
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
) -> tuple[_Best, dict[str, Any]]:
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
    best = _Best(path.order, path.value, "greedy", float(model.w1.sum() + model.w2.sum()), "trivial", t_start)
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
        if _gap(best) <= gap or lag_state["theta"] < 1e-5 or time.perf_counter() >= phase_end:
            break
    stats["lagrangian_s"] = round(time.perf_counter() - t, 4)
    stats["lagrangian_iterations"] = lag.iterations
    if tried is None or not np.array_equal(tried, lag.top):
        _lagrangian_heuristic(model, lag.top, best, p=p, budget=budget, gap=gap, time_limit_s=time_limit_s, deadline=deadline)
    return best, lag_state


def _lagrangian_heuristic(
    model: CoverModel,
    top: np.ndarray,
    best: _Best,
    *,
    p: int | None,
    budget: float | None,
    gap: float,
    time_limit_s: float,
    deadline: float,
) -> None:
    """The Lagrangian relaxation's chosen sites, made feasible and improved by swaps."""
    if not len(top) or _gap(best) <= gap or time.perf_counter() >= deadline:
        return
    start = _repair(model, top, p=p, budget=budget)
    if len(start):
        sw = swap_search(model, start, budget=budget, time_budget_s=max(0.1, 0.1 * time_limit_s), deadline=deadline)
        if sw.value > best.value + 1e-12 * abs(best.value):
            best.chosen, best.value, best.solver = sw.chosen, sw.value, "lagrangian+swap"
            best.log("lagrangian+swap")


def _empty_curve(red: Reduced) -> pd.DataFrame:
    return pd.DataFrame({"n_sites": [0], "covered_share": [red.covered_existing / red.total], "cost": [0.0]})


def _gap(best: _Best) -> float:
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


def _start_workers(model: CoverModel, method: str) -> list[Any]:
    from geoprio.placement.milp import Worker

    cores = _n_workers()
    small = model.A.nnz <= MILP_MAX_NNZ or method == "milp"
    names = []
    if small:
        names.append("milp")
    if method == "auto" and (cores >= 2 or not small):
        names.append("lns")
    return [Worker(n) for n in names]


def _solve_in_workers(
    workers: list[Any],
    model: CoverModel,
    best: _Best,
    *,
    p: int | None,
    budget: float | None,
    deadline: float,
    gap: float,
    random_state: int,
    lag_state: dict[str, Any],
    stats: dict[str, Any],
) -> bool:
    from geoprio.placement.milp import _slim, run_workers

    slim = _slim(model)
    margin = 0.05
    price = None
    if p is not None and budget is None and "best_lam" in lag_state:  # the decomposition by site price applies
        from geoprio.placement.decomposition import price_from_multipliers

        price = price_from_multipliers(model, lag_state["best_lam"], p)
    for w in workers:
        left = deadline - time.perf_counter() - margin
        if w.name == "milp":  # with the decomposition running, the full MILP is the backup: it yields the CPU to it
            nice = 5 if price is not None and any(v.name == "lns" for v in workers) else 0
            w.submit({"kind": "mclp", "model": slim, "p": p, "budget": budget, "gap": gap, "seconds": left, "nice": nice})
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
                    "seconds": left,
                }
            )
    tol = 1e-9 * max(1.0, abs(best.bound))

    def handle(name: str, kind: str, payload: Any) -> bool:
        if kind == "incumbent":
            cols = np.asarray(payload[0], dtype=np.int64)
            source = payload[2] if len(payload) > 2 else "highs-lns"
            v = model.value(cols)  # recomputed here: never trust a child's arithmetic
            if v > best.value + tol and _feasible(model, cols, p=p, budget=budget):
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
                if v > best.value + tol and _feasible(model, out.chosen, p=p, budget=budget):
                    best.chosen, best.value, best.solver = out.chosen, v, "highs"
            if out.dual_bound is not None and out.dual_bound < best.bound:
                best.bound, best.bound_source = max(out.dual_bound, best.value), "highs"
            best.log("milp")
            if out.status == 0:  # HiGHS proved optimality within its gap
                best.bound = min(best.bound, max(out.dual_bound if out.dual_bound is not None else best.bound, best.value))
                return True
        elif kind == "error":
            stats.setdefault("worker_errors", []).append(f"{name}: {payload}")
        return _gap(best) <= gap

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
    has_idle = "lam" in lag_state and _n_workers() > len(workers)
    return run_workers(workers, deadline, handle, idle if has_idle else None)


def _feasible(model: CoverModel, cols: np.ndarray, *, p: int | None, budget: float | None, target: float | None = None) -> bool:
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


# --------------------------------------------------------------------------- set covering


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
    _check_common(time_limit_s, mip_rel_gap, method)
    if not (0 < target_share <= 1):
        raise InputError(f"target_share must be in (0, 1], got {target_share!r}")
    _check_reachable(problem)
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
        best = _Best(np.empty(0, np.int64), 0.0, "trivial", 0.0, "trivial")
    else:
        t = time.perf_counter()
        path = lazy_greedy(model, target=need_tol, ratio=True)
        reached = path.value >= need_tol and (target is not None or bool((path.counts >= 1).all()))
        lb = _cover_lower_bound(model, need)
        if reached:
            chosen = _drop_redundant(model, path.order, need_tol, full=target is None)
            best = _Best(chosen, model.col_cost(chosen), "greedy", lb, "trivial", t_start)
        else:  # spacing rules stopped greedy: only the MILP can say whether the target is reachable
            best = _Best(np.empty(0, np.int64), np.inf, "none", lb, "trivial", t_start)
        stats["greedy_s"] = round(time.perf_counter() - t, 4)
        stats["greedy_value"] = model.col_cost(path.order) if reached else None
        if reached and unit and _min_gap(best) > mip_rel_gap:
            share = 1.0 if method == "heuristic" else 0.5
            _shrink_cover(model, best, need_tol, full=target is None, deadline=min(deadline, t + share * time_limit_s), stats=stats)
        if _min_gap(best) > mip_rel_gap and method != "heuristic":
            from geoprio.placement.milp import Worker, _slim, run_workers

            w = Worker("milp")
            w.submit(
                {
                    "kind": "lscp",
                    "model": _slim(model),
                    "target": target,
                    "gap": mip_rel_gap,
                    "seconds": deadline - time.perf_counter() - 0.05,
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
                        and _feasible(model, cols, p=None, budget=None)
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
                    stats.setdefault("worker_errors", []).append(payload)
                return _min_gap(best) <= mip_rel_gap

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
    status: Status = "optimal" if gap <= mip_rel_gap + 1e-12 else ("time_limit" if stats.get("deadline_reached") else "stopped")
    counts = model.counts(best.chosen)
    cov_share, _ = red.shares(counts)
    ranking = _rank(red, best.chosen)
    n_curve = curve_max if curve_max is not None else max(2 * len(best.chosen), 1)
    curve = _curve(red, n_curve, lam=None) if model.n_rows else _empty_curve(red)
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
    )


def _min_gap(best: _Best) -> float:
    return 0.0 if best.value <= 0 else (best.value - best.bound) / best.value


def _shrink_cover(model: CoverModel, best: _Best, need: float, *, full: bool, deadline: float, stats: dict[str, Any]) -> None:
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
        trial, _ = _heuristics(
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
