"""The bulletin job: :class:`ReportOptions` in, a :class:`Report` out, ``report.write(out_dir)``.

:func:`build_report` reads an index run's folder (and, when given, the previous period's run,
a hot-spot run and an entornos run), lines the ranking up with the previous one, draws the
index map with :func:`geoprio.maps.build_map` and prints it to PNG with
:func:`geoprio.maps.printing.print_page` (headless Chromium), and renders the bulletin's
HTML (:mod:`geoprio.report.render`). It writes nothing. :meth:`Report.write` writes
``boletin.html`` (self-contained), ``boletin_mapa.png``, ``boletin_ranking.csv`` (the ranking
with its changes), ``boletin.pdf`` with ``pdf=True`` (the HTML printed by the same Chromium),
then ``manifest.json`` (kind ``geoprio.report``) by :func:`geoprio.io.results.write_result`;
:func:`replay_report` re-runs one from its manifest.

``public`` (a :class:`~geoprio.disclosure.DisclosurePolicy`) builds the bulletin from the
public release only: the index table goes through :func:`geoprio.index.public_index` (unless
the run already is a public release at least as strict), the previous period's too, the
notes through :func:`geoprio.index.public_notes`, the hot-spot and entornos folders must be
public releases, and the cover says so.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import Field

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.errors import InputError
from geoprio.index import public_index, public_notes
from geoprio.io import files as io
from geoprio.io.results import Replay, Written, replay, write_result
from geoprio.labels import check_lang
from geoprio.maps import build_map, provenance_of, write_map
from geoprio.maps.printing import DEFAULT_PAPER, Paper, page_pixels, print_page
from geoprio.options import Options, validated
from geoprio.report.content import indicator_info, method_facts, period_of, rank_changes, zone_sheets
from geoprio.report.inputs import RunFolder, check_public_release, read_entornos, read_hotspots, read_index_folder
from geoprio.report.render import Cover, level_name, render_bulletin
from geoprio.report.text import report_labels
from geoprio.settings import DEFAULT_LANG, Lang

__all__ = ["REPORT_FILES", "REPORT_KIND", "Report", "ReportOptions", "build_report", "replay_report", "report_options"]

#: The manifest kind of a bulletin.
REPORT_KIND = "geoprio.report"
#: The files a bulletin writes (the PDF only with ``pdf=True``, the PNG only with a map).
REPORT_FILES = {"html": "boletin.html", "png": "boletin_mapa.png", "csv": "boletin_ranking.csv", "pdf": "boletin.pdf"}


class ReportOptions(Options):
    """Everything a bulletin needs.

    ``index``: the folder ``geoprio index`` wrote (its ``manifest.json`` and ranked table);
    ``previous``: the previous period's index folder (rank and tier changes, indicator trends);
    ``hotspots`` / ``entornos``: folders of ``geoprio hotspots`` / ``geoprio entornos`` (hot
    spots, peak hours and places inside each zone); ``lang``; ``public``: the disclosure
    policy of a public bulletin (None: the full, internal one); ``pdf``: also print it to PDF;
    ``paper``: A4 or letter, landscape; ``map``: draw and embed the index map (needs
    Chromium); ``title`` / ``period`` / ``previous_period``: the cover's words (default: the
    title in ``lang`` and the periods found in the manifests); ``sheets``: how many zone
    sheets, in rank order (None: one per zone).
    """

    index: Path
    previous: Path | None = None
    hotspots: Path | None = None
    entornos: Path | None = None
    lang: Lang = DEFAULT_LANG
    public: DisclosurePolicy | None = None
    pdf: bool = False
    paper: Paper = DEFAULT_PAPER
    map: bool = True
    title: str | None = None
    period: str | None = None
    previous_period: str | None = None
    sheets: int | None = Field(default=None, ge=0)

    def resolved(self) -> ReportOptions:
        """The options with absolute folders (what the manifest records, so a replay finds them)."""
        update = {k: Path(v).resolve() for k in ("index", "previous", "hotspots", "entornos") if (v := getattr(self, k)) is not None}
        return self.model_copy(update=update)


def report_options(**settings: Any) -> ReportOptions:
    """:class:`ReportOptions` from keyword settings; bad ones raise one :class:`~geoprio.errors.ConfigError` naming each."""
    return validated(ReportOptions, settings, source="report options", what="options")


@dataclass(frozen=True)
class Report:
    """A built bulletin: its HTML, the map image, the ranking with its changes; :meth:`write` writes them."""

    options: ReportOptions
    html: str
    map_png: bytes | None
    ranking: pd.DataFrame
    zones: tuple[str, ...]
    inputs: tuple[tuple[str, Path], ...]
    kind: str = field(default=REPORT_KIND, init=False)

    @property
    def public(self) -> bool:
        """Whether this is a public bulletin."""
        return self.options.public is not None

    def write(self, out_dir: str | Path, formats: Any = None, *, command: str | None = None) -> Written:
        """Write ``boletin.html``, ``boletin_mapa.png``, ``boletin_ranking.csv``, ``boletin.pdf``
        (with ``pdf=True``) and ``manifest.json`` into ``out_dir``.

        A bulletin has fixed files: ``formats`` is there for the run protocol and must be None or empty.
        """
        if formats:
            raise InputError(f"a bulletin has fixed files (HTML, PNG, CSV, PDF with pdf=True), got formats {list(formats)}")
        out = Path(out_dir)
        files = [io.write_text(self.html, out / REPORT_FILES["html"])]
        if self.map_png is not None:
            with io.atomic_path(out / REPORT_FILES["png"]) as tmp:
                tmp.write_bytes(self.map_png)
            files.append(out / REPORT_FILES["png"])
        files.append(io.write_table(self.ranking, out / REPORT_FILES["csv"]))
        if self.options.pdf:
            print_page(files[0], pdf=out / REPORT_FILES["pdf"], paper=self.options.paper, fit=False, margin_mm=10.0)
            files.append(out / REPORT_FILES["pdf"])
        release: dict[str, Any] = {"disclosure": disclosure_record(self.options.public)} if self.public else {}
        return write_result(
            kind=REPORT_KIND,
            out_dir=out,
            files=files,
            options=self.options.resolved(),
            inputs=list(self.inputs),
            command=command,
            summary={"zones": len(self.ranking), "sheets": len(self.zones), "map": self.map_png is not None},
            **release,
        )


def _public_table(run: RunFolder, policy: DisclosurePolicy | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The run's table and notes as ``policy`` publishes them."""
    if policy is None:
        return run.table, run.notes
    release = run.disclosure
    if release is not None and release.min_count >= policy.min_count:
        return run.table, run.notes
    public = public_index(run.table, policy, manifest=run.manifest)
    table = public.table
    if isinstance(run.table, gpd.GeoDataFrame) and not isinstance(table, gpd.GeoDataFrame):
        table = gpd.GeoDataFrame(table, geometry=run.table.geometry.name, crs=run.table.crs)
    return table, public_notes(run.notes, policy)


def _map_png(table: gpd.GeoDataFrame, lang: Lang, paper: Paper, title: str, run: RunFolder, period: str | None) -> bytes:
    """The index map drawn with :func:`geoprio.maps.build_map` and printed to PNG (no basemap:
    offline), with the source, period, parent level and synthetic stamp of the run's manifest.
    """
    prov, _ = provenance_of([run.table_path])
    result = build_map(
        index=table,
        lang=lang,
        tiles="none",
        title=title,
        source=prov.source,
        period=period or prov.period,
        synthetic=prov.synthetic,
        parent_level=prov.parent_level,
    )
    with tempfile.TemporaryDirectory(prefix="geoprio-report-") as tmp:
        html = write_map(result, Path(tmp) / "mapa.html", assets="inline").path
        png = Path(tmp) / "mapa.png"
        width, _ = page_pixels(paper)
        print_page(html, png=png, paper=paper, scale=1.5 if width < 1600 else 1.0)
        return png.read_bytes()


def build_report(options: ReportOptions) -> Report:
    """Build the bulletin ``options`` describes; nothing is written (``report.write(out_dir)`` does)."""
    if not isinstance(options, ReportOptions):
        raise InputError(f"build_report needs ReportOptions (geoprio.report.report_options builds them), got {type(options).__name__}")
    o = options
    lang = check_lang(o.lang)
    t = report_labels(lang)
    current = read_index_folder(o.index)
    table, notes = _public_table(current, o.public)
    inputs: list[tuple[str, Path]] = [("index_manifest", current.manifest_path), ("index", current.table_path)]
    previous = previous_table = None
    if o.previous is not None:
        previous = read_index_folder(o.previous, role="previous")
        previous_table, _ = _public_table(previous, o.public)
        inputs += [("previous_manifest", previous.manifest_path), ("previous", previous.table_path)]
    hotspots = read_hotspots(o.hotspots) if o.hotspots is not None else None
    entornos = read_entornos(o.entornos) if o.entornos is not None else None
    for role, run in (("hotspots", hotspots), ("entornos", entornos)):
        if run is not None:
            if o.public is not None:
                check_public_release(run, o.public, role)
            inputs += [(f"{role}_manifest", run.manifest_path), (role, run.table_path)]
    indicators = indicator_info(current.manifest, table)
    facts = method_facts(current.manifest, table, notes)
    ranking = rank_changes(table, previous_table, manifest=current.manifest, previous_manifest=previous.manifest if previous else None)
    level = str(facts["level"])
    title = o.title or t["title"]
    subtitle = t["title_zones"].format(level=level_name(level))
    map_png = None
    missing = None
    if not o.map:
        missing = t["map_off"]
    elif isinstance(table, gpd.GeoDataFrame):
        map_png = _map_png(table, lang, o.paper, subtitle, current, o.period or period_of(current.manifest))
    sheets = zone_sheets(
        ranking,
        table,
        indicators,
        previous=previous_table,
        hotspots=hotspots.table if hotspots else None,
        places=entornos.table if entornos else None,
        limit=o.sheets,
    )
    zones_cfg = ((current.manifest.get("options") or current.manifest.get("config") or {}).get("zones")) or {}
    parent_level = (zones_cfg.get("parent") or {}).get("level") if isinstance(zones_cfg.get("parent"), dict) else None
    cover = Cover(
        title=title,
        subtitle=subtitle,
        period=o.period or period_of(current.manifest),
        previous_period=(o.previous_period or period_of(previous.manifest)) if previous else None,
        previous_folder=str(o.previous) if o.previous is not None else None,
        public_min_count=o.public.min_count if o.public is not None else None,
        created_at=str(facts["created_at"]),
        version=str(facts["version"]),
    )
    html = render_bulletin(
        cover=cover,
        facts=facts,
        indicators=indicators,
        ranking=ranking,
        sheets=sheets,
        lang=lang,
        map_png=map_png,
        map_missing=missing,
        hotspots_given=hotspots is not None,
        places_given=entornos is not None,
        parent_level=str(parent_level) if parent_level else ("parent" if "parent_name" in ranking else None),
    )
    geometry = [c for c in ranking.columns if c == "geometry"]
    return Report(o, html, map_png, ranking.drop(columns=geometry), tuple(s.zone_id for s in sheets), tuple(inputs))


def replay_report(manifest: str | Path, *, out_dir: str | Path | None = None, command: str | None = None) -> Replay:
    """Re-run the bulletin a ``manifest.json`` describes (refusing changed inputs) and compare the outputs."""

    def same(result: Report, _disclosure: dict[str, Any]) -> Report:
        return result  # a public bulletin's options already hold its policy

    return replay(manifest, kind=REPORT_KIND, options_type=ReportOptions, run=build_report, out_dir=out_dir, command=command, publish=same)
