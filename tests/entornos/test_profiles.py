"""Hour × weekday profiles and peak windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geoprio.entornos.profiles import format_windows, peak_mask, place_profiles, windows
from geoprio.errors import ConfigError


def test_peak_hours_are_the_fewest_holding_the_share():
    day = np.zeros(24)
    day[[22, 23, 0, 1, 12]] = [5, 5, 5, 5, 1]  # 21 in all
    m = peak_mask(day, 0.5)  # 10.5 needs three of the four busy hours: the earliest on ties
    assert np.flatnonzero(m).tolist() == [0, 1, 22]
    assert format_windows(m) == "00:00–02:00, 22:00–23:00"
    m = peak_mask(day, 0.9)  # 18.9 needs all four: one window across midnight
    assert windows(m) == [(22, 4)] and format_windows(m) == "22:00–02:00"
    assert peak_mask(day, 1.0).sum() == 5
    assert not peak_mask(np.zeros(24), 0.5).any()  # no incidents, no peak


def test_week_windows_name_days_and_wrap_sunday_into_monday():
    week = np.zeros(168)
    week[[167, 0, 1]] = 3  # Sunday 23:00 to Monday 02:00
    week[24 * 4 + 20] = 1
    m = peak_mask(week, 0.8)
    assert format_windows(m) == "dom 23:00–02:00"
    assert format_windows(m, lang="en") == "Sun 23:00–02:00"
    long = np.zeros(168, bool)
    long[24 * 5 + 20 : 24 * 6 + 22] = True  # Saturday 20:00 to Sunday 22:00
    assert format_windows(long) == "sáb 20:00–dom 22:00"
    assert windows(np.ones(24, bool)) == [(0, 24)]
    with pytest.raises(ConfigError, match="peak share must be in \\(0, 1\\]"):
        peak_mask(week, 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=24, max_size=24), st.floats(0.05, 1.0))
def test_peak_mask_is_minimal(values, share):
    v = np.array(values, float)
    m = peak_mask(v, share)
    if v.sum() == 0:
        assert not m.any()
        return
    assert v[m].sum() >= share * v.sum() * (1 - 1e-9)
    # no smaller set can reach the share: the k-1 largest values fall short
    k = int(m.sum())
    assert np.sort(v)[::-1][: k - 1].sum() < share * v.sum() * (1 - 1e-12)


def test_place_profiles_bin_by_weekday_and_hour():
    place = np.array([0, 0, 1, 1, 1])
    weekday = np.array([4, 4, 0, np.nan, 6])
    hour = np.array([20, 20, 7, 7, np.nan])
    weight = np.array([1, 2, 1, 1, 5.0])
    p = place_profiles(place, weekday, hour, weight, pd.Index(["A", "B"]), share=0.5)
    assert p.week[0, 24 * 4 + 20] == 3 and p.week[0].sum() == 3
    assert p.week[1, 7] == 1 and p.week[1].sum() == 1  # the record without a date is in the day profile only
    assert p.day[1, 7] == 2 and p.no_hour.tolist() == [0, 5]
    peaks = p.peaks()
    assert peaks.loc["A", "peak_hours"] == "20:00–21:00" and peaks.loc["A", "peak_week"] == "vie 20:00–21:00"
    assert peaks.loc["B", "peak_hours_share"] == 1.0
    long = p.long()
    assert long.to_dict("records")[0] == {"place_id": "A", "weekday": 4, "day": "vie", "hour": 20, "incidents": 3.0}
