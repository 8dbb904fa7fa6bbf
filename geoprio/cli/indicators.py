"""``geoprio indicators``: track a plan's indicators against their targets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from geoprio.cli.common import err, friendly, lang_option, out

__all__ = ["indicators"]

_T = {
    "es": {
        "title": "Seguimiento{title} — {year}",
        "indicator": "Indicador",
        "level": "Nivel",
        "trend": "Tendencia",
        "unit": "Unidad",
        "baseline": "Línea base",
        "target": "Meta {year}",
        "actual": "Observado {year}",
        "progress": "Avance",
        "uncapped": "Sin tope",
        "city": "ciudad",
        "zones_met": "{met} de {n} zonas cumplen",
        "objective": "Objetivo",
        "weight": "Peso",
        "objectives": "Objetivos — {year}",
        "plan": "Avance del plan {year}: {value}",
        "lost": "Dónde se pierde la meta de «{label}» en {year} ({level}): {zones}",
        "notes": "Notas",
        "more": "… y {n} más en seguimiento.json",
        "written": "Archivos escritos",
        "ytd": " (acumulado a {months} meses)",
    },
    "en": {
        "title": "Plan tracking{title} — {year}",
        "indicator": "Indicator",
        "level": "Level",
        "trend": "Trend",
        "unit": "Unit",
        "baseline": "Baseline",
        "target": "Target {year}",
        "actual": "Actual {year}",
        "progress": "Progress",
        "uncapped": "Uncapped",
        "city": "city",
        "zones_met": "{met} of {n} zones meet it",
        "objective": "Objective",
        "weight": "Weight",
        "objectives": "Objectives — {year}",
        "plan": "Plan progress {year}: {value}",
        "lost": "Where the target of “{label}” is lost in {year} ({level}): {zones}",
        "notes": "Notes",
        "more": "… and {n} more in seguimiento.json",
        "written": "Files written",
        "ytd": " (year to date, {months} months)",
    },
}


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _num(v: float | None) -> str:
    from geoprio.seguimiento.report_html import _num as fmt

    return fmt(v)


def print_tracking(doc: dict[str, Any], *, lang: str, max_notes: int = 12) -> None:
    """Print the progress tables of a ``seguimiento.json`` document."""
    t = _T[lang]
    year = doc["year"]
    title = f" — {doc['title']}" if doc.get("title") else ""
    table = Table(title=t["title"].format(title=title, year=year))
    for key, right in (
        ("indicator", False),
        ("level", False),
        ("trend", False),
        ("unit", False),
        ("baseline", True),
        ("target", True),
        ("actual", True),
        ("progress", True),
        ("uncapped", True),
    ):
        table.add_column(t[key].format(year=year), justify="right" if right else "left")
    for ind in doc["indicators"]:
        s = ind["summary"]
        city = ind["level"] == "city"
        if city:
            base = f"{_num(ind['baseline'])} ({ind['baseline_year']})" if ind.get("baseline") is not None else "–"
            actual = _num(s.get("actual"))
            if s.get("months") and s["months"] < 12:
                actual += t["ytd"].format(months=s["months"])
            target = _num(s.get("target"))
        else:
            base, target = f"({ind['baseline_year']})", "–"
            actual = t["zones_met"].format(met=s.get("zones_met", 0), n=s.get("zones", 0))
        table.add_row(
            ind["label"],
            t["city"] if city else ind["level"],
            ind["trend_label"],
            ind["unit_label"],
            base,
            target,
            actual,
            _pct(s.get("progress")),
            _pct(s.get("progress_uncapped")),
        )
    out.print(table)
    objectives = Table(title=t["objectives"].format(year=year))
    objectives.add_column(t["objective"])
    objectives.add_column(t["weight"], justify="right")
    objectives.add_column(t["progress"], justify="right")
    for o in doc["objectives"]:
        objectives.add_row(o["label"], f"{o['weight']:g}", _pct(o["progress"]))
    out.print(objectives)
    out.print(t["plan"].format(year=year, value=_pct(doc["plan"]["progress"])))
    for ind in doc["indicators"]:
        rows = (ind.get("breakdown") or {}).get("by_year", {}).get(str(year))
        if not rows:
            continue
        lost = sorted((r for r in rows if (r.get("share_of_shortfall") or 0) > 0), key=lambda r: -r["share_of_shortfall"])
        if lost:
            zones = ", ".join(f"{r['name'] or r['zone_id']} ({_pct(r['share_of_shortfall'])})" for r in lost[:5])
            out.print(t["lost"].format(label=ind["label"], year=year, level=ind["breakdown"]["level"], zones=zones))
    notes = [f"{ind['id']}: {n['text']}" for ind in doc["indicators"] for n in ind["notes"]]
    if notes:
        out.print(f"{t['notes']}:")
        for line in notes[:max_notes]:
            out.print(f"  {line}", markup=False)
        if len(notes) > max_notes:
            out.print("  " + t["more"].format(n=len(notes) - max_notes))


@friendly
def indicators(
    targets: Annotated[
        Path,
        typer.Argument(
            metavar="TARGETS.toml", help="TOML targets file: zones, sources, population, objectives, indicators (see the README)."
        ),
    ],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Output folder (overrides dir in the file's \\[output] table).")] = None,  # noqa: UP045
    lang: Annotated[Optional[str], typer.Option("--lang", help="Language of what users read: es (default) or en.")] = None,  # noqa: UP045
    year: Annotated[Optional[int], typer.Option("--year", help="Year to report (default: the latest programmed year with data).")] = None,  # noqa: UP045
) -> None:
    """Track a plan's indicators: actual values, progress against targets, per objective and plan, per zone."""
    from geoprio.seguimiento.progress import track, write_tracking
    from geoprio.seguimiento.targets import load_targets

    cfg = load_targets(targets)
    lang = lang_option(lang) if lang is not None else cfg.options.lang
    command = " ".join(["geoprio", *sys.argv[1:]]) if sys.argv else None
    with err.status("…"):
        res = track(cfg, year=year, lang=lang)
        paths = write_tracking(res, out_dir.resolve() if out_dir is not None else None, command=command, targets_file=targets)
    for report in res.data.reports:
        if report.n_read:
            err.print(report.summary(lang), markup=False)
    print_tracking(res.to_dict(), lang=lang)
    out.print(f"{_T[lang]['written']}:")
    for p in [*paths, *([res.manifest] if res.manifest else [])]:
        out.print(f"  {p}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``indicators`` to the ``geoprio`` app."""
    app.command("indicators")(indicators)
