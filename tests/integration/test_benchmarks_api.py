"""Short CI version of benchmarks/api.py (the full run is 60 s at 200 req/s, idle and with two plan jobs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from geoprio.demo import make_demo_city, write_demo_city
from geoprio.index.config import load_config
from geoprio.index.run import run_index

ROOT = Path(__file__).resolve().parents[2]


def test_api_benchmark_short(tmp_path):
    cfg = load_config(write_demo_city(make_demo_city(3, n_incidents=3000), tmp_path / "demo"))
    run_index(cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 50})})).write()
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "api.py"),
            "--data-dir",
            str(tmp_path / "demo" / "output"),
            "--rate",
            "50",
            "--seconds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert "/zones idle" in r.stdout and "/zones + 2 jobs" in r.stdout and "peer: /zones bytes from memory" in r.stdout
    assert "ratio p99" in r.stdout and "errors: 0" in r.stdout
