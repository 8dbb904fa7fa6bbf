"""Benchmark: the Dask engine of ``geoprio.zones.count_points`` against dask-geopandas' ``sjoin``.

N synthetic points (100 million by default) are written once as a partitioned GeoParquet
dataset (``part-*.parquet``, WKB points in EPSG:4326, a date and a category; cached in
``--cache``, by default ``$TMPDIR/geoprio-bench-distributed``), then counted on a local Dask
cluster (worker processes of one thread, a memory limit each):

1. **geoprio, Dask engine**, on 1 and then 2 workers: every point assigned to Bogotá's 116 UPZ
   (zone × month × category) and to the cells of a 100 m grid over them (cell totals), with
   geoprio's own ``PointLocator`` broadcast to the workers; wall time, peak memory (RSS) per
   worker, and the speed-up from 1 to 2 workers against linear;
2. **the peer**, on the same cluster and the same partitions (``--peer-points`` of them,
   default all): ``dask_geopandas.read_parquet`` + ``dask_geopandas.sjoin`` with the UPZ
   (then ``groupby`` zone × month × category) and, projected to EPSG:9377, with the grid
   cells (then ``value_counts``); the per-zone and per-cell totals must match geoprio's;
3. at ``--memory-points`` (10 million by default), the Dask engine (2 workers) against the
   in-memory engine on the same partitions: the engine's overhead.

Goals (issue 19): ≥ 10× the peer, < 4 GB per worker, 1 → 2 workers within 80 % of linear.
Fitting the locators (zones and grid) is done once before the runs and printed apart.

Usage::

    python benchmarks/distributed.py                                   # 100M points (long)
    python benchmarks/distributed.py --points 10000000                 # 10M
    python benchmarks/distributed.py --points 200000 --grid-m 1000 --workers 2 --part-points 50000   # quick check
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoprio.io.cluster import EngineOptions, open_engine
from geoprio.zones import count_layers, count_points, load_zones

# this script's folder comes first on sys.path, and its name would shadow the distributed package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ZONES = ROOT.parent / "shared" / "data" / "bogota" / "upz_sdp.geojson"
CATEGORIES = ["hurto personas", "hurto celulares", "lesiones", "hurto residencias", "hurto comercio", "homicidio", "hurto motos", "riña"]
START, DAYS = np.datetime64("2015-01-01"), 3652  # ten years of dates


def synthetic_part(polygons: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded points: 80 % around zone centroids, 15 % uniform in the zones' box, 5 % outside it."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    cx, cy = shapely.get_x(shapely.centroid(polygons)), shapely.get_y(shapely.centroid(polygons))
    spread = np.sqrt(shapely.area(polygons)) / 3
    n_near, n_box = int(n * 0.80), int(n * 0.15)
    n_out = n - n_near - n_box
    k = rng.integers(0, len(polygons), n_near)
    x = np.concatenate([rng.normal(cx[k], spread[k]), rng.uniform(x0, x1, n_box), rng.uniform(x1 + 0.01, x1 + 0.2, n_out)])
    y = np.concatenate([rng.normal(cy[k], spread[k]), rng.uniform(y0, y1, n_box), rng.uniform(y0, y1, n_out)])
    order = rng.permutation(n)
    return x[order], y[order]


def write_dataset(folder: Path, polygons: np.ndarray, n: int, part_points: int, seed: int = 0) -> list[Path]:
    """Write (once) ``n`` points as ``part-*.parquet`` GeoParquet files of ``part_points`` points each."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = folder / "_SUCCESS"
    parts = [folder / f"part-{i:05d}.parquet" for i in range(-(-n // part_points))]
    if done.is_file():
        return parts
    folder.mkdir(parents=True, exist_ok=True)
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"], "crs": CRS.from_user_input("EPSG:4326").to_json_dict()}},
    }
    t = time.perf_counter()
    for i, path in enumerate(parts):
        m = min(part_points, n - i * part_points)
        x, y = synthetic_part(polygons, m, seed * 100_003 + i)
        rng = np.random.default_rng(seed * 100_003 + i + 7)
        wkb = np.zeros(m, dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
        wkb["order"], wkb["kind"], wkb["x"], wkb["y"] = 1, 1, x, y
        offsets = pa.array(np.arange(0, 21 * m + 1, 21, dtype=np.int32))
        geometry = pa.BinaryArray.from_buffers(pa.binary(), m, [None, offsets.buffers()[1], pa.py_buffer(wkb.tobytes())])
        dates = pa.array((START + rng.integers(0, DAYS, m).astype("timedelta64[D]")).astype("datetime64[D]"))
        category = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(CATEGORIES), m).astype(np.int8)), pa.array(CATEGORIES))
        table = pa.table({"geometry": geometry, "date": dates, "category": category})
        table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
        pq.write_table(table, path, row_group_size=m)
    done.write_text(f"{n} points in {len(parts)} partitions\n")
    print(f"  dataset written: {n:,} points, {len(parts)} partitions in {time.perf_counter() - t:.1f} s → {folder}")
    return parts


def warm_up(client) -> None:
    """Import what the tasks use on every worker before timing (as a long-lived cluster has)."""
    for module in ("geoprio.zones.distributed", "pyarrow.parquet", "dask_geopandas", "geopandas", "pyproj"):
        client.run(importlib.import_module, module)


def timed_geoprio(eng, parts: list[Path], layers) -> tuple[float, object]:
    """Run the Dask engine of geoprio on ``parts``, after one untimed run on the first partition."""
    warm_up(eng.client)
    count_points(parts[:1], layers, grid_by_period=False, engine=eng)
    t = time.perf_counter()
    counts = count_points(parts, layers, grid_by_period=False, engine=eng)
    return time.perf_counter() - t, counts


def peak_rss_gb(client) -> list[float]:
    """Peak resident memory of each worker process (GB)."""
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return [v / 1e9 for v in peaks.values()]


def run_peer(client, parts: list[Path], zones_gdf, cells_gdf) -> tuple[float, pd.Series, pd.Series]:
    """dask-geopandas: read_parquet + sjoin with the zones and (in metres) with the cells, then counts."""
    import dask.dataframe as dd
    import dask_geopandas

    def graph(files: list[Path]) -> list:
        points = dask_geopandas.read_parquet([str(p) for p in files])
        joined = dask_geopandas.sjoin(points, zones_gdf[["zone_id", "geometry"]], predicate="intersects")
        joined["period"] = dd.to_datetime(joined["date"]).dt.to_period("M").astype(str)
        by_zone = joined.groupby(["zone_id", "period", "category"], observed=True).size()
        in_cells = dask_geopandas.sjoin(points.to_crs("EPSG:9377"), cells_gdf[["cell_id", "geometry"]], predicate="intersects")
        return [by_zone, in_cells["cell_id"].value_counts()]

    client.compute(graph(parts[:1]), sync=True)  # untimed, as geoprio's first partition
    t = time.perf_counter()
    zone_counts, cell_counts = client.compute(graph(parts), sync=True)
    return time.perf_counter() - t, zone_counts.groupby(level="zone_id").sum(), cell_counts


def fmt_peaks(peaks: list[float]) -> str:
    return ", ".join(f"{p:.2f}" for p in sorted(peaks))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=100_000_000)
    ap.add_argument("--part-points", type=int, default=1_000_000, help="points per partition")
    ap.add_argument("--zones", type=Path, default=DEFAULT_ZONES)
    ap.add_argument("--zones-id", default="UPlCodigo")
    ap.add_argument("--grid-m", type=float, default=100.0)
    ap.add_argument("--workers", default="1,2", help="worker counts to run geoprio on, e.g. 1,2")
    ap.add_argument("--memory-per-worker", default="3.5GB")
    ap.add_argument("--peer-points", type=int, default=None, help="points the peer counts (whole partitions; default all)")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--memory-points", type=int, default=10_000_000, help="points of the Dask vs in-memory run (0: skip)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "geoprio-bench-distributed")
    args = ap.parse_args()

    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    zones = load_zones(args.zones, id=args.zones_id)
    t = time.perf_counter()
    layers = count_layers(zones, grid_m=args.grid_m)
    assert layers.grid is not None
    fitted = time.perf_counter() - t
    print(f"zones: {len(zones)} ({args.zones.name}); grid {args.grid_m:g} m: {len(layers.grid):,} cells; locators fitted in {fitted:.1f} s")
    folder = args.cache / f"points-{args.points}-part-{args.part_points}"
    parts = write_dataset(folder, np.asarray(zones.frame.geometry.values, dtype=object), args.points, args.part_points)
    size_gb = sum(p.stat().st_size for p in parts) / 1e9
    print(f"dataset: {args.points:,} points, {len(parts)} partitions, {size_gb:.2f} GB on disk, {args.memory_per_worker} per worker")

    counts_of: dict[int, tuple[float, object]] = {}
    workers = [int(v) for v in args.workers.split(",")]
    for w in workers:
        opts = EngineOptions(engine="local", workers=w, threads_per_worker=1, memory_per_worker=args.memory_per_worker)
        with open_engine(opts) as eng:
            seconds, counts = timed_geoprio(eng, parts, layers)
            counts_of[w] = (seconds, counts)
            print(
                f"geoprio Dask, {w} worker(s): {seconds:8.1f} s  ({args.points / seconds / 1e6:.2f} M points/s), "
                f"peak memory per worker GB: {fmt_peaks(peak_rss_gb(eng.client))}"
            )
            if w == max(workers):
                extra_runs(args, eng, parts, layers, zones, seconds, counts)
    lo, hi = min(counts_of), max(counts_of)
    base = counts_of[lo][1]
    if hi > lo:
        speedup = counts_of[lo][0] / counts_of[hi][0]
        print(f"speed-up {lo} → {hi} workers: {speedup:.2f}× ({100 * speedup / (hi / lo):.0f} % of linear; goal ≥ 80 %)")
        same = all(c.zones.equals(base.zones) and c.cells.equals(base.cells) for _, c in counts_of.values())
        print(f"counts between worker counts: {'match' if same else 'MISMATCH'}")
    print(
        f"placed: {base.notes['points_in_zones']:,} in zones, {base.notes['points_outside_zones']:,} outside; "
        f"{base.notes['points'] - base.notes['points_outside_grid']:,} in grid cells"
    )
    print(f"load average after the runs: {', '.join(f'{v:.1f}' for v in os.getloadavg())} (on {os.cpu_count()} cores)")


def extra_runs(args, eng, parts: list[Path], layers, zones, seconds: float, counts) -> None:
    """On the largest cluster: the peer on the same partitions, and the Dask engine against the in-memory one."""
    w = len(eng.workers())
    if not args.skip_peer:
        k = len(parts) if args.peer_points is None else max(1, -(-args.peer_points // args.part_points))
        ours = (seconds, counts) if k == len(parts) else timed_geoprio(eng, parts[:k], layers)
        cells = layers.grid.frame[["zone_id", "geometry"]].rename(columns={"zone_id": "cell_id"}).to_crs("EPSG:9377")
        t_peer, peer_zones, peer_cells = run_peer(eng.client, parts[:k], zones.frame, cells)
        ok_z = (ours[1].zone_totals() == peer_zones.reindex(ours[1].zone_totals().index, fill_value=0)).all()
        ok_c = (ours[1].cell_totals() == peer_cells.reindex(ours[1].cell_totals().index, fill_value=0)).all()
        n_peer = min(args.points, k * args.part_points)
        print(f"dask-geopandas sjoin, {w} worker(s), {n_peer:,} points: {t_peer:8.1f} s; peak memory per worker GB since start: ", end="")
        print(fmt_peaks(peak_rss_gb(eng.client)))
        print(f"  geoprio on the same partitions: {ours[0]:.1f} s; ratio peer/geoprio: {t_peer / ours[0]:.1f}× (goal ≥ 10×)")
        print(f"  zone totals {'match' if ok_z else 'MISMATCH'}, cell totals {'match' if ok_c else 'MISMATCH'}")
    if args.memory_points:
        k = max(1, -(-min(args.memory_points, args.points) // args.part_points))
        n_sub = min(args.points, k * args.part_points)
        t = time.perf_counter()
        here = count_points(parts[:k], layers, grid_by_period=False)
        t_mem = time.perf_counter() - t
        t_dask, there = (seconds, counts) if k == len(parts) else timed_geoprio(eng, parts[:k], layers)
        same = here.zones.equals(there.zones) and here.cells.equals(there.cells)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
        print(
            f"{n_sub:,} points: in-memory engine {t_mem:.1f} s (peak memory of this process {rss:.2f} GB), "
            f"Dask engine ({w} workers) {t_dask:.1f} s; ratio Dask/memory {t_dask / t_mem:.2f}; counts {'match' if same else 'MISMATCH'}"
        )


if __name__ == "__main__":
    main()
