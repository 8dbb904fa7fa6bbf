"""Exports through the command line: ``--crs``, ``--csv excel``, ``--format shp|xlsx`` on every
command that writes, the renamed ``--input-crs``, integer ranks and replays."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from geoprio.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize(
    "command",
    [["index"], ["hotspots"], ["backtest"], ["displacement"], ["plan", "cameras"], ["plan", "garitas"], ["entornos"], ["indicators"]],
)
def test_every_writing_command_has_the_same_export_options(command):
    r = invoke(*command, "--help")
    assert r.exit_code == 0, r.output
    for flag in ("--format", "--crs", "--csv"):
        assert flag in r.output, (command, flag)


def test_index_as_shapefile_xlsx_and_excel_csv_in_magna_sirgas_then_replayed(tmp_path):
    out = tmp_path / "idx"
    args = ["index", DEMO / "indice.toml", "--out", out, "--draws", "0", "--lang", "en"]
    r = invoke(*args, "--format", "csv", "--format", "shp", "--format", "xlsx", "--crs", "EPSG:9377", "--csv", "excel")
    assert r.exit_code == 0, r.output
    assert pyogrio.read_info(out / "indice_upz.shp")["crs"] == "EPSG:9377"
    side = pd.read_csv(out / "indice_upz.fields.csv", sep=";", encoding="utf-8-sig")
    assert list(side.columns) == ["field", "column", "description"]  # --lang en
    assert (side["field"].str.len() <= 10).all() and side["field"].is_unique
    shp = pyogrio.read_dataframe(out / "indice_upz.shp")
    assert list(shp.columns[:-1]) == side["field"].tolist()
    wb = openpyxl.load_workbook(out / "indice_upz.xlsx")
    assert wb.sheetnames == ["indice_upz", "components", "Columns"]
    raw = (out / "indice_upz.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.splitlines()[0].count(b";") == len(side) - 1
    csv = pd.read_csv(out / "indice_upz.csv", sep=";", decimal=",", encoding="utf-8-sig")
    xlsx = pd.read_excel(out / "indice_upz.xlsx", sheet_name="indice_upz")
    np.testing.assert_allclose(csv["index"], xlsx["index"], rtol=1e-12)
    assert csv["rank"].dtype == np.int64 and csv["rank"].tolist() == list(range(1, len(csv) + 1))
    np.testing.assert_allclose(shp.sort_values("rank")["index"], csv["index"], rtol=1e-12)
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert doc["export"]["crs"] == "EPSG:9377" and doc["export"]["csv"] == "excel"
    # the replay writes the same way: same CRS, same bytes of the CSV and the sidecar
    before = (out / "indice_upz.csv").read_bytes(), (out / "indice_upz.fields.csv").read_bytes()
    r = invoke("index", "--manifest", out / "manifest.json", "--lang", "en")
    assert r.exit_code == 0, r.output
    assert pyogrio.read_info(out / "indice_upz.shp")["crs"] == "EPSG:9377"
    assert ((out / "indice_upz.csv").read_bytes(), (out / "indice_upz.fields.csv").read_bytes()) == before


def test_hotspots_input_crs_reads_projected_points_and_crs_sets_the_output(tmp_path):
    pts = pd.read_csv(DEMO / "delitos.csv", sep=";", decimal=",").head(3000)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:9377", always_xy=True).transform(pts["longitud"].to_numpy(), pts["latitud"].to_numpy())
    projected = tmp_path / "delitos_9377.csv"
    pd.DataFrame({"fecha": pts["fecha"], "x": x, "y": y}).to_csv(projected, index=False)
    out = tmp_path / "hs"
    r = invoke(
        "hotspots", projected, "--x", "x", "--y", "y", "--date", "fecha", "--input-crs", "EPSG:9377", "--clusters", "none",
        "--cell-size-m", "300", "--out", out, "--format", "gpkg", "--format", "shp", "--crs", "EPSG:3116",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    # peer: the same points in degrees, without --input-crs
    degrees = tmp_path / "delitos_4326.csv"
    pd.DataFrame({"fecha": pts["fecha"], "x": pts["longitud"], "y": pts["latitud"]}).to_csv(degrees, index=False)
    r = invoke(
        "hotspots",
        degrees,
        "--x",
        "x",
        "--y",
        "y",
        "--date",
        "fecha",
        "--clusters",
        "none",
        "--cell-size-m",
        "300",
        "--out",
        tmp_path / "deg",
    )
    assert r.exit_code == 0, r.output
    peer = gpd.read_file(tmp_path / "deg" / "hotspots_celdas.gpkg")
    cells = gpd.read_file(out / "hotspots_celdas.gpkg")
    assert cells.crs.to_epsg() == 3116 and peer.crs.to_epsg() == 4326
    assert cells["incidents"].sum() == peer["incidents"].sum() > 2900  # every projected point read as its degrees twin
    np.testing.assert_allclose(cells.to_crs(4326).total_bounds, peer.total_bounds, atol=1e-6)
    assert pyogrio.read_info(out / "hotspots_celdas.shp")["crs"] == "EPSG:3116"
    # without --input-crs the metres are not degrees: a clear error, exit 1
    r = invoke("hotspots", projected, "--x", "x", "--y", "y", "--date", "fecha", "--clusters", "none", "--out", tmp_path / "no")
    assert r.exit_code == 1 and "Traceback" not in r.output


def test_camera_plan_ranks_are_integers_with_existing_sites_blank(tmp_path):
    out = tmp_path / "cam"
    r = invoke(
        "plan", "cameras", DEMO / "delitos.csv", "--existing", DEMO / "camaras.geojson", "--p", "5", "--radius-m", "100",
        "--grid-spacing-m", "150", "--method", "heuristic", "--time-limit", "5", "--out", out,
        "--format", "csv", "--format", "geojson", "--format", "shp", "--format", "xlsx", "--crs", "EPSG:9377",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    text = (out / "camaras_sitios.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    ranks = [line.split(",")[header.index("rank")] for line in text[1:]]
    assert ranks[:5] == ["1", "2", "3", "4", "5"] and set(ranks[5:]) == {""}  # not 1.0, 2.0 …; existing: blank
    assert {"lon", "lat", "x", "y"} <= set(header)  # lon/lat in EPSG:4326, x/y in EPSG:9377
    sites = pd.read_csv(out / "camaras_sitios.csv")
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:9377", always_xy=True).transform(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    np.testing.assert_allclose(sites["x"], x, atol=0.01)
    feats = json.loads((out / "camaras_sitios.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["rank"] for f in feats[:5]] == [1, 2, 3, 4, 5] and feats[5]["properties"]["rank"] is None
    assert pyogrio.read_info(out / "camaras_sitios.shp")["crs"] == "EPSG:9377"
    wb = openpyxl.load_workbook(out / "camaras.xlsx")
    assert wb.sheetnames == ["camaras_sitios", "camaras_demanda", "camaras_curva", "camaras_resumen", "Columnas"]
    assert [row[0] for row in wb["camaras_sitios"].iter_rows(min_row=2, max_row=6, values_only=True)] == [1, 2, 3, 4, 5]


def test_a_public_plan_is_exported_in_the_asked_crs_and_csv_dialect(tmp_path):
    out = tmp_path / "pub"
    r = invoke(
        "plan", "cameras", DEMO / "delitos.csv", "--p", "3", "--radius-m", "100", "--grid-spacing-m", "200",
        "--method", "heuristic", "--out", out, "--public", "--crs", "EPSG:9377", "--csv", "excel",
        "--format", "csv", "--format", "gpkg", "--format", "xlsx",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert pyogrio.read_info(out / "camaras_sitios.gpkg")["crs"] == "EPSG:9377"
    assert (out / "camaras_sitios.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    sites = pd.read_csv(out / "camaras_sitios.csv", sep=";", decimal=",", encoding="utf-8-sig")
    layer = pyogrio.read_dataframe(out / "camaras_sitios.gpkg")
    assert sites["site_id"].astype(str).tolist() == layer["site_id"].astype(str).tolist()
    assert not (out / "camaras_demanda.csv").exists()  # the public release has no incident points
    wb = openpyxl.load_workbook(out / "camaras.xlsx")
    assert "camaras_demanda" not in wb.sheetnames and "camaras_sitios" in wb.sheetnames
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["disclosure"]["public"] is True and manifest["export"]["crs"] == "EPSG:9377"


def test_entornos_profiles_are_lists_in_geojson_and_the_workbook_holds_every_table(tmp_path):
    out = tmp_path / "ent"
    r = invoke(
        "entornos", DEMO / "entornos.toml", "--out", out, "--draws", "0",
        "--format", "geojson", "--format", "csv", "--format", "xlsx", "--format", "shp", "--crs", "EPSG:9377", "--csv", "excel",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    csv = pd.read_csv(out / "entornos.csv", sep=";", decimal=",", encoding="utf-8-sig", dtype={"place_id": str})
    feats = json.loads((out / "entornos.geojson").read_text(encoding="utf-8"))["features"]
    by_id = {f["properties"]["place_id"]: f["properties"] for f in feats}
    for _, row in csv.head(5).iterrows():
        profile = by_id[row["place_id"]]["hours_profile"]
        assert len(profile) == 24 and profile == pytest.approx([float(v) for v in row["hours_profile"].split()])
    assert csv["rank"].dtype == np.int64
    wb = openpyxl.load_workbook(out / "entornos.xlsx")
    assert wb.sheetnames == ["entornos", "entornos_perfiles", "entornos_despliegue_equipos", "entornos_despliegue_lugares", "Columnas"]
    side = pd.read_csv(out / "entornos.fields.csv", sep=";", encoding="utf-8-sig").set_index("columna")
    assert side.loc["hurtos", "descripción"].startswith("Valor del indicador «")
    assert pyogrio.read_info(out / "entornos.shp")["crs"] == "EPSG:9377"


def test_backtest_writes_its_tables_in_the_excel_dialect_and_workbook(tmp_path):
    out = tmp_path / "bt"
    r = invoke(
        "backtest", DEMO / "delitos.csv", "--split", "2023-10-01", "--methods", "prior,kde", "--cell-size-m", "400",
        "--out", out, "--format", "gpkg", "--format", "xlsx", "--crs", "EPSG:9377", "--csv", "excel",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "backtest_tabla.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert set(table["method"]) == {"prior", "kde"}
    wb = openpyxl.load_workbook(out / "backtest.xlsx")
    assert wb.sheetnames == ["backtest_celdas", "backtest_tabla", "backtest_curva", "Columnas"]
    sheet = pd.read_excel(out / "backtest.xlsx", sheet_name="backtest_tabla")
    np.testing.assert_allclose(sheet["pai"], table["pai"], rtol=1e-12)
    assert pyogrio.read_info(out / "backtest_celdas.gpkg")["crs"] == "EPSG:9377"
