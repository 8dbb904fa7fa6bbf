"""``POST /plans/cameras``, ``POST /plans/garitas`` (background jobs), ``GET`` and ``DELETE
/jobs/{id}``, ``GET /plans`` and ``GET /plans/{id}``.

Who sees what: a job, and the plan it made, is shown only to the key that submitted it and to
admin keys (others get 404, as if it did not exist); jobs stored before jobs had owners, to
admin keys only. Plans written by ``geoprio plan`` under the data directory are public, like
every other aggregate output. A GET without a key (allowed when aggregates are open) sees the
file plans and no job.

What a plan shows: in full to a key with the ``read:records`` scope; to everyone else, the
public release of :func:`geoprio.placement.public.public_plan` under the server's policy,
applied when the plan is read (stored plans and files stay full): sites snapped to the centres
of a ``min_site_spacing_m`` grid, per-site figures and the coverage curve hidden unless every
site covers enough incidents, totals hidden unless the incidents covered are known to reach
the threshold (file plans: counted from their demand layer; camera jobs: from the crime
points behind the served index).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request, status
from sqlalchemy import select

from geoprio.disclosure import DisclosurePolicy
from geoprio.io import files as io
from geoprio.placement.public import plan_counts, public_plan, sites_frame
from geoprio.settings import OUTPUT_CRS

from ..admission import AdmissionRefused
from ..db import sessions
from ..deps import EngineDep, KeyDep, OptionalKeyDep, PolicyDep, StoreDep, aggregate_access, require_scope
from ..jobs import Job, QueueFull
from ..keys import KeyInfo, owner_filter
from ..schemas import CameraPlanRequest, GaritaPlanRequest, JobStatus, PlanDetail, PlanSummary
from ..store import Store
from ..worker import incident_frame

router = APIRouter(tags=["plans"])

SubmitKey = Annotated[KeyInfo, Depends(require_scope("submit:plans"))]

_REFUSALS: dict[int | str, dict[str, Any]] = {
    422: {"description": "invalid parameters, or a plan over the admission limits (the estimate and the limits)"},
    429: {"description": "too many jobs queued or running, for this key or in all (see Retry-After)"},
}


def _status(job: Job) -> JobStatus:
    return JobStatus(
        id=job.id,
        kind=job.kind,
        status=job.status,
        params=job.params,
        error=job.error,
        created_at=job.created_at.isoformat(),
        finished_at=job.finished_at.isoformat() if job.finished_at else None,
        plan_url=f"/plans/{job.id}" if job.status == "done" else None,
        attempts=job.attempts or 0,
        estimate=job.estimate,
    )


def _submit(request: Request, kind: str, body: CameraPlanRequest | GaritaPlanRequest, owner: KeyInfo) -> JobStatus:
    try:
        job = request.app.state.jobs.submit(kind, body.model_dump(), owner=owner)
    except AdmissionRefused as exc:
        raise HTTPException(422, exc.detail) from None
    except QueueFull as exc:
        raise HTTPException(exc.status_code, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    return _status(job)


@router.post("/plans/cameras", status_code=status.HTTP_202_ACCEPTED, response_model=JobStatus, responses=_REFUSALS)
def post_camera_plan(body: CameraPlanRequest, request: Request, key: SubmitKey) -> JobStatus:
    """Compute a camera plan in the background; poll ``GET /jobs/{id}`` with the same key."""
    return _submit(request, "cameras", body, key)


@router.post("/plans/garitas", status_code=status.HTTP_202_ACCEPTED, response_model=JobStatus, responses=_REFUSALS)
def post_garita_plan(body: GaritaPlanRequest, request: Request, key: SubmitKey) -> JobStatus:
    """Compute a garita plan in the background; poll ``GET /jobs/{id}`` with the same key."""
    return _submit(request, "garitas", body, key)


def _visible(job: Job | None, viewer: KeyInfo | None) -> bool:
    return job is not None and viewer is not None and viewer.sees(job.owner_key_id)


@router.get("/jobs/{job_id}", response_model=JobStatus, dependencies=[Depends(aggregate_access)])
def get_job(job_id: str, engine: EngineDep, viewer: OptionalKeyDep) -> JobStatus:
    """A job's status (to the key that submitted it, or an admin key); when done, ``plan_url``
    points at the plan.
    """
    with sessions(engine)() as s:
        job = s.get(Job, job_id)
        if job is None or not _visible(job, viewer):
            raise HTTPException(404, f"job {job_id!r} not found")
        return _status(job)


@router.delete("/jobs/{job_id}", response_model=JobStatus, responses={409: {"description": "the job has already ended"}})
def cancel_job(job_id: str, request: Request, engine: EngineDep, key: KeyDep) -> JobStatus:
    """Cancel a job of this key (an admin key: of any key): a queued job never runs, a running
    one's worker is killed; the job ends ``cancelled``.
    """
    with sessions(engine)() as s:
        job = s.get(Job, job_id)
        if job is None or not _visible(job, key):
            raise HTTPException(404, f"job {job_id!r} not found")
        if job.status not in ("queued", "running"):
            raise HTTPException(409, f"job {job_id!r} is {job.status}: nothing to cancel")
    cancelled = request.app.state.jobs.cancel(job_id)
    if cancelled is None:
        raise HTTPException(404, f"job {job_id!r} not found")
    return _status(cancelled)


def _summary_of(pid: str, kind: str, source: str, summary: dict[str, Any]) -> PlanSummary:
    keys = ("n_selected", "covered_share", "objective", "bound", "gap", "solver", "status")
    return PlanSummary(id=pid, kind=kind, source=source, **{k: summary.get(k) for k in keys})


def _policy_key(policy: DisclosurePolicy | None) -> tuple[Any, ...] | None:
    return None if policy is None else (policy.min_count, policy.protection_level, policy.min_site_spacing_m)


def _file_folders(store: Store) -> dict[str, tuple[Path, str]]:
    """File plan id → (its folder, its file prefix), as :meth:`Store.plans` names them."""
    found = {}
    for prefix in ("camaras", "garitas"):
        for summary in sorted(store.data_dir.glob(f"**/{prefix}_resumen.json")):
            found["file-" + "-".join(summary.parent.relative_to(store.data_dir).parts + (prefix,))] = (summary.parent, prefix)
    return found


def file_plan_release(store: Store, plan_id: str, policy: DisclosurePolicy | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A plan written by ``geoprio plan``: its summary and sites (GeoJSON) as ``policy`` publishes them."""
    return _file_plan(store, plan_id, policy)


def _file_plan(store: Store, plan_id: str, policy: DisclosurePolicy | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A file plan's summary and sites as ``policy`` publishes them (built once per policy):
    the incidents its sites cover are counted from its demand layer and manifest.
    """
    p = store.plans()[plan_id]
    if policy is None:
        return p["summary"], p["sites"]

    def build() -> tuple[dict[str, Any], dict[str, Any]]:
        folder, prefix = _file_folders(store).get(plan_id, (None, ""))
        demand, params = None, dict[str, Any]()
        if folder is not None:
            path = folder / f"{prefix}_demanda.geojson"
            demand = io.read_layer(path) if path.is_file() else None
            manifest = folder / "manifest.json"
            if manifest.is_file():
                params = json.loads(manifest.read_text(encoding="utf-8")).get("parameters") or {}
        full = sites_frame(p["sites"])
        counts = plan_counts(full, demand, radius_m=params.get("radius_m"), kind=p["kind"])
        pub = public_plan(
            p["summary"],
            full,
            policy,
            counts=counts,
            incident_demand=p["kind"] == "cameras" or params.get("demand") == "incidents",
        )
        return pub.summary, pub.sites_geojson()

    return store.cached(("plans", plan_id, _policy_key(policy)), build)


@router.get("/plans", response_model=list[PlanSummary], dependencies=[Depends(aggregate_access)])
def list_plans(engine: EngineDep, store: StoreDep, viewer: OptionalKeyDep, policy: PolicyDep) -> list[PlanSummary]:
    """Plans written by ``geoprio plan`` under the data directory, then those this key's jobs
    computed (every key's, for an admin key). Totals hidden by the disclosure policy are null.
    """
    out = [_summary_of(pid, p["kind"], "file", _file_plan(store, pid, policy)[0]) for pid, p in store.plans().items()]
    if viewer is None:
        return out
    with sessions(engine)() as s:
        done = select(Job).where(Job.status == "done", owner_filter(viewer, Job.owner_key_id)).order_by(Job.created_at)
        for job in s.scalars(done):
            out.append(_summary_of(job.id, job.kind, "api", _job_plan(job, policy, store)[0]))
    return out


def _job_plan(job: Job, policy: DisclosurePolicy | None, store: Store) -> tuple[dict[str, Any], dict[str, Any]]:
    """A job's stored summary and sites as ``policy`` publishes them (built once per policy).
    A camera plan's incidents are counted around its sites from the crime points behind the
    served index it was made from; a garita plan's are not (its coverage runs along the shore),
    so its per-site figures and, with beach incidents as demand, its totals are hidden.
    """
    summary, sites = job.summary or {}, json.loads(job.sites or "{}")
    if policy is None:
        return summary, sites

    def build() -> tuple[dict[str, Any], dict[str, Any]]:
        params = job.params or {}
        full = sites_frame(sites)
        counts = None
        if job.kind == "cameras":
            try:
                level, _ = store.table(params.get("level"))
                points = incident_frame(store, level)
            except (LookupError, KeyError):
                points = None
            if points is not None and not points.empty:
                demand = gpd.GeoDataFrame(
                    {"n_records": pd.to_numeric(points["cantidad"], errors="coerce").fillna(1.0).to_numpy()},
                    geometry=gpd.points_from_xy(pd.to_numeric(points["x"], errors="coerce"), pd.to_numeric(points["y"], errors="coerce")),
                    crs=OUTPUT_CRS,
                )
                counts = plan_counts(full, demand, radius_m=params.get("radius_m"), kind="cameras")
        incident_demand = job.kind == "cameras" or bool(params.get("beach_incidents", True))
        pub = public_plan(summary, full, policy, counts=counts, incident_demand=incident_demand)
        return pub.summary, pub.sites_geojson()

    return store.cached(("plans", job.id, _policy_key(policy)), build)


@router.get("/plans/{plan_id}", response_model=PlanDetail, dependencies=[Depends(aggregate_access)])
def get_plan(plan_id: str, engine: EngineDep, store: StoreDep, viewer: OptionalKeyDep, policy: PolicyDep) -> PlanDetail:
    """One plan: its summary (objective, bound, gap…), coverage curve and sites (without a key
    with ``read:records``: the public release, see the module docstring).
    """
    files = store.plans()
    if plan_id in files:
        summary, sites = _file_plan(store, plan_id, policy)
        base = _summary_of(plan_id, files[plan_id]["kind"], "file", summary)
        return PlanDetail(**base.model_dump(), summary=summary, sites=sites)
    with sessions(engine)() as s:
        job = s.get(Job, plan_id)
        if job is None or not _visible(job, viewer):
            raise HTTPException(404, f"plan {plan_id!r} not found")
        if job.status != "done":
            raise HTTPException(404, f"plan {plan_id!r} not found (job is {job.status})")
        summary, sites = _job_plan(job, policy, store)
        base = _summary_of(job.id, job.kind, "api", summary)
        return PlanDetail(**base.model_dump(), summary=summary, sites=sites)
