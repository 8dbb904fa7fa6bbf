"""``POST /plans/cameras``, ``POST /plans/garitas`` (background jobs), ``GET`` and ``DELETE
/jobs/{id}``, ``GET /plans`` and ``GET /plans/{id}``.

Who sees what: a job, and the plan it made, is shown only to the key that submitted it and to
admin keys (others get 404, as if it did not exist); jobs stored before jobs had owners, to
admin keys only. Plans written by ``geoprio plan`` under the data directory are public, like
every other aggregate output. A GET without a key (allowed when aggregates are open) sees the
file plans and no job.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from sqlalchemy import select

from ..admission import AdmissionRefused
from ..db import sessions
from ..deps import EngineDep, KeyDep, OptionalKeyDep, StoreDep, aggregate_access, require_scope
from ..jobs import Job, QueueFull
from ..keys import KeyInfo, owner_filter
from ..schemas import CameraPlanRequest, GaritaPlanRequest, JobStatus, PlanDetail, PlanSummary

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


@router.get("/plans", response_model=list[PlanSummary], dependencies=[Depends(aggregate_access)])
def list_plans(engine: EngineDep, store: StoreDep, viewer: OptionalKeyDep) -> list[PlanSummary]:
    """Plans written by ``geoprio plan`` under the data directory, then those this key's jobs
    computed (every key's, for an admin key).
    """
    out = [_summary_of(pid, p["kind"], "file", p["summary"]) for pid, p in store.plans().items()]
    if viewer is None:
        return out
    with sessions(engine)() as s:
        done = select(Job).where(Job.status == "done", owner_filter(viewer, Job.owner_key_id)).order_by(Job.created_at)
        for job in s.scalars(done):
            out.append(_summary_of(job.id, job.kind, "api", job.summary or {}))
    return out


@router.get("/plans/{plan_id}", response_model=PlanDetail, dependencies=[Depends(aggregate_access)])
def get_plan(plan_id: str, engine: EngineDep, store: StoreDep, viewer: OptionalKeyDep) -> PlanDetail:
    """One plan: its summary (objective, bound, gap…), coverage curve and sites."""
    files = store.plans()
    if plan_id in files:
        p = files[plan_id]
        base = _summary_of(plan_id, p["kind"], "file", p["summary"])
        return PlanDetail(**base.model_dump(), summary=p["summary"], sites=p["sites"])
    with sessions(engine)() as s:
        job = s.get(Job, plan_id)
        if job is None or not _visible(job, viewer):
            raise HTTPException(404, f"plan {plan_id!r} not found")
        if job.status != "done":
            raise HTTPException(404, f"plan {plan_id!r} not found (job is {job.status})")
        base = _summary_of(job.id, job.kind, "api", job.summary or {})
        return PlanDetail(**base.model_dump(), summary=job.summary or {}, sites=json.loads(job.sites or "{}"))
