"""Plan de despliegue: assign teams to (place, weekly time window) pairs to cover the most weighted incidents.

Input is a ``(places, 168)`` array of weighted incidents per weekly hour slot
``t = 24 * weekday + hour`` (weekday 0 = Monday). The week is cyclic: the plan repeats every
week, so slot 168 is slot 0 and a Sunday night shift runs into Monday morning.

A *shift* is a place ``p``, a working day ``d`` and a start hour ``s``; it covers the
``shift_hours`` slots from ``24 d + s`` (modulo 168, past midnight if need be). With ``teams``
teams the chosen shifts must satisfy

1. at most one team at a place at any slot,
2. at most ``teams`` shifts start on each day (each team works at most one shift a day),
3. at most ``teams`` shifts are active at any slot,

and maximize the weighted incidents covered. The model is a MILP solved exactly with HiGHS
(:func:`scipy.optimize.milp`): one binary per shift, one row per (place, slot) covered by two
or more candidate shifts (an interval clique), one per slot and one per day. Two exact
reductions keep it small: shifts that cover nothing are dropped, and for each (day, start
hour) only the ``2 * teams - 1`` places of highest value are kept (an optimal plan using a
lower place can swap it for one of those: at most ``2 * teams - 2`` other chosen shifts meet
its window, so one of the kept places is free then, and the swap changes neither the day nor
the slot counts).

Teams are then named without search: on each working day the shifts, plus one idle
placeholder shift at hour ``shift_hours - 1`` per unused team, are sorted by start and team
``k`` takes the ``k``-th. All shifts (and placeholders) have the same length, so a day's order
by start is also its order by end, the rank-``k`` shifts of consecutive days chain, and
constraints 2 and 3 are exactly Hall's condition for that to be feasible (a shift of day
``d`` still running at hour ``h`` of day ``d + 1`` means ``h < shift_hours - 1``, so every
shift of ``d + 1`` that has started by ``h`` is still running at ``h``). The rank rule also
closes the week: Sunday's rank-``k`` shift chains into Monday's rank-``k`` shift, which a
day-by-day matching with arbitrary choices does not guarantee. :func:`check_schedule`
verifies the result anyway.

The time budget ``time_limit_s`` covers the whole call: HiGHS gets what model building left
of it. When HiGHS stops before finding any plan, a greedy plan (shifts by value, kept while
the three rules hold) is returned instead, and :attr:`DeploymentPlan.method` says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from geoprio.errors import ConfigError, InputError
from geoprio.labels import LANGS, label

__all__ = [
    "DAY_NAMES",
    "SLOTS_PER_WEEK",
    "DeploymentPlan",
    "ScheduleError",
    "assign_teams",
    "check_schedule",
    "format_window",
    "plan_deployment",
]

#: Hourly slots in the (cyclic) week.
SLOTS_PER_WEEK = 168
MAX_SHIFT_HOURS = 12

#: The least time HiGHS is given when model building has used up the budget.
MIN_SOLVE_SECONDS = 0.01

#: Weekday names per language, index 0 = Monday (from the ``entornos`` label topic).
DAY_NAMES: dict[str, list[str]] = {lang: [label("entornos", f"day_{d}", lang) for d in range(7)] for lang in LANGS}

_STATUS = {0: "optimal", 1: "time_limit", 2: "infeasible", 3: "unbounded", 4: "error"}
_COLUMNS = ["team", "place", "place_index", "day", "start_hour", "end_hour", "start_slot", "value", "share"]


class ScheduleError(InputError):
    """Teams could not be given a valid weekly schedule for the chosen shifts (should not happen)."""


def format_window(day: int, start_hour: int, shift_hours: int, lang: str = "es") -> str:
    """Human label of a shift window, e.g. ``"viernes 20:00–04:00"``.

    Parameters
    ----------
    day : int
        Weekday 0-6 (0 = Monday) on which the shift starts.
    start_hour : int
        Start hour 0-23.
    shift_hours : int
        Shift length in hours; the end hour wraps past midnight.
    lang : str
        ``"es"`` (default) or ``"en"``.

    Returns
    -------
    str
        Day name, start and end time.
    """
    if lang not in DAY_NAMES:
        raise ConfigError(f"lang must be 'es' or 'en', got {lang!r}")
    d, h, n = _whole(day), _whole(start_hour), _whole(shift_hours)
    if d is None or not 0 <= d <= 6:
        raise ConfigError(f"day must be a weekday 0-6 (0 = Monday), got {_plain(day)!r}")
    if h is None or not 0 <= h <= 23:
        raise ConfigError(f"start_hour must be an hour 0-23, got {_plain(start_hour)!r}")
    if n is None or n < 1:
        raise ConfigError(f"shift_hours must be a positive integer, got {_plain(shift_hours)!r}")
    return f"{DAY_NAMES[lang][d]} {h:02d}:00–{(h + n) % 24:02d}:00"


@dataclass(frozen=True)
class DeploymentPlan:
    """A weekly deployment plan and how well it covers the weighted incidents.

    Attributes
    ----------
    shifts : pandas.DataFrame
        One row per shift, in weekly order (day, start hour, team): ``team`` (1-based),
        ``place`` (row index of ``values`` or the given place id), ``place_index`` (row index of
        ``values``), ``day`` (0-6, 0 = Monday), ``start_hour``, ``end_hour``
        (``(start_hour + shift_hours) % 24``), ``start_slot`` (``24 * day + start_hour``),
        ``value`` (weighted incidents covered) and ``share`` (``value / total``).
    covered : float
        Weighted incidents covered by all shifts.
    total : float
        Weighted incidents in the input (``values.sum()``).
    share : float
        ``covered / total`` (0 when ``total`` is 0).
    objective_bound : float
        HiGHS's dual bound: no plan covers more (``>= covered``).
    gap : float
        ``(objective_bound - covered) / objective_bound`` (0 when the bound is 0).
    status : str
        ``"optimal"`` (within ``mip_rel_gap``), ``"time_limit"`` or another HiGHS outcome.
    solve_seconds : float
        Wall time of the HiGHS solve.
    teams : int
        Teams available.
    shift_hours : int
        Shift length in hours.
    days : tuple of int
        Working weekdays.
    n_candidates : int
        Shift columns in the model after the exact reductions.
    method : str
        ``"milp"`` (HiGHS's plan) or ``"greedy"`` (HiGHS stopped before finding any plan, so
        the shifts are a greedy fallback; ``status`` says why HiGHS stopped).
    """

    shifts: pd.DataFrame
    covered: float
    total: float
    share: float
    objective_bound: float
    gap: float
    status: str
    solve_seconds: float
    teams: int
    shift_hours: int
    days: tuple[int, ...]
    n_candidates: int
    method: str = "milp"

    def by_team(self) -> pd.DataFrame:
        """Schedule per team: the shifts sorted by team, day and start hour."""
        return self.shifts.sort_values(["team", "day", "start_hour"], kind="stable").reset_index(drop=True)

    def by_place(self) -> pd.DataFrame:
        """Schedule per place: the shifts sorted by place (input order), day and start hour."""
        return self.shifts.sort_values(["place_index", "day", "start_hour"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- validation


def _is_int(x: Any) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python value (for messages)."""
    return x.item() if isinstance(x, np.generic) else x


def _whole(x: Any) -> int | None:
    """``x`` as an int if it is a whole number (a table cell may hold 4.0), else None."""
    if _is_int(x):
        return int(x)
    if isinstance(x, Real) and not isinstance(x, bool):
        f = float(x)
        if math.isfinite(f) and f.is_integer():
            return int(f)
    return None


def _int_set(name: str, seq: Any, lo: int, hi: int, what: str) -> tuple[int, ...]:
    try:
        items = list(seq)
    except TypeError:
        raise ConfigError(f"{name} must be a sequence of {what} {lo}-{hi}, got {seq!r}") from None
    if not items:
        raise ConfigError(f"{name} is empty: give at least one {what} {lo}-{hi}")
    bad = [x for x in items if not _is_int(x) or not lo <= int(x) <= hi]
    if bad:
        raise ConfigError(f"{name} must be {what}s {lo}-{hi}, got {bad}")
    vals = [int(x) for x in items]
    dup = sorted({x for x in vals if vals.count(x) > 1})
    if dup:
        raise ConfigError(f"{name} has duplicated values {dup}: give each {what} once")
    return tuple(sorted(vals))


def _check_values(values: ArrayLike) -> np.ndarray:
    try:
        v = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError("values must be a numeric array of shape (places, 168) of weighted incidents per weekly hour slot") from None
    if v.ndim != 2 or v.shape[1] != SLOTS_PER_WEEK:
        raise InputError(f"values must be a 2-D array of shape (places, 168) (one column per weekly hour slot), got shape {v.shape}")
    if v.shape[0] == 0:
        raise InputError("values has no places (shape (0, 168)): give at least one place row")
    if not np.isfinite(v).all():
        r, c = np.argwhere(~np.isfinite(v))[0]
        raise InputError(f"values must be finite, got {v[r, c]} at place row {r}, slot {c}")
    if (v < 0).any():
        r, c = np.argwhere(v < 0)[0]
        raise InputError(f"values must be non-negative weighted incidents, got {v[r, c]} at place row {r}, slot {c}")
    return v


# --------------------------------------------------------------------------- model


def _window_sums(v: np.ndarray, shift_hours: int) -> np.ndarray:
    """``W[p, t]``: weighted incidents of place ``p`` in the slots ``t .. t + shift_hours - 1`` (cyclic)."""
    W = v.copy()
    for k in range(1, shift_hours):
        W += np.roll(v, -k, axis=1)
    return W


def _candidates(
    v: np.ndarray, *, teams: int, shift_hours: int, days: tuple[int, ...], starts: tuple[int, ...], prune: bool = True
) -> tuple[np.ndarray, ...]:
    """Candidate shifts (place, start slot, value) after dropping zero and (``prune``) dominated columns."""
    P = v.shape[0]
    slots = np.array([24 * d + s for d in days for s in starts], dtype=np.int64)
    W = _window_sums(v, shift_hours)[:, slots]  # (P, n_slots)
    keep = min(P, 2 * teams - 1) if prune else P
    order = np.argsort(-W, axis=0, kind="stable")[:keep]  # best places per start slot
    place = order.ravel(order="F")
    slot = np.repeat(slots, keep)
    value = W[order, np.arange(len(slots))[None, :]].ravel(order="F")
    nz = value > 0
    return place[nz], slot[nz], value[nz]


def _cover_rows(key: np.ndarray, slot: np.ndarray, shift_hours: int, n_rows: int, min_count: int) -> sp.csr_matrix | None:
    """Rows ``key * 168 + covered slot`` of the columns, kept where more than ``min_count`` columns meet."""
    n = len(slot)
    offs = np.arange(shift_hours)
    cols = np.repeat(np.arange(n), shift_hours)
    rows = key.repeat(shift_hours) * SLOTS_PER_WEEK + (slot[:, None] + offs[None, :]).ravel() % SLOTS_PER_WEEK
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n))
    A = A[np.flatnonzero(np.diff(A.indptr) > min_count)]
    return A if A.shape[0] else None


def _greedy(place: np.ndarray, slot: np.ndarray, value: np.ndarray, *, teams: int, shift_hours: int) -> np.ndarray:
    """A feasible plan by value (fallback when HiGHS stops before finding one)."""
    busy: dict[int, np.ndarray] = {}
    load = np.zeros(SLOTS_PER_WEEK, dtype=np.int64)
    per_day = np.zeros(7, dtype=np.int64)
    chosen = []
    for j in np.argsort(-value, kind="stable"):
        cov = (slot[j] + np.arange(shift_hours)) % SLOTS_PER_WEEK
        occ = busy.setdefault(int(place[j]), np.zeros(SLOTS_PER_WEEK, dtype=bool))
        d = int(slot[j]) // 24
        if occ[cov].any() or (load[cov] >= teams).any() or per_day[d] >= teams:
            continue
        occ[cov] = True
        load[cov] += 1
        per_day[d] += 1
        chosen.append(j)
    return np.array(sorted(chosen), dtype=np.int64)


def _solve(
    place: np.ndarray,
    slot: np.ndarray,
    value: np.ndarray,
    *,
    n_places: int,
    teams: int,
    shift_hours: int,
    deadline: float,
    mip_rel_gap: float,
) -> tuple[np.ndarray, float | None, str, float, str]:
    """HiGHS on the shift model, stopped at ``deadline`` (a :func:`time.perf_counter` value):
    chosen columns, dual bound (maximization), status, seconds and method (``"milp"``, or
    ``"greedy"`` when HiGHS stopped before finding a plan).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(value)
    constraints = []
    per_place = _cover_rows(place, slot, shift_hours, n_places * SLOTS_PER_WEEK, 1)
    if per_place is not None:
        constraints.append(LinearConstraint(per_place, -np.inf, 1.0))
    per_slot = _cover_rows(np.zeros(n, dtype=np.int64), slot, shift_hours, SLOTS_PER_WEEK, teams)
    if per_slot is not None:
        constraints.append(LinearConstraint(per_slot, -np.inf, float(teams)))
    day = slot // 24
    per_day = sp.csr_matrix((np.ones(n), (day, np.arange(n))), shape=(7, n))
    per_day = per_day[np.flatnonzero(np.diff(per_day.indptr) > teams)]
    if per_day.shape[0]:
        constraints.append(LinearConstraint(per_day, -np.inf, float(teams)))
    t0 = time.perf_counter()
    time_limit = max(deadline - t0, MIN_SOLVE_SECONDS)
    res = milp(
        -value,
        integrality=np.ones(n),
        bounds=Bounds(0.0, 1.0),
        constraints=constraints,
        options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap), "disp": False},
    )
    secs = time.perf_counter() - t0
    status = _STATUS.get(int(res.status), "error")
    bound_raw = getattr(res, "mip_dual_bound", None)
    bound = -float(bound_raw) if bound_raw is not None and np.isfinite(bound_raw) else None
    if res.x is None:
        return _greedy(place, slot, value, teams=teams, shift_hours=shift_hours), bound, status, secs, "greedy"
    return np.flatnonzero(res.x > 0.5), bound, status, secs, "milp"


# --------------------------------------------------------------------------- teams


def assign_teams(start_slot: ArrayLike, *, teams: int, shift_hours: int, place: ArrayLike | None = None) -> np.ndarray:
    """Give each shift a team (1-based) so that every team has a valid weekly schedule.

    On each day the shifts and one idle placeholder per unused team (starting at hour
    ``shift_hours - 1``, which overlaps no shift of the day before or after) are sorted by
    start, ties by place then input order; team ``k`` takes the ``k``-th. See the module
    docstring for why this is valid whenever the shifts satisfy the day and slot limits.

    Parameters
    ----------
    start_slot : array_like of int
        Weekly start slot ``24 * day + hour`` of each shift.
    teams : int
        Teams available.
    shift_hours : int
        Shift length (1-12).
    place : array_like of int, optional
        Place index of each shift (tie-break only).

    Returns
    -------
    numpy.ndarray
        Team number (1..teams) of each shift.

    Raises
    ------
    ScheduleError
        If a day has more than ``teams`` shifts.
    """
    start = np.asarray(start_slot, dtype=np.int64)
    tie = np.zeros(len(start), dtype=np.int64) if place is None else np.asarray(place, dtype=np.int64)
    team = np.zeros(len(start), dtype=np.int64)
    idle_hour = shift_hours - 1
    for d in range(7):
        idx = np.flatnonzero(start // 24 == d)
        if len(idx) > teams:
            raise ScheduleError(f"{len(idx)} shifts start on day {d} but there are only teams={teams}: one shift per team per day")
        if not len(idx):
            continue
        n_idle = teams - len(idx)
        hours = np.concatenate([start[idx] % 24, np.full(n_idle, idle_hour)])
        # placeholders sort after real shifts that start at the same hour
        ties = np.concatenate([tie[idx], np.full(n_idle, np.iinfo(np.int64).max)])
        pos = np.concatenate([np.arange(len(idx)), np.full(n_idle, len(idx))])
        rank = np.lexsort((pos, ties, hours))
        team_of = np.empty(teams, dtype=np.int64)
        team_of[rank] = np.arange(1, teams + 1)
        team[idx] = team_of[: len(idx)]
    return team


def check_schedule(shifts: pd.DataFrame, *, teams: int, shift_hours: int) -> list[str]:
    """Every way a schedule breaks the deployment rules (an empty list when it is valid).

    Checks: teams numbered 1..teams; each team at most one shift per day and never two at
    once; at most one team at a place at any slot; at most ``teams`` shifts per day and active
    at any slot (all cyclic over the week).

    Parameters
    ----------
    shifts : pandas.DataFrame
        With columns ``team``, ``place`` and ``start_slot`` (as in :attr:`DeploymentPlan.shifts`).
    teams : int
        Teams available.
    shift_hours : int
        Shift length.

    Returns
    -------
    list of str
        Problems found.
    """
    problems: list[str] = []
    if shifts.empty:
        return problems
    team = shifts["team"].to_numpy(dtype=np.int64)
    start = shifts["start_slot"].to_numpy(dtype=np.int64)
    place_code, _ = pd.factorize(shifts["place"])
    bad = np.flatnonzero((team < 1) | (team > teams))
    if len(bad):
        problems.append(f"team numbers outside 1..{teams}: {sorted(set(team[bad].tolist()))}")
        return problems
    cov = (start[:, None] + np.arange(shift_hours)[None, :]) % SLOTS_PER_WEEK  # (n, L)
    day = start // 24

    def occupancy(key: np.ndarray, n_keys: int) -> np.ndarray:
        occ = np.zeros((n_keys, SLOTS_PER_WEEK), dtype=np.int64)
        np.add.at(occ, (np.repeat(key, shift_hours), cov.ravel()), 1)
        return occ

    for k, t in np.argwhere(occupancy(team - 1, teams) > 1)[:5]:
        problems.append(f"team {k + 1} has two shifts at slot {t}")
    per_team_day = np.zeros((teams, 7), dtype=np.int64)
    np.add.at(per_team_day, (team - 1, day), 1)
    for k, d in np.argwhere(per_team_day > 1)[:5]:
        problems.append(f"team {k + 1} has {per_team_day[k, d]} shifts on day {d}")
    occ_place = occupancy(place_code, int(place_code.max()) + 1)
    for p, t in np.argwhere(occ_place > 1)[:5]:
        problems.append(
            f"place {_plain(shifts['place'].iloc[np.flatnonzero(place_code == p)[0]])!r} has {occ_place[p, t]} teams at slot {t}"
        )
    load = occupancy(np.zeros(len(start), dtype=np.int64), 1)[0]
    for t in np.flatnonzero(load > teams)[:5]:
        problems.append(f"{load[t]} shifts active at slot {t} but only {teams} teams")
    per_day = np.bincount(day, minlength=7)
    for d in np.flatnonzero(per_day > teams):
        problems.append(f"{per_day[d]} shifts start on day {d} but only {teams} teams")
    return problems


# --------------------------------------------------------------------------- entry point


def plan_deployment(
    values: ArrayLike,
    *,
    teams: int,
    shift_hours: int,
    days: Sequence[int] = range(7),
    start_hours: Sequence[int] | None = None,
    place_ids: Sequence | None = None,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-6,
    prune: bool = True,
) -> DeploymentPlan:
    """Weekly plan of team shifts that covers the most weighted incidents (exact MILP, HiGHS).

    Parameters
    ----------
    values : array_like, shape (places, 168)
        Weighted incidents of each place per weekly hour slot ``24 * weekday + hour``
        (weekday 0 = Monday); non-negative and finite. Not modified.
    teams : int
        Teams available (1 to the number of places).
    shift_hours : int
        Shift length in hours, 1-12.
    days : sequence of int
        Weekdays (0 = Monday) on which teams start shifts; all seven by default.
    start_hours : sequence of int, optional
        Allowed start hours 0-23 (default: every hour).
    place_ids : sequence, optional
        An id per row of ``values`` to report instead of the row index.
    time_limit_s : float
        Wall-time budget of the call in seconds: building the model counts against it and
        HiGHS gets what remains as its time limit. HiGHS checks its limit between search
        steps, so it may overrun it slightly (there is no hard stop from outside).
    mip_rel_gap : float
        Relative gap at which HiGHS stops and reports ``"optimal"``.
    prune : bool
        Keep only the ``2 · teams − 1`` best places per (day, start hour), an exact reduction
        (see the module docstring); ``False`` solves the full model (for checking).

    Returns
    -------
    DeploymentPlan
        The shifts with their teams, the share covered and the solver's bound and status.

    Raises
    ------
    InputError
        Bad ``values`` or ``place_ids``.
    ConfigError
        Bad ``teams`` (including more teams than places), ``shift_hours``, ``days``,
        ``start_hours``, ``time_limit_s`` or ``mip_rel_gap``.
    """
    started = time.perf_counter()
    v = _check_values(values)
    P = v.shape[0]
    if not _is_int(teams) or int(teams) < 1:
        raise ConfigError(f"teams must be an integer >= 1, got {teams!r}")
    teams = int(teams)
    if teams > P:
        raise ConfigError(
            f"teams={teams} but there are only {P} places (teams > places): at most one team can be at a place at a time, "
            f"so more teams than places cannot all be used at once; use teams <= {P}"
        )
    if not _is_int(shift_hours) or not 1 <= int(shift_hours) <= MAX_SHIFT_HOURS:
        raise ConfigError(f"shift_hours must be an integer from 1 to {MAX_SHIFT_HOURS}, got {shift_hours!r}")
    shift_hours = int(shift_hours)
    days_t = _int_set("days", days, 0, 6, "weekday (0 = Monday)")
    starts_t = _int_set("start_hours", range(24) if start_hours is None else start_hours, 0, 23, "hour")
    if place_ids is not None:
        ids = list(place_ids)
        if len(ids) != P:
            raise InputError(f"place_ids has {len(ids)} ids but values has {P} place rows")
        if len(set(map(repr, ids))) != P:
            raise InputError("place_ids has duplicated ids: give each place a distinct id")
    else:
        ids = list(range(P))
    if not isinstance(time_limit_s, Real) or isinstance(time_limit_s, bool) or not np.isfinite(time_limit_s) or time_limit_s <= 0:
        raise ConfigError(f"time_limit_s must be a positive number of seconds, got {time_limit_s!r}")
    if not isinstance(mip_rel_gap, Real) or isinstance(mip_rel_gap, bool) or not np.isfinite(mip_rel_gap) or mip_rel_gap < 0:
        raise ConfigError(f"mip_rel_gap must be >= 0, got {mip_rel_gap!r}")

    total = float(v.sum())
    place, slot, value = _candidates(v, teams=teams, shift_hours=shift_hours, days=days_t, starts=starts_t, prune=prune)
    n_candidates = len(value)
    if n_candidates:
        chosen, bound, status, secs, method = _solve(
            place,
            slot,
            value,
            n_places=P,
            teams=teams,
            shift_hours=shift_hours,
            deadline=started + float(time_limit_s),
            mip_rel_gap=mip_rel_gap,
        )
    else:
        chosen, bound, status, secs, method = np.zeros(0, dtype=np.int64), 0.0, "optimal", 0.0, "milp"
    place, slot, value = place[chosen], slot[chosen], value[chosen]
    covered = float(value.sum())
    if bound is None:
        bound = covered if status == "optimal" else total
    bound = max(float(bound), covered)
    gap = (bound - covered) / bound if bound > 0 else 0.0

    team = assign_teams(slot, teams=teams, shift_hours=shift_hours, place=place)
    shifts = pd.DataFrame(
        {
            "team": team,
            "place": pd.Series([ids[i] for i in place], dtype=object if place_ids is not None else np.int64),
            "place_index": place.astype(np.int64),
            "day": slot // 24,
            "start_hour": slot % 24,
            "end_hour": (slot % 24 + shift_hours) % 24,
            "start_slot": slot,
            "value": value,
            "share": value / total if total > 0 else np.zeros(len(value)),
        },
        columns=_COLUMNS,
    )
    if place_ids is not None:
        shifts["place"] = shifts["place"].infer_objects()
    shifts = shifts.sort_values(["start_slot", "team"], kind="stable").reset_index(drop=True)
    problems = check_schedule(shifts, teams=teams, shift_hours=shift_hours)
    if problems:  # pragma: no cover - a bug, not a user error
        raise ScheduleError("the deployment schedule breaks its own rules: " + "; ".join(problems))
    return DeploymentPlan(
        shifts=shifts,
        covered=covered,
        total=total,
        share=covered / total if total > 0 else 0.0,
        objective_bound=bound,
        gap=float(gap),
        status=status,
        solve_seconds=float(secs),
        teams=teams,
        shift_hours=shift_hours,
        days=days_t,
        n_candidates=int(n_candidates),
        method=method,
    )
