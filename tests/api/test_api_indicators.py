"""``GET /indicators`` and ``GET /indicators/{id}`` with FastAPI's TestClient over a data
directory where ``geoprio indicators`` wrote its outputs (the tiny city of test_targets).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.seguimiento import load_targets, track
from tests.builders import write_tiny_city


def settings_for(data_dir: Path, **kw) -> Settings:
    kw.setdefault("min_count", 0)  # these tests read the values; the public default is tested in test_disclosure_*.py
    return Settings(data_dir=data_dir, maps_dir=data_dir / "maps", database_url=f"sqlite:///{data_dir}/api.sqlite", **kw)


def app_for(data_dir: Path, **kw):
    return create_app(settings_for(data_dir, **kw))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("api_ind")
    path = write_tiny_city(root / "ciudad")
    out = root / "datos"
    track(load_targets(path)).write(out / "seguimiento")  # a sub-folder of the data directory is found too
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
        assert rows["L2"]["suppressed"] and rows["L2"]["shortfall"] is None
        # L1's 3 is hidden too (complementary suppression): the city's 4 minus L1's 3 gave L2's 1 away
        assert rows["L1"]["suppressed"] and rows["L1"]["count"] is None and rows["L1"]["count_base"] == 6
        assert c.get("/indicators/hurto").json()["suppressed_below"] == 3


def _csv(response) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return pd.read_csv(io.StringIO(response.text), dtype={"zone_id": str})


def test_csv_is_the_tracking_table_filtered_like_the_json(client, data_dir):
    written = pd.read_csv(next(data_dir.glob("**/seguimiento.csv")), dtype={"zone_id": str})
    r = client.get("/indicators", params={"format": "csv"})
    table = _csv(r)
    assert r.headers["x-total-count"] == "11" and list(table.columns) == [*written.columns, "suppressed"]
    pd.testing.assert_frame_equal(table.drop(columns="suppressed"), written)  # every year, as written
    assert not table["suppressed"].any()
    hurto = table[(table["indicator"] == "hurto") & (table["year"] == 2023)].iloc[0]
    assert (hurto["actual"], hurto["actual_annualized"], hurto["target"], hurto["progress"]) == (80.0, 160.0, 150.0, 0.8)
    by_objective = _csv(client.get("/indicators", params={"format": "csv", "objective": "servicio"}))
    assert by_objective["indicator"].tolist() == ["quejas"] * 3
    by_level = _csv(client.get("/indicators", params={"format": "csv", "level": "localidad"}))
    assert list(zip(by_level["zone_id"], by_level["year"], strict=True)) == [("L1", 2022), ("L1", 2023), ("L2", 2022), ("L2", 2023)]
    by_year = _csv(client.get("/indicators", params={"format": "csv", "year": 2021}))
    assert by_year[["indicator", "year"]].values.tolist() == [["quejas", 2021]]


def test_a_tracking_table_written_for_excel_is_served_as_standard_csv(tmp_path, client):
    from geoprio.io import Export

    out = tmp_path / "datos"
    track(load_targets(write_tiny_city(tmp_path / "ciudad"))).write(out / "seguimiento", export=Export(csv="excel"))
    assert (out / "seguimiento" / "seguimiento.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with TestClient(app_for(out)) as excel:
        served = excel.get("/indicators", params={"format": "csv"})
    assert served.status_code == 200
    assert served.text == client.get("/indicators", params={"format": "csv"}).text  # same values, "." decimals


def test_geojson_is_the_zone_layer_filtered_like_the_json(client):
    r = client.get("/indicators", params={"format": "geojson"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["total"] == 6 and body["suppressed_below"] == 0
    keys = [(f["properties"]["indicator"], f["properties"]["zone_id"]) for f in body["features"]]
    assert keys == [(i, z) for i in ("hurto", "hurto_localidad", "homicidio_share") for z in ("L1", "L2")]
    l1 = body["features"][0]
    assert l1["geometry"]["type"] == "Polygon" and l1["properties"]["scope"] == "breakdown"
    assert l1["properties"]["shortfall"] == pytest.approx(30.0) and l1["properties"]["suppressed"] is False
    # level filters on the indicator's level: the city indicators bring their breakdown zones
    city = client.get("/indicators", params={"format": "geojson", "level": "city"}).json()
    assert {f["properties"]["indicator"] for f in city["features"]} == {"hurto", "homicidio_share"}
    assert client.get("/indicators", params={"format": "geojson", "objective": "servicio"}).json()["features"] == []
    assert client.get("/indicators", params={"format": "geojson", "year": 2023}).json()["total"] == 6
    r = client.get("/indicators", params={"format": "geojson", "year": 2022})
    assert r.status_code == 422
    assert r.json()["detail"] == "the zone layer holds the run's year only (2023); run `geoprio indicators TARGETS.toml --year 2022`"


def test_unknown_format_is_422_json(client):
    r = client.get("/indicators", params={"format": "xml"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["detail"][0]["loc"] == ["query", "format"] and "'json', 'csv' or 'geojson'" in r.json()["detail"][0]["msg"]
    r = client.get("/indicators", params={"format": "csv", "year": 2030})
    assert r.status_code == 422 and r.json()["detail"] == "year 2030 is not tracked; years: [2021, 2022, 2023]"


def test_csv_and_geojson_hide_what_the_json_hides(data_dir):
    with TestClient(app_for(data_dir, min_count=3)) as c:
        table = _csv(c.get("/indicators", params={"format": "csv"}))
        hidden = table[table["suppressed"]]
        # fewer than 3 records: L2's hurtos in 2023 (1), the share's homicides (2 and 1), the quejas of 2023 (2);
        # L1's hurtos of 2023 (3) protect L2's (the city's 4 is published)
        assert list(zip(hidden["indicator"], hidden["zone_id"], hidden["year"], strict=True)) == [
            ("hurto_localidad", "L1", 2023),
            ("hurto_localidad", "L2", 2023),
            ("homicidio_share", "city", 2022),
            ("homicidio_share", "city", 2023),
            ("quejas", "city", 2023),
        ]
        values = ["count", "actual", "actual_annualized", "progress", "progress_capped", "cumulative_actual", "progress_plan_total"]
        assert hidden[values].isna().all().all()
        l2 = hidden.iloc[1]
        assert (l2["target"], l2["baseline"], l2["months"]) == (2.0, 4.0, 6.0)  # the program stays, as in the JSON
        shown = table[(table["zone_id"] == "L2") & (table["year"] == 2022)].iloc[0]
        assert (shown["count"], shown["actual"], shown["suppressed"]) == (4.0, 4.0, False)
        # the JSON detail hides the same series entries
        detail = c.get("/indicators/hurto_localidad").json()["zone_series"][1]["series"]
        assert [s["suppressed"] for s in detail] == [False, True]
        share = c.get("/indicators/homicidio_share").json()["series"]
        assert [s["suppressed"] for s in share] == [True, True]

        layer = c.get("/indicators", params={"format": "geojson"}).json()
        assert layer["suppressed_below"] == 3
        props = {(f["properties"]["indicator"], f["properties"]["zone_id"]): f["properties"] for f in layer["features"]}
        assert [k for k, p in props.items() if p["suppressed"]] == [
            ("hurto", "L1"),
            ("hurto", "L2"),
            ("hurto_localidad", "L1"),
            ("hurto_localidad", "L2"),
            ("homicidio_share", "L1"),
            ("homicidio_share", "L2"),
        ]
        # a breakdown row hidden in 2023 keeps what rests on 2022 (4 hurtos): its baseline and its
        # proportional target, as the JSON breakdown does
        b = props[("hurto", "L2")]
        assert b["target"] == pytest.approx(100.0) and b["baseline"] == pytest.approx(133.333333)
        hidden_keys = ("count", "actual", "progress", "progress_capped", "value_change", "change", "share_of_change")
        assert all(b[k] is None for k in (*hidden_keys, "shortfall", "share_of_shortfall", "gap_to_city_target"))
        rows = {r["zone_id"]: r for r in c.get("/indicators/hurto").json()["breakdown"]["rows"]}
        assert rows["L2"]["suppressed"] and rows["L2"]["value"] is None and rows["L2"]["proportional_target"] == pytest.approx(100.0)
        # a zone of a zone-level indicator keeps its baseline and target, as the JSON zone series does
        z = props[("hurto_localidad", "L2")]
        assert (z["baseline"], z["target"]) == (4.0, 2.0) and all(z[k] is None for k in ("count", "actual", "progress", "progress_capped"))
        # L1 (3 hurtos, hidden to protect L2) keeps its baseline and proportional target, not its year
        assert props[("hurto", "L1")]["shortfall"] is None and props[("hurto", "L1")]["count"] is None
        assert props[("hurto", "L1")]["baseline"] == pytest.approx(300.0) and props[("hurto", "L1")]["target"] == pytest.approx(225.0)


def test_csv_or_geojson_missing_beside_the_json_is_404(tmp_path, data_dir):
    folder = tmp_path / "solo_json"
    folder.mkdir()
    (folder / "seguimiento.json").write_bytes(next(data_dir.glob("**/seguimiento.json")).read_bytes())
    with TestClient(app_for(folder)) as c:
        assert c.get("/indicators").status_code == 200
        r = c.get("/indicators", params={"format": "csv"})
        assert r.status_code == 404 and r.json()["detail"].startswith("no seguimiento.csv beside seguimiento.json")
        r = c.get("/indicators", params={"format": "geojson"})
        assert r.status_code == 404 and r.json()["detail"].startswith("no seguimiento_zonas.geojson beside seguimiento.json")


def test_key_required_when_aggregates_are_protected(data_dir):
    with TestClient(app_for(data_dir, require_key_for_aggregates=True)) as c:
        assert c.get("/indicators").status_code == 401
        key = create_key(c.app.state.engine, "tablero")
        assert c.get("/indicators", headers={"X-API-Key": key}).status_code == 200
        assert c.get("/indicators", params={"format": "csv"}).status_code == 401
        assert c.get("/indicators", params={"format": "geojson"}, headers={"X-API-Key": key}).status_code == 200


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
    from geoprio.api.main import init_state
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable

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


def test_city_summary_progress_and_measured_baseline_are_hidden_too(data_dir):
    """The list's summary, the yearly progress and a baseline measured from too few records
    would give a suppressed value away: they are hidden with it."""
    with TestClient(app_for(data_dir, min_count=3)) as c:
        share = next(i for i in c.get("/indicators", params={"year": 2023}).json()["items"] if i["id"] == "homicidio_share")
        assert share["suppressed"] and share["actual"] is None and share["progress"] is None and share["progress_uncapped"] is None
        assert share["baseline"] is None  # measured in 2022 from 2 homicides
        detail = c.get("/indicators/homicidio_share", params={"year": 2023}).json()
        assert detail["progress_by_year"]["2023"] is None and detail["progress_by_year"]["2022"] is None
        assert all(m["count"] is None for m in detail["monthly"] if m.get("suppressed"))
        hurto = next(i for i in c.get("/indicators").json()["items"] if i["id"] == "hurto")
        assert not hurto["suppressed"] and hurto["actual"] is not None
    with TestClient(app_for(data_dir, min_count=5)) as c:  # L2's 2022 baseline rests on 4 hurtos
        zones = {z["zone_id"]: z for z in c.get("/indicators/hurto_localidad").json()["zone_series"]}
        # L1's 6 is hidden too: the city's 10 hurtos of 2022 minus L1's 6 gave L2's 4 away
        assert zones["L2"]["baseline"] is None and zones["L1"]["baseline"] is None
        assert all(t is None for z in zones.values() for t in z["targets"].values())  # relative targets: baseline × (1 + r)
        table = _csv(c.get("/indicators", params={"format": "csv"}))
        l2 = table[(table["indicator"] == "hurto_localidad") & (table["zone_id"] == "L2")]
        assert l2["baseline"].isna().all() and l2["suppressed"].all()
        layer = c.get("/indicators", params={"format": "geojson"}).json()
        feats = {(f["properties"]["indicator"], f["properties"]["zone_id"]): f["properties"] for f in layer["features"]}
        assert feats[("hurto_localidad", "L2")]["baseline"] is None and feats[("hurto_localidad", "L1")]["baseline"] is None
        assert feats[("hurto_localidad", "L2")]["target"] is None
    with TestClient(app_for(data_dir, min_count=0)) as c:
        share = next(i for i in c.get("/indicators", params={"year": 2023}).json()["items"] if i["id"] == "homicidio_share")
        assert not share["suppressed"] and share["actual"] is not None and share["baseline"] == pytest.approx(16.666667)
