"""Clock times: each distinct text is parsed once and spread back to its rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from geoprio.records.parse import _parse_clock_values, parse_clock

TOKENS = ["19:00:00", "7:30 p. m.", "12:15 a.m.", "1900", "730", "19", "08:05", "", "  ", "sin dato", "25:00", "7:3", "abc", None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=40))
def test_distinct_values_parsed_once_give_what_every_row_parsed_gives(values):
    s = pd.Series(values, dtype=object)
    for got, want in zip(parse_clock(s), _parse_clock_values(s), strict=True):
        np.testing.assert_array_equal(got, want)


def test_clock_values_by_hand():
    hours, minutes, missing, bad = parse_clock(pd.Series(["7:30 p. m.", "7:30 p. m.", None, "25:00", "1900", "sin dato"]))
    np.testing.assert_array_equal(hours, [19, 19, np.nan, np.nan, 19, np.nan])
    np.testing.assert_array_equal(minutes, [30, 30, np.nan, np.nan, 0, np.nan])
    assert missing.tolist() == [False, False, True, False, False, True]
    assert bad.tolist() == [False, False, False, True, False, False]
