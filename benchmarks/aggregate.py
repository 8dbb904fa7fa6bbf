"""Benchmark: count N points per Bogotá UPZ with geoprio vs. geopandas.sjoin.

geoprio: ``PointLocator().fit(upz).locate(x, y)`` + ``count_by_zone``.
Peer: ``geopandas.points_from_xy`` + ``geopandas.sjoin(predicate="intersects")`` +
``groupby("index_right").size()``. Both must give the same per-zone counts.

Usage::

    python benchmarks/aggregate.py                      # 1M and 10M points
    python benchmarks/aggregate.py --sizes 20000        # quick check
    python benchmarks/aggregate.py --skip-sjoin --sizes 10000000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geoprio.zones.assign import PointLocator, count_by_zone

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ZONES = ROOT.parent / "shared" / "data" / "bogota" / "upz_sdp.geojson"


def synthetic_points(polygons: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``n`` seeded points: 80 % clustered around zone centroids, 15 % uniform in the
    zones' bounding box, 5 % outside it.
    """
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    cx, cy = shapely.get_x(shapely.centroid(polygons)), shapely.get_y(shapely.centroid(polygons))
    spread = np.sqrt(shapely.area(polygons)) / 3
    n_near, n_box = int(n * 0.80), int(n * 0.15)
    n_out = n - n_near - n_box
    k = rng.integers(0, len(polygons), n_near)
    x = np.concatenate(
        [
            rng.normal(cx[k], spread[k]),
            rng.uniform(x0, x1, n_box),
            rng.uniform(x1 + 0.01, x1 + 0.2, n_out),
        ]
    )
    y = np.concatenate(
        [
            rng.normal(cy[k], spread[k]),
            rng.uniform(y0, y1, n_box),
            rng.uniform(y0, y1, n_out),
        ]
    )
    order = rng.permutation(n)
    return x[order], y[order]


def run_geoprio(polygons: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    codes = PointLocator().fit(polygons).locate(x, y)
    return count_by_zone(codes, len(polygons))


def run_sjoin(zones: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=zones.crs)
    joined = gpd.sjoin(pts, zones[["geometry"]], predicate="intersects")
    if joined.index.has_duplicates:  # a point on a shared boundary: keep the lowest zone
        joined = joined.groupby(level=0)[["index_right"]].min()
    counts = joined.groupby("index_right").size()
    return counts.reindex(range(len(zones)), fill_value=0).to_numpy()


def best_time(fn, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=1, help="runs per timing; the best is kept")
    ap.add_argument("--skip-sjoin", action="store_true", help="time geoprio only")
    ap.add_argument("--zones", type=Path, default=DEFAULT_ZONES, help="zone polygons (default: Bogotá UPZ)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    if not args.zones.is_file():
        print(f"zone layer {args.zones} not found", file=sys.stderr)
        return 2
    zones = gpd.read_file(args.zones).reset_index(drop=True)
    polygons = np.asarray(zones.geometry.values, dtype=object)
    print(f"zones: {args.zones.name} ({len(zones)} polygons, {zones.crs})")
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, shapely {shapely.__version__}, geopandas {gpd.__version__}"
    )

    header = f"{'points':>12} {'geoprio s':>10} {'geoprio pts/s':>14} {'sjoin s':>9} {'sjoin pts/s':>12} {'ratio':>7}  counts"
    print(header)
    print("-" * len(header))
    all_ok = True
    for n in args.sizes:
        x, y = synthetic_points(polygons, n, seed=args.seed)
        t_geo, counts = best_time(lambda x=x, y=y: run_geoprio(polygons, x, y), args.repeat)
        if args.skip_sjoin:
            print(f"{n:>12,} {t_geo:>10.3f} {n / t_geo:>14,.0f} {'-':>9} {'-':>12} {'-':>7}  not checked")
            continue
        t_sj, peer = best_time(lambda x=x, y=y: run_sjoin(zones, x, y), args.repeat)
        ok = bool(np.array_equal(counts, peer))
        all_ok &= ok
        status = "match" if ok else f"MISMATCH ({int(np.abs(counts - peer).sum())} points differ)"
        print(f"{n:>12,} {t_geo:>10.3f} {n / t_geo:>14,.0f} {t_sj:>9.3f} {n / t_sj:>12,.0f} {t_sj / t_geo:>6.1f}x  {status}")
    print("ratio = sjoin seconds / geoprio seconds (geoprio: fit + locate + count; sjoin: points_from_xy + sjoin + groupby)")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
