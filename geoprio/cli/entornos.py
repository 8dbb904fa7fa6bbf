"""``geoprio entornos``: rank public places, their peak hours and a team deployment plan.

A thin front end over :mod:`geoprio.entornos.run`: it reads the TOML configuration, applies
the command-line overrides (:meth:`~geoprio.entornos.run.EntornosConfig.with_overrides`),
runs, writes (with ``--public [--min-count N]``: the public release,
:func:`~geoprio.entornos.public.write_public_entornos`), and prints the ranking and the plan's
summary; or replays a manifest (:func:`~geoprio.entornos.run.replay_entornos`). ``--forecast
SURFACE`` plans on next period's forecast (:mod:`geoprio.entornos.forecast_demand`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from geoprio.cli.common import (
    CrsOpt,
    CsvOpt,
    FormatOpt,
    LangOpt,
    ManifestOpt,
    MinCountOpt,
    OutOpt,
    PublicOpt,
    TopOpt,
    command_line,
    err,
    export_options,
    friendly,
    lang_option,
    out,
    print_replay,
    print_written,
    public_policy,
)
from geoprio.cli.index import config_overrides
from geoprio.entornos.deploy import format_window
from geoprio.entornos.public import write_public_entornos
from geoprio.entornos.run import EntornosRun, load_entornos_config, replay_entornos, run_entornos
from geoprio.labels import label, labels
from geoprio.numbers import LangNumber, fmt_number, fmt_pct
from geoprio.settings import DEFAULT_LANG

__all__ = ["entornos_cmd", "register"]

#: Rows printed unless ``--top`` says otherwise.
DEFAULT_TOP = 15


def _print_ranking(run: EntornosRun, *, top: int, lang: str) -> None:
    t = labels("entornos", lang)
    table = run.table
    ranked = table[table["rank"].notna()].sort_values("rank", kind="stable")
    rt = Table(title=t["title"].format(n=min(top, len(ranked)), total=len(ranked)))
    for key in ("rank", "place", "type", "index"):
        rt.add_column(t[key], justify="right" if key in ("rank", "index") else "left")
    has_mc = "rank_p05" in table.columns
    if has_mc:
        rt.add_column(t["interval"], justify="center")
    rt.add_column(t["incidents"], justify="right")
    has_forecast = "forecast_expected" in table.columns
    if has_forecast:
        rt.add_column(t["forecast"], justify="right")
    rt.add_column(t["pattern"])
    rt.add_column(t["peak"].format(share=LangNumber(100 * run.config.profile.share, lang)))
    rt.add_column(t["drivers"])
    for _, r in ranked.head(top).iterrows():
        cells = [str(int(r["rank"])), f"{r['name']} ({r['place_id']})", str(r["type"]), fmt_number(r["index"], lang, 1)]
        if has_mc:
            cells.append(f"{int(r['rank_p05'])}–{int(r['rank_p95'])}")
        ratio = "" if r["ratio_ring"] != r["ratio_ring"] else f" ×{fmt_number(r['ratio_ring'], lang, 1)}"
        cells.append(fmt_number(r["weighted_incidents"], lang, 0))
        if has_forecast:
            cells.append(fmt_number(r["forecast_expected"], lang, 2))
        cells += [f"{r['pattern']}{ratio}", str(r["peak_hours"]), str(r["drivers"])]
        rt.add_row(*cells)
    out.print(rt)
    excluded = table[table["rank"].isna()]
    if len(excluded):
        out.print(
            f"{t['excluded']}: " + ", ".join(f"{z} ({why})" for z, why in zip(excluded["place_id"], excluded["excluded"], strict=True))
        )


def _print_plan(run: EntornosRun, *, top: int, lang: str) -> None:
    t = labels("entornos", lang)
    plan, d = run.plan, run.config.deploy
    if plan is None or d is None:
        return
    status = plan.status if plan.method == "milp" else f"{plan.status}; {t['greedy']}"
    forecast = run.forecast is not None
    out.print(
        t["plan_forecast" if forecast else "plan"].format(
            teams=d.teams,
            hours=d.shift_hours,
            shifts=len(plan.shifts),
            share=LangNumber(100 * plan.share, lang),
            covered=LangNumber(plan.covered, lang),
            total=LangNumber(plan.total, lang),
            bound=LangNumber(plan.objective_bound, lang),
            gap=LangNumber(100 * plan.gap, lang),
            status=status,
            seconds=LangNumber(plan.solve_seconds, lang),
        )
    )
    if run.forecast is not None:
        f = run.forecast.meta
        unknown = "?"
        out.print(
            t["forecast_demand"].format(
                method=_method_name(f.get("method"), lang),
                start=f.get("period_start") or unknown,
                end=_last_day(f.get("period_end")),
                file=f.get("file"),
                pai=fmt_number(f["backtest_pai"], lang, 2) if f.get("backtest_pai") is not None else unknown,
                gain=_signed_pct(f.get("backtest_gain"), lang),
            )
        )
        outside = run.forecast.summary()["places_outside_surface"]
        if outside:
            out.print(t["forecast_outside"].format(n=len(outside), ids=", ".join(outside[:20]) + (" …" if len(outside) > 20 else "")))
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
            fmt_number(r["value"], lang, 3 if forecast else 1),
        )
    out.print(rt)


def _method_name(method: object, lang: str) -> str:
    """A forecast method's name as ``geoprio forecast`` prints it (the code itself when unknown)."""
    if not method:
        return "?"
    try:
        return label("forecast", f"method_{method}", lang)
    except KeyError:
        return str(method)


def _last_day(period_end: object) -> str:
    """The last day of a period whose end (exclusive) is ``period_end``, ``?`` when unknown."""
    if not isinstance(period_end, str) or not period_end:
        return "?"
    try:
        return (dt.date.fromisoformat(period_end) - dt.timedelta(days=1)).isoformat()
    except ValueError:
        return period_end


def _signed_pct(share: object, lang: str) -> str:
    """A relative change as a signed percentage (``+3,7 %``, ``−9,3 %``), ``?`` when unknown."""
    if not isinstance(share, (int, float)):
        return "?"
    return ("+" if share >= 0 else "−") + fmt_pct(abs(share), lang, 1)


def _weekdays(days: str | None) -> list[int] | None:
    """``--days 4,5`` as weekday numbers (checked against 0–6 by the configuration)."""
    if days is None:
        return None
    try:
        return [int(d) for d in days.split(",") if d.strip()]
    except ValueError:
        raise typer.BadParameter(f"--days: expected weekday numbers separated by commas (0 = Monday), got {days!r}") from None


@friendly
def entornos_cmd(
    config: Annotated[Optional[Path], typer.Argument(help="TOML configuration of the run (see the README, section Entornos).")] = None,
    manifest: ManifestOpt = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    draws: Annotated[Optional[int], typer.Option("--draws", min=0, help="Monte Carlo draws for rank stability (0 turns it off).")] = None,
    radius_m: Annotated[
        Optional[float], typer.Option("--radius-m", help="Influence radius in metres for every type (overrides the config's).")
    ] = None,
    overlap: Annotated[
        Optional[str], typer.Option("--overlap", help="all (an incident counts for every place it is near) or nearest.")
    ] = None,
    teams: Annotated[Optional[int], typer.Option("--teams", help="Plan a deployment with this many teams (overrides [deploy]).")] = None,
    shift_hours: Annotated[Optional[int], typer.Option("--shift-hours", help="Shift length in hours (1–12).")] = None,
    days: Annotated[Optional[str], typer.Option("--days", help="Working weekdays, 0 = Monday: e.g. 4,5 for Friday and Saturday.")] = None,
    forecast: Annotated[
        Optional[Path],
        typer.Option(
            "--forecast",
            help="Plan on next period's forecast: a surface of geoprio forecast --surface (pronostico_superficie.geojson, "
            "or its CSV with the GeoJSON beside it). Overrides the config's forecast.",
        ),
    ] = None,
    top: TopOpt = DEFAULT_TOP,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Rank public places (entornos) by the incidents near them, with their peak hours and a team deployment plan."""
    lang = lang_option(lang)
    policy = public_policy(public, min_count)
    export = export_options(crs, csv, lang)
    if manifest is not None:
        if policy is not None:
            raise typer.BadParameter("--public writes a new public release: give CONFIG instead of --manifest")
        if config is not None:
            raise typer.BadParameter("give either CONFIG or --manifest, not both")
        with err.status(label("cli", "working", lang)):
            replayed = replay_entornos(manifest, out_dir=out_dir)
        _print_ranking(replayed.result, top=top, lang=lang)
        _print_plan(replayed.result, top=top, lang=lang)
        print_replay(replayed, lang)
        return
    if config is None:
        raise typer.BadParameter("give a CONFIG file or --manifest")
    cfg = load_entornos_config(config)
    cfg = cfg.with_overrides(
        config_overrides(cfg, out_dir=out_dir, formats=formats, draws=draws, lang=lang),
        radius_m=radius_m,
        overlap=overlap,
        teams=teams,
        shift_hours=shift_hours,
        days=_weekdays(days),
        forecast=forecast,
        source=config.name,
    )
    with err.status(label("cli", "working", lang)):
        run = run_entornos(cfg)
        if policy is not None:
            written = write_public_entornos(run, policy, cfg.output.dir, command=command_line(), export=export)
        else:
            written = run.write(cfg.output.dir, command=command_line(), export=export)
    err.print(run.places.report.summary(lang))
    for src in run.sources.values():
        err.print(src.report.summary(lang))
    _print_ranking(run, top=top, lang=lang)
    _print_plan(run, top=top, lang=lang)
    print_written(written, lang)


def register(app: typer.Typer) -> None:
    """Add ``entornos`` to the ``geoprio`` app."""
    app.command("entornos")(entornos_cmd)
