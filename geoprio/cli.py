"""The ``geoprio`` command line: a thin layer over the library.

Each command parses its options, calls one library function and formats the result.
Errors that come from the input (a bad file, a bad config) are printed as one clear
message and the command exits with status 1, without a traceback; set
``GEOPRIO_DEBUG=1`` to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from geoprio import __version__
from geoprio._cli_common import LangOpt, err, friendly, lang_option, out

app = typer.Typer(
    name="geoprio",
    help="Priorización territorial para seguridad y convivencia: índice, zonas priorizadas y más.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_T = {
    "es": {
        "rank": "Pos.",
        "zone": "Zona",
        "name": "Nombre",
        "parent": "Superior",
        "index": "Índice",
        "tier": "Prioridad",
        "interval": "Rango 5–95 %",
        "ptop": "P(top {k})",
        "drivers": "Principales factores",
        "written": "Archivos escritos",
        "excluded": "Zonas sin índice",
        "title": "Índice de priorización — {level} (top {n} de {total})",
        "reproduced": "Reproducido: {n} salidas idénticas",
        "differs": "Salidas distintas: {files}",
        "small": "† denominador menor que {n} ({action}): {zones}",
        "small_flag": "solo marcadas",
        "small_exclude": "fuera del ranking",
        "small_smooth": "con tasa suavizada",
    },
    "en": {
        "rank": "Rank",
        "zone": "Zone",
        "name": "Name",
        "parent": "Parent",
        "index": "Index",
        "tier": "Priority",
        "interval": "Rank 5–95 %",
        "ptop": "P(top {k})",
        "drivers": "Main drivers",
        "written": "Files written",
        "excluded": "Zones without an index",
        "title": "Prioritization index — {level} (top {n} of {total})",
        "reproduced": "Reproduced: {n} identical outputs",
        "differs": "Outputs that differ: {files}",
        "small": "† denominator under {n} ({action}): {zones}",
        "small_flag": "flagged only",
        "small_exclude": "left out of the ranking",
        "small_smooth": "given the smoothed rate",
    },
}


def _version(value: bool) -> None:
    if value:
        out.print(f"geoprio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """geoprio: índice de priorización, zonas priorizadas y planeación para seguridad y convivencia."""


def _print_index(run: Any, *, top: int, lang: str) -> None:
    t = _T[lang]
    table = run.table
    ranked = table[table["rank"].notna()].sort_values("rank", kind="stable")
    k = run.config.robustness.top_k
    rich_table = Table(title=t["title"].format(level=run.zones.level, n=min(top, len(ranked)), total=len(ranked)))
    for col in ("rank", "zone", "name", "parent", "index", "tier"):
        rich_table.add_column(t[col], justify="right" if col in ("rank", "index") else "left")
    has_mc = "rank_p05" in table.columns
    if has_mc:
        rich_table.add_column(t["interval"], justify="center")
        rich_table.add_column(t["ptop"].format(k=k), justify="right")
    rich_table.add_column(t["drivers"])
    for _, r in ranked.head(top).iterrows():
        cells = [
            str(int(r["rank"])),
            str(r["zone_id"]),
            str(r["name"]) + (" †" if bool(r.get("small_denominator", False)) else ""),
            "" if _isna(r["parent_name"]) else str(r["parent_name"]),
            f"{r['index']:.1f}",
            str(r["tier"]),
        ]
        if has_mc:
            cells += [f"{int(r['rank_p05'])}–{int(r['rank_p95'])}", f"{r[f'p_top_{k}']:.2f}"]
        cells.append(str(r["drivers"]))
        rich_table.add_row(*cells)
    out.print(rich_table)
    if "small_denominator" in table.columns and table["small_denominator"].any():
        minimum = run.config.index.min_population
        flagged = ", ".join(
            f"{z} {n}"
            for z, n in zip(table.loc[table["small_denominator"], "zone_id"], table.loc[table["small_denominator"], "name"], strict=True)
        )
        out.print(t["small"].format(n=f"{minimum:g}", action=t["small_" + run.config.index.small_zones], zones=flagged))
    excluded = table[table["rank"].isna()]
    if len(excluded):
        out.print(
            f"{t['excluded']}: " + ", ".join(f"{z} ({why})" for z, why in zip(excluded["zone_id"], excluded["excluded"], strict=True))
        )


def _isna(v: Any) -> bool:
    try:
        return bool(v != v) or v is None  # NaN or None
    except (TypeError, ValueError):
        return v is None or str(v) == "<NA>"


def _print_reports(run: Any, lang: str) -> None:
    for report in run.reports:
        if report.n_read:
            err.print(report.summary(lang))


def _print_written(paths: list[Path], manifest: Path | None, lang: str) -> None:
    out.print(f"{_T[lang]['written']}:")
    for p in [*paths, *([manifest] if manifest else [])]:
        out.print(f"  {p}")


@app.command("index")
@friendly
def index_cmd(
    config: Annotated[Optional[Path], typer.Argument(help="TOML configuration of the run (see the README).")] = None,
    manifest: Annotated[
        Optional[Path], typer.Option("--manifest", help="Re-run a previous run from its manifest.json and check the outputs are identical.")
    ] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Output folder (overrides the config's).")] = None,
    formats: Annotated[
        Optional[list[str]], typer.Option("--format", help="Output format, repeatable: csv, geojson, gpkg, parquet.")
    ] = None,
    draws: Annotated[Optional[int], typer.Option("--draws", min=0, help="Monte Carlo draws for rank stability (0 turns it off).")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to print.")] = 15,
    lang: LangOpt = "es",
) -> None:
    """Compute the prioritization index and the ranked zone list from a config file."""
    from geoprio.config import load_config
    from geoprio.pipeline import replay_manifest, run_index

    lang = lang_option(lang)
    command = " ".join(["geoprio", *sys.argv[1:]]) if sys.argv else None
    if manifest is not None:
        if config is not None:
            raise typer.BadParameter("give either CONFIG or --manifest, not both")
        replay = replay_manifest(manifest, out_dir=out_dir)
        _print_reports(replay.run, lang)
        _print_index(replay.run, top=top, lang=lang)
        _print_written(replay.run.outputs, replay.run.manifest, lang)
        if replay.different:
            err.print(_T[lang]["differs"].format(files=", ".join(replay.different)))
            raise typer.Exit(1)
        out.print(_T[lang]["reproduced"].format(n=len(replay.identical)))
        return
    if config is None:
        raise typer.BadParameter("give a CONFIG file or --manifest")
    cfg = load_config(config)
    cfg = cfg.model_copy(update=config_overrides(cfg, out_dir=out_dir, formats=formats, draws=draws, lang=lang))
    with err.status("…"):
        run = run_index(cfg, command=command)
    _print_reports(run, lang)
    _print_index(run, top=top, lang=lang)
    _print_written(run.outputs, run.manifest, lang)


def config_overrides(cfg: Any, *, out_dir: Path | None, formats: list[str] | None, draws: int | None, lang: str) -> dict[str, Any]:
    """The ``output``, ``robustness`` and ``index`` sections of a run config with the command
    line's ``--out``, ``--format``, ``--draws`` and ``--lang`` applied (only those that change).
    """
    updates: dict[str, Any] = {}
    if out_dir is not None or formats:
        updates["output"] = cfg.output.model_copy(
            update={
                **({"dir": out_dir.resolve()} if out_dir is not None else {}),
                **({"formats": _formats(formats)} if formats else {}),
            }
        )
    if draws is not None:
        updates["robustness"] = cfg.robustness.model_copy(update={"draws": draws})
    if lang != cfg.index.lang:
        updates["index"] = cfg.index.model_copy(update={"lang": lang})
    return updates


def _formats(formats: list[str]) -> list[str]:
    allowed = {"csv", "geojson", "gpkg", "parquet"}
    bad = [f for f in formats if f not in allowed]
    if bad:
        raise typer.BadParameter(f"unknown format(s) {bad}; choose from {sorted(allowed)}")
    return formats


@app.command("validate")
@friendly
def validate_cmd(
    path: Annotated[Path, typer.Argument(help="File to check (CSV, Excel, GeoJSON, GeoPackage, shapefile, GeoParquet).")],
    kind: Annotated[str, typer.Option(help="crime, complaint or coexistence.")] = "crime",
    x: Annotated[Optional[str], typer.Option(help="Longitude / x column.")] = None,
    y: Annotated[Optional[str], typer.Option(help="Latitude / y column.")] = None,
    crs: Annotated[Optional[str], typer.Option(help="CRS of projected coordinates, e.g. EPSG:9377.")] = None,
    key: Annotated[Optional[str], typer.Option(help="Column naming a place instead of coordinates.")] = None,
    zone_id: Annotated[Optional[str], typer.Option("--zone-id", help="Column of zone ids in a per-zone table.")] = None,
    date: Annotated[Optional[str], typer.Option(help="Date column.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Category column.")] = None,
    zones: Annotated[Optional[Path], typer.Option(help="Zone layer to assign the records to (checks the study area).")] = None,
    zones_id: Annotated[Optional[str], typer.Option("--zones-id", help="Id column of the zone layer.")] = None,
    zones_name: Annotated[Optional[str], typer.Option("--zones-name", help="Name column of the zone layer.")] = None,
    key_pattern: Annotated[
        Optional[str], typer.Option("--key-pattern", help=r"Regex with one group to extract the key, e.g. 'E-(\d+)'.")
    ] = None,
    match_on: Annotated[str, typer.Option("--match-on", help="Match keys to zone 'name' or 'id'.")] = "name",
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON here.")] = None,
    lang: LangOpt = "es",
) -> None:
    """Load one file, validate it and print the report (rows kept, corrected, dropped and why)."""
    from geoprio import io
    from geoprio.config import SourceConfig
    from geoprio.pipeline import _tie, load_source
    from geoprio.zones import load_zones

    lang = lang_option(lang)
    src = SourceConfig(
        path=path,
        kind=kind,
        x=x,
        y=y,
        crs=crs,
        key=key,
        zone_id=zone_id,
        date=date,
        category=category,
        key_pattern=key_pattern,
        match_on=match_on,
    )  # type: ignore[arg-type]
    loaded = load_source(path.name, src)
    if zones is not None:
        if zones_id is None:
            raise typer.BadParameter("--zones needs --zones-id")
        z = load_zones(zones, id=zones_id, name=zones_name)
        loaded = _tie(loaded, src, z, None)
    out.print(loaded.report.summary(lang))
    unmatched = loaded.report.settings.get("unmatched_keys")
    if unmatched:
        out.print(
            ("Lugares sin zona más frecuentes: " if lang == "es" else "Most frequent unmatched places: ")
            + ", ".join(f"{k} ({v:g})" for k, v in list(unmatched.items())[:10])
        )
    if json_out is not None:
        io.write_json(loaded.report.to_dict(), json_out)


@app.command("grid")
@friendly
def grid_cmd(
    zones: Annotated[Path, typer.Argument(help="Polygon layer whose union is the study area.")],
    zones_id: Annotated[str, typer.Option("--id", help="Id column of the layer.")],
    cell_size_m: Annotated[float, typer.Option("--cell-size-m", help="Cell size in metres (hexagons: distance between centres).")],
    output: Annotated[Path, typer.Option("--out", help="Output layer (.geojson, .gpkg or .parquet).")],
    shape: Annotated[str, typer.Option(help="square or hex.")] = "square",
    metric_crs: Annotated[Optional[str], typer.Option("--metric-crs", help="Projected CRS in metres (default EPSG:9377).")] = None,
) -> None:
    """Make a square or hexagonal grid clipped to a study area, each cell tied to its zone."""
    from geoprio import io
    from geoprio.zones import load_zones, make_grid

    z = load_zones(zones, id=zones_id, **({"metric_crs": metric_crs} if metric_crs else {}))
    g = make_grid(z, cell_size_m=cell_size_m, shape=shape)  # type: ignore[arg-type]
    io.write_layer(g.frame, output)
    out.print(f"{g.summary()} → {output}")


@app.command("harm")
@friendly
def harm_cmd(
    table: Annotated[Optional[Path], typer.Option(help="A harm table TOML (default: geoprio's).")] = None,
) -> None:
    """Show the harm weights per crime category and the rationale of each."""
    from geoprio.harm import load_harm_table

    ht = load_harm_table(table)
    t = Table(title=f"Pesos de daño ({ht.source}): meses mínimos de prisión en el Código Penal")
    for col in ("Categoría", "Peso", "Artículo", "Justificación"):
        t.add_column(col)
    for _, r in ht.to_frame().iterrows():
        t.add_row(r["category"], f"{r['weight_months']:g}", r["article"], r["rationale"])
    out.print(t)


@app.command("demo")
@friendly
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Where the synthetic city and the outputs go.")] = Path("data/demo"),
    seed: Annotated[int, typer.Option(help="Seed of the generator (same seed, same city).")] = 20241,
    incidents: Annotated[int, typer.Option(min=1000, help="Number of crime incidents to generate.")] = 40_000,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to print.")] = 15,
    maps_dir: Annotated[Path, typer.Option("--maps", help="Where the demo's maps go (offline-ready HTML).")] = Path("maps"),
    lang: LangOpt = "es",
) -> None:
    """Build the synthetic demo city (seeded); run the index, hot spots, camera and garita plans and priority places; draw the maps."""
    from geoprio.demo import run_demo

    lang = lang_option(lang)
    with err.status(
        "Generando la ciudad y corriendo índice, puntos calientes y planes…" if lang == "es" else "Generating the city and running…"
    ):
        demo = run_demo(out_dir, seed=seed, n_incidents=incidents, lang=lang, command=" ".join(["geoprio", *sys.argv[1:]]))
    out.print(("Ciudad de demostración escrita en " if lang == "es" else "Demo city written to ") + str(out_dir))
    run = demo.index
    _print_reports(run, lang)
    _print_index(run, top=top, lang=lang)
    _print_written(run.outputs, run.manifest, lang)
    for kind in ("hotspots", "cameras", "garitas", "entornos"):
        out.print(f"  {demo.outputs[kind][0].parent}/")
    for kind, plan in (("cámaras" if lang == "es" else "cameras", demo.cameras), ("garitas", demo.garitas)):
        s = plan.summary()
        share, gap = 100 * s["covered_share"], 100 * (s["gap"] or 0)
        if lang == "es":
            out.print(f"Plan de {kind}: {s['n_selected']} nuevas cubren {share:.1f} % de la demanda ponderada; brecha {gap:.2f} %")
        else:
            out.print(f"{kind} plan: {s['n_selected']} new sites cover {share:.1f} % of weighted demand; gap {gap:.2f} %")
    ent = demo.entornos
    top = ent.table.sort_values("rank").iloc[0]
    plan = ent.plan
    if lang == "es":
        out.print(
            f"Entornos: {len(ent.table)} lugares; el primero es {top['name']} (horas pico {top['peak_hours']}); "
            f"{plan.teams} equipos cubren {100 * plan.share:.1f} % de sus incidentes ponderados (brecha {100 * plan.gap:.2f} %)"
        )
    else:
        out.print(
            f"Places: {len(ent.table)}; first is {top['name']} (peak hours {top['peak_hours']}); "
            f"{plan.teams} teams cover {100 * plan.share:.1f} % of their weighted incidents (gap {100 * plan.gap:.2f} %)"
        )
    from geoprio.cli_maps import render_demo_maps

    render_demo_maps(maps_dir, out_dir, lang=lang)


def _register_topics() -> None:
    """Commands that live in their own modules."""
    from geoprio.cli_api import apikey_app, serve
    from geoprio.cli_entornos import entornos
    from geoprio.cli_hotspots import register as register_hotspots
    from geoprio.cli_indicators import indicators
    from geoprio.cli_maps import map_cmd
    from geoprio.cli_plan import plan_app

    register_hotspots(app)
    app.add_typer(plan_app, name="plan")
    app.command("map")(friendly(map_cmd))
    app.command("indicators")(indicators)
    app.command("entornos")(entornos)
    app.command("serve")(friendly(serve))
    app.add_typer(apikey_app, name="apikey")


_register_topics()


def main() -> None:
    """Entry point of the ``geoprio`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
