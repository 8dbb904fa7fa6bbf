"""The issue's attacks on ``/hotspots`` as served without a key (default settings): the Gi*
inversion on cells and density × area / period sums on clusters recover no more hidden values
exactly than the best constant guess; a ``read:records`` key still sees everything and
``min_count=0`` publishes everything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.hotspots import HotspotOptions, distance_band_weights

#: What an attacker who knows only the classes takes each class's z-score to be.
CLASS_Z = {"hot_99": 3.0, "hot_95": 2.2, "hot_90": 1.8, "none": 0.0, "cold_90": -1.8, "cold_95": -2.2, "cold_99": -3.0}


def _settings(root: Path, tmp: Path, **kw: Any) -> Settings:
    return Settings(data_dir=root / "demo" / "output", maps_dir=root / "maps", database_url=f"sqlite:///{tmp}/x.sqlite", **kw)


@pytest.fixture(scope="module")
def served(demo_root, tmp_path_factory) -> dict[str, Any]:
    """Every cell and cluster as the public, a read:records key and min_count=0 get them."""
    tmp = tmp_path_factory.mktemp("disclosure_hotspots")
    out: dict[str, Any] = {}
    with TestClient(create_app(_settings(demo_root, tmp))) as c:
        key = create_key(c.app.state.engine, "lector", ["read:records"])
        for who, headers in (("public", {}), ("keyed", {"X-API-Key": key})):
            for kind in ("cells", "clusters"):
                out[who, kind] = _all(c, kind, headers)
    (tmp / "zero").mkdir()
    with TestClient(create_app(_settings(demo_root, tmp / "zero", min_count=0))) as c:
        out["zero", "cells"] = _all(c, "cells", {})
        out["zero", "clusters"] = _all(c, "clusters", {})
    return out


def _all(client: TestClient, kind: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    feats, page = [], 1
    while page:
        r = client.get("/hotspots", params={"kind": kind, "format": "geojson", "page": page, "page_size": 500}, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        feats += body["features"]
        page = body["next"]
    return feats


def _props(feats: list[dict[str, Any]], column: str) -> np.ndarray:
    return np.array([np.nan if f["properties"].get(column) is None else f["properties"][column] for f in feats], dtype=float)


def _best_constant(true: np.ndarray) -> int:
    """Hidden values the best constant guess gets right: how often the commonest one occurs."""
    return int(np.unique(true, return_counts=True)[1].max()) if len(true) else 0


def gi_inversion(feats: list[dict[str, Any]], incidents: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The issue's attack: with the published counts as anchors, solve ``W·x − x̄·W·1 − S·c·z = 0``
    for the hidden counts (NaN in ``incidents``) and the unknown mean and spread, by least squares.
    """
    poly = shapely.from_geojson([json.dumps(f["geometry"]) for f in feats])
    centres = gpd.GeoSeries(poly, crs="EPSG:4326").to_crs("EPSG:9377").centroid
    xy = np.column_stack([centres.x, centres.y])
    W = distance_band_weights(xy, distance_m=HotspotOptions().band_m)
    n = len(xy)
    wsum = np.asarray(W.sum(axis=1)).ravel()
    c = np.sqrt((n * np.asarray(W.multiply(W).sum(axis=1)).ravel() - wsum**2) / (n - 1))
    hidden = np.isnan(incidents)
    A = sp.hstack([W[:, hidden], -wsum[:, None], -(c * z)[:, None]]).toarray()
    b = -(W @ np.where(hidden, 0.0, incidents))
    scale = np.linalg.norm(A, axis=0)
    scale[scale == 0] = 1.0
    solution = np.linalg.lstsq(A / scale, b, rcond=None)[0] / scale
    return np.rint(solution[: hidden.sum()])


def test_cells_publish_classes_only(served):
    public, keyed = served["public", "cells"], served["keyed", "cells"]
    assert [f["properties"]["cell_id"] for f in public] == [f["properties"]["cell_id"] for f in keyed]
    for f in public:
        p = f["properties"]
        assert not {"gi_z", "gi_p", "gi_q", "gi_bin", "kde_km2"} & set(p)
        assert p["gi_code"] and p["gi_class"]
        assert p["suppressed"] == (p["incidents"] is None)
        assert p["incidents"] is None or p["incidents"] == 0 or p["incidents"] >= 10
    assert all("gi_z" in f["properties"] and f["properties"]["incidents"] is not None for f in keyed)
    zero = served["zero", "cells"]
    assert [f["properties"] for f in zero] == [f["properties"] for f in keyed]  # min_count=0: everything, to everyone


def test_gi_inversion_fails_on_the_served_cells(served):
    public, keyed = served["public", "cells"], served["keyed", "cells"]
    truth = _props(keyed, "incidents")
    hidden = (truth > 0) & (truth < 10)
    assert hidden.sum() > 1000
    best = _best_constant(truth[hidden])
    # before: the old route hid the counts but served every z-score; the inversion gets them all back
    old = gi_inversion(keyed, np.where(hidden, np.nan, truth), _props(keyed, "gi_z"))
    assert (old == truth[hidden]).sum() == hidden.sum() > best
    # now: no z is served; the best an attacker can do is read a z from each class
    served_counts = _props(public, "incidents")
    assert np.array_equal(np.isnan(served_counts), hidden)
    z = np.array([CLASS_Z[f["properties"]["gi_code"]] for f in public])
    new = gi_inversion(public, served_counts, z)
    assert (new == truth[hidden]).sum() <= best


def test_clusters_small_counts_cannot_be_derived(served):
    public, keyed = served["public", "clusters"], served["keyed", "clusters"]
    full = {f["properties"]["cluster_id"]: f["properties"] for f in keyed}
    shown = {f["properties"]["cluster_id"]: f["properties"] for f in public}
    assert set(shown) == {k for k, p in full.items() if p["incidents"] >= 10}  # smaller clusters are not drawn
    assert all("records" in p and p["density_km2"] is not None for p in full.values())
    guesses, truths = [], []
    for cid, p in shown.items():
        assert not {"share", "harm", "drivers", "complexity", "first_date", "hour_00", "top_categories"} & set(p)
        f = full[cid]
        assert p["incidents"] == f["incidents"]
        for column in ("records", "n_convivencia", "last_12m", "previous_12m"):
            assert p[column] is None or not 0 < p[column] < 10
            if p[column] is None:
                truths.append(f[column])
                # the attacks: density × area, and the total minus the other period
                other = {"last_12m": "previous_12m", "previous_12m": "last_12m"}.get(column)
                if other is not None and p[other] is not None:
                    guesses.append(p["incidents"] - p[other])
                elif column == "records":
                    guesses.append(round(p["density_km2"] * p["area_km2"]))
                else:
                    guesses.append(np.nan)
        if f["last_12m"] is not None and 0 < min(f["last_12m"], f["previous_12m"]) < 10:
            assert p["last_12m"] is None and p["previous_12m"] is None and p["change_12m"] is None
    truths_a, guesses_a = np.array(truths, dtype=float), np.array(guesses, dtype=float)
    assert len(truths_a) > 0
    assert (guesses_a == truths_a).sum() <= _best_constant(truths_a)
    assert served["zero", "clusters"] == keyed
