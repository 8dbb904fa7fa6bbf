"""Hot spots end to end: the demo city's planted hot spots, outputs and manifests, backtest, displacement, CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import typer
from typer.testing import CliRunner

from geoprio.cli.hotspots import register
from geoprio.demo.city import make_demo_city, write_demo_city
from geoprio.errors import CRSError, InputError
from geoprio.hotspots import (
    HotspotOptions,
    find_hotspots,
    make_cells,
    run_backtest,
    run_displacement,
    to_metric,
)
from geoprio.records.load import load_points
from geoprio.zones.layers import load_zones

runner = CliRunner()


@pytest.fixture(scope="module")
def city():
    return make_demo_city(20241, n_incidents=8000)


@pytest.fixture(scope="module")
def delitos(city):
    return load_points(city.delitos, source="delitos")


@pytest.fixture(scope="module")
def upz(city):
    return load_zones(city.upz, id="cod_upz", name="nombre", source="upz")


@pytest.fixture(scope="module")
def run(city, delitos, upz):
    conv = load_points(city.convivencia, kind="coexistence", source="convivencia")
    opts = HotspotOptions(cell_size_m=200, time_bin="quarter")
    return find_hotspots(delitos, zones=upz, context={"convivencia": conv}, options=opts)


def test_planted_hot_spots_are_hot_cells_and_top_clusters(city, run):
    centres = city.hotspot_centers.to_crs("EPSG:9377")
    cells = run.cells.to_crs("EPSG:9377")
    hit = gpd.sjoin(gpd.GeoDataFrame(centres[["id", "weight"]], geometry=centres.geometry), cells, predicate="within")
    strong = hit[hit["weight"] >= hit["weight"].median()]
    assert (strong["gi_bin"] == 3).all()  # the heavier planted hot spots sit in 99 % hot cells
    # the densest cells (KDE) hold planted centres: the 1 % of cells with the highest density
    top = cells.nlargest(max(1, len(cells) // 100), "kde_km2")
    assert gpd.sjoin(gpd.GeoDataFrame(geometry=centres.geometry, crs=centres.crs), top, predicate="within").shape[0] >= 2
    clusters = run.clusters.to_crs("EPSG:9377")
    # the 3 most complex clusters, and 4 of the top 5, are within 500 m of a planted centre
    # (the demo's background follows resident and floating population, so it has dense places too)
    d = shapely.distance(
        np.asarray(clusters.geometry.values, dtype=object)[:5, None], np.asarray(centres.geometry.values, dtype=object)[None, :]
    ).min(axis=1)
    assert (d[:3] < 500).all() and (d < 500).sum() >= 4
    assert (clusters["n_convivencia"] > 0).any() and clusters["complexity_rank"].tolist()[:3] == [1, 2, 3]
    assert run.notes["points_used"] + run.notes["points_outside"] == run.notes["points"]
    assert float(run.cells["incidents"].sum()) == pytest.approx(
        float(load_points(city.delitos, source="d").data["weight"].sum()) - _outside_weight(city, run)
    )


def _outside_weight(city, run) -> float:
    recs = load_points(city.delitos, source="d")
    xy = to_metric(recs, "EPSG:9377")
    return float(recs.data["weight"].to_numpy()[run.grid.locate(xy) < 0].sum())


def test_cells_have_every_column_and_emerging_patterns(run):
    cols = {"cell_id", "zone_id", "zone_name", "area_km2", "incidents", "gi_z", "gi_p", "gi_q", "gi_bin", "gi_class", "kde_km2"}
    assert cols | {"trend_code", "trend_class", "trend_tau", "trend_p", "hot_bins"} <= set(run.cells.columns)
    assert set(run.cells["gi_class"]) <= {
        "caliente 99 %",
        "caliente 95 %",
        "caliente 90 %",
        "no significativo",
        "frío 90 %",
        "frío 95 %",
        "frío 99 %",
    }
    assert len(run.notes["time_bins"]) == 8 and run.notes["time_bins"][0] == "2023Q1"
    assert (run.cells["trend_code"] != 0).any()
    assert run.cells.crs.to_epsg() == 4326 and run.clusters.crs.to_epsg() == 4326
    # the 3 planted trends (two rising, one falling) leave some intensifying/new/consecutive hot cells
    assert run.cells["trend_code"].isin([1, 2, 3, 6]).any()


def test_outputs_and_manifest(run, tmp_path):
    paths = list(run.write(tmp_path, ["csv", "geojson"], command="test").files)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "hotspots_celdas.csv",
        "hotspots_celdas.geojson",
        "hotspots_clusters.csv",
        "hotspots_clusters.geojson",
        "hotspots_notas.json",
        "manifest.json",
    ]
    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert doc["command"] == "test" and len(doc["outputs"]) == len(paths)
    assert doc["parameters"]["options"]["cell_size_m"] == 200 and doc["parameters"]["clusters"]["method"] == "hdbscan"
    assert {"numpy", "scikit-learn", "shapely"} <= set(doc["environment"])
    back = gpd.read_file(tmp_path / "hotspots_clusters.geojson")
    assert back.crs.to_epsg() == 4326 and len(back) == len(run.clusters)


def test_backtest_on_the_demo_city(delitos, upz, tmp_path):
    bt = run_backtest(
        delitos, split="2024-07-01", zones=upz, options=HotspotOptions(cell_size_m=250), methods=("prior", "kde", "gistar", "dbscan")
    )
    t = bt.table
    assert len(t) == 16 and set(t["method"]) == {"prior", "kde", "gistar", "dbscan"}
    assert (t["pai"] > 1).all() and (t["pei"] <= 1 + 1e-9).all()
    # the test counts are the records dated from the split, as pandas counts them
    d = pd.to_datetime(delitos.data["date"])
    cell = bt.cells
    assert cell["test"].sum() + bt.notes["outside_study_area"]["test"] == pytest.approx(
        delitos.data.loc[(d >= "2024-07-01").to_numpy(), "weight"].sum(), abs=3 * 3
    )
    bt.write(tmp_path, ["geojson"])
    assert (tmp_path / "backtest_curva.svg").read_text(encoding="utf-8").startswith("<svg")
    curve = pd.read_csv(tmp_path / "backtest_curva.csv")
    assert {"area_share", "prior", "kde", "best", "random"} <= set(curve.columns)


def test_bad_parameters_are_clear_errors(delitos, upz):
    with pytest.raises(InputError, match=r"split date 2030-01-01 is outside the data \(2023-01-01 – 2024-12-31\)"):
        run_backtest(delitos, split="2030-01-01", zones=upz)
    with pytest.raises(InputError, match="split: 'mañana' is not a date"):
        run_backtest(delitos, split="mañana", zones=upz)
    with pytest.raises(InputError, match=r"start \(2024-03-01\) must come before split \(2024-03-01\)"):
        run_backtest(delitos, split="2024-03-01", start="2024-03-01", zones=upz)
    d = pd.to_datetime(delitos.data["date"])
    gap = replace(delitos, data=delitos.data.loc[~((d >= "2023-03-01") & (d < "2023-07-01")).to_numpy()].reset_index(drop=True))
    with pytest.raises(InputError, match=r"the training period 2023-03-01 – 2023-06-01 is empty"):
        run_backtest(gap, split="2023-06-01", start="2023-03-01", zones=upz)
    with pytest.raises(InputError, match="eps_m must be a positive number of metres, got -50"):
        run_backtest(delitos, split="2024-07-01", zones=upz, options=HotspotOptions(eps_m=-50))
    with pytest.raises(InputError, match="cell_size_m must be a positive number of metres, got -150"):
        HotspotOptions(cell_size_m=-150).validate()
    with pytest.raises(InputError, match="unknown backtest method"):
        run_backtest(delitos, split="2024-07-01", zones=upz, methods=("oracle",))
    with pytest.raises(InputError, match="hull_buffer_m must be a non-negative number of metres"):
        find_hotspots(delitos, zones=upz, options=HotspotOptions(hull_buffer_m=-1))


def test_displacement_around_a_planted_hot_spot(city, delitos, upz):
    centre = city.hotspot_centers.iloc[0]
    target = gpd.GeoDataFrame(geometry=[centre.geometry], crs=4326).to_crs(9377).buffer(200).to_crs(4326)
    r = run_displacement(delitos, gpd.GeoDataFrame(geometry=target, crs=4326), start="2024-01-01", zones=upz)
    tab = r.result.table.set_index("area")
    # recount by hand: points inside the 200 m disc, dated in each year
    xy = to_metric(delitos, "EPSG:9377")
    disc = shapely.buffer(gpd.GeoSeries([centre.geometry], crs=4326).to_crs(9377).iloc[0], 200)
    inside = shapely.intersects_xy(disc, xy[:, 0], xy[:, 1])
    d = pd.to_datetime(delitos.data["date"]).to_numpy()
    w = delitos.data["weight"].to_numpy()
    before = inside & (d >= np.datetime64("2023-01-01")) & (d < np.datetime64("2024-01-01"))
    # the target polygon is the buffered point as a 32-segment polygon: allow a record or two on its edge
    assert tab.loc["target", "before"] == pytest.approx(w[before].sum(), abs=4)
    assert r.result.before[0].year == 2023 and r.result.after[1].year == 2024
    assert set(r.areas["area"]) == {"target", "buffer", "control"}
    with pytest.raises(InputError, match="start date 2026-01-01 is outside the data"):
        run_displacement(delitos, gpd.GeoDataFrame(geometry=target, crs=4326), start="2026-01-01", zones=upz)
    with pytest.raises(InputError, match="buffer_m must be a positive number of metres, got -250"):
        run_displacement(delitos, gpd.GeoDataFrame(geometry=target, crs=4326), start="2024-01-01", zones=upz, buffer_m=-250)


def test_points_far_from_colombia_need_their_crs():
    df = pd.DataFrame({"longitude": [-87.63, -87.64, -87.65], "latitude": [41.88, 41.89, 41.87], "date": ["2019-01-01"] * 3})
    rec = load_points(df, bbox=None)
    with pytest.raises(CRSError, match=r"pass metric_crs for their area, e\.g\. EPSG:32616 \(UTM\)"):
        to_metric(rec, "EPSG:9377")
    with pytest.raises(CRSError, match="geographic CRS"):
        make_cells(xy=np.zeros((3, 2)), metric_crs="EPSG:4326")


# --------------------------------------------------------------------------- real data


def test_medellin_backtest_counts_agree_with_geopandas(shared_data):
    path = shared_data / "medellin" / "medellin_homicides.csv"
    rec = load_points(path, category="modalidad", offsets="drop")
    comunas = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA", name="NOMBRE")
    bt = run_backtest(rec, split="2018-01-01", zones=comunas, options=HotspotOptions(cell_size_m=400), methods=("prior", "kde", "gistar"))
    # peer: geopandas sjoin of the same points on the comunas, split by year with pandas
    pts = gpd.GeoDataFrame(rec.data, geometry=gpd.points_from_xy(rec.data["x"], rec.data["y"]), crs=4326)
    joined = gpd.sjoin(pts, comunas.frame[["zone_id", "geometry"]], predicate="intersects")
    year = pd.to_datetime(joined["date"]).dt.year
    assert bt.notes["train"]["incidents"] == (year < 2018).sum() == 8049
    assert bt.notes["test"]["incidents"] == (year >= 2018).sum() == 1228
    assert bt.cells["train"].sum() == 8049 and bt.cells["test"].sum() == 1228
    assert bt.notes["outside_study_area"] == {"train": 2, "test": 0}
    t = bt.table.set_index(["method", "area_share"])
    assert t.loc[("prior", 0.01), "pai"] > 5  # homicides concentrate: far better than random
    assert (bt.table["pei"] <= 1 + 1e-9).all()


# --------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """Test app."""

    register(a)
    return a


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_hs")
    write_demo_city(make_demo_city(20241, n_incidents=5000), out)
    return out


def test_cli_hotspots_in_spanish(app, demo_files, tmp_path):
    r = runner.invoke(
        app,
        [
            "hotspots",
            str(demo_files / "delitos.csv"),
            "--zones",
            str(demo_files / "upz.geojson"),
            "--zones-id",
            "cod_upz",
            "--zones-name",
            "nombre",
            "--context",
            f"convivencia={demo_files / 'convivencia.csv'}",
            "--cell-size-m",
            "250",
            "--time-bin",
            "quarter",
            "--format",
            "csv",
            "--out",
            str(tmp_path),
            "--top",
            "3",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Getis-Ord Gi* por celda" in r.output and "caliente 99 %" in r.output
    assert "Puntos calientes emergentes (2023Q1–2024Q4)" in r.output
    assert "Espacios de alta complejidad: top 3 de" in r.output
    assert (tmp_path / "hotspots_clusters.csv").exists() and (tmp_path / "manifest.json").exists()
    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert [Path(i["path"]).name for i in doc["inputs"]] == ["delitos.csv", "upz.geojson", "convivencia.csv"]


def test_cli_backtest_and_errors(app, demo_files, tmp_path):
    base = ["backtest", str(demo_files / "delitos.csv"), "--zones", str(demo_files / "upz.geojson"), "--zones-id", "cod_upz"]
    r = runner.invoke(
        app, [*base, "--split", "2024-07-01", "--methods", "prior,kde", "--cell-size-m", "300", "--out", str(tmp_path), "--lang", "en"]
    )
    assert r.exit_code == 0, r.output
    assert "prior counts (baseline)" in r.output and "Best PAI at 1 %" in r.output
    assert (tmp_path / "backtest_tabla.csv").exists() and (tmp_path / "backtest_curva.svg").exists()
    r = runner.invoke(app, [*base, "--split", "2030-01-01", "--out", str(tmp_path / "x")])
    assert r.exit_code == 1 and "split date 2030-01-01 is outside the data" in r.output
    r = runner.invoke(app, [*base, "--split", "2024-07-01", "--eps-m", "-10", "--out", str(tmp_path / "y")])
    assert r.exit_code == 1 and "eps_m must be a positive number of metres, got -10" in r.output


def test_cli_displacement(app, demo_files, city, tmp_path):
    centre = city.hotspot_centers.iloc[1]
    target = gpd.GeoDataFrame({"nombre": ["playa"]}, geometry=[centre.geometry], crs=4326).to_crs(9377)
    target["geometry"] = target.buffer(300)
    target.to_crs(4326).to_file(tmp_path / "target.geojson")
    r = runner.invoke(
        app,
        [
            "displacement",
            str(demo_files / "delitos.csv"),
            "--targets",
            str(tmp_path / "target.geojson"),
            "--start",
            "2024-01-01",
            "--zones",
            str(demo_files / "upz.geojson"),
            "--zones-id",
            "cod_upz",
            "--out",
            str(tmp_path / "d"),
        ],
    )
    assert r.exit_code == 0, r.output
    # two periods of 365 days: the data run from 2023-01-01 to 2024-12-31
    assert "Desplazamiento: antes 2023-01-01 – 2023-12-31, después" in r.output and "2024-01-01 – 2024-12-30" in r.output
    assert "intervención" in r.output and "anillo 250 m" in r.output
    assert "WDQ" in r.output and "Lectura:" in r.output
    t = pd.read_csv(tmp_path / "d" / "desplazamiento.csv")
    assert t["area"].tolist() == ["target", "buffer", "control"] and "wdq" in t.columns


def test_without_zones_the_study_area_is_the_concave_hull_of_the_points(delitos):
    bt = run_backtest(delitos, split="2024-07-01", options=HotspotOptions(cell_size_m=300), methods=("prior", "recent"))
    xy = to_metric(delitos, "EPSG:9377")
    d = pd.to_datetime(delitos.data["date"]).to_numpy()
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(xy[d < np.datetime64("2024-07-01")])), 250)
    # the concave hull (grown by 250 m) lies inside the convex hull grown alike, and covers most of it
    assert bt.notes["study_area_km2"] <= shapely.area(hull) / 1e6 + 1.0
    assert bt.notes["study_area_km2"] > 0.5 * shapely.area(hull) / 1e6
    assert bt.notes["outside_study_area"]["train"] == 0
    assert bt.params["recent_days"] == 184  # the test period's length: 2024-07-01 – 2024-12-31


@pytest.mark.parametrize("command", ["hotspots", "backtest", "displacement"])
def test_help(app, command):
    r = runner.invoke(app, [command, "--help"])
    assert r.exit_code == 0 and "Usage" in r.output
