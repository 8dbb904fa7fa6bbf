"""What a map says: its labels in Spanish or English, and how it writes numbers and text.

The words live in ``geoprio/resources/labels/maps.toml`` (read with :mod:`geoprio.labels`);
:func:`map_labels` returns them for one language. The formatting helpers turn values into
the short strings that tooltips, popups and legends show (``"—"`` for anything missing) and
escape text, since tooltips are inserted into the page as HTML.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geoprio import numbers
from geoprio.errors import InputError
from geoprio.labels import LANGS, check_lang, labels
from geoprio.settings import DEFAULT_LANG, Lang

__all__ = [
    "MAP_LANG",
    "approximate_line",
    "approximate_of",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "fmt_pvalue",
    "fmt_text",
    "format_size",
    "is_finite",
    "map_labels",
]

#: The language of a map unless told (:data:`geoprio.settings.DEFAULT_LANG`, typed as a :data:`Lang`).
MAP_LANG: Lang = check_lang(DEFAULT_LANG)
#: The label topic of the maps (``geoprio/resources/labels/maps.toml``).
TOPIC = "maps"


def map_labels(lang: str) -> Mapping[str, str]:
    """Every word a map shows, in ``lang`` (``"es"`` or ``"en"``), keyed by code."""
    if lang not in LANGS:
        raise InputError(f"lang must be {' or '.join(map(repr, LANGS))}, got {lang!r}")
    return labels(TOPIC, lang)


def approximate_line(approximate: bool, lang: str) -> list[str]:
    """The legend line of a layer drawn from points placed by place name (none otherwise)."""
    return [map_labels(lang)["approximate"]] if approximate else []


def approximate_of(notes: Any) -> bool:
    """Whether a run's notes (hot spots, plans, entornos; as in a manifest's ``notes``) say
    that some of its points were placed by place name: ``approximate_locations`` with a
    ``records`` count, per-source counts (entornos), or, in a public release, only the
    ``methods`` (:func:`geoprio.records.public_approximate`).
    """
    if not isinstance(notes, Mapping):
        return False
    info = notes.get("approximate_locations")
    if not isinstance(info, Mapping) or not info:
        return False
    if "records" in info:
        return bool(info["records"])
    if info.get("methods"):
        return True
    return any(isinstance(v, (int, float)) and v > 0 for v in info.values())


def is_finite(x: Any) -> bool:
    """Whether ``x`` is a finite number (or a string of one)."""
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_num(x: Any, digits: int = 1, lang: str = MAP_LANG) -> str:
    """``1234.5`` → ``"1.234,5"`` in Spanish, ``"1,234.5"`` in English; ``"—"`` when ``x`` is not a finite number."""
    return numbers.fmt_number(x, lang, digits) if is_finite(x) else "—"


def fmt_pct(x: Any, digits: int = 1, lang: str = MAP_LANG) -> str:
    """A share in [0, 1] as a percentage: ``0.25`` → ``"25,0 %"`` (Spanish), ``"25.0%"`` (English)."""
    return numbers.fmt_pct(float(x), lang, digits) if is_finite(x) else "—"


def fmt_int(x: Any, lang: str = MAP_LANG) -> str:
    """A number rounded to an integer (thousands grouped), ``"—"`` when missing."""
    return numbers.fmt_int(float(x), lang) if is_finite(x) else "—"


def fmt_pvalue(p: Any, lang: str = MAP_LANG) -> str:
    """A p-value with three decimals, ``"< 0,001"`` (``"< 0.001"`` in English) below that."""
    return f"< {fmt_num(0.001, 3, lang)}" if is_finite(p) and float(p) < 0.001 else fmt_num(p, 3, lang)


def fmt_text(x: Any) -> str:
    """Escaped text for tooltips (they are inserted as HTML); ``""`` for a missing value."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return ""
    return html.escape(str(x))


def format_size(n_bytes: int, lang: str = "en") -> str:
    """``1,234,567`` → ``"1.23 MB"`` (decimal units; ``"1,23 MB"`` with ``lang="es"``)."""
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{fmt_num(n_bytes / size, 2, lang)} {unit}"
    return f"{n_bytes} B"
