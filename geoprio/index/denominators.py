"""Small denominators among the first ranks: which zones, and the warning every ranking shows.

A rate per resident ranks a zone with few residents by the smallness of its denominator
(La Candelaria, 2,248 residents, first in the demo with raw rates). The index flags zones
under the minimum denominator (``small_denominator``, ``†``; see
:data:`geoprio.index.config.DEFAULT_MIN_POPULATION`); this module says when such zones sit
in the top N of a ranked table, once, for every front end:

* :func:`small_in_top` — from a ranked table (``rank``, ``small_denominator``, ``zone_id``,
  ``name``, ``population``), the :class:`SmallInTop` finding: which of the top N zones are
  flagged, with their rank and population, the minimum and what the config does with them;
* :meth:`SmallInTop.message` — the warning in Spanish (default) or English, which the
  console table, the written notes and manifest, the map legend and the API list show;
* :func:`min_denominator_of` — the minimum an index manifest records (for the API and the
  maps, which read written tables).

Nothing here warns through Python's :mod:`warnings`: the finding is data, and each front end
formats it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

import pandas as pd

from geoprio.errors import InputError
from geoprio.index.config import DEFAULT_MIN_POPULATION
from geoprio.labels import labels
from geoprio.numbers import fmt_int
from geoprio.settings import DEFAULT_LANG

__all__ = ["DEFAULT_TOP", "SmallInTop", "SmallZone", "min_denominator_of", "small_in_top"]

#: The N of "top N" when nothing else says it (the Monte Carlo's default ``top_k``).
DEFAULT_TOP: Final = 10


@dataclass(frozen=True)
class SmallZone:
    """One flagged zone among the first ranks."""

    zone_id: str
    name: str | None
    rank: int
    population: float | None


@dataclass(frozen=True)
class SmallInTop:
    """Which of the ``top`` first zones have a denominator under ``minimum``.

    ``minimum`` is ``None`` when unknown (a table read without its manifest); ``action`` is
    the config's ``small_zones`` (``flag``, ``exclude`` or ``smooth``; ``None`` when
    unknown); ``flagged`` counts the flagged zones of the whole table and ``ranked`` its
    ranked zones; ``smoothed`` says every rate is already smoothed (the advice changes).
    The object is false when no zone of the top is flagged.
    """

    top: int
    minimum: float | None = None
    action: str | None = None
    zones: tuple[SmallZone, ...] = ()
    flagged: int = 0
    ranked: int = 0
    smoothed: bool = False

    def __bool__(self) -> bool:
        return bool(self.zones)

    @property
    def zone_ids(self) -> list[str]:
        """The flagged zones of the top, best rank first."""
        return [z.zone_id for z in self.zones]

    def message(self, lang: str = DEFAULT_LANG) -> str | None:
        """The warning (``None`` when no zone of the top is flagged).

        ``2 de las 5 primeras zonas tienen menos de 5,000 residentes (†): UPZ02 La
        Candelaria (puesto 1; 2,248), …`` followed by what to do about it.
        """
        if not self.zones:
            return None
        t = labels("denominators", lang)
        zones = ", ".join(self._zone_text(z, t, lang) for z in self.zones)
        n, top = len(self.zones), min(self.top, self.ranked) if self.ranked else self.top
        one = "_one" if n == 1 else ""
        if self.minimum is None:
            head = t["head_unknown" + one].format(n=n, top=top, zones=zones)
        else:
            head = t["head" + one].format(n=n, top=top, minimum=fmt_int(self.minimum, lang), zones=zones)
        advice = t["advice_smooth"] if self.smoothed or self.action == "smooth" else t["advice"]
        return f"{head} {advice}"

    @staticmethod
    def _zone_text(z: SmallZone, t: Mapping[str, str], lang: str) -> str:
        name = f"{z.zone_id} {z.name}" if z.name and z.name != z.zone_id else z.zone_id
        if z.population is None:
            return t["zone_rank"].format(zone=name, rank=z.rank)
        return t["zone"].format(zone=name, rank=z.rank, population=fmt_int(z.population, lang))

    def to_dict(self, lang: str = DEFAULT_LANG) -> dict[str, Any]:
        """Plain data for the notes, the manifest and the API, with the message in ``lang``."""
        d = asdict(self)
        d["zones"] = [asdict(z) for z in self.zones]
        d["message"] = self.message(lang)
        return d


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return str(v)


def _number(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def small_in_top(
    table: pd.DataFrame,
    *,
    top: int = DEFAULT_TOP,
    minimum: float | None = None,
    action: str | None = None,
    smoothed: bool = False,
) -> SmallInTop:
    """The flagged zones (``small_denominator``) among the ``top`` best ranks of ``table``.

    ``table`` is a ranked index table (:attr:`geoprio.index.run.IndexRun.table`, or one read
    back from its files): ``zone_id``, ``rank`` (empty for zones left out) and, when any
    rate was measured, ``small_denominator``; ``name`` and ``population`` are shown when
    present. ``minimum``, ``action`` and ``smoothed`` are only reported (they come from the
    config).
    """
    if top < 1:
        raise InputError(f"top must be at least 1, got {top}")
    missing = [c for c in ("zone_id", "rank") if c not in table.columns]
    if missing:
        raise InputError(f"small_in_top: the table has no column {missing[0]!r}; columns found: {list(table.columns)[:12]}")
    rank = pd.to_numeric(table["rank"], errors="coerce")
    ranked = table.loc[rank.notna()].assign(_rank=rank[rank.notna()]).sort_values("_rank", kind="stable")
    if "small_denominator" in table.columns:
        small = table["small_denominator"].astype("boolean").fillna(False).astype(bool)
    else:
        small = pd.Series(False, index=table.index)
    head = ranked.loc[ranked["_rank"] <= top]
    head = head.loc[small.loc[head.index].to_numpy(dtype=bool)]
    zones = tuple(
        SmallZone(
            zone_id=str(r["zone_id"]),
            name=_text(r.get("name")),
            rank=int(r["_rank"]),
            population=_number(r.get("population")),
        )
        for r in head.to_dict("records")
    )
    return SmallInTop(
        top=int(top),
        minimum=None if minimum is None else float(minimum),
        action=action,
        zones=zones,
        flagged=int(small.sum()),
        ranked=len(ranked),
        smoothed=smoothed,
    )


def min_denominator_of(manifest: Mapping[str, Any] | None) -> float | None:
    """The minimum denominator an index manifest records (``None`` when it records none).

    Read from ``parameters.small_denominator.minimum`` (manifests written since the
    default minimum), else from the stored config's ``index.min_population`` (its default,
    :data:`~geoprio.index.config.DEFAULT_MIN_POPULATION`, when unset; 0 is off).
    """
    if not isinstance(manifest, Mapping):
        return None
    small = (manifest.get("parameters") or {}).get("small_denominator")
    if isinstance(small, Mapping) and "minimum" in small:
        return _number(small["minimum"])
    options = manifest.get("options") if manifest.get("options") is not None else manifest.get("config")
    if not isinstance(options, Mapping) or not isinstance(options.get("index", {}), Mapping):
        return None
    value = _number(options.get("index", {}).get("min_population"))
    if value is None:
        return DEFAULT_MIN_POPULATION
    return value or None
