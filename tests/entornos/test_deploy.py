"""Plan de despliegue: the MILP against brute force, hand-computed plans, schedule validity, errors, a realistic size."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoprio.entornos.deploy as deploy
from geoprio.entornos.deploy import (
    DAY_NAMES,
    DeploymentPlan,
    ScheduleError,
    assign_teams,
    check_schedule,
    format_window,
    plan_deployment,
)
from geoprio.errors import ConfigError, InputError

W = 168


def slot(day: int, hour: int) -> int:
    return 24 * day + hour


# --------------------------------------------------------------------------- brute force


def brute_best(values, *, teams, shift_hours, days, start_hours=range(24)):
    """Best total value over every set of nonzero shifts meeting constraints 1-3 (tiny cases only)."""
    v = np.asarray(values, dtype=float)
    cands = []
    for p in range(v.shape[0]):
        for d in days:
            for s in start_hours:
                cov = [(24 * d + s + k) % W for k in range(shift_hours)]
                val = float(v[p, cov].sum())
                if val > 0:
                    cands.append((p, d, set(cov), val))
    best = 0.0
    for r in range(1, min(len(cands), teams * len(days)) + 1):
        for combo in itertools.combinations(cands, r):
            if any(sum(c[1] == d for c in combo) > teams for d in days):
                continue
            load = np.zeros(W, dtype=int)
            busy = np.zeros((v.shape[0], W), dtype=int)
            for p, _, cov, _ in combo:
                load[list(cov)] += 1
                busy[p, list(cov)] += 1
            if load.max() > teams or busy.max() > 1:
                continue
            best = max(best, sum(c[3] for c in combo))
    return best


def sparse_values(n_places: int, cells: dict[tuple[int, int], float]) -> np.ndarray:
    v = np.zeros((n_places, W))
    for (p, t), x in cells.items():
        v[p, t] = x
    return v


def assert_valid(plan: DeploymentPlan) -> None:
    assert check_schedule(plan.shifts, teams=plan.teams, shift_hours=plan.shift_hours) == []
    assert plan.covered <= plan.objective_bound + 1e-9
    assert plan.covered == pytest.approx(plan.shifts["value"].sum())
    if len(plan.shifts):
        assert set(plan.shifts["day"]) <= set(plan.days)


# --------------------------------------------------------------------------- (a) MILP == brute force


BRUTE_CASES = {
    # Friday-night peak across midnight: the best shift starts Friday and ends Saturday
    "past_midnight": dict(
        values=sparse_values(2, {(0, slot(4, 23)): 4, (0, slot(5, 0)): 4, (0, slot(5, 1)): 1, (1, slot(4, 21)): 5, (1, slot(4, 22)): 2}),
        teams=1,
        shift_hours=3,
        days=[4],
    ),
    # one team: a Sunday 22:00 shift runs to Monday 01:00, so Monday's shift cannot start before 01:00
    "sunday_monday_wrap": dict(
        values=sparse_values(2, {(0, slot(6, 23)): 5, (0, 0): 5, (1, 0): 4, (1, 1): 4, (1, 2): 4}),
        teams=1,
        shift_hours=3,
        days=[0, 6],
    ),
    "two_teams_around_midnight": dict(
        values=sparse_values(
            3, {(0, slot(6, 23)): 3, (0, 0): 3, (0, 1): 3, (0, 2): 2, (1, 1): 4, (1, 2): 4, (2, slot(6, 22)): 5, (2, slot(0, 3)): 1}
        ),
        teams=2,
        shift_hours=3,
        days=[0, 6],
    ),
    "two_days_two_teams": dict(
        values=sparse_values(3, {(0, slot(4, 20)): 2, (0, slot(4, 21)): 2, (1, slot(4, 21)): 3, (2, slot(5, 0)): 6, (2, slot(5, 3)): 1}),
        teams=2,
        shift_hours=2,
        days=[4, 5],
    ),
    # 4 places, 2 teams: only the 3 best places per start are kept, still exact
    "pruned_places": dict(
        values=sparse_values(4, {(0, slot(4, 10)): 5, (1, slot(4, 10)): 4, (2, slot(4, 11)): 3, (3, slot(4, 10)): 2, (3, slot(4, 13)): 2}),
        teams=2,
        shift_hours=2,
        days=[4],
    ),
}


@pytest.mark.parametrize("name", sorted(BRUTE_CASES))
def test_milp_matches_brute_force(name):
    case = BRUTE_CASES[name]
    plan = plan_deployment(case["values"], teams=case["teams"], shift_hours=case["shift_hours"], days=case["days"])
    expected = brute_best(case["values"], teams=case["teams"], shift_hours=case["shift_hours"], days=case["days"])
    assert plan.status == "optimal"
    assert plan.covered == pytest.approx(expected)
    assert plan.objective_bound == pytest.approx(expected, rel=1e-6)
    assert_valid(plan)


def test_brute_force_values_of_the_named_cases():
    # hand check of the brute force itself on the first two cases
    c = BRUTE_CASES["past_midnight"]
    assert brute_best(c["values"], teams=1, shift_hours=3, days=[4]) == 9.0  # Friday 23:00-02:00 at place 0 (4+4+1)
    c = BRUTE_CASES["sunday_monday_wrap"]
    # Sunday 22:00-01:00 at place 0 (5+5) and Monday 01:00-04:00 at place 1 (4+4) = 18; a model that forgot the wrap
    # would add Monday 00:00 at place 1 (12) to Sunday 23:00 at place 0 (10) although one team cannot be at both at 00:00
    assert brute_best(c["values"], teams=1, shift_hours=3, days=[0, 6]) == 18.0
    c = BRUTE_CASES["two_teams_around_midnight"]
    # all but place 2's Monday 03:00 (1 of 25); Monday alone: 00:00 at place 0 (8) and 01:00 at place 1 (8)
    assert brute_best(c["values"], teams=2, shift_hours=3, days=[0, 6]) == 24.0
    assert brute_best(c["values"], teams=2, shift_hours=3, days=[0]) == 16.0


def test_past_midnight_plan_shape():
    c = BRUTE_CASES["past_midnight"]
    plan = plan_deployment(c["values"], teams=1, shift_hours=3, days=[4])
    row = plan.shifts.iloc[0]
    assert (row["place"], row["day"], row["start_hour"], row["end_hour"], row["value"]) == (0, 4, 23, 2, 9.0)


def test_wrap_plan_uses_sunday_night():
    c = BRUTE_CASES["sunday_monday_wrap"]
    plan = plan_deployment(c["values"], teams=1, shift_hours=3, days=[0, 6])
    got = plan.by_team()[["team", "place", "day", "start_hour", "end_hour", "value"]].to_dict("records")
    assert got == [
        {"team": 1, "place": 1, "day": 0, "start_hour": 1, "end_hour": 4, "value": 8.0},
        {"team": 1, "place": 0, "day": 6, "start_hour": 22, "end_hour": 1, "value": 10.0},
    ]
    assert (plan.covered, plan.total) == (18.0, 22.0)


HOURS_NEAR_MIDNIGHT = [*range(20, 24), *range(0, 4)]


@st.composite
def tiny_instance(draw):
    n_places = draw(st.integers(1, 3))
    teams = draw(st.integers(1, min(2, n_places)))
    shift_hours = draw(st.integers(1, 3))
    days = sorted(draw(st.sets(st.sampled_from([4, 5, 6, 0]), min_size=1, max_size=2)))
    start_hours = sorted(draw(st.sets(st.sampled_from(HOURS_NEAR_MIDNIGHT), min_size=2, max_size=8)))
    slots = [24 * d + h for d in (4, 5, 6, 0) for h in HOURS_NEAR_MIDNIGHT]
    cells = draw(
        st.dictionaries(
            st.tuples(st.integers(0, n_places - 1), st.sampled_from(slots)), st.integers(1, 9).map(float), min_size=1, max_size=4
        )
    )
    return sparse_values(n_places, cells), teams, shift_hours, days, start_hours


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instance())
def test_milp_matches_brute_force_random(inst):
    values, teams, shift_hours, days, start_hours = inst
    plan = plan_deployment(values, teams=teams, shift_hours=shift_hours, days=days, start_hours=start_hours)
    expected = brute_best(values, teams=teams, shift_hours=shift_hours, days=days, start_hours=start_hours)
    assert plan.covered == pytest.approx(expected)
    assert_valid(plan)
    assert set(plan.shifts["start_hour"]) <= set(start_hours)


def test_pruning_is_exact():
    rng = np.random.default_rng(3)
    values = rng.poisson(0.3, size=(12, W)).astype(float)
    pruned = plan_deployment(values, teams=2, shift_hours=4)
    full = plan_deployment(values, teams=2, shift_hours=4, prune=False)
    assert pruned.n_candidates == 3 * 168  # 2 * teams - 1 places per start slot (all nonzero here)
    assert full.n_candidates > pruned.n_candidates
    assert pruned.covered == full.covered
    assert pruned.status == full.status == "optimal"


# --------------------------------------------------------------------------- (b) hand-computed plans


def test_one_team_friday_evening_peak():
    values = sparse_values(1, {(0, slot(4, 20)): 1, (0, slot(4, 21)): 2, (0, slot(4, 22)): 3, (0, slot(4, 23)): 4, (0, slot(1, 9)): 1})
    plan = plan_deployment(values, teams=1, shift_hours=4, days=[4])
    assert len(plan.shifts) == 1
    row = plan.shifts.iloc[0]
    assert row.to_dict() == {
        "team": 1,
        "place": 0,
        "place_index": 0,
        "day": 4,
        "start_hour": 20,
        "end_hour": 0,
        "start_slot": 116,
        "value": 10.0,
        "share": 10.0 / 11.0,
    }
    assert plan.covered == 10.0 and plan.total == 11.0 and plan.share == pytest.approx(10 / 11)
    assert plan.status == "optimal" and plan.gap == pytest.approx(0.0, abs=1e-9)
    assert format_window(row["day"], row["start_hour"], 4) == "viernes 20:00–00:00"


def test_eight_hour_shift_runs_into_saturday():
    # Friday 20-23 peak (10) plus Saturday 02:00 and 03:00 (1 each): only a start at 20:00 takes all 12
    values = sparse_values(
        1, {(0, slot(4, 20)): 1, (0, slot(4, 21)): 2, (0, slot(4, 22)): 3, (0, slot(4, 23)): 4, (0, slot(5, 2)): 1, (0, slot(5, 3)): 1}
    )
    plan = plan_deployment(values, teams=1, shift_hours=8, days=[4])
    row = plan.shifts.iloc[0]
    assert (row["day"], row["start_hour"], row["end_hour"], row["value"]) == (4, 20, 4, 12.0)
    assert plan.share == 1.0
    assert format_window(4, 20, 8) == "viernes 20:00–04:00"
    assert format_window(4, 20, 8, "en") == "Friday 20:00–04:00"


def test_one_team_two_places_one_shift_a_day():
    values = sparse_values(2, {(0, slot(4, 20)): 3, (0, slot(4, 21)): 3, (1, slot(4, 20)): 4, (1, slot(4, 21)): 4})
    plan = plan_deployment(values, teams=1, shift_hours=2, days=[4], place_ids=["Portal Norte", "Calle 72"])
    assert plan.shifts[["place", "start_hour", "value"]].to_dict("records") == [{"place": "Calle 72", "start_hour": 20, "value": 8.0}]
    assert plan.share == pytest.approx(8 / 14)
    # two teams: both places at once
    plan2 = plan_deployment(values, teams=2, shift_hours=2, days=[4], place_ids=["Portal Norte", "Calle 72"])
    assert plan2.covered == 14.0
    assert sorted(plan2.shifts["team"]) == [1, 2]
    assert plan2.by_place()["place"].tolist() == ["Portal Norte", "Calle 72"]  # input order


def test_no_incidents_gives_empty_plan():
    plan = plan_deployment(np.zeros((3, W)), teams=2, shift_hours=8)
    assert plan.shifts.empty and list(plan.shifts.columns) == deploy._COLUMNS
    assert (plan.covered, plan.total, plan.share, plan.gap, plan.status) == (0.0, 0.0, 0.0, 0.0, "optimal")


def test_day_names_and_format_window():
    assert DAY_NAMES["es"][2] == "miércoles" and DAY_NAMES["es"][5] == "sábado" and len(DAY_NAMES["en"]) == 7
    assert format_window(6, 23, 3) == "domingo 23:00–02:00"
    assert format_window(0, 9, 12, "en") == "Monday 09:00–21:00"
    with pytest.raises(ConfigError, match="lang must be 'es' or 'en', got 'fr'"):
        format_window(0, 9, 8, "fr")
    with pytest.raises(ConfigError, match="day must be a weekday 0-6"):
        format_window(7, 9, 8)
    with pytest.raises(ConfigError, match="start_hour must be an hour 0-23, got 24"):
        format_window(0, 24, 8)


# --------------------------------------------------------------------------- (c) schedule validity


def schedule_frame(shifts, teams_of):
    """(place, day, hour) triples and their team numbers as a shifts frame."""
    return pd.DataFrame(
        {
            "team": teams_of,
            "place": [p for p, _, _ in shifts],
            "start_slot": [24 * d + h for _, d, h in shifts],
        }
    )


def test_rank_assignment_closes_the_week_where_a_careless_matching_fails():
    # days 0, 5, 6; two teams; 12-hour shifts. Monday: 00:00 and 12:00. Saturday: 00:00 and 23:00 (till Sunday 11:00).
    # Sunday: 00:00 and 23:00 (till next Monday 11:00).
    shifts = [(0, 0, 0), (1, 0, 12), (2, 5, 0), (3, 5, 23), (4, 6, 0), (5, 6, 23)]
    L = 12
    # a day-by-day matching free to pair Saturday's shifts with either team can leave the team that starts Monday at 00:00
    # with Saturday 23:00: on Sunday it can take neither 00:00 (Saturday's shift still runs) nor 23:00 (runs into its Monday)
    careless = schedule_frame(shifts, [1, 2, 2, 1, 2, 2])
    assert check_schedule(careless, teams=2, shift_hours=L)
    team = assign_teams([24 * d + h for _, d, h in shifts], teams=2, shift_hours=L, place=[p for p, _, _ in shifts])
    assert team.tolist() == [1, 2, 1, 2, 1, 2]
    assert check_schedule(schedule_frame(shifts, team), teams=2, shift_hours=L) == []


def test_check_schedule_finds_each_violation():
    L = 3
    ok = schedule_frame([(0, 4, 20), (1, 4, 22)], [1, 2])
    assert check_schedule(ok, teams=2, shift_hours=L) == []
    same_team = schedule_frame([(0, 4, 20), (1, 4, 22)], [1, 1])
    problems = check_schedule(same_team, teams=2, shift_hours=L)
    assert any("team 1 has two shifts at slot 118" in p for p in problems)
    assert any("team 1 has 2 shifts on day 4" in p for p in problems)
    same_place = schedule_frame([(0, 4, 20), (0, 4, 22)], [1, 2])
    assert any("place 0 has 2 teams at slot 118" in p for p in check_schedule(same_place, teams=2, shift_hours=L))
    wrap = schedule_frame([(0, 6, 23), (1, 0, 0)], [1, 1])  # Sunday 23:00-02:00 and Monday 00:00: same team, cyclic overlap
    assert any("team 1 has two shifts at slot 0" in p for p in check_schedule(wrap, teams=1, shift_hours=L))
    crowded = schedule_frame([(0, 4, 20), (1, 4, 21), (2, 4, 22)], [1, 2, 3])
    problems = check_schedule(crowded, teams=2, shift_hours=L)
    assert any("team numbers outside 1..2: [3]" in p for p in problems)
    crowded_ok_numbers = schedule_frame([(0, 4, 20), (1, 4, 21), (2, 4, 22)], [1, 2, 2])
    problems = check_schedule(crowded_ok_numbers, teams=2, shift_hours=L)
    assert any("3 shifts active at slot 118 but only 2 teams" in p for p in problems)
    assert any("3 shifts start on day 4 but only 2 teams" in p for p in problems)


def test_assign_teams_refuses_too_many_shifts_a_day():
    with pytest.raises(ScheduleError, match="3 shifts start on day 4 but there are only teams=2"):
        assign_teams([slot(4, 1), slot(4, 5), slot(4, 9)], teams=2, shift_hours=3)


@st.composite
def feasible_shift_set(draw):
    """Random shifts meeting constraints 1-3 (greedy over random candidates), all seven days."""
    teams = draw(st.integers(1, 4))
    L = draw(st.integers(1, 12))
    n_places = draw(st.integers(teams, 6))
    cands = draw(st.lists(st.tuples(st.integers(0, n_places - 1), st.integers(0, 167)), min_size=1, max_size=60))
    load = np.zeros(W, dtype=int)
    busy = np.zeros((n_places, W), dtype=bool)
    per_day = np.zeros(7, dtype=int)
    kept = []
    for p, s in cands:
        cov = (s + np.arange(L)) % W
        if busy[p, cov].any() or (load[cov] >= teams).any() or per_day[s // 24] >= teams:
            continue
        busy[p, cov] = True
        load[cov] += 1
        per_day[s // 24] += 1
        kept.append((p, s))
    return teams, L, kept


@settings(max_examples=30, deadline=None)
@given(feasible_shift_set())
def test_rank_assignment_is_valid_whenever_limits_hold(inst):
    teams, L, kept = inst
    place = [p for p, _ in kept]
    start = [s for _, s in kept]
    team = assign_teams(start, teams=teams, shift_hours=L, place=place)
    frame = pd.DataFrame({"team": team, "place": place, "start_slot": start})
    assert check_schedule(frame, teams=teams, shift_hours=L) == []


def test_greedy_fallback_is_feasible():
    rng = np.random.default_rng(5)
    values = rng.poisson(0.5, size=(20, W)).astype(float)
    place, start, value = deploy._candidates(values, teams=3, shift_hours=6, days=tuple(range(7)), starts=tuple(range(24)))
    chosen = deploy._greedy(place, start, value, teams=3, shift_hours=6)
    team = assign_teams(start[chosen], teams=3, shift_hours=6, place=place[chosen])
    frame = pd.DataFrame({"team": team, "place": place[chosen], "start_slot": start[chosen]})
    assert check_schedule(frame, teams=3, shift_hours=6) == []
    exact = plan_deployment(values, teams=3, shift_hours=6)
    assert exact.covered >= value[chosen].sum()


def test_time_limit_without_incumbent_falls_back_to_greedy(monkeypatch):
    import scipy.optimize

    values = sparse_values(2, {(0, slot(4, 20)): 3, (0, slot(4, 21)): 3, (1, slot(4, 20)): 4, (1, slot(4, 21)): 4})

    def stopped(c, **kwargs):
        return scipy.optimize.OptimizeResult(x=None, fun=None, status=1, message="Time limit reached", mip_dual_bound=-20.0)

    monkeypatch.setattr(scipy.optimize, "milp", stopped)
    plan = plan_deployment(values, teams=1, shift_hours=2, days=[4], time_limit_s=0.01)
    assert (plan.status, plan.covered, plan.objective_bound) == ("time_limit", 8.0, 20.0)
    assert plan.gap == pytest.approx(12 / 20)
    assert_valid(plan)


def test_plan_tables_and_inputs_untouched():
    rng = np.random.default_rng(11)
    values = rng.poisson(0.4, size=(8, W)).astype(float)
    values.flags.writeable = False
    before = values.copy()
    plan = plan_deployment(values, teams=3, shift_hours=6, days=[4, 5, 6], start_hours=range(12, 24))
    np.testing.assert_array_equal(values, before)
    assert_valid(plan)
    by_team = plan.by_team()
    assert by_team[["team", "day", "start_hour"]].equals(by_team[["team", "day", "start_hour"]].sort_values(["team", "day", "start_hour"]))
    assert by_team.groupby("team")["day"].apply(lambda d: d.is_unique).all()
    by_place = plan.by_place()
    assert list(by_place["place_index"]) == sorted(by_place["place_index"])
    assert (plan.shifts["start_hour"] >= 12).all()
    assert plan.shifts["share"].sum() == pytest.approx(plan.share)
    assert (plan.shifts["end_hour"] == (plan.shifts["start_hour"] + 6) % 24).all()


# --------------------------------------------------------------------------- (d) errors


GOOD = np.ones((3, W))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(teams=0), ConfigError, r"teams must be an integer >= 1, got 0"),
        (dict(teams=2.5), ConfigError, r"teams must be an integer >= 1, got 2\.5"),
        (dict(teams=True), ConfigError, r"teams must be an integer >= 1, got True"),
        (dict(teams=4), ConfigError, r"teams=4 but there are only 3 places \(teams > places\).*cannot all be used at once"),
        (dict(shift_hours=0), ConfigError, r"shift_hours must be an integer from 1 to 12, got 0"),
        (dict(shift_hours=13), ConfigError, r"shift_hours must be an integer from 1 to 12, got 13"),
        (dict(days=[]), ConfigError, r"days is empty"),
        (dict(days=[4, 7]), ConfigError, r"days must be weekday \(0 = Monday\)s 0-6, got \[7\]"),
        (dict(days=[-1]), ConfigError, r"days must be .* 0-6, got \[-1\]"),
        (dict(days=[4, 4]), ConfigError, r"days has duplicated values \[4\]"),
        (dict(start_hours=[24]), ConfigError, r"start_hours must be hours 0-23, got \[24\]"),
        (dict(start_hours=[]), ConfigError, r"start_hours is empty"),
        (dict(start_hours=[1, 1]), ConfigError, r"start_hours has duplicated values \[1\]"),
        (dict(place_ids=["a", "b"]), InputError, r"place_ids has 2 ids but values has 3 place rows"),
        (dict(place_ids=["a", "b", "a"]), InputError, r"place_ids has duplicated ids"),
        (dict(time_limit_s=0), ConfigError, r"time_limit_s must be a positive number of seconds, got 0"),
        (dict(mip_rel_gap=-0.1), ConfigError, r"mip_rel_gap must be >= 0, got -0\.1"),
        (dict(time_limit_s="60"), ConfigError, r"time_limit_s must be a positive number of seconds, got '60'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = dict(teams=2, shift_hours=8) | kwargs
    with pytest.raises(error, match=match):
        plan_deployment(GOOD, **args)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (np.ones(W), r"values must be a 2-D array of shape \(places, 168\).*got shape \(168,\)"),
        (np.ones((3, 24)), r"got shape \(3, 24\)"),
        (np.ones((0, W)), r"values has no places"),
        (np.full((2, W), np.nan), r"values must be finite, got nan at place row 0, slot 0"),
        (
            np.where(np.arange(W) == 5, -1.0, 1.0)[None, :].repeat(2, axis=0),
            r"values must be non-negative .* got -1\.0 at place row 0, slot 5",
        ),
        ([["a"] * W], r"values must be a numeric array"),
    ],
)
def test_bad_values(values, match):
    with pytest.raises(InputError, match=match):
        plan_deployment(values, teams=1, shift_hours=8)


def test_errors_are_value_errors():
    with pytest.raises(ValueError, match="teams > places"):
        plan_deployment(np.ones((1, W)), teams=2, shift_hours=8)


# --------------------------------------------------------------------------- (e) realistic size


def test_realistic_size_300_places_20_teams():
    rng = np.random.default_rng(2024)
    hour = np.arange(W) % 24
    daily = 1.0 + 0.8 * np.sin((hour - 14) / 24 * 2 * np.pi)  # evening peak
    weekend = np.where(np.arange(W) >= 24 * 4, 1.4, 1.0)
    rate = rng.gamma(0.6, 0.5, size=(300, 1)) * daily[None, :] * weekend[None, :]
    values = rng.poisson(rate).astype(float)
    plan = plan_deployment(values, teams=20, shift_hours=8, time_limit_s=120)
    print(f"300x168, 20 teams, 8 h: {plan.status}, HiGHS {plan.solve_seconds:.2f} s, {plan.n_candidates} columns, share {plan.share:.3f}")
    assert plan.status == "optimal" or plan.gap < 1e-3
    assert_valid(plan)
    assert len(plan.shifts) == 140  # every team works every day (there is always something to cover)
    assert sorted(plan.shifts["team"].unique()) == list(range(1, 21))
    assert plan.shifts.groupby("team").size().eq(7).all()
    # the exact plan beats the greedy one
    place, start, value = deploy._candidates(values, teams=20, shift_hours=8, days=tuple(range(7)), starts=tuple(range(24)))
    assert plan.covered >= value[deploy._greedy(place, start, value, teams=20, shift_hours=8)].sum()
    assert plan.covered == pytest.approx(values.sum() * plan.share)


def test_the_time_budget_covers_model_building_and_the_fallback_is_named(monkeypatch):
    import time

    import scipy.optimize

    values = sparse_values(2, {(0, slot(4, 20)): 3, (0, slot(4, 21)): 3, (1, slot(4, 20)): 4, (1, slot(4, 21)): 4})
    seen: dict[str, float] = {}
    candidates = deploy._candidates

    def slow_candidates(*args, **kwargs):
        time.sleep(0.3)
        return candidates(*args, **kwargs)

    def stopped(c, **kwargs):
        seen["time_limit"] = kwargs["options"]["time_limit"]
        return scipy.optimize.OptimizeResult(x=None, fun=None, status=1, message="Time limit reached", mip_dual_bound=-20.0)

    monkeypatch.setattr(deploy, "_candidates", slow_candidates)
    monkeypatch.setattr(scipy.optimize, "milp", stopped)
    plan = plan_deployment(values, teams=1, shift_hours=2, days=[4], time_limit_s=1.0)
    assert 0 < seen["time_limit"] <= 0.7 + 1e-3
    assert (plan.status, plan.method) == ("time_limit", "greedy")
    monkeypatch.undo()
    assert plan_deployment(values, teams=1, shift_hours=2, days=[4]).method == "milp"
