"""Short CI version of benchmarks/distributed.py: 100,000 points in 4 partitions, a 2 km grid, one local cluster of two workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_distributed_benchmark_short(shared_data, tmp_path):
    zones = shared_data / "bogota" / "upz_sdp.geojson"
    args = ["--points", "100000", "--part-points", "25000", "--grid-m", "2000", "--workers", "2", "--memory-points", "0"]
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "distributed.py"), *args, "--zones", str(zones), "--cache", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "geoprio Dask, 2 worker(s)" in out and "peak memory per worker GB" in out and "cores" in out
    assert "ratio peer/geoprio" in out and "zone totals match, cell totals match" in out and "MISMATCH" not in out
