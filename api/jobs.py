"""Plans computed in the background: accepted jobs are stored first, then run in a pool.

A job is committed to the database (status ``queued``) before the API answers 202, and
start-up re-queues every job still ``queued`` or ``running``, so a restart loses nothing
that was accepted. The work itself is :func:`geoprio.placement.plan.plan_cameras` /
:func:`geoprio.placement.plan.plan_garitas`, on the incidents behind the served index and the
facility and coast layers of ``layers_dir``.
"""

from __future__ import annotations

import datetime as dt
import json
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from geoprio.errors import GeoprioError

from .db import Base, now, sessions
from .settings import Settings
from .store import Store

__all__ = ["Job", "JobRunner"]


class Job(Base):
    """A plan computed in the background: its parameters, status and result."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, running, done, failed
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    sites: Mapped[str | None] = mapped_column(Text, nullable=True)  # GeoJSON
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JobRunner:
    """Runs plan jobs in a small thread pool and records their outcome."""

    def __init__(self, engine: Engine, store: Store, settings: Settings) -> None:
        self.engine, self.store, self.settings = engine, store, settings
        self.pool = ThreadPoolExecutor(max_workers=settings.job_workers, thread_name_prefix="geoprio-job")

    def submit(self, kind: str, params: dict[str, Any]) -> Job:
        with sessions(self.engine)() as s, s.begin():
            job = Job(kind=kind, params=params, status="queued")
            s.add(job)
        self.pool.submit(self._run, job.id)
        return job

    def resume(self) -> int:
        """Re-queue what a previous process accepted but did not finish."""
        with sessions(self.engine)() as s:
            ids = list(s.scalars(select(Job.id).where(Job.status.in_(["queued", "running"]))))
        for job_id in ids:
            self.pool.submit(self._run, job_id)
        return len(ids)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _set(self, job_id: str, **values: Any) -> None:
        with sessions(self.engine)() as s, s.begin():
            job = s.get(Job, job_id)
            if job is None:  # deleted meanwhile: nothing to record
                return
            for k, v in values.items():
                setattr(job, k, v)

    def _run(self, job_id: str) -> None:
        with sessions(self.engine)() as s:
            job = s.get(Job, job_id)
            if job is None:
                return
            kind, params = job.kind, dict(job.params)
        self._set(job_id, status="running")
        try:
            run = compute_plan(kind, params, self.store, self.settings)
            summary = json.loads(json.dumps(run.summary(), default=_jsonable))
            summary["curve"] = json.loads(run.curve.to_json(orient="records"))
            self._set(job_id, status="done", summary=summary, sites=run.sites.to_json(drop_id=True), finished_at=_now())
        except (GeoprioError, ValueError, LookupError) as exc:
            self._set(job_id, status="failed", error=str(exc), finished_at=_now())
        except Exception as exc:  # a bug: keep the service up, record it
            self._set(
                job_id,
                status="failed",
                error=f"internal error: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}",
                finished_at=_now(),
            )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _jsonable(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    return str(v)


def _layer(settings: Settings, name: str) -> Path | None:
    folder = settings.layers_dir if settings.layers_dir is not None else settings.data_dir.parent
    p = folder / name
    return p if p.is_file() else None


def compute_plan(kind: str, params: dict[str, Any], store: Store, settings: Settings) -> Any:
    """Solve one plan from validated parameters (see :mod:`api.schemas`)."""
    from geoprio.placement.plan import plan_cameras, plan_garitas

    level, _ = store.table(params.get("level"))
    records = store.records(level)
    crimes = records[(records["kind"] == "crime") & records["x"].notna()] if "x" in records else records.iloc[0:0]
    incidents = crimes[["x", "y", "category", "weight"]].rename(columns={"weight": "cantidad"}).astype(str)
    common = {
        "p": params.get("p"),
        "target_share": params.get("target_share"),
        "time_limit_s": params["time_limit_s"],
        "min_spacing_m": params.get("min_spacing_m"),
    }
    if kind == "cameras":
        if incidents.empty:
            raise LookupError("the served index has no incident points to plan cameras for")
        return plan_cameras(
            incidents,
            radius_m=params["radius_m"],
            grid_spacing_m=params["grid_spacing_m"],
            existing=_layer(settings, "camaras.geojson") if params["use_existing"] else None,
            index_zones=store.table(level)[1],
            index_weight=params["index_weight"],
            **common,
        )
    beaches, coast = _layer(settings, "playas.geojson"), _layer(settings, "costa.geojson")
    if beaches is None and coast is None:
        raise LookupError(f"no playas.geojson or costa.geojson in {settings.layers_dir}: nothing to plan garitas along")
    return plan_garitas(
        coast=coast,
        beaches=beaches,
        existing=_layer(settings, "garitas.geojson") if params["use_existing"] else None,
        incidents=incidents if not incidents.empty and params["beach_incidents"] else None,
        spacing_m=params["spacing_m"],
        radius_m=params["radius_m"],
        **common,
    )
