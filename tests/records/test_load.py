"""Loading and validation: formats, column detection, every bad input named in the issue."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.records.load import load_keyed, load_points, load_zone_table, parse_dates, parse_hours


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_semicolon_decimal_comma_latin1(tmp_path):
    p = write(
        tmp_path,
        "d.csv",
        "Fecha;Longitud;Latitud;Delito;Cantidad\n"
        "01/02/2024;-74,0817;4,6097;Hurto a personas;1\n"
        "02/02/2024;-74,0820;4,6100;Lesiones personales;2\n"
        "03/02/2024;-74,0830;4,6110;Riña en vía pública;1\n",
        encoding="cp1252",
    )
    r = load_points(p)
    assert r.report.settings["sep"] == ";" and r.report.settings["decimal"] == ","
    assert r.report.settings["encoding"] == "cp1252"
    assert r.data["x"].tolist() == pytest.approx([-74.0817, -74.0820, -74.0830])
    assert r.data["category"].tolist()[2] == "Riña en vía pública"
    assert r.data["weight"].tolist() == [1, 2, 1]
    assert r.data["date"].dt.month.tolist() == [2, 2, 2]  # day first: 1 Feb, not 2 Jan
    assert r.report.columns == {"x": "Longitud", "y": "Latitud", "date": "Fecha", "category": "Delito", "count": "Cantidad"}


def test_tab_separated_english_names_and_explicit_columns(tmp_path):
    p = write(tmp_path, "d.tsv", "lon\tlat\toffense\twhen\n-74.1\t4.6\ttheft\t2024-03-01T20:15:00\n")
    r = load_points(p)
    assert r.report.settings["sep"] == "\t"
    assert r.data.loc[0, "hour"] == 20 and r.data.loc[0, "category"] == "theft"
    p2 = write(tmp_path, "e.csv", "este,norte,clase_x\n-74.1,4.6,a\n")
    r2 = load_points(p2, x="este", y="norte", category="clase_x")
    assert r2.data.loc[0, "category"] == "a"


def test_every_dropped_row_is_reported_with_row_column_and_value(tmp_path):
    p = write(
        tmp_path,
        "d.csv",
        "id,fecha,hora,latitud,longitud\n"
        "1,2024-01-01,08:00,4.60,-74.08\n"  # row 2 ok
        "2,2024-01-01,08:00,,-74.08\n"  # row 3 missing
        "3,2024-01-01,08:00,abc,-74.08\n"  # row 4 bad number
        "4,2024-01-01,08:00,-74.08,4.60\n"  # row 5 swapped → corrected
        "5,2024-01-01,08:00,40.7,-74.0\n"  # row 6 New York: outside
        "6,31/02/2024,08:00,4.61,-74.09\n"  # row 7 bad date
        "1,2024-01-02,09:00,4.62,-74.07\n"  # row 8 duplicate id
        "7,2024-01-03,25:00,4.63,-74.06\n"  # row 9 bad hour: kept, flagged
        "8,,08:00,4.63,-74.06\n",
    )  # row 10 missing date
    r = load_points(p)
    rep = r.report
    assert rep.n_read == 9 and rep.n_kept == 3 == len(r.data)
    assert rep.dropped == {
        "missing_coordinates": 1,
        "bad_coordinates": 1,
        "outside_study_area": 1,
        "bad_date": 1,
        "missing_date": 1,
        "duplicate_id": 1,
    }
    assert rep.corrected == {"swapped_coordinates": 1}
    assert rep.flagged == {"bad_hour": 1}
    assert rep.examples["bad_coordinates"][0].row == 4
    assert rep.examples["bad_coordinates"][0].column == "latitud"
    assert rep.examples["bad_coordinates"][0].value == "abc"
    assert rep.examples["bad_date"][0].value == "31/02/2024"
    assert rep.examples["duplicate_id"][0].row == 8
    swapped = r.data[r.data["row"] == 5].iloc[0]
    assert (swapped["x"], swapped["y"]) == (-74.08, 4.60)
    assert r.data[r.data["row"] == 9]["hour"].isna().all()
    assert "fila 4, columna 'latitud'" in rep.summary("es")
    d = rep.to_dict()
    assert d["rows_dropped"] == 6 and d["examples"]["bad_date"][0] == {"row": 7, "column": "fecha", "value": "31/02/2024"}


def test_swapped_can_be_dropped_instead(tmp_path):
    p = write(tmp_path, "d.csv", "lat,lon\n4.6,-74.08\n-74.08,4.6\n")
    r = load_points(p, fix_swapped=False)
    assert r.report.dropped == {"swapped_coordinates": 1} and len(r.data) == 1


def test_medellin_na_and_timezone(tmp_path):
    p = write(
        tmp_path,
        "m.csv",
        "fecha_hecho;longitud;latitud;modalidad\n"
        "2019-05-12T02:36:00Z;-75,620391;6,262382;Arma de fuego\n"
        "2019-05-12T03:00:00Z;NA;NA;Arma blanca\n",
    )
    r = load_points(p, category="modalidad")
    assert r.report.dropped == {"missing_coordinates": 1}
    # 02:36 UTC is 21:36 of the previous day in Bogotá/Medellín (UTC−5)
    assert str(r.data.loc[0, "date"]) == "2019-05-11 21:36:00" and r.data.loc[0, "hour"] == 21


def test_projected_coordinates_need_a_crs(tmp_path):
    p = write(tmp_path, "p.csv", "x,y\n4880000,2075000\n4881000,2076000\n")
    with pytest.raises(CRSError, match="look projected.*EPSG:9377"):
        load_points(p)
    r = load_points(p, crs="EPSG:9377")
    assert -75 < r.data.loc[0, "x"] < -73 and 3.5 < r.data.loc[0, "y"] < 5.5
    with pytest.raises(CRSError, match="unknown CRS"):
        load_points(p, crs="EPSG:999999")


def test_unusable_files_stop_with_one_clear_message(tmp_path):
    with pytest.raises(InputError, match="no_such.csv: file not found"):
        load_points(tmp_path / "no_such.csv")
    with pytest.raises(InputError, match="empty"):
        load_points(write(tmp_path, "empty.csv", "  \n"))
    with pytest.raises(ColumnError, match=r"nocoords.csv: no column for 'x'.*columns found: \['a', 'b'\]"):
        load_points(write(tmp_path, "nocoords.csv", "a,b\n1,2\n"))
    with pytest.raises(InputError, match=r"text.csv: row 2, column 'lon': 'oeste' is not a number"):
        load_points(write(tmp_path, "text.csv", "lat,lon\nnorte,oeste\nsur,este\n"))
    with pytest.raises(InputError, match=r"allout.csv: no usable rows out of 1"):
        load_points(write(tmp_path, "allout.csv", "lat,lon\n48.85,2.35\n"))
    with pytest.raises(ColumnError, match="column 'nope'"):
        load_points(write(tmp_path, "ok.csv", "lat,lon\n4.6,-74.1\n"), category="nope")
    with pytest.raises(InputError, match="unknown record kind"):
        load_points(write(tmp_path, "ok2.csv", "lat,lon\n4.6,-74.1\n"), kind="robbery")  # type: ignore[arg-type]


def test_excel_geojson_and_geoparquet_inputs(tmp_path):
    df = pd.DataFrame({"latitud": [4.6, 4.7], "longitud": [-74.1, -74.05], "delito": ["Hurto", "Homicidio"]})
    df.to_excel(tmp_path / "d.xlsx", index=False)
    assert load_points(tmp_path / "d.xlsx").data["category"].tolist() == ["Hurto", "Homicidio"]
    g = gpd.GeoDataFrame({"delito": ["Hurto", "Riña"]}, geometry=[Point(-74.1, 4.6), Point(-74.05, 4.7)], crs="EPSG:4326")
    g.to_file(tmp_path / "d.geojson")
    g.to_crs("EPSG:9377").to_parquet(tmp_path / "d.parquet")
    for name in ("d.geojson", "d.parquet"):
        r = load_points(tmp_path / name)
        assert r.data["x"].tolist() == pytest.approx([-74.1, -74.05]) and r.data["category"].tolist() == ["Hurto", "Riña"]


def test_parsers():
    h, _m, bad = parse_hours(pd.Series(["19:00:00", "7:30 p. m.", "12:15 a.m.", "0730", "23", "24:00", None, "x"]))
    assert h[:5].tolist() == [19, 19, 0, 7, 23] and np.isnan(h[5]) and bad.tolist() == [False] * 5 + [True, False, True]
    d, missing, bad, fmt = parse_dates(pd.Series(["13/01/2019", "01/02/2019", "sin dato", "32/01/2019"]))
    assert fmt == "%d/%m/%Y" and d.iloc[1].month == 2 and missing.tolist() == [False, False, True, False] and bad[3]
    d2, *_, fmt2 = parse_dates(pd.Series(["12/31/2019", "01/30/2019"]))
    assert fmt2 == "%m/%d/%Y" and d2.iloc[0].day == 31


def test_keyed_records(tmp_path):
    p = write(tmp_path, "q.csv", "radicado,fecha,upz\nQ1,2024-01-01,CHICÓ LAGO\nQ2,2024-01-02,-\nQ3,2024-01-03, chico lago \n")
    r = load_keyed(p, key="upz")
    assert r.layout == "keyed" and r.data["key"].tolist() == ["CHICÓ LAGO", "chico lago"]
    assert r.report.dropped == {"missing_key": 1}
    with pytest.raises(ColumnError, match="column 'barrio'"):
        load_keyed(p, key="barrio")


def test_zone_table(tmp_path):
    p = write(tmp_path, "t.csv", "cod;hurtos;nota\nUPZ1;10;a\nUPZ2;1.234,5;b\n")
    t = load_zone_table(p, zone_id="cod")
    assert t.values.loc["UPZ2", "hurtos"] == 1234.5 and list(t.values.columns) == ["hurtos"]
    with pytest.raises(InputError, match=r"zone id 'UPZ1' appears in rows 2, 4 of column 'cod'.*duplicates='sum'"):
        load_zone_table(write(tmp_path, "d.csv", "cod,n\nUPZ1,1\nUPZ2,2\nUPZ1,3\n"), zone_id="cod")
    summed = load_zone_table(tmp_path / "d.csv", zone_id="cod", duplicates="sum")
    assert summed.values["n"].to_dict() == {"UPZ1": 4.0, "UPZ2": 2.0}
    with pytest.raises(InputError, match=r"row 3, column 'n': 'diez' is not a number"):
        load_zone_table(write(tmp_path, "b.csv", "cod,n\nUPZ1,1\nUPZ2,diez\n"), zone_id="cod", columns=["n"])
    yearly = write(tmp_path, "y.csv", "cod,anio,total\n01,2018,10\n01,2019,12\n02,2019,7\n")
    assert load_zone_table(yearly, zone_id="cod", columns=["total"], where={"anio": 2019}).values["total"].to_dict() == {"01": 12, "02": 7}


def test_real_medellin_homicides_load(shared_data):
    # the export labels local times "Z": 2010-01-01T02:00Z exists and nothing is dated 2020
    r = load_points(shared_data / "medellin" / "medellin_homicides.csv", category="modalidad", offsets="drop")
    assert r.report.settings["utc_offsets"].startswith("ignored")
    assert r.report.n_read == 9360
    assert r.report.dropped == {"missing_coordinates": 81}
    assert len(r.data) == 9279
    assert r.data["date"].min().year == 2010 and r.data["date"].max().year == 2019


def test_real_police_records_load(shared_data):
    r = load_keyed(shared_data / "bogota" / "ponal_hurto_personas_bogota_2019.csv.gz", key="Barrio")
    assert r.report.n_read == 126_687
    assert r.report.columns["count"] == "Cantidad" and r.report.columns["hour"] == "Hora"
    # one record has "-" as its barrio: no place, dropped and reported; the rest keep Σ Cantidad
    assert r.report.dropped == {"missing_key": 1}
    assert r.data["weight"].sum() == 127_318 - 1
