"""``geoprio indicators``: track a plan's indicators against their targets, or replay a run.

Parses the options, calls :func:`geoprio.seguimiento.track` (or
:func:`geoprio.seguimiento.replay_tracking` with ``--manifest``), writes the result, and prints
its tables in the words of ``geoprio/resources/labels/seguimiento_cli.toml``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from geoprio.cli.common import (
    CrsOpt,
    CsvOpt,
    FormatOpt,
    ManifestOpt,
    MinCountOpt,
    OutOpt,
    PublicOpt,
    check_formats,
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
from geoprio.disclosure import disclosure_of
from geoprio.labels import labels
from geoprio.numbers import fmt_int, fmt_spec
from geoprio.seguimiento import format_number, format_percent, load_targets, public_tracking, replay_tracking, track, write_public_tracking

__all__ = ["indicators", "print_tracking", "register"]

#: Label topic of what this command prints.
TOPIC = "seguimiento_cli"


def _city_cells(ind: Mapping[str, Any], t: Mapping[str, str], lang: str) -> tuple[str, str, str]:
    """Baseline, target and actual of a city indicator in the report year."""
    s = ind["summary"]
    base = f"{format_number(ind['baseline'], lang=lang)} ({ind['baseline_year']})" if ind.get("baseline") is not None else "–"
    actual = format_number(s.get("actual"), lang=lang)
    if s.get("months") and s["months"] < 12:
        actual += t["ytd"].format(months=s["months"])
    return base, format_number(s.get("target"), lang=lang), actual


def print_tracking(doc: Mapping[str, Any], *, lang: str, max_notes: int = 12) -> None:
    """Print the progress tables of a ``seguimiento.json`` document."""
    t = labels(TOPIC, lang)
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
            base, target, actual = _city_cells(ind, t, lang)
        else:
            base, target = f"({ind['baseline_year']})", "–"
            actual = t["zones_met"].format(met=fmt_int(s.get("zones_met", 0), lang), n=fmt_int(s.get("zones", 0), lang))
        level = t["city"] if city else ind["level"]
        progress = [format_percent(s.get("progress"), lang=lang), format_percent(s.get("progress_uncapped"), lang=lang)]
        table.add_row(ind["label"], level, ind["trend_label"], ind["unit_label"], base, target, actual, *progress)
    out.print(table)
    objectives = Table(title=t["objectives"].format(year=year))
    objectives.add_column(t["objective"])
    objectives.add_column(t["weight"], justify="right")
    objectives.add_column(t["progress"], justify="right")
    for o in doc["objectives"]:
        objectives.add_row(o["label"], fmt_spec(o["weight"], "g", lang), format_percent(o["progress"], lang=lang))
    out.print(objectives)
    out.print(t["plan"].format(year=year, value=format_percent(doc["plan"]["progress"], lang=lang)))
    _print_lost(doc, t, lang)
    _print_notes(doc, t, max_notes, lang)


def _print_lost(doc: Mapping[str, Any], t: Mapping[str, str], lang: str) -> None:
    """Where each city target is lost in the report year: the zones with the largest shortfall."""
    year = doc["year"]
    for ind in doc["indicators"]:
        rows = (ind.get("breakdown") or {}).get("by_year", {}).get(str(year))
        if not rows:
            continue
        lost = sorted((r for r in rows if (r.get("share_of_shortfall") or 0) > 0), key=lambda r: -r["share_of_shortfall"])
        if lost:
            zones = ", ".join(f"{r['name'] or r['zone_id']} ({format_percent(r['share_of_shortfall'], lang=lang)})" for r in lost[:5])
            out.print(t["lost"].format(label=ind["label"], year=year, level=ind["breakdown"]["level"], zones=zones))


def _print_notes(doc: Mapping[str, Any], t: Mapping[str, str], max_notes: int, lang: str) -> None:
    """The indicators' notes, at most ``max_notes`` of them."""
    notes = [f"{ind['id']}: {n['text']}" for ind in doc["indicators"] for n in ind["notes"]]
    if notes:
        out.print(f"{t['notes']}:")
        for line in notes[:max_notes]:
            out.print(f"  {line}", markup=False)
        if len(notes) > max_notes:
            out.print("  " + t["more"].format(n=fmt_int(len(notes) - max_notes, lang)))


def _public_manifest(path: Path) -> bool:
    """True when the manifest at ``path`` records a public release (``disclosure``)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # the replay reports what is wrong with it
    return isinstance(doc, dict) and disclosure_of(doc) is not None


@friendly
def indicators(
    targets: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads the annotation
        typer.Argument(
            metavar="TARGETS.toml",
            help="TOML targets file: zones, sources, population, objectives, indicators (see the README).",
            show_default=False,
        ),
    ] = None,
    out_dir: OutOpt = None,
    lang: Annotated[Optional[str], typer.Option("--lang", help="Language of what users read: es or en (default: the file's).")] = None,  # noqa: UP045
    year: Annotated[Optional[int], typer.Option("--year", help="Year to report (default: the latest programmed year with data).")] = None,  # noqa: UP045
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    manifest: ManifestOpt = None,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
) -> None:
    """Track a plan's indicators: actual values, progress against targets, per objective and plan, per zone.

    --out overrides dir in the file's [output] table; --format is the format of the per-zone
    layer seguimiento_zonas (default geojson); --manifest re-runs seguimiento_manifest.json;
    --public writes (and prints) the public release: no count of 1 to --min-count - 1 records,
    nor anything derived from one, with complementary suppression where totals are published.
    """
    fmts = check_formats(formats)
    policy = public_policy(public, min_count)
    if manifest is not None:
        if targets is not None:
            raise typer.BadParameter("give either TARGETS.toml or --manifest, not both")
        if policy is not None or _public_manifest(manifest):
            # replaying would write the full outputs over a public release
            raise typer.BadParameter("a public release is written from TARGETS.toml with --public; it is not replayed from its manifest")
        with err.status("…"):
            replay = replay_tracking(manifest, out_dir=out_dir, command=command_line())
        print_replay(replay, lang_option(lang) if lang is not None else replay.result.lang)
        return
    if targets is None:
        raise typer.BadParameter("give a TARGETS.toml file or --manifest")
    cfg = load_targets(targets)
    lang = lang_option(lang) if lang is not None else cfg.options.lang
    export = export_options(crs, csv, lang)
    with err.status("…"):
        res = track(cfg, year=year, lang=lang)
        folder = out_dir.resolve() if out_dir is not None else None
        if policy is None:
            written = res.write(folder, fmts, command=command_line(), targets_file=targets, export=export)
        else:
            written = write_public_tracking(res, policy, folder, fmts, command=command_line(), targets_file=targets, export=export)
    for report in res.data.reports:
        if report.n_read:
            err.print(report.summary(lang), markup=False)
    print_tracking(public_tracking(res.to_dict(), policy).document, lang=lang)
    print_written(written, lang)


def register(app: typer.Typer) -> None:
    """Add ``indicators`` to the ``geoprio`` app."""
    app.command("indicators")(indicators)
