"""File-level hot-spot jobs: options that hold the input files, and the functions that run them.

The command line (``geoprio hotspots``, ``backtest``, ``displacement``) and a replay from a
manifest run these. Each job is one frozen options object (:class:`HotspotJob`,
:class:`BacktestJob`, :class:`DisplacementJob`) holding the point file (or PostGIS table or
query) and its load settings (:class:`PointsSource`), the zone file (:class:`ZonesSource`) and the analysis options, so that
``run_*_job(job)`` can rebuild everything and the manifest can replay it
(:func:`replay_hotspots`, :func:`replay_backtest`, :func:`replay_displacement`).

For records already in memory, call :func:`geoprio.hotspots.find.find_hotspots`,
:func:`geoprio.hotspots.backtest_run.run_backtest` or
:func:`geoprio.hotspots.displacement_run.run_displacement` directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError, field_validator

from geoprio.disclosure import disclosure_of
from geoprio.errors import InputError
from geoprio.hotspots.accel import ProgressCallback
from geoprio.hotspots.backtest import DEFAULT_AREA_SHARES
from geoprio.hotspots.backtest_run import BACKTEST_KIND, BACKTEST_METHODS, BacktestRun, backtest_title, run_backtest
from geoprio.hotspots.clusters import DEFAULT_COMPLEXITY, load_complexity_config
from geoprio.hotspots.displacement import DEFAULT_BUFFER_M
from geoprio.hotspots.displacement_run import DISPLACEMENT_KIND, DisplacementRun, run_displacement
from geoprio.hotspots.find import HOTSPOTS_KIND, HotspotRun, find_hotspots
from geoprio.hotspots.options import HotspotOptions, as_timestamp, options_error
from geoprio.hotspots.public import public_run
from geoprio.index.measures import filter_records
from geoprio.io import files as io
from geoprio.io.postgis import PostgisSource, is_database_source, parse_source
from geoprio.io.results import Replay, replay
from geoprio.options import Options
from geoprio.records.load import Records, load_points
from geoprio.settings import DEFAULT_LANG, DEFAULT_METRIC_CRS, Lang
from geoprio.zones.bbox import BBox, resolve_bbox
from geoprio.zones.layers import Zones, load_zones

__all__ = [
    "BacktestJob",
    "DisplacementJob",
    "HotspotJob",
    "PointsSource",
    "ZonesSource",
    "load_source_points",
    "load_source_zones",
    "parse_where",
    "replay_backtest",
    "replay_displacement",
    "replay_hotspots",
    "run_backtest_job",
    "run_displacement_job",
    "run_hotspot_job",
    "select_period",
]


def parse_where(items: list[str] | None) -> dict[str, list[str]] | None:
    """``["COL=V1,V2", …]`` as ``{"COL": ["V1", "V2"]}`` (the ``--zones-where`` filter)."""
    if not items:
        return None
    where: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--zones-where: expected COL=V1,V2, got {item!r}")
        col, values = item.split("=", 1)
        where[col.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return where


class _Job(Options):
    """A job's options: a bad value raises one :class:`InputError` naming each setting."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(exc) from None


class PointsSource(_Job):
    """A point file and how to read it (:func:`geoprio.records.load.load_points`).

    ``path`` may name a PostGIS table or query instead of a file: a
    :class:`~geoprio.io.postgis.PostgisSource` or its source string
    ``"postgresql://host:5432/db?table=schema.name"`` (credentials from the environment only).
    A manifest records the source but hashes no data for it (a replay reads the table as it
    is that day), as the index's sources do.
    """

    path: Path | PostgisSource
    kind: Literal["crime", "complaint", "coexistence"] = "crime"
    x: str | None = None
    y: str | None = None
    date: str | None = None
    hour: str | None = None
    category: str | None = None
    crs: str | None = None
    offsets: Literal["convert", "drop"] = "convert"
    bbox: BBox = "auto"

    @field_validator("path", mode="before")
    @classmethod
    def _database(cls, v: Any) -> Any:
        """A ``postgresql://`` string is a database source (a Path would fold its ``//``)."""
        return parse_source(v, where="path") if isinstance(v, str) and is_database_source(v) else v

    @property
    def files(self) -> tuple[Path, ...]:
        """The file the source reads, for the manifest's inputs: none for a database table or query."""
        return () if isinstance(self.path, PostgisSource) else (self.path,)


class ZonesSource(_Job):
    """A zone layer and how to read it (:func:`geoprio.zones.layers.load_zones`)."""

    path: Path
    id: str
    name: str | None = None
    where: dict[str, list[str]] | None = None


def load_source_zones(source: ZonesSource | None, metric_crs: str) -> Zones | None:
    """The zones of a job (None without a zone layer)."""
    if source is None:
        return None
    return load_zones(source.path, id=source.id, name=source.name, where=source.where, metric_crs=metric_crs)


def load_source_points(source: PointsSource, zones: Zones | None) -> Records:
    """The validated records of a point file (checked against its ``bbox``)."""
    return load_points(
        source.path,
        kind=source.kind,
        x=source.x,
        y=source.y,
        date=source.date,
        hour=source.hour,
        category=source.category,
        crs=source.crs,
        bbox=resolve_bbox(source.bbox, zones),
        offsets=source.offsets,
    )


def select_period(records: Records, date_from: dt.date | None = None, date_to: dt.date | None = None) -> Records:
    """The records dated from ``date_from`` to ``date_to`` (inclusive days; records without a date left out).

    Uses the index's filter (:func:`geoprio.index.measures.filter_records`); an empty period
    is an :class:`InputError`.
    """
    if date_from is None and date_to is None:
        return records
    data = filter_records(records.data, date_from=date_from, date_to=date_to)
    if data.empty:
        raise InputError(f"the period {date_from or '…'} – {date_to or '…'} is empty: no record falls in it")
    report = records.report.copy()  # the rows outside the period are not used: say so
    left_out = records.data.loc[~records.data["row"].isin(data["row"])]
    if len(left_out):
        report.drop("outside_period", left_out["row"].to_numpy(), report.columns.get("date"), [str(d) for d in left_out["date"].head(5)])
    return dataclasses.replace(records, data=data.reset_index(drop=True), report=report)


def _date_text(v: Any, name: str) -> Any:
    if v is not None:
        as_timestamp(v, name)
    return v


# --------------------------------------------------------------------------- hot spots


class HotspotJob(_Job):
    """A hot-spot run from files: the points, zones, context sources, period, complexity file and options."""

    points: PointsSource
    zones: ZonesSource | None = None
    context: dict[str, PointsSource] = {}
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    complexity: Path | None = None
    options: HotspotOptions = HotspotOptions()

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The files the job reads, in the manifest's order."""
        return (
            *self.points.files,
            *([self.zones.path] if self.zones else []),
            *([self.complexity] if self.complexity else []),
            *(f for s in self.context.values() for f in s.files),
        )


def run_hotspot_job(job: HotspotJob, *, progress: ProgressCallback | None = None) -> HotspotRun:
    """Load the job's files and run :func:`geoprio.hotspots.find.find_hotspots`; nothing is written."""
    cfg = load_complexity_config(job.complexity) if job.complexity is not None else DEFAULT_COMPLEXITY
    zones = load_source_zones(job.zones, job.options.metric_crs)
    loaded = load_source_points(job.points, zones)
    records = select_period(loaded, job.date_from, job.date_to)
    context = {name: load_source_points(src, zones) for name, src in job.context.items()}
    run = find_hotspots(records, zones=zones, context=context, options=job.options, complexity=cfg, progress=progress)
    reports = (*run.reports, *(r.report for r in context.values()))  # the points' report, with the rows left out
    return dataclasses.replace(run, job=job, inputs=job.inputs, reports=reports)


def replay_hotspots(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Re-run a ``geoprio hotspots`` run from its manifest and compare the outputs; a public
    release (``--public``) is replayed as the same public release.
    """

    def publish(run: HotspotRun, record: dict[str, Any]) -> HotspotRun:
        return public_run(run, disclosure_of({"disclosure": record}))

    return replay(manifest, kind=HOTSPOTS_KIND, options_type=HotspotJob, run=run_hotspot_job, out_dir=out_dir, publish=publish)


# --------------------------------------------------------------------------- backtest


class BacktestJob(_Job):
    """A backtest from files: the points, zones, split and period, methods, shares and options."""

    points: PointsSource
    zones: ZonesSource | None = None
    split: str
    start: str | None = None
    end: str | None = None
    methods: tuple[str, ...] = BACKTEST_METHODS
    shares: tuple[float, ...] = DEFAULT_AREA_SHARES
    options: HotspotOptions = HotspotOptions()

    @field_validator("split", "start", "end")
    @classmethod
    def _dates(cls, v: str | None, info: Any) -> str | None:
        try:
            return _date_text(v, info.field_name)
        except InputError as exc:
            raise ValueError(str(exc)) from None

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The files the job reads, in the manifest's order."""
        return (*self.points.files, *([self.zones.path] if self.zones else []))


def run_backtest_job(job: BacktestJob) -> BacktestRun:
    """Load the job's files and run :func:`geoprio.hotspots.backtest_run.run_backtest`; nothing is written."""
    zones = load_source_zones(job.zones, job.options.metric_crs)
    records = load_source_points(job.points, zones)
    run = run_backtest(
        records,
        split=job.split,
        start=job.start,
        end=job.end,
        zones=zones,
        options=job.options,
        methods=job.methods,
        shares=job.shares,
    )
    title = backtest_title(run.notes, cell_size_m=job.options.cell_size_m, lang=job.options.lang)
    return dataclasses.replace(run, job=job, inputs=job.inputs, reports=(records.report,), title=title)


def replay_backtest(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Re-run a ``geoprio backtest`` run from its manifest and compare the outputs."""
    return replay(manifest, kind=BACKTEST_KIND, options_type=BacktestJob, run=run_backtest_job, out_dir=out_dir)


# --------------------------------------------------------------------------- displacement


class DisplacementJob(_Job):
    """A displacement analysis from files: the points, zones, intervention and control layers, start and ring."""

    points: PointsSource
    targets: Path
    start: str
    buffer_m: float = DEFAULT_BUFFER_M
    control: Path | None = None
    days: int | None = None
    zones: ZonesSource | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    lang: Lang = DEFAULT_LANG

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        try:
            return str(_date_text(v, "start"))
        except InputError as exc:
            raise ValueError(str(exc)) from None

    @property
    def inputs(self) -> tuple[Path, ...]:
        """The files the job reads, in the manifest's order."""
        return (
            *self.points.files,
            self.targets,
            *([self.control] if self.control else []),
            *([self.zones.path] if self.zones else []),
        )


def run_displacement_job(job: DisplacementJob) -> DisplacementRun:
    """Load the job's files and run :func:`geoprio.hotspots.displacement_run.run_displacement`; nothing is written."""
    zones = load_source_zones(job.zones, job.metric_crs)
    records = load_source_points(job.points, zones)
    targets = io.read_layer(job.targets)
    control = io.read_layer(job.control) if job.control is not None else None
    run = run_displacement(
        records,
        targets,
        start=job.start,
        buffer_m=job.buffer_m,
        control=control,
        zones=zones,
        days=job.days,
        metric_crs=job.metric_crs,
        lang=job.lang,
    )
    return dataclasses.replace(run, job=job, inputs=job.inputs, reports=(records.report,))


def replay_displacement(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Re-run a ``geoprio displacement`` run from its manifest and compare the outputs."""
    return replay(manifest, kind=DISPLACEMENT_KIND, options_type=DisplacementJob, run=run_displacement_job, out_dir=out_dir)
