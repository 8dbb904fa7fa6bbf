"""When a place needs presence: hour × weekday profiles and their peak windows.

"Prioritizing a station is useless without saying at what time." For each place the
weighted incidents near it are binned into the 168 hours of the week (slot
``24 · weekday + hour``, Monday = 0) and into the 24 hours of the day. The **peak hours**
are the fewest hours that hold a chosen share (50 % by default) of the place's weighted
incidents: taking hours from the busiest down is optimal for that (a knapsack with unit
sizes), ties broken by the earlier hour so results are reproducible. Consecutive peak hours
are merged into **windows**, cyclically: 22:00–02:00 is one window across midnight, and
Sunday night runs into Monday morning.

Records without an hour are left out of the profiles (and counted in ``no_hour``); records
with an hour but no date count in the day profile only.

Records whose time is a heaped default (00:00 where a file holds far more records at 00:00
than at any other on-the-hour time: the rule is in :mod:`geoprio.records.times`, and
the loaders mark them in ``time_heaped``) are left out too by default: their hour is not
known, and kept they would make 00:00–01:00 the "peak" of most places. They count in
``no_hour`` (and apart in ``heaped``); ``keep_heaped=True`` keeps them at 00:00.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoprio.errors import ConfigError
from geoprio.labels import LANGS, label

__all__ = [
    "DAY_ABBR",
    "HOURS_PER_WEEK",
    "PlaceProfiles",
    "format_windows",
    "peak_mask",
    "place_profiles",
    "windows",
]

HOURS_PER_WEEK = 168

#: Weekday abbreviations per language, index 0 = Monday (from the ``entornos`` label topic).
DAY_ABBR: dict[str, list[str]] = {lang: [label("entornos", f"day_abbr_{d}", lang) for d in range(7)] for lang in LANGS}


def peak_mask(values: np.ndarray, share: float) -> np.ndarray:
    """The fewest slots holding at least ``share`` of ``values`` (last axis), as a mask.

    Works on one profile (1-D) or many (2-D, one per row). A profile that sums to 0 has no
    peak. Slots with no weight are never chosen.
    """
    if not 0 < share <= 1:
        raise ConfigError(f"peak share must be in (0, 1], got {share!r}")
    v = np.atleast_2d(np.asarray(values, dtype=float))
    order = np.argsort(-v, axis=1, kind="stable")  # busiest first, earlier slot on ties
    sorted_v = np.take_along_axis(v, order, axis=1)
    total = v.sum(axis=1, keepdims=True)
    before = np.cumsum(sorted_v, axis=1) - sorted_v  # weight taken before each slot
    # take a slot while the share is not reached yet (relative tolerance for float sums)
    take = (before < share * total * (1 - 1e-12)) & (sorted_v > 0)
    mask = np.zeros_like(take)
    np.put_along_axis(mask, order, take, axis=1)
    return mask.reshape(np.shape(values))


def windows(mask: Sequence[bool] | np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive True slots in a cyclic mask, as ``(start, length)``.

    A run that wraps from the last slot to the first is one window starting in the last
    ones; windows are listed by start.
    """
    m = np.asarray(mask, dtype=bool)
    n = len(m)
    if not m.any():
        return []
    if m.all():
        return [(0, n)]
    # rotate so that slot 0 of the rotated mask starts a run (the slot before it is False)
    first_false = int(np.flatnonzero(~m)[0])
    rot = np.roll(m, -(first_false + 1))
    out = []
    i = 0
    while i < n:
        if rot[i]:
            j = i
            while j < n and rot[j]:
                j += 1
            out.append(((i + first_false + 1) % n, j - i))
            i = j
        else:
            i += 1
    return sorted(out)


def _hhmm(h: int) -> str:
    return f"{h % 24:02d}:00"


def format_windows(mask: Sequence[bool] | np.ndarray, *, lang: str = "es") -> str:
    """Peak windows as text: ``"18:00–22:00, 00:00–02:00"`` for a 24-slot mask, with the
    day for a 168-slot one: ``"vie 20:00–02:00, sáb 21:00–23:00"``.
    """
    m = np.asarray(mask, dtype=bool)
    days = DAY_ABBR[lang]
    parts = []
    for start, length in windows(m):
        end = start + length
        if len(m) != HOURS_PER_WEEK:
            text = f"{_hhmm(start)}–{_hhmm(end)}"
        elif length < 24:
            text = f"{days[start // 24]} {_hhmm(start)}–{_hhmm(end)}"
        else:  # a window of a day or more names the day it ends on too
            text = f"{days[start // 24]} {_hhmm(start)}–{days[(end % HOURS_PER_WEEK) // 24]} {_hhmm(end)}"
        parts.append(text)
    return ", ".join(parts)


@dataclass(frozen=True)
class PlaceProfiles:
    """Per place: the weekly profile (places × 168), the day profile (places × 24) and the
    peak hours holding ``share`` of each place's weighted incidents.
    """

    place_ids: pd.Index
    week: np.ndarray
    day: np.ndarray
    no_hour: np.ndarray
    share: float
    heaped: np.ndarray | None = None
    """Per place, the weight of records left out because their time is a heaped default (part of ``no_hour``)."""

    def peaks(self, lang: str = "es") -> pd.DataFrame:
        """Per place: peak hours of the day and of the week, how many, and the share they hold."""
        day_mask = peak_mask(self.day, self.share)
        week_mask = peak_mask(self.week, self.share)
        day_total = self.day.sum(axis=1)
        week_total = self.week.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            day_share = np.where(day_total > 0, (self.day * day_mask).sum(axis=1) / day_total, np.nan)
            week_share = np.where(week_total > 0, (self.week * week_mask).sum(axis=1) / week_total, np.nan)
        return pd.DataFrame(
            {
                "peak_hours": [format_windows(m, lang=lang) for m in day_mask],
                "peak_hours_n": day_mask.sum(axis=1),
                "peak_hours_share": day_share,
                "peak_week": [format_windows(m, lang=lang) for m in week_mask],
                "peak_week_n": week_mask.sum(axis=1),
                "peak_week_share": week_share,
                "no_hour": self.no_hour,
            },
            index=self.place_ids,
        )

    def long(self, lang: str = "es") -> pd.DataFrame:
        """The weekly profiles as a long table (non-zero slots only): place, weekday, hour, weight."""
        p, t = np.nonzero(self.week)
        return pd.DataFrame(
            {
                "place_id": self.place_ids.to_numpy()[p],
                "weekday": t // 24,
                "day": np.asarray(DAY_ABBR[lang])[t // 24],
                "hour": t % 24,
                "incidents": self.week[p, t],
            }
        )


def place_profiles(
    place: np.ndarray,
    weekday: np.ndarray,
    hour: np.ndarray,
    weight: np.ndarray,
    place_ids: pd.Index,
    *,
    share: float = 0.5,
    heaped: np.ndarray | None = None,
    keep_heaped: bool = False,
) -> PlaceProfiles:
    """Bin weighted incidents into per-place weekly and daily profiles.

    Parameters
    ----------
    place
        Position of each (incident, place) pair's place in ``place_ids``.
    weekday, hour
        Weekday (0 = Monday) and hour of each pair's incident, NaN where unknown.
    weight
        Weight of each pair (the record's count, times its harm when harm-weighted).
    share
        Share of weighted incidents the peak hours must hold.
    heaped
        True for pairs whose incident's time is a heaped default (the records'
        ``time_heaped`` column); None when nothing is heaped.
    keep_heaped
        Keep heaped times at their hour (00:00) instead of leaving them out as unknown.
    """
    if not 0 < share <= 1:
        raise ConfigError(f"peak share must be in (0, 1], got {share!r}")
    n = len(place_ids)
    place = np.asarray(place, dtype=np.int64)
    h = np.asarray(hour, dtype=float)
    d = np.asarray(weekday, dtype=float)
    w = np.asarray(weight, dtype=float)
    left_out = np.zeros(len(h), dtype=bool)
    if heaped is not None and not keep_heaped:
        left_out = np.asarray(heaped, dtype=bool) & ~np.isnan(h)
        h = np.where(left_out, np.nan, h)
    has_h = ~np.isnan(h)
    has_hd = has_h & ~np.isnan(d)
    day = np.bincount(place[has_h] * 24 + h[has_h].astype(np.int64), weights=w[has_h], minlength=n * 24).reshape(n, 24)
    slot = (d[has_hd] * 24 + h[has_hd]).astype(np.int64)
    week = np.bincount(place[has_hd] * HOURS_PER_WEEK + slot, weights=w[has_hd], minlength=n * HOURS_PER_WEEK).reshape(n, HOURS_PER_WEEK)
    no_hour = np.bincount(place[~has_h], weights=w[~has_h], minlength=n)
    heaped_weight = np.bincount(place[left_out], weights=w[left_out], minlength=n)
    return PlaceProfiles(place_ids=place_ids, week=week, day=day, no_hour=no_hour, share=float(share), heaped=heaped_weight)
