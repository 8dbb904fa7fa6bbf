"""Reading awkward inputs (issue 15): every case reads right or stops fast with the real cause.

The small files are in ``tests/records/data``; the 5 MB cut-off export is made in
``tmp_path``. Messages must name the file, the row and column, the cause and what was
expected, and never carry pandas' or GDAL's own wording.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.io.files import MAX_LINE_CHARS, read_csv, read_layer
from geoprio.records.load import load_points, load_zone_table
from geoprio.records.parse import did_you_mean, parse_dates, parse_numbers
from geoprio.zones.layers import load_zones

DATA = Path(__file__).parent / "data"
LIBRARY_WORDING = ("C error", "Expected 2 fields", "CSV:path", "<DRIVER>", "Error tokenizing")


def _clean(message: str) -> str:
    for words in LIBRARY_WORDING:
        assert words not in message, message
    return message


def test_quoted_decimal_commas_in_a_comma_separated_file():
    df = read_csv(DATA / "comillas_coma_decimal.csv")
    assert df.attrs["geoprio_read"]["sep"] == "," and df.attrs["geoprio_read"]["decimal"] == ","
    r = load_points(DATA / "comillas_coma_decimal.csv", category="delito")
    assert r.report.n_read == 4 and r.report.n_kept == 4 and not r.report.dropped
    assert r.data["x"].tolist() == pytest.approx([-74.056499, -74.0701, -74.0755, -74.066])
    assert r.data["y"].tolist() == pytest.approx([4.605612, 4.61003, 4.598, 4.6204])


def test_quoted_thousands_are_not_taken_for_decimal_commas(tmp_path):
    p = tmp_path / "miles.csv"
    p.write_text('zona,poblacion\nA,"1,234"\nB,"12,500"\n', encoding="utf-8")
    assert read_csv(p).attrs["geoprio_read"]["decimal"] == "."


def test_mixed_but_unambiguous_date_formats_are_each_read():
    r = load_points(DATA / "comillas_coma_decimal.csv", category="delito")
    assert [str(d.date()) for d in r.data["date"]] == ["2023-01-31", "2023-03-04", "2023-03-04", "2023-12-31"]
    assert r.report.settings["date_formats"] == {"%d/%m/%Y": 1, "ISO8601": 1, "%d/%m/%y": 1, "%m/%d/%Y": 1}
    assert "mixed_dates" in r.report.notes and "bad_date" not in r.report.dropped
    # a column's own order wins: 03/04/2019 stays 3 April in a day-first column
    d, _missing, bad, fmt = parse_dates(pd.Series(["13/01/2019", "03/04/2019", "2019-05-06", "nunca"]))
    assert fmt == "%d/%m/%Y" and [str(x.date()) for x in d[:3]] == ["2019-01-13", "2019-04-03", "2019-05-06"]
    assert bad.tolist() == [False, False, False, True]
    # an explicit format is the only one used
    d2, _m, bad2, _f = parse_dates(pd.Series(["13/01/2019", "2019-05-06"]), fmt="%d/%m/%Y")
    assert bad2.tolist() == [False, True]


def test_exact_duplicate_rows_without_id_are_flagged_or_dropped():
    r = load_points(DATA / "filas_repetidas.csv")
    assert r.report.n_read == 49 and r.report.flagged["duplicate_row"] == 19 and len(r.data) == 49
    assert r.report.examples["duplicate_row"][0].row == 32  # row 32 repeats row 2
    dropped = load_points(DATA / "filas_repetidas.csv", duplicate_rows="drop")
    assert dropped.report.dropped == {"duplicate_row": 19} and len(dropped.data) == 30
    assert "19 × fila idéntica a una anterior" in dropped.report.summary("es")
    with pytest.raises(InputError, match="duplicate_rows must be 'flag' or 'drop'"):
        load_points(DATA / "filas_repetidas.csv", duplicate_rows="borrar")  # type: ignore[arg-type]


def test_a_cut_off_export_of_one_5_mb_line_fails_in_seconds(tmp_path):
    rng = np.random.default_rng(1)
    fields = ",".join(f"-74.{v:05d},4.{v % 9999:04d},2020-01-01" for v in rng.integers(0, 99999, 200_000))
    p = tmp_path / "cortado.csv"
    p.write_text("x,y,fecha\n" + fields[:5_000_000], encoding="utf-8")
    # refused by the line-length check before any parsing (the message says so); no timing here
    with pytest.raises(InputError, match=r"cortado.csv: line 2 is 5,000,000 characters long.*at most 100,000.*cut off") as exc:
        load_points(p)
    _clean(str(exc.value))
    assert MAX_LINE_CHARS == 100_000


def test_rows_with_extra_fields_name_the_row_not_a_crs():
    with pytest.raises(InputError, match=r"campos_de_mas.csv: row 3 has 5 fields but the header has 3 \(separator ','\)") as exc:
        load_points(DATA / "campos_de_mas.csv")
    _clean(str(exc.value))


def test_extra_fields_on_a_later_row_name_that_row(tmp_path):
    p = tmp_path / "tarde.csv"
    p.write_text("lat,lon\n4.6,-74.1\n4.7,-74.0\n4.8,-74.2,5,6\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 4 has 4 fields but the header has 2") as exc:
        load_points(p)
    _clean(str(exc.value))


def test_infinite_values_are_bad_coordinates_not_a_projected_crs():
    r = load_points(DATA / "infinitos.csv")
    assert r.report.dropped == {"bad_coordinates": 2} and len(r.data) == 2
    assert {(e.row, e.column, e.value) for e in r.report.examples["bad_coordinates"]} == {(3, "lat", "inf"), (4, "lon", "-Infinity")}
    values, missing, bad = parse_numbers(pd.Series(["1.5", "inf", "-inf", "NA"]))
    assert values[0] == 1.5 and bad.tolist() == [False, True, True, False] and missing.tolist() == [False, False, False, True]


def test_projected_crs_given_for_degrees_says_so(shared_data):
    with pytest.raises(CRSError, match=r"crs='EPSG:3116' is projected \(metres\) but the coordinates in 'x'/'y' look like degrees"):
        load_points(shared_data / "medellin" / "medellin_metro_stns.csv", crs="EPSG:3116")


def test_a_polygon_layer_is_not_records(shared_data):
    with pytest.raises(InputError, match=r"upz_simplified_116.geojson: a layer of MultiPolygon, Polygon features \(116\), not records"):
        load_points(shared_data / "bogota" / "upz_simplified_116.geojson")


def test_wrong_column_names_list_the_columns_and_guess(tmp_path):
    with pytest.raises(ColumnError, match=r"column 'fehca' \(for date\) not found; did you mean 'fecha'\?; columns found: \[") as exc:
        load_points(DATA / "comillas_coma_decimal.csv", date="fehca")
    assert "'latitud', 'longitud', 'fecha', 'delito'" in str(exc.value)
    p = tmp_path / "t.csv"
    p.write_text("codigo_upz,hurtos\nUPZ1,3\n", encoding="utf-8")
    with pytest.raises(ColumnError, match=r"zone id column 'codigo_pz' not found; did you mean 'codigo_upz'\?"):
        load_zone_table(p, zone_id="codigo_pz")
    assert did_you_mean("BARRIO", ["Barrio", "Hora"]) == "Barrio" and did_you_mean("zzz", ["Barrio"]) is None


def test_a_missing_file_suggests_a_near_name():
    with pytest.raises(InputError, match=r"infinito.csv: file not found; did you mean 'infinitos.csv'\?"):
        load_points(DATA / "infinito.csv")


def test_no_usable_rows_names_the_main_cause(tmp_path):
    p = tmp_path / "lejos.csv"
    p.write_text("lat,lon\nNA,NA\n48.85,2.35\n48.86,2.36\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no usable rows out of 3; 2 dropped as outside study area; e.g. row 3"):
        load_points(p)


def test_gdal_wording_stays_out_of_layer_errors(tmp_path):
    (tmp_path / "datos.json").write_text(json.dumps({"a": 1}), encoding="utf-8")
    with pytest.raises(InputError, match=r"datos.json: not readable as a vector layer.*does not match its .json extension") as exc:
        read_layer(tmp_path / "datos.json")
    _clean(str(exc.value))
    (tmp_path / "cortado.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(InputError, match=r"cortado.geojson: not valid GeoJSON \(the file is cut off or not JSON\)") as exc:
        read_layer(tmp_path / "cortado.geojson")
    _clean(str(exc.value))


def test_an_empty_zone_layer_says_it_is_empty(tmp_path):
    p = tmp_path / "vacia.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    with pytest.raises(InputError, match=r"vacia.geojson: the layer has no features \(it is empty\); expected polygons with an id column"):
        load_zones(p, id="codigo")
