"""Fast placement heuristics and bounds on a reduced coverage model.

Everything here works on a :class:`CoverModel`, the merged demand × candidate matrix that
:mod:`geoprio.placement.reduce` builds (identical demand rows merged, rows already served by
existing facilities folded into a constant). The value of a row covered ``k`` times by new
sites is ``w1·min(k, 1) + w2·min(max(k − 1, 0), 1)``: ``w1`` is what the first new cover
gains and ``w2`` the second (backup coverage; zero without it). The value is concave in
``k``, so total coverage is a monotone submodular function of the chosen set, which is what
makes greedy work and the Lagrangian bound below valid.

* :func:`lazy_greedy` — greedy with a priority queue of stale gains (Minoux's lazy
  evaluation); cardinality, budget (gain per cost) and target modes; spacing conflicts.
* :func:`swap_search` — 1-swap local search (one site out, one in), best improvement per
  site, applying in one pass every improving swap that touches demand no other swap of the
  pass touches, so their gains add up exactly; stops at a local optimum or a time budget.
* :func:`lagrangian_bound` — relaxes the coverage constraints ``y_i ≤ Σ_j a_ij x_j`` with
  multipliers ``λ_i ∈ [0, w1_i]``; every ``λ`` gives a valid upper bound
  ``Σ_i (w1_i − λ_i)⁺ + (w2_i − λ_i)⁺ + best_p(Aᵀλ)`` (the best ``p`` column prices, or a
  fractional knapsack under a budget). Subgradient steps (Polyak's rule with the incumbent
  as target) drive it towards the LP relaxation's value. Spacing constraints are ignored by
  the bound, which stays valid but gets weaker when spacing binds.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CoverModel",
    "GreedyPath",
    "LagrangeResult",
    "SwapResult",
    "initial_multipliers",
    "lagrangian_bound",
    "lagrangian_value",
    "lazy_greedy",
    "swap_search",
]


@dataclass(eq=False)
class CoverModel:
    """A reduced maximal-covering model (rows are merged demand, columns candidates).

    Attributes
    ----------
    A : scipy.sparse.csr_matrix
        Rows × columns 0/1 coverage (float64 data, sorted indices).
    w1, w2 : numpy.ndarray
        Value of the first and of the second new cover of each row.
    cost : numpy.ndarray or None
        Cost of each column (None: every site costs 1).
    conflicts : scipy.sparse.csr_matrix or None
        Symmetric column × column matrix; a nonzero means the two sites may not both be
        chosen (minimum spacing).
    const : float
        Value already provided (demand covered by existing facilities).
    """

    A: sp.csr_matrix
    w1: np.ndarray
    w2: np.ndarray
    cost: np.ndarray | None = None
    conflicts: sp.csr_matrix | None = None
    const: float = 0.0

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    @property
    def n_cols(self) -> int:
        return self.A.shape[1]

    @cached_property
    def csc(self) -> sp.csc_matrix:
        return self.A.tocsc()

    @cached_property
    def AT(self) -> sp.csr_matrix:
        """The transpose as CSR (fast ``Aᵀλ``)."""
        return self.A.T.tocsr()

    @cached_property
    def has_backup(self) -> bool:
        return bool(np.any(self.w2 > 0))

    def counts(self, cols: np.ndarray) -> np.ndarray:
        """How many of ``cols`` cover each row."""
        x = np.zeros(self.n_cols)
        np.add.at(x, np.asarray(cols, dtype=np.int64), 1.0)
        return np.rint(self.A @ x).astype(np.int32)

    def value_of_counts(self, k: np.ndarray) -> float:
        return float(self.w1 @ (k >= 1) + self.w2 @ (k >= 2))

    def value(self, cols: np.ndarray) -> float:
        """Value of choosing ``cols`` (without the constant)."""
        if len(cols) == 0:
            return 0.0
        return self.value_of_counts(self.counts(cols))

    def col_cost(self, cols: np.ndarray) -> float:
        cols = np.asarray(cols, dtype=np.int64)
        return float(len(cols)) if self.cost is None else float(self.cost[cols].sum())

    def marginal(self, k: np.ndarray) -> np.ndarray:
        """Per-row gain of one more cover given current counts ``k``."""
        return np.where(k == 0, self.w1, np.where(k == 1, self.w2, 0.0))

    def slim(self) -> CoverModel:
        """A copy without the cached matrices (what is sent to a worker process)."""
        return CoverModel(A=self.A, w1=self.w1, w2=self.w2, cost=self.cost, conflicts=self.conflicts, const=self.const)


# --------------------------------------------------------------------------- greedy


@dataclass(frozen=True)
class GreedyPath:
    """Columns in the order greedy chose them, each with its marginal gain and cost."""

    order: np.ndarray
    gains: np.ndarray
    costs: np.ndarray
    counts: np.ndarray

    @property
    def value(self) -> float:
        return float(self.gains.sum())


def lazy_greedy(
    model: CoverModel,
    *,
    max_sites: int | None = None,
    budget: float | None = None,
    target: float | None = None,
    allowed: np.ndarray | None = None,
    start: np.ndarray | None = None,
    ratio: bool = False,
    stop_at_zero: bool = True,
) -> GreedyPath:
    """Greedy selection with lazy gain updates (a max-heap of stale upper bounds).

    Parameters
    ----------
    max_sites
        Stop after this many sites.
    budget
        Total cost allowed; sites are then ranked by gain per unit cost and unaffordable
        ones skipped.
    target
        Stop as soon as the chosen sites' value reaches this (set covering).
    allowed
        Boolean mask of columns that may be chosen (default all).
    start
        Columns already chosen (their coverage counts, their conflicts apply).
    ratio
        Rank by gain per unit cost even without a budget (coverage curves by cost).
    stop_at_zero
        Stop when the best gain is zero (otherwise keep adding zero-gain sites up to
        ``max_sites``; never used by the solvers).
    """
    A = model.csc
    ip, ix = A.indptr, A.indices
    n_cols = model.n_cols
    k = np.zeros(model.n_rows, dtype=np.int32)
    banned = np.zeros(n_cols, dtype=bool) if allowed is None else ~np.asarray(allowed, dtype=bool)
    conf = model.conflicts
    start = np.asarray(start if start is not None else [], dtype=np.int64)
    spent = 0.0
    if len(start):
        k = model.counts(start)
        banned[start] = True
        spent = model.col_cost(start)
        if conf is not None:
            for j in start:
                banned[conf.indices[conf.indptr[j] : conf.indptr[j + 1]]] = True
    banned0 = banned.copy()
    spent0 = spent
    m = model.marginal(k)
    gains0 = np.asarray(A.T @ m).ravel()
    cost = model.cost
    use_ratio = cost is not None and (budget is not None or ratio)
    key0 = gains0 / cost if use_ratio else gains0
    cand = np.flatnonzero(~banned & (gains0 > 0))
    heap = list(zip((-key0[cand]).tolist(), cand.tolist(), strict=True))
    heapq.heapify(heap)
    order: list[int] = []
    gains: list[float] = []
    costs: list[float] = []
    value = 0.0
    limit = max_sites if max_sites is not None else n_cols
    while heap and len(order) < limit:
        if target is not None and value >= target:
            break
        negkey, j = heapq.heappop(heap)
        if banned[j]:
            continue
        cj = 1.0 if cost is None else float(cost[j])
        if budget is not None and spent + cj > budget * (1 + 1e-12):
            continue  # budgets only shrink: never affordable again
        rows = ix[ip[j] : ip[j + 1]]
        g = float(m[rows].sum())
        key = g / cj if use_ratio else g
        if heap and key < -heap[0][0] - 1e-12 * max(1.0, abs(key)):
            if g > 0:
                heapq.heappush(heap, (-key, j))
            continue
        if g <= 0 and stop_at_zero:
            break
        order.append(j)
        gains.append(g)
        costs.append(cj)
        value += g
        spent += cj
        banned[j] = True
        k[rows] += 1
        m[rows] = np.where(k[rows] == 1, model.w2[rows], 0.0)
        if conf is not None:
            banned[conf.indices[conf.indptr[j] : conf.indptr[j + 1]]] = True
    if budget is not None and np.isfinite(budget) and cost is not None and order:
        # Khuller et al.: the better of ratio greedy and the best single affordable site
        k0 = model.counts(start) if len(start) else np.zeros(model.n_rows, dtype=np.int32)
        g0 = np.asarray(A.T @ model.marginal(k0)).ravel()
        ok = (cost + spent0 <= budget * (1 + 1e-12)) & ~banned0
        if ok.any():
            best = int(np.flatnonzero(ok)[np.argmax(g0[ok])])
            if g0[best] > value + 1e-9 * max(1.0, value):
                rows = ix[ip[best] : ip[best + 1]]
                k = k0.copy()
                k[rows] += 1
                return GreedyPath(np.array([best]), np.array([g0[best]]), np.array([float(cost[best])]), k)
    return GreedyPath(np.asarray(order, dtype=np.int64), np.asarray(gains), np.asarray(costs), k)


# --------------------------------------------------------------------------- swap local search


@dataclass(frozen=True)
class SwapResult:
    """A 1-swap local optimum: the chosen columns, their cover counts, value, passes and swaps made."""

    chosen: np.ndarray
    counts: np.ndarray
    value: float
    passes: int
    swaps: int
    converged: bool


def swap_search(
    model: CoverModel,
    chosen: np.ndarray,
    *,
    budget: float | None = None,
    time_budget_s: float = 10.0,
    deadline: float | None = None,
    top_k: int = 64,
) -> SwapResult:
    """Improve ``chosen`` by 1-swaps until no swap improves or time runs out.

    For each chosen site ``s`` the best entering site ``j`` maximizes
    ``gain(j) − loss(s) + overlap(s, j)``, where ``overlap`` adds back what ``j`` would
    re-cover of what ``s`` leaves uncovered. Entering sites are searched among those that
    share demand with ``s`` (exactly, through a sparse product) and among the ``top_k``
    largest free gains. Swaps keep the number of sites, the budget and the spacing rules.
    """
    t0 = time.perf_counter()
    stop = t0 + time_budget_s if deadline is None else min(deadline, t0 + time_budget_s)
    S = np.array(chosen, dtype=np.int64)
    k = model.counts(S)
    if len(S) == 0 or len(S) >= model.n_cols:
        return SwapResult(S, k, model.value_of_counts(k), 0, 0, True)
    A, Acsc = model.A, model.csc
    ip, ix = Acsc.indptr, Acsc.indices
    n, m = A.shape
    w1, w2 = model.w1, model.w2
    cost = model.cost
    conf = model.conflicts
    is_chosen = np.zeros(m, dtype=bool)
    is_chosen[S] = True
    tol = 1e-10 * max(1.0, float(w1.sum()))
    passes = swaps = 0
    converged = False
    spent = model.col_cost(S)
    while time.perf_counter() < stop:
        passes += 1
        delta_in = model.marginal(k)  # gain of one more cover
        km1 = np.maximum(k - 1, 0)
        delta_out = np.where(k >= 1, model.marginal(km1), 0.0)  # loss of one cover less
        kappa = np.where(k == 1, w1 - w2, np.where(k == 2, w2, 0.0))  # overlap correction
        gain = np.asarray(Acsc.T @ delta_in).ravel()
        AS = Acsc[:, S]
        loss = np.asarray(AS.T @ delta_out).ravel()
        B = sp.csr_matrix(AS.T.multiply(kappa[None, :]))
        B.eliminate_zeros()
        M = (B @ A).tocsr()
        M.sum_duplicates()
        free = ~is_chosen
        if conf is not None:
            n_conf = np.asarray(conf[S].sum(axis=0)).ravel()
            free &= n_conf == 0
        p = len(S)
        best_val = np.full(p, -np.inf)
        best_j = np.full(p, -1, dtype=np.int64)
        slack = None if budget is None or cost is None else budget - spent
        if M.nnz:
            vals = M.data + gain[M.indices]
            ok = free[M.indices]
            if slack is not None and cost is not None:  # a slack implies costs
                rowid = np.repeat(np.arange(p), np.diff(M.indptr))
                ok &= cost[M.indices] - cost[S[rowid]] <= slack + 1e-12
            vals = np.where(ok, vals, -np.inf)
            nz = np.flatnonzero(np.diff(M.indptr) > 0)
            rowid = np.repeat(np.arange(p), np.diff(M.indptr))
            order = np.lexsort((-vals, rowid))
            first = order[M.indptr[nz]]
            best_val[nz] = vals[first]
            best_j[nz] = M.indices[first]
        free_idx = np.flatnonzero(free)
        if len(free_idx):
            kk = min(top_k, len(free_idx))
            top = free_idx[np.argpartition(-gain[free_idx], kk - 1)[:kk]]
            vk = gain[top][None, :] + M[:, top].toarray()
            if slack is not None and cost is not None:
                vk = np.where(cost[top][None, :] - cost[S][:, None] <= slack + 1e-12, vk, -np.inf)
            ak = np.argmax(vk, axis=1)
            bk = vk[np.arange(p), ak]
            better = bk > best_val
            best_val = np.where(better, bk, best_val)
            best_j = np.where(better, top[ak], best_j)
        delta = best_val - loss
        cand = np.flatnonzero(delta > tol)
        if not len(cand):
            converged = True
            break
        cand = cand[np.argsort(-delta[cand], kind="stable")]
        touched = np.zeros(n, dtype=bool)
        entered = np.zeros(m, dtype=bool)
        applied = 0
        for si in cand:
            s, j = int(S[si]), int(best_j[si])
            if entered[j] or is_chosen[j]:
                continue
            rs, rj = ix[ip[s] : ip[s + 1]], ix[ip[j] : ip[j + 1]]
            if touched[rs].any() or touched[rj].any():
                continue
            if conf is not None:
                nb = conf.indices[conf.indptr[j] : conf.indptr[j + 1]]
                if entered[nb].any():
                    continue
            if cost is not None and budget is not None:
                if spent + cost[j] - cost[s] > budget * (1 + 1e-12):
                    continue
                spent += float(cost[j] - cost[s])
            touched[rs] = True
            touched[rj] = True
            entered[j] = True
            k[rs] -= 1
            k[rj] += 1
            is_chosen[s] = False
            is_chosen[j] = True
            S[si] = j
            applied += 1
        swaps += applied
        if applied == 0:
            converged = True
            break
    return SwapResult(S, k, model.value_of_counts(k), passes, swaps, converged)


# --------------------------------------------------------------------------- Lagrangian bound


@dataclass(frozen=True)
class LagrangeResult:
    """Best Lagrangian bound found (value without the model constant) and its multipliers."""

    bound: float
    lam: np.ndarray
    iterations: int
    top: np.ndarray  # the subproblem's chosen columns at the best multipliers


def _best_columns(rho: np.ndarray, p: int | None, budget: float | None, cost: np.ndarray | None) -> tuple[float, np.ndarray, np.ndarray]:
    """Optimal value of the relaxed column subproblem and its (fractional) solution.

    ``max Σ ρ_j x_j`` over ``0 ≤ x ≤ 1`` with ``Σ x ≤ p`` and/or ``Σ c x ≤ budget``: with one
    constraint this is exact (top-p, or the fractional knapsack); with both, the smaller
    of the two single-constraint values, still an upper bound.
    """
    pos = np.flatnonzero(rho > 0)
    best = np.inf
    x_idx, x_val = np.empty(0, np.int64), np.empty(0)
    if p is not None:
        if len(pos) <= p:
            val, idx = float(rho[pos].sum()), pos
        else:
            idx = pos[np.argpartition(-rho[pos], p - 1)[:p]]
            val = float(rho[idx].sum())
        if val < best:
            best, x_idx, x_val = val, idx, np.ones(len(idx))
    if budget is not None and cost is not None:
        ratio = rho[pos] / cost[pos]
        order = pos[np.argsort(-ratio, kind="stable")]
        cum = np.cumsum(cost[order])
        n_full = int(np.searchsorted(cum, budget, side="right"))
        val = float(rho[order[:n_full]].sum())
        idx = order[:n_full]
        frac = np.ones(n_full)
        if n_full < len(order):
            left = budget - (cum[n_full - 1] if n_full else 0.0)
            f = left / cost[order[n_full]]
            val += f * rho[order[n_full]]
            idx = order[: n_full + 1]
            frac = np.append(frac, f)
        if val < best:
            best, x_idx, x_val = val, idx, frac
    if not np.isfinite(best):
        best = float(rho[pos].sum())
        x_idx, x_val = pos, np.ones(len(pos))
    return best, x_idx, x_val


def lagrangian_value(model: CoverModel, lam: np.ndarray, *, p: int | None, budget: float | None) -> float:
    """Upper bound (without the constant) given by multipliers ``lam`` (clipped to ``[0, w1]``)."""
    lam = np.clip(lam, 0.0, model.w1)
    rho = model.AT @ lam
    val, _, _ = _best_columns(rho, p, budget, model.cost)
    return float(np.maximum(model.w1 - lam, 0).sum() + np.maximum(model.w2 - lam, 0).sum() + val)


def initial_multipliers(model: CoverModel, counts: np.ndarray, *, p: int | None, budget: float | None) -> np.ndarray:
    """Multipliers read off a good solution: full price on uncovered rows, none on rows
    covered twice, and on rows covered once the fraction ``α`` of ``w1`` that gives the
    smallest bound (searched on a grid).
    """
    best_val, best = np.inf, model.w1.copy()
    for alpha in np.linspace(0.0, 1.0, 11):
        lam = np.where(counts == 0, model.w1, np.where(counts == 1, np.maximum(alpha * model.w1, model.w2), model.w2))
        v = lagrangian_value(model, lam, p=p, budget=budget)
        if v < best_val:
            best_val, best = v, lam
    return best


_PATIENCE = 30  # non-improving steps before θ is halved
_DEFLECT = 0.5  # weight of the previous direction


def _col_sum(csc: sp.csc_matrix, cols: np.ndarray, vals: np.ndarray, n_rows: int) -> np.ndarray:
    """``A[:, cols] @ vals`` without slicing the matrix (gathers the columns' row indices)."""
    if not len(cols):
        return np.zeros(n_rows)
    starts = csc.indptr[cols]
    lens = csc.indptr[cols + 1] - starts
    total = int(lens.sum())
    pos = np.arange(total) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return np.bincount(csc.indices[pos], weights=np.repeat(vals, lens), minlength=n_rows)


def lagrangian_bound(
    model: CoverModel,
    *,
    p: int | None,
    budget: float | None,
    incumbent: float,
    lam0: np.ndarray,
    max_iter: int = 100_000,
    time_budget_s: float = 5.0,
    rel_tol: float = 1e-4,
    state: dict | None = None,
) -> LagrangeResult:
    """Subgradient minimization of the Lagrangian dual, starting from ``lam0``.

    Polyak's step ``θ (L(λ) − incumbent) / ‖d‖²`` along the deflected direction
    ``d = g + 0.5 d_prev``, with ``θ`` halved after 30 steps without improvement (and
    ``λ`` reset to the best so far). ``state`` (a dict) lets a
    caller resume the iteration in slices. Stops when the bound is within ``rel_tol`` of
    the incumbent, ``θ`` has vanished, or the time or iteration budget is spent.
    """
    w1, w2 = model.w1, model.w2
    AT, csc = model.AT, model.csc
    n = model.n_rows
    cost = model.cost
    backup = model.has_backup
    w1sum = float(w1.sum())
    st = state if state is not None else {}
    lam = st.get("lam", np.clip(lam0, 0.0, w1))
    best = st.get("best", np.inf)
    best_lam = st.get("best_lam", lam.copy())
    best_top = st.get("best_top", np.empty(0, np.int64))
    theta = st.get("theta", 1.0)
    stall = st.get("stall", 0)
    direction = st.get("direction")
    it_total = st.get("iterations", 0)
    t_end = time.perf_counter() + time_budget_s
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        rho = AT @ lam
        colval, x_idx, x_val = _best_columns(rho, p, budget, cost)
        rows_val = w1sum - float(lam.sum())  # λ ≤ w1 always
        if backup:
            rows_val += float(np.maximum(w2 - lam, 0).sum())
        val = rows_val + colval
        if val < best - 1e-12 * abs(val):
            best, best_lam, stall = val, lam.copy(), 0
            best_top = x_idx[x_val >= 1 - 1e-9] if len(x_idx) else x_idx
        else:
            stall += 1
            if stall >= _PATIENCE:
                theta /= 2.0
                stall = 0
                lam = best_lam.copy()
                direction = None
                if theta < 1e-5:
                    break
                continue
        if best - incumbent <= rel_tol * max(abs(best), 1e-12) or time.perf_counter() > t_end:
            break
        g = 1.0 - _col_sum(csc, x_idx, x_val, n)  # y_i = 1 is a valid choice at λ_i = w1_i
        if backup:
            g += w2 > lam
        # g is the descent direction: stay inside [0, w1]
        if direction is not None:  # deflection (Camerini, Fratta & Maffioli): damps zig-zagging
            g = g + _DEFLECT * direction
        g[((lam <= 0) & (g < 0)) | ((lam >= w1) & (g > 0))] = 0.0
        direction = g
        nn = float(g @ g)
        if nn == 0.0:
            break
        step = theta * max(val - incumbent, 1e-9 * abs(val)) / nn
        lam = lam + step * g
        np.clip(lam, 0.0, w1, out=lam)
    st.update(
        lam=lam, best=best, best_lam=best_lam, best_top=best_top, theta=theta, stall=stall, direction=direction, iterations=it_total + it
    )
    return LagrangeResult(best, best_lam, it_total + it, best_top)
