"""A placement plan with its quality certificate, its site ranking and its coverage curve.

:class:`PlacementResult` is what :func:`~geoprio.placement.maximize.maximize_coverage` and
:func:`~geoprio.placement.minimize.minimize_sites` return; :func:`rank_sites` orders the
chosen sites by marginal gain and :func:`curve_frame` / :func:`coverage_curve` give the greedy
coverage curve (nested plans for a phased rollout) with an upper bound per size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from geoprio.errors import InputError
from geoprio.placement.heuristics import initial_multipliers, lagrangian_bound, lazy_greedy
from geoprio.placement.problem import CoverageProblem
from geoprio.placement.reduce import Reduced, reduce_problem

__all__ = ["Method", "PlacementResult", "Status", "coverage_curve", "curve_frame", "empty_curve", "rank_sites"]

#: How a plan is solved: heuristics and bound, then exact solvers while the gap is open
#: (``auto``); the full MILP whenever the heuristics leave a gap (``milp``); heuristics only.
Method = Literal["auto", "milp", "heuristic"]
#: ``optimal``: proven within the gap; ``time_limit``: the limit stopped the search;
#: ``stopped``: no proof and nothing left to try; ``fallback``: an exact solver worker failed
#: (could not start, crashed or reported an error), so the plan misses part of the exact search.
Status = Literal["optimal", "time_limit", "stopped", "fallback"]


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
    status : {"optimal", "time_limit", "stopped", "fallback"}
        ``optimal``: gap ≤ ``mip_rel_gap``; ``time_limit``: the hard time limit stopped the
        search first; ``stopped``: the search ended without proof (heuristic method, or
        nothing left to try); ``fallback``: the gap is open and an exact solver worker
        failed, so the plan comes from the heuristics (or the workers left) instead
        (``fallback`` says why).
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
    fallback : str or None
        Why the exact path failed (a worker that could not start, crashed or reported an
        error), None when it did not.
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
    fallback: str | None = None

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
            "fallback": self.fallback,
            "parameters": self.parameters,
            "stats": self.stats,
        }


def rank_sites(red: Reduced, chosen: np.ndarray) -> pd.DataFrame:
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


def curve_frame(red: Reduced, max_sites: int, *, lam: np.ndarray | None, by_cost: bool = False) -> pd.DataFrame:
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
    return curve_frame(red, max_sites, lam=lam)


def empty_curve(red: Reduced) -> pd.DataFrame:
    """The curve of a problem with nothing to cover: no new site, the existing coverage."""
    return pd.DataFrame({"n_sites": [0], "covered_share": [red.covered_existing / red.total], "cost": [0.0]})
