"""The workspace routes (api/routes/workspace.py) on a small demo city.

The evaluation is checked against the plan job's own figures (a plan computed by ``POST
/plans/cameras``, its sites evaluated: the same covered share), the completion against its
locks and exclusions, the scenarios by saving, listing, comparing and exporting two; the
disclosure rule (a key without ``read:records`` sees rounded shares, no weights, no per-site
figures) and every bad input as JSON 4xx.
"""

from __future__ import annotations

import io
import subprocess
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.ops
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from geoprio.api.db import Base
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.scenarios import MAX_SITES, Scenario
from geoprio.api.settings import Settings
from openpyxl import load_workbook
from shapely.geometry import shape

from geoprio.demo import run_demo
from geoprio.numbers import fmt_pct
from geoprio.placement import camera_demand, coverage_counts, coverage_matrix


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    run_demo(root / "demo", seed=11, n_incidents=400, new_cameras=1, new_garitas=1)
    (root / "maps").mkdir()
    return root


def app_for(root: Path, url: str, **kw: Any):
    s = Settings(
        data_dir=root / "demo" / "output",
        maps_dir=root / "maps",
        database_url=url,
        job_poll_s=0.1,
        max_body_bytes=1_000_000,
        **kw,
    )
    return create_app(s)


@pytest.fixture(scope="module")
def client(root, database):
    with TestClient(app_for(root, database(root))) as c:
        engine = c.app.state.engine
        c.keys = {  # type: ignore[attr-defined]
            "admin": create_key(engine, "admin", ["admin"]),
            "planner": create_key(engine, "planeacion", ["read:aggregates", "submit:plans"]),
            "reader": create_key(engine, "lector", ["read:aggregates", "read:records"]),
            "other": create_key(engine, "otra", ["read:aggregates", "submit:plans", "read:records"]),
        }
        yield c


def h(client: TestClient, who: str) -> dict[str, str]:
    return {"X-API-Key": client.keys[who]}  # type: ignore[attr-defined]


def wait(client: TestClient, job_id: str, who: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.time() + seconds
    while (job := client.get(f"/jobs/{job_id}", headers=h(client, who)).json())["status"] not in ("done", "failed", "cancelled"):
        assert time.time() < deadline, job
        time.sleep(0.2)
    return job


def new_sites(plan: dict[str, Any]) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame.from_features(plan["sites"]["features"], crs="EPSG:4326")
    return g[g["estado"] == "nueva"].sort_values("rank")


def as_sites(points: list[list[float]], locked: tuple[int, ...] = (), costs: dict[int, float] | None = None) -> list[dict[str, Any]]:
    """Proposal sites (``{"lon", "lat", "locked", "cost"}``) at ``points``; ``locked`` and ``costs`` by index."""
    out: list[dict[str, Any]] = []
    for i, (lon, lat) in enumerate(points):
        site: dict[str, Any] = {"lon": lon, "lat": lat}
        if i in locked:
            site["locked"] = True
        if costs and i in costs:
            site["cost"] = costs[i]
        out.append(site)
    return out


def inner_points(client: TestClient, n: int = 6) -> list[list[float]]:
    """``n`` points inside the city: a point inside each of the first zones of the served index."""
    zones = client.app.state.store.table(None)[1]
    pts = zones.to_crs("EPSG:9377").representative_point().to_crs("EPSG:4326")
    return [[float(p.x), float(p.y)] for p in pts.iloc[:n]]


def test_evaluation_equals_the_plan_job_s_coverage(client):
    r = client.post(
        "/plans/cameras", headers=h(client, "planner"), json={"p": 3, "radius_m": 150, "grid_spacing_m": 100, "time_limit_s": 30}
    )
    assert r.status_code == 202, r.text
    assert wait(client, r.json()["id"], "planner")["status"] == "done"
    plan = client.get(f"/plans/{r.json()['id']}", headers=h(client, "admin")).json()
    sites = new_sites(plan)
    body = {"radius_m": 150, "sites": [{"lon": p.x, "lat": p.y} for p in sites.geometry]}
    ev = client.post("/workspace/evaluate", headers=h(client, "admin"), json=body)
    assert ev.status_code == 200, ev.text
    ev = ev.json()
    assert ev["covered_share"] == pytest.approx(plan["summary"]["covered_share"], abs=1e-9)
    assert ev["covered_weight"] == pytest.approx(plan["summary"]["objective"], rel=1e-9)
    # in the plan's rank order the gains are the plan's marginal weights
    assert [s["gain_weight"] for s in ev["sites"]] == pytest.approx(sites["marginal_weight"].tolist(), rel=1e-9)
    assert ev["curve"][0] == pytest.approx(ev["existing_share"]) and ev["curve"][-1] == pytest.approx(ev["covered_share"])


def test_evaluation_by_hand_with_a_retired_camera(client, root):
    """Recomputed here from the demo's files with the coverage matrix; retiring camera 0 changes it."""
    from geoprio.api.worker import incident_frame

    store = client.app.state.store
    level, zones = store.table(None)
    demand = camera_demand(incident_frame(store, level), index_zones=zones)
    cams = gpd.read_file(root / "demo" / "camaras.geojson").to_crs("EPSG:9377")
    cam_xy = np.column_stack([cams.geometry.x, cams.geometry.y])
    pts = inner_points(client)
    lon, lat = np.array(pts).T
    site_xy = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs("EPSG:9377").get_coordinates().to_numpy()
    for retired in ([], [0]):
        kept = np.delete(cam_xy, retired, axis=0)
        counts = np.asarray(coverage_matrix(demand.xy, site_xy, 200).sum(axis=1)).ravel() + coverage_counts(demand.xy, kept, 200)
        expected = float(demand.weight[counts >= 1].sum())
        ev = client.post(
            "/workspace/evaluate", headers=h(client, "reader"), json={"radius_m": 200, "sites": as_sites(pts), "retired": retired}
        ).json()
        assert ev["covered_weight"] == pytest.approx(expected, rel=1e-12)
        assert ev["n_existing"] == len(cams) - len(retired)
        assert ev["total_weight"] == pytest.approx(float(demand.weight.sum()))


def test_a_key_without_read_records_sees_rounded_shares_only(client):
    pts = as_sites(inner_points(client))
    full = client.post("/workspace/evaluate", headers=h(client, "admin"), json={"radius_m": 200, "sites": pts}).json()
    pub = client.post("/workspace/evaluate", headers=h(client, "planner"), json={"radius_m": 200, "sites": pts}).json()
    assert pub["disclosure"] == {"public": True, "share_step": 0.01, "site_figures": False, "weights": False}
    assert pub["covered_weight"] is None and pub["total_weight"] is None and pub["existing_weight"] is None
    assert pub["covered_share"] == round(full["covered_share"], 2)
    assert pub["curve"] == [round(v, 2) for v in full["curve"]]
    assert all(s["gain_weight"] is None and s["unique_weight"] is None and s["rank"] is None for s in pub["sites"])
    assert client.post("/workspace/evaluate", json={"radius_m": 200, "sites": pts}).status_code == 401


def test_bad_proposals_are_clear_4xx(client):
    pts = as_sites(inner_points(client, n=1))
    admin = h(client, "admin")
    schema_cases = [  # what the schema states: each is a 422 naming the field
        ({"radius_m": 100, "sites": []}, ["body", "sites"]),
        ({"radius_m": 100, "sites": pts * (MAX_SITES + 1)}, ["body", "sites"]),
        ({"radius_m": 100, "sites": [{"lon": -74.1, "lat": 91.0}]}, ["body", "sites", 0, "lat"]),
        ({"radius_m": 100, "sites": [{**pts[0], "cost": 0}]}, ["body", "sites", 0, "cost"]),
        ({"radius_m": 100, "sites": [[-74.1, 4.6]]}, ["body", "sites", 0]),  # the old [lon, lat] pairs
        ({"radius_m": 0, "sites": pts}, ["body", "radius_m"]),
        ({"radius_m": 100, "sites": pts, "locked": [0]}, ["body", "locked"]),  # a site carries its own lock
    ]
    for body, loc in schema_cases:
        r = client.post("/workspace/evaluate", headers=admin, json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (loc, r.text[:300])
    # references the data do not hold: 404, named
    r = client.post("/workspace/evaluate", headers=admin, json={"radius_m": 100, "sites": pts, "retired": [999]})
    assert r.status_code == 404 and "retired: 999 is not an existing camera's facility_id" in r.json()["detail"]
    r = client.post("/workspace/evaluate", headers=admin, json={"radius_m": 100, "sites": pts, "level": "nada"})
    assert r.status_code == 404 and r.json()["detail"] == "level 'nada' not found (GET /health lists the levels served)"
    assert client.get("/workspace/facilities", params={"level": "nada"}).status_code == 404
    square = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    r = client.post("/workspace/complete", headers=h(client, "planner"), json={"sites": pts, "p": 1, "exclude_areas": [square]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:3] == ["body", "exclude_areas", 0]
    r = client.post("/workspace/complete", headers=h(client, "planner"), json={"sites": pts, "p": 1, "budget": 2})
    assert r.status_code == 422 and "exactly one of p" in r.text
    assert client.post("/workspace/complete", headers=h(client, "reader"), json={"sites": pts, "p": 1}).status_code == 403
    assert client.get("/workspace/scenarios/compare?a=x&b=y", headers=admin).status_code == 404


def test_a_site_anywhere_covers_what_is_within_its_radius(client):
    """A site outside the city is evaluated: far away (Madrid; the South Pole, where the metric
    CRS has no coordinates) it covers nothing; just outside the city's edge, the demand within
    its radius, as the coverage matrix counts it.
    """
    from geoprio.api.worker import incident_frame

    store = client.app.state.store
    level, zones = store.table(None)
    demand = camera_demand(incident_frame(store, level), index_zones=zones)
    city = zones.to_crs("EPSG:9377").union_all()
    # the demand point nearest the city's edge, and a site 60 m outside the edge next to it
    pts = gpd.GeoSeries(gpd.points_from_xy(demand.xy[:, 0], demand.xy[:, 1]), crs="EPSG:9377")
    k = int(np.argmin(pts.distance(city.boundary).to_numpy()))
    edge = shapely.ops.nearest_points(city.boundary, pts.iloc[k])[0]
    direction = np.array([edge.x - pts.iloc[k].x, edge.y - pts.iloc[k].y])
    direction = direction / np.linalg.norm(direction) if np.linalg.norm(direction) > 0 else np.array([1.0, 0.0])
    outside = np.array([edge.x, edge.y]) + 60 * direction
    if city.contains(shapely.Point(*outside)):  # a concave edge: step the other way round
        outside = np.array([edge.x, edge.y]) - 60 * direction
    assert not city.contains(shapely.Point(*outside))
    lonlat = gpd.GeoSeries([shapely.Point(*outside)], crs="EPSG:9377").to_crs("EPSG:4326").iloc[0]
    sites = [{"lon": lonlat.x, "lat": lonlat.y}, {"lon": -3.7, "lat": 40.4}, {"lon": 180.0, "lat": -90.0}]
    ev = client.post("/workspace/evaluate", headers=h(client, "reader"), json={"radius_m": 200, "sites": sites, "use_existing": False})
    assert ev.status_code == 200, ev.text
    ev = ev.json()
    reach = np.asarray(coverage_matrix(demand.xy, np.array([outside]), 200).sum(axis=1)).ravel() > 0
    assert reach.any()  # the site outside does reach into the city
    assert [s["reach_weight"] for s in ev["sites"]] == pytest.approx([float(demand.weight[reach].sum()), 0.0, 0.0], rel=1e-9)
    assert ev["covered_weight"] == pytest.approx(float(demand.weight[reach].sum()), rel=1e-9) and ev["existing_weight"] == 0


def test_index_weight_is_rounded_to_tenths(client):
    pts = as_sites(inner_points(client))
    ev = {
        w: client.post("/workspace/evaluate", headers=h(client, "reader"), json={"radius_m": 200, "sites": pts, "index_weight": w}).json()
        for w in (0.5, 0.54, 0.46, 0.6)
    }
    assert ev[0.54]["total_weight"] == ev[0.46]["total_weight"] == ev[0.5]["total_weight"] != ev[0.6]["total_weight"]


def test_the_completion_s_exclusions_are_repaired_and_kept_near_the_city(client):
    """What ``POST /workspace/complete`` gives the job: a self-crossing (bow-tie) area as its two
    triangles, an area and a site far from the city dropped, a locked site far away dropped.
    """
    from geoprio.api.scenarios import completion_workspace, workspace_data

    data = workspace_data(client.app.state.store, client.app.state.settings, None, 1.0)
    (lon, lat), inside = inner_points(client, n=1)[0], inner_points(client, n=2)[1]
    d = 0.001
    bowtie = {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat + d], [lon + d, lat - d], [lon - d, lat + d]]]}
    far_area = {"type": "Polygon", "coordinates": [[[10, 50], [11, 50], [11, 51], [10, 51], [10, 50]]]}
    proposal = {
        "sites": [
            {"lon": inside[0], "lat": inside[1], "locked": True},
            {"lon": 10.5, "lat": 50.5, "locked": True},
            {"lon": lon, "lat": lat},
        ],
        "retired": [1],
        "exclude_areas": [bowtie, far_area],
        "exclude_sites": [[lon, lat], [10.5, 50.5]],
    }
    ws = completion_workspace(data, proposal)
    assert ws["locked"] == [[0, [inside[0], inside[1]]]] and ws["retired"] == [1]
    assert ws["exclude_sites"] == [[lon, lat]] and len(ws["exclude_areas"]) == 1
    area = shape(ws["exclude_areas"][0])
    assert area.geom_type == "MultiPolygon" and len(area.geoms) == 2
    assert area.area == pytest.approx(2 * (2 * d) * d / 2)  # two triangles of base 2d and height d


def test_the_schema_states_the_limits_and_every_answer(client):
    spec = client.get("/openapi.json").json()
    evaluate = spec["paths"]["/workspace/evaluate"]["post"]
    assert evaluate["responses"]["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert evaluate["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/EvaluationBody"}
    body = spec["components"]["schemas"]["ProposalBody"]["properties"]["sites"]
    assert (body["minItems"], body["maxItems"]) == (1, MAX_SITES)
    site = spec["components"]["schemas"]["Site"]["properties"]
    assert (site["lon"]["minimum"], site["lon"]["maximum"], site["lat"]["minimum"], site["lat"]["maximum"]) == (-180, 180, -90, 90)
    assert site["cost"]["exclusiveMinimum"] == 0
    for path in ("/workspace/scenarios/compare", "/workspace/scenarios/{scenario_id}", "/workspace/facilities"):
        assert "404" in spec["paths"][path]["get"]["responses"], path
    export = spec["paths"]["/workspace/scenarios/{scenario_id}/export"]["get"]["responses"]
    media = {"application/geopackage+sqlite3", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf"}
    assert set(export["200"]["content"]) == media and "503" in export  # 503: no Chromium to print the PDF
    for path in ("/workspace/facilities", "/workspace/shore"):
        assert "404" in spec["paths"][path]["get"]["responses"], path
    assert spec["components"]["schemas"]["ProposalBody"]["properties"]["kind"]["enum"] == ["cameras", "garitas"]
    one_of = spec["components"]["schemas"]["CompleteBody"]["oneOf"]
    assert [o["required"] for o in one_of] == [["p"], ["target_share"], ["budget"]]


def test_complete_keeps_the_locked_site_and_avoids_the_excluded(client):
    pts = as_sites(inner_points(client, n=3), locked=(0,))
    # first, where would 3 cameras go with nothing locked or excluded
    free = client.post("/workspace/complete", headers=h(client, "planner"), json={"radius_m": 150, "sites": [], "p": 3, "time_limit_s": 30})
    assert free.status_code == 202, free.text
    assert wait(client, free.json()["id"], "planner")["status"] == "done"
    best = new_sites(client.get(free.json()["plan_url"], headers=h(client, "admin")).json())
    first = best.geometry.iloc[0]
    box = first.buffer(0.0015)  # about 160 m around the best site: excluded
    other = best.geometry.iloc[1]  # the second best site: excluded as a site
    body = {
        "radius_m": 150,
        "sites": pts,
        "p": 3,
        "time_limit_s": 30,
        "exclude_areas": [box.__geo_interface__],
        "exclude_sites": [[other.x, other.y]],
    }
    r = client.post("/workspace/complete", headers=h(client, "planner"), json=body)
    assert r.status_code == 202, r.text
    job = wait(client, r.json()["id"], "planner")
    assert job["status"] == "done", job
    plan = client.get(r.json()["plan_url"], headers=h(client, "admin")).json()
    sites = gpd.GeoDataFrame.from_features(plan["sites"]["features"], crs="EPSG:4326")
    locked = sites[sites["site_id"] == "fijado-0"]
    assert len(locked) == 1 and locked["estado"].iloc[0] == "existente"
    assert locked.geometry.iloc[0].distance(gpd.points_from_xy([pts[0]["lon"]], [pts[0]["lat"]])[0]) < 1e-7
    new = sites[sites["estado"] == "nueva"].to_crs("EPSG:9377")
    assert len(new) == 3
    assert not new.geometry.intersects(gpd.GeoSeries([box], crs="EPSG:4326").to_crs("EPSG:9377").iloc[0]).any()
    other_m = gpd.GeoSeries([other], crs="EPSG:4326").to_crs("EPSG:9377").iloc[0]
    assert (new.geometry.distance(other_m) > 50).all()  # the grid candidate at it (and any within 75 m) is gone
    assert plan["summary"]["bound"] is not None and plan["summary"]["gap"] is not None


def test_scenarios_saved_listed_compared_and_exported(client, tmp_path):
    pts = inner_points(client, n=4)
    a = {"name": "Base", "proposal": {"radius_m": 200, "sites": as_sites(pts[:3])}}
    b = {"name": "Mercado", "proposal": {"radius_m": 200, "sites": as_sites([*pts[1:3], pts[3]], costs={2: 2.5}), "retired": [0]}}
    ra = client.post("/workspace/scenarios", headers=h(client, "other"), json=a)
    rb = client.post("/workspace/scenarios", headers=h(client, "other"), json=b)
    assert ra.status_code == rb.status_code == 201, ra.text
    ia, ib = ra.json()["id"], rb.json()["id"]
    assert client.post("/workspace/scenarios", headers=h(client, "reader"), json=a).status_code == 403  # no submit:plans
    listed = client.get("/workspace/scenarios", headers=h(client, "other")).json()
    assert [s["name"] for s in listed] == ["Base", "Mercado"] and listed[0]["summary"]["n_sites"] == 3
    assert [s["id"] for s in client.get("/workspace/scenarios", headers=h(client, "planner")).json() if s["id"] in (ia, ib)] == []
    assert client.get(f"/workspace/scenarios/{ia}", headers=h(client, "planner")).status_code == 404  # not its owner
    one = client.get(f"/workspace/scenarios/{ib}", headers=h(client, "other")).json()
    assert one["proposal"]["retired"] == [0] and one["evaluation"]["cost"] == 4.5
    direct_a = client.post("/workspace/evaluate", headers=h(client, "other"), json=a["proposal"]).json()
    direct_b = client.post("/workspace/evaluate", headers=h(client, "other"), json=b["proposal"]).json()
    cmp = client.get(f"/workspace/scenarios/compare?a={ia}&b={ib}", headers=h(client, "other")).json()
    assert cmp["added"] == [[round(pts[3][0], 6), round(pts[3][1], 6)]]
    assert cmp["removed"] == [[round(pts[0][0], 6), round(pts[0][1], 6)]] and cmp["kept"] == 2
    assert cmp["a"]["covered_share"] == pytest.approx(direct_a["covered_share"]) and cmp["b"]["curve"] == pytest.approx(direct_b["curve"])
    assert cmp["covered_share_change"] == pytest.approx(direct_b["covered_share"] - direct_a["covered_share"])
    assert cmp["cost_change"] == pytest.approx(1.5) and cmp["b"]["n_existing"] == cmp["a"]["n_existing"] - 1
    x = client.get(f"/workspace/scenarios/{ia}/export?format=xlsx", headers=h(client, "other"))
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["resumen", "sitios", "curva"] and wb["sitios"].max_row == 4 and wb["curva"].max_row == 5
    assert wb["resumen"]["B1"].value == "Base"
    g = client.get(f"/workspace/scenarios/{ia}/export?format=gpkg", headers=h(client, "other"))
    (tmp_path / "e.gpkg").write_bytes(g.content)
    layer = gpd.read_file(tmp_path / "e.gpkg", layer="sitios")
    assert len(layer) == 3 and layer["gain_weight"].sum() == pytest.approx(direct_a["covered_weight"] - direct_a["existing_weight"])
    pdf = client.get(f"/workspace/scenarios/{ia}/export?format=pdf", headers=h(client, "other"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text[:300]
    info, text = pdf_info_and_text(pdf.content, tmp_path)
    width_pt, height_pt = (float(v) for v in info["Page size"].split(" pts")[0].split(" x "))
    assert info["Pages"] == "1" and width_pt == pytest.approx(297 / 25.4 * 72, abs=1) and height_pt == pytest.approx(210 / 25.4 * 72, abs=1)
    assert "Escenario: Base" in text and fmt_pct(direct_a["covered_share"], "es", 1) in text
    # a key without read:records sees its scenarios' shares rounded, as its evaluations
    rp = client.post("/workspace/scenarios", headers=h(client, "planner"), json=a)
    mine = [s for s in client.get("/workspace/scenarios", headers=h(client, "planner")).json() if s["id"] == rp.json()["id"]]
    assert mine[0]["summary"]["covered_share"] == round(direct_a["covered_share"], 2) != direct_a["covered_share"]
    got = client.get(f"/workspace/scenarios/{rp.json()['id']}", headers=h(client, "planner")).json()
    assert got["summary"]["covered_share"] == round(direct_a["covered_share"], 2) and got["evaluation"]["covered_weight"] is None
    url = f"/workspace/scenarios/{rp.json()['id']}/export?format="
    exports = {f: client.get(url + f, headers=h(client, "planner")) for f in ("gpkg", "xlsx")}
    assert all(r.status_code == 200 for r in exports.values())  # its exports carry the same public figures
    (tmp_path / "p.gpkg").write_bytes(exports["gpkg"].content)
    assert gpd.read_file(tmp_path / "p.gpkg", layer="sitios")["gain_weight"].isna().all()


def pdf_info_and_text(content: bytes, folder: Path) -> tuple[dict[str, str], str]:
    """``pdfinfo``'s fields and ``pdftotext``'s text of a PDF (poppler-utils)."""
    path = folder / "escenario.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in info.splitlines() if ":" in line)}, text


def test_a_scenario_saved_with_the_old_site_pairs_is_read_as_site_objects(client):
    """Scenarios saved before sites were objects (``[lon, lat]`` pairs, ``locked`` indices, ``costs``)."""
    from geoprio.api.db import sessions
    from geoprio.api.keys import authenticate

    pts = inner_points(client, n=2)
    owner = authenticate(client.app.state.engine, client.keys["other"])  # type: ignore[attr-defined]
    square = [[[0, 0], [1, 0], [1, 1], [0, 0]]]
    multi = {"type": "MultiPolygon", "coordinates": [square, square]}
    old = {"radius_m": 200, "sites": pts, "locked": [1], "costs": [1.0, 3.0], "exclude_areas": [multi], "exclude_sites": [[500, 0], [1, 2]]}
    with sessions(client.app.state.engine)() as s, s.begin():
        sc = Scenario(name="Antiguo", kind="cameras", owner_key_id=owner.id, proposal=old, summary=None)
        s.add(sc)
    r = client.get(f"/workspace/scenarios/{sc.id}", headers=h(client, "other"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["proposal"]["sites"] == [
        {"lon": pts[0][0], "lat": pts[0][1], "locked": False, "cost": 1.0},
        {"lon": pts[1][0], "lat": pts[1][1], "locked": True, "cost": 3.0},
    ]
    assert got["proposal"]["exclude_areas"] == [{"type": "Polygon", "coordinates": square}] * 2
    assert got["proposal"]["exclude_sites"] == [[1, 2]]  # [500, 0] is no place: it excluded nothing
    assert got["evaluation"]["cost"] == 4.0 and [x["locked"] for x in got["evaluation"]["sites"]] == [False, True]


def test_the_page_and_its_assets_are_served(client):
    page = client.get("/workspace")
    assert page.status_code == 200 and "workspace.js" in page.text and "//cdn" not in page.text and "https://" not in page.text
    assert client.get("/workspace/static/web/leaflet/1.9.3/dist/leaflet.js").status_code == 200
    labels = client.get("/workspace/static/labels.json").json()
    assert labels["complete"]["es"] == "Completar el plan"
    assert client.get("/workspace/static/../../api/settings.py").status_code == 404


def test_the_scenario_table_is_the_model_s(client):
    with client.app.state.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diff if "workspace_scenarios" in repr(d)] == []
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    assert Scenario.__tablename__ == "workspace_scenarios"


def test_the_completion_s_layers_retire_lock_and_exclude(root):
    """What the plan job is given (api.worker.workspace_layers), counted by hand."""
    from geoprio.api.worker import EXCLUDE_SITE_FACTOR, facility_layer, workspace_layers

    path = root / "demo" / "camaras.geojson"
    cams = facility_layer(path)
    assert cams is not None and cams["facility_id"].tolist() == list(range(len(cams)))
    spot = [float(cams.geometry.x.iloc[0]), float(cams.geometry.y.iloc[0])]
    area = {"type": "Polygon", "coordinates": [[[-75.5, 10.4], [-75.49, 10.4], [-75.49, 10.41], [-75.5, 10.4]]]}
    ws = {"locked": [[2, [-75.51, 10.39]]], "retired": [0, 1], "exclude_areas": [area], "exclude_sites": [spot]}
    kept, excluded = workspace_layers(path, ws, grid_spacing_m=100)
    assert kept is not None and excluded is not None
    assert len(kept) == len(cams) - 2 + 1 and kept["id"].iloc[-1] == "fijado-2"
    assert kept.geometry.iloc[-1].x == -75.51 and kept.geometry.iloc[-1].y == 10.39
    assert len(excluded) == 2 and excluded.geometry.iloc[0].equals(shape(area))
    circle = gpd.GeoSeries([excluded.geometry.iloc[1]], crs="EPSG:4326").to_crs("EPSG:9377").iloc[0]
    assert circle.area == pytest.approx(np.pi * (EXCLUDE_SITE_FACTOR * 100) ** 2, rel=0.01)  # a 75 m circle (polygonized)
    assert workspace_layers(None, {}, grid_spacing_m=100) == (None, None)


# --------------------------------------------------------------------------- garitas


def test_garitas_evaluate_as_the_garita_plan_counts_and_complete_with_lock_and_exclusion(client, root, tmp_path):
    """A garita plan job's sites evaluated in the workspace give its objective; completing with
    its best site locked and its second excluded keeps the first, avoids the second, and the
    completed plan's objective is again what the workspace computes for it.
    """
    g = {"kind": "garitas", "radius_m": 400}
    r = client.post("/plans/garitas", headers=h(client, "planner"), json={"p": 2, "radius_m": 400, "spacing_m": 100, "time_limit_s": 30})
    assert r.status_code == 202, r.text
    assert wait(client, r.json()["id"], "planner")["status"] == "done"
    plan = client.get(f"/plans/{r.json()['id']}", headers=h(client, "admin")).json()
    best = new_sites(plan)
    ev = client.post(
        "/workspace/evaluate", headers=h(client, "admin"), json={**g, "sites": [{"lon": p.x, "lat": p.y} for p in best.geometry]}
    )
    assert ev.status_code == 200, ev.text
    assert ev.json()["covered_weight"] == pytest.approx(plan["summary"]["objective"], rel=1e-9)
    assert ev.json()["existing_share"] == pytest.approx(plan["summary"]["existing_share"], rel=1e-9)
    n_garitas = len(gpd.read_file(root / "demo" / "garitas.geojson"))
    assert ev.json()["n_existing"] == n_garitas
    # the existing garitas and the shore, for the page
    fac = client.get("/workspace/facilities?kind=garitas", headers=h(client, "reader")).json()
    assert len(fac["features"]) == n_garitas
    shore = client.get("/workspace/shore", headers=h(client, "reader")).json()
    assert shore["features"] and {"name", "length_m"} <= set(shore["features"][0]["properties"])
    # a garita 1° inland covers nothing; a retired garita is no longer counted
    far = client.post("/workspace/evaluate", headers=h(client, "admin"), json={**g, "sites": [{"lon": -75.0, "lat": 6.0}], "retired": [0]})
    assert far.status_code == 200 and far.json()["n_existing"] == n_garitas - 1
    assert far.json()["sites"][0]["reach_weight"] == 0 and far.json()["covered_weight"] == far.json()["existing_weight"]
    assert far.json()["existing_weight"] < ev.json()["existing_weight"]
    # saved as a scenario, its print layout names the kind and shows the covered share
    sc = client.post(
        "/workspace/scenarios",
        headers=h(client, "other"),
        json={"name": "Playas", "proposal": {**g, "sites": [{"lon": p.x, "lat": p.y} for p in best.geometry]}},
    )
    assert sc.status_code == 201, sc.text
    pdf = client.get(f"{sc.json()['url']}/export?format=pdf&lang=en", headers=h(client, "other"))
    assert pdf.status_code == 200, pdf.text[:300]
    info, text = pdf_info_and_text(pdf.content, tmp_path)
    assert info["Pages"] == "1" and "Scenario: Playas" in text and "Garitas" in text
    assert fmt_pct(ev.json()["covered_share"], "en", 1) in text

    first, second = best.geometry.iloc[0], best.geometry.iloc[1]
    body = {**g, "sites": [{"lon": first.x, "lat": first.y, "locked": True}], "exclude_sites": [[second.x, second.y]], "p": 2}
    r = client.post("/workspace/complete", headers=h(client, "planner"), json={**body, "time_limit_s": 30})
    assert r.status_code == 202, r.text
    job = wait(client, r.json()["id"], "planner")
    assert job["status"] == "done" and job["kind"] == "garitas", job
    done = client.get(r.json()["plan_url"], headers=h(client, "admin")).json()
    sites = gpd.GeoDataFrame.from_features(done["sites"]["features"], crs="EPSG:4326")
    locked = sites[sites["site_id"] == "fijado-0"]
    assert len(locked) == 1 and locked["estado"].iloc[0] == "existente"
    new = sites[sites["estado"] == "nueva"]
    assert len(new) == 2
    second_m = gpd.GeoSeries([second], crs="EPSG:4326").to_crs("EPSG:9377").iloc[0]
    assert (new.to_crs("EPSG:9377").geometry.distance(second_m) > 50).all()  # the candidate at it (and within 75 m) is gone
    proposal = [{"lon": first.x, "lat": first.y}, *({"lon": p.x, "lat": p.y} for p in new.geometry)]
    ev = client.post("/workspace/evaluate", headers=h(client, "admin"), json={**g, "sites": proposal}).json()
    assert ev["covered_weight"] == pytest.approx(done["summary"]["objective"], rel=1e-9)
