"""Seguimiento: progress of a plan's indicators against their targets, per zone and year.

The flow, one module each: the targets file and its models (:mod:`~geoprio.seguimiento.config`),
the data it names (:mod:`~geoprio.seguimiento.data`), the numeric core
(:mod:`~geoprio.seguimiento.arithmetic`, with :mod:`~geoprio.seguimiento.notes`), the run
(:mod:`~geoprio.seguimiento.tracking`: :func:`track`, :func:`replay_tracking`), the result and
its files (:mod:`~geoprio.seguimiento.result`), the HTML report
(:mod:`~geoprio.seguimiento.report_html`), the public release of the outputs
(:mod:`~geoprio.seguimiento.public`: :func:`public_tracking`) and number formatting
(:mod:`~geoprio.seguimiento.formatting`)::

    from geoprio.seguimiento import load_targets, track

    res = track(load_targets("data/examples/bogota_seguimiento.toml"), year=2021)
    res.write("output/seguimiento")
"""

from geoprio.seguimiento.arithmetic import (
    Direction,
    Trend,
    YearProgress,
    attainment,
    capped,
    decompose_change,
    level_progress,
    progress_series,
    weighted_progress,
)
from geoprio.seguimiento.config import (
    CITY,
    UNPLACED,
    LevelInfo,
    ObjectiveConfig,
    PopulationByYear,
    TargetsConfig,
    TrackedIndicator,
    TrackingOptions,
    TrackingOutput,
    Unit,
    load_targets,
    parse_targets,
    read_program_csv,
)
from geoprio.seguimiento.data import (
    IndicatorData,
    PopulationTable,
    TrackingData,
    load_tracking_data,
    months_by_year,
    read_population,
)
from geoprio.seguimiento.formatting import format_compact, format_number, format_percent
from geoprio.seguimiento.notes import Note
from geoprio.seguimiento.public import PublicTracking, public_tracking, tracking_parents, write_public_tracking
from geoprio.seguimiento.report_html import bar_chart, line_chart, nice_ticks, render_report
from geoprio.seguimiento.result import (
    IndicatorResult,
    TrackingResult,
    UnitSeries,
    unit_label,
    zone_layer,
)
from geoprio.seguimiento.tracking import replay_tracking, track

__all__ = [
    "CITY",
    "UNPLACED",
    "Direction",
    "IndicatorData",
    "IndicatorResult",
    "LevelInfo",
    "Note",
    "ObjectiveConfig",
    "PopulationByYear",
    "PopulationTable",
    "PublicTracking",
    "TargetsConfig",
    "TrackedIndicator",
    "TrackingData",
    "TrackingOptions",
    "TrackingOutput",
    "TrackingResult",
    "Trend",
    "Unit",
    "UnitSeries",
    "YearProgress",
    "attainment",
    "bar_chart",
    "capped",
    "decompose_change",
    "format_compact",
    "format_number",
    "format_percent",
    "level_progress",
    "line_chart",
    "load_targets",
    "load_tracking_data",
    "months_by_year",
    "nice_ticks",
    "parse_targets",
    "progress_series",
    "public_tracking",
    "read_population",
    "read_program_csv",
    "render_report",
    "replay_tracking",
    "track",
    "tracking_parents",
    "unit_label",
    "weighted_progress",
    "write_public_tracking",
    "zone_layer",
]
