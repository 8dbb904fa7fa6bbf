"""Worker processes: safe from a plain script, a deadline the parent keeps, fallbacks that show."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import numpy as np

import geoprio.placement.workers as workers
from geoprio.placement import CoverageProblem, maximize_coverage, minimize_sites

PLAIN_SCRIPT = """\
import json

import geopandas as gpd
import numpy as np

from geoprio.placement import plan_cameras

print("BODY-RAN", flush=True)
rng = np.random.default_rng(1)
centres = rng.uniform(0, 6000, (40, 2))
k = rng.integers(0, len(centres), 3000)
xy = np.clip(centres[k] + rng.normal(0, 400, (3000, 2)), 0, 6000) + [1_000_000, 1_000_000]
points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:9377").to_crs(4326)
run = plan_cameras(points, radius_m=200, p=60, harm=False, grid_spacing_m=60, time_limit_s={limit}, mip_rel_gap=0.0)
r = run.result
print("RESULT " + json.dumps({{"status": r.status, "fallback": r.fallback, "time_s": r.time_s, "gap": r.gap,
      "stats": {{k: v for k, v in r.stats.items() if k in ("deadline_reached", "lns_stop", "milp_status", "worker_errors")}}}}))
"""


def test_plan_cameras_from_a_plain_script_without_main_guard(tmp_path):
    """The workers never re-import the caller's script: its body runs once, within the limit, honestly."""
    limit = 3.0
    script = tmp_path / "plain.py"
    script.write_text(PLAIN_SCRIPT.format(limit=limit), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "RuntimeError" not in done.stderr
    assert done.stdout.count("BODY-RAN") == 1
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    res = json.loads(line.removeprefix("RESULT "))
    assert res["time_s"] <= limit + 1.0
    assert res["fallback"] is None and "worker_errors" not in res["stats"]
    # the exact path ran (workers started and were stopped or finished), and the status says how it ended
    assert "deadline_reached" in res["stats"]
    assert res["status"] in ("optimal", "time_limit", "stopped")
    assert (res["status"] == "optimal") == (res["gap"] <= 1e-12)  # mip_rel_gap=0: optimal means proven


def _open_gap_problem() -> CoverageProblem:
    """A problem whose gap the heuristics leave open at ``mip_rel_gap=0`` (so the workers are needed)."""
    rng = np.random.default_rng(0)
    d = rng.uniform(0, 3000, (3000, 2))
    c = rng.uniform(0, 3000, (400, 2))
    return CoverageProblem.from_points(d, c, radius_m=250.0, weights=rng.integers(1, 10, 3000))


def test_a_worker_that_dies_is_a_fallback_in_the_status(monkeypatch):
    monkeypatch.setattr(workers, "worker_command", lambda: [sys.executable, "-c", "import sys; sys.exit(3)"])
    prob = _open_gap_problem()
    r = maximize_coverage(prob, p=40, time_limit_s=5, mip_rel_gap=0.0, method="milp")
    assert r.status == "fallback" and r.gap > 0
    assert r.fallback == "milp: exited with code 3 before finishing its task"
    assert r.summary()["fallback"] == r.fallback and r.summary()["status"] == "fallback"
    s = minimize_sites(prob, target_share=0.9, time_limit_s=5, mip_rel_gap=0.0)
    assert s.status == "fallback" and "exited with code 3" in (s.fallback or "")


def test_a_worker_that_cannot_start_is_a_fallback_in_the_status(monkeypatch):
    monkeypatch.setattr(workers, "worker_command", lambda: ["/nonexistent/python"])
    r = maximize_coverage(_open_gap_problem(), p=40, time_limit_s=5, mip_rel_gap=0.0, method="milp")
    assert r.status == "fallback"
    assert r.fallback is not None and r.fallback.startswith("milp: could not start a solver worker")
    assert r.time_s < 5


def test_a_worker_error_reaches_the_handler():
    w = workers.Worker("milp")
    w.submit({"kind": "nonsense", "seconds": 5.0})
    seen: list[tuple[str, str]] = []
    workers.run_workers([w], time.perf_counter() + 30, lambda name, kind, payload: seen.append((name, kind)) or False)
    assert seen == [("milp", "error")]
    assert not w.proc.is_alive()


def test_the_worker_entry_point_is_not_imported_by_the_package():
    """Nothing imports the entry module, so ``python -m`` runs it once (no double import warning)."""
    code = textwrap.dedent(
        f"""
        import sys
        import geoprio.placement
        print({workers.WORKER_MODULE!r} in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"
    assert workers.worker_command() == [sys.executable, "-m", "geoprio.placement.worker_process"]
