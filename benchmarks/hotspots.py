"""Benchmark: density clusters on a million points and Gi* on 100,000 cells, against their peers.

Every measurement runs in its own subprocess so that its peak memory (``ru_maxrss``) is
its own; "Δ MB" is the peak minus the process's memory once the data are built.

* clusters: geoprio's memory-bounded DBSCAN (:func:`geoprio.hotspots.clusters.dbscan`) against
  scikit-learn's ``DBSCAN`` (same eps and min_samples; labels must agree, adjusted Rand
  index 1); HDBSCAN with the ``hdbscan`` package against scikit-learn's ``HDBSCAN``
  (scikit-learn's only at ``--sk-hdbscan-points``, it is far slower);
* Gi*: :func:`geoprio.hotspots.gistar.gi_star` (analytic, distance band) against esda's
  ``G_Local(..., transform="B", star=True, permutations=0)`` on the same cells and weights
  (z-scores must agree to 1e-8), and the permutation test (999 draws) alone.

    python benchmarks/hotspots.py                               # 1,000,000 points, 100,000 cells
    python benchmarks/hotspots.py --points 20000 --cells 5000   # quick check
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
    else:
        X = city_points(size)
    base = _rss_mb()
    extra: dict = {}
    t0 = time.perf_counter()
    if task == "dbscan-geoprio":
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
    elif task == "hdbscan-pkg":
        model = DensityClusters(method="hdbscan", engine="hdbscan").fit(X)
        labels = model.labels_
        extra["params"] = model.params_
    elif task == "hdbscan-sklearn":
        model = DensityClusters(method="hdbscan", engine="sklearn").fit(X)
        labels = model.labels_
    elif task == "gistar-geoprio":
        from geoprio.hotspots.gistar import distance_band_weights, gi_star

        w = distance_band_weights(xy, distance_m=150)
        extra["weights_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        labels = gi_star(y, w).z
    elif task == "gistar-perm":
        from geoprio.hotspots.gistar import distance_band_weights, gi_star

        w = distance_band_weights(xy, distance_m=150)
        t0 = time.perf_counter()
        labels = gi_star(y, w, permutations=999, random_state=1).p_sim
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
        return f"{name:<34}{r['size']:>11,}  {r['failed']}"
    k = "" if r.get("clusters") is None else f"{r['clusters']:>9,}"
    return f"{name:<34}{r['size']:>11,}{r['seconds']:>10.2f}{r['peak_mb']:>10.0f}{r['delta_mb']:>10.0f}{k}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--sk-hdbscan-points", type=int, default=100_000, help="points for scikit-learn's HDBSCAN (slow)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--labels-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.size, args.labels_out), default=str))
        return

    from sklearn.metrics import adjusted_rand_score

    print(f"cores: {os.cpu_count()}; points: {args.points:,}; cells: {args.cells:,}; python {sys.version.split()[0]}")
    print(f"{'method':<34}{'n':>11}{'seconds':>10}{'peak MB':>10}{'Δ MB':>10}{'clusters':>9}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ours = run("dbscan-geoprio", args.points, tmp, args.timeout)
        print(_line("geoprio DBSCAN (bounded memory)", ours), flush=True)
        if "failed" not in ours:
            env = {"BENCH_EPS": str(ours["params"]["eps_m"]), "BENCH_MIN_SAMPLES": str(ours["params"]["min_samples"])}
            peer = run("dbscan-sklearn", args.points, tmp, args.timeout, env)
            print(_line("peer: scikit-learn DBSCAN", peer), flush=True)
            if "failed" not in peer:
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
                print(
                    f"  DBSCAN ratio (peer / geoprio): time {peer['seconds'] / ours['seconds']:.2f}×, "
                    f"memory Δ {peer['delta_mb'] / max(ours['delta_mb'], 1):.1f}×; labels {'match' if ok else 'MISMATCH'} "
                    f"(noise {'same' if same_noise else 'DIFFERS'}, core points {'same' if same_core else 'DIFFER'}, "
                    f"{moved} border points in another cluster; "
                    f"eps {ours['params']['eps_m']:g} m, min_samples {ours['params']['min_samples']:g})"
                )
        try:
            import hdbscan  # noqa: F401

            have_hdbscan = True
        except ImportError:
            have_hdbscan = False
        if not have_hdbscan:
            print("HDBSCAN: the hdbscan package is not installed; scikit-learn's HDBSCAN alone:")
            print(_line("scikit-learn HDBSCAN", run("hdbscan-sklearn", min(args.sk_hdbscan_points, args.points), tmp, args.timeout)))
        else:
            h = run("hdbscan-pkg", args.points, tmp, args.timeout)
            print(_line("HDBSCAN, hdbscan package", h), flush=True)
            n_sk = min(args.sk_hdbscan_points, args.points)
            h_small = run("hdbscan-pkg", n_sk, tmp, args.timeout) if n_sk != args.points else h
            if n_sk != args.points:
                print(_line("HDBSCAN, hdbscan package", h_small), flush=True)
            hs = run("hdbscan-sklearn", n_sk, tmp, args.timeout)
            print(_line("peer: scikit-learn HDBSCAN", hs), flush=True)
            if "failed" not in hs and "failed" not in h_small:
                ari = adjusted_rand_score(h_small["labels"], hs["labels"])
                ratio = hs["seconds"] / h_small["seconds"]
                print(f"  HDBSCAN ratio at {n_sk:,} points (scikit-learn / hdbscan): {ratio:.1f}×; ARI between them {ari:.3f}")
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
        p = run("gistar-perm", args.cells, tmp, args.timeout)
        print(_line("geoprio Gi* 999 permutations", p), flush=True)


if __name__ == "__main__":
    main()
