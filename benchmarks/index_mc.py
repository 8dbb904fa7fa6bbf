"""Benchmark: the index's Monte Carlo rank-stability analysis.

The issue's goal: 1,000 draws over 120 zones "well under a second". The peer is the
straightforward way to do the same analysis: one PriorityIndex fit per draw (fresh
weights, a normalization picked at random), ranks collected in a loop. Both run here, on
the same data, in the same process, and the script prints their times and the ratio.

    python benchmarks/index_mc.py [--zones 120] [--indicators 8] [--draws 1000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from geoprio.index.estimator import NORMALIZATIONS, PriorityIndex


def loop_peer(X: pd.DataFrame, n_draws: int, spread: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ranks = np.empty((len(X), n_draws), dtype=np.int64)
    for d in range(n_draws):
        w = rng.uniform(1 - spread, 1 + spread, X.shape[1])
        norm = NORMALIZATIONS[rng.integers(0, len(NORMALIZATIONS))]
        m = PriorityIndex(normalization=norm, weights=dict(zip(X.columns, w, strict=True))).fit(X)
        ranks[:, d] = m.rank_.to_numpy()
    return ranks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", type=int, default=120)
    ap.add_argument("--indicators", type=int, default=8)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.gamma(1.5, 20, size=(args.zones, args.indicators)),
        columns=[f"i{j}" for j in range(args.indicators)],
        index=[f"z{i}" for i in range(args.zones)],
    )
    model = PriorityIndex().fit(X)
    best = min(_timed(lambda: model.robustness(n_draws=args.draws, random_state=1)) for _ in range(args.repeat))
    peer = _timed(lambda: loop_peer(X, args.draws, 0.5, 1))
    print(f"cores: {os.cpu_count()}; zones: {args.zones}; indicators: {args.indicators}; draws: {args.draws}")
    print(f"{'method':<34}{'seconds':>10}")
    print(f"{'geoprio robustness (vectorized)':<34}{best:>10.4f}")
    print(f"{'peer: one fit per draw (loop)':<34}{peer:>10.4f}")
    print(f"ratio (peer / geoprio): {peer / best:.1f}×")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
