"""The benchmark scripts run end to end on a short input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_aggregate_benchmark_short(shared_data):
    zones = shared_data / "bogota" / "upz_sdp.geojson"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "aggregate.py"), "--sizes", "20000", "--zones", str(zones)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio" in proc.stdout
    assert "match" in proc.stdout and "MISMATCH" not in proc.stdout
    assert "cores" in proc.stdout
