"""``geoprio plan``: camera and garita placement from the command line.

A thin layer over :mod:`geoprio.placement.plan`: each command parses its options into the
settings of :class:`~geoprio.placement.options.CameraPlanOptions` or
:class:`~geoprio.placement.options.GaritaPlanOptions` (whose defaults are the commands'
defaults), calls :func:`~geoprio.placement.plan.plan_cameras` or
:func:`~geoprio.placement.plan.plan_garitas`, prints the summary, the best sites and the
coverage curve (labels from ``placement`` and ``placement_cli``; Spanish by default,
``--lang en`` for English) and writes the outputs with ``PlanRun.write`` (with ``--public
[--min-count N]``: the public release, :func:`geoprio.placement.public.write_public_plan`).
``--manifest M`` replays a plan from its manifest instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, get_args

import typer
from rich.table import Table

from geoprio.cli.common import (
    CrsOpt,
    CsvOpt,
    FormatOpt,
    LangOpt,
    ManifestOpt,
    MetricCrsOpt,
    MinCountOpt,
    OutOpt,
    PublicOpt,
    TopOpt,
    check_formats,
    command_line,
    err,
    export_options,
    friendly,
    lang_option,
    out,
    print_not_written,
    print_replay,
    print_written,
    public_policy,
)
from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError
from geoprio.io.export import Export
from geoprio.io.postgis import path_or_source
from geoprio.labels import label, labels
from geoprio.numbers import LangNumber, fmt_int, fmt_number, fmt_spec
from geoprio.placement.options import PLAN_FORMATS, CameraPlanOptions, GaritaPlanOptions, parse_bbox
from geoprio.placement.result import Method
from geoprio.placement.sites import NoCategoryWarning, forecast_demand
from geoprio.records import approximate_summary

__all__ = ["plan_app", "register"]

plan_app = typer.Typer(
    name="plan",
    help="Ubicación de cámaras y garitas por optimización de cobertura.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Output folders when ``--out`` is not given (a replay writes beside its manifest).


#: The options with their defaults: the one place the commands' defaults come from.
_CAM = CameraPlanOptions()
_GAR = GaritaPlanOptions()

# --------------------------------------------------------------------------- shared options

POpt = Annotated[Optional[int], typer.Option("--p", "-p", min=1, help="Number of new sites (maximal covering).")]
TargetOpt = Annotated[
    Optional[float], typer.Option("--target", help="Share of demand to cover with the fewest new sites, e.g. 0.8 (set covering).")
]
BudgetOpt = Annotated[
    Optional[float], typer.Option("--budget", help="Total cost allowed for new sites (costs from --cost-column, else 1 each).")
]
SpacingOpt = Annotated[
    Optional[float], typer.Option("--min-spacing-m", help="Minimum distance between new sites (and from existing ones).")
]
BackupOpt = Annotated[float, typer.Option("--backup", min=0.0, max=1.0, help="Value of a second cover as a share of the weight (0 = off).")]
TimeOpt = Annotated[float, typer.Option("--time-limit", min=0.5, help="Hard time limit of the search, in seconds.")]
GapOpt = Annotated[float, typer.Option("--gap", min=0.0, max=0.99, help="Stop once proven within this relative gap of the optimum.")]
MethodOpt = Annotated[
    str,
    typer.Option("--method", help="auto (heuristics, then HiGHS), milp (the full MILP whenever the heuristics leave a gap) or heuristic."),
]
PlanSeedOpt = Annotated[int, typer.Option("--seed", help=f"Seed of the neighbourhood search (default {_CAM.random_state}).")]
CurveOpt = Annotated[Optional[int], typer.Option("--curve-max", min=1, help="Largest number of sites in the coverage curve (default 2p).")]
BBoxOpt = Annotated[
    Optional[str],
    typer.Option(
        "--bbox", help="Lon/lat box the incidents must fall in: colombia (default), none (no check) or minlon,minlat,maxlon,maxlat."
    ),
]
AnywhereOpt = Annotated[bool, typer.Option("--anywhere", hidden=True, help="Deprecated: use --bbox none.")]
WeightColumnOpt = Annotated[
    Optional[str],
    typer.Option("--weight-column", help="Column of the incidents whose value multiplies each point's weight (e.g. victims)."),
]
ExistingCrsOpt = Annotated[
    Optional[str], typer.Option("--existing-crs", help="CRS of an existing-sites table's coordinates in metres (e.g. EPSG:9377).")
]


def _check(method: str, target: float | None) -> None:
    choices = get_args(Method)
    if method not in choices:
        raise typer.BadParameter(f"--method must be {', '.join(choices[:-1])} or {choices[-1]}, got {method!r}")
    if target is not None and not (0 < target <= 1):
        raise typer.BadParameter(f"--target is a share between 0 and 1 (e.g. 0.8 for 80 %), got {target!r}")


def _bbox(bbox: str | None, anywhere: bool, lang: str) -> tuple[float, float, float, float] | None:
    if anywhere:
        err.print(label("placement_cli", "anywhere_deprecated", lang), markup=False)
        if bbox is None:
            return None
    return parse_bbox(bbox)


def _shore_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        box = None if text.strip().lower() in ("colombia", "none") else parse_bbox(text)
    except InputError:
        box = None
    if box is None:
        raise typer.BadParameter(f"expected min_lon,min_lat,max_lon,max_lat with min < max, got {text!r}")
    return box


def _no_manifest_and_input(manifest: Path | None, given: bool, what: str) -> None:
    if manifest is not None and given:
        raise typer.BadParameter(f"give either {what} or --manifest, not both")


def _settings(**kw: Any) -> dict[str, Any]:
    """The settings given (None means: the options' default)."""
    return {k: v for k, v in kw.items() if v is not None}


# --------------------------------------------------------------------------- printing


def _pct(x: float, lang: str, digits: int = 1) -> str:
    return f"{fmt_number(100 * x, lang, digits)} %"


def _num(x: float, lang: str) -> str:
    return fmt_spec(x, ",.0f" if abs(x) >= 100 else ",.3g", lang)


def _print_run(run: Any, *, top: int, lang: str) -> None:
    t = labels("placement_cli", lang)
    words = labels("placement", lang)
    r = run.result
    radius_m = run.parameters.get("radius_m")
    n_old = int((run.sites["estado"] == "existente").sum())
    title = t["title_cameras"] if run.kind == "cameras" else t["title_garitas"]
    where = t["radius"].format(r=LangNumber(radius_m, lang)) + (f" {t['along']}" if run.kind == "garitas" else "")
    out.print(f"[bold]{title}[/]: {r.n_selected} {t['new']} (+{n_old} {t['existing']}), {where}", markup=True)
    out.print("  " + t["covered"].format(c=_pct(r.covered_share, lang), e=_pct(r.existing_share, lang), a=_pct(r.coverable_share, lang)))
    if r.parameters.get("backup_weight"):
        out.print("  " + t["backup"].format(b=_pct(r.backup_share, lang)))
    key = "objective_min" if r.problem == "set_cover" else "objective"
    out.print("  " + t[key].format(o=_num(r.objective, lang), b=_num(r.bound, lang), g=_pct(r.gap, lang, 2)))
    how = t["how"].format(
        s=words.get(f"solver_{r.solver}", r.solver),
        bs=words.get(f"bound_{r.bound_source}", r.bound_source),
        st=words.get(f"status_{r.status}", r.status),
        t=LangNumber(r.time_s, lang),
    )
    out.print("  " + how)
    if r.fallback:
        err.print(t["fallback"].format(why=r.fallback), markup=False)
    new = run.sites[run.sites["estado"] == "nueva"]
    if len(new):
        tab = Table(title=t["sites_title"].format(n=min(top, len(new)), total=len(new)))
        cols = ["rank", "site", "where", "gain", "cum", "unique"] + (["shore"] if "shore" in new else [])
        for c in cols:
            tab.add_column(t[c], justify="right" if c in ("rank", "gain", "cum", "unique") else "left")
        total = r.total_weight
        for _, row in new.head(top).iterrows():
            cells = [
                str(int(row["rank"])),
                str(row["site_id"]),
                f"{row['lon']:.5f}, {row['lat']:.5f}",
                _pct(row["marginal_share"], lang),
                _pct(row["cumulative_share"], lang),
                _pct(row["unique_weight"] / total, lang),
            ]
            if "shore" in new:
                cells.append(str(row["shore"]))
            tab.add_row(*cells)
        out.print(tab)
    curve = run.curve
    if len(curve) > 1:
        n = len(curve) - 1
        picks = sorted({0, n // 4, n // 2, (3 * n) // 4, n, min(r.n_selected, n)})
        tab = Table(title=t["curve_title"])
        tab.add_column(t["n_sites"], justify="right")
        tab.add_column(t["share"], justify="right")
        has_b = "bound_share" in curve
        if has_b:
            tab.add_column(t["bound_share"], justify="right")
        for k in picks:
            row = curve.iloc[k]
            tab.add_row(str(int(row["n_sites"])), _pct(row["covered_share"], lang), *([_pct(row["bound_share"], lang)] if has_b else []))
        out.print(tab)


def _print_notes(run: Any, lang: str) -> None:
    t = labels("placement_cli", lang)
    d = run.notes.get("demand", {})
    if d.get("unknown_harm_categories"):
        cats = ", ".join(f"{k} ({fmt_int(v, lang)})" for k, v in d["unknown_harm_categories"].items())
        err.print(t["notes_unknown"].format(w=1, cats=cats), markup=False)
    c = run.notes.get("candidates", {})
    if c.get("excluded"):
        err.print(t["notes_excluded"].format(n=fmt_int(c["excluded"], lang)), markup=False)
    if c.get("too_close_to_existing"):
        err.print(
            t["notes_close"].format(
                n=fmt_int(c["too_close_to_existing"], lang), d=LangNumber(run.parameters.get("min_spacing_m") or 0, lang)
            ),
            markup=False,
        )
    if d.get("too_far_from_shore"):
        err.print(
            t["notes_far"].format(n=fmt_int(d["too_far_from_shore"], lang), d=LangNumber(run.parameters.get("max_snap_m") or 0, lang)),
            markup=False,
        )


def _plan(fn: Callable[..., Any], lang: str, **kw: Any) -> Any:
    """Run ``plan_cameras`` / ``plan_garitas`` under a status line; its warnings (harm
    weighting without categories) are printed as one plain line each, not as Python warnings.
    """
    with err.status(label("placement_cli", "optimizing", lang)), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoCategoryWarning)
        run = fn(**kw)
    for w in caught:
        if issubclass(w.category, NoCategoryWarning):
            err.print(str(w.message), markup=False)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return run


def _print_load(run: Any, lang: str) -> None:
    """The demand records' load report (rows kept, corrected, dropped; approximate locations)."""
    report = getattr(run, "reports", {}).get("incidents") if isinstance(getattr(run, "reports", None), dict) else None
    if report is None:
        return
    err.print(report.summary(lang), markup=False)
    line = approximate_summary(report, lang)
    if line:
        err.print(line, markup=False)


def _finish(
    run: Any,
    out_dir: Path | None,
    formats: list[str] | None,
    top: int,
    lang: str,
    policy: DisclosurePolicy | None = None,
    export: Export | None = None,
) -> None:
    _print_load(run, lang)
    _print_notes(run, lang)
    _print_run(run, top=top, lang=lang)
    if out_dir is None:
        print_not_written(lang)
        return
    if policy is not None:
        from geoprio.placement.public import write_public_plan

        print_written(write_public_plan(run, policy, out_dir, formats, command=command_line(), export=export), lang)
        return
    print_written(run.write(out_dir, formats, command=command_line(), export=export), lang)


def _policy(public: bool, min_count: int | None, manifest: Path | None) -> DisclosurePolicy | None:
    policy = public_policy(public, min_count)
    if policy is not None and manifest is not None:
        raise typer.BadParameter("--public writes a new public release: run the plan again instead of --manifest")
    return policy


def _replay(kind: str, manifest: Path, out_dir: Path | None, top: int, lang: str) -> None:
    from geoprio.placement.plan import replay_camera_plan, replay_garita_plan

    with err.status(label("placement_cli", "optimizing", lang)):
        rep = (replay_camera_plan if kind == "cameras" else replay_garita_plan)(manifest, out_dir=out_dir)
    _print_notes(rep.result, lang)
    _print_run(rep.result, top=top, lang=lang)
    print_replay(rep, lang)


# --------------------------------------------------------------------------- commands


@plan_app.command("cameras")
@friendly
def cameras_cmd(
    incidents: Annotated[
        Optional[str],
        typer.Argument(
            help="Incident points: the demand. A file (CSV, Excel, GeoJSON, GeoPackage…) or a PostGIS table or query "
            "(postgresql://host:5432/db?table=schema.name; credentials from PGUSER/PGPASSWORD or ~/.pgpass).",
            show_default=False,
        ),
    ] = None,
    radius_m: Annotated[float, typer.Option("--radius-m", help="Useful range of a camera, in metres.")] = _CAM.radius_m,
    p: POpt = None,
    target: TargetOpt = None,
    budget: BudgetOpt = None,
    existing: Annotated[Optional[Path], typer.Option("--existing", help="Existing cameras (points or a table), kept.")] = None,
    existing_crs: ExistingCrsOpt = None,
    candidates: Annotated[Optional[Path], typer.Option("--candidates", help="Candidate sites (points or a CSV/Excel table).")] = None,
    candidates_crs: Annotated[
        Optional[str], typer.Option("--candidates-crs", help="CRS of a candidates table's coordinates in metres (e.g. EPSG:9377).")
    ] = None,
    grid_spacing_m: Annotated[Optional[float], typer.Option("--grid-spacing-m", help="Candidate grid spacing in metres.")] = None,
    streets: Annotated[Optional[Path], typer.Option("--streets", help="Street centre lines: candidates along them.")] = None,
    street_spacing_m: Annotated[
        float, typer.Option("--street-spacing-m", help="Spacing of candidates along streets.")
    ] = _CAM.street_spacing_m,
    exclude: Annotated[Optional[Path], typer.Option("--exclude", help="Polygons where no camera may go.")] = None,
    cost_column: Annotated[Optional[str], typer.Option("--cost-column", help="Cost column of the candidate layers.")] = None,
    index: Annotated[Optional[Path], typer.Option("--index", help="Zones with a priority index (e.g. indice_upz.geojson).")] = None,
    index_column: Annotated[str, typer.Option("--index-column", help="Index column (0–100).")] = _CAM.index_column,
    index_weight: Annotated[float, typer.Option("--index-weight", min=0.0, help="Weight × (1 + this × index/100).")] = _CAM.index_weight,
    harm: Annotated[bool, typer.Option("--harm/--no-harm", help="Weight incidents by the harm of their category.")] = True,
    harm_table: Annotated[Optional[Path], typer.Option("--harm-table", help="A harm table TOML (default geoprio's).")] = None,
    cell_size_m: Annotated[Optional[float], typer.Option("--cell-size-m", help="Aggregate demand into square cells of this size.")] = None,
    demand: Annotated[
        Optional[Path],
        typer.Option(
            "--demand",
            help="A forecast surface CSV (geoprio forecast --surface: pronostico_superficie.csv) instead of INCIDENTS: "
            "each cell's expected incidents are its demand, at the cell centre.",
        ),
    ] = None,
    min_spacing_m: SpacingOpt = None,
    backup: BackupOpt = _CAM.backup_weight,
    x: Annotated[Optional[str], typer.Option("--x", help="Longitude / x column of the incidents.")] = None,
    y: Annotated[Optional[str], typer.Option("--y", help="Latitude / y column of the incidents.")] = None,
    category: Annotated[Optional[str], typer.Option("--category", help="Category column of the incidents.")] = None,
    input_crs: Annotated[Optional[str], typer.Option("--input-crs", help="CRS of projected incident coordinates, e.g. EPSG:3116.")] = None,
    weight_column: WeightColumnOpt = None,
    metric_crs: MetricCrsOpt = None,
    bbox: BBoxOpt = None,
    anywhere: AnywhereOpt = False,
    time_limit: TimeOpt = _CAM.time_limit_s,
    gap: GapOpt = _CAM.mip_rel_gap,
    method: MethodOpt = _CAM.method,
    seed: PlanSeedOpt = _CAM.random_state,
    curve_max: CurveOpt = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    top: TopOpt = 15,
    manifest: ManifestOpt = None,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Plan new CCTV cameras where they see the most weighted crime (coverage optimization)."""
    from geoprio.placement.plan import plan_cameras

    lang = lang_option(lang)
    fm = list(check_formats(formats) or PLAN_FORMATS)
    export = export_options(crs, csv, lang)
    _no_manifest_and_input(manifest, incidents is not None or demand is not None, "INCIDENTS or --demand")
    policy = _policy(public, min_count, manifest)
    if manifest is not None:
        _replay("cameras", manifest, out_dir, top, lang)
        return
    if demand is not None:
        if incidents is not None:
            raise typer.BadParameter("give either INCIDENTS or --demand, not both")
        if x is not None or y is not None or category is not None or input_crs is not None or weight_column is not None:
            raise typer.BadParameter(
                "--demand reads the surface's lon, lat and expected columns; drop --x, --y, --category, --input-crs, --weight-column"
            )
        surface = forecast_demand(demand)
        x, y, weight_column, harm = surface.x, surface.y, surface.weight_column, False
    if incidents is None and demand is None:
        raise typer.BadParameter("give an INCIDENTS file, --demand or --manifest")
    points = demand if demand is not None else path_or_source(str(incidents), where="INCIDENTS")
    _check(method, target)
    settings = _settings(
        radius_m=radius_m,
        p=p,
        target_share=target,
        budget=budget,
        grid_spacing_m=grid_spacing_m,
        street_spacing_m=street_spacing_m,
        cost_column=cost_column,
        index_column=index_column,
        index_weight=index_weight,
        harm=(harm_table if harm_table is not None else True) if harm else False,
        cell_size_m=cell_size_m,
        min_spacing_m=min_spacing_m,
        backup_weight=backup,
        metric_crs=metric_crs,
        incident_options=_settings(x=x, y=y, category=category, crs=input_crs),
        weight_column=weight_column,
        candidate_options=_settings(crs=candidates_crs),
        existing_options=_settings(crs=existing_crs),
        time_limit_s=time_limit,
        mip_rel_gap=gap,
        method=method,
        random_state=seed,
        curve_max=curve_max,
    )
    run = _plan(
        plan_cameras,
        lang,
        incidents=points,
        index_zones=index,
        existing=existing,
        candidates=candidates,
        streets=streets,
        exclude=exclude,
        bbox=_bbox(bbox, anywhere, lang),
        **settings,
    )
    _finish(run, out_dir, fm, top, lang, policy, export)


@plan_app.command("garitas")
@friendly
def garitas_cmd(
    coast: Annotated[Optional[Path], typer.Option("--coast", help="Coast line layer.")] = None,
    beaches: Annotated[Optional[Path], typer.Option("--beaches", help="Beach polygons (with --coast: the coast along them).")] = None,
    existing: Annotated[Optional[Path], typer.Option("--existing", help="Existing garitas (points or a table), kept.")] = None,
    existing_crs: ExistingCrsOpt = None,
    incidents: Annotated[Optional[Path], typer.Option("--incidents", help="Beach incidents (points), snapped to the shore.")] = None,
    visitors_column: Annotated[Optional[str], typer.Option("--visitors-column", help="Visitors per beach (column of --beaches).")] = None,
    beach_name: Annotated[Optional[str], typer.Option("--beach-name", help="Name column of the beaches (default 'nombre').")] = None,
    spacing_m: Annotated[float, typer.Option("--spacing-m", help="Candidate garitas every this many metres of shore.")] = _GAR.spacing_m,
    radius_m: Annotated[float, typer.Option("--radius-m", help="Shore a garita covers on each side, in metres.")] = _GAR.radius_m,
    step_m: Annotated[float, typer.Option("--step-m", help="Demand sample spacing along the shore, in metres.")] = _GAR.demand_step_m,
    max_snap_m: Annotated[float, typer.Option("--max-snap-m", help="Incidents farther from the shore are dropped.")] = _GAR.max_snap_m,
    p: POpt = None,
    target: TargetOpt = None,
    budget: BudgetOpt = None,
    min_spacing_m: SpacingOpt = None,
    backup: BackupOpt = _GAR.backup_weight,
    shore_bbox: Annotated[Optional[str], typer.Option("--shore-bbox", help="Clip the shore: min_lon,min_lat,max_lon,max_lat.")] = None,
    harm: Annotated[bool, typer.Option("--harm/--no-harm", help="Weight incidents by the harm of their category.")] = True,
    weight_column: WeightColumnOpt = None,
    metric_crs: MetricCrsOpt = None,
    bbox: BBoxOpt = None,
    anywhere: AnywhereOpt = False,
    time_limit: TimeOpt = _GAR.time_limit_s,
    gap: GapOpt = _GAR.mip_rel_gap,
    method: MethodOpt = _GAR.method,
    seed: PlanSeedOpt = _GAR.random_state,
    curve_max: CurveOpt = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    top: TopOpt = 15,
    manifest: ManifestOpt = None,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Plan beach garitas along a coast or beaches, with coverage measured along the shore."""
    from geoprio.placement.plan import plan_garitas

    lang = lang_option(lang)
    fm = list(check_formats(formats) or PLAN_FORMATS)
    export = export_options(crs, csv, lang)
    _no_manifest_and_input(manifest, coast is not None or beaches is not None, "--coast / --beaches")
    policy = _policy(public, min_count, manifest)
    if manifest is not None:
        _replay("garitas", manifest, out_dir, top, lang)
        return
    _check(method, target)
    if coast is None and beaches is None:
        raise typer.BadParameter("give --coast, --beaches or both")
    settings = _settings(
        visitors_column=visitors_column,
        beach_name=beach_name,
        spacing_m=spacing_m,
        radius_m=radius_m,
        demand_step_m=step_m,
        max_snap_m=max_snap_m,
        p=p,
        target_share=target,
        budget=budget,
        min_spacing_m=min_spacing_m,
        backup_weight=backup,
        harm=harm,
        shore_bbox=_shore_bbox(shore_bbox),
        weight_column=weight_column,
        existing_options=_settings(crs=existing_crs),
        metric_crs=metric_crs,
        time_limit_s=time_limit,
        mip_rel_gap=gap,
        method=method,
        random_state=seed,
        curve_max=curve_max,
    )
    run = _plan(
        plan_garitas,
        lang,
        coast=coast,
        beaches=beaches,
        existing=existing,
        incidents=incidents,
        bbox=_bbox(bbox, anywhere, lang),
        **settings,
    )
    _finish(run, out_dir, fm, top, lang, policy, export)


def register(app: typer.Typer) -> None:
    """Add ``plan cameras`` and ``plan garitas`` to the ``geoprio`` app."""
    app.add_typer(plan_app, name="plan")
