"""Validation reports: what a load kept, corrected and dropped, and why.

Nothing is dropped silently. Every loader returns a :class:`ValidationReport` beside its
data; later steps (zone assignment, key matching) add to the same report, so an analyst
can account for every row of every input file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["REASONS", "RowIssue", "ValidationReport"]

#: Reason codes and their descriptions (es, en).
REASONS: dict[str, tuple[str, str]] = {
    "missing_coordinates": ("coordenadas vacías", "missing coordinates"),
    "bad_coordinates": ("coordenadas no numéricas", "unparseable coordinates"),
    "swapped_coordinates": ("latitud y longitud invertidas", "latitude and longitude swapped"),
    "outside_study_area": ("fuera del área de estudio", "outside the study area"),
    "missing_date": ("fecha vacía", "missing date"),
    "bad_date": ("fecha no interpretable", "unparseable date"),
    "bad_hour": ("hora no interpretable", "unparseable hour"),
    "duplicate_id": ("identificador duplicado", "duplicate id"),
    "bad_count": ("cantidad no numérica o negativa", "unparseable or negative count"),
    "missing_key": ("lugar vacío", "missing place name or code"),
    "unmatched_key": ("lugar sin zona correspondiente", "place matches no zone"),
    "unknown_zone": ("zona que no está en la capa de zonas", "zone not in the zone layer"),
    "repaired_geometry": ("polígono inválido reparado", "invalid polygon repaired"),
    "missing_population": ("zona sin población", "zone without population"),
}

_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class RowIssue:
    """One example of a problem: where it is and what was found."""

    row: int
    column: str | None
    value: Any

    def describe(self, row_word: str = "row", lang: str = "en") -> str:
        if lang == "es":
            word = {"row": "fila", "feature": "objeto"}.get(row_word, row_word)
            col = f", columna {self.column!r}" if self.column else ""
        else:
            word, col = row_word, (f", column {self.column!r}" if self.column else "")
        empty = self.value is None or (isinstance(self.value, float) and np.isnan(self.value))
        shown = ("(vacío)" if lang == "es" else "(empty)") if empty else repr(self.value)
        return f"{word} {self.row}{col}: {shown}"


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
        }

    def summary(self, lang: str = "es") -> str:
        """A few human lines: kept/read and each reason with an example."""
        i = 0 if lang == "es" else 1
        head = (
            f"{self.source}: {self.n_kept:,} de {self.n_read:,} filas usadas"
            if i == 0
            else f"{self.source}: {self.n_kept:,} of {self.n_read:,} rows used"
        )
        lines = [head]
        for title, bucket in (
            (("descartadas", "dropped"), self.dropped),
            (("corregidas", "corrected"), self.corrected),
            (("con advertencia", "flagged"), self.flagged),
        ):
            for reason, n in bucket.items():
                ex = self.examples.get(reason, [])
                lead = ("p. ej.", "e.g.")[i]
                example = f" ({lead} {ex[0].describe(self.row_word, lang)})" if ex else ""
                lines.append(f"  {title[i]}: {n:,} × {REASONS[reason][i]}{example}")
        return "\n".join(lines)


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return None if isinstance(v, float) and np.isnan(v) else v
    if isinstance(v, np.generic):
        return _jsonable(v.item())
    return str(v)
