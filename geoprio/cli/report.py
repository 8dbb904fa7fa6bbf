"""``geoprio report`` (the period's bulletin) and ``geoprio print`` (a map or page to PDF/PNG).

Thin front ends: ``report`` parses, calls :func:`geoprio.report.build_report` and
:meth:`~geoprio.report.Report.write` (or :func:`geoprio.report.replay_report` with
``--manifest``) and lists what was written; ``print`` calls
:func:`geoprio.maps.printing.print_page`. Defaults come from :class:`geoprio.report.ReportOptions`
and :mod:`geoprio.maps.printing`; the words are in ``resources/labels/report.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from geoprio.cli.common import (
    LangOpt,
    ManifestOpt,
    MinCountOpt,
    PublicOpt,
    command_line,
    friendly,
    lang_option,
    out,
    print_replay,
    print_written,
    public_policy,
)
from geoprio.errors import InputError
from geoprio.maps.printing import DEFAULT_PAPER, DEFAULT_WAIT_MS, PAPERS, print_page
from geoprio.report import ReportOptions, build_report, replay_report, report_labels, report_options
from geoprio.settings import DEFAULT_LANG

__all__ = ["print_cmd", "register", "report_cmd"]

#: Where ``geoprio report`` writes without ``--out``.
DEFAULT_OUT = Path("boletin")

PaperOpt = Annotated[str, typer.Option("--paper", help=f"Paper, landscape: {', '.join(PAPERS)}.")]


def _default(name: str) -> Any:
    """The default of a :class:`ReportOptions` field (so no default is written twice)."""
    return ReportOptions.model_fields[name].default


def _paper(paper: str) -> Any:
    if paper not in PAPERS:
        raise InputError(f"--paper: expected one of {', '.join(PAPERS)}, got {paper!r}")
    return paper


@friendly
def report_cmd(
    index: Annotated[
        Optional[Path],
        typer.Argument(exists=True, file_okay=False, help="The folder `geoprio index` wrote (its manifest.json and ranked table)."),
    ] = None,
    previous: Annotated[
        Optional[Path],
        typer.Option("--previous", exists=True, file_okay=False, help="The previous period's index folder: rank and tier changes, trends."),
    ] = None,
    hotspots: Annotated[
        Optional[Path],
        typer.Option(
            "--hotspots", exists=True, file_okay=False, help="The folder `geoprio hotspots` wrote: hot spots and peak hours per zone."
        ),
    ] = None,
    entornos: Annotated[
        Optional[Path],
        typer.Option("--entornos", exists=True, file_okay=False, help="The folder `geoprio entornos` wrote: places per zone."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder of the bulletin.")] = DEFAULT_OUT,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print the bulletin to PDF (headless Chromium).")] = _default("pdf"),
    paper: PaperOpt = DEFAULT_PAPER,
    no_map: Annotated[bool, typer.Option("--no-map", help="Leave the map out (no Chromium needed without --pdf).")] = False,
    title: Annotated[Optional[str], typer.Option("--title", help="The cover's title.")] = None,
    period: Annotated[
        Optional[str], typer.Option("--period", help="The period, as the cover says it (default: from the manifest).")
    ] = None,
    previous_period: Annotated[Optional[str], typer.Option("--previous-period", help="The previous period, as the cover says it.")] = None,
    sheets: Annotated[Optional[int], typer.Option("--sheets", min=0, help="Zone sheets, in rank order (default: one per zone).")] = None,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
    lang: LangOpt = DEFAULT_LANG,
    manifest: ManifestOpt = None,
) -> None:
    """Build the period's bulletin (boletín) from an index run: method, ranking, map, changes and one sheet per zone; HTML and PDF."""
    lang = lang_option(lang)
    t = report_labels(lang)
    if manifest is not None:
        print_replay(replay_report(manifest, command=command_line()), lang)
        return
    if index is None:
        raise InputError(t["cli_need_index"])
    options = report_options(
        index=index,
        previous=previous,
        hotspots=hotspots,
        entornos=entornos,
        lang=lang,
        public=public_policy(public, min_count),
        pdf=pdf,
        paper=_paper(paper),
        map=not no_map,
        title=title,
        period=period,
        previous_period=previous_period,
        sheets=sheets,
    )
    report = build_report(options)
    written = report.write(out_dir, command=command_line())
    print_written(written, lang)
    out.print(t["cli_done"].format(zones=len(report.ranking), sheets=len(report.zones), pdf=t["cli_pdf"] if pdf else ""), markup=False)


@friendly
def print_cmd(
    page: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An HTML page geoprio wrote (a map, a bulletin).")],
    pdf: Annotated[Optional[Path], typer.Option("--pdf", help="Write the PDF here.")] = None,
    png: Annotated[Optional[Path], typer.Option("--png", help="Write a PNG of the first sheet here.")] = None,
    paper: PaperOpt = DEFAULT_PAPER,
    document: Annotated[
        bool, typer.Option("--document", help="A page that flows over several sheets (a bulletin), not one map fitted to the sheet.")
    ] = False,
    wait_ms: Annotated[int, typer.Option("--wait-ms", min=0, help="Time the page has to finish drawing (virtual ms).")] = DEFAULT_WAIT_MS,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Print a map (or any page geoprio wrote) to PDF and/or PNG, landscape, with headless Chromium and no network."""
    lang = lang_option(lang)
    if pdf is None and png is None:
        raise InputError("give --pdf, --png or both")
    done = print_page(page, pdf=pdf, png=png, paper=_paper(paper), fit=not document, margin_mm=10.0 if document else 0.0, wait_ms=wait_ms)
    out.print(report_labels(lang)["cli_printed"], markup=False)
    for p in done.paths:
        out.print(f"  {p}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``print`` to the ``geoprio`` app."""
    app.command("report")(report_cmd)
    app.command("print")(print_cmd)
