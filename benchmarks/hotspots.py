"""Benchmark: density clusters on a million points and Gi* on 100,000–160,000 cells, against their peers.

Every measurement runs in its own subprocess so that its peak memory (``ru_maxrss``) is
its own; "Δ MB" is the peak minus the process's memory once the data are built.

* DBSCAN: geoprio's :func:`geoprio.hotspots.clusters.dbscan` (grid engine with numba, and
  the KD-tree engine that runs without it) against scikit-learn's ``DBSCAN`` (same eps and
  min_samples; same noise and core clusters);
* HDBSCAN: geoprio's default engine ``"knn"`` (:mod:`geoprio.hotspots.clusters_mst`: the
  minimum spanning tree from a k-nearest-neighbour graph of the unique locations), the
  ``fast_hdbscan`` package (exact tree) and the ``hdbscan`` package as it runs by default
  (``approx_min_span_tree=True``, geoprio's default engine before issue 20) against
  scikit-learn's ``HDBSCAN`` (only at ``--sk-hdbscan-points``, it is far slower), with the
  adjusted Rand index between them;
* Gi*: :func:`geoprio.hotspots.gistar.gi_star` (analytic, distance band) against esda's
  ``G_Local(..., transform="B", star=True, permutations=0)`` (z-scores must agree to 1e-8),
  and the permutation test (999 draws, ``--perm-cells``) against esda's with numba (compile
  time apart) and without it, with the agreement of the pseudo p-values (Monte Carlo bound)
  and of the 95 % classes. numba's compile time for geoprio is shown once (empty cache).

Each goal of issue 20 is printed beside its peer.

    python benchmarks/hotspots.py            # 1,000,000 points, 100,000 / 160,000 cells
    python benchmarks/hotspots.py --quick    # small sizes (CI)
    python benchmarks/hotspots.py --only gistar --numpy-fallback
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def city_points(n: int, seed: int = 0) -> np.ndarray:
    """``n`` seeded points over 20 × 20 km: 60 % in 300 Gaussian hot spots (σ 60–250 m, each with
    0.1–0.5 % of the points), 40 % uniform. At a million points a point has 286 others within
    100 m on average (up to 2,500 in the densest spots): 286 million neighbour pairs.
    """
    rng = np.random.default_rng(seed)
    k = 300
    centres = rng.uniform(1000, 19000, (k, 2))
    sigma = rng.uniform(60, 250, k)
    weight = rng.uniform(1, 5, k)
    n_hot = int(0.6 * n)
    src = rng.choice(k, n_hot, p=weight / weight.sum())
    hot = centres[src] + rng.standard_normal((n_hot, 2)) * sigma[src, None]
    bg = rng.uniform(0, 20000, (n - n_hot, 2))
    return np.round(np.vstack([hot, bg]), 1)  # coordinates to 10 cm, as exports round them


def grid_cells(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """About ``n`` square cells of 100 m and Poisson counts with hot corners."""
    side = int(np.ceil(np.sqrt(n)))
    gx, gy = np.meshgrid(np.arange(side) * 100.0, np.arange(side) * 100.0)
    xy = np.column_stack([gx.ravel(), gy.ravel()])[:n]
    rng = np.random.default_rng(seed)
    lam = 0.5 + 4 * np.exp(-(((xy[:, 0] - 0.3 * side * 100) ** 2 + (xy[:, 1] - 0.6 * side * 100) ** 2) / (2 * (side * 15.0) ** 2)))
    return xy, rng.poisson(lam).astype(float)


# --------------------------------------------------------------------------- workers


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(task: str, size: int, labels_out: str | None) -> dict:
    from geoprio.hotspots.clusters import DensityClusters

    if task.startswith("gistar") or task.startswith("esda"):
        xy, y = grid_cells(size)
        if "perm" in task:
            # counts plus a jitter below 0.001: no ties, where esda's fold and geoprio's tie rule
            # differ by design (see geoprio.hotspots.gistar); the same values for both
            y = y + np.random.default_rng(7).uniform(0, 1e-3, len(y))
    else:
        X = city_points(size)
    base = _rss_mb()
    extra: dict = {}
    t0 = time.perf_counter()
    if task == "dbscan-geoprio":
        DensityClusters(method="dbscan", eps_m=100, min_samples=5).fit(X[:1000])  # compile or load
        extra["first_call_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = DensityClusters(method="dbscan").fit(X)
        labels = model.labels_
        extra["params"] = model.params_
    elif task == "dbscan-sklearn":
        from sklearn.cluster import DBSCAN

        eps, min_samples = float(os.environ["BENCH_EPS"]), float(os.environ["BENCH_MIN_SAMPLES"])
        model = DBSCAN(eps=eps, min_samples=int(round(min_samples))).fit(X)
        labels = model.labels_
        if labels_out:
            np.save(labels_out.replace(".npy", "-core.npy"), model.core_sample_indices_)
    elif task == "hdbscan-knn":
        DensityClusters(method="hdbscan", engine="knn", min_cluster_size=20).fit(X[:2000])  # compile or load
        extra["first_call_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = DensityClusters(method="hdbscan", engine="knn").fit(X)
        labels = model.labels_
        extra["params"] = model.params_
    elif task == "hdbscan-pkg":
        model = DensityClusters(method="hdbscan", engine="hdbscan").fit(X)  # approx_min_span_tree=True
        labels = model.labels_
        extra["params"] = model.params_
    elif task == "hdbscan-fast":
        DensityClusters(method="hdbscan", engine="fast_hdbscan", min_cluster_size=20).fit(X[:2000])  # compile or load
        extra["first_call_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = DensityClusters(method="hdbscan", engine="fast_hdbscan").fit(X)
        labels = model.labels_
    elif task == "dbscan-kdtree":
        from geoprio.hotspots.clusters import dbscan

        labels = dbscan(X, eps_m=float(os.environ["BENCH_EPS"]), min_samples=float(os.environ["BENCH_MIN_SAMPLES"]), engine="kdtree")
    elif task == "hdbscan-sklearn":
        model = DensityClusters(method="hdbscan", engine="sklearn").fit(X)
        labels = model.labels_
    elif task == "gistar-geoprio":
        from geoprio.hotspots.gistar import distance_band_weights, gi_star

        w = distance_band_weights(xy, distance_m=150)
        extra["weights_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        labels = gi_star(y, w).z
    elif task in ("gistar-perm", "gistar-perm-numpy", "gistar-perm-cold"):
        from geoprio.hotspots.gistar import distance_band_weights, gi_star

        w = distance_band_weights(xy, distance_m=150)
        t0 = time.perf_counter()
        gi_star(y[:200], distance_band_weights(xy[:200], distance_m=150), permutations=9, random_state=1)  # compile or load
        extra["first_call_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = gi_star(y, w, permutations=999, random_state=1, fdr=False)
        labels = np.column_stack([r.p_sim, r.z])
    elif task in ("esda-perm", "esda-perm-nonumba"):
        import warnings

        if task == "esda-perm-nonumba":
            sys.modules["numba"] = None  # type: ignore[assignment]  # esda falls back to its pure-Python loops
        import esda
        from libpysal.graph import Graph

        from geoprio.hotspots.gistar import distance_band_weights

        warnings.filterwarnings("ignore", category=DeprecationWarning)
        g = Graph.from_sparse(distance_band_weights(xy, distance_m=150).tocsr())
        small = Graph.from_sparse(distance_band_weights(xy[:200], distance_m=150).tocsr())
        t0 = time.perf_counter()
        esda.G_Local(y[:200], small, transform="B", star=True, permutations=9, seed=1)  # numba compiles here
        extra["first_call_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = esda.G_Local(y, g, transform="B", star=True, permutations=999, seed=1)
        labels = np.column_stack([r.p_sim, r.Zs])
    elif task == "esda":
        import esda
        from libpysal.graph import Graph

        from geoprio.hotspots.gistar import distance_band_weights

        g = Graph.from_sparse(distance_band_weights(xy, distance_m=150).tocsr())
        t0 = time.perf_counter()
        labels = esda.G_Local(y, g, transform="B", star=True, permutations=0).Zs
    else:
        raise SystemExit(f"unknown task {task}")
    seconds = time.perf_counter() - t0
    if labels_out:
        np.save(labels_out, np.asarray(labels))
    n_clusters = int(np.max(labels) + 1) if not task.startswith(("gistar", "esda")) and len(labels) else None
    from geoprio.hotspots.accel import numba_enabled

    extra["numba"] = numba_enabled() and os.environ.get("NUMBA_DISABLE_JIT", "0") != "1"
    return {
        "task": task,
        "size": size,
        "seconds": seconds,
        "peak_mb": _rss_mb(),
        "delta_mb": _rss_mb() - base,
        "clusters": n_clusters,
        **extra,
    }


def run(task: str, size: int, tmp: Path, timeout: float, env: dict | None = None) -> dict:
    out = tmp / f"{task}-{size}.npy"
    cmd = [sys.executable, __file__, "--worker", task, "--size", str(size), "--labels-out", str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, check=False)
    except subprocess.TimeoutExpired:
        return {"task": task, "size": size, "failed": f"timeout after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["killed"]
        return {"task": task, "size": size, "failed": f"exit {proc.returncode}: {tail[0][:120]}"}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["labels"] = np.load(out)
    return res


def _line(name: str, r: dict) -> str:
    if "failed" in r:
        return f"{name:<40}{r['size']:>11,}  {r['failed']}"
    k = "" if r.get("clusters") is None else f"{r['clusters']:>9,}"
    return f"{name:<40}{r['size']:>11,}{r['seconds']:>10.2f}{r['peak_mb']:>10.0f}{r['delta_mb']:>10.0f}{k}"


def _goal(text: str, seconds: float, limit: float, ratio: float | None = None, min_ratio: float | None = None) -> str:
    ok = seconds <= limit and (ratio is None or min_ratio is None or ratio >= min_ratio)
    peer = "" if ratio is None else f", {ratio:.1f}× the peer" + ("" if min_ratio is None else f" (goal ≥ {min_ratio:g}×)")
    return f"  GOAL {text}: {seconds:.2f} s (goal ≤ {limit:g} s){peer}: {'met' if ok else 'NOT met'}"


def _dbscan(args: argparse.Namespace, tmp: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    ours = run("dbscan-geoprio", args.points, tmp, args.timeout)
    print(_line("geoprio DBSCAN (grid, weighted unique)", ours), flush=True)
    if "failed" in ours:
        return
    if "first_call_seconds" in ours:
        print(f"  first call in the process (numba: {ours.get('numba')}; cache load or compile): {ours['first_call_seconds']:.2f} s")
    env = {"BENCH_EPS": str(ours["params"]["eps_m"]), "BENCH_MIN_SAMPLES": str(ours["params"]["min_samples"])}
    kd = run("dbscan-kdtree", args.points, tmp, args.timeout, env)
    print(_line("geoprio DBSCAN (KD-tree, no numba)", kd), flush=True)
    peer = run("dbscan-sklearn", args.points, tmp, args.timeout, env)
    print(_line("peer: scikit-learn DBSCAN", peer), flush=True)
    if "failed" in peer:
        return
    a, b = ours["labels"], peer["labels"]
    core = np.zeros(len(b), dtype=bool)
    core[np.load(tmp / f"dbscan-sklearn-{args.points}-core.npy")] = True
    same_noise = np.array_equal(a >= 0, b >= 0)
    same_core = adjusted_rand_score(a[core], b[core]) == 1.0
    # a border point within eps of two clusters may join either (DBSCAN leaves it open):
    # the labellings may differ only there
    m = a >= 0
    pairs = np.unique(np.column_stack([a[m & core], b[m & core]]), axis=0)
    mapping = dict(zip(pairs[:, 0], pairs[:, 1], strict=True))
    moved = int(sum(mapping.get(x) != y for x, y in zip(a[m & ~core], b[m & ~core], strict=True)))
    ok = same_noise and same_core
    ratio = peer["seconds"] / ours["seconds"]
    print(
        f"  DBSCAN ratio (peer / geoprio): time {ratio:.2f}×, "
        f"memory Δ {peer['delta_mb'] / max(ours['delta_mb'], 1):.1f}×; labels {'match' if ok else 'MISMATCH'} "
        f"(noise {'same' if same_noise else 'DIFFERS'}, core points {'same' if same_core else 'DIFFER'}, "
        f"{moved} border points in another cluster; "
        f"eps {ours['params']['eps_m']:g} m, min_samples {ours['params']['min_samples']:g})"
    )
    if "failed" not in kd:
        same = np.array_equal(kd["labels"] >= 0, a >= 0) and adjusted_rand_score(kd["labels"], a) == 1.0
        speed = kd["seconds"] / ours["seconds"]
        print(f"  grid and KD-tree engines: partitions {'identical' if same else 'DIFFERENT'}; grid {speed:.1f}× faster")
    print(_goal(f"DBSCAN on {args.points:,} points", ours["seconds"], 5.0, ratio, 5.0))


def _hdbscan(args: argparse.Namespace, tmp: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    try:
        import hdbscan  # noqa: F401

        have_hdbscan = True
    except ImportError:
        have_hdbscan = False
    try:
        import fast_hdbscan  # noqa: F401

        have_fast = True
    except ImportError:
        have_fast = False
    n_sk = min(args.sk_hdbscan_points, args.points)
    sizes = sorted({args.points, min(args.hdbscan_points, args.points), n_sk}, reverse=True)
    res: dict[tuple[str, int], dict] = {}
    names = {"knn": "geoprio knn tree (default)", "fast": "fast_hdbscan (exact tree)", "pkg": "hdbscan package (approx tree)"}
    for n in sizes:
        if have_hdbscan or have_fast:
            res["knn", n] = run("hdbscan-knn", n, tmp, args.timeout)
            print(_line("HDBSCAN, " + names["knn"], res["knn", n]), flush=True)
        if have_fast:
            res["fast", n] = run("hdbscan-fast", n, tmp, args.timeout)
            print(_line("HDBSCAN, " + names["fast"], res["fast", n]), flush=True)
        if have_hdbscan and (n != args.points or not args.skip_slow):
            res["pkg", n] = run("hdbscan-pkg", n, tmp, args.timeout)
            print(_line("HDBSCAN, " + names["pkg"], res["pkg", n]), flush=True)
    res["sk", n_sk] = hs = run("hdbscan-sklearn", n_sk, tmp, args.timeout)
    print(_line("peer: scikit-learn HDBSCAN", hs), flush=True)
    for n in sizes:
        k = res.get(("knn", n), {"failed": 1})
        for other in ("fast", "pkg"):
            o = res.get((other, n), {"failed": 1})
            if "failed" not in k and "failed" not in o:
                ari = adjusted_rand_score(k["labels"], o["labels"])
                print(f"  at {n:,} points: knn tree {o['seconds'] / k['seconds']:.1f}× faster than {names[other]}; ARI {ari:.4f}")
        f, h = res.get(("fast", n), {"failed": 1}), res.get(("pkg", n), {"failed": 1})
        if "failed" not in f and "failed" not in h:
            ari = adjusted_rand_score(f["labels"], h["labels"])
            print(f"  at {n:,} points: ARI fast_hdbscan (exact) against the hdbscan package (approx) {ari:.4f}")
    k_small = res.get(("knn", n_sk), {"failed": 1})
    if "failed" not in hs and "failed" not in k_small:
        ari = adjusted_rand_score(k_small["labels"], hs["labels"])
        ratio = hs["seconds"] / k_small["seconds"]
        print(f"  HDBSCAN ratio at {n_sk:,} points (scikit-learn / geoprio knn): {ratio:.1f}×; ARI between them {ari:.4f}")
    for n, limit in sorted({(args.points, 30.0), (min(args.hdbscan_points, args.points), 5.0)}, reverse=True):
        k = res.get(("knn", n), {"failed": 1})
        if "failed" not in k:
            print(_goal(f"HDBSCAN on {n:,} points (default engine, knn tree)", k["seconds"], limit))


def _gistar(args: argparse.Namespace, tmp: Path) -> None:
    g = run("gistar-geoprio", args.cells, tmp, args.timeout)
    print(_line("geoprio Gi* (analytic)", g), flush=True)
    e = run("esda", args.cells, tmp, args.timeout)
    print(_line("peer: esda G_Local (analytic)", e), flush=True)
    if "failed" not in g and "failed" not in e:
        diff = float(np.nanmax(np.abs(g["labels"] - e["labels"])))
        verdict = "match" if diff < 1e-8 else "MISMATCH"
        ratio = e["seconds"] / g["seconds"]
        print(f"  Gi* ratio (esda / geoprio): {ratio:.1f}×; max |Δz| {diff:.1e} ({verdict}); same weights, built beforehand")
        print(f"  geoprio's distance-band weights for {args.cells:,} cells: {g['weights_seconds']:.2f} s")
    n = args.perm_cells
    p = run("gistar-perm", n, tmp, args.timeout)
    print(_line("geoprio Gi* 999 permutations", p), flush=True)
    cold = run("gistar-perm-cold", min(n, 2000), tmp, args.timeout, {"NUMBA_CACHE_DIR": str(tmp / "numba-cold")})
    if "failed" not in cold and cold.get("numba"):
        print(f"  numba compile time (empty cache, once per installation): {cold['first_call_seconds']:.2f} s")
    if args.numpy_fallback:
        f = run("gistar-perm-numpy", n, tmp, args.timeout, {"GEOPRIO_NO_NUMBA": "1"})
        print(_line("geoprio Gi* 999 permutations, numpy", f), flush=True)
        if "failed" not in f and "failed" not in p:
            same = np.array_equal(f["labels"][:, 0], p["labels"][:, 0])
            print(f"  numpy fallback: p-values {'identical' if same else 'DIFFERENT'} to the compiled ones")
    peers = []
    try:
        import numba  # noqa: F401

        # esda compiles its numba kernels in every process (60–90 s here, not cached): full runs only
        if n >= 50_000:
            peers.append(("esda-perm", "peer: esda 999 permutations (numba)", {}))
    except ImportError:
        pass
    peers.append(("esda-perm-nonumba", "peer: esda 999 permutations (no numba)", {}))
    goal_ratio = None
    for task, name, env in peers:
        e = run(task, n, tmp, args.timeout, env)
        print(_line(name, e), flush=True)
        if "failed" in e or "failed" in p:
            continue
        if task == "esda-perm":
            print(f"  esda's numba compile (first call in the process): {e['first_call_seconds']:.2f} s, not counted")
        ratio = e["seconds"] / p["seconds"]
        goal_ratio = ratio if goal_ratio is None else goal_ratio  # against esda as installed (numba first)
        pg, pe = p["labels"][:, 0], e["labels"][:, 0]
        pbar = (pg + pe) / 2
        bound = 5 * np.sqrt(2 * pbar * (1 - pbar) / 1000) + 2 / 1000
        within = float(np.mean(np.abs(pg - pe) <= bound))
        cls_g = np.sign(p["labels"][:, 1]) * (pg < 0.025)
        cls_e = np.sign(e["labels"][:, 1]) * (pe < 0.025)
        print(
            f"  ratio (esda / geoprio): {ratio:.1f}×; pseudo p-values within 5 Monte Carlo standard errors: {100 * within:.2f} % "
            f"of cells (median |Δp| {np.median(np.abs(pg - pe)):.4f}); hot/cold at 95 % equal in {100 * np.mean(cls_g == cls_e):.2f} % "
            f"({int((cls_g != 0).sum()):,} vs {int((cls_e != 0).sum()):,} significant)"
        )
    if "failed" not in p:
        print(_goal(f"Gi* 999 permutations on {n:,} cells", p["seconds"], 3.0, goal_ratio, 8.0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--perm-cells", type=int, default=160_000, help="cells of the permutation test")
    ap.add_argument("--hdbscan-points", type=int, default=200_000, help="second HDBSCAN size (goal: 5 s)")
    ap.add_argument("--sk-hdbscan-points", type=int, default=100_000, help="points for scikit-learn's HDBSCAN (slow)")
    ap.add_argument("--numpy-fallback", action="store_true", help="also time the permutation test without numba")
    ap.add_argument("--skip-slow", action="store_true", help="skip the hdbscan package at --points (about 2 minutes at a million)")
    ap.add_argument("--quick", action="store_true", help="small sizes, for CI")
    ap.add_argument("--only", choices=("dbscan", "hdbscan", "gistar"), action="append", help="run only these parts (repeatable)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--labels-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size, args.labels_out), default=str))
        return
    if args.quick:
        args.points, args.cells, args.perm_cells = 8000, 3000, 3000
        args.hdbscan_points = args.sk_hdbscan_points = 8000
    elif args.perm_cells == ap.get_default("perm_cells") and args.cells != ap.get_default("cells"):
        args.perm_cells = args.cells  # a short run sized by --cells stays short
    if args.hdbscan_points == ap.get_default("hdbscan_points") and args.points < args.hdbscan_points:
        args.hdbscan_points = args.points

    print(f"cores: {os.cpu_count()}; points: {args.points:,}; cells: {args.cells:,}; python {sys.version.split()[0]}")
    print(f"{'method':<40}{'n':>11}{'seconds':>10}{'peak MB':>10}{'Δ MB':>10}{'clusters':>9}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, part in (("dbscan", _dbscan), ("hdbscan", _hdbscan), ("gistar", _gistar)):
            if not args.only or name in args.only:
                part(args, tmp)


if __name__ == "__main__":
    main()
