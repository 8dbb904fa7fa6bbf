"""Benchmark: fit + forecast time of each forecast method for a year of Chicago aggravated assaults on 150 m cells.

The surfaces of :mod:`geoprio.hotspots.forecast_methods` at one origin (2019-01-01), fitted on
the assaults of 2018 (``--year``) over the concave hull of those points covered by 150 m
cells, each method at every candidate of its hyperparameter grid (what the rolling backtest
computes at each origin), then the whole rolling backtest at the monthly horizon (``--origins``).
Times are the best of ``--repeat`` runs; the ratio is against prior counts measured in the same
run. The peer named by issue 21, open_cp (QuantCrimAtLeeds/PredictCode), is not installable
here (unmaintained, not on PyPI for current Python): there is no peer column.

    python benchmarks/forecast.py              # 2018 → 2019-01-01, 150 m, 12 monthly origins
    python benchmarks/forecast.py --quick      # 100 m → 250 m cells, 3 origins (CI)
    python benchmarks/forecast.py --no-backtest  # the methods at one origin only

The learned model (``learned``) is timed with its hyperparameters' middle candidate, trained on
the periods of the year before the origin (a year of data leaves 11 training periods).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geoprio.hotspots.forecast import ForecastOptions, past_at, rolling_backtest
from geoprio.hotspots.forecast_learned import neighbour_matrix
from geoprio.hotspots.forecast_methods import FORECAST_METHODS, candidate_grid, cell_pairs, forecast_surface
from geoprio.hotspots.grid import make_cells, to_metric
from geoprio.records.load import load_points

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "other_cities" / "chicago_aggravated_assaults.csv.gz"
CRS = "EPSG:32616"  # UTM 16N for Chicago


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--year", type=int, default=2018)
    ap.add_argument("--cell-size-m", type=float, default=150.0)
    ap.add_argument("--origins", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="250 m cells, 3 origins, 1 repeat")
    ap.add_argument("--no-backtest", action="store_true", help="time the methods at one origin only")
    a = ap.parse_args()
    if a.quick:
        a.cell_size_m, a.origins, a.repeat = 250.0, 3, 1
    rec = load_points(DATA, category="loc_cat", bbox=None)
    year = rec.data["date"].astype(str).str[:4] == str(a.year)
    data = rec.data.loc[year].reset_index(drop=True)
    times = pd.to_datetime(data["date"]).to_numpy()
    order = np.argsort(times, kind="stable")
    xy = to_metric(data, CRS)[order]
    t = times[order]
    w = np.ones(len(t))
    t0 = time.perf_counter()
    grid = make_cells(xy=xy, cell_size_m=a.cell_size_m, metric_crs=CRS)
    grid_s = time.perf_counter() - t0
    cell = grid.locate(xy)
    origin = pd.Timestamp(f"{a.year + 1}-01-01")
    past = past_at(t, xy, cell, w, origin)
    print(
        f"Chicago aggravated assaults {a.year}: {len(past.cell):,} incidents, {len(grid):,} cells of {a.cell_size_m:g} m "
        f"(grid built in {grid_s:.2f} s)"
    )
    t0 = time.perf_counter()
    pairs = cell_pairs(grid.xy, grid.cell_size_m, 3.0)
    pairs_s = time.perf_counter() - t0
    print(f"promap cell pairs within 3 cells: {len(pairs[0]):,} in {pairs_s:.3f} s (once per grid)")
    t0 = time.perf_counter()
    nb = neighbour_matrix(grid.xy, grid.cell_size_m)
    print(f"learned: neighbour matrix in {time.perf_counter() - t0:.3f} s (once per grid)")
    print(f"{'method':<8} {'candidates':>10} {'one fit+forecast (ms)':>22} {'all candidates (ms)':>20} {'vs prior':>9}")
    base = None
    kw = {"cell_size_m": a.cell_size_m, "pairs": pairs, "neighbours": nb, "horizon_days": 31.0}
    for m in FORECAST_METHODS:
        cands = candidate_grid(m, a.cell_size_m)
        mid = cands[len(cands) // 2]
        one = best_of(lambda m=m, p=mid: forecast_surface(m, past, grid.xy, params=p, **kw), a.repeat)
        allc = best_of(lambda m=m, cands=cands: [forecast_surface(m, past, grid.xy, params=p, **kw) for p in cands], a.repeat)
        base = base if base is not None else one
        print(f"{m:<8} {len(cands):>10} {1000 * one:>22.2f} {1000 * allc:>20.2f} {one / base:>8.1f}×")
    if a.no_backtest:
        return
    opts = ForecastOptions(horizons=("month",), origins=a.origins, warmup=3, cell_size_m=a.cell_size_m, metric_crs=CRS, bootstrap=2000)
    t0 = time.perf_counter()
    run = rolling_backtest(rec, options=opts)
    print(
        f"rolling backtest, all {len(rec.data):,} records (2010–2019), monthly, {a.origins} + 3 warm-up origins, "
        f"{len(run.grid) if run.grid is not None else 0:,} cells: {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
