"""Notes: what a reader must know about a value of the seguimiento, as a code with parameters.

Computations record a :class:`Note` (a code such as ``"partial_year"``, the year, its
parameters and, for a zone, the zone id); its words are applied only when it is shown, from
the label topic ``seguimiento_notes`` (``geoprio/resources/labels/seguimiento_notes.toml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geoprio.labels import label, plural
from geoprio.seguimiento.formatting import format_compact

__all__ = ["Note"]

#: Label topic of the notes' texts.
TOPIC = "seguimiento_notes"


@dataclass(frozen=True)
class Note:
    """Something a reader must know about a value: a code, the year and parameters."""

    code: str
    year: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    zone_id: str | None = None

    def text(self, lang: str = "es") -> str:
        """The note in Spanish (default) or English; numbers as :func:`format_compact` writes them."""
        template = label(TOPIC, self.code, lang)
        params = {k: (format_compact(v, lang=lang) if isinstance(v, float) else v) for k, v in self.params.items()}
        if "count" in params and "{cases}" in template:  # a count of cases, singular or plural
            params["cases"] = plural(label(TOPIC, f"cases_{self.code}", lang), int(round(float(self.params["count"]))), lang)
        if "side" in params:  # "above" / "below", a code
            params["side"] = label("seguimiento", f"side_{params['side']}", lang)
        return template.format(year=self.year if self.year is not None else "", **params).removeprefix(": ")

    def to_dict(self, lang: str = "es") -> dict[str, Any]:
        """``{"code", "year", "text"}`` (and ``"zone_id"`` for a zone's note), as outputs hold it."""
        d: dict[str, Any] = {"code": self.code, "year": self.year, "text": self.text(lang)}
        if self.zone_id is not None:
            d["zone_id"] = self.zone_id
        return d
