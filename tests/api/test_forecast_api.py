"""``GET /forecast`` and ``/forecast/backtest``: the public release without a key, the surface as
written with a ``read:records`` key, a ``--public`` release served as it is, 404 without a surface."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.disclosure import DisclosurePolicy
from geoprio.hotspots.forecast import ForecastOptions
from geoprio.hotspots.forecast_layer import SurfaceOptions, next_period_forecast
from geoprio.hotspots.forecast_public import forecast_release
from geoprio.records.load import load_points

BT = ForecastOptions(horizons=("week",), origins=2, warmup=1, cell_size_m=250.0, bootstrap=20)


def _incidents(path: Path) -> Path:
    """Six months of incidents around Medellín's centre: a few dense spots and scattered single ones."""
    rng = np.random.default_rng(5)
    spots = np.array([[-75.5680, 6.2500], [-75.5600, 6.2420], [-75.5760, 6.2560]])
    dense = spots[rng.integers(0, 3, 240)] + rng.normal(0, 0.0008, (240, 2))
    lone = np.column_stack([rng.uniform(-75.60, -75.54, 25), rng.uniform(6.22, 6.28, 25)])
    xy = np.vstack([dense, lone])
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 182, len(xy)), unit="D")
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "lon": xy[:, 0], "lat": xy[:, 1]}).to_csv(path, index=False)
    return path


def _settings(data: Path, tmp: Path, **kw: Any) -> Settings:
    return Settings(data_dir=data, maps_dir=tmp / "maps", database_url=f"sqlite:///{tmp}/api.sqlite", **kw)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    """A full surface (prior counts) and a --public one (min_count 3), each in a data folder of its own."""
    root = tmp_path_factory.mktemp("forecast_api")
    records = load_points(_incidents(root / "incidentes.csv"), date="date")
    run = next_period_forecast(records, options=SurfaceOptions(backtest=BT, method="prior"))
    run.write(root / "full" / "pronostico", ["geojson", "csv"])
    forecast_release(run, records, DisclosurePolicy(min_count=3)).write(root / "public" / "pronostico", ["geojson", "csv"])
    (root / "empty").mkdir()
    return {"root": root, "full": root / "full", "public": root / "public", "empty": root / "empty"}


def _get(client: TestClient, path: str, headers: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
    items, page = [], 1
    while page:
        r = client.get(path, params={**params, "page": page, "page_size": 50}, headers=headers or {})
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        page = body["next"]
    return items


def test_public_and_read_records_callers(written, tmp_path):
    layer = gpd.read_file(written["full"] / "pronostico" / "pronostico_superficie.geojson")
    with TestClient(create_app(_settings(written["full"], tmp_path, min_count=5))) as c:
        key = create_key(c.app.state.engine, "lector", ["read:records"])
        public = _get(c, "/forecast")
        keyed = _get(c, "/forecast", {"X-API-Key": key})
        r = c.get("/forecast", params={"format": "geojson", "page_size": 500})
        assert r.headers["content-type"].startswith("application/geo+json")
        body = r.json()
        assert body["total"] == len(layer) == len(body["features"])
        bt = c.get("/forecast/backtest").json()
    # a read:records key: the file as written, values and all
    assert len(keyed) == len(layer)
    np.testing.assert_allclose([row["expected"] for row in keyed], layer["expected"])
    np.testing.assert_allclose([row["score"] for row in keyed], layer["score"])
    # the public: prior counts' score is the count; cells of 1 to 4 incidents lose their value
    count = layer["score"].to_numpy()
    hidden = (count > 0) & (count < 5)
    assert hidden.any() and (count >= 5).any()
    assert [row["suppressed"] for row in public] == hidden.tolist()
    assert all(row["expected"] is None and row["rank"] is None and row["top"] is None for row, h in zip(public, hidden, strict=True) if h)
    shown = [row["expected"] for row, h in zip(public, hidden, strict=True) if not h]
    np.testing.assert_allclose(shown, layer["expected"].to_numpy()[~hidden])
    assert not {"score", "share"} & set(public[0])
    notes = body["notes"]
    assert "expected_total" not in notes and "incidents_last_365_days" not in notes
    assert notes["expected_published"] == pytest.approx(float(layer["expected"].to_numpy()[~hidden].sum()), abs=1e-5)
    assert notes["disclosure"]["min_count"] == 5
    # the backtest: every row of the summary, the chosen method and its score
    summary = pd.read_csv(written["full"] / "pronostico" / "pronostico_resumen.csv")
    assert len(bt["summary"]) == len(summary) and bt["chosen"]["method"] == "prior"
    assert {row["method"] for row in bt["summary"]} == {"prior"}
    assert bt["chosen"]["backtest"]["pai"] == pytest.approx(float(summary.loc[summary["area_share"] == 0.01, "pai"].iloc[0]), abs=1e-6)
    assert len(bt["curve"]) == len(pd.read_csv(written["full"] / "pronostico" / "pronostico_curva.csv"))


def test_a_public_release_is_served_as_written(written, tmp_path):
    layer = json.loads((written["public"] / "pronostico" / "pronostico_superficie.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in layer["features"]]
    with TestClient(create_app(_settings(written["public"], tmp_path, min_count=3))) as c:
        served = _get(c, "/forecast")
        assert served == props and [row["top"] for row in served] == [p["top"] for p in props]
        assert all(type(row["top"]) is bool for row in served if row["top"] is not None)
        assert all(type(row["rank"]) is int for row in served if row["rank"] is not None)
        assert _get(c, "/forecast", top="true") == [p for p in props if p["top"] is True]
    (tmp_path / "strict").mkdir()
    with TestClient(create_app(_settings(written["public"], tmp_path / "strict", min_count=10))) as c:
        r = c.get("/forecast")
        assert r.status_code == 404 and "min_count 3" in r.json()["detail"]
        key = create_key(c.app.state.engine, "lector", ["read:records"])
        assert c.get("/forecast", headers={"X-API-Key": key}).status_code == 200


def test_no_surface_is_404(written, tmp_path):
    with TestClient(create_app(_settings(written["empty"], tmp_path))) as c:
        for path in ("/forecast", "/forecast/backtest"):
            r = c.get(path)
            assert r.status_code == 404
            assert "geoprio forecast --surface" in r.json()["detail"]
