"""``GET /zones`` says when zones under the minimum rate denominator sit in the first N ranks:
``small_denominators`` in the JSON and GeoJSON bodies (in Spanish or English), the header
``X-Small-Denominator-Zones`` in every format, and each item's ``small_denominator``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from geoprio.api.main import create_app
from geoprio.api.settings import Settings
from shapely.geometry import box

from geoprio.index import load_config, run_index


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    """Four zones (600, 4,000, 20,000, 50,000 residents), one raw rate: the two small ones rank first."""
    root = tmp_path_factory.mktemp("small")
    zones = gpd.GeoDataFrame(
        {"cod": ["A", "B", "C", "D"], "nombre": ["Aeropuerto", "Bodega", "Centro", "Dorado"], "pob": [600, 4000, 20000, 50000]},
        geometry=[box(-74.10 + 0.01 * i, 4.60, -74.09 + 0.01 * i, 4.61) for i in range(4)],
        crs="EPSG:4326",
    )
    zones.to_file(root / "z.geojson")
    counts = [6, 8, 30, 40]
    rows = [f"4.605,{-74.095 + 0.01 * i:.3f},Hurto" for i, n in enumerate(counts) for _ in range(n)]
    (root / "d.csv").write_text("lat,lon,delito\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (root / "c.toml").write_text(
        '[zones]\npath = "z.geojson"\nid = "cod"\nname = "nombre"\npopulation_column = "pob"\n'
        '[sources.d]\npath = "d.csv"\n'
        "[robustness]\ndraws = 20\ntop_k = 3\n"
        '[output]\ndir = "out"\nformats = ["csv", "geojson"]\n'
        '[[indicators]]\nname = "hurto"\nsource = "d"\nmeasure = "rate"\nweight = 1\n',
        encoding="utf-8",
    )
    run_index(load_config(root / "c.toml")).write()
    (root / "maps").mkdir()
    settings = Settings(data_dir=root / "out", maps_dir=root / "maps", database_url=f"sqlite:///{root}/api.sqlite", min_count=0)
    with TestClient(create_app(settings)) as c:
        yield c


def test_the_list_names_the_small_zones_of_the_runs_top_k(client):
    r = client.get("/zones")
    assert r.status_code == 200
    body = r.json()
    assert [z["small_denominator"] for z in body["items"]] == [True, True, False, False]
    small = body["small_denominators"]
    assert small["top"] == 3 and small["minimum"] == 5000 and small["zones"] == ["A", "B"]
    assert small["message"].startswith("⚠ 2 de las 3 primeras zonas tienen menos de 5.000 residentes (†): A Aeropuerto (puesto 1; 600")
    assert r.headers["X-Small-Denominator-Zones"] == "A,B"


def test_the_top_asked_for_and_the_language(client):
    one = client.get("/zones", params={"top": 1, "lang": "en"}).json()
    assert one["small_denominators"]["zones"] == ["A"] and one["small_denominators"]["top"] == 1
    assert one["small_denominators"]["message"].startswith("⚠ 1 of the first 1 zones has fewer than 5,000 residents (†)")
    assert client.get("/zones", params={"lang": "fr"}).status_code == 422


def test_every_format_carries_the_header(client):
    csv = client.get("/zones", params={"format": "csv"})
    assert csv.headers["X-Small-Denominator-Zones"] == "A,B" and "small_denominator" in csv.text.splitlines()[0]
    geo = client.get("/zones", params={"format": "geojson", "lang": "en"})
    assert geo.headers["X-Small-Denominator-Zones"] == "A,B"
    assert geo.json()["small_denominators"]["zones"] == ["A", "B"]


def test_nothing_is_said_when_the_top_is_clear(tmp_path):
    root = tmp_path
    zones = gpd.GeoDataFrame(
        {"cod": ["A", "B"], "pob": [60000, 600]},
        geometry=[box(-74.10 + 0.01 * i, 4.60, -74.09 + 0.01 * i, 4.61) for i in range(2)],
        crs="EPSG:4326",
    )
    zones.to_file(root / "z.geojson")
    (root / "d.csv").write_text("lat,lon\n" + "4.605,-74.095\n" * 300 + "4.605,-74.085\n", encoding="utf-8")
    (root / "c.toml").write_text(
        '[zones]\npath = "z.geojson"\nid = "cod"\npopulation_column = "pob"\n[sources.d]\npath = "d.csv"\n'
        '[robustness]\ndraws = 0\n[output]\ndir = "out"\nformats = ["geojson"]\n'
        '[[indicators]]\nname = "n"\nsource = "d"\nmeasure = "rate"\nweight = 1\n',
        encoding="utf-8",
    )
    run_index(load_config(root / "c.toml")).write()
    (root / "maps").mkdir()
    s = Settings(data_dir=Path(root / "out"), maps_dir=root / "maps", database_url=f"sqlite:///{root}/api.sqlite", min_count=0)
    with TestClient(create_app(s)) as c:
        r = c.get("/zones", params={"top": 1})
        assert r.json()["small_denominators"] is None and "X-Small-Denominator-Zones" not in r.headers
        assert r.json()["items"][0]["zone_id"] == "A"
