"""Exports for GIS and Excel: output CRS, shapefiles with short names, XLSX, Excel CSV, profiles."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from pydantic import ValidationError

from geoprio.errors import InputError
from geoprio.io import Export, files, write_formats
from geoprio.io.export import describe_column, short_field_names

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- units


def test_short_field_names_are_short_unique_ascii_and_stable():
    cols = [
        "zone_id",
        "hurto_personas__norm",
        "hurto_personas__contrib",
        "homicidios__contrib",
        "violencia_intrafamiliar__count",
        "small_denominator",
        "año",
        "2019",
        "rank_p05",
        "rank_p055",
        "Rank_P05",
    ]
    names = short_field_names(cols)
    assert names == {
        "zone_id": "zone_id",  # fits: kept
        "hurto_personas__norm": "hu_per_nor",  # the longest word loses a letter at a time
        "hurto_personas__contrib": "hu_per_con",
        "homicidios__contrib": "homi_contr",
        "violencia_intrafamiliar__count": "vi_int_cou",
        "small_denominator": "smal_denom",
        "año": "ano",  # accents dropped (dBase names are ASCII)
        "2019": "f2019",  # a name cannot start with a digit
        "rank_p05": "rank_p05",
        "rank_p055": "rank_p055",
        "Rank_P05": "Rank_P05_2",  # clashes with rank_p05 ignoring case: numbered
    }
    assert names == short_field_names(cols)  # deterministic
    assert all(len(v) <= 10 for v in names.values())
    assert len({v.lower() for v in names.values()}) == len(cols)


def test_export_checks_its_crs_and_dialect():
    assert Export(crs="9377").crs == "EPSG:9377"
    assert Export(crs="epsg:3116").crs == "EPSG:3116"
    with pytest.raises(ValidationError, match="not a coordinate reference system pyproj knows"):
        Export(crs="EPSG:99999")
    with pytest.raises(ValidationError, match="csv"):
        Export(csv="tsv")  # type: ignore[arg-type]


def test_column_descriptions_in_both_languages():
    assert describe_column("rank") == "Puesto (1 = mayor prioridad; vacío si la zona o el sitio no tiene puesto)"
    assert describe_column("homicidios__norm", "en") == "Indicator “homicidios” normalized (0 to 1, higher = higher priority)"
    assert describe_column("p_top_10") == "Probabilidad de quedar entre los primeros 10 puestos (simulación Monte Carlo de los pesos)"
    assert describe_column("homicidios", "es", {"homicidios": "Homicidios por 100.000"}) == "Homicidios por 100.000"
    assert "«otra»" in describe_column("otra")


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    """Two places with a 4-hour profile (as text, as entornos writes it), a nullable rank and accents."""
    return gpd.GeoDataFrame(
        {
            "place_id": ["P1", "P2"],
            "name": ["Plaza de Bolívar", "Parque Simón Bolívar"],
            "rank": pd.array([1, None], dtype="Int64"),
            "score": [0.25, 1234.5],
            "hours_profile": ["0.1 0.2 0.3 0.4", "0 0 0.5 0.5"],
            "when": pd.to_datetime(["2024-01-02 10:30", "2024-03-04 00:00"]).tz_localize("America/Bogota"),
        },
        geometry=[shapely.Point(-74.0758, 4.5981), shapely.Point(-74.0935, 4.6582)],
        crs="EPSG:4326",
    )


def test_profiles_are_lists_in_geojson_and_parquet_and_text_elsewhere(places, tmp_path):
    places = places.drop(columns="when")
    write_formats(places, tmp_path, "lugares", ["csv", "geojson", "parquet", "gpkg"])
    doc = json.loads((tmp_path / "lugares.geojson").read_text(encoding="utf-8"))
    assert doc["features"][0]["properties"]["hours_profile"] == [0.1, 0.2, 0.3, 0.4]
    assert doc["features"][1]["properties"]["rank"] is None  # a missing rank, not NaN
    assert doc["features"][0]["properties"]["rank"] == 1  # an integer, not 1.0
    pq = gpd.read_parquet(tmp_path / "lugares.parquet")
    assert list(pq["hours_profile"][1]) == [0.0, 0.0, 0.5, 0.5]
    assert str(pq["rank"].dtype) == "Int64"
    assert pd.read_csv(tmp_path / "lugares.csv")["hours_profile"].tolist() == ["0.1 0.2 0.3 0.4", "0 0 0.5 0.5"]
    gpkg = gpd.read_file(tmp_path / "lugares.gpkg")
    assert gpkg["hours_profile"].tolist() == ["0.1 0.2 0.3 0.4", "0 0 0.5 0.5"]
    assert places["hours_profile"].tolist() == ["0.1 0.2 0.3 0.4", "0 0 0.5 0.5"]  # the frame is not changed


def test_output_crs_applies_to_every_layer_but_geojson(places, tmp_path):
    ex = Export(crs="EPSG:9377")
    places = places.drop(columns="when")  # GDAL warns on reading time zones back from a GeoPackage
    paths = write_formats(places, tmp_path, "lugares", ["csv", "geojson", "gpkg", "parquet", "shp"], export=ex)
    assert pyogrio.read_info(tmp_path / "lugares.gpkg")["crs"] == "EPSG:9377"
    assert pyogrio.read_info(tmp_path / "lugares.shp")["crs"] == "EPSG:9377"
    assert gpd.read_parquet(tmp_path / "lugares.parquet").crs.to_epsg() == 9377
    assert pyogrio.read_info(tmp_path / "lugares.geojson")["crs"] == "EPSG:4326"  # RFC 7946
    gpkg = gpd.read_file(tmp_path / "lugares.gpkg")
    expected = places.to_crs("EPSG:9377")
    np.testing.assert_allclose(gpkg.geometry.x, expected.geometry.x, atol=1e-6)
    # the CSV of a point layer: lon/lat (EPSG:4326) and x/y in the output CRS (cm)
    csv = pd.read_csv(tmp_path / "lugares.csv")
    np.testing.assert_allclose(csv["lon"], places.geometry.x, atol=1e-7)
    np.testing.assert_allclose(csv["x"], expected.geometry.x.round(2), atol=1e-6)
    assert {p.name for p in paths} >= {"lugares.shp", "lugares.dbf", "lugares.shx", "lugares.prj", "lugares.cpg", "lugares.fields.csv"}


def test_shapefile_keeps_every_field_value_and_accent(places, tmp_path):
    paths = files.write_shapefile(places, tmp_path / "lugares.shp", lang="en")
    assert paths[0].name == "lugares.shp" and paths[-1].name == "lugares.fields.csv"
    assert (tmp_path / "lugares.cpg").read_text() == "UTF-8"
    back = pyogrio.read_dataframe(tmp_path / "lugares.shp")
    side = pd.read_csv(tmp_path / "lugares.fields.csv")
    assert list(side.columns) == ["field", "column", "description"]
    assert side["column"].tolist() == ["place_id", "name", "rank", "score", "hours_profile", "when"]
    assert side["field"].tolist() == ["place_id", "name", "rank", "score", "hour_profi", "when"]
    assert side.set_index("column").loc["hours_profile", "description"].startswith("Hourly profile")
    assert list(back.columns) == [*side["field"], "geometry"]
    assert back["name"].tolist() == ["Plaza de Bolívar", "Parque Simón Bolívar"]
    assert back["rank"].iloc[0] == 1 and pd.isna(back["rank"].iloc[1])
    assert back["score"].tolist() == [0.25, 1234.5]
    assert back["hour_profi"].tolist() == ["0.1 0.2 0.3 0.4", "0 0 0.5 0.5"]
    assert back["when"].tolist() == ["2024-01-02T10:30:00-05:00", "2024-03-04T00:00:00-05:00"]  # time kept, as text


def test_shapefile_cuts_text_to_the_dbase_limit(tmp_path):
    gdf = gpd.GeoDataFrame({"note": ["ñ" * 300]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    files.write_shapefile(gdf, tmp_path / "n.shp")
    back = pyogrio.read_dataframe(tmp_path / "n.shp")
    assert back["note"].iloc[0] == "ñ" * 127  # 254 bytes of two-byte letters


def test_excel_csv_reads_back_in_pandas_and_in_geoprio(places, tmp_path):
    write_formats(places, tmp_path / "std", "lugares", ["csv"])
    write_formats(places, tmp_path / "xl", "lugares", ["csv"], export=Export(csv="excel"))
    raw = (tmp_path / "xl" / "lugares.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]
    assert b"1234,5" in raw  # decimal comma
    std = pd.read_csv(tmp_path / "std" / "lugares.csv")
    xl = pd.read_csv(tmp_path / "xl" / "lugares.csv", sep=";", decimal=",", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(xl, std)
    pd.testing.assert_frame_equal(files.read_output_table(tmp_path / "xl" / "lugares.csv"), std)
    sniffed = files.read_table(tmp_path / "xl" / "lugares.csv")  # the reader of inputs detects it too
    assert sniffed.attrs["geoprio_read"]["sep"] == ";" and sniffed.attrs["geoprio_read"]["decimal"] == ","
    assert sniffed["name"].tolist() == ["Plaza de Bolívar", "Parque Simón Bolívar"]


def test_xlsx_round_trips_through_openpyxl(places, tmp_path):
    table = pd.DataFrame({"k": ["a", "b"], "v": [1.5, 2.0]})
    files.write_outputs(tmp_path, ["xlsx"], layers={"lugares": places}, tables={"tabla": table}, workbook="libro", export=Export(lang="en"))
    assert not (tmp_path / "lugares.csv").exists()  # xlsx alone: no layer CSV
    wb = openpyxl.load_workbook(tmp_path / "libro.xlsx")
    assert wb.sheetnames == ["lugares", "tabla", "Columns"]
    rows = list(wb["lugares"].values)
    assert rows[0] == ("place_id", "name", "rank", "score", "hours_profile", "when", "lon", "lat")  # no geometry
    assert rows[1][:5] == ("P1", "Plaza de Bolívar", 1, 0.25, "0.1 0.2 0.3 0.4")
    assert rows[2][:5] == ("P2", "Parque Simón Bolívar", None, 1234.5, "0 0 0.5 0.5")
    assert rows[1][5] == "2024-01-02T10:30:00-05:00"
    assert rows[1][6] == pytest.approx(-74.0758)
    cols = list(wb["Columns"].values)
    assert cols[0] == ("sheet", "column", "description")
    assert [(r[0], r[1]) for r in cols[1:]] == [("lugares", c) for c in rows[0]] + [("tabla", "k"), ("tabla", "v")]
    assert all(r[2] for r in cols[1:])


def test_unknown_format_is_named(places, tmp_path):
    with pytest.raises(InputError, match=r"unknown output format\(s\) \['kml'\]; choose from csv, geojson, gpkg, parquet, shp, xlsx"):
        write_formats(places, tmp_path, "x", ["kml"])
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def bogota_index(shared_data):
    from geoprio.index.config import load_config
    from geoprio.index.run import run_index

    cfg = load_config(ROOT / "data" / "examples" / "bogota_upz_2019_cruda.toml")
    cfg = cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 50})})
    return run_index(cfg)


def test_bogota_index_as_shapefile_xlsx_and_excel_csv_in_magna_sirgas(bogota_index, tmp_path):
    run = bogota_index
    written = run.write(tmp_path, ["csv", "geojson", "gpkg", "shp", "xlsx"], export=Export(crs="EPSG:9377", csv="excel"))
    table = run.table
    attrs = [c for c in table.columns if c != "geometry"]
    # shapefile: every field, named within 10 characters, values equal
    info = pyogrio.read_info(tmp_path / "indice_upz.shp")
    assert info["crs"] == "EPSG:9377" and len(info["fields"]) == len(attrs) == 40
    assert sum(len(c) > 10 for c in attrs) == 25  # names a shapefile could not hold
    side = pd.read_csv(tmp_path / "indice_upz.fields.csv", sep=";", encoding="utf-8-sig")
    assert side["columna"].tolist() == attrs and list(info["fields"]) == side["campo"].tolist()
    assert side.set_index("columna").loc["homicidios", "descripción"].startswith("Valor del indicador «")
    shp = pyogrio.read_dataframe(tmp_path / "indice_upz.shp").rename(columns=dict(zip(side["campo"], side["columna"], strict=True)))
    for c in ("zone_id", "name", "rank", "rank_p05", "rank_p95"):
        assert shp[c].tolist() == table[c].tolist()
    for c in ("index", "homicidios__contrib", "population", "p_top_10"):
        np.testing.assert_allclose(shp[c].to_numpy(float), table[c].to_numpy(float), rtol=1e-12)
    assert shp["small_denominator"].tolist() == table["small_denominator"].tolist()
    g = table.to_crs("EPSG:9377")
    assert shp.geometry.area.sum() == pytest.approx(g.geometry.area.sum(), rel=1e-9)
    # XLSX: the zones and the components, every column described
    wb = openpyxl.load_workbook(tmp_path / "indice_upz.xlsx")
    assert wb.sheetnames == ["indice_upz", "componentes", "Columnas"]
    rows = list(wb["indice_upz"].values)
    assert list(rows[0]) == attrs and len(rows) == len(table) + 1
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["zone_id"] == table["zone_id"].iloc[0] and first["rank"] == 1
    assert first["index"] == pytest.approx(table["index"].iloc[0], rel=1e-12)
    comp = list(wb["componentes"].values)
    assert [r[0] for r in comp[1:]] == [ind.name for ind in run.config.indicators]
    assert sum(r[5] for r in comp[1:]) == pytest.approx(1.0)
    described = list(wb["Columnas"].values)[1:]
    assert len(described) == len(attrs) + 6 and all(r[2] for r in described)
    # Excel CSV reads back equal to the table
    csv = pd.read_csv(tmp_path / "indice_upz.csv", sep=";", decimal=",", encoding="utf-8-sig", dtype={"zone_id": str})
    np.testing.assert_allclose(csv["index"], table["index"], rtol=1e-12)
    assert csv["name"].tolist() == table["name"].tolist()
    # the manifest records the export
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["export"] == {"crs": "EPSG:9377", "geojson_crs": "EPSG:4326", "csv": "excel", "lang": "es"}
    assert {o["path"].rsplit("/", 1)[-1] for o in doc["outputs"]} >= {"indice_upz.shp", "indice_upz.dbf", "indice_upz.xlsx"}


def test_medellin_hotspot_cells_as_shapefile(shared_data, tmp_path):
    from geoprio.hotspots import HotspotOptions, find_hotspots
    from geoprio.records.load import load_points
    from geoprio.zones.layers import load_zones

    rec = load_points(shared_data / "medellin" / "medellin_homicides.csv", category="modalidad", offsets="drop")
    comunas = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA", name="NOMBRE")
    run = find_hotspots(rec, zones=comunas, options=HotspotOptions(cell_size_m=400, clusters="none"))
    run.write(tmp_path, ["shp"], export=Export(crs="EPSG:3116"))
    cells = run.cells
    attrs = [c for c in cells.columns if c != cells.geometry.name]
    side = pd.read_csv(tmp_path / "hotspots_celdas.fields.csv")
    assert side["columna"].tolist() == attrs
    shp = pyogrio.read_dataframe(tmp_path / "hotspots_celdas.shp")
    assert list(shp.columns[:-1]) == side["campo"].tolist() and len(shp) == len(cells)
    assert pyogrio.read_info(tmp_path / "hotspots_celdas.shp")["crs"] == "EPSG:3116"
    back = shp.rename(columns=dict(zip(side["campo"], side["columna"], strict=True)))
    for c in attrs:
        if pd.api.types.is_numeric_dtype(cells[c]) and not pd.api.types.is_bool_dtype(cells[c]):
            # dBase numbers are fixed point with 15 decimals: tiny p-values keep 1e-15 absolute precision
            np.testing.assert_allclose(back[c].to_numpy(float), cells[c].to_numpy(float), rtol=1e-9, atol=1e-15, equal_nan=True, err_msg=c)
        else:
            assert back[c].astype(str).tolist() == cells[c].astype(str).tolist(), c


def test_geoprio_reads_profiles_back_as_the_text_its_frames_hold(places, tmp_path):
    places = places.drop(columns="when")
    write_formats(places, tmp_path, "lugares", ["geojson", "parquet"])
    for suffix in ("geojson", "parquet"):
        back = files.read_layer(tmp_path / f"lugares.{suffix}")
        assert back["hours_profile"].tolist() == ["0.1 0.2 0.3 0.4", "0 0 0.5 0.5"], suffix


def test_a_manifest_without_export_replays_with_the_defaults(tmp_path):
    from geoprio.index.config import load_config
    from geoprio.index.run import replay_manifest, run_index

    cfg = load_config(ROOT / "data" / "demo" / "indice.toml")
    cfg = cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 0})})
    written = run_index(cfg).write(tmp_path, ["csv", "gpkg"])
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["export"] == {"crs": "EPSG:4326", "geojson_crs": "EPSG:4326", "csv": "standard", "lang": "es"}
    del doc["export"]  # as written before the export options
    written.manifest.write_text(json.dumps(doc), encoding="utf-8")
    rep = replay_manifest(written.manifest)
    assert rep.different == [] and "indice_upz.csv" in rep.identical
    assert pyogrio.read_info(tmp_path / "indice_upz.gpkg")["crs"] == "EPSG:4326"
