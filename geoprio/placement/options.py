"""The options of a camera or garita plan: one frozen object each, replayable from a manifest.

:class:`CameraPlanOptions` and :class:`GaritaPlanOptions` hold everything a plan needs to run
again: the input files (when the plan was made from files), how to read the incidents, how
to build demand and candidates, and the solver settings (:class:`PlanSolverOptions`). They
are :class:`geoprio.options.Options` models (frozen, unknown keys refused), stored whole in
the plan's ``manifest.json``; the command line takes its defaults from them.

The values are checked where they are used, with the messages of the solvers (a radius
of 0 is refused by :func:`~geoprio.placement.problem.check_radius`, a ``p`` larger than the
candidates by the plan); the models check types and the choices of ``method`` and ``bbox``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import field_validator

from geoprio.errors import InputError
from geoprio.io.postgis import PostgisSource, is_database_source, parse_source
from geoprio.options import Options
from geoprio.placement.result import Method
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_FORMATS, DEFAULT_METRIC_CRS, EXPORT_FORMATS
from geoprio.zones.bbox import parse_bbox as parse_bbox_words
from geoprio.zones.bbox import resolve_bbox

__all__ = [
    "CAMERAS_KIND",
    "GARITAS_KIND",
    "PLAN_FORMATS",
    "BBox",
    "CameraPlanOptions",
    "GaritaPlanOptions",
    "PlanSolverOptions",
    "check_plan_formats",
    "parse_bbox",
]

#: Manifest kinds of the two plans.
CAMERAS_KIND = "geoprio.plan.cameras"
GARITAS_KIND = "geoprio.plan.garitas"
#: Layer formats a plan writes (all of them by default).
PLAN_FORMATS: tuple[str, ...] = DEFAULT_FORMATS

#: A lon/lat box ``(min_lon, min_lat, max_lon, max_lat)``.
BBox = tuple[float, float, float, float]


def check_plan_formats(formats: Sequence[str] | None) -> list[str]:
    """The layer formats to write (:data:`PLAN_FORMATS` when none are given; any of
    :data:`~geoprio.settings.EXPORT_FORMATS`); others are an :class:`InputError`.
    """
    fmts = list(formats) if formats else list(PLAN_FORMATS)
    bad = [f for f in fmts if f not in EXPORT_FORMATS]
    if bad:
        raise InputError(f"unknown output format(s) {bad}; choose from {list(EXPORT_FORMATS)}")
    return fmts


def parse_bbox(text: str | None) -> BBox | None:
    """A plan's ``--bbox`` value as the box incident points are checked against (None: no check).

    The grammar is :func:`geoprio.zones.bbox.parse_bbox`'s; a plan has no zone layer, so
    ``auto`` (the default) means Colombia's box.
    """
    return resolve_bbox(parse_bbox_words(text), None)


class PlanSolverOptions(Options):
    """What both plans share: how many sites, the objective's options and the solver settings.

    Give ``p`` (new sites), ``budget`` (total cost of new sites) or ``target_share`` (the
    fewest new sites covering that share of the demand weight).
    """

    p: int | None = None
    target_share: float | None = None
    budget: float | None = None
    min_spacing_m: float | None = None
    backup_weight: float = 0.0
    time_limit_s: float = 60.0
    mip_rel_gap: float = 1e-4
    method: Method = "auto"
    random_state: int = 0
    curve_max: int | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    #: Incidents outside this lon/lat box are refused (None: no check).
    bbox: BBox | None = COLOMBIA_BBOX
    #: How to read an incident file: ``x``, ``y``, ``category``, ``crs``… (see :func:`geoprio.records.load.load_points`).
    incident_options: dict[str, Any] = {}
    #: A column of the incidents whose value multiplies each point's weight (its count times this), e.g. victims.
    weight_column: str | None = None
    #: Weight incidents by the harm of their category: True (geoprio's table), False, or a harm table file.
    #: With no category for any incident every point weighs 1 and a :class:`~geoprio.placement.sites.NoCategoryWarning` says so.
    harm: bool | Path = True
    #: How to read an existing-sites file that is a table (CSV, Excel): ``x``, ``y``, ``crs``, ``sep``…
    existing_options: dict[str, Any] = {}

    @field_validator("harm", mode="before")
    @classmethod
    def _harm(cls, v: Any) -> Any:
        return Path(v) if isinstance(v, str) else v


class CameraPlanOptions(PlanSolverOptions):
    """A camera plan (:func:`geoprio.placement.plan.plan_cameras`): inputs, demand, candidates, solver.

    ``incidents`` may name a PostGIS table or query (a ``postgresql://…`` source string).
    """

    incidents: Path | PostgisSource | None = None
    index_zones: Path | None = None
    existing: Path | None = None
    candidates: Path | None = None
    streets: Path | None = None
    exclude: Path | None = None
    radius_m: float = 100.0
    grid_spacing_m: float | None = None
    street_spacing_m: float = 50.0
    cost_column: str | None = None
    index_column: str = "index"
    index_weight: float = 1.0
    cell_size_m: float | None = None
    #: How to read a candidates file that is a table (CSV, Excel): ``x``, ``y``, ``crs``, ``sep``…
    candidate_options: dict[str, Any] = {}

    @field_validator("incidents", mode="before")
    @classmethod
    def _database(cls, v: Any) -> Any:
        """A ``postgresql://`` string is a database source (a Path would fold its ``//``)."""
        return parse_source(v, where="incidents") if isinstance(v, str) and is_database_source(v) else v


class GaritaPlanOptions(PlanSolverOptions):
    """A garita plan (:func:`geoprio.placement.plan.plan_garitas`): shore, demand, candidates, solver."""

    coast: Path | None = None
    beaches: Path | None = None
    existing: Path | None = None
    incidents: Path | None = None
    visitors_column: str | None = None
    beach_name: str | None = None
    spacing_m: float = 100.0
    radius_m: float = 500.0
    demand_step_m: float = 10.0
    max_snap_m: float = 200.0
    #: Clip the shore to this lon/lat box.
    shore_bbox: BBox | None = None
