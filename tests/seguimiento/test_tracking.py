"""The numeric core of the seguimiento: trend arithmetic, edge cases, weights, decomposition.

Every expected value is computed by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geoprio.seguimiento.arithmetic import attainment, capped, decompose_change, level_progress, progress_series, weighted_progress
from geoprio.seguimiento.data import months_by_year
from geoprio.seguimiento.notes import Note
from geoprio.seguimiento.report_html import nice_ticks


def codes(entry) -> list[str]:
    return [n.code for n in entry.notes]


def by_year(series) -> dict:
    return {s.year: s for s in series}


# --------------------------------------------------------------------------- level trends


def test_decreciente_cartagena_homicides():
    # Cartagena: 35.1 → 28 per 100,000 by 2027; a year at 30 has covered (35.1 − 30)/(35.1 − 28) = 5.1/7.1
    p, c, notes = level_progress(30.0, 28.0, 35.1, trend="decreciente", direction="lower_is_better")
    assert p == pytest.approx(5.1 / 7.1, abs=1e-12) and c == pytest.approx(0.718309859, abs=1e-9) and notes == []
    # theft 721.1 → 550: at 800 the level moved the wrong way: (721.1 − 800)/171.1 = −0.4611…; capped 0
    p, c, _ = level_progress(800.0, 550.0, 721.1, trend="decreciente", direction="lower_is_better")
    assert p == pytest.approx(-78.9 / 171.1, abs=1e-12) and c == 0.0
    # beyond the target: (721.1 − 500)/171.1 = 1.2922…; capped 1
    p, c, _ = level_progress(500.0, 550.0, 721.1, trend="decreciente", direction="lower_is_better")
    assert p == pytest.approx(221.1 / 171.1, abs=1e-12) and c == 1.0


def test_creciente():
    # (A − B)/(T − B) = (15 − 10)/(20 − 10) = 0.5; 25 → 1.5 (capped 1); 5 → −0.5 (capped 0)
    assert level_progress(15.0, 20.0, 10.0, trend="creciente", direction="higher_is_better")[:2] == (0.5, 0.5)
    assert level_progress(25.0, 20.0, 10.0, trend="creciente", direction="higher_is_better")[:2] == (1.5, 1.0)
    assert level_progress(5.0, 20.0, 10.0, trend="creciente", direction="higher_is_better")[:2] == (-0.5, 0.0)


def test_constante_is_attainment_both_ways():
    # lower is better: T/A = 10/8 = 1.25 (capped 1), 10/12.5 = 0.8; higher is better: A/T = 8/10 = 0.8
    assert level_progress(8.0, 10.0, None, trend="constante", direction="lower_is_better")[:2] == (1.25, 1.0)
    assert level_progress(12.5, 10.0, None, trend="constante", direction="lower_is_better")[:2] == (0.8, 0.8)
    assert level_progress(8.0, 10.0, None, trend="constante", direction="higher_is_better")[:2] == (0.8, 0.8)


def test_target_equal_to_baseline_falls_back_to_attainment_with_a_note():
    # decreciente B = T = 10: (B − A)/(B − T) divides by zero; attainment T/A = 10/8 = 1.25 and 10/12.5 = 0.8
    p, c, notes = level_progress(8.0, 10.0, 10.0, trend="decreciente", direction="lower_is_better", year=2025)
    assert (p, c) == (1.25, 1.0) and [n.code for n in notes] == ["target_equals_baseline"]
    assert notes[0].text("es") == "2025: la meta (10) es igual a la línea base; se usa el cumplimiento (T/A)"
    assert notes[0].text("en") == "2025: the target (10) equals the baseline; attainment (T/A) is used"
    p, c, _ = level_progress(12.5, 10.0, 10.0, trend="decreciente", direction="lower_is_better")
    assert (p, c) == (0.8, 0.8)
    # creciente B = T = 40, A = 30: A/T = 0.75
    p, c, notes = level_progress(30.0, 40.0, 40.0, trend="creciente", direction="higher_is_better")
    assert (p, c) == (0.75, 0.75) and notes[0].code == "target_equals_baseline"


def test_target_on_the_wrong_side_of_the_baseline_falls_back_to_attainment():
    # decreciente with T = 12 above B = 10: attainment T/A = 12/11 (the zone already meets a lax target)
    p, c, notes = level_progress(11.0, 12.0, 10.0, trend="decreciente", direction="lower_is_better", year=2024)
    assert p == pytest.approx(12 / 11) and c == 1.0 and notes[0].code == "target_wrong_side"
    assert "no está por debajo de la línea base (10)" in notes[0].text("es")
    assert "is not below the baseline (10)" in notes[0].text("en")


def test_actual_zero_when_lower_is_better():
    # T/0: the best possible level; capped 1, uncapped undefined, with a note; 0/0 is exactly met
    p, c, notes = level_progress(0.0, 5.0, None, trend="constante", direction="lower_is_better", year=2026)
    assert (p, c) == (None, 1.0) and [n.code for n in notes] == ["zero_actual"]
    assert attainment(0.0, 0.0, direction="lower_is_better")[:2] == (1.0, 1.0)
    # decreciente to 0 homicides in a small zone: B = 4, T = 2, A = 0 → (4 − 0)/(4 − 2) = 2 (the level formula has no 0 problem)
    assert level_progress(0.0, 2.0, 4.0, trend="decreciente", direction="lower_is_better")[:2] == (2.0, 1.0)
    # target 0 with higher is better: A/0, met
    p, c, notes = attainment(3.0, 0.0, direction="higher_is_better")
    assert (p, c) == (None, 1.0) and notes[0].code == "zero_target"
    with pytest.raises(ValueError, match="non-negative"):
        attainment(-1.0, 2.0, direction="lower_is_better")


def test_level_trend_without_data_target_or_baseline():
    assert level_progress(None, 10.0, 12.0, trend="decreciente", direction="lower_is_better", year=2025)[2][0].code == "no_data"
    assert level_progress(11.0, None, 12.0, trend="decreciente", direction="lower_is_better")[2][0].code == "no_target"
    p, c, notes = level_progress(11.0, 10.0, None, trend="decreciente", direction="lower_is_better", year=2025)
    assert (p, c) == (None, None) and notes[0].code == "no_baseline"
    assert notes[0].text("es") == "2025: sin línea base; el avance de una serie decreciente no está definido"


# --------------------------------------------------------------------------- series


def test_series_with_a_year_without_data_and_a_year_missing_from_the_program():
    # baseline 2023 = 20; program 2024 = 18, 2026 = 14 (2025 missing); data 2024 = 19, 2025 = 17, 2026 none
    s = by_year(
        progress_series(
            {2023: 20.0, 2024: 19.0, 2025: 17.0, 2026: None},
            {2024: 18.0, 2026: 14.0},
            trend="decreciente",
            direction="lower_is_better",
            baseline=20.0,
            years=[2023, 2024, 2025, 2026],
        )
    )
    assert s[2023].progress is None and codes(s[2023]) == []  # the baseline year: before the program, no note
    assert s[2024].progress == pytest.approx((20 - 19) / (20 - 18))  # 0.5
    assert s[2025].progress is None and codes(s[2025]) == ["no_target"]
    assert s[2026].progress is None and codes(s[2026]) == ["no_data"]


def test_suma_is_cumulative_and_reports_the_plan_total():
    # 2024–2027 program 100, 120, 130, 150 (total 500); actual 90, 130, then no data
    s = by_year(
        progress_series(
            {2024: 90.0, 2025: 130.0},
            {2024: 100.0, 2025: 120.0, 2026: 130.0, 2027: 150.0},
            trend="suma",
            direction="higher_is_better",
        )
    )
    assert s[2024].progress == pytest.approx(0.9) and s[2024].cumulative_actual == 90.0  # 90/100
    assert s[2025].progress == pytest.approx(1.0) and s[2025].cumulative_target == 220.0  # 220/220
    assert s[2025].progress_plan_total == pytest.approx(220 / 500)  # 0.44 of the four-year total
    assert s[2026].progress is None and codes(s[2026]) == ["no_data"]
    assert s[2027].progress is None and codes(s[2027]) == ["no_data", "suma_missing_actual"]
    assert s[2027].notes[1].text("en") == "2027: cumulative progress undefined: no data for 2026"


def test_suma_year_missing_from_the_program_adds_its_actual_but_no_target():
    # program 2024 = 10, 2026 = 10; actual 8, 5, 9: 2025 undefined; 2026 = (8 + 5 + 9)/(10 + 10) = 1.1
    s = by_year(progress_series({2024: 8.0, 2025: 5.0, 2026: 9.0}, {2024: 10.0, 2026: 10.0}, trend="suma", direction="higher_is_better"))
    assert s[2025].progress is None and codes(s[2025]) == ["suma_without_target"]
    assert "su valor observado se acumula sin meta" in s[2025].notes[0].text("es")
    assert s[2026].progress == pytest.approx(1.1) and s[2026].progress_capped == 1.0
    assert (s[2026].cumulative_actual, s[2026].cumulative_target) == (22.0, 20.0)


def test_suma_lower_is_better_is_target_over_actual():
    # a four-year ceiling: Σ T / Σ A = (50 + 50)/(40 + 70) = 0.909…; no plan-total progress for a ceiling
    s = by_year(progress_series({1: 40.0, 2: 70.0}, {1: 50.0, 2: 50.0}, trend="suma", direction="lower_is_better"))
    assert s[2].progress == pytest.approx(100 / 110) and s[2].progress_plan_total is None


def test_year_to_date_prorates_the_target():
    # decreciente B = 120, T = 100; six months with 50: annualized 100 = the target → 1.0 (= (120·½ − 50)/(120·½ − 100·½))
    s = by_year(
        progress_series({2024: 50.0}, {2024: 100.0}, trend="decreciente", direction="lower_is_better", baseline=120.0, fraction={2024: 0.5})
    )
    assert s[2024].actual == 50.0 and s[2024].actual_annualized == 100.0 and s[2024].target_to_date == 50.0
    assert s[2024].progress == pytest.approx(1.0)
    # suma: 40 done in half a year against 120 for the year → 40/(120·½) = 0.667
    s = by_year(progress_series({2024: 40.0}, {2024: 120.0}, trend="suma", direction="higher_is_better", fraction={2024: 0.5}))
    assert s[2024].progress == pytest.approx(40 / 60)
    with pytest.raises(ValueError, match="fractions"):
        progress_series({2024: 1.0}, {2024: 1.0}, trend="suma", direction="higher_is_better", fraction={2024: 1.5})


# --------------------------------------------------------------------------- aggregation


def test_weighted_progress_skips_undefined_entries():
    # (1·0.5 + 3·1.0)/(1 + 3) = 0.875; the undefined entry (weight 5) does not count
    assert weighted_progress([0.5, None, 1.0], [1, 5, 3]) == pytest.approx(0.875)
    assert weighted_progress([None, None], [1, 1]) is None
    assert weighted_progress([0.3], [0]) is None
    with pytest.raises(ValueError, match="weights"):
        weighted_progress([0.3], [1, 2])


def test_capped():
    assert (capped(-0.2), capped(0.4), capped(2.5), capped(None), capped(float("nan"))) == (0.0, 0.4, 1.0, None, None)


def test_decompose_change_by_hand():
    # city rate 200 → 160 against a target of 150; two zones with parts 120 + 80 → 120 + 40
    base = pd.Series({"L1": 120.0, "L2": 80.0})
    year = pd.Series({"L1": 120.0, "L2": 40.0})
    d = decompose_change(base, year, target=150.0, direction="lower_is_better")
    assert d["change"].to_dict() == {"L1": 0.0, "L2": -40.0}
    assert d["share_of_change"].to_dict() == {"L1": 0.0, "L2": 1.0}
    # planned change −50 split by baseline shares 0.6/0.4: −30 and −20
    assert d["expected"].to_dict() == pytest.approx({"L1": -30.0, "L2": -20.0})
    # shortfall L1 = 0 − (−30) = 30 (losing ground), L2 = −40 − (−20) = −20; sum 10 = 160 − 150
    assert d["shortfall"].to_dict() == pytest.approx({"L1": 30.0, "L2": -20.0})
    assert d["shortfall"].sum() == pytest.approx(160 - 150)
    assert d["share_of_shortfall"].to_dict() == pytest.approx({"L1": 3.0, "L2": -2.0})
    # the city meets its target: no share of a shortfall
    met = decompose_change(base, pd.Series({"L1": 70.0, "L2": 70.0}), target=150.0, direction="lower_is_better")
    assert met["share_of_shortfall"].isna().all() and met["shortfall"].sum() == pytest.approx(140 - 150)


def test_decompose_cumulative_for_suma():
    # suma: expected = baseline share × cumulative target; Σ shortfall = −(Σ A − Σ T) for higher is better
    d = decompose_change(
        pd.Series({"a": 30.0, "b": 10.0}), pd.Series({"a": 50.0, "b": 30.0}), target=100.0, direction="higher_is_better", cumulative=True
    )
    assert d["expected"].to_dict() == pytest.approx({"a": 75.0, "b": 25.0})
    assert d["shortfall"].to_dict() == pytest.approx({"a": 25.0, "b": -5.0})
    assert d["shortfall"].sum() == pytest.approx(-(80 - 100))


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(
    parts=st.lists(st.tuples(finite, finite), min_size=1, max_size=12),
    target=finite,
    lower=st.booleans(),
)
def test_shortfalls_always_add_up_to_the_city_gap(parts, target, lower):
    base = pd.Series([p[0] for p in parts])
    year = pd.Series([p[1] for p in parts])
    d = decompose_change(base, year, target=target, direction="lower_is_better" if lower else "higher_is_better")
    if base.sum() > 0:
        sign = 1 if lower else -1
        assert d["shortfall"].sum() == pytest.approx(sign * (year.sum() - target), rel=1e-9, abs=1e-6)
    assert d["change"].sum() == pytest.approx(year.sum() - base.sum(), rel=1e-9, abs=1e-6)


@given(b=finite, t=finite, trend=st.sampled_from(["creciente", "decreciente"]))
def test_level_progress_is_0_at_the_baseline_and_1_at_the_target(b, t, trend):
    direction = "higher_is_better" if trend == "creciente" else "lower_is_better"
    if (t > b if trend == "creciente" else t < b) and not math.isclose(t - b, 0.0, rel_tol=1e-12, abs_tol=1e-12):  # as the code decides
        assert level_progress(b, t, b, trend=trend, direction=direction)[0] == pytest.approx(0.0, abs=1e-12)
        assert level_progress(t, t, b, trend=trend, direction=direction)[0] == pytest.approx(1.0, rel=1e-12)
    else:
        p, c, notes = level_progress(t, t, b, trend=trend, direction=direction)
        assert c == 1.0 and notes[0].code in ("target_equals_baseline", "target_wrong_side")


@given(a=finite, t=finite, b=st.none() | finite, trend=st.sampled_from(["creciente", "decreciente", "constante"]))
def test_capped_progress_is_within_0_and_1(a, t, b, trend):
    direction = "higher_is_better" if trend == "creciente" else "lower_is_better"
    _p, c, _ = level_progress(a, t, b, trend=trend, direction=direction)
    assert c is None or 0.0 <= c <= 1.0


# --------------------------------------------------------------------------- periods and small pieces


def test_months_by_year_counts_whole_months_only():
    assert months_by_year(dt.date(2023, 1, 1), dt.date(2024, 6, 30)) == {2023: 12, 2024: 6}
    # a start after the 1st and an end before the month's last day drop those partial months
    assert months_by_year(dt.date(2023, 1, 15), dt.date(2024, 6, 20)) == {2023: 11, 2024: 5}
    assert months_by_year(dt.date(2024, 2, 1), dt.date(2024, 2, 29)) == {2024: 1}


def test_note_texts_in_both_languages():
    n = Note("partial_year", 2024, {"months": 6, "until": "2024-06-30"})
    assert n.text("es") == "2024: datos de 6 meses (hasta 2024-06-30); el acumulado del año se compara con la meta prorrateada (6/12)"
    assert n.text("en").startswith("2024: 6 months of data (to 2024-06-30)")
    assert Note("baseline_differs", None, {"given": 13.0, "computed": 13.631}).text("es") == (
        "la línea base dada (13) difiere de la calculada con los datos (13,63)"
    )
    assert Note("baseline_differs", None, {"given": 13.0, "computed": 13.631}).text("en").endswith("(13.63)")
    assert n.to_dict("en")["code"] == "partial_year"


def test_nice_ticks():
    assert nice_ticks(0, 15.4) == [0, 5, 10, 15, 20]
    assert nice_ticks(0, 1800) == [0, 500, 1000, 1500, 2000]
    assert nice_ticks(0, 0.37) == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert nice_ticks(3, 3)[0] == 3 and len(nice_ticks(3, 3)) > 1
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(0, math.inf)


def test_case_counts_in_notes_are_singular_or_plural():
    one = Note("unplaced", 2022, {"count": 1.0, "what": "x"}).text("es")
    assert one == "2022: 1 caso sin zona se cuenta (x) en el total de la ciudad y en ninguna zona"
    assert Note("unplaced", 2022, {"count": 1200.0, "what": "x"}).text("es").startswith("2022: 1.200 casos sin zona se cuentan (x)")
    excluded = Note("unplaced_excluded", None, {"count": 1, "what": "x"}).text("en")
    assert excluded == "1 case without a zone is not counted (x) (unplaced = 'exclude')"
