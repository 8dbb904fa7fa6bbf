"""Admission control: a plan request is sized before it is queued, and refused when too big.

:func:`estimate_plan` counts what the solver would build, with geoprio's own tools and on a
sample, in well under a second:

* cameras: demand = the crime points behind the served index; candidates = a
  :func:`~geoprio.placement.sites.candidate_grid` over the index zones (at a coarser spacing
  when the requested one would give more than :data:`SAMPLE_GRID` points, scaled back by the
  ratio of cell areas); pairs within the radius = the mean
  :func:`~geoprio.placement.problem.coverage_counts` of a sample of demand points × the
  demand (π r² / spacing² per point when the radius is under three coarse cells);
* garitas: the shore from :func:`~geoprio.placement.shore.shore_from_layers`; candidates =
  its length / ``spacing_m``; demand = the incidents (an upper bound: only those near the
  shore are kept) or one point every ``demand_step_m``; pairs = demand × the candidates
  within 2 r of shore.

Memory is estimated from these counts with per-item costs measured on the demo city: the
peak resident memory of a job's whole process group (the job process and the two exact-solver
processes it starts, each with its own copy of the coverage model and HiGHS's), measured by
``benchmarks/admission.py`` (see :data:`BYTES_PER_PAIR`).
:func:`check_admission` compares the estimate with the settings' limits and raises
:class:`AdmissionRefused`, which the route answers with a JSON 422 giving both.

Sizing runs in the API process, so what does not depend on a request's radius is built once
and kept with the served outputs (:meth:`~geoprio.api.store.Store.cached`): the zones in metres,
the demand (its count and a projected sample) and the last :data:`GRID_CACHE` sample grids (their
coordinates only); a repeated request then costs one KD-tree count (measured on the demo city:
0.4 s per camera request before, a few tens of ms after).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np

from geoprio.placement.problem import coverage_counts
from geoprio.placement.shore import shore_from_layers
from geoprio.placement.sites import candidate_grid, metric_crs_or_default
from geoprio.settings import DEFAULT_METRIC_CRS

from .settings import Settings
from .store import Store
from .worker import incident_frame, layer_path

__all__ = [
    "BASE_BYTES",
    "BYTES_PER_CANDIDATE",
    "BYTES_PER_DEMAND",
    "BYTES_PER_PAIR",
    "GRID_CACHE",
    "AdmissionRefused",
    "PlanEstimate",
    "check_admission",
    "estimate_plan",
    "memory_bytes",
]

#: Resident memory of a job's processes before they build anything (interpreters and libraries).
BASE_BYTES = 500_000_000
#: Per candidate site (grid points, their geometry and table row; ~590 B measured).
BYTES_PER_CANDIDATE = 800
#: Per demand point (its row, geometry and weights).
BYTES_PER_DEMAND = 400
#: Per demand–candidate pair within the radius: the KD-tree pairs and the sparse matrix in the
#: job process, plus the model and HiGHS's copy in each of the two exact-solver processes
#: (about 100 B fitted on three demo-city plans of 12 to 47 million pairs, whose process groups
#: peaked at 1.7, 3.5 and 5.3 GB; see ``benchmarks/admission.py`` and
#: ``tests/api/test_admission.py``).
BYTES_PER_PAIR = 100
#: Most grid points built to count candidates (a coarser grid stands in for a finer one).
SAMPLE_GRID = 100_000
#: Most demand points whose coverage is counted.
SAMPLE_DEMAND = 2_000
#: Sample grids kept per level (their coordinates: at most 1.6 MB each).
GRID_CACHE = 8
_GB = 1e9


@dataclass(frozen=True)
class PlanEstimate:
    """The size of a plan request: demand points, candidate sites, pairs within the radius, memory."""

    demand: int
    candidates: int
    pairs: int
    memory_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """The estimate as JSON-ready numbers (memory also in GB)."""
        return {**asdict(self), "memory_gb": round(self.memory_bytes / _GB, 2)}


class AdmissionRefused(ValueError):
    """A plan request over a configured limit; ``detail`` is the JSON the client gets."""

    def __init__(self, message: str, estimate: PlanEstimate, limits: dict[str, Any]) -> None:
        super().__init__(message)
        self.detail = {"message": message, "estimate": estimate.as_dict(), "limits": limits}


def memory_bytes(demand: int, candidates: int, pairs: int) -> int:
    """The estimated peak resident memory of a plan job's processes for these counts."""
    return int(BASE_BYTES + demand * BYTES_PER_DEMAND + candidates * BYTES_PER_CANDIDATE + pairs * BYTES_PER_PAIR)


def _sample(xy: np.ndarray, n: int) -> np.ndarray:
    if len(xy) <= n:
        return xy
    return xy[np.random.default_rng(0).choice(len(xy), n, replace=False)]


class _Recent:
    """A thread-safe mapping that keeps the ``size`` most recently used values."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()  # outside the lock: two threads may build the same value, never block each other
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def _demand(store: Store, level: str, crs: Any) -> tuple[int, np.ndarray]:
    """The number of crime points behind the index of ``level`` and a sample of them in metres."""

    def build() -> tuple[int, np.ndarray]:
        incidents = incident_frame(store, level)
        if incidents.empty:
            return 0, np.empty((0, 2))
        pts = gpd.GeoSeries.from_xy(incidents["x"].astype(float), incidents["y"].astype(float), crs="EPSG:4326").to_crs(crs)
        return len(incidents), _sample(np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]), SAMPLE_DEMAND)

    result: tuple[int, np.ndarray] = store.cached(("admission-demand", level), build)
    return result


def _camera_estimate(params: dict[str, Any], store: Store) -> PlanEstimate:
    level, zones = store.table(params.get("level"))
    crs = metric_crs_or_default(None)

    def metric_zones() -> gpd.GeoSeries:
        return zones.geometry.to_crs(crs)

    area = store.cached(("admission-zones", level), metric_zones)
    n_demand, demand_xy = _demand(store, level, crs)
    spacing, radius = float(params["grid_spacing_m"]), float(params["radius_m"])
    x0, y0, x1, y1 = area.total_bounds
    bbox_points = max(1.0, (x1 - x0) / spacing) * max(1.0, (y1 - y0) / spacing)
    coarse = max(spacing, math.sqrt(bbox_points / SAMPLE_GRID) * spacing)

    def grid_xy() -> np.ndarray:
        grid = candidate_grid(spacing_m=coarse, area=gpd.GeoDataFrame(geometry=area), metric_crs=crs)
        return np.asarray(grid.xy, dtype=float).reshape(-1, 2)

    grids = store.cached(("admission-grids", level), lambda: _Recent(GRID_CACHE))
    xy = grids.get(round(coarse, 6), grid_xy)
    scale = (coarse / spacing) ** 2
    n_candidates = int(round(len(xy) * scale))
    if n_demand == 0 or n_candidates == 0:
        return PlanEstimate(n_demand, n_candidates, 0, memory_bytes(n_demand, n_candidates, 0))
    if radius >= 3 * coarse:
        per_point = float(coverage_counts(demand_xy, xy, radius).mean()) * scale
    else:
        per_point = min(math.pi * radius**2 / spacing**2 + 1, n_candidates)
    pairs = int(round(per_point * n_demand))
    memory = memory_bytes(n_demand, n_candidates, pairs) + int(bbox_points * 40)  # the full grid before clipping
    return PlanEstimate(n_demand, n_candidates, pairs, memory)


def _garita_estimate(params: dict[str, Any], store: Store, settings: Settings) -> PlanEstimate:
    coast, beaches = layer_path(settings, "costa.geojson"), layer_path(settings, "playas.geojson")
    if coast is None and beaches is None:  # the job will fail with the reason; nothing to size
        return PlanEstimate(0, 0, 0, memory_bytes(0, 0, 0))

    def shore_length() -> float:
        from geoprio.io.files import read_layer

        shore = shore_from_layers(
            read_layer(coast) if coast is not None else None,
            read_layer(beaches) if beaches is not None else None,
            metric_crs=DEFAULT_METRIC_CRS,
        )
        return float(shore.lengths.sum())

    length = store.cached(("admission-shore", str(coast), str(beaches)), shore_length)
    spacing, radius = float(params["spacing_m"]), float(params["radius_m"])
    n_candidates = int(length // spacing) + 1
    level, _ = store.table(params.get("level"))
    n_incidents = _demand(store, level, metric_crs_or_default(None))[0] if params.get("beach_incidents", True) else 0
    n_demand = n_incidents if n_incidents else int(length // 10.0) + 1
    pairs = int(n_demand * min(n_candidates, 2 * radius / spacing + 1))
    return PlanEstimate(n_demand, n_candidates, pairs, memory_bytes(n_demand, n_candidates, pairs))


def estimate_plan(kind: str, params: dict[str, Any], store: Store, settings: Settings) -> PlanEstimate:
    """Size a validated plan request (see :mod:`api.schemas`) on the served data."""
    if kind == "cameras":
        return _camera_estimate(params, store)
    return _garita_estimate(params, store, settings)


def check_admission(estimate: PlanEstimate, settings: Settings) -> None:
    """Raise :class:`AdmissionRefused` when the estimate is over a configured limit."""
    memory_limit_gb = settings.plan_max_memory_gb if settings.plan_max_memory_gb is not None else settings.job_memory_limit_gb
    limits = {
        "pairs": settings.plan_max_pairs,
        "candidates": settings.plan_max_candidates,
        "memory_gb": memory_limit_gb,
    }
    over = []
    if estimate.pairs > settings.plan_max_pairs:
        over.append(f"about {estimate.pairs:,} demand–candidate pairs within the radius (limit {settings.plan_max_pairs:,})")
    if estimate.candidates > settings.plan_max_candidates:
        over.append(f"about {estimate.candidates:,} candidate sites (limit {settings.plan_max_candidates:,})")
    if estimate.memory_bytes > memory_limit_gb * _GB:
        over.append(f"about {estimate.memory_bytes / _GB:.2f} GB of memory (limit {memory_limit_gb:g} GB)")
    if over:
        message = "plan refused: it would need " + "; ".join(over) + ". Use a larger grid spacing or a smaller radius."
        raise AdmissionRefused(message, estimate, limits)
