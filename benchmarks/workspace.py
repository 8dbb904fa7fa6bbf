"""Benchmark: the planner's workspace, evaluating an edited plan and re-solving after an edit.

A synthetic city (``--side-km`` square, demand clustered around hot spots plus a uniform
background, harm-like weights) with ``--demand`` demand points and a proposal of ``--sites``
sites, radius ``--radius`` m. It prints, in one run:

* **evaluation** (what ``POST /workspace/evaluate`` does after each edit): the median time of
  :meth:`geoprio.placement.CoverageEvaluator.evaluate` on the edited proposal (the demand's
  KD-tree built once, as the API caches it), its time with the tree built too, and two peers
  measured on the same proposal: the sparse coverage matrix of
  :func:`geoprio.placement.coverage_matrix` (what a plan builds) and a dense numpy distance
  evaluation in blocks (spopt's cost-matrix approach); the covered weights must match;
* **re-solve after an edit** (what ``POST /workspace/complete`` runs in a job): the proposal's
  first sites locked (existing), an area excluded, ``--p`` new sites chosen on a candidate
  grid with :func:`geoprio.placement.maximize_coverage`; time, objective, bound and gap.

Usage::

    python benchmarks/workspace.py                # 2,000 sites × 40,000 demand points (issue 18's size)
    python benchmarks/workspace.py --quick        # 200 × 4,000, seconds
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from geoprio.placement import CoverageEvaluator, CoverageProblem, coverage_counts, coverage_matrix, maximize_coverage


def city(n: int, side_m: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Demand: 70 % around 30 hot spots, 30 % uniform; weights like harm (1 to 20)."""
    hot = rng.uniform(0.1 * side_m, 0.9 * side_m, size=(30, 2))
    k = int(0.7 * n)
    clustered = hot[rng.integers(0, 30, k)] + rng.normal(0, side_m / 40, size=(k, 2))
    xy = np.clip(np.vstack([clustered, rng.uniform(0, side_m, size=(n - k, 2))]), 0, side_m)
    return xy, rng.choice([1.0, 2.0, 5.0, 20.0], size=n, p=[0.6, 0.25, 0.1, 0.05])


def dense_covered(demand: np.ndarray, w: np.ndarray, sites: np.ndarray, existing: np.ndarray, r: float, block: int = 4000) -> float:
    """The peer: covered weight from dense distances, demand in blocks."""
    covered = np.zeros(len(demand), dtype=bool)
    facilities = np.vstack([sites, existing])
    for a in range(0, len(demand), block):
        d = demand[a : a + block]
        dist2 = ((d[:, None, :] - facilities[None, :, :]) ** 2).sum(axis=2)
        covered[a : a + block] = (dist2 <= r * r).any(axis=1)
    return float(w[covered].sum())


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demand", type=int, default=40_000)
    ap.add_argument("--sites", type=int, default=2_000)
    ap.add_argument("--radius", type=float, default=100.0)
    ap.add_argument("--side-km", type=float, default=12.0)
    ap.add_argument("--p", type=int, default=100, help="new sites of the re-solve")
    ap.add_argument("--grid", type=float, default=150.0, help="candidate grid spacing of the re-solve (m)")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="200 sites × 4,000 demand points, p=20")
    args = ap.parse_args()
    if args.quick:
        args.demand, args.sites, args.side_km, args.p, args.repeat = 4_000, 200, 4.0, 20, 5
    rng = np.random.default_rng(args.seed)
    side = args.side_km * 1000
    demand, w = city(args.demand, side, rng)
    sites = demand[rng.choice(len(demand), args.sites, replace=False)] + rng.normal(0, 30, size=(args.sites, 2))
    existing = rng.uniform(0, side, size=(max(1, args.sites // 10), 2))
    r = args.radius
    print(f"workspace benchmark: {args.sites:,} sites × {args.demand:,} demand points, radius {r:g} m, {args.side_km:g} km city")

    evaluator = CoverageEvaluator(demand, w)
    edited = sites.copy()
    edited[0] += 40.0  # the edit: one site dragged 40 m

    t_eval, ev = median_time(lambda: evaluator.evaluate(edited, radius_m=r, existing_xy=existing), args.repeat)
    t_greedy, _ = median_time(lambda: evaluator.evaluate(edited, radius_m=r, existing_xy=existing, order="greedy"), args.repeat)
    t_cold, _ = median_time(lambda: CoverageEvaluator(demand, w).evaluate(edited, radius_m=r, existing_xy=existing), args.repeat)

    def sparse() -> float:
        counts = np.asarray(coverage_matrix(demand, edited, r).sum(axis=1)).ravel() + coverage_counts(demand, existing, r)
        return float(w[counts >= 1].sum())

    t_sparse, sparse_w = median_time(sparse, max(3, args.repeat // 3))
    t_dense, dense_w = median_time(lambda: dense_covered(demand, w, edited, existing, r), 3)
    covered = ev.covered_weight  # type: ignore[attr-defined]
    match = "MATCH" if np.isclose(covered, sparse_w) and np.isclose(covered, dense_w) else "MISMATCH"
    print(f"  evaluate (tree cached, given order)   {t_eval * 1000:8.1f} ms   covered share {ev.covered_share:.4f}")  # type: ignore[attr-defined]
    print(f"  evaluate (tree cached, greedy order)  {t_greedy * 1000:8.1f} ms")
    print(f"  evaluate (tree built each time)       {t_cold * 1000:8.1f} ms")
    print(f"  peer: sparse coverage matrix          {t_sparse * 1000:8.1f} ms   ratio {t_sparse / t_eval:6.1f}×")
    print(f"  peer: dense numpy distances           {t_dense * 1000:8.1f} ms   ratio {t_dense / t_eval:6.1f}×")
    print(f"  covered weight {covered:,.1f} (sparse {sparse_w:,.1f}, dense {dense_w:,.1f}): {match}")
    print(f"  goal ≤ 100 ms: {'met' if t_eval <= 0.1 else 'NOT met'}")

    # re-solve after an edit: 10 % of the proposal locked, a 1 km square excluded, p new sites on a grid
    locked = edited[: max(1, args.sites // 10)]
    g = np.arange(args.grid / 2, side, args.grid)
    grid = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    centre = side / 2
    allowed = ~((np.abs(grid[:, 0] - centre) < 500) & (np.abs(grid[:, 1] - centre) < 500))
    cand = grid[allowed]
    t0 = time.perf_counter()
    problem = CoverageProblem.from_points(demand, cand, radius_m=r, weights=w, existing_xy=np.vstack([existing, locked]))
    t_build = time.perf_counter() - t0
    result = maximize_coverage(problem, p=args.p, time_limit_s=args.time_limit)
    t_solve = time.perf_counter() - t0 - t_build
    print(
        f"  re-solve: {len(locked)} locked + {len(existing)} existing, {int((~allowed).sum())} candidates excluded, "
        f"{len(cand):,} candidates, p={args.p}"
    )
    print(
        f"    build {t_build:.2f} s, solve {t_solve:.2f} s ({result.solver}, {result.status}); "
        f"objective {result.objective:,.1f}, bound {result.bound:,.1f}, gap {result.gap:.4%}"
    )


if __name__ == "__main__":
    main()
