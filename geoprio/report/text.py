"""The words of the bulletin: its labels (``resources/labels/report.toml``,
:func:`report_labels`), and the number formats of each language re-exported from
:mod:`geoprio.numbers` (Spanish ``100.000`` and ``12,5 %``; English ``100,000`` and ``12.5%``).
"""

from __future__ import annotations

from collections.abc import Mapping

from geoprio.labels import check_lang, labels
from geoprio.numbers import MISSING, fmt_change, fmt_int, fmt_number, fmt_pct, is_number

__all__ = ["MISSING", "TOPIC", "fmt_change", "fmt_int", "fmt_number", "fmt_pct", "is_number", "report_labels"]

#: The label topic of the bulletin.
TOPIC = "report"


def report_labels(lang: str) -> Mapping[str, str]:
    """The bulletin's labels in ``lang`` (``es`` or ``en``)."""
    return labels(TOPIC, check_lang(lang))
