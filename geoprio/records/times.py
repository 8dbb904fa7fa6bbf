"""Times of records: the rule for UTC offsets, and heaping of times on a default value.

**Offsets** (:data:`OFFSETS_RULE`, the one rule every loader, config and example follows).
A timestamp that carries an offset (``2019-04-23T12:30:00Z``, ``…-05:00``) is read as ISO
8601 says: converted to local time in the source's ``timezone`` (``offsets="convert"``,
the default). A source whose export writes local wall-clock times with an offset label
(a "Z" that is not UTC) says so with ``offsets="drop"``: the offset is ignored and the time
kept as written. The data decide which reading is right: :func:`offsets_evidence` notes
in the load report when the times heap at a default 00:00 *as written*, or when converting
would move records into a year none of the written dates is in (an export filtered by
local dates). ``geoprio validate --offsets convert|drop`` shows either reading's report.

**Heaping** (:func:`detect_time_heaping`). Records whose time is unknown are often stored
at a default value, 00:00. The rule: with times to the minute, the records at exactly
00:00 are compared with the mean number at the other 23 on-the-hour times (01:00 …
23:00), so ordinary rounding to the hour does not count as heaping; with hours only, the
records in hour 0 are compared with the mean of the neighbouring hours 23 and 1 (the daily
cycle is smooth: a real night peak spans several hours). When the ratio reaches
:data:`HEAPING_RATIO` (2) and at least :data:`HEAPING_MIN_RECORDS` records sit at 00:00,
those records are *heaped*: the loaders flag them (``heaped_time``) and mark them in the
``time_heaped`` column, and hour profiles and peak windows leave them out unless asked to
keep them (:func:`geoprio.entornos.profiles.place_profiles`). Their dates still count.
The share of on-the-hour times (hh:00) is reported too; rounded times stay in the
profiles, since rounding moves a record by at most half an hour, while a default 00:00
stands for a time nobody knows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_OFFSETS",
    "HEAPING_MIN_RECORDS",
    "HEAPING_RATIO",
    "OFFSETS_RULE",
    "Offsets",
    "TimeHeaping",
    "detect_time_heaping",
    "heaped_mask",
    "offsets_evidence",
]

Offsets = Literal["convert", "drop"]

#: How offsets are read unless a source says otherwise (see the module docstring).
DEFAULT_OFFSETS: Offsets = "convert"

#: The rule, in words, for messages and the README.
OFFSETS_RULE = (
    "timestamps with an offset ('Z', '-05:00') are converted to local time in the source's timezone "
    "(offsets='convert', the default); a source that writes local times with an offset label says "
    "offsets='drop' and the time is kept as written. The load report notes the evidence that a file's "
    "offsets label local times (a default 00:00 heaping as written; conversion moving records out of "
    "the years the file covers)."
)

#: Records at 00:00 must be at least this many times the reference to count as heaped.
HEAPING_RATIO = 2.0
#: And at least this many records must sit at 00:00.
HEAPING_MIN_RECORDS = 10


@dataclass(frozen=True)
class TimeHeaping:
    """The heaping test of one column of times (see the module docstring).

    ``n_default`` records at 00:00 out of ``n_timed`` records with a time; ``reference``
    is the mean count the rule compares them with; ``ratio = n_default / reference``;
    ``on_the_hour_share`` the share of times at hh:00 (None with hours only).
    """

    resolution: Literal["minute", "hour"]
    n_timed: int
    n_default: int
    reference: float
    ratio: float
    heaped: bool
    on_the_hour_share: float | None

    @property
    def default_share(self) -> float:
        """Share of the timed records at the default time."""
        return self.n_default / self.n_timed if self.n_timed else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the report's settings (shares and ratio rounded to 4 decimals)."""
        d = asdict(self)
        d["default_time"] = "00:00"
        d["default_share"] = round(self.default_share, 4)
        d["reference"] = round(self.reference, 4)
        d["ratio"] = round(self.ratio, 4) if np.isfinite(self.ratio) else None
        if self.on_the_hour_share is not None:
            d["on_the_hour_share"] = round(self.on_the_hour_share, 4)
        return d


def detect_time_heaping(hour: np.ndarray, minute: np.ndarray | None = None) -> TimeHeaping | None:
    """Test a column of times for heaping at 00:00 (None when no record has a time).

    ``hour`` holds 0–23 (NaN unknown); ``minute`` 0–59 (NaN where not given). Minutes are
    used when any timed record has a minute other than 0.
    """
    h = np.asarray(hour, dtype=float)
    m = np.full(h.shape, np.nan) if minute is None else np.asarray(minute, dtype=float)
    timed = ~np.isnan(h)
    n_timed = int(timed.sum())
    if n_timed == 0:
        return None
    hours = h[timed].astype(np.int64)
    minutes = np.nan_to_num(m[timed], nan=0.0).astype(np.int64)
    by_minute = bool((minutes != 0).any())
    if by_minute:
        on_hour = minutes == 0
        per_hour = np.bincount(hours[on_hour], minlength=24)
        n_default = int(per_hour[0])
        reference = float(per_hour[1:].mean())
        share: float | None = float(on_hour.mean())
    else:
        per_hour = np.bincount(hours, minlength=24)
        n_default = int(per_hour[0])
        reference = float((per_hour[23] + per_hour[1]) / 2)
        share = None
    ratio = n_default / reference if reference > 0 else (float("inf") if n_default else 0.0)
    heaped = n_default >= HEAPING_MIN_RECORDS and ratio >= HEAPING_RATIO
    return TimeHeaping("minute" if by_minute else "hour", n_timed, n_default, reference, ratio, heaped, share)


def offsets_evidence(as_written: pd.Series, converted: pd.Series) -> dict[str, Any] | None:
    """Evidence that timestamps' offsets label local times, or None when there is none.

    ``as_written`` are the timestamps with the offset ignored, ``converted`` the same
    converted to local time. Two signs, either of which is enough:

    * ``heaping``: the times heap at 00:00 as written (:func:`detect_time_heaping`), a
      local default time; true UTC times of a local 00:00 would heap at 05:00;
    * ``years``: converting moves records into a calendar year none of the written dates
      is in (an export filtered by local dates: ``2010-01-01T02:00Z`` in a 2010–2019 file).

    Returns the kind and the values of its message, as plain data: ``share`` a fraction in
    [0, 1], ``ratio`` a number (None when not finite), ``n`` a count; formatted in the reader's
    language only when printed (:meth:`~geoprio.records.report.ValidationReport.summary`).
    """
    written = as_written.dropna()
    if written.empty:
        return None
    heaping = detect_time_heaping(written.dt.hour.to_numpy(dtype=float), written.dt.minute.to_numpy(dtype=float))
    if heaping is not None and heaping.heaped:
        ratio = float(heaping.ratio)
        return {"kind": "heaping", "share": float(heaping.default_share), "ratio": ratio if np.isfinite(ratio) else None}
    years = set(written.dt.year.unique())
    moved = converted.dropna()
    outside = moved[~moved.dt.year.isin(years)]
    if len(outside):
        i = outside.sort_values().index[0]
        return {
            "kind": "years",
            "n": int(len(outside)),
            "years": f"{min(years)}–{max(years)}",
            "example": str(as_written[i]),
            "moved": str(outside[i]),
        }
    return None


def heaped_mask(hour: np.ndarray, minute: np.ndarray | None, heaping: TimeHeaping | None) -> np.ndarray:
    """Records at the default time when the column is heaped (all False otherwise)."""
    h = np.asarray(hour, dtype=float)
    if heaping is None or not heaping.heaped:
        return np.zeros(h.shape, dtype=bool)
    at_zero = h == 0
    if heaping.resolution == "minute" and minute is not None:
        at_zero &= np.nan_to_num(np.asarray(minute, dtype=float), nan=0.0) == 0
    return at_zero
