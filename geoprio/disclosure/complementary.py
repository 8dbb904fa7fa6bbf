"""Complementary (secondary) suppression: which further cells to hide so that no hidden count
can be derived, within the policy's protection interval, from what is published.

An attacker knows every published cell, every linear relation between cells
(:class:`Relation`: a total, a parent level, an index that is the sum of its contributions)
and a-priori bounds of each hidden cell (a hidden count is at least 1, since zeros are
published). :func:`attack_intervals` is the attacker's linear program: the least and the
greatest value of each hidden cell consistent with all of that. :func:`protect` chooses the
secondary cells by an integer program solved with HiGHS (through :func:`scipy.optimize.milp`),
after τ-ARGUS's idea kept small: a binary per candidate cell; for each relation and each
primary cell in it, the other hidden cells of the relation must leave the primary room to move
by the protection interval up and down; the hidden total is minimised. The choice is then
audited with :func:`attack_intervals` over all relations jointly; where a primary is still
exposed (relations that share cells), the integer program is re-solved with more room asked
and at least one more cell hidden next to it, a few rounds at most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from geoprio.disclosure.policy import DisclosurePolicy

__all__ = ["Protection", "Relation", "attack_intervals", "protect"]

#: Re-solves of the integer program after a failed audit.
MAX_ROUNDS = 6
#: Cells the last-resort step tries to give back after hiding every linked cell.
MAX_GIVE_BACK = 40
#: Absolute tolerance (in records) of the audit's comparisons.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Relation:
    """A linear relation the attacker knows: ``Σ coefs[i]·x[cells[i]] = rhs``."""

    cells: Sequence[int]
    coefs: Sequence[float]
    rhs: float


@dataclass(frozen=True)
class Protection:
    """What :func:`protect` hides, and how well.

    ``hidden``: primary or secondary; ``secondary``: hidden only to protect primaries;
    ``lower`` / ``upper``: the attacker's best bounds of each hidden cell (NaN where
    published); ``safe``: every primary's bounds leave at least the protection interval on
    each side of its value (clipped at its a-priori bounds).
    """

    hidden: np.ndarray
    secondary: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    safe: bool


def _prior(values: np.ndarray, lower: object, upper: object) -> tuple[np.ndarray, np.ndarray]:
    """A-priori bounds: by default 1 for a positive count (zeros are published), and +inf."""
    n = len(values)
    lo = np.where(values > 0, np.minimum(1.0, values), 0.0) if lower is None else np.broadcast_to(np.asarray(lower, dtype=float), n).copy()
    hi = np.full(n, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, dtype=float), n).copy()
    if np.any(lo > values + TOLERANCE) or np.any(hi < values - TOLERANCE):
        raise ValueError("a-priori bounds must contain each cell's value (lower ≤ values ≤ upper)")
    return lo, hi


def _check_relations(relations: Sequence[Relation], n: int) -> None:
    for i, r in enumerate(relations):
        if len(r.cells) != len(r.coefs):
            raise ValueError(f"relation {i}: {len(r.cells)} cells but {len(r.coefs)} coefs")
        if len(r.cells) and (min(r.cells) < 0 or max(r.cells) >= n):
            raise ValueError(f"relation {i}: cell index out of range 0..{n - 1}")


def _components(n: int, hidden: np.ndarray, relations: Sequence[Relation]) -> list[tuple[list[int], list[int]]]:
    """Groups of hidden cells linked through relations, each with the relations that touch it."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    touching: list[int] = []
    for k, r in enumerate(relations):
        cells = [int(c) for c, a in zip(r.cells, r.coefs, strict=True) if hidden[c] and a != 0]
        if not cells:
            continue
        touching.append(k)
        root = find(cells[0])
        for c in cells[1:]:
            other = find(c)
            if other != root:
                parent[other] = root
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for i in np.flatnonzero(hidden):
        groups.setdefault(find(int(i)), ([], []))[0].append(int(i))
    for k in touching:
        r = relations[k]
        first = next(int(c) for c, a in zip(r.cells, r.coefs, strict=True) if hidden[c] and a != 0)
        groups[find(first)][1].append(k)
    return list(groups.values())


def _intervals(
    values: np.ndarray,
    hidden: np.ndarray,
    relations: Sequence[Relation],
    lo: np.ndarray,
    hi: np.ndarray,
    targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's bounds of each hidden cell in ``targets`` (NaN elsewhere)."""
    n = len(values)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    for cells, rels in _components(n, hidden, relations):
        wanted = [c for c in cells if targets[c]]
        if not wanted:
            continue
        if not rels:
            low[wanted], high[wanted] = lo[wanted], hi[wanted]
            continue
        col = {c: j for j, c in enumerate(cells)}
        rows, cols, data, rhs = [], [], [], []
        for i, k in enumerate(rels):
            r = relations[k]
            b = float(r.rhs)
            for c, a in zip(r.cells, r.coefs, strict=True):
                if hidden[c]:
                    rows.append(i)
                    cols.append(col[int(c)])
                    data.append(float(a))
                else:
                    b -= float(a) * values[c]
            rhs.append(b)
        a_eq = sp.csr_array((data, (rows, cols)), shape=(len(rels), len(cells)))
        bounds = list(zip(lo[cells], [None if np.isinf(u) else u for u in hi[cells]], strict=True))
        for c in wanted:
            objective = np.zeros(len(cells))
            for sign in (1.0, -1.0):
                objective[col[c]] = sign
                res = linprog(objective, A_eq=a_eq, b_eq=rhs, bounds=bounds, method="highs")
                if res.status == 3:  # unbounded: only upwards can be
                    value = np.inf
                elif res.status != 0:  # infeasible by rounding of the rhs: the attacker learns nothing tighter
                    value = lo[c] if sign > 0 else hi[c]
                else:
                    value = sign * float(res.fun)
                if sign > 0:
                    low[c] = max(value, lo[c])
                else:
                    high[c] = min(value, hi[c])
    return low, high


def attack_intervals(
    values: Sequence[float] | np.ndarray,
    hidden: Sequence[bool] | np.ndarray,
    relations: Sequence[Relation],
    *,
    lower: Sequence[float] | np.ndarray | float | None = None,
    upper: Sequence[float] | np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's linear program: the least and greatest value of each hidden cell given
    every published cell, every relation and the a-priori bounds ``lower``/``upper`` of the
    hidden cells (default 1 for a positive value, and +inf).

    Returns two arrays of the cells' length: the bounds of each hidden cell, NaN where published.
    Hidden cells that share no relation are solved apart (one small linear program per group
    of linked cells), so tables of a few thousand cells take seconds.
    """
    x = np.asarray(values, dtype=float)
    h = np.asarray(hidden, dtype=bool)
    if h.shape != x.shape:
        raise ValueError(f"hidden has shape {h.shape}, values {x.shape}")
    _check_relations(relations, len(x))
    lo, hi = _prior(x, lower, upper)
    return _intervals(x, h, relations, lo, hi, h)


def _needs(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Room each cell needs upwards and downwards: the protection interval clipped at its bounds."""
    return np.minimum(level, hi - values), np.minimum(level, values - lo)


def _rows(
    values: np.ndarray,
    primary: np.ndarray,
    relations: Sequence[Relation],
    lo: np.ndarray,
    hi: np.ndarray,
    up: np.ndarray,
    down: np.ndarray,
    scale: dict[tuple[int, int], float],
) -> tuple[sp.csr_array, np.ndarray]:
    """Room constraints of the integer program: for each relation, each primary in it and
    each side, ``Σ room_j·s_j ≥ need`` over the relation's other cells.
    """
    rows: list[int] = []
    cols: list[int] = []
    data: list[float] = []
    need: list[float] = []
    for r in relations:
        pairs = [(int(c), float(a)) for c, a in zip(r.cells, r.coefs, strict=True) if a != 0]
        for p, ap in pairs:
            if not primary[p]:
                continue
            for side, want in ((1, up[p]), (-1, down[p])):
                target = abs(ap) * want * scale.get((p, side), 1.0)
                if target <= TOLERANCE:
                    continue
                row = len(need)
                for j, aj in pairs:
                    if j == p:
                        continue
                    same = (aj > 0) == (ap > 0)
                    # moving p up (side 1) moves same-sign cells down and opposite-sign cells up
                    room = (values[j] - lo[j]) if same == (side == 1) else (hi[j] - values[j])
                    room = min(abs(aj) * room, target)
                    if room > TOLERANCE:
                        rows.append(row)
                        cols.append(j)
                        data.append(room)
                need.append(target)
    a = sp.csr_array((data, (rows, cols)), shape=(len(need), len(values)))
    return a, np.asarray(need, dtype=float)


def _lonely(relations: Sequence[Relation], hideable: np.ndarray) -> sp.csr_array:
    """Rows ``Σ_{k∈r, k≠j} s_k − s_j ≥ 0``: a hidden cell is never the only hidden cell of a
    relation (the relation would give it away), where another cell of it can be hidden.
    """
    rows, cols, data = [], [], []
    row = 0
    for r in relations:
        cells = sorted({int(c) for c, a in zip(r.cells, r.coefs, strict=True) if a != 0 and hideable[c]})
        if len(cells) < 2:
            continue
        for j in cells:
            for k in cells:
                rows.append(row)
                cols.append(k)
                data.append(-1.0 if k == j else 1.0)
            row += 1
    return sp.csr_array((data, (rows, cols)), shape=(row, len(hideable)))


def _choose(
    a: sp.csr_array,
    need: np.ndarray,
    fixed: np.ndarray,
    free: np.ndarray,
    cost: np.ndarray,
    cuts: list[np.ndarray],
    lonely: sp.csr_array,
    time_limit_s: float,
) -> np.ndarray:
    """Solve the integer program; the hidden mask (``fixed`` | chosen ``free`` cells)."""
    n = len(cost)
    # a row no choice can satisfy asks only for what all free cells together can give
    reach = a @ (fixed | free).astype(float)
    need = np.minimum(need, reach)
    lb = fixed.astype(float)
    ub = (fixed | free).astype(float)
    constraints = []
    if len(need):
        constraints.append(LinearConstraint(a, need - TOLERANCE, np.inf))
    if lonely.shape[0]:
        constraints.append(LinearConstraint(lonely, 0.0, np.inf))
    if cuts:
        constraints.append(LinearConstraint(sp.csr_array(np.vstack(cuts).astype(float)), 1.0, np.inf))
    if not constraints or not free.any():
        return fixed | (free & (cost < 0))
    res = milp(
        cost,
        integrality=np.ones(n),
        bounds=Bounds(lb, ub),
        constraints=constraints,
        options={"time_limit": time_limit_s, "disp": False},
    )
    if res.x is None:  # no solution within the time limit: hide every free cell that helps
        helps = np.zeros(n, dtype=bool)
        helps[np.unique(a.tocoo().col)] = True
        return fixed | (free & helps)
    return fixed | (free & (res.x > 0.5))


def _fallback(
    hidden: np.ndarray,
    exposed: np.ndarray,
    free: np.ndarray,
    cost: np.ndarray,
    members: dict[int, set[int]],
    audit: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Last resort: hide every free cell linked (through any chain of relations) to an exposed
    primary, the most an attacker can be denied; then give back, dearest first, the cells the
    audit does not need (at most ``MAX_GIVE_BACK`` tries). Keeps ``hidden`` if even that fails.
    """
    linked = np.zeros(len(hidden), dtype=bool)
    todo = [int(p) for p in np.flatnonzero(exposed)]
    while todo:
        c = todo.pop()
        if linked[c]:
            continue
        linked[c] = True
        todo.extend(k for k in members.get(c, ()) if not linked[k])
    trial = hidden | (free & linked)
    short_up, short_down = audit(trial)
    if (short_up | short_down).any():
        return hidden, exposed
    extra = np.flatnonzero(trial & ~hidden)
    for c in extra[np.argsort(-cost[extra], kind="stable")][:MAX_GIVE_BACK]:
        trial[c] = False
        short_up, short_down = audit(trial)
        if (short_up | short_down).any():
            trial[c] = True
    return trial, np.zeros(len(hidden), dtype=bool)


def protect(
    values: Sequence[float] | np.ndarray,
    primary: Sequence[bool] | np.ndarray,
    relations: Sequence[Relation],
    policy: DisclosurePolicy,
    *,
    lower: Sequence[float] | np.ndarray | float | None = None,
    upper: Sequence[float] | np.ndarray | float | None = None,
    cost: Sequence[float] | np.ndarray | None = None,
    candidates: Sequence[bool] | np.ndarray | None = None,
    time_limit_s: float = 10.0,
) -> Protection:
    """Hide ``primary`` cells and the fewest-cost secondary cells that protect them.

    Parameters
    ----------
    values
        Each cell's count (floats allowed).
    primary
        Cells that must be hidden (usually ``policy.hidden(values)``).
    relations
        Linear relations between cells that the attacker knows (in count space).
    policy
        Gives the protection interval (``policy.protection_level``, records on each side).
    lower, upper
        A-priori bounds of a hidden cell (default 1 for a positive value, 0 for zero; +inf).
    cost
        Cost of hiding each cell (default: its value, so the hidden total is minimised); a
        candidate with a negative cost is always hidden, without needing protection itself.
    candidates
        Cells that may be hidden as secondaries (default: value > 0).
    time_limit_s
        Time limit of each integer program.

    Returns
    -------
    Protection
        ``safe`` is False when some primary stays exposed after the last round (for example
        when no candidate can protect it); the caller decides what else to withhold.
    """
    x = np.asarray(values, dtype=float)
    prim = np.asarray(primary, dtype=bool)
    if prim.shape != x.shape:
        raise ValueError(f"primary has shape {prim.shape}, values {x.shape}")
    _check_relations(relations, len(x))
    lo, hi = _prior(x, lower, upper)
    costs = x.copy() if cost is None else np.asarray(cost, dtype=float)
    cand = (x > 0) if candidates is None else np.asarray(candidates, dtype=bool)
    free = cand & ~prim
    up, down = _needs(x, lo, hi, float(policy.protection_level))
    scale: dict[tuple[int, int], float] = {}
    cuts: list[np.ndarray] = []
    members: dict[int, set[int]] = {}
    for r in relations:
        cells = {int(c) for c, a in zip(r.cells, r.coefs, strict=True) if a != 0}
        for c in cells:
            members.setdefault(c, set()).update(cells)
    lonely = _lonely(relations, prim | free)
    hidden = prim.copy()
    exposed = np.zeros(len(x), dtype=bool)

    def audit(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        low, high = _intervals(x, mask, relations, lo, hi, prim)
        return prim & (high < x + up - TOLERANCE), prim & (low > x - down + TOLERANCE)

    for _ in range(MAX_ROUNDS):
        a, need = _rows(x, prim, relations, lo, hi, up, down, scale)
        hidden = _choose(a, need, prim, free, costs, cuts, lonely, time_limit_s)
        short_up, short_down = audit(hidden)
        exposed = short_up | short_down
        if not exposed.any():
            break
        added = False
        groups = _components(len(x), hidden, relations)
        group = np.full(len(x), -1)
        for k, (group_cells, _) in enumerate(groups):
            group[group_cells] = k
        for p in map(int, np.flatnonzero(exposed)):
            for side, short in ((1, short_up), (-1, short_down)):
                if short[p]:
                    scale[(p, side)] = 2.0 * scale.get((p, side), 1.0)
            # at least one more cell next to p's group of linked hidden cells
            near = np.zeros(len(x), dtype=bool)
            for c in groups[group[p]][0]:
                near[sorted(members.get(c, ()))] = True
            near &= free & ~hidden
            if near.any():
                cuts.append(near)
                added = True
        if not added:
            break
    if exposed.any():
        hidden, exposed = _fallback(hidden, exposed, free, costs, members, audit)
    low_all, high_all = _intervals(x, hidden, relations, lo, hi, hidden)
    return Protection(hidden=hidden, secondary=hidden & ~prim, lower=low_all, upper=high_all, safe=not exposed.any())
