"""Displacement: the WDQ by hand, counts in target, buffer and control, errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely

from geoprio.errors import InputError
from geoprio.hotspots.displacement import displacement_areas, measure_displacement, reading, wdq


def test_wdq_by_hand():
    m = wdq(100, 60, 50, 55, 1000, 1000)
    # success 60/1000 - 100/1000 = -0.04; buffer 55/1000 - 50/1000 = 0.005
    assert m["success"] == pytest.approx(-0.04)
    assert m["buffer_displacement"] == pytest.approx(0.005)
    assert m["wdq"] == pytest.approx(-0.125)
    assert m["total_net_effect"] == pytest.approx((100 - 60) + (50 - 55))
    assert reading(m, "en") == "displacement smaller than the direct benefit (net gain)"
    # control halves: the target's fall is only the trend
    m2 = wdq(100, 50, 50, 20, 1000, 500)
    assert m2["success"] == pytest.approx(0.0) and np.isnan(m2["wdq"])
    assert reading(m2, "es").startswith("sin efecto")
    assert reading(wdq(100, 50, 50, 30, 1000, 1000), "en") == "diffusion of benefits to the buffer"  # WDQ = 0.4
    assert reading(wdq(100, 90, 50, 80, 1000, 1000), "en") == "displacement larger than the direct benefit (net loss)"  # WDQ = -3


def test_counts_in_the_three_areas():
    target = shapely.box(0, 0, 100, 100)
    study = shapely.box(-2000, -2000, 2000, 2000)
    t, ring, ctrl = displacement_areas(np.array([target]), buffer_m=250, study_area=study)
    assert shapely.area(ring) == pytest.approx(shapely.area(shapely.buffer(target, 250)) - 1e4)
    assert not shapely.intersects(ctrl, shapely.buffer(target, 499))  # control starts beyond 2 × buffer
    xy = np.array(
        [[50, 50], [50, 50], [200, 50], [1500, 1500], [1500, -1500], [50, 50], [200, 50], [200, 60], [1500, 1500], [-1500, 1500]],
        dtype=float,
    )
    dates = pd.to_datetime(
        [
            "2020-01-10",
            "2020-02-01",
            "2020-01-20",
            "2020-01-05",
            "2020-02-01",
            "2020-03-10",
            "2020-03-11",
            "2020-03-12",
            "2020-03-15",
            "2020-03-20",
        ]
    )
    res = measure_displacement(xy, dates, None, t, ring, ctrl, start=dt.date(2020, 3, 1), days=60)
    tab = res.table.set_index("area")
    assert tab.loc["target", ["before", "after"]].tolist() == [2, 1]
    assert tab.loc["buffer", ["before", "after"]].tolist() == [1, 2]
    assert tab.loc["control", ["before", "after"]].tolist() == [2, 2]
    # success 1/2 - 2/2 = -0.5; buffer 2/2 - 1/2 = 0.5; WDQ -1
    assert res.measures == pytest.approx(wdq(2, 1, 1, 2, 2, 2))
    assert res.measures["wdq"] == pytest.approx(-1.0)
    assert res.before == (dt.date(2020, 1, 1), dt.date(2020, 2, 29)) and res.after == (dt.date(2020, 3, 1), dt.date(2020, 4, 29))


def test_errors():
    target = np.array([shapely.box(0, 0, 100, 100)])
    with pytest.raises(InputError, match="buffer_m must be a positive number of metres, got -10"):
        displacement_areas(target, buffer_m=-10, study_area=shapely.box(-1000, -1000, 1000, 1000))
    with pytest.raises(InputError, match="the control area is empty"):
        displacement_areas(target, buffer_m=250, study_area=shapely.box(-100, -100, 200, 200))
    t, r, c = displacement_areas(target, buffer_m=100, study_area=shapely.box(-1000, -1000, 1000, 1000))
    xy = np.array([[50.0, 50], [900, 900]])
    dates = pd.to_datetime(["2020-01-01", "2020-06-01"])
    with pytest.raises(InputError, match=r"start date 2021-01-01 is outside the data \(2020-01-01 – 2020-06-01\)"):
        measure_displacement(xy, dates, None, t, r, c, start=dt.date(2021, 1, 1))
    with pytest.raises(InputError, match="control area needs incidents in both periods"):
        wdq(1, 1, 1, 1, 0, 5)
