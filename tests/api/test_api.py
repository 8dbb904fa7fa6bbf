"""The HTTP API with FastAPI's TestClient: every route and every error, and a schemathesis run."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from geoprio.api.engine import make_engine
from geoprio.api.keys import create_key, hash_key, verify_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.demo import run_demo


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A small demo city indexed into a data directory, and a maps folder with one map."""
    root = tmp_path_factory.mktemp("api")
    run_demo(root / "demo", seed=11, n_incidents=4000, new_cameras=5, new_garitas=2)  # index, hot spots, plans
    maps = root / "maps"
    (maps / "assets").mkdir(parents=True)
    (maps / "indice.html").write_text("<html><body>mapa</body></html>", encoding="utf-8")
    (maps / "assets" / "leaflet.js").write_text("/* leaflet */", encoding="utf-8")
    return root


def settings_for(root: Path, database_url: str | None = None, **kw) -> Settings:
    url = database_url or f"sqlite:///{root}/api.sqlite"
    kw.setdefault("min_count", 0)  # these tests read the values; the public default is tested in test_disclosure_*.py
    return Settings(data_dir=root / "demo" / "output", maps_dir=root / "maps", database_url=url, **kw)


@pytest.fixture(scope="module")
def client(data_dir, database) -> TestClient:
    with TestClient(create_app(settings_for(data_dir, database(data_dir)))) as c:
        yield c


@pytest.fixture(scope="module")
def key(client) -> str:
    return create_key(client.app.state.engine, "pruebas")


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["levels"] == ["upz"] and body["zones"] == {"upz": 30} and body["maps"] == 1


def test_zones_ranked_and_paginated(client, data_dir):
    body = client.get("/zones").json()
    assert body["total"] == 30 and body["next"] is None
    ranks = [z["rank"] for z in body["items"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    csv_rows = (data_dir / "demo" / "output" / "indice_upz.csv").read_text(encoding="utf-8").splitlines()
    first = csv_rows[1].split(",")
    assert body["items"][0]["zone_id"] == first[0]  # the CSV the CLI wrote, best first
    page2 = client.get("/zones", params={"page": 2, "page_size": 7}).json()
    assert page2["page"] == 2 and page2["next"] == 3 and [z["rank"] for z in page2["items"]] == ranks[7:14]
    top = client.get("/zones", params={"top": 5}).json()
    assert top["total"] == 5 and all(z["rank"] <= 5 for z in top["items"])
    alta = client.get("/zones", params={"tier": "alta"}).json()
    assert alta["total"] == 10 and {z["tier"] for z in alta["items"]} == {"alta"}
    strong = client.get("/zones", params={"min_score": 20}).json()
    assert all(z["index"] >= 20 for z in strong["items"])
    assert any(z["small_denominator"] for z in body["items"])  # the demo flags zones under 5,000 residents
    assert body["items"][0]["p_top_k"] is not None and body["items"][0]["top_k"] == 5


def test_zones_as_geojson_and_csv(client):
    gj = client.get("/zones", params={"format": "geojson", "top": 3})
    assert gj.headers["content-type"].startswith("application/geo+json")
    fc = gj.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    lon, lat = (
        fc["features"][0]["geometry"]["coordinates"][0][0][:2]
        if fc["features"][0]["geometry"]["type"] == "Polygon"
        else (fc["features"][0]["geometry"]["coordinates"][0][0][0][:2])
    )
    assert -76 < lon < -75 and 10 < lat < 11  # lon/lat order, EPSG:4326
    csv = client.get("/zones", params={"format": "csv", "page_size": 4})
    assert csv.headers["content-type"].startswith("text/csv") and csv.headers["x-total-count"] == "30"
    assert len(csv.text.strip().splitlines()) == 5 and csv.text.startswith("zone_id,name,level")


def test_zone_detail_explains_the_rank(client):
    top = client.get("/zones", params={"top": 1}).json()["items"][0]
    d = client.get(f"/zones/{top['zone_id']}").json()
    assert d["rank"] == 1 and d["rank_p05"] <= 1 <= d["rank_p95"]
    total = sum(i["contribution"] for i in d["indicators"])
    assert total == pytest.approx(d["index"], abs=1e-3)  # contributions add up to the index
    assert {i["name"] for i in d["indicators"]} == set(d["weights"])
    assert all(i["count"] is not None for i in d["indicators"])


def test_errors_are_json_4xx(client):
    for path, params, code, text in [
        ("/zones", {"level": "barrio"}, 422, "unknown level 'barrio'; levels: ['upz']"),
        ("/zones", {"tier": "urgente"}, 422, "unknown tier 'urgente'"),
        ("/zones", {"page_size": 5000}, 422, "page_size must be at most 500"),
        ("/zones", {"page": 0}, 422, None),
        ("/zones", {"format": "xml"}, 422, None),
        ("/zones/UPZ99", {}, 404, "zone 'UPZ99' not found"),
        ("/maps/otro.html", {}, 404, "map 'otro.html' not found"),
        ("/no-such-route", {}, 404, None),
    ]:
        r = client.get(path, params=params)
        assert r.status_code == code, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/json")
        if text:
            assert text in json.dumps(r.json()["detail"], ensure_ascii=False)


def test_incident_records_need_a_key(client, key):
    assert client.get("/incidents").status_code == 401
    assert client.get("/incidents", headers={"X-API-Key": "gp_wrong"}).status_code == 403
    r = client.get("/incidents", headers={"X-API-Key": key}, params={"page_size": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] > 4000 and len(body["items"]) == 3  # incidents and coexistence points, and complaints
    one_zone = client.get("/incidents", headers={"X-API-Key": key}, params={"zone_id": "UPZ02", "source": "delitos"}).json()
    assert one_zone["total"] > 0 and {i["zone_id"] for i in one_zone["items"]} == {"UPZ02"}
    assert client.get("/incidents", headers={"X-API-Key": key}, params={"source": "nada"}).status_code == 422


def test_keys_are_stored_hashed(client, key):
    engine = client.app.state.engine
    with engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("select key_hash from api_keys")]
    assert hash_key(key) in stored and key not in stored
    assert verify_key(engine, key) and not verify_key(engine, key + "x") and not verify_key(engine, None)


def test_maps_listed_and_served_with_assets(client):
    maps = client.get("/maps").json()
    assert maps == [{"name": "indice.html", "bytes": 30, "url": "/maps/indice.html"}]
    assert client.get("/maps/indice.html").text == "<html><body>mapa</body></html>"
    assert client.get("/maps/assets/leaflet.js").text == "/* leaflet */"


def test_oversized_body_is_refused(client, key):
    r = client.post("/zones", content=b"x" * 70_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than 64000 bytes" in r.json()["detail"]
    # chunked, with no content-length: refused while it streams
    chunks = (b"x" * 1000 for _ in range(70))
    r = client.post("/plans/cameras", content=chunks, headers={"content-type": "application/json", "X-API-Key": key})
    assert r.status_code == 413 and "larger than 64000 bytes" in r.json()["detail"]


def test_configuration_keys_aggregates_suppresses_counts_and_sets_cors(data_dir):
    s = settings_for(data_dir, require_key_for_aggregates=True, min_count=1_000_000, cors_origins=["https://tablero.example"])
    with TestClient(create_app(s)) as c:
        assert c.get("/zones").status_code == 401
        k = create_key(c.app.state.engine, "tablero", scopes=["read:aggregates"])  # read:records would see everything
        first = c.get("/zones", headers={"X-API-Key": k}).json()["items"][0]["zone_id"]
        d = c.get(f"/zones/{first}", headers={"X-API-Key": k}).json()
        assert d["suppressed_below"] == 1_000_000 and all(i["suppressed"] and i["value"] is None for i in d["indicators"])
        # every count is hidden, and a protection of ±500,000 records cannot survive a published
        # index (a sum of the counts): the zone is withheld whole, its rank kept
        assert d["index"] is None and d["rank"] is not None
        pre = c.options("/zones", headers={"Origin": "https://tablero.example", "Access-Control-Request-Method": "GET"})
        assert pre.headers["access-control-allow-origin"] == "https://tablero.example"


def test_missing_data_directory_fails_at_start(tmp_path):
    from geoprio.errors import InputError

    s = Settings(data_dir=tmp_path / "nada", maps_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.sqlite")
    with pytest.raises(InputError, match="data directory not found"), TestClient(create_app(s)):
        pass


def test_schemathesis_all_checks_pass_with_and_without_a_key(data_dir, tmp_path):
    """Every check schemathesis has (status codes, content types, headers, bodies against the
    schema, valid data accepted, invalid data rejected, unsupported methods…) on every
    operation, positive and negative, without a key and with one.
    """
    import schemathesis
    from geoprio.api.main import init_state
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    checks = list(CHECKS.get_all())
    # a database of its own: the unknown keys schemathesis sends are remembered per address
    # (failed-key limits), and a high limit keeps its negative cases from tripping the 429
    s = settings_for(data_dir, f"sqlite:///{tmp_path}/st.sqlite", key_fail_limit=1_000_000)
    app = create_app(s)
    init_state(app, s)
    key = create_key(make_engine(s.db_url), "schemathesis")
    from schemathesis.config import SchemathesisConfig

    # a body over GEOPRIO_MAX_BODY_BYTES is refused with 413 whatever its content (documented on
    # every operation with a body): JSON Schema cannot state a size in bytes. These are
    # schemathesis's default expected statuses with 413 added.
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "413", "429", "5xx"]},
                "negative_data_rejection": {
                    "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
                },
            }
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    failures: list[str] = []
    calls: list[int] = []
    for operation in schema.get_all_operations():
        op = operation.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case):
                for headers in ({}, {"X-API-Key": key}):
                    try:
                        response = case.call_and_validate(headers=headers, checks=checks)
                    except Exception as exc:  # noqa: BLE001 (every failure is collected, then shown at once)
                        failures.append(f"{case.method} {case.formatted_path} {case.query} {headers != {}}: {exc}"[:600])
                    else:
                        calls.append(response.status_code)

            try:
                run()
            except Unsatisfiable:  # no invalid request exists for an operation without parameters
                assert mode == schemathesis.GenerationMode.NEGATIVE
    assert failures == []
    assert len(calls) > 200 and {200, 401, 403, 404, 422} <= set(calls)  # it really exercised valid and invalid requests


def _wait(client, job_id: str, seconds: float = 120, key: str | None = None) -> dict:
    import time

    deadline = time.time() + seconds
    job: dict = {}
    while time.time() < deadline:
        r = client.get(f"/jobs/{job_id}", headers={"X-API-Key": key} if key else {})
        if r.status_code == 503:  # storage busy (a client retries after Retry-After): poll again
            time.sleep(0.2)
            continue
        assert r.status_code == 200, (r.status_code, r.text)
        job = r.json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_plans_are_computed_as_background_jobs(client, key):
    assert client.post("/plans/cameras", json={"p": 5}).status_code == 401
    bad = client.post("/plans/cameras", headers={"X-API-Key": key}, json={"p": 5, "target_share": 0.5})
    assert bad.status_code == 422 and "exactly one of p" in json.dumps(bad.json())
    assert client.post("/plans/cameras", headers={"X-API-Key": key}, json={"p": 5, "radius_m": 0}).status_code == 422
    assert client.post("/plans/garitas", headers={"X-API-Key": key}, json={"p": 2, "colour": "red"}).status_code == 422
    r = client.post("/plans/cameras", headers={"X-API-Key": key}, json={"p": 5, "radius_m": 100, "time_limit_s": 30})
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
    cam = _wait(client, r.json()["id"], key=key)
    assert cam["status"] == "done", cam["error"]
    g = client.post("/plans/garitas", headers={"X-API-Key": key}, json={"p": 2, "time_limit_s": 30})
    gar = _wait(client, g.json()["id"], key=key)
    assert gar["status"] == "done", gar["error"]
    plans = {p["id"]: p for p in client.get("/plans", headers={"X-API-Key": key}).json()}
    assert {cam["id"], gar["id"]} <= set(plans)
    detail = client.get(cam["plan_url"], headers={"X-API-Key": key}).json()
    assert detail["n_selected"] == 5 and 0 < detail["covered_share"] <= 1
    assert detail["objective"] <= detail["bound"] * (1 + 1e-9) and detail["gap"] >= 0
    new_sites = [f for f in detail["sites"]["features"] if f["properties"].get("estado") == "nueva"]
    assert len(new_sites) == 5
    curve = detail["summary"]["curve"]
    assert len(curve) >= 5 and all(
        a <= b + 1e-12 for a, b in zip([c["covered_share"] for c in curve][:-1], [c["covered_share"] for c in curve][1:], strict=True)
    )
    assert client.get("/jobs/nope").status_code == 404 and client.get("/plans/nope").status_code == 404


def test_an_accepted_job_survives_a_restart(data_dir, tmp_path):
    from geoprio.api.db import sessions
    from geoprio.api.jobs import Job

    # a database of its own: the module's shared one remembers the unknown keys schemathesis sent
    # from this client address (failed-key limits are kept in the database), and would answer 429
    s = settings_for(data_dir, f"sqlite:///{tmp_path}/restart.sqlite")
    engine = make_engine(s.db_url)
    with sessions(engine)() as session, session.begin():
        job = Job(
            kind="garitas",
            status="running",
            params={
                "p": 1,
                "target_share": None,
                "use_existing": True,
                "min_spacing_m": None,
                "time_limit_s": 20.0,
                "level": None,
                "radius_m": 500.0,
                "spacing_m": 100.0,
                "beach_incidents": True,
            },
        )
        session.add(job)
    with TestClient(create_app(s)) as c:  # start-up re-queues what was accepted but not finished
        done = _wait(c, job.id, key=create_key(c.app.state.engine, "admin", scopes=["admin"]))  # an old job has no owner
        assert done["status"] == "done", done["error"]


def test_hotspots_served_from_the_hotspots_run(client, data_dir):
    clusters = client.get("/hotspots", params={"kind": "clusters"}).json()
    assert clusters["total"] > 0
    ranks = [c["complexity_rank"] for c in clusters["items"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    top = client.get("/hotspots", params={"kind": "clusters", "top": 2}).json()
    assert top["total"] == min(2, clusters["total"])
    cells = client.get("/hotspots", params={"kind": "cells", "page_size": 500}).json()
    written = (data_dir / "demo" / "output" / "hotspots" / "hotspots_celdas.csv").read_text(encoding="utf-8").splitlines()
    assert cells["total"] == len(written) - 1  # every cell the command wrote
    import pandas as pd

    classes = pd.read_csv(data_dir / "demo" / "output" / "hotspots" / "hotspots_celdas.csv")["gi_class"].value_counts()
    hot = classes.index[-1]  # the rarest class the command wrote
    only = client.get("/hotspots", params={"kind": "cells", "gi_class": hot, "page_size": 500}).json()
    assert only["total"] == classes[hot] and {c["gi_class"] for c in only["items"]} == {hot}
    gj = client.get("/hotspots", params={"format": "geojson", "top": 1}).json()
    assert gj["type"] == "FeatureCollection" and gj["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert client.get("/hotspots", params={"kind": "cells", "gi_class": "nada"}).status_code == 422
    # filters that do not apply to the kind select nothing (a rule the OpenAPI schema can state)
    assert client.get("/hotspots", params={"kind": "cells", "top": 3}).json()["total"] == 0
    assert client.get("/hotspots", params={"kind": "clusters", "gi_class": hot}).json()["total"] == 0
    assert client.get("/hotspots", params={"kind": "zonas"}).status_code == 422


def test_plans_written_by_the_cli_are_listed(client):
    files = [p for p in client.get("/plans").json() if p["source"] == "file"]
    assert {p["kind"] for p in files} == {"cameras", "garitas"}
    cams = next(p for p in files if p["kind"] == "cameras")
    detail = client.get(f"/plans/{cams['id']}").json()
    assert detail["n_selected"] == 5 and detail["sites"]["type"] == "FeatureCollection"


def test_entornos_ranked_filtered_and_explained(client, data_dir):
    out = data_dir / "demo" / "output" / "entornos"
    written = pd.read_csv(out / "entornos.csv", dtype={"place_id": str})
    body = client.get("/entornos").json()
    assert body["total"] == len(written) and body["items"][0]["rank"] == 1
    assert body["items"][0]["place_id"] == written.sort_values("rank").iloc[0]["place_id"]  # the CSV the CLI wrote
    stations = client.get("/entornos", params={"type": "estación", "top": 3}).json()
    assert stations["total"] == 3 and {p["type"] for p in stations["items"]} == {"estación"}
    assert [p["rank"] for p in stations["items"]] == sorted(p["rank"] for p in stations["items"])
    top = body["items"][0]
    detail = client.get(f"/entornos/{top['place_id']}").json()
    row = written.set_index("place_id").loc[top["place_id"]]
    assert detail["weighted_incidents"] == pytest.approx(row["weighted_incidents"])
    assert sum(i["contribution"] for i in detail["indicators"]) == pytest.approx(row["index"], abs=1e-3)
    assert len(detail["profile_week"]) == 7 and len(detail["profile_day"]) == 24
    assert detail["profile_day"] == pytest.approx([float(v) for v in row["hours_profile"].split()])
    assert detail["geometry"]["type"] == "Polygon"
    plan = client.get("/entornos/plan").json()
    assert plan["summary"]["status"] == "optimal" and len({s["team"] for s in plan["shifts"]}) <= plan["summary"]["teams"]
    assert {s["day"] for s in detail["shifts"]} <= set(range(7))
    gj = client.get("/entornos", params={"format": "geojson", "top": 2}).json()
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 2
    csv = client.get("/entornos", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv") and "place_id" in csv.text.splitlines()[0]


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/entornos", {"type": "aeropuerto"}, 422, "unknown type 'aeropuerto'"),
        ("/entornos/NOPE", {}, 404, "unknown place 'NOPE'"),
        ("/entornos", {"top": 0}, 422, None),
    ],
)
def test_entornos_errors(client, path, params, status, message):
    r = client.get(path, params=params)
    assert r.status_code == status and r.headers["content-type"].startswith("application/json")
    if message:
        assert message in r.text


def test_entornos_suppress_small_counts(data_dir):
    with TestClient(create_app(settings_for(data_dir, min_count=10_000))) as c:
        item = next(i for i in c.get("/entornos", params={"page_size": 500}).json()["items"] if i["suppressed"])  # zeros are published
        assert item["suppressed"] and item["weighted_incidents"] is None
        detail = c.get(f"/entornos/{item['place_id']}").json()
        assert detail["profile_week"] is None and all(i["count"] is None and i["value"] is None for i in detail["indicators"])
