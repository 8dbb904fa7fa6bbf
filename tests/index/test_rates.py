"""Rates that do not mislead: Empirical Bayes smoothing, denominators, the small-zone rule."""

from __future__ import annotations

from pathlib import Path

import esda.smoothing
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geoprio.errors import ConfigError, InputError
from geoprio.index.config import IndicatorConfig, load_config, parse_config
from geoprio.index.estimator import PriorityIndex
from geoprio.index.measures import SmallZoneRule, indicator_table, indicator_values
from geoprio.index.rates import eb_global, eb_spatial, raw_rate
from geoprio.index.run import run_index
from geoprio.records.load import load_points
from geoprio.zones.layers import contiguity, load_zones
from geoprio.zones.tie import attach

ROOT = Path(__file__).resolve().parents[2]
E = np.array([5.0, 10.0, 60.0, 1.0])
B = np.array([100.0, 1000.0, 2000.0, 50.0])


def test_eb_global_by_hand():
    # Worked on paper: r = [.05, .01, .03, .02]; m = 76 / 3150 = 0.024127;
    # Σ b (r − m)² / Σ b = 0.336347 / 3150 = 1.06777e-4; m / mean(b) = 0.024127 / 787.5 = 3.0637e-5;
    # s² = 7.6139e-5.  Zone A (b = 100): w = s² / (s² + m / 100) = 0.23987,
    # smoothed = 0.23987 · 0.05 + 0.76013 · 0.024127 = 0.030333.
    smoothed = eb_global(E, B)
    assert smoothed[0] == pytest.approx(0.030333, rel=1e-4)
    m = 76 / 3150
    s2 = (B * (E / B - m) ** 2).sum() / 3150 - m / 787.5
    assert s2 == pytest.approx(7.6139e-5, rel=1e-4)
    np.testing.assert_allclose(smoothed, s2 / (s2 + m / B) * (E / B) + (1 - s2 / (s2 + m / B)) * m, rtol=1e-12)
    # the smallest zones move most towards m; the largest barely moves
    moved = np.abs(smoothed - E / B) / np.abs(E / B - m)
    assert moved[3] > moved[0] > moved[1] > moved[2]


def test_eb_global_and_spatial_agree_with_esda():
    rng = np.random.default_rng(4)
    b = rng.integers(200, 80_000, 30).astype(float)
    e = rng.poisson(b * rng.uniform(2e-4, 4e-3, 30)).astype(float)
    np.testing.assert_allclose(eb_global(e, b), esda.smoothing.Empirical_Bayes(e, b).r.ravel(), rtol=1e-12)
    w = libpysal.weights.lat2W(5, 6, rook=False)
    w.id_order = list(range(30))
    np.testing.assert_allclose(eb_spatial(e, b, w.sparse), esda.smoothing.Spatial_Empirical_Bayes(e, b, w).r.ravel(), rtol=1e-12)


def test_negative_variance_shrinks_fully_to_the_mean():
    # r = [.02, .01, .015, .02], m = 43 / 3150: Σ b (r − m)² / Σ b = 7.31e-6 < m / mean(b) = 1.73e-5,
    # so the rates vary less than Poisson noise alone would make them: every zone gets m
    e, b = np.array([2.0, 10.0, 30.0, 1.0]), np.array([100.0, 1000.0, 2000.0, 50.0])
    assert eb_global(e, b) == pytest.approx(np.full(4, 43 / 3150))


def test_smoothing_input_errors_and_raw_rate():
    with pytest.raises(InputError, match="positive population"):
        eb_global(np.array([1.0, 2.0]), np.array([10.0, 0.0]))
    with pytest.raises(InputError, match="same length"):
        eb_global(np.array([1.0]), np.array([10.0, 20.0]))
    assert np.isnan(raw_rate(np.array([3.0]), np.array([0.0]))).all()


def test_queen_contiguity_of_a_2x2_block():
    geoms = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2), box(5, 5, 6, 6)])
    A = contiguity(geoms).toarray()
    expected = np.ones((4, 4)) - np.eye(4)  # corners touch too (queen)
    np.testing.assert_array_equal(A[:4, :4], expected)
    assert A[4].sum() == 0
    gap = np.array([box(0, 0, 1, 1), box(1.5, 0, 2.5, 1)])
    assert contiguity(gap).sum() == 0 and contiguity(gap, tolerance=0.6).sum() == 2


def zones_and_records():
    """Four zones in a row; a tiny one (50 residents) with 2 incidents."""
    g = gpd.GeoDataFrame(
        {"cod": list("ABCD"), "pob": [50, 1000, 2000, 100_000], "flot": [5000, 1000, 2000, 100_000]},
        geometry=[box(-74.10 + 0.01 * i, 4.60, -74.09 + 0.01 * i, 4.61) for i in range(4)],
        crs="EPSG:4326",
    )
    z = load_zones(g, id="cod", population="pob", ambient="flot")
    counts = {"A": 2, "B": 10, "C": 30, "D": 1000}
    xs = [(-74.095 + 0.01 * i) for i, k in enumerate("ABCD") for _ in range(counts[k])]
    recs = attach(load_points(pd.DataFrame({"lon": [str(v) for v in xs], "lat": ["4.605"] * len(xs)})), z)
    return z, recs


def test_rate_indicator_smoothing_denominators_and_small_zones():
    z, recs = zones_and_records()
    raw = indicator_values(IndicatorConfig(name="r", source="s", measure="rate"), recs, z)
    assert raw.values.tolist() == pytest.approx([4000.0, 1000.0, 1500.0, 1000.0])
    amb = indicator_values(IndicatorConfig(name="r", source="s", measure="rate", denominator="ambient"), recs, z)
    assert amb.values["A"] == pytest.approx(2 / 5000 * 1e5)
    eb = indicator_values(IndicatorConfig(name="r", source="s", measure="rate", smoothing="eb"), recs, z)
    e, b = np.array([2.0, 10, 30, 1000]), np.array([50.0, 1000, 2000, 100_000])
    assert eb.values.to_numpy() == pytest.approx(eb_global(e, b) * 1e5)
    assert eb.raw_rate.tolist() == pytest.approx(raw.values.tolist())  # the raw rate is kept beside it
    spatial = indicator_values(IndicatorConfig(name="r", source="s", measure="rate", smoothing="eb_spatial"), recs, z)
    assert spatial.values.to_numpy() == pytest.approx(eb_spatial(e, b, z.adjacency) * 1e5)
    # the rule: zones under 100 residents
    rule = SmallZoneRule(100, "smooth")
    sm = indicator_values(IndicatorConfig(name="r", source="s", measure="rate"), recs, z, small_zones=rule)
    assert sm.small.tolist() == [True, False, False, False]
    assert sm.values["A"] == pytest.approx(eb.values["A"]) and sm.values["B"] == raw.values["B"]
    ind = [IndicatorConfig(name="r", source="s", measure="rate")]
    t = indicator_table(ind, {"s": recs}, z, small_zones=SmallZoneRule(100, "exclude"))
    assert t.small.tolist() == [True, False, False, False]
    assert t.exclude == {"A": "denominador menor que 100 (población 50)"}
    m = PriorityIndex().fit(t.values, exclude=t.exclude)
    assert "A" not in m.index_.index and m.excluded_["A"].startswith("denominador menor")


def test_monte_carlo_over_denominators_widens_the_small_zones_interval():
    rng = np.random.default_rng(0)
    n = 40
    pop = rng.integers(20_000, 200_000, n).astype(float)
    pop[0] = 300.0  # a commercial zone: few residents, many incidents
    events = rng.poisson(pop * 0.01)
    events[0] = 60
    rate = pd.DataFrame({"r": events / pop * 1e5}, index=[f"z{i}" for i in range(n)])
    counts = pd.DataFrame({"r": events.astype(float)}, index=rate.index)
    m = PriorityIndex().fit(rate)
    assert m.rank_["z0"] == 1
    fixed = m.robustness(n_draws=400, random_state=1)
    varied = m.robustness(n_draws=400, random_state=1, alternatives={"none": counts})
    assert fixed.loc["z0", "rank_p95"] == 1  # one indicator: weights and normalizations cannot move it
    assert varied.loc["z0", "rank_p95"] > 30  # counted instead of rated, it falls to the bottom
    assert 0.3 < varied.loc["z0", "p_top_10"] < 0.7
    with pytest.raises(ConfigError, match="must have the indicators"):
        m.robustness(alternatives={"x": counts.rename(columns={"r": "q"})})


def test_config_checks_for_smoothing_and_denominators():
    base = {
        "zones": {"path": "z.geojson", "id": "c", "population": {"path": "p.csv", "id": "c", "column": "n"}},
        "sources": {"d": {"path": "d.csv"}},
        "indicators": [{"name": "a", "source": "d", "weight": 1, "measure": "rate", "smoothing": "eb"}],
    }
    parse_config(base)
    with pytest.raises(ConfigError, match="apply to measure = 'rate' only"):
        parse_config({**base, "indicators": [{"name": "a", "source": "d", "weight": 1, "smoothing": "eb"}]})
    with pytest.raises(ConfigError, match="denominator 'ambient' needs an ambient population"):
        parse_config({**base, "indicators": [{"name": "a", "source": "d", "weight": 1, "measure": "rate", "denominator": "ambient"}]})
    with pytest.raises(ConfigError, match="robustness.denominators includes 'ambient'"):
        parse_config({**base, "robustness": {"denominators": ["ambient"]}})


def test_bogota_raw_against_smoothed(shared_data, tmp_path):
    def run(name: str):
        cfg = load_config(ROOT / "data" / "examples" / name)
        cfg = cfg.model_copy(
            update={
                "output": cfg.output.model_copy(update={"dir": tmp_path / name, "formats": ["csv"]}),
                "robustness": cfg.robustness.model_copy(update={"draws": 300}),
            }
        )
        return run_index(cfg).table.set_index("zone_id")

    raw, smooth = run("bogota_upz_2019_cruda.toml"), run("bogota_upz_2019_suavizado.toml")
    # El Mochuelo: 2 homicides among 1,466 residents is 136 per 100,000 raw; smoothing takes it out of the top ten
    assert raw.loc["UPZ63", "rank"] <= 3 and smooth.loc["UPZ63", "rank"] > 10
    assert smooth.loc["UPZ63", "homicidios__rate_raw"] == pytest.approx(raw.loc["UPZ63", "homicidios"])
    assert smooth.loc["UPZ63", "homicidios"] < raw.loc["UPZ63", "homicidios"] / 2
    # large zones barely move: La Sabana (52,197 residents) keeps a rate within 12 %
    assert smooth.loc["UPZ102", "homicidios"] == pytest.approx(raw.loc["UPZ102", "homicidios"], rel=0.12)
    small = set(smooth.index[smooth["small_denominator"]])
    assert {"UPZ108", "UPZ63", "UPZ3", "UPZ117"} <= small and len(small) == 10
    # drawing the denominator widens the intervals of small zones far more than of large ones
    width = smooth["rank_p95"] - smooth["rank_p05"]
    assert width[list(small)].median() > 3 * width.drop(index=list(small)).median()
