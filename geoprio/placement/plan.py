"""Camera and garita plans end to end: read the layers, build the problem, solve; write on request.

:func:`plan_cameras` and :func:`plan_garitas` take data (layers, records, geoprio's own
objects) or file paths, and their settings as keywords or as one options object
(:class:`~geoprio.placement.options.CameraPlanOptions`,
:class:`~geoprio.placement.options.GaritaPlanOptions`). They read the inputs (through
:mod:`geoprio.records.load` and :mod:`geoprio.io.files`), build demand and candidate sites
(:mod:`geoprio.placement.sites`, :mod:`geoprio.placement.shore`), solve
(:mod:`geoprio.placement.maximize`, :mod:`geoprio.placement.minimize`) and return a
:class:`PlanRun` with map-ready layers; nothing is written. ``PlanRun.write(out_dir,
formats)`` writes the ranked sites, the covered demand, the coverage curve and the summary
as CSV / GeoJSON / GeoPackage, plus a ``manifest.json`` (:func:`geoprio.io.results.write_result`)
from which :func:`replay_camera_plan` / :func:`replay_garita_plan` re-run a plan made from files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.errors import ColumnError, InputError
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.postgis import PostgisSource, is_database_source, parse_source
from geoprio.io.results import Replay, Written, replay, write_result
from geoprio.options import validated
from geoprio.placement.maximize import maximize_coverage
from geoprio.placement.minimize import minimize_sites
from geoprio.placement.options import (
    CAMERAS_KIND,
    GARITAS_KIND,
    PLAN_FORMATS,
    CameraPlanOptions,
    GaritaPlanOptions,
    PlanSolverOptions,
)
from geoprio.placement.problem import CoverageProblem, check_radius
from geoprio.placement.result import PlacementResult
from geoprio.placement.shore import (
    Shore,
    shore_candidates,
    shore_coverage_problem,
    shore_demand,
    shore_from_layers,
    snap_to_shore,
)
from geoprio.placement.sites import (
    Demand,
    Sites,
    candidate_grid,
    candidates_along_lines,
    candidates_from_points,
    combine_sites,
    coverage_problem,
    demand_from_points,
    drop_near,
    exclude_areas,
    facilities_from_points,
    points_from_table,
)
from geoprio.settings import OUTPUT_CRS

__all__ = [
    "FORMATS",
    "PathOrFrame",
    "PlanRun",
    "plan_cameras",
    "plan_garitas",
    "replay_camera_plan",
    "replay_garita_plan",
    "run_camera_plan",
    "run_garita_plan",
]

#: Layer formats a plan writes (kept for older callers; :data:`geoprio.placement.options.PLAN_FORMATS`).
FORMATS = PLAN_FORMATS
#: A layer given as a file path or as a GeoDataFrame (None: not given).
PathOrFrame: TypeAlias = str | Path | gpd.GeoDataFrame | None
#: Summary keys that change from run to run (wall times, solver statistics): kept out of
#: ``<prefix>_resumen.json`` so that a replay can reproduce it, recorded in the manifest.
VOLATILE_SUMMARY_KEYS = ("time_s", "stats")


@dataclass(frozen=True, eq=False)
class PlanRun:
    """A solved plan with its layers; :meth:`write` puts it on disk.

    Attributes
    ----------
    kind : {"cameras", "garitas"}
    result : PlacementResult
        The solver's answer (objective, bound, gap, status, ranking, curve).
    sites : geopandas.GeoDataFrame
        New sites best first (``estado`` = ``nueva``) then the existing ones
        (``existente``), EPSG:4326.
    demand : geopandas.GeoDataFrame
        Demand points with ``weight``, ``covered_existing`` / ``covered_new`` (how many
        existing / new sites see each) and ``covered``.
    stretches : geopandas.GeoDataFrame or None
        Garitas: the stretch of shore each garita covers.
    shore : geopandas.GeoDataFrame or None
        Garitas: the shore lines planned along.
    parameters : dict
        Everything that defines the run (for the manifest).
    inputs : list of (role, Path)
        Files read.
    notes : dict
        Counts worth reporting (unknown categories, excluded candidates…).
    options : CameraPlanOptions or GaritaPlanOptions or None
        The options the plan ran with (stored in the manifest: a plan made from files can be
        replayed from it).
    reports : dict
        Role (``incidents``) → the :class:`~geoprio.records.report.ValidationReport` of the
        demand records as loaded (rows read, kept, dropped and why); its counts are also in
        ``notes["demand"]["load"]``. When demand points were placed by place name (a
        gazetteer), ``notes["approximate_locations"]`` counts them: the sites are chosen on
        approximate locations.
    """

    kind: Literal["cameras", "garitas"]
    result: PlacementResult
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    stretches: gpd.GeoDataFrame | None
    shore: gpd.GeoDataFrame | None
    parameters: dict[str, Any]
    inputs: list[tuple[str, Path]]
    notes: dict[str, Any] = field(default_factory=dict)
    options: CameraPlanOptions | GaritaPlanOptions | None = None
    reports: dict[str, Any] = field(default_factory=dict)

    @property
    def curve(self) -> pd.DataFrame:
        return self.result.curve

    @property
    def manifest_kind(self) -> str:
        """The manifest kind: ``geoprio.plan.cameras`` or ``geoprio.plan.garitas``."""
        return CAMERAS_KIND if self.kind == "cameras" else GARITAS_KIND

    def summary(self, *, volatile: bool = True) -> dict[str, Any]:
        """The result's summary with the plan's sizes and notes (``volatile=False``: without wall times and solver statistics)."""
        s = self.result.summary()
        s["kind"] = self.kind
        s["n_existing"] = int((self.sites["estado"] == "existente").sum())
        s["n_candidates"] = self.result.stats.get("candidates")
        s["n_demand"] = int(len(self.demand))
        s["notes"] = self.notes
        if not volatile:
            for k in VOLATILE_SUMMARY_KEYS:
                s.pop(k, None)
        return s

    def write(
        self, out_dir: str | Path, formats: Sequence[str] | None = None, *, command: str | None = None, export: Export | None = None
    ) -> Written:
        """Write the plan's layers, curve, summary and ``manifest.json`` into ``out_dir``.

        Files are named after the kind (``camaras_*`` or ``garitas_*``): ``_sitios``
        (ranked new sites and the existing ones), ``_demanda`` (demand with its coverage),
        ``_tramos`` and ``_costa`` (garitas: covered stretches and the shore) in each of
        ``formats`` (``csv``, ``geojson``, ``gpkg``, ``parquet``, ``shp``, ``xlsx``; default
        ``csv``, ``geojson``, ``gpkg``), plus ``_curva.csv`` and ``_resumen.json`` (the summary
        without wall times and solver statistics, which the manifest records as
        ``solver_stats``). ``export`` sets the output CRS and CSV dialect; with ``xlsx``, one
        workbook ``<prefix>.xlsx`` holds the sites, the demand, the curve and the summary.
        """
        fmts = list(formats) if formats else list(PLAN_FORMATS)
        export = export or Export()
        out = Path(out_dir)
        prefix = "camaras" if self.kind == "cameras" else "garitas"
        layers: dict[str, gpd.GeoDataFrame | None] = {f"{prefix}_sitios": self.sites, f"{prefix}_demanda": self.demand}
        if self.kind == "garitas":
            layers.update({f"{prefix}_tramos": self.stretches, f"{prefix}_costa": self.shore})
        summary_sheet = pd.DataFrame(
            [(k, v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in self.summary(volatile=False).items()],
            columns=["key", "value"],
        )
        written = io.write_outputs(
            out,
            fmts,
            layers=layers,
            tables={f"{prefix}_curva": self.curve},
            workbook=prefix,
            sheets={f"{prefix}_resumen": summary_sheet},
            export=export,
        )
        written.append(io.write_json(self.summary(volatile=False), out / f"{prefix}_resumen.json"))
        summary = self.summary()
        return write_result(
            kind=self.manifest_kind,
            out_dir=out,
            files=written,
            options=self.options,
            inputs=list(self.inputs),
            formats=fmts,
            command=command,
            export=export,
            run=f"plan {self.kind}",
            parameters=self.parameters,
            result={k: v for k, v in summary.items() if k not in ("stats", "parameters", "notes")},
            solver_stats=summary["stats"],
            **{k: v for k, v in self.notes.items() if k == "approximate_locations"},
        )


# --------------------------------------------------------------------------- reading


def _layer(value: PathOrFrame, role: str, inputs: list[tuple[str, Path]]) -> gpd.GeoDataFrame | None:
    if value is None:
        return None
    if isinstance(value, gpd.GeoDataFrame):
        return value
    p = Path(value)
    inputs.append((role, p))
    return io.read_layer(p)


#: File endings read as tables (CSV, Excel) rather than vector layers, for point inputs.
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".csv.gz", ".tsv.gz", ".txt.gz")
#: Keys of ``candidate_options`` / ``existing_options``: coordinates, then how to read the file.
_COORD_KEYS = ("x", "y", "crs")
_READ_KEYS = ("sep", "encoding", "decimal", "sheet")
#: Columns every point record has: a weight column by one of these names cannot be kept beside them.
_RECORD_COLUMNS = ("row", "record_id", "date", "hour", "time_heaped", "category", "x", "y", "key")


def _point_layer(value: PathOrFrame | pd.DataFrame, role: str, inputs: list[tuple[str, Path]], options: dict[str, Any]) -> Any:
    """A point layer (candidates, existing sites) from a layer, a table with coordinates, or a file of either."""
    if value is None or isinstance(value, gpd.GeoDataFrame):
        return value
    unknown = sorted(set(options) - set(_COORD_KEYS) - set(_READ_KEYS))
    if unknown:
        raise InputError(f"{role}_options: unknown setting(s) {unknown}; expected some of {list(_COORD_KEYS + _READ_KEYS)}")
    coords = {k: options[k] for k in _COORD_KEYS if k in options}
    if isinstance(value, pd.DataFrame):
        return points_from_table(value, what=role, **coords)
    p = Path(value)
    if not p.name.lower().endswith(TABLE_SUFFIXES):
        return _layer(p, role, inputs)
    inputs.append((role, p))
    read = {k: options[k] for k in _READ_KEYS if k in options}
    return points_from_table(io.read_table(p, **read), what=f"{role} ({p.name})", **coords)


def _records(value: Any, role: str, inputs: list[tuple[str, Path]], bbox: Any, options: dict[str, Any], weight_column: str | None) -> Any:
    """Demand records from Records, a point layer, a DataFrame or a file; ``weight_column`` is kept for the demand."""
    from geoprio.records.load import Records, load_points

    if isinstance(value, Records | gpd.GeoDataFrame):
        return value
    opts = dict(options)
    if weight_column is not None and weight_column != "weight":
        if weight_column in _RECORD_COLUMNS:
            raise InputError(f"weight_column {weight_column!r}: a point record's own column has that name; rename the column in the file")
        keep = list(opts.get("keep") or [])
        opts["keep"] = keep if weight_column in keep else [*keep, weight_column]
    elif weight_column == "weight":
        if opts.get("count", "weight") != "weight":
            raise InputError(f"weight_column 'weight' is read as the count column, but the count is {opts['count']!r}; rename one of them")
        opts["count"] = "weight"  # a column named 'weight' is read as each row's weight (the count column)
    if isinstance(value, pd.DataFrame):
        return load_points(value, bbox=bbox, **opts)
    if isinstance(value, PostgisSource) or (isinstance(value, str) and is_database_source(value)):
        return load_points(value, bbox=bbox, **opts)  # a database's rows: no file to hash among the inputs
    p = Path(value)
    inputs.append((role, p))
    return load_points(p, bbox=bbox, **opts)


def _load_note(records: Any) -> dict[str, Any]:
    """The load report's counts (no row examples: they may hold incident values) for the demand notes."""
    from geoprio.records.load import Records

    if not isinstance(records, Records):
        return {}
    d = records.report.to_dict()
    keys = ("rows_read", "rows_kept", "rows_dropped", "dropped", "corrected", "flagged", "columns")
    note = {k: d[k] for k in keys}
    if "approximate" in d["settings"]:
        note["approximate"] = d["settings"]["approximate"]
    return {"load": note}


def _approximate_note(records: Any) -> dict[str, Any]:
    """``{"approximate_locations": …}`` when demand points were placed by place name (a gazetteer)."""
    from geoprio.records.gazetteer import approximate_locations
    from geoprio.records.load import Records

    info = approximate_locations(records.data) if isinstance(records, Records) else None
    return {} if info is None else {"approximate_locations": info}


def _harm(harm: bool | str | Path, inputs: list[tuple[str, Path]]) -> Any:
    if harm is False or harm is None:
        return None
    from geoprio.records.harm import load_harm_table

    if harm is True:
        return load_harm_table()
    inputs.append(("harm_table", Path(harm)))
    return load_harm_table(harm)


def _index_layer(value: Any, index_column: str, inputs: list[tuple[str, Path]]) -> gpd.GeoDataFrame | None:
    """Index zones from an index run, a :class:`~geoprio.zones.layers.Zones`, a layer or a file."""
    from geoprio.index.run import IndexRun
    from geoprio.zones.layers import Zones

    if isinstance(value, IndexRun):
        return value.table
    if isinstance(value, Zones):
        if index_column not in value.frame:
            raise ColumnError(
                f"index_zones: these zones have no {index_column!r} column; pass the index run (geoprio.index.run_index) "
                f"or its table, whose 'index' column weights the demand"
            )
        return value.frame
    if value is None or isinstance(value, gpd.GeoDataFrame | str | Path):
        return _layer(value, "index_zones", inputs)
    raise InputError(
        f"index_zones: expected an index run (geoprio.index.run_index), Zones, a GeoDataFrame with an index column or a file, "
        f"got {type(value).__name__}"
    )


def _options(model: type[PlanSolverOptions], options: PlanSolverOptions | None, settings: dict[str, Any], data: dict[str, Any]) -> Any:
    """``options`` updated with ``settings`` and the paths among ``data`` (in-memory data leaves its path unset)."""
    if options is not None and not isinstance(options, model):
        raise InputError(f"options: expected {model.__name__}, got {type(options).__name__}")
    doc = options.model_dump() if options is not None else {}
    doc.update(settings)
    for key, value in data.items():
        if isinstance(value, PostgisSource) or (isinstance(value, str) and is_database_source(value)):
            doc[key] = parse_source(value, where=key)  # a database table or query: kept as its source
        elif isinstance(value, str | Path):
            doc[key] = Path(value)
        elif value is not None:
            doc[key] = None
    name = "plan_cameras" if model is CameraPlanOptions else "plan_garitas"
    return validated(model, doc, source=name, what="options")


def _given(value: Any, path: Path | PostgisSource | None) -> Any:
    return value if value is not None else path


def _solve(problem: CoverageProblem, o: PlanSolverOptions) -> PlacementResult:
    if o.target_share is not None:
        if o.p is not None or o.budget is not None:
            raise InputError("give either target_share (fewest sites to reach it) or p / budget (best coverage), not both")
        return minimize_sites(
            problem,
            target_share=o.target_share,
            time_limit_s=o.time_limit_s,
            mip_rel_gap=o.mip_rel_gap,
            method=o.method,
            curve_max=o.curve_max,
        )
    if o.p is None and o.budget is None:
        raise InputError("say how many new sites (p), a budget, or a target share of demand to cover")
    return maximize_coverage(
        problem,
        p=o.p,
        budget=o.budget,
        backup_weight=o.backup_weight,
        time_limit_s=o.time_limit_s,
        mip_rel_gap=o.mip_rel_gap,
        method=o.method,
        random_state=o.random_state,
        curve_max=o.curve_max,
    )


# --------------------------------------------------------------------------- layers of a plan


def _site_layer(result: PlacementResult, candidates: Sites, existing: Sites | None) -> gpd.GeoDataFrame:
    rk = result.ranking
    new = candidates.frame.iloc[rk["candidate"].to_numpy()].reset_index(drop=True)
    new = new.drop(columns=["cost"], errors="ignore")
    for c in ("rank", "marginal_weight", "marginal_share", "cumulative_share", "unique_weight", "cost"):
        new[c] = rk[c].to_numpy()
    new.insert(0, "estado", "nueva")
    parts = [new]
    if existing is not None and len(existing):
        ex = existing.frame.copy()
        ex.insert(0, "estado", "existente")
        ex["cost"] = np.nan
        parts.append(ex)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=OUTPUT_CRS)
    # existing sites have no rank: a nullable integer, not the float a NaN would force
    out["rank"] = out["rank"].astype("Int64")
    out["lon"] = out.geometry.x.round(7)
    out["lat"] = out.geometry.y.round(7)
    first = ["rank", "site_id", "estado", "source", "marginal_weight", "marginal_share", "cumulative_share", "unique_weight", "cost"]
    return out[[c for c in first if c in out] + [c for c in out.columns if c not in first and c != "geometry"] + ["geometry"]]


def _demand_layer(demand: Demand, problem: CoverageProblem, result: PlacementResult) -> gpd.GeoDataFrame:
    out = demand.frame.copy()
    x = np.zeros(problem.n_candidates)
    x[result.selected] = 1.0
    new = np.rint(problem.coverage @ x).astype(np.int32)
    out["covered_existing"] = problem.existing
    out["covered_new"] = new
    out["covered"] = (problem.existing + new) >= 1
    return out


def _params(**kw: Any) -> dict[str, Any]:
    def clean(v: Any) -> Any:
        if isinstance(v, gpd.GeoDataFrame | pd.DataFrame):
            return f"<{type(v).__name__} with {len(v)} rows>"
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, tuple):
            return list(v)
        return v

    return {k: clean(v) for k, v in kw.items()}


# --------------------------------------------------------------------------- cameras


def plan_cameras(
    incidents: Any = None,
    *,
    index_zones: Any = None,
    existing: PathOrFrame = None,
    candidates: PathOrFrame = None,
    streets: PathOrFrame = None,
    exclude: PathOrFrame = None,
    options: CameraPlanOptions | None = None,
    **settings: Any,
) -> PlanRun:
    """Plan new CCTV cameras where they see the most weighted crime.

    Demand: the ``incidents`` (records from :func:`geoprio.records.load.load_points`, a point
    GeoDataFrame, a DataFrame with ``x``/``y`` or a file), weighted by the harm of their
    category (``harm``: a harm table file, True for geoprio's, False for 1 each) and by the
    priority index of their zone (``index_zones``: an index run from
    :func:`geoprio.index.run_index`, :class:`~geoprio.zones.layers.Zones` or a layer whose
    ``index_column`` is on 0–100, or its file; weight × (1 + ``index_weight`` × index /
    100)), optionally aggregated into ``cell_size_m`` cells. Candidates: a point layer, a
    grid with ``grid_spacing_m`` (over ``index_zones`` when given, else around the demand)
    and/or points every ``street_spacing_m`` along ``streets``; minus ``exclude`` areas
    and, with ``min_spacing_m``, sites that close to an existing camera. Without any
    candidate source, a grid at half the radius is used. Give ``p`` (new cameras),
    ``budget`` (with ``cost_column``) or ``target_share`` (fewest cameras).

    The settings (``radius_m``, ``p``, ``time_limit_s``…) are the fields of
    :class:`~geoprio.placement.options.CameraPlanOptions`, given as keywords or as
    ``options`` (keywords win); an unknown keyword is a :class:`~geoprio.errors.ConfigError`.
    Inputs given as paths are recorded in the options, so that the written manifest can
    replay the plan.
    """
    data = {
        "incidents": incidents,
        "index_zones": index_zones,
        "existing": existing,
        "candidates": candidates,
        "streets": streets,
        "exclude": exclude,
    }
    o: CameraPlanOptions = _options(CameraPlanOptions, options, settings, data)
    radius_m = check_radius(o.radius_m)
    incidents = _given(incidents, o.incidents)
    if incidents is None:
        raise InputError("plan_cameras needs the incidents (records, a layer or a file)")
    inputs: list[tuple[str, Path]] = []
    records = _records(incidents, "incidents", inputs, o.bbox, dict(o.incident_options), o.weight_column)
    zones = _index_layer(_given(index_zones, o.index_zones), o.index_column, inputs)
    table = _harm(o.harm, inputs)
    demand = demand_from_points(
        records,
        metric_crs=o.metric_crs,
        weight=o.weight_column,
        harm=table,
        zones=zones,
        index_column=o.index_column,
        zone_id_column="zone_id" if zones is not None and "zone_id" in zones else None,
        index_weight=o.index_weight,
        cell_size_m=o.cell_size_m,
    )
    notes: dict[str, Any] = {"demand": {**demand.notes, **_load_note(records)}, **_approximate_note(records)}
    sets: list[Sites] = []
    cand_layer = _point_layer(_given(candidates, o.candidates), "candidates", inputs, dict(o.candidate_options))
    if cand_layer is not None:
        sets.append(candidates_from_points(cand_layer, metric_crs=o.metric_crs, cost_column=o.cost_column, source="puntos"))
    street_layer = _layer(_given(streets, o.streets), "streets", inputs)
    if street_layer is not None:
        sets.append(candidates_along_lines(street_layer, spacing_m=o.street_spacing_m, metric_crs=o.metric_crs, cost_column=o.cost_column))
    if o.grid_spacing_m is not None or not sets:
        spacing = o.grid_spacing_m if o.grid_spacing_m is not None else radius_m / 2
        if zones is not None:
            sets.append(candidate_grid(spacing_m=spacing, area=zones, metric_crs=o.metric_crs))
        else:
            sets.append(candidate_grid(spacing_m=spacing, near=demand.xy, near_m=radius_m, metric_crs=o.metric_crs))
    sites = combine_sites(*sets)
    n_candidates = len(sites)
    ex_layer = _layer(_given(exclude, o.exclude), "exclude", inputs)
    if ex_layer is not None:
        sites = exclude_areas(sites, ex_layer)
    old_layer = _point_layer(_given(existing, o.existing), "existing", inputs, dict(o.existing_options))
    old = facilities_from_points(old_layer, metric_crs=o.metric_crs) if old_layer is not None else None
    if old is not None and o.min_spacing_m:
        sites = drop_near(sites, old, o.min_spacing_m)
    notes["candidates"] = {"generated": n_candidates, **sites.notes, "used": len(sites)}
    if o.p is not None and o.p > len(sites):
        raise InputError(f"p={o.p} new cameras requested but there are only {len(sites)} candidate sites")
    problem = coverage_problem(
        demand, sites, radius_m=radius_m, existing=old, min_spacing_m=o.min_spacing_m, use_costs=o.cost_column is not None
    )
    result = _solve(problem, o)
    params = _params(
        radius_m=radius_m,
        p=o.p,
        target_share=o.target_share,
        budget=o.budget,
        grid_spacing_m=o.grid_spacing_m,
        street_spacing_m=o.street_spacing_m if street_layer is not None else None,
        cost_column=o.cost_column,
        index_column=o.index_column if zones is not None else None,
        index_weight=o.index_weight if zones is not None else None,
        harm=o.harm,
        weight_column=o.weight_column,
        cell_size_m=o.cell_size_m,
        min_spacing_m=o.min_spacing_m,
        backup_weight=o.backup_weight,
        metric_crs=o.metric_crs,
        bbox=o.bbox,
        incident_options=dict(o.incident_options),
        time_limit_s=o.time_limit_s,
        mip_rel_gap=o.mip_rel_gap,
        method=o.method,
        random_state=o.random_state,
    )
    return PlanRun(
        kind="cameras",
        result=result,
        sites=_site_layer(result, sites, old),
        demand=_demand_layer(demand, problem, result),
        stretches=None,
        shore=None,
        parameters=params,
        inputs=inputs,
        notes=notes,
        options=o,
        reports=_reports(records),
    )


def _reports(records: Any) -> dict[str, Any]:
    from geoprio.records.load import Records

    return {"incidents": records.report} if isinstance(records, Records) else {}


# --------------------------------------------------------------------------- garitas


def plan_garitas(
    *,
    coast: PathOrFrame = None,
    beaches: PathOrFrame = None,
    existing: PathOrFrame = None,
    incidents: Any = None,
    exclude: gpd.GeoDataFrame | None = None,
    options: GaritaPlanOptions | None = None,
    **settings: Any,
) -> PlanRun:
    """Plan beach garitas along a shore, with coverage measured along the shoreline.

    The shore is the ``coast`` line, the ``beaches`` polygons, or the coast where it runs
    along the beaches (both given); ``shore_bbox`` (lon/lat) clips it. Candidates every
    ``spacing_m``; demand is a uniform weight per metre of shore (every
    ``demand_step_m``), beach ``incidents`` snapped to the shore (within ``max_snap_m``;
    weighted by harm), or ``visitors_column`` of the beach layer spread along each beach.
    A garita covers ``radius_m`` of shore on either side. Existing garitas are snapped to
    the shore and kept. ``exclude`` (polygons, in memory: the workspace's excluded areas and
    sites) removes the candidates inside it.

    The settings are the fields of :class:`~geoprio.placement.options.GaritaPlanOptions`,
    given as keywords or as ``options`` (keywords win); layers given as paths are recorded
    in the options, so that the written manifest can replay the plan.
    """
    data = {"coast": coast, "beaches": beaches, "existing": existing, "incidents": incidents}
    o: GaritaPlanOptions = _options(GaritaPlanOptions, options, settings, data)
    radius_m = check_radius(o.radius_m)
    inputs: list[tuple[str, Path]] = []
    coast_l = _layer(_given(coast, o.coast), "coast", inputs)
    beach_l = _layer(_given(beaches, o.beaches), "beaches", inputs)
    shore = shore_from_layers(coast_l, beach_l, metric_crs=o.metric_crs, beach_name=o.beach_name, bbox=o.shore_bbox)
    notes: dict[str, Any] = {"shore": shore.notes}
    incidents = _given(incidents, o.incidents)
    if incidents is not None and o.visitors_column is not None:
        raise InputError("give beach incidents or a visitors column, not both")
    records = None
    if incidents is not None:
        records = _records(incidents, "incidents", inputs, o.bbox, dict(o.incident_options), o.weight_column)
        pts = demand_from_points(records, metric_crs=o.metric_crs, weight=o.weight_column, harm=_harm(o.harm, inputs))
        demand = shore_demand(shore, points=pts, max_snap_m=o.max_snap_m)
        demand_kind = "incidents"
    elif o.visitors_column is not None:
        if beach_l is None:
            raise InputError("visitors_column needs the beach polygons (beaches=…)")
        demand = shore_demand(shore, step_m=o.demand_step_m, visitors=beach_l, visitors_column=o.visitors_column, beach_name=o.beach_name)
        demand_kind = "visitors"
    else:
        demand = shore_demand(shore, step_m=o.demand_step_m)
        demand_kind = "metres_of_shore"
    notes["demand"] = {**demand.notes, **_load_note(records)}
    notes.update(_approximate_note(records))
    sites = shore_candidates(shore, spacing_m=o.spacing_m)
    n_candidates = len(sites)
    if exclude is not None and len(exclude):
        sites = exclude_areas(sites, exclude)
    old_l = _point_layer(_given(existing, o.existing), "existing", inputs, dict(o.existing_options))
    old = snap_to_shore(shore, facilities_from_points(old_l, metric_crs=o.metric_crs)) if old_l is not None else None
    if old is not None and o.min_spacing_m:
        sites = drop_near(sites, old, o.min_spacing_m)
    notes["candidates"] = {"generated": n_candidates, **sites.notes, "used": len(sites)}
    if old is not None:
        notes["existing"] = {"n": len(old), "max_distance_to_shore_m": float(np.nanmax(old.frame["distance_to_shore_m"]))}
    if o.p is not None and o.p > len(sites):
        raise InputError(f"p={o.p} new garitas requested but there are only {len(sites)} candidate sites along the shore")
    problem = shore_coverage_problem(shore, demand, sites, radius_m=radius_m, existing=old, min_spacing_m=o.min_spacing_m)
    result = _solve(problem, o)
    site_layer = _site_layer(result, sites, old)
    stretches = _stretches(shore, site_layer, sites, old, result, radius_m)
    params = _params(
        demand=demand_kind,
        spacing_m=o.spacing_m,
        radius_m=radius_m,
        demand_step_m=o.demand_step_m if demand_kind != "incidents" else None,
        max_snap_m=o.max_snap_m if demand_kind == "incidents" else None,
        visitors_column=o.visitors_column,
        weight_column=o.weight_column if demand_kind == "incidents" else None,
        p=o.p,
        target_share=o.target_share,
        budget=o.budget,
        min_spacing_m=o.min_spacing_m,
        backup_weight=o.backup_weight,
        shore_bbox=o.shore_bbox,
        metric_crs=o.metric_crs,
        time_limit_s=o.time_limit_s,
        mip_rel_gap=o.mip_rel_gap,
        method=o.method,
        random_state=o.random_state,
    )
    return PlanRun(
        kind="garitas",
        result=result,
        sites=site_layer,
        demand=_demand_layer(demand, problem, result),
        stretches=stretches,
        shore=shore.frame(),
        parameters=params,
        inputs=inputs,
        notes=notes,
        options=o,
        reports=_reports(records),
    )


def _stretches(
    shore: Shore, layer: gpd.GeoDataFrame, sites: Sites, old: Sites | None, result: PlacementResult, radius_m: float
) -> gpd.GeoDataFrame:
    if sites.shore_pos is None:
        raise InputError("garita sites need their position along the shore (build them with shore_candidates)")
    pos = [sites.shore_pos[result.selected]]
    if old is not None and len(old) and old.shore_pos is not None:
        pos.append(old.shore_pos)
    pos_all = np.concatenate(pos)
    ok = np.isfinite(pos_all)
    geoms = np.full(len(pos_all), None, dtype=object)
    geoms[ok] = shore.stretches(pos_all[ok], radius_m)
    out = gpd.GeoDataFrame(
        {
            "site_id": layer["site_id"].to_numpy()[: len(pos_all)],
            "estado": layer["estado"].to_numpy()[: len(pos_all)],
            "rank": layer["rank"].to_numpy()[: len(pos_all)],
        },
        geometry=gpd.GeoSeries(geoms, crs=shore.metric_crs).to_crs(OUTPUT_CRS).values,
        crs=OUTPUT_CRS,
    )
    out["length_m"] = gpd.GeoSeries(geoms, crs=shore.metric_crs).length.to_numpy()
    return out[ok].reset_index(drop=True)


# --------------------------------------------------------------------------- jobs from files and replays


def run_camera_plan(options: CameraPlanOptions) -> PlanRun:
    """The camera plan of an options object whose inputs are files (what ``--manifest`` replays)."""
    if options.incidents is None:
        raise InputError("this camera plan was made from data in memory (no incidents file): it cannot be re-run from its options")
    return plan_cameras(options=options)


def run_garita_plan(options: GaritaPlanOptions) -> PlanRun:
    """The garita plan of an options object whose inputs are files (what ``--manifest`` replays)."""
    if options.coast is None and options.beaches is None:
        raise InputError("this garita plan was made from layers in memory (no coast or beaches file): it cannot be re-run from its options")
    return plan_garitas(options=options)


def replay_camera_plan(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Re-run a camera plan from its ``manifest.json`` and compare the outputs with the recorded ones."""
    return replay(manifest, kind=CAMERAS_KIND, options_type=CameraPlanOptions, run=run_camera_plan, out_dir=out_dir)


def replay_garita_plan(manifest: str | Path, *, out_dir: str | Path | None = None) -> Replay:
    """Re-run a garita plan from its ``manifest.json`` and compare the outputs with the recorded ones."""
    return replay(manifest, kind=GARITAS_KIND, options_type=GaritaPlanOptions, run=run_garita_plan, out_dir=out_dir)
