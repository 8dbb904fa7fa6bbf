"""The benchmark scripts run end to end on a short input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_aggregate_benchmark_short(shared_data):
    zones = shared_data / "bogota" / "upz_sdp.geojson"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "aggregate.py"), "--sizes", "20000", "--zones", str(zones)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio" in proc.stdout
    assert "match" in proc.stdout and "MISMATCH" not in proc.stdout
    assert "cores" in proc.stdout


def test_placement_benchmark_short(shared_data):
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "placement.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "geoprio auto" in proc.stdout and "Medellín" in proc.stdout
    assert "MISMATCH" not in proc.stdout
    if "spopt MCLP (CBC)   time" in proc.stdout:  # the peer ran: same optimum, and the time ratio
        assert "optimum MATCH" in proc.stdout and "ratio" in proc.stdout


def test_hotspots_benchmark_short():
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "hotspots.py"), "--points", "8000", "--cells", "3000", "--sk-hdbscan-points", "8000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "ratio" in out and "cores" in out and "failed" not in out and "exit " not in out
    assert out.count("match") == 2 and "MISMATCH" not in out  # DBSCAN labels and Gi* z against their peers


def test_entornos_benchmark_short():
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "entornos.py"), "--incidents", "20000", "--plan-places", "40", "--teams", "5"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("match") == 2 and "MISMATCH" not in proc.stdout and "ratio" in proc.stdout
