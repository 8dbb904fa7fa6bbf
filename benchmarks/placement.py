"""Benchmark: maximal covering (MCLP) with geoprio vs. PySAL spopt (PuLP + CBC), same instances, same run.

Instances are synthetic "cities" (demand clustered around hot spots plus a uniform background,
harm-like weights, candidate sites uniform over the area, coverage within a radius) at the
issue's sizes, and real demand: Chicago aggravated assaults (148,636 points) or Medellín
homicides from ``../shared/data``.

For each instance it prints time, objective, bound and gap for

* ``geoprio auto``: reduction, greedy, swaps, Lagrangian bound, then HiGHS (full MILP and
  neighbourhood search in child processes) to the time limit, with the time at which the
  plan was first proven within 1 % and within the tolerance (0.01 %);
* ``geoprio heuristic``: greedy + swaps + Lagrangian bound only (in-process, deterministic);
* with ``--baseline``, ``auto, no decomp.``: the same run without the decomposition
  by site price (HiGHS on the full model and neighbourhood search only: the code path before it);
* ``spopt MCLP`` (``from_cost_matrix`` + CBC), run in a child process killed at
  ``--spopt-timeout`` (CBC ignores time limits) and skipped where its dense cost matrix
  would not fit in ``--spopt-max-cells``;

and the ratio of spopt's time to geoprio's time to the proven optimum, with MATCH / MISMATCH
of the optimal objectives (a plan proven within the default 0.01 % tolerance may be below
spopt's exact optimum by at most that much: reported as such).

Usage::

    python benchmarks/placement.py                 # issue sizes + Chicago (takes ~15 min with spopt)
    python benchmarks/placement.py --quick         # a 2,000 × 200 instance with spopt, Medellín (seconds)
    python benchmarks/placement.py --sizes 200000x20000:500 --no-spopt
    python benchmarks/placement.py --sizes 20000x2000:100 --seeds 8 --baseline --no-spopt --no-real   # medians over 8 cities
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import signal
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import geoprio.placement.maximize as maximize_module
from geoprio.placement import CoverageProblem, coverage_matrix, maximize_coverage

ROOT = Path(__file__).resolve().parents[1]
GAP_TOLERANCE = 1e-4  # maximize_coverage's default mip_rel_gap: "proven optimal" means within it
SHARED = ROOT.parent / "shared" / "data"


def city_instance(n_demand: int, n_cand: int, *, radius_m: float = 150.0, seed: int = 0):
    """A synthetic city whose density keeps ~10 candidates per km² per 1,000 demand points scale.

    The side grows with √candidates so every size has about the same candidate spacing
    (≈ 112 m) and coverage overlap.
    """
    rng = np.random.default_rng(seed)
    side = 5000.0 * np.sqrt(n_cand / 2000)
    n_hot = max(5, n_demand // 500)
    centres = rng.uniform(0, side, (n_hot, 2))
    sigma = rng.uniform(100, 600, n_hot)
    k = rng.integers(0, n_hot, int(n_demand * 0.7))
    hot = centres[k] + rng.normal(0, 1, (len(k), 2)) * sigma[k, None]
    background = rng.uniform(0, side, (n_demand - len(k), 2))
    demand = np.clip(np.vstack([hot, background]), 0, side)
    weights = rng.choice([16.0, 16.0, 32.0, 32.0, 48.0, 208.0], n_demand)  # harm-like (months of prison)
    cand = rng.uniform(0, side, (n_cand, 2))
    return demand, cand, weights, radius_m


# --------------------------------------------------------------------------- spopt in a killable child


def _spopt_child(conn, demand, cand, weights, radius, p):  # pragma: no cover - child process
    os.setsid()  # own process group: the parent can kill CBC with us
    warnings.simplefilter("ignore")
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    cost = cdist(demand, cand)
    model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p)
    t_build = time.perf_counter() - t0
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    conn.send({"build_s": t_build, "total_s": time.perf_counter() - t0, "objective": float(model.problem.objective.value())})


def run_spopt(demand, cand, weights, radius, p, timeout_s):
    ctx = mp.get_context("spawn")
    a, b = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_spopt_child, args=(b, demand, cand, weights, radius, p), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    out = None
    if a.poll(timeout_s):
        try:
            out = a.recv()
        except EOFError:
            out = None
    if proc.is_alive():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.join(5)
    if out is None:
        return {"status": f"killed after {time.perf_counter() - t0:.0f} s" if proc.exitcode in (None, -9) else f"failed ({proc.exitcode})"}
    out["status"] = "optimal"
    return out


# --------------------------------------------------------------------------- geoprio


def first_time(progress, gap):
    for t, _, obj, bound in progress:
        if bound > 0 and (bound - obj) / bound <= gap:
            return t
    return None


def run_geoprio(problem, p, method, time_limit, *, decomposition=True):
    price = maximize_module.price_from_multipliers
    if not decomposition:  # the code path before the decomposition: no price, so the search worker skips it
        maximize_module.price_from_multipliers = lambda *args, **kwargs: None
    try:
        t0 = time.perf_counter()
        r = maximize_coverage(problem, p=p, method=method, time_limit_s=time_limit)
        wall = time.perf_counter() - t0
    finally:
        maximize_module.price_from_multipliers = price
    prog = r.stats.get("progress", [])
    return {
        "time_s": wall,
        "objective": r.objective,
        "bound": r.bound,
        "gap": r.gap,
        "status": r.status,
        "solver": r.solver,
        "bound_source": r.bound_source,
        "t_gap1": first_time(prog, 0.01),
        "t_opt": first_time(prog, r.parameters["mip_rel_gap"]) if r.status == "optimal" else None,
        "rows": r.stats.get("rows_after_merge"),
        "cols": r.stats.get("columns"),
        "decomposition": r.stats.get("decomposition"),
        "milp_s": r.stats.get("milp_s"),
    }


def fmt_t(v):
    return "—" if v is None else f"{v:.2f}"


def print_row(name, method, res):
    if "objective" not in res:
        print(f"  {name:<28} {method:<18} {res['status']}")
        return
    gap = res.get("gap")
    print(
        f"  {name:<28} {method:<18} time {res.get('time_s', res.get('total_s')):8.2f} s  objective {res['objective']:14,.1f}  "
        f"bound {res.get('bound', float('nan')):14,.1f}  gap {'—' if gap is None else f'{100 * gap:.3f} %':>9}  "
        f"{res['status']:<10} {res.get('solver', 'cbc'):<16} <1% at {fmt_t(res.get('t_gap1'))} s  proven at {fmt_t(res.get('t_opt'))} s"
    )


def print_decomposition(res):
    d = res.get("decomposition")
    if not d:
        return
    parts = [f"price μ = {d['mu']:,.1f}"]
    if "components" in d:
        parts.append(
            f"{d['columns_priced']:,} sites worth more than μ in {d['components']:,} components (largest {d['largest_component']:,})"
        )
    if "z" in d:
        parts.append(f"Z(μ) = {d['z']:,.1f}")
    if "reason" in d:
        parts.append(f"{d['reason']} after {d.get('solves', '?')} component solves, {d['seconds']:.2f} s")
    print(f"  {'':<28} {'':<18} decomposition: " + "; ".join(parts))


def verdict(peer, ours):
    """MATCH when the objectives agree; a plan proven within the gap tolerance may be below the peer's exact optimum."""
    diff = peer["objective"] - ours["objective"]
    if abs(diff) <= 1e-6 * max(1.0, abs(peer["objective"])):
        return "MATCH"
    if ours["status"] != "optimal":
        return "differs (geoprio not proven optimal)"
    if 0 < diff <= GAP_TOLERANCE * ours["bound"] + 1e-6:
        return f"within the {100 * GAP_TOLERANCE:g} % tolerance ({diff:,.1f} below spopt's exact optimum)"
    return "MISMATCH"


def bench_instance(name, demand, cand, weights, radius, p, args, *, summary=None):
    t0 = time.perf_counter()
    problem = CoverageProblem(coverage_matrix(demand, cand, radius), weights)
    build = time.perf_counter() - t0
    print(f"{name}: {len(demand):,} demand × {len(cand):,} candidates, p = {p}, radius {radius:g} m (coverage matrix {build:.2f} s)")
    auto = run_geoprio(problem, p, "auto", args.time_limit)
    print_row(name, "geoprio auto", auto)
    print(f"  {'':<28} {'':<18} reduced model: {auto['rows']:,} rows × {auto['cols']:,} columns")
    print_decomposition(auto)
    base = None
    if args.baseline:
        base = run_geoprio(problem, p, "auto", args.time_limit, decomposition=False)
        print_row(name, "auto, no decomp.", base)
    if summary is not None:
        summary.append((auto, base))
    heur = run_geoprio(problem, p, "heuristic", args.time_limit)
    print_row(name, "geoprio heuristic", heur)
    cells = len(demand) * len(cand)
    if args.no_spopt:
        return
    if cells > args.spopt_max_cells:
        print(f"  {name:<28} {'spopt MCLP (CBC)':<18} skipped: dense {len(demand):,} × {len(cand):,} matrix exceeds --spopt-max-cells")
        return
    sp = run_spopt(demand, cand, weights, radius, p, args.spopt_timeout)
    print_row(name, "spopt MCLP (CBC)", sp)
    if "objective" in sp:
        mine = auto["t_opt"] or auto["time_s"]
        print(
            f"  ratio spopt / geoprio time to optimum: {sp['total_s'] / mine:.1f}×  "
            f"(spopt model build {sp['build_s']:.2f} s); optimum {verdict(sp, auto)}"
        )


def print_medians(name, summary):
    def med(values):
        values = [v for v in values if v is not None]
        return f"{np.median(values):.2f} s" if values else "—"

    def proven(res):
        return res["t_opt"] if res["status"] == "optimal" else None

    def count(runs):
        return f"proven in {sum(r['status'] == 'optimal' for r in runs)}/{len(runs)}"

    autos = [a for a, _ in summary]
    bases = [b for _, b in summary if b is not None]
    line = f"{name}, {len(summary)} seeds — median time to the proven optimum: auto {med([proven(a) for a in autos])} ({count(autos)})"
    if bases:
        line += f"; without the decomposition {med([proven(b) for b in bases])} ({count(bases)})"
    print(line)
    per_seed = f"  per seed, auto: {', '.join(fmt_t(proven(a)) for a in autos)}"
    if bases:
        per_seed += f"; without: {', '.join(fmt_t(proven(b)) for b in bases)}"
    print(per_seed)


def real_chicago(args):
    from geoprio.placement import candidate_grid, coverage_problem, demand_from_points
    from geoprio.records.load import load_points

    path = SHARED / "other_cities" / "chicago_aggravated_assaults.csv.gz"
    if not path.exists():
        print(f"Chicago data not found at {path}: skipped")
        return
    t0 = time.perf_counter()
    rec = load_points(path, bbox=None)
    d = demand_from_points(rec, metric_crs="EPSG:26916", cell_size_m=25)
    sites = candidate_grid(spacing_m=50, near=d.xy, near_m=100, metric_crs="EPSG:26916")
    prob = coverage_problem(d, sites, radius_m=100)
    print(
        f"Chicago aggravated assaults: {len(rec):,} points in {len(d):,} cells of 25 m × {len(sites):,} grid candidates (50 m), "
        f"p = 500, radius 100 m (loading and matrix {time.perf_counter() - t0:.1f} s)"
    )
    auto = run_geoprio(prob, 500, "auto", args.time_limit)
    print_row("Chicago", "geoprio auto", auto)
    print(f"  {'':<28} {'':<18} reduced model: {auto['rows']:,} rows × {auto['cols']:,} columns; covered assaults {auto['objective']:,.0f}")
    print_decomposition(auto)
    heur = run_geoprio(prob, 500, "heuristic", args.time_limit)
    print_row("Chicago", "geoprio heuristic", heur)
    print(f"  spopt MCLP (CBC): skipped (dense {len(d):,} × {len(sites):,} matrix)")


def real_medellin(args):
    from geoprio.placement import candidate_grid, coverage_problem, demand_from_points
    from geoprio.records.load import load_points

    path = SHARED / "medellin" / "medellin_homicides.csv"
    if not path.exists():
        print(f"Medellín data not found at {path}: skipped")
        return
    rec = load_points(path)
    d = demand_from_points(rec)
    sites = candidate_grid(spacing_m=150, near=d.xy, near_m=150)
    prob = coverage_problem(d, sites, radius_m=150)
    print(f"Medellín homicides: {len(d):,} points × {len(sites):,} grid candidates (150 m), p = 50, radius 150 m")
    auto = run_geoprio(prob, 50, "auto", args.time_limit)
    print_row("Medellín", "geoprio auto", auto)
    print_decomposition(auto)
    if args.no_spopt or len(d) * len(sites) > args.spopt_max_cells:
        print(f"  spopt MCLP (CBC): skipped (dense {len(d):,} × {len(sites):,} matrix exceeds --spopt-max-cells)")
    else:
        sp = run_spopt(d.xy, sites.xy, d.weight, 150.0, 50, args.spopt_timeout)
        print_row("Medellín", "spopt MCLP (CBC)", sp)
        if "objective" in sp:
            mine = auto["t_opt"] or auto["time_s"]
            print(f"  ratio spopt / geoprio time to optimum: {sp['total_s'] / mine:.1f}×; optimum {verdict(sp, auto)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small instance with spopt and Medellín only")
    ap.add_argument("--sizes", nargs="*", help="instances as DEMANDxCANDIDATES:P (default the issue's)")
    ap.add_argument("--radius", type=float, default=150.0)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--spopt-timeout", type=float, default=900.0)
    ap.add_argument("--spopt-max-cells", type=float, default=5e7, help="largest demand × candidates for spopt's dense matrix")
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--seeds", type=int, default=1, help="synthetic cities per size (seeds 0, 1, …), with median times")
    ap.add_argument("--baseline", action="store_true", help="also run auto without the decomposition by site price (the previous path)")
    args = ap.parse_args()
    if args.no_spopt is False:
        try:
            import pulp  # noqa: F401
            import spopt  # noqa: F401
        except ImportError:
            print("spopt/pulp not installed: peer skipped (pip install spopt pulp)")
            args.no_spopt = True
    print(f"geoprio placement benchmark — {platform.platform()}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    if args.quick:
        sizes = args.sizes or ["2000x200:20"]
        args.time_limit = min(args.time_limit, 10.0)
        args.spopt_timeout = min(args.spopt_timeout, 120.0)
        args.spopt_max_cells = min(args.spopt_max_cells, 1e6)
    else:
        sizes = args.sizes or ["2000x200:20", "20000x2000:100", "200000x20000:500"]
    for spec in sizes:
        dims, p = spec.split(":")
        nd, nc = (int(v) for v in dims.lower().split("x"))
        summary: list = []
        for seed in range(args.seeds):
            demand, cand, weights, radius = city_instance(nd, nc, radius_m=args.radius, seed=seed)
            tag = f"city {nd:,}×{nc:,}" + (f" seed {seed}" if args.seeds > 1 else "")
            bench_instance(tag, demand, cand, weights, radius, int(p), args, summary=summary)
        if args.seeds > 1:
            print_medians(f"city {nd:,}×{nc:,}", summary)
    if not args.no_real:
        real_medellin(args)
        if not args.quick:
            real_chicago(args)


if __name__ == "__main__":
    main()
