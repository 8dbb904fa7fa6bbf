"""The forecast surface on the map (geoprio.maps.forecast_layer, ``geoprio map --forecast``)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import geoprio.maps as maps
from geoprio.cli import app as cli_app
from geoprio.errors import ColumnError
from geoprio.maps.elements import LayerControl, Panel
from geoprio.maps.forecast_layer import MIN_EXPECTED

METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_066_000.0  # Bogotá in EPSG:9377
runner = CliRunner()
NOTES = {
    "horizon": "month",
    "period_start": "2022-01-01",
    "period_end": "2022-02-01",
    "method": "kde",
    "backtest": {"area_share": 0.2, "pai": 16.7, "gain": 0.0, "gain_ci": [-0.012, 0.034]},
}


def _surface() -> gpd.GeoDataFrame:
    """Eleven 250 m cells in a row expecting 10, 9, … 1 and 0 incidents (ranked in that order)."""
    n = 11
    expected = np.array([10.0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    boxes = [shapely.box(X0 + i * 250, Y0, X0 + (i + 1) * 250, Y0 + 250) for i in range(n)]
    frame = pd.DataFrame(
        {
            "cell_id": [f"c{i:02d}" for i in range(n)],
            "expected": expected,
            "rank": np.arange(1, n + 1),
            "share": expected / expected.sum(),
            "cum_area_share": np.arange(1, n + 1) / n,  # equal areas: 1/11, 2/11, …
            "score": expected,
            "method": "kde",
            "backtest_pai": 16.7,
            "backtest_gain": 0.0,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=boxes, crs=METRIC).to_crs("EPSG:4326")


@pytest.fixture(scope="module")
def surface_file(tmp_path_factory) -> Path:
    """The layer and the manifest of a forecast run beside it, as ``geoprio forecast --surface`` writes them."""
    folder = tmp_path_factory.mktemp("forecast")
    path = folder / "pronostico_superficie.geojson"
    _surface().to_file(path, driver="GeoJSON")
    manifest = {"kind": "geoprio.forecast_surface", "notes": NOTES, "inputs": []}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def _legend(result: maps.MapResult) -> str:
    panels = [c for c in result.map._children.values() if isinstance(c, Panel) and c.layer is result.layers[-1].layer]
    assert len(panels) == 1
    return panels[0].html


def test_forecast_map_classes_outline_popup_and_legend(surface_file):
    result = maps.make_map(maps.map_options(forecast=surface_file, tiles="none"))
    (info,) = result.layers
    assert (info.name, info.kind, info.features) == ("Pronóstico: incidentes esperados", "forecast", 10)  # the 0 cell is left out
    legend = _legend(result)
    assert "Incidentes esperados del 01/01/2022 al 31/01/2022" in legend
    # quantile classes of 1…10 at 0, 20 … 100 %: 1 + 9·q → 1; 2,8; 4,6; 6,4; 8,2; 10
    rows = ["8,20–10,00", "6,40–8,20", "4,60–6,40", "2,80–4,60", "1,00–2,80"]
    assert [legend.index(r) for r in rows] == sorted(legend.index(r) for r in rows)
    assert "PAI 16,7 al 20 % del área; +0,0 % frente a los conteos previos (IC 95 %: −1,2 % a +3,4 %)" in legend
    assert "densidad kernel" in legend
    # the top 20 % of the area: cum_area_share 1/11 and 2/11 → the two cells expecting 10 and 9
    assert "el 20 % del área con más incidentes esperados (2 celdas)" in legend
    assert "1 celdas sin incidentes esperados no se dibujan" in legend
    feats = info.layer.data["features"]
    top = [f["properties"] for f in feats if f["properties"]["_top"]]
    assert [p["e"] for p in top] == ["10,00", "9,00"]
    first = feats[0]["properties"]
    # 10 of 55 expected: 18,18 %; the class of 10 is the highest (4)
    assert (first["rank"], first["e"], first["share"], first["method"], first["top"], first["_k"]) == (
        "1",
        "10,00",
        "18,18 %",
        "densidad kernel",
        "sí",
        4,
    )
    assert [f["properties"]["_k"] for f in feats] == [4, 4, 3, 3, 2, 2, 1, 1, 0, 0]


def test_forecast_map_in_english_without_a_manifest(tmp_path):
    path = tmp_path / "pronostico_superficie.geojson"
    _surface().to_file(path, driver="GeoJSON")
    result = maps.make_map(maps.map_options(forecast=path, tiles="none", lang="en"))
    legend = _legend(result)
    # no manifest: no period, the backtest score from the layer's columns, the top 1 % (no cell: the first is 1/11 of the area)
    assert legend.startswith("<h4>Expected incidents per cell</h4>")
    assert "8.20–10.00" in legend
    assert "Method: kernel density. Backtest: PAI 16.7 at 1% of the area; +0.0% against prior counts" in legend
    assert "(0 cells)" in legend and "CI" not in legend
    assert not any(f["properties"]["_top"] for f in result.layers[0].layer.data["features"])


def test_forecast_map_dissolved_above_max_cells(surface_file):
    result = maps.make_map(maps.map_options(forecast=surface_file, tiles="none", max_cells=4))
    feats = result.layers[0].layer.data["features"]
    # five classes of two cells each, and one outline of the top share
    assert [f["properties"]["n"] for f in feats] == ["2"] * 5 + ["2"]
    outline = shapely.geometry.shape(feats[-1]["geometry"])
    expect = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 500, Y0 + 250)], crs=METRIC).to_crs("EPSG:4326").iloc[0]
    assert outline.symmetric_difference(expect).area < 0.01 * expect.area  # coordinates rounded to ~1 m


def test_cli_forecast_map_alone_and_with_other_layers(surface_file, tmp_path):
    html = tmp_path / "maps" / "pronostico.html"
    res = runner.invoke(cli_app, ["map", "--forecast", str(surface_file), "--tiles", "none", "--out", str(html)])
    assert res.exit_code == 0, res.output
    page = html.read_text(encoding="utf-8")
    assert "Pronóstico de incidentes" in page  # the title
    assert json.dumps("Incidentes esperados del 01/01/2022 al 31/01/2022")[1:-1] in page
    assert page.count('"_top": 1') == 2
    manifest = json.loads((tmp_path / "maps" / "pronostico.manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["forecast"] == str(surface_file)
    # with another layer: build_map draws the forecast with the others, before the layer control
    cells = _surface().rename(columns={"expected": "kde_km2"})[["cell_id", "kde_km2", "geometry"]]
    cells_path = tmp_path / "celdas.geojson"
    cells.to_file(cells_path, driver="GeoJSON")
    result = maps.make_map(maps.map_options(forecast=surface_file, cells=cells_path, tiles="none"))
    assert [i.kind for i in result.layers] == ["density", "forecast"]
    assert isinstance(list(result.map._children.values())[-1], LayerControl)
    page, _ = maps.render_html(result.map, assets="inline")
    assert page.index(result.layers[-1].layer.get_name() + " = L.geoJson") < page.index("L.control.layers(")


def test_cli_map_refuses_a_file_that_is_not_a_forecast(tmp_path):
    path = tmp_path / "zonas.geojson"
    gpd.GeoDataFrame({"zone_id": ["a"]}, geometry=[shapely.box(X0, Y0, X0 + 250, Y0 + 250)], crs=METRIC).to_file(path, driver="GeoJSON")
    res = runner.invoke(cli_app, ["map", "--forecast", str(path), "--tiles", "none", "--out", str(tmp_path / "m.html")])
    assert res.exit_code == 1
    assert "not a forecast surface" in res.output and "zonas.geojson" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "m.html").exists()
    with pytest.raises(ColumnError, match=r"missing column\(s\) \['cell_id', 'expected', 'rank', 'cum_area_share'\]"):
        maps.add_forecast_layer(maps.new_map(), gpd.read_file(path))


def test_forecast_map_of_medellin_homicides(shared_data, tmp_path):
    """Real data (a slice: 2019's homicides in comunas 10 and 11): forecast January 2020 with prior counts, map it."""
    from geoprio.hotspots.forecast import ForecastOptions
    from geoprio.hotspots.forecast_layer import SurfaceOptions, next_period_forecast
    from geoprio.records.load import load_points
    from geoprio.zones.layers import load_zones

    comunas = gpd.read_file(shared_data / "medellin" / "medellin_comunas.gpkg")
    comunas[comunas["COMUNA"].isin(["10", "11"])].to_file(tmp_path / "comunas.gpkg")
    homicides = pd.read_csv(shared_data / "medellin" / "medellin_homicides.csv", sep=";", dtype=str)
    homicides[homicides["fecha_hecho"].str.startswith("2019")].to_csv(tmp_path / "h.csv", sep=";", index=False)
    zones = load_zones(tmp_path / "comunas.gpkg", id="COMUNA")
    records = load_points(tmp_path / "h.csv", category="modalidad", offsets="drop", bbox=None)
    backtest = ForecastOptions(horizons=("month",), origins=1, warmup=0, cell_size_m=250.0, bootstrap=50)
    run = next_period_forecast(records, zones=zones, options=SurfaceOptions(method="prior", backtest=backtest))
    run.write(tmp_path / "out")
    html = tmp_path / "m.html"
    res = runner.invoke(cli_app, ["map", "--forecast", str(tmp_path / "out" / "pronostico_superficie.geojson"), "--out", str(html)])
    assert res.exit_code == 0, res.output
    page = html.read_text(encoding="utf-8")
    cells = run.cells
    drawn = int((cells["expected"] >= MIN_EXPECTED).sum())
    top = int((cells["cum_area_share"] <= 0.01 + 1e-12).sum())
    assert 0 < top < drawn < len(cells)  # prior counts: cells without a homicide in 2019 are left out
    assert page.count('"_k": ') == drawn and page.count('"_top": 1') == top
    assert json.dumps("Incidentes esperados del 01/01/2020 al 31/01/2020")[1:-1] in page
    left = f"{len(cells) - drawn} celdas sin incidentes esperados no se dibujan"
    assert json.dumps(left)[1:-1] in page
    # prior counts are the baseline: their legend line states their score, not a gain over themselves
    pai = f"{run.notes['backtest']['pai']:.1f}".replace(".", ",")
    baseline = f"Método: conteos previos (línea base). Backtest: PAI {pai} al 1 % del área"
    assert json.dumps(baseline)[1:-1] in page and "frente a los conteos previos" not in page
