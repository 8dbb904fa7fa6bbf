"""The numeric core of the seguimiento: progress of one indicator against its targets.

Pure arithmetic on numbers and mappings: no files, no zones, no words (notes are codes, see
:mod:`geoprio.seguimiento.notes`). It follows Bogotá's SEGPLAN conventions for the four trend
types (*tipos de anualización*). With ``A_t`` the value observed in year ``t``, ``T_t`` the
target programmed for ``t`` and ``B`` the baseline:

* **suma** (cumulative): yearly amounts add up to the plan's total.
  ``progress_t = Σ_{y≤t} A_y / Σ_{y≤t} T_y`` over the years from the first programmed year to
  ``t`` (``Σ T / Σ A`` when lower is better); ``progress_plan_total = Σ_{y≤t} A_y / Σ_all T``
  (higher is better only). A year inside that span without a target adds its actual but no
  target; a year without data leaves the cumulative progress undefined.
* **creciente**: ``(A_t − B) / (T_t − B)``.
* **decreciente**: ``(B − A_t) / (B − T_t)``.
* **constante**: attainment, ``A_t / T_t`` (higher is better) or ``T_t / A_t`` (lower is better).

Edge cases: a target equal to the baseline (the level formulas divide by zero) or on the
wrong side of it (a *decreciente* target above the baseline) falls back to attainment, with
a note; a year without data or without a target has no progress, with a note; an actual
of 0 when lower is better is the best possible level: capped progress 1, uncapped
undefined (``T/0``). **Capped** progress is clipped to [0, 1]; **uncapped** is the raw value.
A partial year (year to date) is compared with its target prorated by the months observed,
``T_t · m/12``, which is the same as comparing the annualized actual ``A_t · 12/m`` with
``T_t`` (for counts and rates; a share is compared as it is).

Weighted progress of an objective is ``Σ w_i p_i / Σ w_i`` over its indicators with a
defined (capped) progress; the plan's is the same over objectives (:func:`weighted_progress`).
:func:`decompose_change` splits a city value's change into zone parts so analysts see where
a city target is won or lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from geoprio.seguimiento.notes import Note

__all__ = [
    "Direction",
    "Trend",
    "YearProgress",
    "attainment",
    "capped",
    "decompose_change",
    "level_progress",
    "progress_series",
    "weighted_progress",
]

#: The trend types (*tipos de anualización*) of a plan indicator.
Trend = Literal["suma", "creciente", "decreciente", "constante"]
#: Whether lower or higher values of an indicator are better.
Direction = Literal["lower_is_better", "higher_is_better"]


def capped(value: float | None) -> float | None:
    """``value`` clipped to [0, 1] (None stays None)."""
    if value is None or math.isnan(value):
        return None
    return min(max(value, 0.0), 1.0)


def attainment(
    actual: float, target: float, *, direction: Direction, year: int | None = None
) -> tuple[float | None, float | None, list[Note]]:
    """Attainment ``A/T`` (higher is better) or ``T/A`` (lower is better).

    Returns ``(uncapped, capped, notes)``. When the ratio divides by zero with the target
    met (``A = 0`` lower is better, ``T = 0`` higher is better) the capped progress is 1 and
    the uncapped one undefined; ``A = T = 0`` is exactly 1.
    """
    if actual < 0 or target < 0:
        raise ValueError(f"attainment needs non-negative values; got actual {actual}, target {target}")
    if direction == "lower_is_better":
        if actual > 0:
            p = target / actual
            return p, capped(p), []
        return (1.0, 1.0, []) if target == 0 else (None, 1.0, [Note("zero_actual", year)])
    if target > 0:
        p = actual / target
        return p, capped(p), []
    return (1.0, 1.0, []) if actual == 0 else (None, 1.0, [Note("zero_target", year)])


def level_progress(
    actual: float | None,
    target: float | None,
    baseline: float | None,
    *,
    trend: Literal["creciente", "decreciente", "constante"],
    direction: Direction,
    year: int | None = None,
) -> tuple[float | None, float | None, list[Note]]:
    """Progress of one year for a level trend; ``(uncapped, capped, notes)``.

    ``creciente``: ``(A − B)/(T − B)``; ``decreciente``: ``(B − A)/(B − T)``;
    ``constante``: :func:`attainment`. A target equal to the baseline or on the wrong side
    of it falls back to attainment with a note.
    """
    if actual is None or math.isnan(actual):
        return None, None, [Note("no_data", year)]
    if target is None or math.isnan(target):
        return None, None, [Note("no_target", year)]
    if trend == "constante":
        return attainment(actual, target, direction=direction, year=year)
    if baseline is None or math.isnan(baseline):
        return None, None, [Note("no_baseline", year, {"trend": trend})]
    up = trend == "creciente"
    gap = (target - baseline) if up else (baseline - target)
    formula = "T/A" if direction == "lower_is_better" else "A/T"
    if math.isclose(gap, 0.0, rel_tol=1e-12, abs_tol=1e-12):
        p, c, notes = attainment(actual, target, direction=direction, year=year)
        return p, c, [Note("target_equals_baseline", year, {"target": float(target), "formula": formula}), *notes]
    if gap < 0:
        p, c, notes = attainment(actual, target, direction=direction, year=year)
        side = "above" if up else "below"
        note = Note("target_wrong_side", year, {"target": float(target), "baseline": float(baseline), "formula": formula, "side": side})
        return p, c, [note, *notes]
    p = (actual - baseline) / gap if up else (baseline - actual) / gap
    return p, capped(p), []


@dataclass(frozen=True)
class YearProgress:
    """One year of an indicator's series.

    ``actual`` is the value observed (year to date when ``fraction < 1``);
    ``actual_annualized`` is ``actual / fraction``; ``target_to_date`` is ``target ·
    fraction``. The cumulative fields are filled for the *suma* trend only.
    """

    year: int
    actual: float | None
    target: float | None
    fraction: float = 1.0
    actual_annualized: float | None = None
    target_to_date: float | None = None
    progress: float | None = None
    progress_capped: float | None = None
    cumulative_actual: float | None = None
    cumulative_target: float | None = None
    plan_total_target: float | None = None
    progress_plan_total: float | None = None
    notes: tuple[Note, ...] = ()


def _clean(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def progress_series(
    actual: Mapping[int, float | None],
    targets: Mapping[int, float],
    *,
    trend: Trend,
    direction: Direction,
    baseline: float | None = None,
    fraction: Mapping[int, float] | None = None,
    years: Iterable[int] | None = None,
) -> list[YearProgress]:
    """Progress per year of one indicator in one place (the city or a zone).

    Parameters
    ----------
    actual
        Year → observed value (None or missing = no data). For a partial year, the year
        to date.
    targets
        Year → programmed target (the program; a year absent here has no target).
    trend, direction
        The trend type and whether lower or higher values are better.
    baseline
        Needed by *creciente* and *decreciente*.
    fraction
        Year → share of the year observed (``months / 12``) for years to date of additive
        units (counts, rates); 1 (the default) for complete years and for shares.
    years
        Years to report; default: every year in ``actual`` or ``targets``.
    """
    fraction = fraction or {}
    if any(not (0 < f <= 1) for f in fraction.values()):
        raise ValueError(f"fractions of a year must be in (0, 1]; got {dict(fraction)}")
    ys = sorted(set(years) if years is not None else set(actual) | set(targets))
    program = sorted(targets)
    first, last = (program[0], program[-1]) if program else (None, None)
    out = []
    for y in ys:
        a = _clean(actual.get(y))
        f = float(fraction.get(y, 1.0))
        t = _clean(targets.get(y))
        a_eff = None if a is None else a / f
        t_date = None if t is None else t * f
        in_span = first is not None and last is not None and first <= y <= last
        if trend == "suma":
            out.append(_suma_year(y, a, a_eff, t, t_date, f, actual, targets, fraction, direction, first, in_span))
            continue
        if first is None or y < first:
            notes: list[Note] = []
            p = c = None
        else:
            p, c, notes = level_progress(a_eff, t, baseline, trend=trend, direction=direction, year=y)
            if t is None and not in_span:
                notes = []
        out.append(YearProgress(y, a, t, f, a_eff, t_date, p, c, notes=tuple(notes)))
    return out


def _suma_year(
    y: int,
    a: float | None,
    a_eff: float | None,
    t: float | None,
    t_date: float | None,
    f: float,
    actual: Mapping[int, float | None],
    targets: Mapping[int, float],
    fraction: Mapping[int, float],
    direction: Direction,
    first: int | None,
    in_span: bool,
) -> YearProgress:
    if first is None or y < first:
        return YearProgress(y, a, t, f, a_eff, t_date)
    span = range(first, y + 1)
    missing = [s for s in span if _clean(actual.get(s)) is None]
    total = float(sum(targets.values()))
    notes: list[Note] = []
    cum_t = float(sum(targets[s] * float(fraction.get(s, 1.0)) for s in span if s in targets))
    if missing:
        if y in missing:
            notes.append(Note("no_data", y))
        others = [s for s in missing if s != y]
        if others:
            notes.append(Note("suma_missing_actual", y, {"years": ", ".join(map(str, others))}))
        if t is None:
            notes.append(Note("suma_without_target", y) if in_span else Note("no_target", y))
        return YearProgress(y, a, t, f, a_eff, t_date, cumulative_target=cum_t, plan_total_target=total, notes=tuple(notes))
    observed = [_clean(actual.get(s)) for s in span]
    cum_a = float(sum(v for v in observed if v is not None))
    p = c = None
    if t is None:
        notes.append(Note("suma_without_target", y) if in_span else Note("no_target", y))
    else:
        p, c, more = attainment(cum_a, cum_t, direction=direction, year=y)
        notes += more
    plan_total = cum_a / total if direction == "higher_is_better" and total > 0 else None
    return YearProgress(y, a, t, f, a_eff, t_date, p, c, cum_a, cum_t, total, plan_total, tuple(notes))


def weighted_progress(values: Sequence[float | None], weights: Sequence[float]) -> float | None:
    """``Σ w p / Σ w`` over the entries whose progress is defined (None if none, or Σ w = 0)."""
    if len(values) != len(weights):
        raise ValueError(f"{len(values)} progress values but {len(weights)} weights")
    pairs = [(float(v), float(w)) for v, w in zip(values, weights, strict=True) if v is not None and not math.isnan(v)]
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return None
    return sum(v * w for v, w in pairs) / total


def decompose_change(
    parts_base: pd.Series,
    parts_year: pd.Series,
    *,
    target: float,
    direction: Direction,
    cumulative: bool = False,
) -> pd.DataFrame:
    """Split a city value's change between zones, and its gap to the target.

    ``parts_base`` and ``parts_year`` are each zone's additive part of the city value in
    the baseline year and in the year (for a rate, ``per · n_zone / population_city``; for
    a count, the zone's count; for a share, ``100 · n_zone / denominator_city``), so that
    their sums are the city values ``B`` and ``A``. Returns per zone:

    * ``change`` = part in the year − part in the baseline year (sums to ``A − B``); with
      ``cumulative=True`` (the *suma* trend) the year's part itself (sums to ``A``);
    * ``share_of_change`` = change / Σ change (undefined when Σ change is 0);
    * ``expected`` = the zone's baseline share ``part_base / B`` times the city's planned
      change ``T − B`` (cumulative: times ``T``): its part of the plan if every zone moved in
      proportion;
    * ``shortfall`` = ``s · (change − expected)`` with ``s = +1`` when lower is better and
      ``−1`` otherwise; the shortfalls add up to the city's shortfall ``s · (A − T)``
      (positive when the target is missed), so the largest ones say where it is lost;
    * ``share_of_shortfall`` = shortfall / Σ shortfall when the city misses its target.
    """
    base = parts_base.astype(float)
    year = parts_year.reindex(base.index).astype(float)
    b_total = float(base.sum())
    change = year if cumulative else year - base
    total_change = float(change.sum())
    share = base / b_total if b_total != 0 else pd.Series(np.nan, index=base.index)
    planned = target if cumulative else target - b_total
    expected = share * planned
    sign = 1.0 if direction == "lower_is_better" else -1.0
    shortfall = sign * (change - expected)
    total_short = float(shortfall.sum())
    return pd.DataFrame(
        {
            "change": change,
            "share_of_change": change / total_change if not math.isclose(total_change, 0.0, abs_tol=1e-12) else np.nan,
            "expected": expected,
            "shortfall": shortfall,
            "share_of_shortfall": shortfall / total_short if total_short > 1e-12 else np.nan,
        },
        index=base.index,
    )
