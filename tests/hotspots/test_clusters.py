"""Density clusters: DBSCAN against scikit-learn, planted clusters recovered, polygons, profiles, ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from geoprio.errors import ConfigError, InputError
from geoprio.hotspots.clusters import (
    DEFAULT_COMPLEXITY,
    ComplexityConfig,
    ComplexityIndicator,
    DensityClusters,
    cluster_polygons,
    dbscan,
    load_complexity_config,
    profile_clusters,
    rank_complexity,
)
from geoprio.index.estimator import PriorityIndex


def planted(seed: int = 0, n_clusters: int = 8, per: int = 300, noise: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Clusters of ``per`` points (σ = 40 m) on a 3 × 3 km lattice, plus uniform noise over 9 × 9 km."""
    rng = np.random.default_rng(seed)
    centres = np.array([(1500 + 3000 * (i % 3), 1500 + 3000 * (i // 3)) for i in range(n_clusters)], dtype=float)
    centres += rng.uniform(-300, 300, centres.shape)
    pts = np.concatenate([c + rng.normal(0, 40, (per, 2)) for c in centres])
    labels = np.repeat(np.arange(n_clusters), per)
    bg = rng.uniform(0, 9000, (noise, 2))
    return np.vstack([pts, bg]), np.concatenate([labels, np.full(noise, -1)])


def test_dbscan_equals_scikit_learn_with_duplicates_weights_and_chunks():
    X, _ = planted(1)
    X = np.round(X / 10) * 10  # many exact duplicates
    w = np.random.default_rng(2).integers(1, 4, len(X)).astype(float)
    for kwargs, sk in (({"min_samples": 12}, {}), ({"min_samples": 30, "sample_weight": w}, {"sample_weight": w})):
        ours = dbscan(X, eps_m=60, max_pairs=5_000, **kwargs)  # tiny chunks: many passes
        ref = DBSCAN(eps=60, min_samples=kwargs["min_samples"]).fit(X, **sk).labels_
        assert np.array_equal(ours >= 0, ref >= 0)
        assert adjusted_rand_score(ours, ref) == 1.0


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_planted_clusters_are_recovered(method, seed):
    X, truth = planted(seed)
    # DBSCAN with its defaults; HDBSCAN told that a place worth listing holds 50 incidents
    # (its default, 0.2 % of the points, is meant for city-wide data, where hot spots are small)
    model = DensityClusters(method=method, min_cluster_size=50 if method == "hdbscan" else None).fit(X)
    assert model.n_clusters_ == 8
    assert adjusted_rand_score(truth, model.labels_) >= 0.9
    assert model.params_["method"] == method


def test_hdbscan_engines_agree_on_planted_clusters():
    pytest.importorskip("hdbscan")
    X, truth = planted(4, per=200, noise=300)
    a = DensityClusters(method="hdbscan", engine="hdbscan", min_cluster_size=50).fit(X)
    b = DensityClusters(method="hdbscan", engine="sklearn", min_cluster_size=50).fit(X)
    assert a.engine_ == "hdbscan" and b.engine_ == "sklearn"
    assert adjusted_rand_score(truth, a.labels_) >= 0.9 and adjusted_rand_score(truth, b.labels_) >= 0.9


def test_labels_are_numbered_by_size():
    X = np.vstack([np.zeros((5, 2)), np.full((9, 2), 1000.0), np.full((7, 2), 2000.0)])
    labels = DensityClusters(method="dbscan", eps_m=10, min_samples=3).fit(X).labels_
    assert labels.tolist() == [2] * 5 + [0] * 9 + [1] * 7


def test_polygons_cover_their_points():
    X, _ = planted(5)
    labels = DensityClusters(method="dbscan").fit(X).labels_
    polys = cluster_polygons(X, labels, buffer_m=5)
    assert len(polys) == labels.max() + 1
    m = labels >= 0
    inside = shapely.intersects_xy(polys[labels[m]], X[m, 0], X[m, 1])
    assert inside.all()
    single = cluster_polygons(np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([0, 0]), buffer_m=25)
    assert shapely.area(single[0]) == pytest.approx(np.pi * 25**2, rel=0.05)


def test_profiles_by_hand():
    # cluster 0: three records at (0, 0); cluster 1: two at (1000, 0); one noise record
    X = np.array([[0.0, 0], [1, 0], [0, 1], [1000, 0], [1001, 0], [5000, 5000]])
    labels = np.array([0, 0, 0, 1, 1, -1])
    records = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-06-01", "2024-06-02", "2023-01-07", "2024-06-03", "2024-06-04", "2024-06-05"]),
            "hour": pd.array([22, 23, 2, 12, 12, 5], dtype="Int64"),
            "category": ["Hurto", "Hurto", "Lesiones", "Homicidio", "Homicidio", "Hurto"],
            "weight": [1.0, 1.0, 2.0, 1.0, 1.0, 1.0],
        }
    )
    polys = cluster_polygons(X, labels, buffer_m=10)
    zones = (np.array([shapely.box(-50, -50, 500, 50), shapely.box(500, -50, 2000, 50)]), np.array(["Norte", "Sur"]))
    ctx = {"convivencia": np.array([[0.5, 0.5], [1000.5, 0], [3000, 3000]])}
    p = profile_clusters(labels, X, records, polys, context=ctx, zones=zones, harm=np.array([32.0, 32, 16, 208, 208, 32]))
    assert p["cluster_id"].tolist() == ["HS001", "HS002"]
    assert p["incidents"].tolist() == [4.0, 2.0]
    assert p["share"].tolist() == pytest.approx([4 / 7, 2 / 7])
    assert p.loc[0, "top_categories"] == "Hurto 50 %; Lesiones 50 %"
    assert p.loc[1, "top_categories"] == "Homicidio 100 %"
    assert p.loc[0, "night_share"] == pytest.approx(1.0)  # 22 h, 23 h, 2 h
    assert p.loc[1, "hour_12"] == pytest.approx(1.0) and p.loc[1, "night_share"] == 0
    # 2024-06-01 is a Saturday, 06-02 a Sunday, 2023-01-07 a Saturday (weight 2)
    assert p.loc[0, "dow_sat"] == pytest.approx(0.75) and p.loc[0, "weekend_share"] == pytest.approx(1.0)
    assert p.loc[0, "peak_days"] == "sáb, dom"
    assert p.loc[0, "last_12m"] == 2 and p.loc[0, "previous_12m"] == 2
    assert p["harm"].tolist() == [32 + 32 + 2 * 16, 2 * 208]
    assert p["n_convivencia"].tolist() == [1, 1]
    assert p["zones"].tolist() == ["Norte", "Sur"]
    assert p.loc[0, "area_km2"] == pytest.approx(shapely.area(polys[0]) / 1e6)


def test_ranking_equals_the_priority_index():
    prof = pd.DataFrame(
        {
            "cluster_id": ["HS001", "HS002", "HS003"],
            "incidents": [100.0, 60.0, 30.0],
            "density_km2": [200.0, 900.0, 100.0],
            "night_share": [0.2, 0.5, 0.9],
        }
    )
    ranked, notes = rank_complexity(prof)
    ref = PriorityIndex(weights={"incidents": 2.0, "density_km2": 1.0, "night_share": 0.5}).fit(
        prof.set_index("cluster_id")[["incidents", "density_km2", "night_share"]]
    )
    assert ranked.set_index("cluster_id")["complexity"].to_dict() == pytest.approx(ref.index_.round(2).to_dict())
    assert ranked["cluster_id"].tolist() == ref.rank_.sort_values().index.tolist()
    assert notes["skipped"] == {"harm": "no column", "change_12m": "no column", "n_convivencia": "no column", "n_quejas": "no column"}
    cfg = ComplexityConfig(indicators=[ComplexityIndicator(name="nope")])
    with pytest.raises(ConfigError, match="complexity indicator 'nope' is not a cluster profile column"):
        rank_complexity(prof, cfg)


def test_complexity_config_from_toml(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(
        '[index]\nnormalization = "rank"\nweighting = "equal"\n\n'
        '[[indicators]]\nname = "incidents"\n\n[[indicators]]\nname = "night_share"\n',
        encoding="utf-8",
    )
    cfg = load_complexity_config(p)
    assert cfg.index.normalization == "rank" and [i.name for i in cfg.indicators] == ["incidents", "night_share"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[indicators]]\nname = "incidents"\nweight = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.toml: indicators.0.weight"):
        load_complexity_config(bad)
    assert DEFAULT_COMPLEXITY.indicators[0].name == "incidents"


def test_errors():
    X = np.zeros((10, 2))
    with pytest.raises(InputError, match="eps_m must be a positive number of metres, got -5"):
        DensityClusters(method="dbscan", eps_m=-5).fit(X)
    with pytest.raises(InputError, match="eps_m must be a positive number of metres, got 0"):
        dbscan(X, eps_m=0, min_samples=3)
    with pytest.raises(InputError, match="cluster method must be 'dbscan' or 'hdbscan'"):
        DensityClusters(method="kmeans").fit(X)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="min_cluster_size must be an integer of at least 2"):
        DensityClusters(min_cluster_size=1).fit(X)
    with pytest.raises(InputError, match="buffer_m must be a non-negative number of metres"):
        cluster_polygons(X, np.zeros(10, dtype=int), buffer_m=-1)


def test_fast_hdbscan_engine_recovers_planted_clusters():
    pytest.importorskip("fast_hdbscan")
    X, truth = planted(4, per=200, noise=300)
    model = DensityClusters(method="hdbscan", engine="fast_hdbscan", min_cluster_size=50).fit(X)
    ref = DensityClusters(method="hdbscan", engine="hdbscan", min_cluster_size=50).fit(X) if _has("hdbscan") else model
    assert model.engine_ == "fast_hdbscan" and model.params_["engine"] == "fast_hdbscan"
    assert adjusted_rand_score(truth, model.labels_) >= 0.9 and adjusted_rand_score(ref.labels_, model.labels_) >= 0.9
    with pytest.raises(InputError, match="engine must be 'auto', 'knn', 'fast_hdbscan', 'hdbscan' or 'sklearn'"):
        DensityClusters(engine="fastest").fit(X)  # type: ignore[arg-type]


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
