"""The bulletin (*boletín*) of a period: ``geoprio report`` and :func:`build_report`.

The stage after the maps: it reads what ``geoprio index`` (and optionally the previous
period's run, ``geoprio hotspots`` and ``geoprio entornos``) wrote and builds one
self-contained HTML document (and, on request, its PDF through headless Chromium): the
method in plain words, the ranked table with tiers and rank intervals, the index map, the
changes against the previous period and one sheet (*ficha*) per zone.

* :mod:`~geoprio.report.inputs` — reading the run folders;
* :mod:`~geoprio.report.content` — the ranking with its changes, the method's facts, the zone sheets;
* :mod:`~geoprio.report.text` — labels (``resources/labels/report.toml``) and number formats;
* :mod:`~geoprio.report.render` — the HTML (template and CSS in ``resources/report/``);
* :mod:`~geoprio.report.build` — ``ReportOptions``, ``build_report``, ``Report.write``, ``replay_report``.
"""

from geoprio.report.build import REPORT_FILES, REPORT_KIND, Report, ReportOptions, build_report, replay_report, report_options
from geoprio.report.content import IndicatorInfo, ZoneSheet, indicator_info, method_facts, period_of, rank_changes, tier_level, zone_sheets
from geoprio.report.inputs import RunFolder, check_public_release, read_entornos, read_hotspots, read_index_folder
from geoprio.report.render import Cover, render_bulletin
from geoprio.report.text import fmt_change, fmt_int, fmt_number, fmt_pct, report_labels

__all__ = [
    "REPORT_FILES",
    "REPORT_KIND",
    "Cover",
    "IndicatorInfo",
    "Report",
    "ReportOptions",
    "RunFolder",
    "ZoneSheet",
    "build_report",
    "check_public_release",
    "fmt_change",
    "fmt_int",
    "fmt_number",
    "fmt_pct",
    "indicator_info",
    "method_facts",
    "period_of",
    "rank_changes",
    "read_entornos",
    "read_hotspots",
    "read_index_folder",
    "render_bulletin",
    "replay_report",
    "report_labels",
    "report_options",
    "tier_level",
    "zone_sheets",
]
