"""Exact placement models for HiGHS and the worker processes that run them to a hard deadline.

The models are built from a :class:`~geoprio.placement.heuristics.CoverModel` and solved
with :func:`scipy.optimize.milp` (HiGHS):

* maximal covering (``mclp_milp``): binary ``x_j`` per site, continuous ``y_i, u_i ∈ [0, 1]``
  per merged demand row for its first and second (backup) cover,
  ``y_i + u_i ≤ Σ_j a_ij x_j``, ``Σ x ≤ p`` and/or ``Σ c x ≤ budget``, ``x_j + x_k ≤ 1``
  for sites closer than the minimum spacing. Rows that one site alone can cover are folded
  into that site's objective coefficient.
* set covering (``lscp_milp``): minimum number (or cost) of sites such that every row is
  covered, or such that the covered weight reaches a target.

A second kind of search, :func:`lns`, improves a plan by re-optimizing one neighbourhood at
a time exactly (a window of nearby sites, the rest fixed) and streams each improvement back
through ``send``.

HiGHS may overrun its own ``time_limit`` (a long simplex solve is not interrupted), so the
solvers never call these on the full model in their own process: the worker processes of
:mod:`geoprio.placement.workers` run them, and the parent stops them at its deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from geoprio.placement.heuristics import CoverModel

__all__ = ["MilpOutcome", "fold_singletons", "lns", "lscp_milp", "mclp_milp"]


@dataclass(frozen=True)
class MilpOutcome:
    """What HiGHS returned: the chosen columns (None if no feasible point) and its dual bound."""

    chosen: np.ndarray | None
    dual_bound: float | None  # in the model's own units (maximization: an upper bound)
    status: int
    message: str
    nodes: int | None
    seconds: float


def _conflict_rows(conflicts: sp.csr_matrix | None, n_cols: int, n_vars: int) -> sp.csr_matrix | None:
    if conflicts is None or conflicts.nnz == 0:
        return None
    c = sp.triu(conflicts, k=1).tocoo()
    if c.nnz == 0:
        return None
    r = np.arange(c.nnz)
    rows = np.concatenate([r, r])
    cols = np.concatenate([c.row, c.col])
    return sp.csr_matrix((np.ones(2 * c.nnz), (rows, cols)), shape=(c.nnz, n_vars))


def fold_singletons(model: CoverModel) -> tuple[np.ndarray, np.ndarray]:
    """Per-column weight of rows only that column covers, and the indices of the other rows."""
    lens = np.diff(model.A.indptr)
    single = lens == 1
    colw = np.bincount(model.A.indices[model.A.indptr[:-1][single]], weights=model.w1[single], minlength=model.n_cols)
    return colw, np.flatnonzero(lens > 1)


def _run_milp(c, integrality, constraints, time_limit_s: float, mip_rel_gap: float, presolve: bool = True) -> tuple[Any, float]:
    from scipy.optimize import Bounds, milp

    t0 = time.perf_counter()
    res = milp(
        c,
        integrality=integrality,
        bounds=Bounds(0.0, 1.0),
        constraints=constraints,
        options={"time_limit": max(float(time_limit_s), 0.01), "mip_rel_gap": float(mip_rel_gap), "disp": False, "presolve": presolve},
    )
    return res, time.perf_counter() - t0


def mclp_milp(
    model: CoverModel,
    *,
    p: int | None,
    budget: float | None,
    time_limit_s: float,
    mip_rel_gap: float = 1e-4,
    relax: bool = False,
    price: float = 0.0,
    min_sites: int | None = None,
    presolve: bool = True,
) -> MilpOutcome:
    """Solve the maximal covering model (``relax=True``: its LP relaxation) with HiGHS.

    ``price`` is subtracted from the objective per chosen site and ``min_sites`` is a lower
    limit on their number: the priced subproblems of :mod:`geoprio.placement.decomposition`.
    """
    from scipy.optimize import LinearConstraint

    C = model.n_cols
    colw, rest = fold_singletons(model)
    Ar = model.A[rest]
    w1r, w2r = model.w1[rest], model.w2[rest]
    bk = np.flatnonzero(w2r > 0)
    ny, nu = len(rest), len(bk)
    nvar = C + ny + nu
    c = -np.concatenate([colw - float(price), w1r, w2r[bk]])
    constraints = []
    if ny:
        U = sp.csr_matrix((np.ones(nu), (bk, np.arange(nu))), shape=(ny, nu))
        cov = sp.hstack([-Ar, sp.identity(ny, format="csr"), U], format="csr")
        constraints.append(LinearConstraint(cov, -np.inf, 0.0))
    if p is not None or min_sites is not None:
        row = sp.csr_matrix((np.ones(C), (np.zeros(C, int), np.arange(C))), shape=(1, nvar))
        lo = -np.inf if min_sites is None else float(min_sites)
        constraints.append(LinearConstraint(row, lo, np.inf if p is None else float(p)))
    if budget is not None:
        cost = model.cost if model.cost is not None else np.ones(C)
        row = sp.csr_matrix((cost, (np.zeros(C, int), np.arange(C))), shape=(1, nvar))
        constraints.append(LinearConstraint(row, -np.inf, float(budget)))
    conf = _conflict_rows(model.conflicts, C, nvar)
    if conf is not None:
        constraints.append(LinearConstraint(conf, -np.inf, 1.0))
    integrality = np.zeros(nvar)
    if not relax:
        integrality[:C] = 1
    res, secs = _run_milp(c, integrality, constraints, time_limit_s, mip_rel_gap, presolve)
    chosen = None
    if res.x is not None and not relax:
        chosen = np.flatnonzero(res.x[:C] > 0.5)
    if relax:
        dual = -float(res.fun) if res.fun is not None and res.status == 0 else None
    else:
        dual = -float(res.mip_dual_bound) if res.mip_dual_bound is not None and np.isfinite(res.mip_dual_bound) else None
    return MilpOutcome(chosen, dual, int(res.status), str(res.message), res.get("mip_node_count"), secs)


def lscp_milp(
    model: CoverModel,
    *,
    target: float | None,
    time_limit_s: float,
    mip_rel_gap: float = 1e-4,
    relax: bool = False,
) -> MilpOutcome:
    """Fewest sites (or least cost) covering every row (``target=None``) or a weight ``target``.

    The dual bound is a lower bound on the number (cost) of sites.
    """
    from scipy.optimize import LinearConstraint

    C = model.n_cols
    cost = model.cost if model.cost is not None else np.ones(C)
    constraints = []
    if target is None:
        ny = 0
        nvar = C
        constraints.append(LinearConstraint(model.A, 1.0, np.inf))
        c = cost.astype(float)
    else:
        colw, rest = fold_singletons(model)
        Ar = model.A[rest]
        ny = len(rest)
        nvar = C + ny
        c = np.concatenate([cost.astype(float), np.zeros(ny)])
        if ny:
            cov = sp.hstack([-Ar, sp.identity(ny, format="csr")], format="csr")
            constraints.append(LinearConstraint(cov, -np.inf, 0.0))
        reach = sp.csr_matrix(np.concatenate([colw, model.w1[rest]])[None, :])
        constraints.append(LinearConstraint(reach, float(target), np.inf))
    conf = _conflict_rows(model.conflicts, C, nvar)
    if conf is not None:
        constraints.append(LinearConstraint(conf, -np.inf, 1.0))
    integrality = np.zeros(nvar)
    if not relax:
        integrality[:C] = 1
    res, secs = _run_milp(c, integrality, constraints, time_limit_s, mip_rel_gap)
    chosen = None
    if res.x is not None and not relax:
        chosen = np.flatnonzero(res.x[:C] > 0.5)
    if relax:
        dual = float(res.fun) if res.fun is not None and res.status == 0 else None
    else:
        dual = float(res.mip_dual_bound) if res.mip_dual_bound is not None and np.isfinite(res.mip_dual_bound) else None
    return MilpOutcome(chosen, dual, int(res.status), str(res.message), res.get("mip_node_count"), secs)


# --------------------------------------------------------------------------- large-neighbourhood search


def _window(model: CoverModel, seed_col: int, size: int) -> np.ndarray:
    """Columns around ``seed_col``: breadth-first over shared demand rows until ``size``."""
    A, Acsc = model.A, model.csc
    seen = np.zeros(model.n_cols, dtype=bool)
    seen[seed_col] = True
    frontier = np.array([seed_col])
    total = 1
    while total < size and len(frontier):
        rows = np.unique(Acsc[:, frontier].indices)
        cols = np.unique(A[rows].indices)
        new = cols[~seen[cols]]
        if not len(new):
            break
        if total + len(new) > size:
            # keep the columns that share the most rows with the window so far
            shared = np.asarray(A[rows][:, new].sum(axis=0)).ravel()
            new = new[np.argsort(-shared, kind="stable")[: size - total]]
        seen[new] = True
        total += len(new)
        frontier = new
    return np.flatnonzero(seen)


def lns(
    model: CoverModel,
    chosen: np.ndarray,
    *,
    p: int | None,
    budget: float | None,
    deadline: float,
    random_state: int = 0,
    windows: tuple[int, ...] = (40, 80, 160, 320),
    max_stall: int | None = None,
    sub_gap: float = 1e-4,
    send: Callable[[tuple[str, Any]], None] | None = None,
) -> tuple[np.ndarray, float, int]:
    """Large-neighbourhood search: re-solve one window of sites exactly at a time.

    A window is the ``w`` sites nearest (through shared demand) to one chosen site; the
    chosen sites inside it are freed, the others stay, and HiGHS picks the best set of the
    same size (or within the same budget) for what the fixed sites leave uncovered. Windows
    start small (fast, many moves) and grow through ``windows`` each time a sweep of
    ``max_stall`` windows in a row (default: one per chosen site, at least 30) brings no
    improvement; the search ends after a fruitless sweep at the largest size or at
    ``deadline`` (a ``time.perf_counter`` value). Each improvement is passed to
    ``send(("incumbent", (columns, value)))``.
    """
    rng = np.random.default_rng(random_state)
    S = np.array(chosen, dtype=np.int64)
    k = model.counts(S)
    value = model.value_of_counts(k)
    limit = max_stall if max_stall is not None else max(30, len(S))
    stall = it = 0
    level = 0
    queue: list[int] = []
    tol = 1e-9 * max(1.0, float(model.w1.sum()))
    conf = model.conflicts
    cost = model.cost
    reason = "stall"
    while len(S):
        if stall >= limit:
            if level + 1 >= len(windows):
                break
            level, stall = level + 1, 0
        left = deadline - time.perf_counter()
        if left < 0.05:
            reason = "time"
            break
        if not queue:
            queue = list(rng.permutation(S))
        s = int(queue.pop())
        if not np.any(S == s):
            continue
        it += 1
        win = _window(model, s, windows[level])
        inwin = np.zeros(model.n_cols, dtype=bool)
        inwin[win] = True
        fixed = S[~inwin[S]]
        freed = S[inwin[S]]
        free = win
        if conf is not None and len(fixed):
            blocked = np.asarray(conf[fixed].sum(axis=0)).ravel() > 0
            free = free[~blocked[free]]
        rows = np.unique(model.csc[:, free].indices)
        kfix = k[rows] - (model.counts(freed)[rows] if len(freed) else 0)
        w1 = np.where(kfix == 0, model.w1[rows], np.where(kfix == 1, model.w2[rows], 0.0))
        w2 = np.where(kfix == 0, model.w2[rows], 0.0)
        keep = w1 > 0
        sub = CoverModel(
            A=model.A[rows[keep]][:, free].tocsr(),
            w1=w1[keep],
            w2=w2[keep],
            cost=None if cost is None else cost[free],
            conflicts=None if conf is None else conf[free][:, free].tocsr(),
        )
        pos = np.searchsorted(free, freed)
        current = sub.value(pos)
        sub_budget = None if budget is None else budget - (float(cost[fixed].sum()) if cost is not None else float(len(fixed)))
        out = mclp_milp(
            sub, p=None if p is None else len(freed), budget=sub_budget, time_limit_s=min(2.0, left - 0.02), mip_rel_gap=sub_gap
        )
        if out.chosen is not None and sub.value(out.chosen) > current + tol:
            S = np.concatenate([fixed, free[out.chosen]])
            k = model.counts(S)
            value = model.value_of_counts(k)
            stall = 0
            if send is not None:
                send(("incumbent", (S.copy(), value)))
        else:
            stall += 1
    if send is not None:
        send(("lns_end", {"reason": reason, "windows": it, "window_size": windows[level]}))
    return S, value, it
