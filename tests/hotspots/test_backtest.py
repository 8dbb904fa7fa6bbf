"""Backtest metrics: hit rate, PAI, PEI, RRI by hand, ties, the curve, errors."""

from __future__ import annotations

import numpy as np
import pytest

from geoprio.errors import InputError
from geoprio.hotspots.backtest import capture, capture_curve, evaluate, evaluate_methods


def test_hit_rate_pai_pei_rri_by_hand():
    # five cells of 1 km², scored 5..1; 4 test incidents, 10 training incidents
    scores = np.array([5.0, 4, 3, 2, 1])
    test = np.array([2.0, 0, 1, 1, 0])
    train = np.array([4.0, 3, 1, 1, 1])
    areas = np.ones(5)
    t = evaluate(scores, test, areas, train_counts=train, shares=[0.2, 0.4, 1.0])
    # 20 %: cell 0 → 2 of 4 test incidents; PAI 0.5 / 0.2 = 2.5; the best cell also holds 2 → PEI 1
    # 40 %: cells 0, 1 → 2 of 4; PAI 1.25; best two cells hold 2 + 1 → PEI 2/3
    assert t["captured"].tolist() == pytest.approx([2, 2, 4])
    assert t["hit_rate"].tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert t["pai"].tolist() == pytest.approx([2.5, 1.25, 1.0])
    assert t["captured_max"].tolist() == pytest.approx([2, 3, 4])
    assert t["pei"].tolist() == pytest.approx([1.0, 2 / 3, 1.0])
    # RRI at 20 %: (2 / 4) / (4 / 10) = 1.25; at 40 %: (2 / 7) / (4 / 10) = 0.714…
    assert t["rri"].tolist() == pytest.approx([1.25, (2 / 7) / 0.4, 1.0])


def test_ties_at_the_threshold_are_taken_fractionally():
    scores = np.array([1.0, 1.0, 0.0, 0.0])
    test = np.array([1.0, 3.0, 0.0, 0.0])
    # 25 % of the area = half of the two tied cells → half their 4 incidents
    assert capture(scores, test, np.ones(4), [0.25]) == pytest.approx([2.0])
    # unequal areas: the tied group covers 3 of 4 km²; 25 % needs 1 km² of it → a third
    assert capture(scores, test, np.array([1.0, 2.0, 0.5, 0.5]), [0.25]) == pytest.approx([4 / 3])
    # NaN scores rank last
    assert capture(np.array([np.nan, 1.0]), np.array([5.0, 1.0]), np.ones(2), [0.5]) == pytest.approx([1.0])


def test_evaluate_methods_and_curve():
    rng = np.random.default_rng(0)
    test = rng.poisson(1.0, 200).astype(float)
    scores = {"prior": test + rng.normal(0, 0.5, 200), "noise": rng.random(200)}
    t = evaluate_methods(scores, test, np.ones(200))
    assert set(t["method"]) == {"prior", "noise"} and len(t) == 8
    prior = t[t["method"] == "prior"]
    assert (prior["pai_vs_baseline"] == 1.0).all()
    assert (t["pei"] <= 1 + 1e-12).all()
    curve = capture_curve(scores, test, np.ones(200), shares=[0.1, 0.5, 1.0])
    assert curve["random"].tolist() == [0.1, 0.5, 1.0]
    assert curve["best"].iloc[-1] == pytest.approx(1.0) and curve["prior"].iloc[-1] == pytest.approx(1.0)
    assert (curve["best"] >= curve["prior"] - 1e-12).all()


def test_errors():
    with pytest.raises(InputError, match=r"area shares must be in \(0, 1\]"):
        evaluate(np.ones(3), np.ones(3), np.ones(3), shares=[0.0])
    with pytest.raises(InputError, match="the test period has no incident"):
        evaluate(np.ones(3), np.zeros(3), np.ones(3))
    with pytest.raises(InputError, match="cell areas must be positive"):
        evaluate(np.ones(3), np.ones(3), np.array([1.0, 0.0, 1.0]))
