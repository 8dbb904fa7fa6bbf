"""OGC API – Features under ``/ogc`` with FastAPI's TestClient: landing page, conformance,
collections, paging by ``next`` links, ``bbox``, ``datetime``, property filters, one feature,
errors, and the same keys and disclosure policy as the other routes.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.seguimiento import load_targets, track
from tests.builders import write_tiny_city

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


def settings_for(root: Path, **kw) -> Settings:
    return Settings(data_dir=root / "demo" / "output", maps_dir=root / "maps", database_url=f"sqlite:///{root}/ogc.sqlite", **kw)


@pytest.fixture(scope="module")
def client(demo_root, tmp_path_factory):
    db = tmp_path_factory.mktemp("ogc")  # the demo folder is shared and read-only: the database goes elsewhere
    s = Settings(data_dir=demo_root / "demo" / "output", maps_dir=demo_root / "maps", database_url=f"sqlite:///{db}/ogc.sqlite")
    with TestClient(create_app(s)) as c:  # the default public policy: min_count 10
        yield c


@pytest.fixture(scope="module")
def records_key(client) -> str:
    return create_key(client.app.state.engine, "sig", scopes=["read:records"])


@pytest.fixture(scope="module")
def out(demo_root) -> Path:
    return demo_root / "demo" / "output"


def _walk(client, url: str, headers: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Every feature behind ``url``, following ``next`` links; and every page's body."""
    features, pages = [], []
    while url:
        r = client.get(url, headers=headers or {})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/geo+json")
        body = r.json()
        pages.append(body)
        features += body["features"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return features, pages


def test_landing_page_and_conformance(client):
    body = client.get("/ogc").json()
    links = {link["rel"]: link for link in body["links"]}
    assert links["conformance"]["href"] == "http://testserver/ogc/conformance"
    assert links["data"]["href"] == "http://testserver/ogc/collections"
    assert links["service-desc"]["href"] == "http://testserver/openapi.json"
    assert client.get(links["service-desc"]["href"]).json()["openapi"].startswith("3.")
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert CORE in conf and any(c.endswith("/conf/geojson") for c in conf) and any(c.endswith("/conf/oas30") for c in conf)


def test_collections_are_what_the_data_directory_holds(client, out):
    body = client.get("/ogc/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["zones-upz", "hotspots-cells", "hotspots-clusters", "entornos", "plan-camaras-camaras", "plan-garitas-garitas"]
    zones = gpd.read_file(out / "indice_upz.geojson")
    cells = next(c for c in body["collections"] if c["id"] == "hotspots-cells")
    assert cells["extent"]["spatial"]["bbox"][0] == pytest.approx(list(zones.total_bounds), abs=1e-9)  # the grid covers the zones
    assert cells["links"][1] == {
        "href": "http://testserver/ogc/collections/hotspots-cells/items",
        "rel": "items",
        "type": "application/geo+json",
    }
    one = client.get("/ogc/collections/zones-upz").json()
    assert one["id"] == "zones-upz" and one["itemType"] == "feature" and one["title"] == "Índice de priorización por upz"
    assert client.get("/ogc/collections/nada").status_code == 404


def test_next_links_walk_every_cell(client, out):
    written = gpd.read_file(out / "hotspots" / "hotspots_celdas.geojson")
    features, pages = _walk(client, "/ogc/collections/hotspots-cells/items?limit=1000")
    assert [f["id"] for f in features] == list(written["cell_id"])  # every cell, once, in the written order
    assert len(pages) == -(-len(written) // 1000) and all(p["numberMatched"] == len(written) for p in pages)
    assert [p["numberReturned"] for p in pages] == [len(p["features"]) for p in pages]
    last = pages[-1]["links"]
    assert not any(link["rel"] == "next" for link in last)
    prev = next(link["href"] for link in last if link["rel"] == "prev")
    assert prev.startswith("http://testserver/ogc/collections/hotspots-cells/items?") and "offset=5000" in prev


def test_public_release_hides_small_counts_and_a_records_key_sees_them(client, records_key, out):
    written = gpd.read_file(out / "hotspots" / "hotspots_celdas.geojson").set_index("cell_id")
    public, _ = _walk(client, "/ogc/collections/hotspots-cells/items?limit=10000")
    assert all("gi_z" not in f["properties"] for f in public)  # Gi* classes only, like GET /hotspots
    small = written.index[(written["incidents"] > 0) & (written["incidents"] < 10)]
    assert len(small) > 0
    by_id = {f["id"]: f["properties"] for f in public}
    assert all(by_id[c]["incidents"] is None for c in small)
    same = client.get("/hotspots", params={"kind": "cells", "format": "geojson", "page_size": 500}).json()["features"]
    assert [f["properties"] for f in same] == [by_id[f["properties"]["cell_id"]] for f in same]  # one release for both routes
    full, _ = _walk(client, "/ogc/collections/hotspots-cells/items?limit=10000", {"X-API-Key": records_key})
    assert [f["properties"]["gi_z"] for f in full] == pytest.approx(list(written["gi_z"]))


def test_bbox_keeps_the_features_whose_box_meets_it(client, out):
    zones = gpd.read_file(out / "indice_upz.geojson")
    box = (-75.52, 10.38, -75.50, 10.40)
    expected = set(zones.loc[zones.geometry.intersects(shapely.box(*box).envelope) | _box_meets(zones, box), "zone_id"])
    body = client.get("/ogc/collections/zones-upz/items", params={"bbox": ",".join(map(str, box))}).json()
    assert {f["id"] for f in body["features"]} == expected and body["numberMatched"] == len(expected) > 0
    none = client.get("/ogc/collections/zones-upz/items", params={"bbox": "0,0,1,1"}).json()
    assert none["numberMatched"] == 0 and none["features"] == []


def _box_meets(zones: gpd.GeoDataFrame, box: tuple[float, float, float, float]) -> pd.Series:
    b = zones.bounds
    return (b["minx"] <= box[2]) & (b["maxx"] >= box[0]) & (b["miny"] <= box[3]) & (b["maxy"] >= box[1])


def test_property_filters_and_one_feature(client, out):
    alta = client.get("/ogc/collections/zones-upz/items", params={"tier": "alta"}).json()
    assert alta["numberMatched"] == 10 and {f["properties"]["tier"] for f in alta["features"]} == {"alta"}
    first = client.get("/ogc/collections/zones-upz/items", params={"rank": 1}).json()["features"]
    assert len(first) == 1 and first[0]["properties"]["rank"] == 1
    zid = first[0]["id"]
    one = client.get(f"/ogc/collections/zones-upz/items/{zid}")
    assert one.status_code == 200 and one.headers["content-type"].startswith("application/geo+json")
    written = gpd.read_file(out / "indice_upz.geojson").set_index("zone_id")
    assert shapely.geometry.shape(one.json()["geometry"]).equals_exact(written.geometry[zid], 1e-7)
    assert {link["rel"] for link in one.json()["links"]} == {"self", "collection"}
    assert client.get("/ogc/collections/zones-upz/items/NADA").status_code == 404


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"color": "rojo"}, 422, "unknown parameter or property color"),
        ({"limit": 10_001}, 422, None),
        ({"limit": 0}, 422, None),
        ({"offset": -1}, 422, None),
        ({"bbox": "1,2,3"}, 422, None),
        ({"datetime": "ayer"}, 422, None),
    ],
)
def test_bad_requests_are_json_4xx(client, params, status, message):
    r = client.get("/ogc/collections/zones-upz/items", params=params)
    assert r.status_code == status and r.headers["content-type"].startswith("application/json")
    if message:
        assert message in r.json()["detail"]


def test_keys_apply_as_on_every_route(demo_root, tmp_path):
    s = Settings(
        data_dir=demo_root / "demo" / "output",
        maps_dir=demo_root / "maps",
        database_url=f"sqlite:///{tmp_path}/k.sqlite",
        require_key_for_aggregates=True,
    )
    with TestClient(create_app(s)) as c:
        assert c.get("/ogc/collections").status_code == 401
        assert c.get("/ogc/collections", headers={"X-API-Key": "gp_wrong"}).status_code == 403
        k = create_key(c.app.state.engine, "sig", scopes=["read:aggregates"])
        assert c.get("/ogc/collections/zones-upz/items", headers={"X-API-Key": k}).json()["numberMatched"] == 30


def test_datetime_selects_the_tracked_years(tmp_path):
    out = tmp_path / "datos"
    track(load_targets(write_tiny_city(tmp_path / "ciudad"))).write(out / "seguimiento")
    s = Settings(data_dir=out, maps_dir=out / "maps", database_url=f"sqlite:///{tmp_path}/s.sqlite", min_count=0)
    with TestClient(create_app(s)) as c:
        coll = c.get("/ogc/collections").json()["collections"]
        assert [x["id"] for x in coll] == ["seguimiento-zones"]
        assert coll[0]["extent"]["temporal"]["interval"] == [["2023-01-01T00:00:00Z", "2023-12-31T23:59:59Z"]]
        layer = c.get("/indicators", params={"format": "geojson"}).json()["features"]
        url = "/ogc/collections/seguimiento-zones/items"
        for when, n in [("2023", len(layer)), ("2022", 0), ("2020/..", len(layer)), ("../2022", 0), ("2023-03-01T00:00:00Z", len(layer))]:
            assert c.get(url, params={"datetime": when}).json()["numberMatched"] == n, when
        hurto = c.get(url, params={"indicator": "hurto", "zone_id": "L1"}).json()["features"]
        assert [f["id"] for f in hurto] == ["hurto-L1-2023"] and hurto[0]["properties"]["actual"] == 300.0


@pytest.mark.parametrize(
    ("path", "params", "total_of"),
    [
        ("/hotspots", {"kind": "cells", "page_size": 500}, lambda out: len(gpd.read_file(out / "hotspots" / "hotspots_celdas.geojson"))),
        ("/zones", {"page_size": 7}, lambda out: 30),
        ("/entornos", {"page_size": 7}, lambda out: len(pd.read_csv(out / "entornos" / "entornos.csv"))),
    ],
)
def test_paged_geojson_routes_link_their_next_page(client, out, path, params, total_of):
    url = str(client.base_url) + path + "?" + "&".join(f"{k}={v}" for k, v in {**params, "format": "geojson"}.items())
    features, pages = _walk(client, url)
    assert len(features) == total_of(out) and all(p["total"] == len(features) for p in pages)
    assert [p["page"] for p in pages] == list(range(1, len(pages) + 1))  # the body fields existing clients read stay
    assert [p["next"] for p in pages] == [*range(2, len(pages) + 1), None]
    second = pages[1]["links"]
    assert {link["rel"] for link in second} == {"self", "next", "prev"} if len(pages) > 2 else {"self", "prev"}
    assert next(link["href"] for link in second if link["rel"] == "prev").startswith("http://testserver" + path + "?")


def test_the_openapi_contract_states_the_enforced_limits(client):
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/zones"]["get"]["parameters"]}
    assert params["page_size"]["maximum"] == 500  # GEOPRIO_PAGE_SIZE_MAX, the limit the route enforces
    assert client.get("/zones", params={"page_size": 501}).status_code == 422
    assert params["level"]["anyOf"][0]["enum"] == ["upz"] and params["tier"]["anyOf"][0]["enum"] == ["alta", "baja", "media"]
    items = {p["name"]: p["schema"] for p in spec["paths"]["/ogc/collections/{collection_id}/items"]["get"]["parameters"]}
    assert items["limit"]["maximum"] == 10_000 and items["collection_id"]["enum"][0] == "zones-upz"
    ops = spec["paths"]["/plans/cameras"]["post"]
    assert set(ops["responses"]) == {"202", "400", "401", "403", "413", "422", "429", "503"}
    assert ops["responses"]["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    body = spec["components"]["schemas"]["CameraPlanRequest"]
    assert [b["required"] for b in body["oneOf"]] == [["p"], ["target_share"]]
    assert set(spec["paths"]["/health"]["get"]["responses"]) == {"200", "403", "422", "429", "503"}  # /health never asks for a key
    detail = spec["components"]["schemas"]["ValidationErrorBody"]["properties"]["detail"]["anyOf"]
    assert {"type": "string"} in detail and {"items": {"$ref": "#/components/schemas/ValidationIssue"}, "type": "array"} in detail
    r = client.get("/zones", params={"page": 0})  # FastAPI's own validation answers the documented shape
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "page"]


def test_other_coordinate_systems_part_2(client, out):
    written = gpd.read_file(out / "indice_upz.geojson").set_index("zone_id")
    metric = written.to_crs("EPSG:9377")
    url = "/ogc/collections/zones-upz/items"
    r = client.get(url, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/9377", "limit": 100})
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/9377>"
    for f in r.json()["features"]:
        got = shapely.geometry.shape(f["geometry"])
        expected = shapely.transform(metric.geometry[f["id"]], lambda xy: xy[:, ::-1])  # EPSG:9377 is northing first
        assert got.equals_exact(expected, 1e-3), f["id"]  # within a millimetre
    zid = written.index[0]
    one = client.get(f"{url}/{zid}", params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}).json()
    lat_lon = shapely.transform(written.geometry[zid], lambda xy: xy[:, ::-1])  # EPSG:4326: latitude first
    assert shapely.geometry.shape(one["geometry"]).equals_exact(lat_lon, 1e-9)
    e0, n0, e1, n1 = metric.geometry[zid].centroid.buffer(1).bounds  # a 2 m box around the zone's centroid, northing first
    found = client.get(url, params={"bbox": f"{n0},{e0},{n1},{e1}", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/9377"}).json()
    inside = written.geometry.bounds
    c = written.geometry[zid].centroid
    expected_ids = set(written.index[(inside["minx"] <= c.x) & (inside["maxx"] >= c.x) & (inside["miny"] <= c.y) & (inside["maxy"] >= c.y)])
    assert zid in {f["id"] for f in found["features"]} and {f["id"] for f in found["features"]} == expected_ids
    assert client.get(url, params={"crs": "EPSG:9377"}).status_code == 422  # the URI, as the collection lists them
    coll = client.get("/ogc/collections/zones-upz").json()
    assert "http://www.opengis.net/def/crs/EPSG/0/3116" in coll["crs"]
