"""``POST /plans/cameras``, ``POST /plans/garitas`` (background jobs), ``GET /jobs/{id}``,
``GET /plans`` and ``GET /plans/{id}``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from sqlalchemy import select

from ..db import sessions
from ..deps import EngineDep, StoreDep, aggregate_access, require_key
from ..jobs import Job
from ..schemas import CameraPlanRequest, GaritaPlanRequest, JobStatus, PlanDetail, PlanSummary

router = APIRouter(tags=["plans"])


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
    )


def _submit(request: Request, kind: str, body: CameraPlanRequest | GaritaPlanRequest) -> JobStatus:
    job = request.app.state.jobs.submit(kind, body.model_dump())
    return _status(job)


@router.post("/plans/cameras", status_code=status.HTTP_202_ACCEPTED, response_model=JobStatus, dependencies=[Depends(require_key)])
def post_camera_plan(body: CameraPlanRequest, request: Request) -> JobStatus:
    """Compute a camera plan in the background; poll ``GET /jobs/{id}``."""
    return _submit(request, "cameras", body)


@router.post("/plans/garitas", status_code=status.HTTP_202_ACCEPTED, response_model=JobStatus, dependencies=[Depends(require_key)])
def post_garita_plan(body: GaritaPlanRequest, request: Request) -> JobStatus:
    """Compute a garita plan in the background; poll ``GET /jobs/{id}``."""
    return _submit(request, "garitas", body)


@router.get("/jobs/{job_id}", response_model=JobStatus, dependencies=[Depends(aggregate_access)])
def get_job(job_id: str, engine: EngineDep) -> JobStatus:
    """A job's status; when done, ``plan_url`` points at the plan."""
    with sessions(engine)() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise HTTPException(404, f"job {job_id!r} not found")
        return _status(job)


def _summary_of(pid: str, kind: str, source: str, summary: dict[str, Any]) -> PlanSummary:
    keys = ("n_selected", "covered_share", "objective", "bound", "gap", "solver", "status")
    return PlanSummary(id=pid, kind=kind, source=source, **{k: summary.get(k) for k in keys})


@router.get("/plans", response_model=list[PlanSummary], dependencies=[Depends(aggregate_access)])
def list_plans(engine: EngineDep, store: StoreDep) -> list[PlanSummary]:
    """Plans written by ``geoprio plan`` under the data directory, then those computed here."""
    out = [_summary_of(pid, p["kind"], "file", p["summary"]) for pid, p in store.plans().items()]
    with sessions(engine)() as s:
        for job in s.scalars(select(Job).where(Job.status == "done").order_by(Job.created_at)):
            out.append(_summary_of(job.id, job.kind, "api", job.summary or {}))
    return out


@router.get("/plans/{plan_id}", response_model=PlanDetail, dependencies=[Depends(aggregate_access)])
def get_plan(plan_id: str, engine: EngineDep, store: StoreDep) -> PlanDetail:
    """One plan: its summary (objective, bound, gap…), coverage curve and sites."""
    files = store.plans()
    if plan_id in files:
        p = files[plan_id]
        base = _summary_of(plan_id, p["kind"], "file", p["summary"])
        return PlanDetail(**base.model_dump(), summary=p["summary"], sites=p["sites"])
    with sessions(engine)() as s:
        job = s.get(Job, plan_id)
        if job is None or job.status != "done":
            raise HTTPException(404, f"plan {plan_id!r} not found" + (f" (job is {job.status})" if job else ""))
        base = _summary_of(job.id, job.kind, "api", job.summary or {})
        return PlanDetail(**base.model_dump(), summary=job.summary or {}, sites=json.loads(job.sites or "{}"))
