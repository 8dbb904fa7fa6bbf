"""Camera and garita plans end to end: read the layers, build the problem, solve, write.

:func:`plan_cameras` and :func:`plan_garitas` are what ``geoprio plan cameras`` and
``geoprio plan garitas`` call: they read the inputs (through :mod:`geoprio.records.load` and
:mod:`geoprio.io.files`), build demand and candidate sites (:mod:`geoprio.placement.sites`), solve
(:mod:`geoprio.placement.core`) and return a :class:`PlanRun` with map-ready layers.
:func:`write_plan` writes the ranked sites, the covered demand, the coverage curve and
the summary as CSV / GeoJSON / GeoPackage, plus a ``manifest.json`` (inputs with SHA-256,
parameters, versions, outputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geoprio.errors import InputError
from geoprio.io import files as io
from geoprio.io import manifest
from geoprio.placement.core import CoverageProblem, Method, PlacementResult, _check_radius, maximize_coverage, minimize_sites
from geoprio.placement.sites import (
    Demand,
    Shore,
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
    shore_candidates,
    shore_coverage_problem,
    shore_demand,
    shore_from_layers,
    snap_to_shore,
)
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_METRIC_CRS, OUTPUT_CRS

__all__ = ["FORMATS", "PlanRun", "plan_cameras", "plan_garitas", "write_plan"]

FORMATS = ("csv", "geojson", "gpkg")
PathOrFrame = str | Path | gpd.GeoDataFrame | None


@dataclass(frozen=True, eq=False)
class PlanRun:
    """A solved plan with its layers.

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

    @property
    def curve(self) -> pd.DataFrame:
        return self.result.curve

    def summary(self) -> dict[str, Any]:
        s = self.result.summary()
        s["kind"] = self.kind
        s["n_existing"] = int((self.sites["estado"] == "existente").sum())
        s["n_candidates"] = self.result.stats.get("candidates")
        s["n_demand"] = int(len(self.demand))
        s["notes"] = self.notes
        return s


# --------------------------------------------------------------------------- reading


def _layer(value: PathOrFrame, role: str, inputs: list[tuple[str, Path]]) -> gpd.GeoDataFrame | None:
    if value is None:
        return None
    if isinstance(value, gpd.GeoDataFrame):
        return value
    p = Path(value)
    inputs.append((role, p))
    return io.read_layer(p)


def _records(value: Any, role: str, inputs: list[tuple[str, Path]], bbox: Any, options: dict[str, Any]) -> Any:
    from geoprio.records.load import Records, load_points

    if isinstance(value, Records | gpd.GeoDataFrame):
        return value
    if isinstance(value, pd.DataFrame):
        return load_points(value, bbox=bbox, **options)
    p = Path(value)
    inputs.append((role, p))
    return load_points(p, bbox=bbox, **options)


def _harm(harm: bool | str | Path, inputs: list[tuple[str, Path]]) -> Any:
    if harm is False or harm is None:
        return None
    from geoprio.records.harm import load_harm_table

    if harm is True:
        return load_harm_table()
    inputs.append(("harm_table", Path(harm)))
    return load_harm_table(harm)


def _solve(
    problem: CoverageProblem,
    *,
    p: int | None,
    target_share: float | None,
    budget: float | None,
    backup_weight: float,
    time_limit_s: float,
    mip_rel_gap: float,
    method: Method,
    random_state: int,
    curve_max: int | None,
) -> PlacementResult:
    if target_share is not None:
        if p is not None or budget is not None:
            raise InputError("give either target_share (fewest sites to reach it) or p / budget (best coverage), not both")
        return minimize_sites(
            problem, target_share=target_share, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, method=method, curve_max=curve_max
        )
    if p is None and budget is None:
        raise InputError("say how many new sites (p), a budget, or a target share of demand to cover")
    return maximize_coverage(
        problem,
        p=p,
        budget=budget,
        backup_weight=backup_weight,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        method=method,
        random_state=random_state,
        curve_max=curve_max,
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
    incidents: Any,
    *,
    radius_m: float = 100.0,
    p: int | None = None,
    target_share: float | None = None,
    budget: float | None = None,
    existing: PathOrFrame = None,
    candidates: PathOrFrame = None,
    grid_spacing_m: float | None = None,
    streets: PathOrFrame = None,
    street_spacing_m: float = 50.0,
    exclude: PathOrFrame = None,
    cost_column: str | None = None,
    index_zones: PathOrFrame = None,
    index_column: str = "index",
    index_weight: float = 1.0,
    harm: bool | str | Path = True,
    cell_size_m: float | None = None,
    min_spacing_m: float | None = None,
    backup_weight: float = 0.0,
    metric_crs: str = DEFAULT_METRIC_CRS,
    bbox: tuple[float, float, float, float] | None = COLOMBIA_BBOX,
    incident_options: dict[str, Any] | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    method: Method = "auto",
    random_state: int = 0,
    curve_max: int | None = None,
) -> PlanRun:
    """Plan new CCTV cameras where they see the most weighted crime.

    Demand: the incidents, weighted by the harm of their category (``harm``; a harm
    table file, True for geoprio's, False for 1 each) and by the priority index of their
    zone (``index_zones`` with ``index_column`` on 0–100: weight × (1 + ``index_weight`` ×
    index / 100)), optionally aggregated into ``cell_size_m`` cells. Candidates: a point
    layer, a grid with ``grid_spacing_m`` (over ``index_zones`` when given, else around
    the demand) and/or points every ``street_spacing_m`` along ``streets``; minus
    ``exclude`` areas and, with ``min_spacing_m``, sites that close to an existing camera.
    Without any candidate source, a grid at half the radius is used. Give ``p`` (new
    cameras), ``budget`` (with ``cost_column``) or ``target_share`` (fewest cameras).
    """
    radius_m = _check_radius(radius_m)
    inputs: list[tuple[str, Path]] = []
    opts = dict(incident_options or {})
    records = _records(incidents, "incidents", inputs, bbox, opts)
    zones = _layer(index_zones, "index_zones", inputs)
    table = _harm(harm, inputs)
    demand = demand_from_points(
        records,
        metric_crs=metric_crs,
        harm=table,
        zones=zones,
        index_column=index_column,
        zone_id_column="zone_id" if zones is not None and "zone_id" in zones else None,
        index_weight=index_weight,
        cell_size_m=cell_size_m,
    )
    notes: dict[str, Any] = {"demand": demand.notes}
    sets: list[Sites] = []
    cand_layer = _layer(candidates, "candidates", inputs)
    if cand_layer is not None:
        sets.append(candidates_from_points(cand_layer, metric_crs=metric_crs, cost_column=cost_column, source="puntos"))
    street_layer = _layer(streets, "streets", inputs)
    if street_layer is not None:
        sets.append(candidates_along_lines(street_layer, spacing_m=street_spacing_m, metric_crs=metric_crs, cost_column=cost_column))
    if grid_spacing_m is not None or not sets:
        spacing = grid_spacing_m if grid_spacing_m is not None else radius_m / 2
        if zones is not None:
            sets.append(candidate_grid(spacing_m=spacing, area=zones, metric_crs=metric_crs))
        else:
            sets.append(candidate_grid(spacing_m=spacing, near=demand.xy, near_m=radius_m, metric_crs=metric_crs))
    sites = combine_sites(*sets)
    n_candidates = len(sites)
    ex_layer = _layer(exclude, "exclude", inputs)
    if ex_layer is not None:
        sites = exclude_areas(sites, ex_layer)
    old_layer = _layer(existing, "existing", inputs)
    old = facilities_from_points(old_layer, metric_crs=metric_crs) if old_layer is not None else None
    if old is not None and min_spacing_m:
        sites = drop_near(sites, old, min_spacing_m)
    notes["candidates"] = {"generated": n_candidates, **sites.notes, "used": len(sites)}
    if p is not None and p > len(sites):
        raise InputError(f"p={p} new cameras requested but there are only {len(sites)} candidate sites")
    problem = coverage_problem(
        demand, sites, radius_m=radius_m, existing=old, min_spacing_m=min_spacing_m, use_costs=cost_column is not None
    )
    result = _solve(
        problem,
        p=p,
        target_share=target_share,
        budget=budget,
        backup_weight=backup_weight,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        method=method,
        random_state=random_state,
        curve_max=curve_max,
    )
    params = _params(
        radius_m=radius_m,
        p=p,
        target_share=target_share,
        budget=budget,
        grid_spacing_m=grid_spacing_m,
        street_spacing_m=street_spacing_m if streets is not None else None,
        cost_column=cost_column,
        index_column=index_column if zones is not None else None,
        index_weight=index_weight if zones is not None else None,
        harm=harm if not isinstance(harm, Path) else str(harm),
        cell_size_m=cell_size_m,
        min_spacing_m=min_spacing_m,
        backup_weight=backup_weight,
        metric_crs=metric_crs,
        bbox=bbox,
        incident_options=opts,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        method=method,
        random_state=random_state,
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
    )


# --------------------------------------------------------------------------- garitas


def plan_garitas(
    *,
    coast: PathOrFrame = None,
    beaches: PathOrFrame = None,
    existing: PathOrFrame = None,
    incidents: Any = None,
    visitors_column: str | None = None,
    beach_name: str | None = None,
    spacing_m: float = 100.0,
    radius_m: float = 500.0,
    demand_step_m: float = 10.0,
    max_snap_m: float = 200.0,
    p: int | None = None,
    target_share: float | None = None,
    budget: float | None = None,
    min_spacing_m: float | None = None,
    backup_weight: float = 0.0,
    harm: bool | str | Path = True,
    shore_bbox: tuple[float, float, float, float] | None = None,
    metric_crs: str = DEFAULT_METRIC_CRS,
    bbox: tuple[float, float, float, float] | None = COLOMBIA_BBOX,
    incident_options: dict[str, Any] | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
    method: Method = "auto",
    random_state: int = 0,
    curve_max: int | None = None,
) -> PlanRun:
    """Plan beach garitas along a shore, with coverage measured along the shoreline.

    The shore is the ``coast`` line, the ``beaches`` polygons, or the coast where it runs
    along the beaches (both given); ``shore_bbox`` (lon/lat) clips it. Candidates every
    ``spacing_m``; demand is a uniform weight per metre of shore (every
    ``demand_step_m``), beach ``incidents`` snapped to the shore (within ``max_snap_m``;
    weighted by harm), or ``visitors_column`` of the beach layer spread along each beach.
    A garita covers ``radius_m`` of shore on either side. Existing garitas are snapped to
    the shore and kept.
    """
    radius_m = _check_radius(radius_m)
    inputs: list[tuple[str, Path]] = []
    coast_l = _layer(coast, "coast", inputs)
    beach_l = _layer(beaches, "beaches", inputs)
    shore = shore_from_layers(coast_l, beach_l, metric_crs=metric_crs, beach_name=beach_name, bbox=shore_bbox)
    notes: dict[str, Any] = {"shore": shore.notes}
    if incidents is not None and visitors_column is not None:
        raise InputError("give beach incidents or a visitors column, not both")
    if incidents is not None:
        records = _records(incidents, "incidents", inputs, bbox, dict(incident_options or {}))
        pts = demand_from_points(records, metric_crs=metric_crs, harm=_harm(harm, inputs))
        demand = shore_demand(shore, points=pts, max_snap_m=max_snap_m)
        demand_kind = "incidents"
    elif visitors_column is not None:
        if beach_l is None:
            raise InputError("visitors_column needs the beach polygons (beaches=…)")
        demand = shore_demand(shore, step_m=demand_step_m, visitors=beach_l, visitors_column=visitors_column, beach_name=beach_name)
        demand_kind = "visitors"
    else:
        demand = shore_demand(shore, step_m=demand_step_m)
        demand_kind = "metres_of_shore"
    notes["demand"] = demand.notes
    sites = shore_candidates(shore, spacing_m=spacing_m)
    n_candidates = len(sites)
    old_l = _layer(existing, "existing", inputs)
    old = snap_to_shore(shore, facilities_from_points(old_l, metric_crs=metric_crs)) if old_l is not None else None
    if old is not None and min_spacing_m:
        sites = drop_near(sites, old, min_spacing_m)
    notes["candidates"] = {"generated": n_candidates, **sites.notes, "used": len(sites)}
    if old is not None:
        notes["existing"] = {"n": len(old), "max_distance_to_shore_m": float(np.nanmax(old.frame["distance_to_shore_m"]))}
    if p is not None and p > len(sites):
        raise InputError(f"p={p} new garitas requested but there are only {len(sites)} candidate sites along the shore")
    problem = shore_coverage_problem(shore, demand, sites, radius_m=radius_m, existing=old, min_spacing_m=min_spacing_m)
    result = _solve(
        problem,
        p=p,
        target_share=target_share,
        budget=budget,
        backup_weight=backup_weight,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        method=method,
        random_state=random_state,
        curve_max=curve_max,
    )
    site_layer = _site_layer(result, sites, old)
    stretches = _stretches(shore, site_layer, sites, old, result, radius_m)
    params = _params(
        demand=demand_kind,
        spacing_m=spacing_m,
        radius_m=radius_m,
        demand_step_m=demand_step_m if demand_kind != "incidents" else None,
        max_snap_m=max_snap_m if demand_kind == "incidents" else None,
        visitors_column=visitors_column,
        p=p,
        target_share=target_share,
        budget=budget,
        min_spacing_m=min_spacing_m,
        backup_weight=backup_weight,
        shore_bbox=shore_bbox,
        metric_crs=metric_crs,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        method=method,
        random_state=random_state,
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
    )


def _stretches(
    shore: Shore, layer: gpd.GeoDataFrame, sites: Sites, old: Sites | None, result: PlacementResult, radius_m: float
) -> gpd.GeoDataFrame:
    pos = [sites.shore_pos[result.selected]]
    if old is not None and len(old):
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


# --------------------------------------------------------------------------- writing


def write_plan(
    run: PlanRun,
    out_dir: str | Path,
    *,
    formats: tuple[str, ...] | list[str] = FORMATS,
    command: str | None = None,
) -> tuple[list[Path], Path]:
    """Write a plan's layers, curve, summary and ``manifest.json`` into ``out_dir``.

    Files are named after the kind (``camaras_*`` or ``garitas_*``): ``_sitios``
    (ranked new sites and the existing ones), ``_demanda`` (demand with its coverage),
    ``_tramos`` and ``_costa`` (garitas: covered stretches and the shore) in each of
    ``formats`` (``csv``, ``geojson``, ``gpkg``), plus ``_curva.csv`` and
    ``_resumen.json``. Returns the outputs and the manifest path.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(f"unknown output format(s) {bad}; choose from {list(FORMATS)}")
    out = Path(out_dir)
    prefix = "camaras" if run.kind == "cameras" else "garitas"
    written: list[Path] = []
    layers: list[tuple[str, gpd.GeoDataFrame | None]] = [("sitios", run.sites), ("demanda", run.demand)]
    if run.kind == "garitas":
        layers += [("tramos", run.stretches), ("costa", run.shore)]
    for name, layer in layers:
        if layer is None:
            continue
        for fmt in formats:
            path = out / f"{prefix}_{name}.{fmt}"
            if fmt == "csv":
                tab = pd.DataFrame(layer.drop(columns=layer.geometry.name))
                if (layer.geom_type == "Point").all() and "lon" not in tab:
                    tab["lon"] = layer.geometry.x.round(7)
                    tab["lat"] = layer.geometry.y.round(7)
                written.append(io.write_table(tab, path))
            else:
                written.append(io.write_layer(layer, path))
    written.append(io.write_table(run.curve, out / f"{prefix}_curva.csv"))
    summary = run.summary()
    written.append(io.write_json(summary, out / f"{prefix}_resumen.json"))
    doc = manifest.document(
        kind=f"geoprio.plan.{run.kind}",
        command=command,
        inputs=list(run.inputs),
        outputs=written,
        run=f"plan {run.kind}",
        parameters=run.parameters,
        result={k: v for k, v in summary.items() if k not in ("stats", "parameters", "notes")},
    )
    mpath = manifest.write(doc, out / "manifest.json")
    return written, mpath
