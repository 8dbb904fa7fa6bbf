"""Secondary suppression and the attacker's linear program, on hand-computed tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoprio.disclosure import DisclosurePolicy
from geoprio.disclosure.complementary import Relation, attack_intervals, protect

POLICY = DisclosurePolicy(min_count=10)  # protection 5


def total(cells: list[int], parent: int) -> Relation:
    """Σ cells − parent = 0."""
    return Relation([*cells, parent], [1.0] * len(cells) + [-1.0], 0.0)


def protected(values: np.ndarray, p, relations, policy=POLICY, lower=None, upper=None) -> bool:
    """attack_intervals confirms every primary keeps the protection interval (clipped at its bounds)."""
    x = np.asarray(values, dtype=float)
    lo_prior = np.where(x > 0, 1.0, 0.0) if lower is None else np.asarray(lower, dtype=float)
    hi_prior = np.full(len(x), np.inf) if upper is None else np.asarray(upper, dtype=float)
    lo, hi = attack_intervals(x, p.hidden, relations, lower=lower, upper=upper)
    prim = p.hidden & ~p.secondary
    level = policy.protection_level
    need_up = np.minimum(level, hi_prior - x)
    need_down = np.minimum(level, x - lo_prior)
    return bool(np.all(hi[prim] >= x[prim] + need_up[prim] - 1e-6) and np.all(lo[prim] <= x[prim] - need_down[prim] + 1e-6))


def test_one_relation_one_primary_takes_the_cheapest_sufficient_cell():
    # 3 + 20 + 12 + 40 = 75. Hiding the 3 needs a cell that can move 5 down and 5 up:
    # 12 is the cheapest (room 11 down, unbounded up); the 75 could do it too but costs more.
    x = np.array([3, 20, 12, 40, 75.0])
    rel = [total([0, 1, 2, 3], 4)]
    p = protect(x, POLICY.hidden(x), rel, POLICY)
    assert p.safe
    assert p.hidden.tolist() == [True, False, True, False, False]
    assert p.secondary.tolist() == [False, False, True, False, False]
    # the attacker: 3 + 12 = 15, each at least 1, so each in [1, 14]
    assert p.lower[[0, 2]].tolist() == [1.0, 1.0]
    assert p.upper[[0, 2]].tolist() == [14.0, 14.0]
    assert np.isnan(p.lower[[1, 3, 4]]).all()


def test_a_secondary_with_too_little_room_is_not_enough():
    # 4 + 6 + 7 + 100 = 117: the 6 is primary too; 4 and 6 together hide 10: up room for
    # the 4 would be 6 - 1 = 5 (enough) but cheaper-looking cells fail; check the audit holds.
    x = np.array([4, 6, 7, 100, 117.0])
    rel = [total([0, 1, 2, 3], 4)]
    p = protect(x, POLICY.hidden(x), rel, POLICY)
    assert p.safe and protected(x, p, rel)


def test_two_primaries_of_one_need_a_third_cell():
    # 1 + 1 + 20 + 30 = 52: hiding the two ones alone leaves each exactly 1 (2 - the other,
    # which is at least 1); a third cell (the 20, cheapest) gives them room up to 20.
    x = np.array([1, 1, 20, 30, 52.0])
    rel = [total([0, 1, 2, 3], 4)]
    lo, hi = attack_intervals(x, [True, True, False, False, False], rel)
    assert lo[:2].tolist() == [1.0, 1.0] and hi[:2].tolist() == [1.0, 1.0]
    p = protect(x, POLICY.hidden(x), rel, POLICY)
    assert p.safe
    assert p.secondary.tolist() == [False, False, True, False, False]
    assert p.upper[0] == 20.0 and p.lower[0] == 1.0  # a count of 1 cannot be protected below 1


def test_two_level_hierarchy_forces_hiding_in_the_parent_relation():
    # districts 0..2 sum to region 3 (3 + 4 + 30 = 37); districts 4..6 to region 7
    # (15 + 25 + 40 = 80); regions sum to country 8 (117). District 0 is primary. Hiding it
    # needs another district in its region (1, the 4, is primary too; 3 + 4 = 7 has room
    # up only if a third cell moves): the region or district 2 must go. If the region 3 is
    # hidden, the country relation would give it away unless a second region hides too,
    # and that region in turn needs a hidden district.
    x = np.array([3, 4, 30, 37, 15, 25, 40, 80, 117.0])
    rel = [total([0, 1, 2], 3), total([4, 5, 6], 7), total([3, 7], 8)]
    p = protect(x, POLICY.hidden(x), rel, POLICY)
    assert p.safe and protected(x, p, rel)
    # forbidding the district 2 as a secondary forces the hiding into the parent relation
    cand = np.ones(len(x), dtype=bool)
    cand[2] = False
    q = protect(x, POLICY.hidden(x), rel, POLICY, candidates=cand)
    assert q.safe and protected(x, q, rel)
    assert q.hidden[3]  # the region
    assert q.hidden[7]  # the other region, so the country total does not give it away
    assert q.hidden[[4, 5, 6]].any()  # and one of its districts, so its own total does not either


def test_attack_intervals_on_a_two_by_two_table_with_margins():
    # rows (a, b | a+b), (c, d | c+d), column totals; a, b, c, d = 2, 8, 6, 4 all hidden,
    # margins published: a + b = 10, c + d = 10, a + c = 8, b + d = 12.
    # b = 10 - a, c = 8 - a, d = 10 - c = a + 2; all ≥ 1 → a ∈ [1, 7], b, d ∈ [3, 9], c ∈ [1, 7].
    x = np.array([2, 8, 6, 4, 10, 10, 8, 12.0])
    rel = [total([0, 1], 4), total([2, 3], 5), total([0, 2], 6), total([1, 3], 7)]
    lo, hi = attack_intervals(x, [True] * 4 + [False] * 4, rel)
    assert lo[:4].tolist() == pytest.approx([1, 3, 1, 3])
    assert hi[:4].tolist() == pytest.approx([7, 9, 7, 9])
    assert np.isnan(lo[4:]).all()


def test_unrelated_and_unbounded_cells():
    x = np.array([5, 50, 55, 3.0])
    rel = [total([0, 1], 2)]
    lo, hi = attack_intervals(x, [True, False, False, True], rel)
    assert (lo[0], hi[0]) == (5.0, 5.0)  # the only hidden cell of a relation: exact
    assert (lo[3], hi[3]) == (1.0, np.inf)  # in no relation: its a-priori bounds
    lo, hi = attack_intervals(x, [True, True, True, False], rel)
    assert hi[0] == np.inf and lo[2] == pytest.approx(2.0)


def test_no_candidate_can_protect_says_so():
    x = np.array([3, 20, 23.0])
    rel = [total([0, 1], 2)]
    p = protect(x, POLICY.hidden(x), rel, POLICY, candidates=[True, False, False])
    assert not p.safe
    assert p.hidden.tolist() == [True, False, False]
    assert p.lower[0] == p.upper[0] == 3.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="cells but"):
        protect([1, 2], [True, False], [Relation([0, 1], [1.0], 3.0)], POLICY)
    with pytest.raises(ValueError, match="out of range"):
        attack_intervals([1, 2], [True, False], [Relation([0, 5], [1.0, 1.0], 3.0)])
    with pytest.raises(ValueError, match="a-priori bounds"):
        attack_intervals([1, 2], [True, False], [], lower=[2, 0])
    with pytest.raises(ValueError, match="shape"):
        protect([1, 2], [True], [], POLICY)


def test_a_few_thousand_cells_are_fast():
    import time

    rng = np.random.default_rng(3)
    x = rng.poisson(15, 3000).astype(float)
    rel = []
    for z in range(0, len(x), 6):
        cells = list(range(z, z + 6))
        coefs = rng.uniform(0.1, 2, 6)
        rel.append(Relation(cells, list(coefs), float(coefs @ x[cells])))
    t = time.perf_counter()
    p = protect(x, POLICY.hidden(x), rel, POLICY)
    assert time.perf_counter() - t < 30
    assert p.safe and protected(x, p, rel)


@st.composite
def tables(draw):
    n = draw(st.integers(3, 9))
    values = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    relations = []
    for _ in range(draw(st.integers(1, 3))):
        cells = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=n, unique=True))
        coefs = draw(st.lists(st.sampled_from([-2.0, -1.0, 0.5, 1.0, 3.0]), min_size=len(cells), max_size=len(cells)))
        relations.append(Relation(cells, coefs, float(np.dot(coefs, [values[c] for c in cells]))))
    return np.asarray(values, dtype=float), relations


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_protect_is_safe_or_says_so(table):
    x, rel = table
    p = protect(x, POLICY.hidden(x), rel, POLICY)
    assert p.safe == protected(x, p, rel)
    assert (p.hidden >= POLICY.hidden(x)).all()
    assert not (p.secondary & POLICY.hidden(x)).any()
    if not p.safe:  # then no choice of secondaries protects: not even hiding every positive cell
        everything = type(p)(hidden=x > 0, secondary=(x > 0) & ~POLICY.hidden(x), lower=p.lower, upper=p.upper, safe=False)
        assert not protected(x, everything, rel)
    lo, hi = attack_intervals(x, p.hidden, rel)
    assert np.isnan(lo[~p.hidden]).all() and not np.isnan(lo[p.hidden]).any()
    np.testing.assert_allclose(lo, p.lower)
    np.testing.assert_allclose(hi, p.upper)


def test_a_negative_cost_hides_a_candidate_without_protecting_it():
    x = np.array([3, 20, 12, 40, 75.0])
    rel = [total([0, 1, 2, 3], 4)]
    p = protect(x, POLICY.hidden(x), rel, POLICY, cost=[3, -1, 12, 40, 75])
    assert p.safe and p.hidden[1] and p.secondary[1]
    assert protect(x, [False] * 5, [], POLICY, cost=[3, -1, 12, 40, 75]).hidden.tolist() == [False, True, False, False, False]
