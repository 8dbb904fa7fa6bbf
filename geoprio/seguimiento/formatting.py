"""How the seguimiento writes numbers for people: the HTML report, the CLI tables and the notes.

Three small formatters, each with the rules its readers have always seen (``–`` for a missing
value), in the reader's number format: ``lang="es"`` groups thousands with a point and puts a
comma before decimals (``1.234``, ``12,3``), ``lang="en"`` (the default) the other way round
(``1,234``, ``12.3``):

* :func:`format_number` — a value in a table or chart: whole numbers from 100 on
  (``1,234``; ``123``), one decimal from 10 (``12.3``), two below (``1.23``);
* :func:`format_compact` — a value inside a sentence (the notes): whole from 1,000 on, else at
  most ``digits`` decimals without trailing zeros (``13.63``, ``10``);
* :func:`format_percent` — a share as a percentage with one decimal (``71.7 %``; ``71,7 %``).
"""

from __future__ import annotations

import math

from geoprio.numbers import fmt_spec

__all__ = ["MISSING", "format_compact", "format_number", "format_percent"]

#: What a missing or undefined value reads as.
MISSING = "–"


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v)))


def format_number(v: float | None, digits: int = 1, *, lang: str = "en") -> str:
    """A value for a table or chart: fewer decimals the larger it is.

    From 1,000 on no decimals (``12,345``); from 100 ``digits − 1`` decimals (none with the
    default); from 10 ``digits`` decimals; below 10 ``digits + 1`` decimals. ``None``, NaN
    and infinities read :data:`MISSING` (here and in the other two). ``lang="es"``: ``12.345``, ``12,3``.
    """
    if v is None or _missing(v):
        return MISSING
    if abs(v) >= 1000:
        spec = ",.0f"
    elif abs(v) >= 100:
        spec = f",.{max(digits - 1, 0)}f" if digits > 1 else ",.0f"
    else:
        spec = f",.{digits}f" if abs(v) >= 10 else f",.{digits + 1}f"
    return fmt_spec(v, spec, lang)


def format_compact(v: float | None, digits: int = 2, *, lang: str = "en") -> str:
    """A value inside a sentence: no decimals from 1,000 on, else at most ``digits`` decimals
    with trailing zeros dropped (``13.631`` → ``13.63``, ``10.0`` → ``10``; ``lang="es"``:
    ``13,63``, ``1.500``).
    """
    if v is None or _missing(v):
        return MISSING
    if abs(v) >= 1000 or not digits:
        return fmt_spec(v, ",.0f", lang)
    return fmt_spec(v, f",.{digits}f", lang).rstrip("0").rstrip("," if lang == "es" else ".")


def format_percent(v: float | None, *, lang: str = "en") -> str:
    """A share (1 = 100 %) as ``71.7 %`` (``71,7 %`` in Spanish); a value that rounds to −0.0
    reads ``0.0 %``.
    """
    if v is None or _missing(v):
        return MISSING
    text = f"{100 * v:.1f}"
    text = "0.0" if text == "-0.0" else text
    return f"{text.replace('.', ',') if lang == 'es' else text} %"
