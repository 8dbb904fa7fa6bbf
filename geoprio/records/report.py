"""Validation reports: what a load kept, corrected and dropped, and why.

Nothing is dropped silently. Every loader returns a :class:`ValidationReport` beside its
data; later steps (zone assignment, key matching) add to the same report, so an analyst
can account for every row of every input file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from geoprio.labels import labels
from geoprio.numbers import MISSING, fmt_int, fmt_number, is_number

if TYPE_CHECKING:
    from geoprio.records.times import TimeHeaping

__all__ = ["REASONS", "RowIssue", "ValidationReport"]

#: Reason codes of what a load drops, corrects or flags (their words: labels topic ``records``).
REASONS: tuple[str, ...] = (
    "missing_coordinates",
    "bad_coordinates",
    "swapped_coordinates",
    "outside_study_area",
    "outside_period",
    "missing_date",
    "bad_date",
    "bad_hour",
    "heaped_time",
    "duplicate_id",
    "duplicate_row",
    "bad_count",
    "missing_key",
    "unmatched_key",
    "unmatched_place",
    "ambiguous_place",
    "unknown_zone",
    "repaired_geometry",
    "missing_population",
)

_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class RowIssue:
    """One example of a problem: where it is and what was found."""

    row: int
    column: str | None
    value: Any

    def describe(self, row_word: str = "row", lang: str = "en") -> str:
        """``fila 12, columna 'fecha': '31/02/2024'`` (or its English form)."""
        t = labels("records", lang)
        word = t.get(row_word, row_word)
        col = f", {t['column']} {self.column!r}" if self.column else ""
        empty = self.value is None or (isinstance(self.value, float) and np.isnan(self.value))
        shown = t["empty"] if empty else repr(self.value)
        return f"{word} {fmt_int(self.row, lang)}{col}: {shown}"


@dataclass
class ValidationReport:
    """Account of one input: rows read, kept, corrected and dropped by reason.

    Attributes
    ----------
    source
        File name (or a label for in-memory data).
    n_read
        Data rows read from the source.
    dropped
        Reason code → number of rows dropped for that reason.
    corrected
        Reason code → number of rows kept after a correction (e.g. swapped coordinates).
    flagged
        Reason code → number of rows kept as they are but with a problem noted
        (e.g. an unparseable hour: the row counts, but not in hour filters).
    examples
        Reason code → up to five :class:`RowIssue` examples.
    columns
        Role (``x``, ``y``, ``date``, ``category``…) → column of the source used for it.
    row_word
        How rows are numbered in messages: ``"row"`` counts as a spreadsheet does
        (header = row 1), ``"feature"`` counts features of a vector layer from 1.
    notes
        Note code → values of its message (labels topic ``records``), for what concerns
        the whole file rather than rows: e.g. ``time_heaping`` or ``offsets_local``. Values are
        plain data (counts as ints, ratios as floats, a ``share`` as a fraction in [0, 1],
        a mapping of counts, text): :meth:`summary` formats them in its language.
    """

    source: str
    n_read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    corrected: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[RowIssue]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    row_word: str = "row"
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def n_dropped(self) -> int:
        return int(sum(self.dropped.values()))

    @property
    def n_kept(self) -> int:
        return self.n_read - self.n_dropped

    def _add(self, bucket: dict[str, int], reason: str, rows: Any, column: str | None, values: Any) -> None:
        rows = np.asarray(rows).ravel()
        if rows.size == 0:
            return
        if reason not in REASONS:
            raise KeyError(f"unknown reason code {reason!r}")
        bucket[reason] = bucket.get(reason, 0) + int(rows.size)
        vals = list(np.asarray(values, dtype=object).ravel()) if values is not None else [None] * rows.size
        ex = self.examples.setdefault(reason, [])
        for r, v in zip(rows[: _MAX_EXAMPLES - len(ex)], vals[: _MAX_EXAMPLES - len(ex)], strict=False):
            ex.append(RowIssue(int(r), column, v))

    def drop(self, reason: str, rows: Any, column: str | None = None, values: Any = None) -> None:
        """Record rows dropped for ``reason`` (row numbers as shown to users)."""
        self._add(self.dropped, reason, rows, column, values)

    def correct(self, reason: str, rows: Any, column: str | None = None, values: Any = None) -> None:
        """Record rows kept after a correction."""
        self._add(self.corrected, reason, rows, column, values)

    def flag(self, reason: str, rows: Any, column: str | None = None, values: Any = None) -> None:
        """Record rows kept with a noted problem."""
        self._add(self.flagged, reason, rows, column, values)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON outputs and the API."""
        return {
            "source": self.source,
            "rows_read": self.n_read,
            "rows_kept": self.n_kept,
            "rows_dropped": self.n_dropped,
            "dropped": dict(self.dropped),
            "corrected": dict(self.corrected),
            "flagged": dict(self.flagged),
            "examples": {
                k: [{self.row_word: e.row, "column": e.column, "value": _jsonable(e.value)} for e in v] for k, v in self.examples.items()
            },
            "columns": dict(self.columns),
            "settings": dict(self.settings),
            "notes": {k: dict(v) for k, v in self.notes.items()},
        }

    def copy(self) -> ValidationReport:
        """An independent copy (later steps add to the copy, not to the loader's report)."""
        return ValidationReport(
            source=self.source,
            n_read=self.n_read,
            dropped=dict(self.dropped),
            corrected=dict(self.corrected),
            flagged=dict(self.flagged),
            examples={k: list(v) for k, v in self.examples.items()},
            columns=dict(self.columns),
            settings=dict(self.settings),
            row_word=self.row_word,
            notes={k: dict(v) for k, v in self.notes.items()},
        )

    @property
    def has_issues(self) -> bool:
        """True when anything was dropped, corrected or flagged, or a note was made."""
        return bool(self.dropped or self.corrected or self.flagged or self.notes)

    def summary(self, lang: str = "es") -> str:
        """A few human lines: kept/read and each reason with an example."""
        t = labels("records", lang)
        lines = [t["summary_head"].format(source=self.source, kept=fmt_int(self.n_kept, lang), read=fmt_int(self.n_read, lang))]
        for title, bucket in (("dropped", self.dropped), ("corrected", self.corrected), ("flagged", self.flagged)):
            for reason, n in bucket.items():
                ex = self.examples.get(reason, [])
                example = f" ({t['for_example']} {ex[0].describe(self.row_word, lang)})" if ex else ""
                lines.append(f"  {t[title]}: {fmt_int(n, lang)} × {t[reason]}{example}")
        for code, values in self.notes.items():
            lines.append("  " + t[f"note_{code}"].format(**{k: _note_value(k, v, lang) for k, v in values.items()}))
        return "\n".join(lines)


def _note_value(key: str, value: Any, lang: str) -> str:
    """A note's value as its message shows it in ``lang``: a ``share`` in percent, a count
    whole, another number with one decimal, a mapping as ``key (count), …``; text as it is.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{k} ({_note_value('', v, lang)})" for k, v in value.items())
    if key == "share":  # its message writes the percent sign
        return fmt_number(100 * value, lang, 1) if is_number(value) else MISSING
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return fmt_int(value, lang)
    return fmt_number(value, lang, 1) if is_number(value) else MISSING


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return None if isinstance(v, float) and np.isnan(v) else v
    if isinstance(v, np.generic):
        return _jsonable(v.item())
    return str(v)


def heaping_note(heaping: TimeHeaping) -> dict[str, Any]:
    """The values of the ``time_heaping`` note, as plain numbers (:meth:`ValidationReport.summary`
    formats them): the count at 00:00, its ``share`` of the timed records and the ``ratio``.
    """
    return {
        "n": int(heaping.n_default),
        "share": finite_or_none(heaping.default_share),
        "ratio": finite_or_none(heaping.ratio),
        "what": "01:00 … 23:00" if heaping.resolution == "minute" else "23 h, 1 h",
    }


def finite_or_none(x: float | None) -> float | None:
    """``x`` as a float for JSON, None when missing or not finite."""
    return float(x) if x is not None and math.isfinite(x) else None
