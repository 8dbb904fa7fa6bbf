"""Benchmark: incidents near places, and the deployment plan, against their peers.

* counting: :func:`geoprio.entornos.places.incident_pairs` (one STRtree query per radius, exact
  distance to the feature) against ``geopandas.sjoin(predicate="dwithin")`` on the same
  points and places (projection included on both sides); the (incident, place) pairs must
  be identical. Places are Bogotá's 20,754 licensed nightlife establishments when
  ``../shared/data`` is present (else seeded random points), incidents seeded over their
  bounding box with half of them near establishments.
* the plan: :func:`geoprio.entornos.deploy.plan_deployment` on a week of hourly profiles for
  ``--plan-places`` places, against the same MILP without its exact column pruning
  (``prune=False``); the optima must agree.

    python benchmarks/entornos.py                       # 1,000,000 incidents, 300-place plan
    python benchmarks/entornos.py --incidents 20000 --plan-places 60 --quick
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def places_frame(n_random: int, seed: int) -> tuple[gpd.GeoDataFrame, str]:
    path = SHARED / "bogota" / "places" / "establecimientos_nocturnos_20754.geojson"
    if path.is_file():
        gdf = gpd.read_file(path)[["geometry"]]
        what = f"{len(gdf):,} Bogotá nightlife establishments (real)"
    else:
        rng = np.random.default_rng(seed)
        gdf = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(-74.2, -74.0, n_random), rng.uniform(4.5, 4.8, n_random)), crs=4326)
        what = f"{n_random:,} random places"
    gdf["tipo"] = "establecimiento"
    gdf["codigo"] = [f"E{i}" for i in range(len(gdf))]
    return gdf, what


def incidents(places: gpd.GeoDataFrame, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = places.total_bounds
    half = n // 2
    pick = rng.integers(0, len(places), n - half)
    px, py = places.geometry.x.to_numpy()[pick], places.geometry.y.to_numpy()[pick]
    near_x = px + rng.normal(0, 0.0012, n - half)  # about 130 m
    near_y = py + rng.normal(0, 0.0012, n - half)
    return np.r_[rng.uniform(x0, x1, half), near_x], np.r_[rng.uniform(y0, y1, half), near_y]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--radius-m", type=float, default=100.0)
    ap.add_argument("--plan-places", type=int, default=300)
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="skip the unpruned plan peer when it would be slow")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    from geoprio.entornos.deploy import plan_deployment
    from geoprio.entornos.places import incident_pairs, load_places

    print(f"cores: {os.cpu_count()}")
    frame, what = places_frame(2000, args.seed)
    places = load_places(frame, type="tipo", id="codigo", radius_m=args.radius_m)
    x, y = incidents(frame, args.incidents, args.seed)
    print(f"places: {what}; incidents: {args.incidents:,}; radius {args.radius_m:g} m")

    t = time.perf_counter()
    ours = incident_pairs(places, x, y)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326).to_crs(places.metric_crs)
    joined = gpd.sjoin(pts, places.frame.to_crs(places.metric_crs), predicate="dwithin", distance=args.radius_m)
    t_peer = time.perf_counter() - t
    a = np.sort(ours["incident"].to_numpy() * len(places) + ours["place"].to_numpy())
    b = np.sort(joined.index.to_numpy() * len(places) + joined["index_right"].to_numpy())
    same = "match" if np.array_equal(a, b) else "MISMATCH"
    print(
        f"pairs: {len(ours):,}  geoprio {t_ours:.2f} s  geopandas sjoin dwithin {t_peer:.2f} s  ratio {t_peer / t_ours:.1f}x  pairs {same}"
    )

    rng = np.random.default_rng(args.seed)
    base = rng.gamma(0.6, 1.0, (args.plan_places, 1)) * np.r_[np.full(6, 0.3), np.ones(12), np.full(6, 1.6)][None, :]
    values = rng.poisson(np.tile(base, 7)).astype(float)
    t = time.perf_counter()
    plan = plan_deployment(values, teams=args.teams, shift_hours=8)
    t_plan = time.perf_counter() - t
    print(
        f"plan: {args.plan_places} places x 168 h, {args.teams} teams, 8 h shifts: covered {plan.covered:,.0f} of {plan.total:,.0f} "
        f"({100 * plan.share:.1f} %), bound {plan.objective_bound:,.0f}, gap {100 * plan.gap:.3f} %, {plan.status}, "
        f"{plan.n_candidates:,} shift columns, {t_plan:.2f} s"
    )
    if args.quick and args.plan_places > 100:
        print("plan peer (unpruned MILP): skipped (--quick)")
        return
    t = time.perf_counter()
    full = plan_deployment(values, teams=args.teams, shift_hours=8, prune=False)
    t_full = time.perf_counter() - t
    same = "match" if abs(full.covered - plan.covered) < 1e-6 else "MISMATCH"
    print(f"plan peer (unpruned MILP, {full.n_candidates:,} columns): {t_full:.2f} s  ratio {t_full / t_plan:.1f}x  optimum {same}")


if __name__ == "__main__":
    main()
