"""``geoprio entornos``: rank public places, their peak hours and a team deployment plan.

A thin front end over :func:`geoprio.entornos.run.run_entornos`: it reads the TOML
configuration, applies the command-line overrides, runs, and prints the ranking and the
plan's summary.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from geoprio.cli.common import LangOpt, err, friendly, lang_option, out, print_written
from geoprio.labels import label

__all__ = ["entornos"]

_T = {
    "es": {
        "title": "Entornos priorizados (top {n} de {total})",
        "rank": "Pos.",
        "place": "Lugar",
        "type": "Tipo",
        "index": "Índice",
        "interval": "Rango 5–95 %",
        "incidents": "Incidentes",
        "pattern": "Frente a su entorno",
        "peak": "Horas pico ({share:.0f} %)",
        "drivers": "Principales factores",
        "plan": "Plan de despliegue: {teams} equipos, turnos de {hours} h, {shifts} turnos; cubren {share:.1f} % de los incidentes "
        "ponderados ({covered:,.1f} de {total:,.1f}); cota {bound:,.1f}, brecha {gap:.3f} % ({status}, {seconds:.1f} s)",
        "schedule": "Turnos por lugar (primeros {n})",
        "team": "Equipo",
        "day": "Día",
        "window": "Turno",
        "covered": "Cubre",
        "written": "Archivos escritos",
        "excluded": "Lugares sin índice",
    },
    "en": {
        "title": "Priority places (top {n} of {total})",
        "rank": "Rank",
        "place": "Place",
        "type": "Type",
        "index": "Index",
        "interval": "Rank 5–95 %",
        "incidents": "Incidents",
        "pattern": "Against its surroundings",
        "peak": "Peak hours ({share:.0f} %)",
        "drivers": "Main drivers",
        "plan": "Deployment plan: {teams} teams, {hours} h shifts, {shifts} shifts; they cover {share:.1f} % of weighted incidents "
        "({covered:,.1f} of {total:,.1f}); bound {bound:,.1f}, gap {gap:.3f} % ({status}, {seconds:.1f} s)",
        "schedule": "Shifts by place (first {n})",
        "team": "Team",
        "day": "Day",
        "window": "Shift",
        "covered": "Covers",
        "written": "Files written",
        "excluded": "Places without an index",
    },
}


def _print_ranking(run: Any, *, top: int, lang: str) -> None:
    t = _T[lang]
    table = run.table
    ranked = table[table["rank"].notna()].sort_values("rank", kind="stable")
    rt = Table(title=t["title"].format(n=min(top, len(ranked)), total=len(ranked)))
    for key in ("rank", "place", "type", "index"):
        rt.add_column(t[key], justify="right" if key in ("rank", "index") else "left")
    has_mc = "rank_p05" in table.columns
    if has_mc:
        rt.add_column(t["interval"], justify="center")
    rt.add_column(t["incidents"], justify="right")
    rt.add_column(t["pattern"])
    rt.add_column(t["peak"].format(share=100 * run.config.profile.share))
    rt.add_column(t["drivers"])
    for _, r in ranked.head(top).iterrows():
        cells = [str(int(r["rank"])), f"{r['name']} ({r['place_id']})", str(r["type"]), f"{r['index']:.1f}"]
        if has_mc:
            cells.append(f"{int(r['rank_p05'])}–{int(r['rank_p95'])}")
        ratio = "" if r["ratio_ring"] != r["ratio_ring"] else f" ×{r['ratio_ring']:.1f}"
        cells += [f"{r['weighted_incidents']:,.0f}", f"{r['pattern']}{ratio}", str(r["peak_hours"]), str(r["drivers"])]
        rt.add_row(*cells)
    out.print(rt)
    excluded = table[table["rank"].isna()]
    if len(excluded):
        out.print(
            f"{t['excluded']}: " + ", ".join(f"{z} ({why})" for z, why in zip(excluded["place_id"], excluded["excluded"], strict=True))
        )


def _print_plan(run: Any, *, top: int, lang: str) -> None:
    from geoprio.entornos.deploy import format_window

    t = _T[lang]
    plan, d = run.plan, run.config.deploy
    out.print(
        t["plan"].format(
            teams=d.teams,
            hours=d.shift_hours,
            shifts=len(plan.shifts),
            share=100 * plan.share,
            covered=plan.covered,
            total=plan.total,
            bound=plan.objective_bound,
            gap=100 * plan.gap,
            status=plan.status,
            seconds=plan.solve_seconds,
        )
    )
    names = run.table.set_index("place_id")["name"]
    by_place = plan.by_place()
    rt = Table(title=t["schedule"].format(n=min(top, len(by_place))))
    for key in ("place", "window", "team", "covered"):
        rt.add_column(t[key], justify="right" if key in ("team", "covered") else "left")
    for _, r in by_place.head(top).iterrows():
        rt.add_row(
            f"{names.get(r['place'], r['place'])} ({r['place']})",
            format_window(int(r["day"]), int(r["start_hour"]), d.shift_hours, lang=lang),
            str(int(r["team"])),
            f"{r['value']:,.1f}",
        )
    out.print(rt)


@friendly
def entornos(
    config: Annotated[Path | None, typer.Argument(help="TOML configuration of the run (see the README, section Entornos).")] = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="Re-run a previous run from its entornos_manifest.json and check the outputs are identical."),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (overrides the config's).")] = None,
    formats: Annotated[list[str] | None, typer.Option("--format", help="Output format, repeatable: csv, geojson, gpkg, parquet.")] = None,
    draws: Annotated[int | None, typer.Option("--draws", min=0, help="Monte Carlo draws for rank stability (0 turns it off).")] = None,
    radius_m: Annotated[
        float | None, typer.Option("--radius-m", help="Influence radius in metres for every type (overrides the config's).")
    ] = None,
    overlap: Annotated[
        str | None, typer.Option("--overlap", help="all (an incident counts for every place it is near) or nearest.")
    ] = None,
    teams: Annotated[int | None, typer.Option("--teams", help="Plan a deployment with this many teams (overrides [deploy]).")] = None,
    shift_hours: Annotated[int | None, typer.Option("--shift-hours", help="Shift length in hours (1–12).")] = None,
    days: Annotated[str | None, typer.Option("--days", help="Working weekdays, 0 = Monday: e.g. 4,5 for Friday and Saturday.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to print.")] = 15,
    lang: LangOpt = "es",
) -> None:
    """Rank public places (entornos) by the incidents near them, with their peak hours and a team deployment plan."""
    from geoprio.cli.index import config_overrides
    from geoprio.entornos.run import DeployConfig, load_entornos_config, replay_entornos, run_entornos

    lang = lang_option(lang)
    if manifest is not None:
        if config is not None:
            raise typer.BadParameter("give either CONFIG or --manifest, not both")
        with err.status("…"):
            run, identical, different = replay_entornos(manifest, out_dir=out_dir)
        _print_ranking(run, top=top, lang=lang)
        if run.plan is not None:
            _print_plan(run, top=top, lang=lang)
        print_written(run.outputs, lang, run.manifest)
        if different:
            err.print(label("cli", "differs", lang).format(files=", ".join(different)))
            raise typer.Exit(1)
        out.print(label("cli", "reproduced", lang).format(n=len(identical)))
        return
    if config is None:
        raise typer.BadParameter("give a CONFIG file or --manifest")
    cfg = load_entornos_config(config)
    updates = config_overrides(cfg, out_dir=out_dir, formats=formats, draws=draws, lang=lang)
    places: dict[str, Any] = {}
    if radius_m is not None:
        places.update(radius_m=radius_m, radius_by_type=None)
    if overlap is not None:
        places["overlap"] = overlap
    deploy: dict[str, Any] = {}
    if teams is not None:
        deploy["teams"] = teams
    if shift_hours is not None:
        deploy["shift_hours"] = shift_hours
    if days is not None:
        try:
            deploy["days"] = [int(d) for d in days.split(",") if d.strip()]
        except ValueError:
            raise typer.BadParameter(f"--days: expected weekday numbers separated by commas (0 = Monday), got {days!r}") from None
    from geoprio.entornos.run import parse_entornos_config

    doc = cfg.model_dump(mode="json")
    for key, value in updates.items():
        doc[key] = value.model_dump(mode="json")
    doc["places"].update(places)
    if deploy:
        if cfg.deploy is None and "teams" not in deploy:
            raise typer.BadParameter("--shift-hours and --days need --teams (or a [deploy] section in the config)")
        doc["deploy"] = {**(doc.get("deploy") or DeployConfig(teams=deploy.get("teams", 1)).model_dump(mode="json")), **deploy}
    cfg = parse_entornos_config(doc, source=config.name)
    command = " ".join(["geoprio", *sys.argv[1:]]) if sys.argv else None
    with err.status("…"):
        run = run_entornos(cfg, command=command)
    err.print(run.places.report.summary(lang))
    for src in run.sources.values():
        err.print(src.report.summary(lang))
    _print_ranking(run, top=top, lang=lang)
    if run.plan is not None:
        _print_plan(run, top=top, lang=lang)
    print_written(run.outputs, lang, run.manifest)


def register(app: typer.Typer) -> None:
    """Add ``entornos`` to the ``geoprio`` app."""
    app.command("entornos")(entornos)
