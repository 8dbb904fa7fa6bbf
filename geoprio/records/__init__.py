"""Records and their validation: incidents, complaints and coexistence records, harm weights.

Every loader returns its data with a :class:`ValidationReport` of what was kept, corrected
and dropped, and why.
"""

from geoprio.records.harm import (
    HarmEntry,
    HarmTable,
    load_harm_table,
)
from geoprio.records.load import (
    Kind,
    Records,
    ZoneTable,
    detect_column,
    load_keyed,
    load_points,
    load_zone_table,
    parse_dates,
    parse_hours,
    parse_numbers,
    where_mask,
)
from geoprio.records.report import (
    RowIssue,
    ValidationReport,
)
from geoprio.records.text import (
    fold,
    fold_series,
)

__all__ = [
    "HarmEntry",
    "HarmTable",
    "Kind",
    "Records",
    "RowIssue",
    "ValidationReport",
    "ZoneTable",
    "detect_column",
    "fold",
    "fold_series",
    "load_harm_table",
    "load_keyed",
    "load_points",
    "load_zone_table",
    "parse_dates",
    "parse_hours",
    "parse_numbers",
    "where_mask",
]
