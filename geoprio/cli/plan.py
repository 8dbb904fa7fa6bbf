"""``geoprio plan``: camera and garita placement from the command line.

A thin layer over :mod:`geoprio.placement.plan`: each command parses its options, calls
:func:`~geoprio.placement.plan.plan_cameras` or :func:`~geoprio.placement.plan.plan_garitas`, writes the
outputs with :func:`~geoprio.placement.plan.write_plan` and prints the summary, the best sites and
the coverage curve (Spanish by default, ``--lang en`` for English).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from geoprio.cli.common import LangOpt, err, friendly, lang_option, out

plan_app = typer.Typer(
    name="plan",
    help="Ubicación de cámaras y garitas por optimización de cobertura.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_T = {
    "es": {
        "title_cameras": "Plan de cámaras",
        "title_garitas": "Plan de garitas",
        "new": "nuevas",
        "existing": "existentes",
        "radius": "radio {r:g} m",
        "along": "a lo largo de la costa",
        "covered": "Demanda cubierta: {c} (solo existentes: {e}; alcanzable: {a})",
        "backup": "Cubierta dos veces: {b}",
        "objective": "Objetivo: {o} — cota superior: {b} — brecha: {g}",
        "objective_min": "Sitios nuevos: {o} — cota inferior: {b} — brecha: {g}",
        "how": "Plan: {s}; cota: {bs}; estado: {st}; {t:.1f} s",
        "rank": "Pos.",
        "site": "Sitio",
        "where": "Lon, lat",
        "gain": "Aporte",
        "cum": "Acumulado",
        "unique": "Exclusivo",
        "shore": "Playa",
        "sites_title": "Sitios nuevos (mejores primero, {n} de {total})",
        "curve_title": "Curva de cobertura (plan voraz anidado)",
        "n_sites": "Sitios nuevos",
        "share": "Demanda cubierta",
        "bound_share": "Máximo posible",
        "written": "Archivos escritos",
        "notes_unknown": "Categorías sin peso de daño (peso {w:g}): {cats}",
        "notes_excluded": "Candidatos descartados: {n} en zonas excluidas",
        "notes_close": "Candidatos descartados: {n} a menos de {d:g} m de uno existente",
        "notes_far": "Incidentes a más de {d:g} m de la costa (descartados): {n}",
        "status": {"optimal": "óptimo", "time_limit": "límite de tiempo", "stopped": "sin prueba de optimalidad"},
        "solver": {
            "highs": "HiGHS (MILP exacto)",
            "decomposition": "descomposición por precio de sitio (exacta)",
            "highs-lns": "HiGHS por vecindarios",
            "greedy": "voraz",
            "greedy+swap": "voraz + intercambios",
            "lagrangian+swap": "heurística lagrangiana + intercambios",
            "mclp-heuristics": "heurísticas de cobertura máxima",
            "trivial": "trivial",
        },
        "bound": {
            "highs": "HiGHS",
            "decomposition": "descomposición por precio de sitio",
            "lagrangian": "relajación lagrangiana",
            "lp": "relajación lineal",
            "trivial": "trivial",
        },
    },
    "en": {
        "title_cameras": "Camera plan",
        "title_garitas": "Garita plan",
        "new": "new",
        "existing": "existing",
        "radius": "radius {r:g} m",
        "along": "along the shore",
        "covered": "Demand covered: {c} (existing alone: {e}; reachable: {a})",
        "backup": "Covered twice: {b}",
        "objective": "Objective: {o} — upper bound: {b} — gap: {g}",
        "objective_min": "New sites: {o} — lower bound: {b} — gap: {g}",
        "how": "Plan: {s}; bound: {bs}; status: {st}; {t:.1f} s",
        "rank": "Rank",
        "site": "Site",
        "where": "Lon, lat",
        "gain": "Adds",
        "cum": "Cumulative",
        "unique": "Unique",
        "shore": "Beach",
        "sites_title": "New sites (best first, {n} of {total})",
        "curve_title": "Coverage curve (nested greedy plans)",
        "n_sites": "New sites",
        "share": "Demand covered",
        "bound_share": "Best possible",
        "written": "Files written",
        "notes_unknown": "Categories without a harm weight (weight {w:g}): {cats}",
        "notes_excluded": "Candidates dropped: {n} in excluded areas",
        "notes_close": "Candidates dropped: {n} closer than {d:g} m to an existing site",
        "notes_far": "Incidents farther than {d:g} m from the shore (dropped): {n}",
        "status": {"optimal": "optimal", "time_limit": "time limit", "stopped": "no optimality proof"},
        "solver": {
            "highs": "HiGHS (exact MILP)",
            "decomposition": "decomposition by site price (exact)",
            "highs-lns": "HiGHS neighbourhood search",
            "greedy": "greedy",
            "greedy+swap": "greedy + swaps",
            "lagrangian+swap": "Lagrangian heuristic + swaps",
            "mclp-heuristics": "maximal-covering heuristics",
            "trivial": "trivial",
        },
        "bound": {
            "highs": "HiGHS",
            "decomposition": "decomposition by site price",
            "lagrangian": "Lagrangian relaxation",
            "lp": "LP relaxation",
            "trivial": "trivial",
        },
    },
}

# --------------------------------------------------------------------------- shared options

POpt = Annotated[int | None, typer.Option("--p", "-p", min=1, help="Number of new sites (maximal covering).")]
TargetOpt = Annotated[
    float | None, typer.Option("--target", help="Share of demand to cover with the fewest new sites, e.g. 0.8 (set covering).")
]
BudgetOpt = Annotated[
    float | None, typer.Option("--budget", help="Total cost allowed for new sites (costs from --cost-column, else 1 each).")
]
SpacingOpt = Annotated[float | None, typer.Option("--min-spacing-m", help="Minimum distance between new sites (and from existing ones).")]
BackupOpt = Annotated[float, typer.Option("--backup", min=0.0, max=1.0, help="Value of a second cover as a share of the weight (0 = off).")]
TimeOpt = Annotated[float, typer.Option("--time-limit", min=0.5, help="Hard time limit of the search, in seconds.")]
GapOpt = Annotated[float, typer.Option("--gap", min=0.0, max=0.99, help="Stop once proven within this relative gap of the optimum.")]
MethodOpt = Annotated[str, typer.Option("--method", help="auto (heuristics, then HiGHS), milp (always the full MILP) or heuristic.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the neighbourhood search.")]
CurveOpt = Annotated[int | None, typer.Option("--curve-max", min=1, help="Largest number of sites in the coverage curve (default 2p).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
FormatOpt = Annotated[list[str] | None, typer.Option("--format", help="Output format, repeatable: csv, geojson, gpkg (default all).")]
TopOpt = Annotated[int, typer.Option("--top", min=1, help="Sites to print.")]
CrsOpt = Annotated[str, typer.Option("--metric-crs", help="Projected CRS in metres for distances (default EPSG:9377).")]
AnywhereOpt = Annotated[bool, typer.Option("--anywhere", help="Accept coordinates outside Colombia (e.g. Chicago data).")]


def _check(method: str, formats: list[str] | None, target: float | None) -> list[str]:
    from geoprio.placement.plan import FORMATS

    if method not in ("auto", "milp", "heuristic"):
        raise typer.BadParameter(f"--method must be auto, milp or heuristic, got {method!r}")
    fm = formats or list(FORMATS)
    bad = [f for f in fm if f not in FORMATS]
    if bad:
        raise typer.BadParameter(f"unknown format(s) {bad}; choose from {list(FORMATS)}")
    if target is not None and not (0 < target <= 1):
        raise typer.BadParameter(f"--target is a share between 0 and 1 (e.g. 0.8 for 80 %), got {target!r}")
    return fm


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def _print_run(run: Any, *, top: int, lang: str, radius_m: float) -> None:
    t = _T[lang]
    r = run.result
    n_old = int((run.sites["estado"] == "existente").sum())
    title = t["title_cameras"] if run.kind == "cameras" else t["title_garitas"]
    where = t["radius"].format(r=radius_m) + (f" {t['along']}" if run.kind == "garitas" else "")
    out.print(f"[bold]{title}[/]: {r.n_selected} {t['new']} (+{n_old} {t['existing']}), {where}", markup=True)
    out.print("  " + t["covered"].format(c=_pct(r.covered_share), e=_pct(r.existing_share), a=_pct(r.coverable_share)))
    if r.parameters.get("backup_weight"):
        out.print("  " + t["backup"].format(b=_pct(r.backup_share)))
    key = "objective_min" if r.problem == "set_cover" else "objective"
    out.print("  " + t[key].format(o=_num(r.objective), b=_num(r.bound), g=f"{100 * r.gap:.2f} %"))
    out.print(
        "  "
        + t["how"].format(
            s=t["solver"].get(r.solver, r.solver), bs=t["bound"].get(r.bound_source, r.bound_source), st=t["status"][r.status], t=r.time_s
        )
    )
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
                _pct(row["marginal_share"]),
                _pct(row["cumulative_share"]),
                _pct(row["unique_weight"] / total),
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
            tab.add_row(str(int(row["n_sites"])), _pct(row["covered_share"]), *([_pct(row["bound_share"])] if has_b else []))
        out.print(tab)


def _print_notes(run: Any, lang: str) -> None:
    t = _T[lang]
    d = run.notes.get("demand", {})
    if d.get("unknown_harm_categories"):
        cats = ", ".join(f"{k} ({v})" for k, v in d["unknown_harm_categories"].items())
        err.print(t["notes_unknown"].format(w=1, cats=cats), markup=False)
    c = run.notes.get("candidates", {})
    if c.get("excluded"):
        err.print(t["notes_excluded"].format(n=c["excluded"]), markup=False)
    if c.get("too_close_to_existing"):
        err.print(t["notes_close"].format(n=c["too_close_to_existing"], d=run.parameters.get("min_spacing_m") or 0), markup=False)
    if d.get("too_far_from_shore"):
        err.print(t["notes_far"].format(n=d["too_far_from_shore"], d=run.parameters.get("max_snap_m") or 0), markup=False)


def _write(run: Any, out_dir: Path, formats: list[str], lang: str) -> None:
    from geoprio.placement.plan import write_plan

    paths, manifest = write_plan(run, out_dir, formats=formats, command=" ".join(["geoprio", *sys.argv[1:]]))
    out.print(f"{_T[lang]['written']}:")
    for p in [*paths, manifest]:
        out.print(f"  {p}")


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected min_lon,min_lat,max_lon,max_lat, got {text!r}") from None
    if len(vals) != 4 or vals[0] >= vals[2] or vals[1] >= vals[3]:
        raise typer.BadParameter(f"expected min_lon,min_lat,max_lon,max_lat with min < max, got {text!r}")
    return vals  # type: ignore[return-value]


# --------------------------------------------------------------------------- commands


@plan_app.command("cameras")
@friendly
def cameras_cmd(
    incidents: Annotated[Path, typer.Argument(help="Incident points (CSV, Excel, GeoJSON, GeoPackage…): the demand.")],
    radius_m: Annotated[float, typer.Option("--radius-m", help="Useful range of a camera, in metres.")] = 100.0,
    p: POpt = None,
    target: TargetOpt = None,
    budget: BudgetOpt = None,
    existing: Annotated[Path | None, typer.Option("--existing", help="Existing cameras (points), kept.")] = None,
    candidates: Annotated[Path | None, typer.Option("--candidates", help="Candidate sites (points).")] = None,
    grid_spacing_m: Annotated[float | None, typer.Option("--grid-spacing-m", help="Candidate grid spacing in metres.")] = None,
    streets: Annotated[Path | None, typer.Option("--streets", help="Street centre lines: candidates along them.")] = None,
    street_spacing_m: Annotated[float, typer.Option("--street-spacing-m", help="Spacing of candidates along streets.")] = 50.0,
    exclude: Annotated[Path | None, typer.Option("--exclude", help="Polygons where no camera may go.")] = None,
    cost_column: Annotated[str | None, typer.Option("--cost-column", help="Cost column of the candidate layers.")] = None,
    index: Annotated[Path | None, typer.Option("--index", help="Zones with a priority index (e.g. indice_upz.geojson).")] = None,
    index_column: Annotated[str, typer.Option("--index-column", help="Index column (0–100).")] = "index",
    index_weight: Annotated[float, typer.Option("--index-weight", min=0.0, help="Weight × (1 + this × index/100).")] = 1.0,
    harm: Annotated[bool, typer.Option("--harm/--no-harm", help="Weight incidents by the harm of their category.")] = True,
    harm_table: Annotated[Path | None, typer.Option("--harm-table", help="A harm table TOML (default geoprio's).")] = None,
    cell_size_m: Annotated[float | None, typer.Option("--cell-size-m", help="Aggregate demand into square cells of this size.")] = None,
    min_spacing_m: SpacingOpt = None,
    backup: BackupOpt = 0.0,
    x: Annotated[str | None, typer.Option("--x", help="Longitude / x column of the incidents.")] = None,
    y: Annotated[str | None, typer.Option("--y", help="Latitude / y column of the incidents.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Category column of the incidents.")] = None,
    crs: Annotated[str | None, typer.Option("--crs", help="CRS of projected incident coordinates.")] = None,
    metric_crs: CrsOpt = "EPSG:9377",
    anywhere: AnywhereOpt = False,
    time_limit: TimeOpt = 60.0,
    gap: GapOpt = 1e-4,
    method: MethodOpt = "auto",
    seed: SeedOpt = 0,
    curve_max: CurveOpt = None,
    out_dir: OutOpt = Path("output/camaras"),
    formats: FormatOpt = None,
    top: TopOpt = 15,
    lang: LangOpt = "es",
) -> None:
    """Plan new CCTV cameras where they see the most weighted crime (coverage optimization)."""
    from geoprio.placement.plan import plan_cameras
    from geoprio.settings import COLOMBIA_BBOX

    lang = lang_option(lang)
    fm = _check(method, formats, target)
    opts = {k: v for k, v in {"x": x, "y": y, "category": category, "crs": crs}.items() if v is not None}
    with err.status("Optimizando…" if lang == "es" else "Optimizing…"):
        run = plan_cameras(
            incidents,
            radius_m=radius_m,
            p=p,
            target_share=target,
            budget=budget,
            existing=existing,
            candidates=candidates,
            grid_spacing_m=grid_spacing_m,
            streets=streets,
            street_spacing_m=street_spacing_m,
            exclude=exclude,
            cost_column=cost_column,
            index_zones=index,
            index_column=index_column,
            index_weight=index_weight,
            harm=(harm_table if harm_table is not None else True) if harm else False,
            cell_size_m=cell_size_m,
            min_spacing_m=min_spacing_m,
            backup_weight=backup,
            metric_crs=metric_crs,
            bbox=None if anywhere else COLOMBIA_BBOX,
            incident_options=opts,
            time_limit_s=time_limit,
            mip_rel_gap=gap,
            method=method,  # type: ignore[arg-type]
            random_state=seed,
            curve_max=curve_max,
        )
    _print_notes(run, lang)
    _print_run(run, top=top, lang=lang, radius_m=radius_m)
    _write(run, out_dir, fm, lang)


@plan_app.command("garitas")
@friendly
def garitas_cmd(
    coast: Annotated[Path | None, typer.Option("--coast", help="Coast line layer.")] = None,
    beaches: Annotated[Path | None, typer.Option("--beaches", help="Beach polygons (with --coast: the coast along them).")] = None,
    existing: Annotated[Path | None, typer.Option("--existing", help="Existing garitas (points), kept.")] = None,
    incidents: Annotated[Path | None, typer.Option("--incidents", help="Beach incidents (points), snapped to the shore.")] = None,
    visitors_column: Annotated[str | None, typer.Option("--visitors-column", help="Visitors per beach (column of --beaches).")] = None,
    beach_name: Annotated[str | None, typer.Option("--beach-name", help="Name column of the beaches (default 'nombre').")] = None,
    spacing_m: Annotated[float, typer.Option("--spacing-m", help="Candidate garitas every this many metres of shore.")] = 100.0,
    radius_m: Annotated[float, typer.Option("--radius-m", help="Shore a garita covers on each side, in metres.")] = 500.0,
    step_m: Annotated[float, typer.Option("--step-m", help="Demand sample spacing along the shore, in metres.")] = 10.0,
    max_snap_m: Annotated[float, typer.Option("--max-snap-m", help="Incidents farther from the shore are dropped.")] = 200.0,
    p: POpt = None,
    target: TargetOpt = None,
    budget: BudgetOpt = None,
    min_spacing_m: SpacingOpt = None,
    backup: BackupOpt = 0.0,
    shore_bbox: Annotated[str | None, typer.Option("--shore-bbox", help="Clip the shore: min_lon,min_lat,max_lon,max_lat.")] = None,
    harm: Annotated[bool, typer.Option("--harm/--no-harm", help="Weight incidents by the harm of their category.")] = True,
    metric_crs: CrsOpt = "EPSG:9377",
    anywhere: AnywhereOpt = False,
    time_limit: TimeOpt = 60.0,
    gap: GapOpt = 1e-4,
    method: MethodOpt = "auto",
    seed: SeedOpt = 0,
    curve_max: CurveOpt = None,
    out_dir: OutOpt = Path("output/garitas"),
    formats: FormatOpt = None,
    top: TopOpt = 15,
    lang: LangOpt = "es",
) -> None:
    """Plan beach garitas along a coast or beaches, with coverage measured along the shore."""
    from geoprio.placement.plan import plan_garitas
    from geoprio.settings import COLOMBIA_BBOX

    lang = lang_option(lang)
    fm = _check(method, formats, target)
    if coast is None and beaches is None:
        raise typer.BadParameter("give --coast, --beaches or both")
    with err.status("Optimizando…" if lang == "es" else "Optimizing…"):
        run = plan_garitas(
            coast=coast,
            beaches=beaches,
            existing=existing,
            incidents=incidents,
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
            shore_bbox=_bbox(shore_bbox),
            metric_crs=metric_crs,
            bbox=None if anywhere else COLOMBIA_BBOX,
            time_limit_s=time_limit,
            mip_rel_gap=gap,
            method=method,  # type: ignore[arg-type]
            random_state=seed,
            curve_max=curve_max,
        )
    _print_notes(run, lang)
    _print_run(run, top=top, lang=lang, radius_m=radius_m)
    _write(run, out_dir, fm, lang)


def register(app: typer.Typer) -> None:
    """Add ``plan cameras`` and ``plan garitas`` to the ``geoprio`` app."""
    app.add_typer(plan_app, name="plan")
