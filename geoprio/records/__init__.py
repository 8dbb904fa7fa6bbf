"""Records and their validation: incidents, complaints and coexistence records, harm weights.

Every loader returns its data with a :class:`ValidationReport` of what was kept, corrected,
dropped and flagged, and why (:mod:`~geoprio.records.load`); cells are read by
:mod:`~geoprio.records.parse`; times (the offsets rule, heaping on a default 00:00) by
:mod:`~geoprio.records.times`. Records that only name a place are located at the places of a
point or polygon layer, marked approximate, by :mod:`~geoprio.records.gazetteer`. Many raw
files become one partitioned GeoParquet dataset, validated chunk by chunk in bounded memory,
by :mod:`~geoprio.records.ingest` (``geoprio ingest``).
"""

from geoprio.records.gazetteer import (
    Gazetteer,
    GazetteerConfig,
    Geocoded,
    GeocodeOptions,
    PlaceMatch,
    approximate_locations,
    approximate_note,
    approximate_summary,
    geocode,
    geocode_records,
    load_gazetteer,
    match_places,
    normalize_names,
    public_approximate,
    run_geocode,
)
from geoprio.records.harm import (
    HarmEntry,
    HarmTable,
    load_harm_table,
)
from geoprio.records.ingest import (
    IngestOptions,
    IngestPartition,
    IngestResult,
    expand_inputs,
    ingest_records,
)
from geoprio.records.ingest_report import merge_reports
from geoprio.records.load import (
    APPROXIMATE_COLUMN,
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
    "APPROXIMATE_COLUMN",
    "OFFSETS_RULE",
    "DuplicateRows",
    "Gazetteer",
    "GazetteerConfig",
    "GeocodeOptions",
    "Geocoded",
    "HarmEntry",
    "HarmTable",
    "IngestOptions",
    "IngestPartition",
    "IngestResult",
    "Kind",
    "Offsets",
    "PlaceMatch",
    "Records",
    "RowIssue",
    "TimeHeaping",
    "ValidationReport",
    "ZoneTable",
    "approximate_locations",
    "approximate_note",
    "approximate_summary",
    "public_approximate",
    "column_hint",
    "detect_column",
    "detect_time_heaping",
    "did_you_mean",
    "expand_inputs",
    "fold",
    "fold_series",
    "geocode",
    "geocode_records",
    "ingest_records",
    "load_gazetteer",
    "load_harm_table",
    "load_keyed",
    "load_points",
    "load_zone_table",
    "match_places",
    "merge_reports",
    "normalize_names",
    "offsets_evidence",
    "parse_clock",
    "parse_dates",
    "parse_hours",
    "parse_numbers",
    "run_geocode",
    "where_mask",
]
