"""Records and their validation: incidents, complaints and coexistence records, harm weights.

Every loader returns its data with a :class:`ValidationReport` of what was kept, corrected,
dropped and flagged, and why (:mod:`~geoprio.records.load`); cells are read by
:mod:`~geoprio.records.parse`; times (the offsets rule, heaping on a default 00:00) by
:mod:`~geoprio.records.times`.
"""

from geoprio.records.harm import (
    HarmEntry,
    HarmTable,
    load_harm_table,
)
from geoprio.records.load import (
    DuplicateRows,
    Kind,
    Records,
    ZoneTable,
    load_keyed,
    load_points,
    load_zone_table,
    where_mask,
)
from geoprio.records.parse import (
    column_hint,
    detect_column,
    did_you_mean,
    parse_clock,
    parse_dates,
    parse_hours,
    parse_numbers,
)
from geoprio.records.report import (
    RowIssue,
    ValidationReport,
)
from geoprio.records.text import (
    fold,
    fold_series,
)
from geoprio.records.times import (
    OFFSETS_RULE,
    Offsets,
    TimeHeaping,
    detect_time_heaping,
    offsets_evidence,
)

__all__ = [
    "OFFSETS_RULE",
    "DuplicateRows",
    "HarmEntry",
    "HarmTable",
    "Kind",
    "Offsets",
    "Records",
    "RowIssue",
    "TimeHeaping",
    "ValidationReport",
    "ZoneTable",
    "column_hint",
    "detect_column",
    "detect_time_heaping",
    "did_you_mean",
    "fold",
    "fold_series",
    "load_harm_table",
    "load_keyed",
    "load_points",
    "load_zone_table",
    "offsets_evidence",
    "parse_clock",
    "parse_dates",
    "parse_hours",
    "parse_numbers",
    "where_mask",
]
