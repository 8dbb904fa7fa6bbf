"""Numbers as users read them: Colombian format in Spanish (``100.000``, ``12,5 %``), English
format in English (``100,000``, ``12.5%``). Every function returns ``"—"`` for a missing or
non-finite value. Tables, maps, reports and messages use these, never a bare ``f"{x:,}"``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MISSING", "LangNumber", "fmt_change", "fmt_int", "fmt_number", "fmt_pct", "fmt_spec", "is_number"]

#: What a missing value prints as.
MISSING = "—"


def is_number(x: Any) -> bool:
    """Whether ``x`` is a finite number (bools and text are not)."""
    if isinstance(x, bool) or x is None:
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_number(x: Any, lang: str, digits: int = 1) -> str:
    """``x`` with ``digits`` decimals and thousands grouped: ``es`` ``100.000,5``, ``en`` ``100,000.5``."""
    if not is_number(x):
        return MISSING
    value = float(x)
    if value == 0:
        value = 0.0  # no "-0"
    text = f"{value:,.{digits}f}"
    if lang == "es":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def fmt_int(x: Any, lang: str) -> str:
    """``x`` rounded to a whole number, thousands grouped (``100.000`` / ``100,000``)."""
    return fmt_number(round(float(x)) if is_number(x) else None, lang, 0)


def fmt_pct(share: Any, lang: str, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: ``es`` ``12,5 %``, ``en`` ``12.5%``."""
    if not is_number(share):
        return MISSING
    text = fmt_number(100 * float(share), lang, digits)
    return f"{text} %" if lang == "es" else f"{text}%"


def fmt_change(delta: Any, lang: str, digits: int = 0) -> str:
    """A signed change with an arrow: ``▲ 3`` (up), ``▼ 2`` (down), ``= 0``; ``—`` when unknown."""
    if not is_number(delta):
        return MISSING
    d = float(delta)
    if round(d, digits) == 0:
        return "="
    arrow = "▲" if d > 0 else "▼"
    return f"{arrow} {fmt_number(abs(d), lang, digits)}"


def fmt_spec(value: Any, spec: str, lang: str) -> str:
    """For console tables and labels that carry their own format spec (``{share:.1f}``,
    ``{n:,}``): ``value`` formatted with ``spec`` as Python does, then in Spanish the separators
    swap (``39,920.5`` → ``39.920,5``); ``—`` when not a finite number. ``spec``: ``",.0f"``,
    ``".2f"``, ``"+,.0f"``, ``"g"`` and so on.
    """
    if not is_number(value):
        return MISSING
    text = format(value, spec)
    if lang == "es":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


class LangNumber:
    """A number that formats itself in ``lang`` inside ``str.format``: ``"{n:,}".format(n=LangNumber(39920, "es"))`` → ``39.920``."""

    __slots__ = ("lang", "value")

    def __init__(self, value: Any, lang: str) -> None:
        self.value = value
        self.lang = lang

    def __format__(self, spec: str) -> str:
        return fmt_spec(self.value, spec, self.lang)

    def __str__(self) -> str:
        return fmt_spec(self.value, "", self.lang)

    def __repr__(self) -> str:
        return f"LangNumber({self.value!r}, {self.lang!r})"
