"""The plan de despliegue on next period's forecast: place demand from a surface, shrunk profiles, CLI, errors."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geoprio.cli import app
from geoprio.entornos.deploy import plan_deployment
from geoprio.entornos.forecast_demand import (
    forecast_values,
    place_expected,
    place_forecast,
    read_forecast_surface,
    shrunk_profiles,
)
from geoprio.entornos.places import load_places
from geoprio.entornos.run import load_entornos_config, run_entornos
from geoprio.errors import InputError

runner = CliRunner()
METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_075_000.0  # Bogotá in EPSG:9377


# --------------------------------------------------------------------------- place demand by hand


def test_a_place_over_half_of_one_cell_and_all_of_another():
    cells = np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(200, 0, 300, 100)])
    expected = np.array([4.0, 10.0, 7.0])
    places = np.array(
        [
            shapely.box(50, 0, 200, 100),  # half of cell 0 (2.0) and all of cell 1 (10.0)
            shapely.box(150, 0, 250, 100),  # half of cell 1 (5.0), half of cell 2 (3.5)
            shapely.box(250, 50, 350, 100),  # a quarter of cell 2 (1.75); half of it outside the surface
            shapely.box(1000, 0, 1100, 100),  # no cell
        ]
    )
    e, covered = place_expected(places, cells, expected)
    np.testing.assert_allclose(e, [12.0, 8.5, 1.75, 0.0], rtol=1e-12)
    np.testing.assert_allclose(covered, [1.0, 1.0, 0.5, 0.0], rtol=1e-12)


@pytest.fixture
def toy_surface(tmp_path):
    """Two 100 m cells side by side in Bogotá (expected 4 and 10), written as geoprio writes a
    surface: GeoJSON and CSV (centres only) in EPSG:4326, and the manifest's notes.
    """
    cells_m = [shapely.box(X0, Y0, X0 + 100, Y0 + 100), shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100)]
    gdf = gpd.GeoDataFrame(
        {
            "cell_id": ["C000000", "C000001"],
            "expected": [4.0, 10.0],
            "method": "kde",
            "backtest_pai": 12.5,
            "backtest_gain": 0.037,
        },
        geometry=cells_m,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    folder = tmp_path / "surf"
    folder.mkdir()
    gdf.to_file(folder / "pronostico_superficie.geojson")
    centres = gdf.geometry.to_crs(METRIC).centroid.to_crs("EPSG:4326")
    pd.DataFrame(gdf.drop(columns="geometry")).assign(lon=centres.x, lat=centres.y).to_csv(
        folder / "pronostico_superficie.csv", index=False
    )
    manifest = {
        "kind": "geoprio.forecast_surface",
        "outputs": [{"path": str(folder / n), "sha256": "x"} for n in ("pronostico_superficie.csv", "pronostico_superficie.geojson")],
        "notes": {"horizon": "month", "period_start": "2024-04-01", "period_end": "2024-05-01", "method": "kde"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def _points(coords_m):
    gdf = gpd.GeoDataFrame({"tipo": ["estación"] * len(coords_m)}, geometry=[shapely.Point(x, y) for x, y in coords_m], crs=METRIC)
    return load_places(gdf.to_crs("EPSG:4326"), type="tipo", radius_m=40.0)


@pytest.mark.parametrize("name", ["pronostico_superficie.geojson", "pronostico_superficie.csv"])
def test_places_on_a_surface_file(toy_surface, name):
    # a station on the edge between the cells: its 40 m circle is half in each; one inside cell 1
    places = _points([(X0 + 100, Y0 + 50), (X0 + 150, Y0 + 50)])
    surface = read_forecast_surface(toy_surface / name)
    assert surface.meta["method"] == "kde" and surface.meta["backtest_pai"] == 12.5 and surface.meta["backtest_gain"] == 0.037
    assert (surface.meta["horizon"], surface.meta["period_start"], surface.meta["period_end"]) == ("month", "2024-04-01", "2024-05-01")
    assert {p.name for p in surface.files} >= {name, "manifest.json"}
    circle = math.pi * 40.0**2 / 100.0**2  # the circle's share of a cell (polygon: within 0.04 %)
    week = np.zeros((2, 168))
    week[0, 5] = 10.0  # the first has 10 past incidents, all on Monday 05:00; the second none
    city = np.zeros(168)
    city[[5, 30]] = [1.0, 3.0]
    fc = place_forecast(places, surface, week, city, data_to=pd.Timestamp("2024-03-31"))
    np.testing.assert_allclose(fc.expected, [(4.0 + 10.0) / 2 * circle, 10.0 * circle], rtol=2e-3)
    np.testing.assert_allclose(fc.covered, [1.0, 1.0], rtol=1e-6)
    # 10 own incidents and k = 10: half its own (all at slot 5), half the city's (1/4 at 5, 3/4 at 30)
    assert fc.profiles[0, 5] == pytest.approx(0.5 + 0.5 * 0.25) and fc.profiles[0, 30] == pytest.approx(0.5 * 0.75)
    assert fc.profiles[1, 5] == pytest.approx(0.25) and fc.profiles[1, 30] == pytest.approx(0.75)  # no past: the city's
    np.testing.assert_allclose(fc.values, fc.expected[:, None] * fc.profiles)
    assert fc.summary()["places_outside_surface"] == []


def test_profile_shrinkage_by_hand():
    week = np.zeros((3, 168))
    week[0, [0, 5]] = [2.0, 3.0]  # 5 incidents
    week[2, 100] = 30.0  # 30 incidents, all in one slot
    city = np.zeros(168)
    city[[0, 1]] = [10.0, 30.0]  # shares 0.25 and 0.75
    p = shrunk_profiles(week, city, prior_incidents=10.0)
    # (week + 10 · city share) / (n + 10)
    assert p[0, 0] == pytest.approx((2 + 2.5) / 15) and p[0, 1] == pytest.approx(7.5 / 15) and p[0, 5] == pytest.approx(3 / 15)
    assert p[1, 0] == pytest.approx(0.25) and p[1, 1] == pytest.approx(0.75)  # no incidents: the city's
    assert p[2, 100] == pytest.approx(30 / 40) and p[2, 0] == pytest.approx(2.5 / 40) and p[2, 1] == pytest.approx(7.5 / 40)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # a city without incidents of known hour: uniform
    np.testing.assert_allclose(shrunk_profiles(np.zeros((1, 168)), np.zeros(168)), 1 / 168)
    np.testing.assert_allclose(forecast_values(np.array([2.0, 0.0, 4.0]), p), p * np.array([[2.0], [0.0], [4.0]]))
    with pytest.raises(InputError, match="prior_incidents must be a positive"):
        shrunk_profiles(week, city, prior_incidents=0)


# --------------------------------------------------------------------------- errors


def test_a_surface_of_another_city_is_refused(toy_surface):
    medellin = gpd.GeoDataFrame({"tipo": ["estación"]}, geometry=[shapely.Point(-75.5686, 6.2518)], crs="EPSG:4326")
    places = load_places(medellin, type="tipo")
    surface = read_forecast_surface(toy_surface / "pronostico_superficie.geojson")
    with pytest.raises(InputError, match=r"pronostico_superficie\.geojson: no cell of the forecast surface meets any place"):
        place_forecast(places, surface, np.zeros((1, 168)), np.ones(168))


def test_a_past_period_csv_alone_and_a_non_surface_are_refused(toy_surface, tmp_path):
    places = _points([(X0 + 100, Y0 + 50)])
    surface = read_forecast_surface(toy_surface / "pronostico_superficie.geojson")
    with pytest.raises(InputError, match=r"forecasts 2024-04-01 to 2024-05-01 .* already cover \(they run to 2024-06-30\)"):
        place_forecast(places, surface, np.zeros((1, 168)), np.ones(168), data_to=pd.Timestamp("2024-06-30"))
    alone = tmp_path / "solo"
    alone.mkdir()
    (alone / "pronostico_superficie.csv").write_bytes((toy_surface / "pronostico_superficie.csv").read_bytes())
    with pytest.raises(InputError, match=r"carries each cell's centre \(lon, lat\), not its shape"):
        read_forecast_surface(alone / "pronostico_superficie.csv")
    other = gpd.GeoDataFrame({"zona": ["a"]}, geometry=[shapely.box(-74.1, 4.6, -74.0, 4.7)], crs="EPSG:4326")
    other.to_file(tmp_path / "zonas.geojson")
    with pytest.raises(InputError, match=r"zonas\.geojson: not a forecast surface .* missing column\(s\) \['cell_id', 'expected'\]"):
        read_forecast_surface(tmp_path / "zonas.geojson")
    metres = gpd.read_file(toy_surface / "pronostico_superficie.geojson").to_crs(METRIC).set_crs("EPSG:4326", allow_override=True)
    metres.to_file(tmp_path / "metros.gpkg")  # coordinates in metres declared as degrees
    with pytest.raises(InputError, match=r"metros\.gpkg: the cells' coordinates .* are not longitudes and latitudes"):
        read_forecast_surface(tmp_path / "metros.gpkg")
    with pytest.raises(InputError, match="forecast surface not found"):
        read_forecast_surface(tmp_path / "nada.geojson")
    public = gpd.read_file(toy_surface / "pronostico_superficie.geojson")
    public["suppressed"] = public.index == 0
    public.loc[0, "expected"] = np.nan  # a public release: suppressed cells are null
    public.to_file(tmp_path / "publico.geojson")
    with pytest.raises(InputError, match=r"publico\.geojson: a public release .* its 1 suppressed cells .* plan on the full surface"):
        read_forecast_surface(tmp_path / "publico.geojson")


# --------------------------------------------------------------------------- real data, end to end


@pytest.fixture(scope="module")
def medellin(shared_data, tmp_path_factory):
    """Medellín homicides of 2019 (a slice), their forecast surface for January 2020 (written by
    geoprio's own writer), and an entornos config over the metro stations.
    """
    from geoprio.hotspots.forecast import ForecastOptions
    from geoprio.hotspots.forecast_layer import SurfaceOptions, next_period_forecast
    from geoprio.records.load import load_points

    root = tmp_path_factory.mktemp("medellin_forecast")
    raw = pd.read_csv(shared_data / "medellin" / "medellin_homicides.csv", sep=";", dtype=str)
    raw[raw["fecha_hecho"].str.startswith("2019")].to_csv(root / "homicidios_2019.csv", sep=";", index=False)
    records = load_points(root / "homicidios_2019.csv", date="fecha_hecho", offsets="drop")
    opts = ForecastOptions(horizons=("month",), origins=3, warmup=1, cell_size_m=500.0, bootstrap=100, methods=("prior", "recent"))
    surface = next_period_forecast(records, options=SurfaceOptions(backtest=opts))
    surface.write(root / "surf", ["csv", "geojson"])
    stations = (shared_data / "medellin" / "medellin_metro_stns.csv").as_posix()
    config = root / "entornos.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [places]
            path = "{stations}"
            type = "sistema"
            name = "nombre"
            radius_m = 200

            [sources.homicidios]
            path = "homicidios_2019.csv"
            date = "fecha_hecho"
            offsets = "drop"

            [[indicators]]
            name = "homicidios"
            source = "homicidios"
            weight = 1

            [robustness]
            draws = 0

            [deploy]
            teams = 2
            days = [4, 5]
            top = 12

            [output]
            dir = "out"
            formats = ["csv"]
            """
        ),
        encoding="utf-8",
    )
    return {"root": root, "surface": surface, "config": config}


def test_the_plan_on_a_forecast_is_the_plan_on_its_array(medellin):
    cfg = load_entornos_config(medellin["config"])
    cfg = cfg.model_copy(update={"forecast": medellin["root"] / "surf" / "pronostico_superficie.geojson"})
    run = run_entornos(cfg)
    fc = run.forecast
    assert fc is not None and run.plan is not None
    # each place's expected incidents, against a geopandas overlay (the peer): cell share of area
    cells = medellin["surface"].cells.to_crs(METRIC)
    cells = cells.assign(cell_m2=cells.area)
    areas = gpd.GeoDataFrame({"place_id": run.places.ids}, geometry=run.places.influence_metric, crs=METRIC)
    ov = gpd.overlay(areas, cells[["cell_id", "expected", "cell_m2", "geometry"]], how="intersection", keep_geom_type=True)
    peer = (ov["expected"] * ov.area / ov["cell_m2"]).groupby(ov["place_id"]).sum().reindex(run.places.ids, fill_value=0.0)
    np.testing.assert_allclose(fc.expected, peer.to_numpy(), rtol=1e-6, atol=1e-9)
    assert fc.expected.sum() > 0
    t = run.table.set_index("place_id")
    np.testing.assert_allclose(t["forecast_expected"].to_numpy(), peer.reindex(t.index).round(6).to_numpy(), atol=1e-6)
    # the plan on the forecast is the plan on the same array given directly
    chosen = t[t["rank"].notna()].sort_values("rank", kind="stable").index[:12]
    rows = run.places.ids.get_indexer(chosen)
    direct = plan_deployment(fc.values[rows], teams=2, shift_hours=8, days=[4, 5], place_ids=list(chosen))
    pd.testing.assert_frame_equal(run.plan.shifts, direct.shifts)
    assert run.plan.total == pytest.approx(fc.values[rows].sum())
    # the profile: the places' past weekly shares shrunk toward the city's by 10 pseudo-incidents
    # (profile · (n + 10) − week = 10 · the city's shares, the same for every place)
    n = run.profiles.week.sum(axis=1, keepdims=True)
    prior = fc.profiles * (n + 10.0) - run.profiles.week
    np.testing.assert_allclose(prior, np.broadcast_to(prior[0], prior.shape), atol=1e-9)
    assert prior[0].sum() == pytest.approx(10.0) and (prior[0] >= -1e-12).all() and np.ptp(prior[0]) > 0
    assert run.notes["forecast"]["period_start"] == "2020-01-01" and run.notes["forecast"]["method"] == medellin["surface"].method


def test_cli_with_a_forecast_end_to_end_and_replay(medellin):
    root = medellin["root"]
    surface = medellin["surface"]
    r = runner.invoke(
        app, ["entornos", str(medellin["config"]), "--forecast", str(root / "surf" / "pronostico_superficie.csv"), "--top", "5"]
    )
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())  # rich wraps long lines at the terminal's width
    assert "Pronóstico" in text and "Demanda del plan: pronóstico con" in text and "del 2020-01-01 al 2020-01-31" in text
    out = root / "out"
    summary = json.loads((out / "entornos_despliegue.json").read_text(encoding="utf-8"))
    assert summary["demand"] == "forecast"
    f = summary["forecast"]
    assert (f["method"], f["horizon"], f["period_start"], f["period_end"]) == (surface.method, "month", "2020-01-01", "2020-02-01")
    assert f["backtest_pai"] == pytest.approx(surface.notes["backtest"]["pai"]) and f["backtest"] == surface.notes["backtest"]
    table = pd.read_csv(out / "entornos.csv")
    assert table["forecast_expected"].sum() == pytest.approx(f["places_expected_total"], abs=1e-4)
    # the plan's total: the expected incidents of the 12 best-ranked places (each profile sums to 1)
    top = table.dropna(subset=["rank"]).sort_values("rank", kind="stable").head(12)
    assert summary["total"] == pytest.approx(top["forecast_expected"].sum(), abs=1e-4) and summary["total"] > 0
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert doc["forecast"]["period_start"] == "2020-01-01"
    assert {Path(i["path"]).name for i in doc["inputs"]} >= {"pronostico_superficie.csv", "pronostico_superficie.geojson", "manifest.json"}
    again = runner.invoke(app, ["entornos", "--manifest", str(out / "manifest.json"), "--out", str(root / "again")])
    assert again.exit_code == 0, again.output
    assert "Reproducido:" in again.output
    assert (root / "again" / "entornos_despliegue.json").read_bytes() == (out / "entornos_despliegue.json").read_bytes()


def test_cli_refuses_a_surface_of_another_city(medellin, toy_surface):
    r = runner.invoke(app, ["entornos", str(medellin["config"]), "--forecast", str(toy_surface / "pronostico_superficie.geojson")])
    assert r.exit_code == 1 and "no cell of the forecast surface meets any place" in r.output and "Traceback" not in r.output


def test_the_public_release_says_which_demand_and_hides_what_it_hides(medellin):
    root = medellin["root"]
    geojson = root / "surf" / "pronostico_superficie.geojson"
    r = runner.invoke(
        app, ["entornos", str(medellin["config"]), "--forecast", str(geojson), "--public", "--min-count", "3", "--out", str(root / "pub")]
    )
    assert r.exit_code == 0, r.output
    summary = json.loads((root / "pub" / "entornos_despliegue.json").read_text(encoding="utf-8"))
    assert summary["demand"] == "forecast" and summary["forecast"]["period_start"] == "2020-01-01"
    table = pd.read_csv(root / "pub" / "entornos.csv")
    hidden = table["suppressed"].astype(bool)
    assert hidden.any() and (~hidden).any()  # 2019 alone leaves stations with 1 or 2 homicides within 200 m
    # a place's forecast is an area-weighted sum of the surface's cells: with the surface's public
    # release it would give a suppressed cell back by subtraction, so no place publishes it
    assert table["forecast_expected"].isna().all() and "places_expected_total" not in summary["forecast"]


def test_the_config_resolves_the_forecast_against_its_folder(medellin):
    text = medellin["config"].read_text(encoding="utf-8")
    config = medellin["root"] / "con_pronostico.toml"
    config.write_text('forecast = "surf/pronostico_superficie.geojson"\n' + text, encoding="utf-8")
    cfg = load_entornos_config(config)
    want = (medellin["root"] / "surf" / "pronostico_superficie.geojson").resolve()
    assert cfg.forecast == want and cfg.input_paths()[-1] == want
    assert load_entornos_config(medellin["config"]).forecast is None
    other = cfg.with_overrides(forecast=medellin["root"] / "surf" / "pronostico_superficie.csv")
    assert other.forecast == (medellin["root"] / "surf" / "pronostico_superficie.csv").resolve()
