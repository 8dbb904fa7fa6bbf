"""How the seguimiento writes numbers for people: the HTML report, the CLI tables and the notes.

Three small formatters, each with the rules its readers have always seen (thousands with a
comma, a point before decimals; ``–`` for a missing value):

* :func:`format_number` — a value in a table or chart: whole numbers from 100 on
  (``1,234``; ``123``), one decimal from 10 (``12.3``), two below (``1.23``);
* :func:`format_compact` — a value inside a sentence (the notes): whole from 1,000 on, else at
  most ``digits`` decimals without trailing zeros (``13.63``, ``10``);
* :func:`format_percent` — a share as a percentage with one decimal (``71.7 %``).
"""

from __future__ import annotations

import math

__all__ = ["MISSING", "format_compact", "format_number", "format_percent"]

#: What a missing or undefined value reads as.
MISSING = "–"


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v)))


def format_number(v: float | None, digits: int = 1) -> str:
    """A value for a table or chart: fewer decimals the larger it is.

    From 1,000 on no decimals (``12,345``); from 100 ``digits − 1`` decimals (none with the
    default); from 10 ``digits`` decimals; below 10 ``digits + 1`` decimals. ``None``, NaN
    and infinities read :data:`MISSING`.
    """
    if v is None or _missing(v):
        return MISSING
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.{max(digits - 1, 0)}f}" if digits > 1 else f"{v:,.0f}"
    return f"{v:,.{digits}f}" if abs(v) >= 10 else f"{v:,.{digits + 1}f}"


def format_compact(v: float | None, digits: int = 2) -> str:
    """A value inside a sentence: no decimals from 1,000 on, else at most ``digits`` decimals
    with trailing zeros dropped (``13.631`` → ``13.63``, ``10.0`` → ``10``).
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{v:,.0f}"


def format_percent(v: float | None) -> str:
    """A share (1 = 100 %) as ``71.7 %``; a value that rounds to −0.0 reads ``0.0 %``."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    text = f"{100 * v:.1f}"
    return f"{'0.0' if text == '-0.0' else text} %"
