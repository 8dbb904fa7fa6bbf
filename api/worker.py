"""One plan job in its own process: ``python -m geoprio.api.worker``.

The API process (:class:`~geoprio.api.jobs.JobRunner`) starts this module as a new
interpreter in its own process group and writes a small JSON task to its standard input: the
job's kind and parameters, the data, maps and layers folders and the memory limit. The worker
limits its own address space (``RLIMIT_AS``, inherited by the solver processes it starts),
lowers its priority, loads what the plan needs from the data folder itself (:func:`job_inputs`:
the served outputs, then :func:`plan_inputs`: the incidents behind the index, the index zones
and the paths of the facility and coast layers), solves with
:func:`geoprio.placement.plan.plan_cameras` / :func:`~geoprio.placement.plan.plan_garitas` and
writes one JSON line to its original standard output:

* ``{"ok": true, "summary": {...}, "sites": "<GeoJSON>"}``;
* ``{"ok": false, "reason": "input" | "memory" | "internal", "error": "message"}``.

Everything else it prints (solver chatter, tracebacks) goes to its standard error, which the
parent copies to the server log and never to a client. Deadlines and the resident-memory
watchdog are the parent's (see :mod:`~geoprio.api.jobs`).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import shape

from geoprio.errors import GeoprioError

from .settings import Settings
from .store import Store

__all__ = [
    "ADDRESS_SPACE_ALLOWANCE_BYTES",
    "EXCLUDE_SITE_FACTOR",
    "WORKER_ENV",
    "WORKER_MODULE",
    "facility_layer",
    "incident_frame",
    "job_inputs",
    "layer_path",
    "main",
    "plan_inputs",
    "run_plan",
    "workspace_layers",
]

#: The module a job process runs (``python -m``).
WORKER_MODULE = "geoprio.api.worker"
#: Address space the imported libraries reserve without using it (GDAL, Arrow, BLAS: about
#: 1.3 GB of mappings for 0.3 GB resident, measured), added to the job's memory limit in
#: ``RLIMIT_AS``; the parent's watchdog holds the resident memory to the limit itself.
ADDRESS_SPACE_ALLOWANCE_BYTES = 1_500_000_000
#: Environment of a job process: one BLAS thread, two malloc arenas (less reserved memory).
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
#: Niceness added to a job process, so that the API's requests come first on a busy machine.
WORKER_NICE = 10
#: A workspace's excluded site forbids candidates within this many grid spacings of it (more
#: than half the diagonal of a grid cell, so the grid candidate nearest to it always goes).
EXCLUDE_SITE_FACTOR = 0.75


def layer_path(settings: Settings, name: str) -> Path | None:
    """``name`` in the layers directory (default: the data directory's parent), if it exists."""
    folder = settings.layers_dir if settings.layers_dir is not None else settings.data_dir.parent
    p = folder / name
    return p if p.is_file() else None


def incident_frame(store: Store, level: str) -> pd.DataFrame:
    """The crime points behind the index of ``level``: ``x``, ``y``, ``category``, ``cantidad`` (text)."""
    records = store.records(level)
    crimes = records[(records["kind"] == "crime") & records["x"].notna()] if "x" in records else records.iloc[0:0]
    return crimes[["x", "y", "category", "weight"]].rename(columns={"weight": "cantidad"}).astype(str)


def facility_layer(path: Path | None) -> gpd.GeoDataFrame | None:
    """The existing facilities of a layer file as points (lon/lat), numbered by ``facility_id``
    (their order in the file, empty geometries dropped): the ids the workspace retires by.
    """
    if path is None:
        return None
    from geoprio.io.files import read_layer
    from geoprio.settings import OUTPUT_CRS

    layer = read_layer(path).to_crs(OUTPUT_CRS)
    layer = layer[layer.geometry.notna() & ~layer.geometry.is_empty].copy()
    layer["geometry"] = layer.geometry.representative_point()
    layer.insert(0, "facility_id", np.arange(len(layer)))
    return layer.reset_index(drop=True)


def workspace_layers(
    existing: Path | None, workspace: dict[str, Any], grid_spacing_m: float
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The existing sites and exclusion areas of a workspace's "complete the plan" job (cameras
    or garitas; ``grid_spacing_m``: the candidates' spacing, on the grid or along the shore).

    Existing: the facilities of ``existing`` minus the ``retired`` ``facility_id``s, plus the
    ``locked`` sites (``[lon, lat]``, ids ``fijado-<k>`` with ``k`` their index in the
    proposal). Excluded: the ``exclude_areas`` (GeoJSON polygons, lon/lat) and a circle of
    :data:`EXCLUDE_SITE_FACTOR` × ``grid_spacing_m`` around each of the ``exclude_sites``.
    """
    from geoprio.settings import DEFAULT_METRIC_CRS, OUTPUT_CRS

    parts = []
    old = facility_layer(existing)
    if old is not None and len(old):
        old = old[~old["facility_id"].isin(set(workspace.get("retired") or []))]
        ids = old["id"].astype(str) if "id" in old else "existente-" + old["facility_id"].astype(str)
        parts.append(gpd.GeoDataFrame({"id": ids.to_numpy()}, geometry=old.geometry.to_numpy(), crs=OUTPUT_CRS))
    locked = workspace.get("locked") or []
    if locked:
        xy = np.asarray([p for _, p in locked], dtype=float).reshape(-1, 2)
        ids = [f"fijado-{k}" for k, _ in locked]
        parts.append(gpd.GeoDataFrame({"id": ids}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=OUTPUT_CRS))
    kept = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=OUTPUT_CRS) if parts else None
    shapes = [shape(g) for g in workspace.get("exclude_areas") or []]
    sites = np.asarray(workspace.get("exclude_sites") or [], dtype=float).reshape(-1, 2)
    if len(sites):
        pts = gpd.GeoSeries(gpd.points_from_xy(sites[:, 0], sites[:, 1]), crs=OUTPUT_CRS).to_crs(DEFAULT_METRIC_CRS)
        shapes += list(pts.buffer(max(1.0, EXCLUDE_SITE_FACTOR * grid_spacing_m)).to_crs(OUTPUT_CRS).values)
    excluded = gpd.GeoDataFrame(geometry=gpd.GeoSeries(shapes, crs=OUTPUT_CRS)) if shapes else None
    return (kept if kept is not None and len(kept) else None), excluded


def plan_inputs(kind: str, params: dict[str, Any], store: Store, settings: Settings) -> dict[str, Any]:
    """Everything a plan job needs from the served outputs ``store`` and the layers folder."""
    level, zones = store.table(params.get("level"))
    incidents = incident_frame(store, level)
    if kind == "cameras":
        if incidents.empty:
            raise LookupError("the served index has no incident points to plan cameras for")
        return {
            "incidents": incidents,
            "index_zones": zones,
            "existing": layer_path(settings, "camaras.geojson") if params["use_existing"] else None,
        }
    beaches, coast = layer_path(settings, "playas.geojson"), layer_path(settings, "costa.geojson")
    if beaches is None and coast is None:
        raise LookupError("the layers directory has no playas.geojson or costa.geojson: nothing to plan garitas along")
    return {
        "coast": coast,
        "beaches": beaches,
        "existing": layer_path(settings, "garitas.geojson") if params["use_existing"] else None,
        "incidents": incidents if not incidents.empty and params["beach_incidents"] else None,
    }


def job_inputs(task: dict[str, Any]) -> dict[str, Any]:
    """The inputs of a job's ``task`` (as :class:`~geoprio.api.jobs.JobRunner` sends it), read
    from its data folder: the served outputs, then :func:`plan_inputs`.
    """
    layers = task.get("layers_dir")
    settings = Settings(
        data_dir=Path(task["data_dir"]), maps_dir=Path(task["maps_dir"]), layers_dir=Path(layers) if layers is not None else None
    )
    store = Store.load(settings.data_dir, settings.maps_dir)
    return plan_inputs(task["kind"], task["params"], store, settings)


def _jsonable(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    return str(v)


def run_plan(kind: str, params: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Solve one plan; its summary (with the coverage curve) and its sites as GeoJSON text."""
    from geoprio.placement.plan import plan_cameras, plan_garitas

    common = {
        "p": params.get("p"),
        "target_share": params.get("target_share"),
        "time_limit_s": params["time_limit_s"],
        "min_spacing_m": params.get("min_spacing_m"),
    }
    if params.get("budget") is not None:  # the workspace's "complete the plan" (unit costs: at most budget sites)
        common["budget"] = params["budget"]
    if kind == "cameras":
        existing, exclude = inputs["existing"], None
        if params.get("workspace") is not None:
            existing, exclude = workspace_layers(inputs["existing"], params["workspace"], params["grid_spacing_m"])
        run = plan_cameras(
            inputs["incidents"],
            radius_m=params["radius_m"],
            grid_spacing_m=params["grid_spacing_m"],
            existing=existing,
            exclude=exclude,
            index_zones=inputs["index_zones"],
            index_weight=params["index_weight"],
            **common,
        )
    else:
        existing, exclude = inputs["existing"], None
        if params.get("workspace") is not None:  # locked sites kept (snapped to the shore), exclusions forbidden
            existing, exclude = workspace_layers(inputs["existing"], params["workspace"], params["spacing_m"])
        run = plan_garitas(
            coast=inputs["coast"],
            beaches=inputs["beaches"],
            existing=existing,
            incidents=inputs["incidents"],
            exclude=exclude,
            spacing_m=params["spacing_m"],
            radius_m=params["radius_m"],
            **common,
        )
    summary = json.loads(json.dumps(run.summary(), default=_jsonable))
    summary["curve"] = json.loads(run.curve.to_json(orient="records"))
    return {"summary": summary, "sites": run.sites.to_json(drop_id=True)}


def _limit_memory(limit_bytes: int | None) -> None:
    if not limit_bytes:
        return
    try:
        import resource

        cap = limit_bytes + ADDRESS_SPACE_ALLOWANCE_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError) as exc:  # pragma: no cover - not POSIX, or a lower hard limit
        print(f"geoprio worker: address-space limit not set: {exc}", file=sys.stderr)


def _outcome(task: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"ok": True, **run_plan(task["kind"], task["params"], job_inputs(task))}
    except MemoryError:
        traceback.print_exc(file=sys.stderr)
        return {"ok": False, "reason": "memory", "error": "out of memory"}
    except (GeoprioError, ValueError, LookupError) as exc:  # the request cannot be planned: say why
        traceback.print_exc(file=sys.stderr)
        return {"ok": False, "reason": "input", "error": str(exc)}
    except Exception as exc:  # a bug: the server log gets the traceback, the client a short reason
        traceback.print_exc(file=sys.stderr)
        return {"ok": False, "reason": "internal", "error": f"internal error ({type(exc).__name__})"}


def _die_with_parent() -> None:  # pragma: no cover - runs in a job process
    """Ask Linux to kill this process when the API process that started it dies (so a job
    never runs twice at once after its runner was killed); elsewhere a no-op.
    """
    parent = os.environ.get("GEOPRIO_JOB_PARENT")
    if not sys.platform.startswith("linux") or not parent:
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        return
    if str(os.getppid()) != parent:  # the parent died before the request took effect
        os._exit(1)


def main() -> int:  # pragma: no cover - runs in a job process
    """The body of a job process: one JSON task from stdin, one JSON line to stdout."""
    _die_with_parent()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything the solvers print goes to the log, not into the answer
    try:
        os.nice(WORKER_NICE)
    except (AttributeError, OSError):
        pass
    try:
        task = json.loads(sys.stdin.buffer.read())
        _limit_memory(task.get("memory_limit_bytes"))
        result = _outcome(task)
    except MemoryError:
        result = {"ok": False, "reason": "memory", "error": "out of memory"}
    out.write(json.dumps(result) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - the job process
    sys.exit(main())
