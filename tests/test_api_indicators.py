"""``GET /indicators`` and ``GET /indicators/{id}`` with FastAPI's TestClient over a data
directory where ``geoprio indicators`` wrote its outputs (the tiny city of test_targets).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_targets import write_tiny_city

from api.db import create_key
from api.main import create_app
from api.settings import Settings
from geoprio.targets import load_targets
from geoprio.tracking import track, write_tracking


def settings_for(data_dir: Path, **kw) -> Settings:
    return Settings(data_dir=data_dir, maps_dir=data_dir / "maps", database_url=f"sqlite:///{data_dir}/api.sqlite", **kw)


def app_for(data_dir: Path, **kw):
    return create_app(settings_for(data_dir, **kw))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("api_ind")
    path = write_tiny_city(root / "ciudad")
    out = root / "datos"
    write_tracking(track(load_targets(path)), out / "seguimiento")  # a sub-folder of the data directory is found too
    return out


@pytest.fixture(scope="module")
def client(data_dir):
    with TestClient(app_for(data_dir)) as c:
        yield c


def test_list(client):
    body = client.get("/indicators").json()
    assert body["year"] == 2023 and body["years"] == [2021, 2022, 2023] and body["total"] == 4
    assert body["plan_progress"] == pytest.approx(2.15 / 3, abs=1e-6)
    assert {o["id"]: o["progress"] for o in body["objectives"]} == pytest.approx({"seguridad": 0.575, "servicio": 1.0})
    hurto = next(i for i in body["items"] if i["id"] == "hurto")
    assert hurto["actual"] == pytest.approx(80.0) and hurto["actual_annualized"] == pytest.approx(160.0) and hurto["months"] == 6
    assert hurto["target"] == 150 and hurto["progress"] == pytest.approx(0.8) and hurto["baseline"] == pytest.approx(200.0)
    loc = next(i for i in body["items"] if i["id"] == "hurto_localidad")
    assert (loc["zones"], loc["zones_with_progress"], loc["zones_met"], loc["progress"]) == (2, 2, 1, 0.5)


def test_filters(client):
    body = client.get("/indicators", params={"objective": "servicio"}).json()
    assert [i["id"] for i in body["items"]] == ["quejas"]
    body = client.get("/indicators", params={"level": "localidad"}).json()
    assert [i["id"] for i in body["items"]] == ["hurto_localidad"]
    body = client.get("/indicators", params={"year": 2022}).json()
    assert body["year"] == 2022 and body["plan_progress"] == 1.0
    quejas = next(i for i in body["items"] if i["id"] == "quejas")
    assert quejas["actual"] == 5 and quejas["progress"] == 1.0 and quejas["progress_uncapped"] == pytest.approx(1.25)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"objective": "x"}, "unknown objective 'x'; objectives: ['seguridad', 'servicio']"),
        ({"level": "barrio"}, "unknown level 'barrio'; levels: ['city', 'upz', 'localidad']"),
        ({"year": 2030}, "year 2030 is not tracked; years: [2021, 2022, 2023]"),
    ],
)
def test_bad_filters_are_422_naming_the_valid_values(client, params, message):
    r = client.get("/indicators", params=params)
    assert r.status_code == 422 and r.json()["detail"] == message


def test_detail_with_series_months_and_breakdown(client):
    d = client.get("/indicators/hurto").json()
    assert [s["year"] for s in d["series"]] == [2022, 2023] and d["series"][1]["progress"] == pytest.approx(0.8)
    assert d["monthly"][-1] == {"month": "2023-06", "count": 1.0, "value": 20.0, "year_to_date": 80.0}
    b = d["breakdown"]
    assert b["level"] == "localidad" and b["year"] == 2023 and b["baseline_year"] == 2022
    rows = {r["zone_id"]: r for r in b["rows"]}
    assert rows["L1"]["shortfall"] == pytest.approx(30.0) and rows["L2"]["shortfall"] == pytest.approx(-20.0)
    assert any(n["code"] == "partial_year" for n in d["notes"])
    z = client.get("/indicators/hurto_localidad").json()
    assert [s["zone_id"] for s in z["zone_series"]] == ["L1", "L2"] and z["breakdown"] is None
    assert z["zone_series"][1]["series"][1]["progress"] == 1.0
    assert client.get("/indicators/hurto", params={"year": 2022}).json()["breakdown"] is None  # the baseline year


def test_unknown_indicator_is_404(client):
    r = client.get("/indicators/nada")
    assert r.status_code == 404 and r.json()["detail"].startswith("indicator 'nada' not found; indicators: ['hurto'")


def test_small_counts_are_suppressed(data_dir):
    with TestClient(app_for(data_dir, min_count=3)) as c:
        d = c.get("/indicators/hurto_localidad").json()
        l2 = d["zone_series"][1]["series"]
        # L2 had 4 hurtos in 2022 (shown) and 1 in 2023 (fewer than 3: hidden)
        assert l2[0]["actual"] == 4 and not l2[0]["suppressed"]
        assert l2[1]["actual"] is None and l2[1]["count"] is None and l2[1]["suppressed"] and l2[1]["target"] == 2
        rows = {r["zone_id"]: r for r in c.get("/indicators/hurto").json()["breakdown"]["rows"]}
        assert rows["L2"]["suppressed"] and rows["L2"]["shortfall"] is None and not rows["L1"]["suppressed"]
        assert c.get("/indicators/hurto").json()["suppressed_below"] == 3


def test_key_required_when_aggregates_are_protected(data_dir):
    with TestClient(app_for(data_dir, require_key_for_aggregates=True)) as c:
        assert c.get("/indicators").status_code == 401
        key = create_key(c.app.state.engine, "tablero")
        assert c.get("/indicators", headers={"X-API-Key": key}).status_code == 200


def test_no_tracking_output_is_404(tmp_path):
    (tmp_path / "vacio").mkdir()
    with TestClient(app_for(tmp_path / "vacio")) as c:
        r = c.get("/indicators")
        assert r.status_code == 404 and "run `geoprio indicators TARGETS.toml --out <data dir>`" in r.json()["detail"]


def test_not_a_tracking_file_is_422(tmp_path):
    (tmp_path / "otro").mkdir()
    (tmp_path / "otro" / "seguimiento.json").write_text('{"kind": "otra cosa"}', encoding="utf-8")
    with TestClient(app_for(tmp_path / "otro")) as c:
        r = c.get("/indicators")
        assert r.status_code == 422 and "not a geoprio seguimiento output" in r.json()["detail"]


def test_schemathesis_finds_no_server_error(data_dir):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable

    from api.main import init_state

    app = app_for(data_dir)
    init_state(app, settings_for(data_dir))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, calls = [], []
    for operation in schema.get_all_operations():
        op = operation.ok()
        if not op.path.startswith("/indicators"):
            continue
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case):
                response = case.call()
                calls.append(response.status_code)
                if response.status_code >= 500:
                    failures.append((case.method, case.formatted_path, case.query, response.status_code, response.text[:200]))

            try:
                run()
            except Unsatisfiable:
                pass
    assert not failures, failures[:5]
    assert {200, 404, 422} <= set(calls)
