"""Reduction of a coverage problem to the model the solvers see.

Demand rows with identical coverage patterns are merged (their weights summed; patterns
are hashed by two random 64-bit sums and every merge is verified element by element),
demand already covered by existing facilities becomes a constant (with backup coverage,
rows covered once keep the value of a second cover), candidates that cover nothing are
dropped, and, for single coverage without spacing rules, candidates whose demand is a
subset of another's at no lower cost. :class:`Reduced` keeps what is needed to report the
plan in the original terms (covered and backed-up shares, original candidate indices).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geoprio.placement.heuristics import CoverModel
from geoprio.placement.problem import CoverageProblem

__all__ = ["Reduced", "merge_rows", "reduce_problem"]

#: Above this Σ(row length)², dominated candidates are not searched (AᵀA would be too big).
DOMINANCE_MAX_WORK = 20_000_000


@dataclass(eq=False)
class Reduced:
    """The solver's model plus what is needed to report in the original terms."""

    model: CoverModel
    cols: np.ndarray  # original candidate index of each model column
    cov_w: np.ndarray  # weight whose first cover comes from new sites (e == 0), per model row
    bk0: np.ndarray  # weight backed up by a 2nd new cover (e == 0), per model row
    bk1: np.ndarray  # weight backed up by a 1st new cover (e == 1), per model row
    total: float
    covered_existing: float
    backup_existing: float
    coverable: float  # weight that existing or candidate sites can cover
    stats: dict[str, Any] = field(default_factory=dict)

    def shares(self, counts: np.ndarray) -> tuple[float, float]:
        """(covered share, backup share) of the total weight given new-cover counts."""
        cov = self.covered_existing + float(self.cov_w @ (counts >= 1))
        bk = self.backup_existing + float(self.bk0 @ (counts >= 2) + self.bk1 @ (counts >= 1))
        t = self.total if self.total > 0 else 1.0
        return cov / t, bk / t


def merge_rows(A: sp.csr_matrix, cols_of_vals: list[np.ndarray]) -> tuple[sp.csr_matrix, list[np.ndarray], int]:
    """Merge rows with identical column sets, summing the given per-row arrays.

    Rows are hashed by two random 64-bit sums of their column codes plus their length,
    and every merge is then verified element by element (a collision, astronomically
    unlikely, falls back to exact byte keys).
    """
    n = A.shape[0]
    if n <= 1:
        return A, cols_of_vals, 0
    lens = np.diff(A.indptr)
    rng = np.random.default_rng(0x5EED)
    h = rng.integers(1, np.iinfo(np.int64).max, size=(2, A.shape[1]), dtype=np.int64).astype(np.uint64)
    starts = A.indptr[:-1]
    s = np.zeros((n, 3), dtype=np.uint64)
    nz = lens > 0
    if A.nnz:
        for t in range(2):
            v = np.add.reduceat(h[t][A.indices], np.minimum(starts, A.nnz - 1))
            s[:, t] = np.where(nz, v, 0)
    s[:, 2] = lens
    _, first, inverse = np.unique(s, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    rep = first[inverse]
    # verify: each row's columns equal its representative's
    same = True
    if A.nnz:
        row_of = np.repeat(np.arange(n), lens)
        offset = np.arange(A.nnz) - np.repeat(starts, lens)
        same = bool(np.array_equal(A.indices, A.indices[A.indptr[rep[row_of]] + offset]))
    if not same:  # pragma: no cover - hash collision
        keys = [A.indices[A.indptr[i] : A.indptr[i + 1]].tobytes() for i in range(n)]
        inverse, uniq = pd.factorize(pd.Series(keys))
        first = np.unique(inverse, return_index=True)[1]
    order = np.argsort(first, kind="stable")  # keep rows in first-seen order
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    first = first[order]
    inv = remap[inverse]
    out = [np.bincount(inv, weights=v, minlength=len(first)) for v in cols_of_vals]
    return A[first], out, n - len(first)


def _dominated(A: sp.csr_matrix, cost: np.ndarray | None) -> np.ndarray:
    """Columns whose demand is a subset of another column's (at no lower cost).

    Such a site is never needed (single coverage, no spacing rules): take an optimal plan
    ``S`` with a dominated site ``j`` (``rows(j) ⊆ rows(k)``, ``cost_k ≤ cost_j``). If
    ``k ∈ S``, ``S − j`` covers the same rows with fewer sites and less cost; otherwise
    ``S − j + k`` has as many sites, no more cost and covers a superset of the rows. Either
    way an optimal plan without ``j`` exists, for ``p``, budgets and set covering alike
    (rows served by existing facilities were already removed, so they do not interfere).
    A backup cover breaks the first case (``k`` and ``j`` cover rows twice) and a spacing
    rule the second (``k`` may conflict with ``S``), hence the conditions. Of identical
    columns, the first is kept.
    """
    C = (A.T @ A).tocoo()
    size = np.diff(A.tocsc().indptr)
    off = C.row != C.col
    j, k, v = C.row[off], C.col[off], C.data[off]
    sub = np.rint(v) == size[j]  # rows(j) ⊆ rows(k)
    j, k = j[sub], k[sub]
    if cost is not None:
        ok = cost[k] <= cost[j]
        j, k = j[ok], k[ok]
        cj, ck = cost[j], cost[k]
    else:
        cj = ck = np.zeros(len(j))
    strict = (size[k] > size[j]) | (ck < cj)
    dom = np.zeros(A.shape[1], dtype=bool)
    dom[j[strict]] = True
    tie = ~strict
    dom[np.maximum(j[tie], k[tie])] = True  # identical columns and costs: drop the later one
    return dom


def reduce_problem(problem: CoverageProblem, *, backup_weight: float, allow_dominance: bool) -> Reduced:
    """The solver's model of ``problem`` (see the module docstring); ``stats`` records the sizes."""
    t0 = time.perf_counter()
    A = problem.coverage
    w = problem.weights
    e = problem.existing
    beta = float(backup_weight)
    total = float(w.sum())
    covered_existing = float(w[e >= 1].sum())
    backup_existing = float(w[e >= 2].sum())
    has_cand = np.diff(A.indptr) > 0
    coverable = float(w[(e >= 1) | has_cand].sum())
    w1 = np.where(e == 0, w, np.where(e == 1, beta * w, 0.0))
    w2 = np.where(e == 0, beta * w, 0.0)
    cov_w = np.where(e == 0, w, 0.0)
    bk0 = np.where(e == 0, w, 0.0) if beta > 0 else np.zeros(len(w))
    bk1 = np.where(e == 1, w, 0.0) if beta > 0 else np.zeros(len(w))
    keep = (w1 > 0) & has_cand
    const = covered_existing + beta * backup_existing
    Ar = A[keep]
    vals = [w1[keep], w2[keep], cov_w[keep], bk0[keep], bk1[keep]]
    rows_in = int(keep.sum())
    useful = np.flatnonzero(np.diff(Ar.tocsc().indptr) > 0)
    cols = useful
    Ar = Ar[:, useful].tocsr()
    cost = None if problem.costs is None else problem.costs[useful]
    conf = None if problem.conflicts is None else problem.conflicts[useful][:, useful].tocsr()
    Ar, vals, merged = merge_rows(Ar, vals)
    dominated = 0
    work = float((np.diff(Ar.indptr).astype(float) ** 2).sum())
    if allow_dominance and beta == 0 and conf is None and Ar.shape[1] > 1 and work <= DOMINANCE_MAX_WORK:
        dom = _dominated(Ar, cost)
        if dom.any():
            dominated = int(dom.sum())
            keepc = np.flatnonzero(~dom)
            cols = cols[keepc]
            Ar = Ar[:, keepc].tocsr()
            cost = None if cost is None else cost[keepc]
            Ar, vals, more = merge_rows(Ar, vals)
            merged += more
    Ar.sort_indices()
    model = CoverModel(A=Ar, w1=vals[0], w2=vals[1], cost=cost, conflicts=conf, const=const)
    stats = {
        "demand_rows": int(A.shape[0]),
        "candidates": int(A.shape[1]),
        "rows_to_cover": rows_in,
        "rows_after_merge": int(Ar.shape[0]),
        "columns_useful": int(len(useful)),
        "columns_dominated": dominated,
        "columns": int(Ar.shape[1]),
        "nonzeros": int(Ar.nnz),
        "reduce_s": round(time.perf_counter() - t0, 4),
    }
    return Reduced(model, cols, vals[2], vals[3], vals[4], total, covered_existing, backup_existing, coverable, stats)
