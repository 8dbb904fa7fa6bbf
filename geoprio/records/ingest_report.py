"""The validation report of an ingest: chunks' reports merged per file, files merged into one.

A file read in chunks is validated chunk by chunk (:mod:`geoprio.records.ingest`); this
module adds the chunks' reports up (:func:`merge_reports`), moves their example rows to the
rows of the original file, and runs the time-heaping test once per file
(:class:`HeapingCounts`): the test of :func:`geoprio.records.times.detect_time_heaping`
depends only on counts per hour, so chunks add their counts and the file is tested whole,
as a whole-file load would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geoprio.records.parse import parse_clock
from geoprio.records.report import RowIssue, ValidationReport, heaping_note
from geoprio.records.times import HEAPING_MIN_RECORDS, HEAPING_RATIO, TimeHeaping

__all__ = ["HeapingCounts", "merge_reports", "report_json", "report_text", "shift_report"]

_MAX_EXAMPLES = 5


def shift_report(report: ValidationReport, offset: int) -> ValidationReport:
    """``report`` with its example rows moved by ``offset`` (a chunk's rows → the file's)."""
    if not offset:
        return report
    shifted = report.copy()
    shifted.examples = {k: [RowIssue(e.row + offset, e.column, e.value) for e in v] for k, v in report.examples.items()}
    return shifted


def merge_reports(
    reports: Sequence[ValidationReport], source: str, *, files: Sequence[str] | None = None
) -> tuple[ValidationReport, dict[str, list[str]]]:
    """One report of several: rows and counts summed, the first five examples of each reason kept.

    Columns and notes are the first report's that has them; a setting with different values
    becomes the list of its values. With ``files`` (one name per report), also returns the
    file of each kept example, reason by reason.
    """
    merged = ValidationReport(source=source)
    example_files: dict[str, list[str]] = {}
    values: dict[str, list[Any]] = {}
    for i, rep in enumerate(reports):
        merged.n_read += rep.n_read
        for bucket, theirs in ((merged.dropped, rep.dropped), (merged.corrected, rep.corrected), (merged.flagged, rep.flagged)):
            for reason, n in theirs.items():
                bucket[reason] = bucket.get(reason, 0) + n
        for reason, examples in rep.examples.items():
            kept = merged.examples.setdefault(reason, [])
            taken = examples[: _MAX_EXAMPLES - len(kept)]
            kept.extend(taken)
            if files is not None:
                example_files.setdefault(reason, []).extend([files[i]] * len(taken))
        for role, col in rep.columns.items():
            merged.columns.setdefault(role, col)
        for code, note in rep.notes.items():
            merged.notes.setdefault(code, dict(note))
        if i == 0:
            merged.row_word = rep.row_word
        for key, value in rep.settings.items():
            if value not in values.setdefault(key, []):
                values[key].append(value)
    merged.settings = {k: v[0] if len(v) == 1 else v for k, v in values.items()}
    return merged, example_files


def _minutes(clock: pd.Series) -> np.ndarray:
    """The minutes of clock times (NaN where none), parsed once per distinct value."""
    codes, uniques = pd.factorize(clock.astype("string"), use_na_sentinel=True)
    minutes = parse_clock(pd.Series(uniques, dtype="string"))[1]
    return np.where(codes >= 0, minutes[np.maximum(codes, 0)] if len(minutes) else np.nan, np.nan)


@dataclass
class HeapingCounts:
    """Counts of one file's kept times per hour, added chunk by chunk, and the rows at 00:00.

    :meth:`test` gives the :class:`~geoprio.records.times.TimeHeaping` that
    :func:`~geoprio.records.times.detect_time_heaping` gives on all the file's times at once
    (same rule, same thresholds); :meth:`apply` puts it in the file's report in place of the
    chunks' own tests.
    """

    all_hours: np.ndarray = field(default_factory=lambda: np.zeros(24, dtype=np.int64))
    on_the_hour: np.ndarray = field(default_factory=lambda: np.zeros(24, dtype=np.int64))
    any_minute: bool = False
    at_default: int = 0
    column: str | None = None
    examples: list[RowIssue] = field(default_factory=list)

    @staticmethod
    def times(data: pd.DataFrame, columns: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """Hours and minutes (NaN unknown) of loaded records, as the loader read them.

        The minutes come from the hour column when it is not the date column (and was kept),
        otherwise from the dates.
        """
        hours = data["hour"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        hour_col, date_col = columns.get("hour"), columns.get("date")
        if hour_col is not None and hour_col != date_col:
            minutes = _minutes(data[hour_col]) if hour_col in data else np.full(len(data), np.nan)
        elif date_col is not None:
            minutes = data["date"].dt.minute.to_numpy(dtype=float, na_value=np.nan)
        else:
            minutes = np.full(len(data), np.nan)
        return hours, np.where(np.isnan(hours), np.nan, minutes)

    def add(self, hours: np.ndarray, minutes: np.ndarray, rows: np.ndarray, values: np.ndarray | None, column: str | None) -> np.ndarray:
        """Count a chunk's times; return where a time sits at the default 00:00."""
        timed = ~np.isnan(hours)
        h = hours[timed].astype(np.int64)
        m = np.nan_to_num(minutes[timed], nan=0.0).astype(np.int64)
        self.any_minute = self.any_minute or bool((m != 0).any())
        self.all_hours += np.bincount(h, minlength=24)
        self.on_the_hour += np.bincount(h[m == 0], minlength=24)
        at = timed & (np.nan_to_num(hours, nan=-1.0) == 0) & (np.nan_to_num(minutes, nan=0.0) == 0)
        self.at_default += int(at.sum())
        self.column = self.column or column
        room = _MAX_EXAMPLES - len(self.examples)
        if room > 0:
            picked = np.flatnonzero(at)[:room]
            shown = values[picked] if values is not None else [None] * len(picked)
            self.examples += [RowIssue(int(rows[i]), column, v) for i, v in zip(picked, shown, strict=True)]
        return at

    def test(self) -> TimeHeaping | None:
        """The heaping test of the whole file (None when no record has a time)."""
        n_timed = int(self.all_hours.sum())
        if n_timed == 0:
            return None
        per_hour = self.on_the_hour if self.any_minute else self.all_hours
        n_default = int(per_hour[0])
        reference = float(per_hour[1:].mean()) if self.any_minute else float((per_hour[23] + per_hour[1]) / 2)
        share = float(self.on_the_hour.sum() / n_timed) if self.any_minute else None
        ratio = n_default / reference if reference > 0 else (float("inf") if n_default else 0.0)
        heaped = n_default >= HEAPING_MIN_RECORDS and ratio >= HEAPING_RATIO
        return TimeHeaping("minute" if self.any_minute else "hour", n_timed, n_default, reference, ratio, heaped, share)

    def apply(self, report: ValidationReport) -> bool:
        """Replace the chunks' heaping results in ``report`` by the file's; return whether it is heaped."""
        report.flagged.pop("heaped_time", None)
        report.examples.pop("heaped_time", None)
        report.notes.pop("time_heaping", None)
        report.settings.pop("time_heaping", None)
        heaping = self.test()
        if heaping is None:
            return False
        report.settings["time_heaping"] = heaping.to_dict()
        if not heaping.heaped or not self.at_default:
            return False
        report.flagged["heaped_time"] = self.at_default
        report.examples["heaped_time"] = list(self.examples)
        report.notes["time_heaping"] = heaping_note(heaping)  # the note of geoprio.records.load
        return True


def report_json(total: ValidationReport, example_files: dict[str, list[str]], per_file: dict[str, ValidationReport]) -> dict[str, Any]:
    """``validacion.json``: the merged report (each example with its file) and one per file."""
    doc = total.to_dict()
    for reason, examples in doc["examples"].items():
        for example, name in zip(examples, example_files.get(reason, []), strict=False):
            example["file"] = name
    return {"total": doc, "files": {name: rep.to_dict() for name, rep in per_file.items()}}


def report_text(total: ValidationReport, per_file: dict[str, ValidationReport], lang: str) -> str:
    """``validacion.txt``: the merged report in words, then each file's when there are several."""
    parts = [total.summary(lang)]
    if len(per_file) > 1:
        parts += [rep.summary(lang) for rep in per_file.values()]
    return "\n\n".join(parts) + "\n"
