"""Pillars: indicators aggregated per pillar, then across pillars (hand-computed and on real data)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geoprio.errors import ConfigError
from geoprio.index.config import load_config, parse_config
from geoprio.index.estimator import PriorityIndex, check_pillars
from geoprio.index.run import run_index

ROOT = Path(__file__).resolve().parents[2]

# 4 zones, 3 indicators; min-max by hand:
#   a: 0 1 2 4  → 0, .25, .5, 1        b: 10 0 5 10 → 1, 0, .5, 1        c: 2 0 8 4 → .25, 0, 1, .5
X = pd.DataFrame({"a": [0.0, 1, 2, 4], "b": [10.0, 0, 5, 10], "c": [2.0, 0, 8, 4]}, index=list("ABCD"))
PILLARS = {"p1": ["a", "b"], "p2": ["c"]}
W = {"a": 3.0, "b": 1.0, "c": 5.0}  # within p1: .75 / .25; c alone in p2 (its weight does not matter)
PW = {"p1": 1.0, "p2": 3.0}  # → .25 / .75
# pillar scores, arithmetic within: S1 = 100 (.75 a + .25 b), S2 = 100 c
S1 = [25.0, 18.75, 50.0, 100.0]
S2 = [25.0, 0.0, 100.0, 50.0]


def fit(**kw):
    opts = {"weights": W, "pillars": PILLARS, "pillar_weights": PW} | kw
    return PriorityIndex(**opts).fit(X)


# ------------------------------------------------------------------ by hand


def test_two_pillars_arithmetic_by_hand():
    m = fit()
    assert m.pillar_scores_["p1"].tolist() == pytest.approx(S1)
    assert m.pillar_scores_["p2"].tolist() == pytest.approx(S2)
    # I = .25 S1 + .75 S2
    assert m.index_.tolist() == pytest.approx([25.0, 4.6875, 87.5, 62.5])
    assert m.rank_.tolist() == [3, 4, 1, 2]
    assert m.pillar_weights_.to_dict() == pytest.approx({"p1": 0.25, "p2": 0.75})
    # effective weights Wₚ w̃ᵢ
    assert m.weights_.to_dict() == pytest.approx({"a": 0.1875, "b": 0.0625, "c": 0.75})
    # contributions 100 Wₚ w̃ᵢ nᵢ: zone A (n = 0, 1, .25)
    assert m.contributions_.loc["A"].tolist() == pytest.approx([0.0, 6.25, 18.75])
    assert m.contributions_.loc["D"].tolist() == pytest.approx([18.75, 6.25, 37.5])
    assert m.pillar_contributions_.loc["C"].tolist() == pytest.approx([12.5, 75.0])
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-9)
    t = m.table()
    assert t.loc["C", "pillar__p1"] == 50.0 and t.loc["C", "pillar__p2"] == 100.0
    assert list(t.columns[:6]) == ["index", "rank", "tier", "drivers", "pillar__p1", "pillar__p2"]


def test_two_pillars_geometric_across_by_hand():
    m = fit(pillar_aggregation="geometric")

    def geo(s1, s2):  # (Π (1 + 99 sₚ)^Wₚ − 1) / 99 × 100 with sₚ = Sₚ / 100
        return ((1 + 0.99 * s1) ** 0.25 * (1 + 0.99 * s2) ** 0.75 - 1) / 99 * 100

    expected = [geo(a, b) for a, b in zip(S1, S2, strict=True)]
    assert expected[0] == pytest.approx(25.0)  # equal pillar scores: the geometric mean is the score
    assert m.index_.tolist() == pytest.approx(expected)
    assert m.pillar_scores_["p1"].tolist() == pytest.approx(S1)  # pillar scores do not depend on the across step
    # zone C: pillar shares of log G, then split within p1 as 37.5 : 12.5 (its contributions to S1 = 50)
    l1, l2 = 0.25 * math.log(1 + 0.99 * 50), 0.75 * math.log(1 + 0.99 * 100)
    share1, share2 = expected[2] * l1 / (l1 + l2), expected[2] * l2 / (l1 + l2)
    assert m.pillar_contributions_.loc["C"].tolist() == pytest.approx([share1, share2])
    assert m.contributions_.loc["C"].tolist() == pytest.approx([share1 * 37.5 / 50, share1 * 12.5 / 50, share2])
    # zone B: p2 scores 0, so log(1 + 99·0) = 0 and p1 takes the whole index
    assert m.contributions_.loc["B", "c"] == 0.0
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-9)
    # the unbalanced zones lose ground against the arithmetic mean across pillars
    assert m.index_["B"] < fit().index_["B"] and m.index_["D"] < fit().index_["D"]


def test_geometric_within_pillars_by_hand():
    m = fit(aggregation="geometric")
    # p1 for zone B: a = .25, b = 0 → (1 + 24.75)^.75 · 1^.25
    g = (1 + 99 * 0.25) ** 0.75
    assert m.pillar_scores_.loc["B", "p1"] == pytest.approx((g - 1) / 99 * 100)
    assert m.pillar_scores_["p2"].tolist() == pytest.approx(S2)  # one indicator: its own normalized value
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-9)


def test_arithmetic_pillars_equal_the_flat_index_with_effective_weights():
    for norm in ("minmax", "rank"):
        m = fit(normalization=norm)
        flat = PriorityIndex(normalization=norm, weights=m.weights_.to_dict()).fit(X)
        np.testing.assert_allclose(m.index_, flat.index_, atol=1e-9)
        np.testing.assert_allclose(m.contributions_, flat.contributions_, atol=1e-9)
        assert m.rank_.tolist() == flat.rank_.tolist()


def test_one_pillar_with_every_indicator_is_the_flat_index():
    for agg in ("arithmetic", "geometric"):
        for across in ("arithmetic", "geometric"):
            m = PriorityIndex(weights=W, aggregation=agg, pillars={"all": ["a", "b", "c"]}, pillar_aggregation=across).fit(X)
            flat = PriorityIndex(weights=W, aggregation=agg).fit(X)
            np.testing.assert_allclose(m.index_, flat.index_, atol=1e-9)
            np.testing.assert_allclose(m.contributions_, flat.contributions_, atol=1e-9)


def test_winsorize_is_applied_per_indicator_before_normalizing():
    Xw = pd.DataFrame({"a": [0.0, 1, 2, 3, 100], "b": [40.0, 30, 20, 10, 0]}, index=list("VWXYZ"))
    m = PriorityIndex(winsorize=(0.0, 0.75), pillars={"p": ["a"], "q": ["b"]}).fit(Xw)
    # a: 75th percentile 3 → 0 1 2 3 3 → 0, ⅓, ⅔, 1, 1;  b: 75th percentile 30 → 30 30 20 10 0 → 1, 1, ⅔, ⅓, 0
    assert m.pillar_scores_["p"].tolist() == pytest.approx([0, 100 / 3, 200 / 3, 100, 100])
    assert m.pillar_scores_["q"].tolist() == pytest.approx([100, 100, 200 / 3, 100 / 3, 0])
    assert m.index_.tolist() == pytest.approx([50, 200 / 3, 200 / 3, 200 / 3, 50])


def test_zscore_within_pillars_rescales_each_pillar():
    m = fit(normalization="zscore")
    for p in ("p1", "p2"):
        assert m.pillar_scores_[p].min() == pytest.approx(0) and m.pillar_scores_[p].max() == pytest.approx(100)
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-9)
    np.testing.assert_allclose(m.index_, 0.25 * m.pillar_scores_["p1"] + 0.75 * m.pillar_scores_["p2"], atol=1e-9)


def test_equal_pillar_weights_and_drivers():
    m = PriorityIndex(pillars=PILLARS, labels={"a": "Hurtos", "b": "Riñas", "c": "VIF"}).fit(X)
    assert m.pillar_weights_.tolist() == [0.5, 0.5]
    assert m.weights_.tolist() == [0.25, 0.25, 0.5]
    # zone A: a 0, b 1, c .25 → contributions 0, 25, 12.5 of 37.5; zone B: a .25 → 6.25, alone
    assert m.drivers()["A"] == "Riñas 67 %; VIF 33 %"
    assert m.drivers()["B"] == "Hurtos 100 %"


def test_no_pillars_is_unchanged():
    flat = PriorityIndex(weights=W).fit(X)
    assert not hasattr(flat, "pillar_scores_")
    assert not any(c.startswith("pillar__") for c in flat.table().columns)


# ------------------------------------------------------------------ errors


def test_pillar_errors_name_the_problem():
    with pytest.raises(ConfigError, match=r"in no pillar: \['c'\]"):
        PriorityIndex(pillars={"p1": ["a", "b"]}).fit(X)
    with pytest.raises(ConfigError, match=r"exactly one pillar.*'b' in \['p1', 'p2'\]"):
        PriorityIndex(pillars={"p1": ["a", "b"], "p2": ["b", "c"]}).fit(X)
    with pytest.raises(ConfigError, match=r"unknown indicators \['d'\]"):
        PriorityIndex(pillars={"p1": ["a", "b", "d"], "p2": ["c"]}).fit(X)
    with pytest.raises(ConfigError, match=r"missing \[\], unknown pillars \['p3'\]"):
        PriorityIndex(pillars=PILLARS, pillar_weights={"p1": 1, "p2": 1, "p3": 1}).fit(X)
    with pytest.raises(ConfigError, match=r"missing \['p2'\]"):
        PriorityIndex(pillars=PILLARS, pillar_weights={"p1": 1}).fit(X)
    with pytest.raises(ConfigError, match="non-negative with a positive sum"):
        PriorityIndex(pillars=PILLARS, pillar_weights={"p1": -1, "p2": 1}).fit(X)
    with pytest.raises(ConfigError, match="at least one indicator"):
        PriorityIndex(pillars={"p1": ["a", "b", "c"], "p2": []}).fit(X)
    with pytest.raises(ConfigError, match="pillar name 'contrib' is not allowed"):
        PriorityIndex(pillars={"contrib": ["a", "b", "c"]}).fit(X)
    with pytest.raises(ConfigError, match="pillar name 'a__b' is not allowed"):
        PriorityIndex(pillars={"a__b": ["a", "b", "c"]}).fit(X)
    with pytest.raises(ConfigError, match="apply only with pillars"):
        PriorityIndex(pillar_aggregation="geometric").fit(X)
    with pytest.raises(ConfigError, match="unknown pillar_aggregation"):
        PriorityIndex(pillars=PILLARS, pillar_aggregation="harmonic").fit(X)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"pillar 'p2': the weights of its indicators \['c'\] sum to 0"):
        PriorityIndex(pillars=PILLARS, weights={"a": 1, "b": 1, "c": 0}).fit(X)
    with pytest.raises(ConfigError, match="needs an index fitted with pillars"):
        PriorityIndex().fit(X).robustness(n_draws=5, pillar_aggregations=["geometric"])
    check_pillars(PILLARS, ["a", "b", "c"], {"p1": 1, "p2": 0})  # a zero-weight pillar is allowed


def _doc(index: dict | None = None, robustness: dict | None = None) -> dict:
    doc = {
        "zones": {"path": "z.geojson", "id": "c"},
        "sources": {"d": {"path": "d.csv"}},
        "indicators": [{"name": n, "source": "d", "weight": 1} for n in ("a", "b", "c")],
        "index": {"pillars": {"p1": ["a", "b"], "p2": ["c"]}, **(index or {})},
    }
    if robustness is not None:
        doc["robustness"] = robustness
    return doc


def test_config_validates_pillars():
    cfg = parse_config(_doc({"pillar_weights": {"p1": 2, "p2": 1}, "pillar_aggregation": "geometric"}))
    assert cfg.index.pillars == {"p1": ["a", "b"], "p2": ["c"]} and cfg.index.pillar_weights == {"p1": 2.0, "p2": 1.0}
    with pytest.raises(
        ConfigError, match=r"c.toml: invalid configuration\n  \(top level\): every indicator must be in exactly one pillar; in no"
    ):
        parse_config(_doc({"pillars": {"p1": ["a", "b"]}}), source="c.toml")
    with pytest.raises(ConfigError, match=re.escape("in more than one (or listed twice): 'b' in ['p1', 'p2']")):
        parse_config(_doc({"pillars": {"p1": ["a", "b"], "p2": ["b", "c"]}}))
    with pytest.raises(ConfigError, match=re.escape("pillars name unknown indicators ['x']")):
        parse_config(_doc({"pillars": {"p1": ["a", "b", "x"], "p2": ["c"]}}))
    with pytest.raises(
        ConfigError, match=re.escape("index: pillar_weights must name every pillar exactly: missing [], unknown pillars ['p3']")
    ):
        parse_config(_doc({"pillar_weights": {"p1": 1, "p2": 1, "p3": 1}}))
    with pytest.raises(ConfigError, match="pillar_weights and pillar_aggregation need"):
        parse_config({**_doc(), "index": {"pillar_aggregation": "geometric"}})
    with pytest.raises(ConfigError, match="pillar name 'Delitos y más' is not allowed"):
        parse_config(_doc({"pillars": {"Delitos y más": ["a", "b", "c"]}}))
    with pytest.raises(ConfigError, match="robustness.pillar_aggregations needs"):
        parse_config({**_doc(), "index": {}, "robustness": {"pillar_aggregations": ["geometric"]}})


# ------------------------------------------------------------------ Monte Carlo


def test_monte_carlo_with_pillars_without_noise_reproduces_the_nominal_rank():
    for across in ("arithmetic", "geometric"):
        m = fit(pillar_aggregation=across)
        s = m.robustness(n_draws=40, weight_spread=0.0, normalizations=["minmax"], top_k=1, random_state=0)
        assert (s["rank_p05"] == s["rank_nominal"]).all() and (s["rank_p95"] == s["rank_nominal"]).all()
        np.testing.assert_array_equal(m.draw_ranks_, np.repeat(m.rank_.to_numpy()[:, None], 40, axis=1))


def test_monte_carlo_with_pillars_matches_draw_by_draw_refits():
    rng = np.random.default_rng(5)
    Xr = pd.DataFrame(rng.gamma(2, 10, size=(30, 5)), columns=list("abcde"), index=[f"z{i}" for i in range(30)])
    pillars = {"x": ["a", "b"], "y": ["c", "d", "e"]}
    m = PriorityIndex(pillars=pillars, weights={"a": 1, "b": 2, "c": 1, "d": 1, "e": 3}, pillar_weights={"x": 2, "y": 1}).fit(Xr)
    s = m.robustness(
        n_draws=25, weight_spread=0.4, normalizations=["minmax"], pillar_aggregations=["arithmetic", "geometric"], random_state=3
    )
    assert s["rank_median"].between(1, 30).all()
    # replay the same random stream and refit every draw with the drawn weights
    g = np.random.default_rng(3)
    fi = g.uniform(0.6, 1.4, size=(25, 5))
    fp = g.uniform(0.6, 1.4, size=(25, 2))
    pick = g.integers(0, 2, size=25)
    w_within = np.array([1 / 3, 2 / 3, 1 / 5, 1 / 5, 3 / 5])
    for d in range(25):
        w = dict(zip("abcde", w_within * fi[d], strict=True))
        pw = dict(zip("xy", np.array([2 / 3, 1 / 3]) * fp[d], strict=True))
        ref = PriorityIndex(pillars=pillars, weights=w, pillar_weights=pw, pillar_aggregation=("arithmetic", "geometric")[pick[d]]).fit(Xr)
        np.testing.assert_array_equal(m.draw_ranks_[:, d], ref.rank_.to_numpy())


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(3, 20), st.integers(2, 5)), elements=st.floats(0, 1e4)),
    st.integers(1, 4),
    st.sampled_from(["minmax", "zscore", "rank"]),
    st.sampled_from(["arithmetic", "geometric"]),
    st.sampled_from(["arithmetic", "geometric"]),
)
def test_property_pillar_index_in_range_and_contributions_add_up(values, cut, norm, agg, across):
    if norm == "zscore":
        agg = "arithmetic"
    k = values.shape[1]
    cut = min(cut, k - 1)
    cols = [f"i{j}" for j in range(k)]
    Xp = pd.DataFrame(values, columns=cols, index=[f"z{i}" for i in range(len(values))])
    m = PriorityIndex(normalization=norm, aggregation=agg, pillars={"u": cols[:cut], "v": cols[cut:]}, pillar_aggregation=across).fit(Xp)
    assert ((m.index_ >= 0) & (m.index_ <= 100)).all()
    assert ((m.pillar_scores_ >= 0) & (m.pillar_scores_ <= 100)).all().all()
    np.testing.assert_allclose(m.contributions_.sum(axis=1), m.index_, atol=1e-6)
    np.testing.assert_allclose(m.pillar_contributions_.sum(axis=1), m.index_, atol=1e-6)
    assert m.weights_.sum() == pytest.approx(1.0)


# ------------------------------------------------------------------ runs from config files


def test_demo_config_with_pillars(tmp_path):
    demo = ROOT / "data" / "demo"
    text = (demo / "indice.toml").read_text(encoding="utf-8")
    text = re.sub(r'^path = "([^"]+)"', lambda mt: f'path = "{(demo / mt.group(1)).as_posix()}"', text, flags=re.M)
    text = text.replace('dir = "output"', f'dir = "{(tmp_path / "out").as_posix()}"').replace("draws = 1000", "draws = 200")
    text = text.replace(
        "[robustness]",
        'pillar_aggregation = "geometric"\n\n'
        "[index.pillars]\n"
        'violencia_y_delitos = ["violencia", "hurto_personas", "hurto_patrimonio", "tendencia"]\n'
        'convivencia = ["convivencia", "quejas"]\n\n'
        "[index.pillar_weights]\nviolencia_y_delitos = 3\nconvivencia = 1\n\n"
        "[robustness]",
    )
    (tmp_path / "pilares.toml").write_text(text, encoding="utf-8")
    run = run_index(load_config(tmp_path / "pilares.toml"))
    run.write()
    m, t = run.index, run.table.set_index("zone_id")
    assert m.pillar_weights_.to_dict() == pytest.approx({"violencia_y_delitos": 0.75, "convivencia": 0.25})
    # explicit weights 4, 3, 2, 1 within the first pillar, 1.5 and 1 within the second
    assert m.weights_["violencia"] == pytest.approx(0.75 * 4 / 10) and m.weights_["quejas"] == pytest.approx(0.25 * 1 / 2.5)
    ranked = t[t["rank"].notna()]
    s1, s2 = ranked["pillar__violencia_y_delitos"], ranked["pillar__convivencia"]
    expected = ((1 + 0.99 * s1) ** 0.75 * (1 + 0.99 * s2) ** 0.25 - 1) / 99 * 100
    np.testing.assert_allclose(ranked["index"], expected, atol=1e-3)  # the table rounds to 4 decimals
    contrib = ranked[[c for c in ranked.columns if c.endswith("__contrib")]].sum(axis=1)
    np.testing.assert_allclose(contrib, ranked["index"], atol=1e-3)
    assert {"rank_p05", "rank_p95"} <= set(t.columns)
    assert run.notes["pillars"]["convivencia"] == {"indicators": ["convivencia", "quejas"], "weight": 0.25}
    written = pd.read_csv(tmp_path / "out" / "indice_upz.csv")
    assert {"pillar__violencia_y_delitos", "pillar__convivencia"} <= set(written.columns)
    # the API's zone detail serves the pillar scores
    from fastapi.testclient import TestClient
    from geoprio.api.main import create_app
    from geoprio.api.settings import Settings

    settings = Settings(data_dir=tmp_path / "out", maps_dir=tmp_path / "maps", database_url=f"sqlite:///{tmp_path}/api.sqlite")
    with TestClient(create_app(settings)) as client:
        first = ranked["rank"].idxmin()
        detail = client.get(f"/zones/{first}").json()
    assert detail["pillars"] == pytest.approx({"violencia_y_delitos": s1[first], "convivencia": s2[first]}, abs=1e-6)


def test_bogota_localidades_pillars_example(shared_data, tmp_path):
    cfg = load_config(ROOT / "data" / "examples" / "bogota_localidades_pilares.toml")
    cfg = cfg.model_copy(
        update={
            "output": cfg.output.model_copy(update={"dir": tmp_path, "formats": ["csv"]}),
            "robustness": cfg.robustness.model_copy(update={"draws": 200}),
        }
    )
    run = run_index(cfg)
    t = run.table.set_index("zone_id")
    assert len(t) == 19 and "20" not in t.index and t["rank"].notna().all()
    # recompute from the raw files: rates, per-indicator winsorizing at 5–95 %, min-max, means
    bog = shared_data / "bogota"
    pop = pd.read_csv(bog / "poblacion_localidad_2018_2024.csv", dtype={"LocCodigo": str})
    pop = pop[pop["anio"] == 2019].set_index("LocCodigo")["total"].drop("20")
    dai = pd.read_csv(bog / "dai_upz_2018_2021_attributes.csv", dtype={"LocCodigo": str}).dropna(subset=["LocCodigo"])
    dai = dai.groupby("LocCodigo")[["CMVI19CONT", "CMH19CONT", "CMLP19CONT"]].sum().reindex(pop.index)
    nuse = pd.read_csv(bog / "nuse123_dai_ranking_localidad_2023_2026.csv")
    nuse.index = nuse["cod_localidad"].astype(int).map("{:02d}".format)
    theft = run.sources["policia"].data.groupby("zone_id")["weight"].sum().reindex(pop.index)
    raw = pd.DataFrame(
        {
            "violencia_intrafamiliar": dai["CMVI19CONT"] / pop * 1e5,
            "llamadas_violencia": nuse["tasa_violencia_media"].reindex(pop.index),
            "homicidios": dai["CMH19CONT"] / pop * 1e5,
            "lesiones_personales": dai["CMLP19CONT"] / pop * 1e5,
            "hurto_personas": theft / pop * 1e5,
        }
    )
    clipped = raw.clip(raw.quantile(0.05), raw.quantile(0.95), axis=1)
    n = (clipped - clipped.min()) / (clipped.max() - clipped.min())
    amb = 100 * n[["violencia_intrafamiliar", "llamadas_violencia"]].mean(axis=1)
    dlt = 100 * n[["homicidios", "lesiones_personales", "hurto_personas"]].mean(axis=1)
    np.testing.assert_allclose(t.loc[pop.index, "pillar__ambiente_seguridad"], amb, atol=1e-3)
    np.testing.assert_allclose(t.loc[pop.index, "pillar__delitos"], dlt, atol=1e-3)
    np.testing.assert_allclose(t.loc[pop.index, "index"], (amb + dlt) / 2, atol=1e-3)
    top = t.sort_values("rank").head(5)
    assert top.index.tolist() == ["17", "14", "03", "15", "06"]  # Candelaria, Los Mártires, Santa Fe, Antonio Nariño, Tunjuelito
    assert run.index.weights_.to_dict() == pytest.approx(
        {
            "violencia_intrafamiliar": 0.25,
            "llamadas_violencia": 0.25,
            "homicidios": 1 / 6,
            "lesiones_personales": 1 / 6,
            "hurto_personas": 1 / 6,
        }
    )


def test_pillar_weights_none_means_equal_and_a_series_is_accepted():
    a = PriorityIndex(pillars=PILLARS, pillar_weights=None).fit(X)
    b = PriorityIndex(pillars=PILLARS).fit(X)
    pd.testing.assert_series_equal(a.index_, b.index_)
    c = PriorityIndex(weights=W, pillars=PILLARS, pillar_weights=pd.Series(PW)).fit(X)
    assert c.index_.tolist() == pytest.approx([25.0, 4.6875, 87.5, 62.5])
    with pytest.raises(ConfigError, match="apply only with pillars"):
        PriorityIndex(pillar_weights=pd.Series(PW)).fit(X)
    assert PriorityIndex(pillar_weights=None).fit(X).index_.tolist() == PriorityIndex().fit(X).index_.tolist()
