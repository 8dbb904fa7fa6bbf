"""Benchmark: the API's admission estimate of a plan job's memory against the memory it really uses.

For each camera plan request (JSON bodies of ``POST /plans/cameras``), sizes it with
:func:`geoprio.api.admission.estimate_plan` on a data directory, then runs it exactly as the API
does (one ``python -m geoprio.api.worker`` process that starts the exact-solver processes) and
samples the resident memory of the job's whole process group every 0.25 s
(:func:`geoprio.api.jobs.group_rss`, the figure the job runner compares with
``GEOPRIO_JOB_MEMORY_LIMIT_GB``). It prints the estimate, the measured peak and their ratio; the
estimate must not be under the peak, or a job admitted under a memory limit is killed by it.

    python benchmarks/admission.py [--data-dir data/demo/output] [BODY ...]

The default bodies are the three plans the constants of :mod:`geoprio.api.admission` were fitted
on (12 to 47 million demand–candidate pairs; about 5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The plans of the fit: a coarse grid, a dense grid with a small radius, the heavy plan of benchmarks/api.py.
BODIES = (
    '{"p": 40, "radius_m": 300, "grid_spacing_m": 30, "time_limit_s": 60}',
    '{"p": 20, "radius_m": 150, "grid_spacing_m": 10, "time_limit_s": 60}',
    '{"p": 40, "radius_m": 300, "grid_spacing_m": 15, "time_limit_s": 120}',
)


def run_job(task: dict, poll_s: float = 0.25) -> tuple[int, float, str]:
    """Run one job process as the API does; its process group's peak memory, wall time and answer."""
    from geoprio.api.jobs import group_rss

    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "geoprio.api.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as the job runner starts it
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(task).encode())
    proc.stdin.close()
    answer: list[bytes] = []
    reader = threading.Thread(target=lambda: answer.append(proc.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    peak = 0
    while proc.poll() is None:
        peak = max(peak, group_rss(proc.pid))
        time.sleep(poll_s)
    reader.join()
    proc.stdout.close()
    return peak, time.perf_counter() - started, answer[0].decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=ROOT / "data" / "demo" / "output")
    ap.add_argument("bodies", nargs="*", default=list(BODIES))
    args = ap.parse_args()
    if not (args.data_dir / "manifest.json").exists():
        sys.exit(f"{args.data_dir}: no index output; run `geoprio demo` first")
    from geoprio.api.admission import estimate_plan
    from geoprio.api.schemas import CameraPlanRequest
    from geoprio.api.settings import Settings
    from geoprio.api.store import Store

    maps = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=args.data_dir, maps_dir=maps)
    store = Store.load(settings.data_dir, settings.maps_dir)
    print(f"{'plan':<72}{'pairs':>13}{'estimate GB':>13}{'peak GB':>9}{'ratio':>7}{'s':>7}")
    worst = float("inf")
    for body in args.bodies:
        params = CameraPlanRequest(**json.loads(body)).model_dump()
        estimate = estimate_plan("cameras", params, store, settings)
        task = {"kind": "cameras", "params": params, "data_dir": str(args.data_dir), "maps_dir": str(maps), "memory_limit_bytes": None}
        peak, seconds, answer = run_job(task)
        ok = json.loads(answer.splitlines()[-1]).get("ok") if answer.strip() else False
        ratio = estimate.memory_bytes / peak if peak else float("nan")
        worst = min(worst, ratio)
        figures = f"{estimate.pairs:>13,}{estimate.memory_bytes / 1e9:>13.2f}{peak / 1e9:>9.2f}{ratio:>7.2f}{seconds:>7.0f}"
        print(f"{body:<72}{figures}" + ("" if ok else "  (job failed)"))
    print(f"lowest estimate / peak: {worst:.2f} (an estimate under 1 lets a job pass admission and then die at its memory limit)")


if __name__ == "__main__":
    main()
