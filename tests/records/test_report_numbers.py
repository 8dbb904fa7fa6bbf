"""The validation report's numbers: Spanish format in Spanish, English in English; plain in JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geoprio.records import load_keyed, load_points
from geoprio.records.ingest_report import merge_reports, report_text
from geoprio.records.report import RowIssue, ValidationReport


def test_medellin_homicides_summary_in_both_languages(shared_data):
    r = load_points(shared_data / "medellin" / "medellin_homicides.csv", category="modalidad")
    es, en = r.report.summary("es"), r.report.summary("en")
    # 9,360 rows, 81 without coordinates; 42 repeated rows, the first at row 2,275
    assert es.splitlines()[0] == "medellin_homicides.csv: 9.279 de 9.360 filas usadas"
    assert en.splitlines()[0] == "medellin_homicides.csv: 9,279 of 9,360 rows used"
    assert "descartadas: 81 × coordenadas vacías (p. ej. fila 225, columna 'longitud': 'NA')" in es
    assert (
        "con advertencia: 42 × fila idéntica a una anterior (sin columna de identificador) (p. ej. fila 2.275: '2013-04-09T00:52:00Z')"
        in es
    )
    assert "flagged: 42 × row identical to an earlier one (no id column) (e.g. row 2,275: '2013-04-09T00:52:00Z')" in en
    # the raw values quoted from the file stay as written
    assert "(2010-01-01 02:00:00 → 2009-12-31 21:00:00)" in es and "saca 3 registros de esos años" in es


def test_cartagena_heaping_note_is_plain_data_and_formatted_per_language(shared_data):
    r = load_keyed(shared_data / "cartagena" / "ponal_hurto_personas_cartagena_2019.csv", key="Barrio")
    note = r.report.notes["time_heaping"]
    # 353 of 5,810 records at 00:00:00 (6.08 %), 3.61 times an average other hh:00
    assert note["n"] == 353 and note["what"] == "01:00 … 23:00"
    assert note["share"] == pytest.approx(353 / 5810) and note["ratio"] == pytest.approx(3.6149, abs=1e-4)
    assert json.loads(json.dumps(r.report.to_dict()))["notes"]["time_heaping"] == note
    es, en = r.report.summary("es"), r.report.summary("en")
    assert "5.810 de 5.810 filas usadas" in es and "5,810 of 5,810 rows used" in en
    assert "horas: 353 registros (6,1 %) a las 00:00, 3,6 veces la media de 01:00 … 23:00" in es
    assert "times: 353 records (6.1 %) at 00:00, 3.6 times the mean of 01:00 … 23:00" in en


def test_counts_rows_and_notes_above_a_thousand():
    rep = ValidationReport(source="delitos.csv", n_read=40_000)
    rep.drop("duplicate_id", np.arange(12_537, 12_537 + 1_234), "id", ["D006515"] * 1_234)
    rep.notes["mixed_dates"] = {"column": "fecha", "formats": {"%d/%m/%Y": 38_000, "ISO8601": 766}}
    rep.notes["time_heaping"] = {"n": 7_981, "share": 0.063, "ratio": float("nan"), "what": "23 h, 1 h"}
    es = rep.summary("es")
    assert es.splitlines() == [
        "delitos.csv: 38.766 de 40.000 filas usadas",
        "  descartadas: 1.234 × identificador duplicado (p. ej. fila 12.537, columna 'id': 'D006515')",
        "  fechas de 'fecha' en varios formatos, cada valor sin ambigüedad: %d/%m/%Y (38.000), ISO8601 (766)",
        "  horas: 7.981 registros (6,3 %) a las 00:00, — veces la media de 23 h, 1 h; un valor por defecto: "
        "fuera de perfiles horarios y horas pico (opción para conservarlos)",
    ]
    en = rep.summary("en")
    assert "delitos.csv: 38,766 of 40,000 rows used" in en and "(e.g. row 12,537, column 'id': 'D006515')" in en
    assert "%d/%m/%Y (38,000), ISO8601 (766)" in en and "times: 7,981 records (6.3 %) at 00:00" in en
    assert RowIssue(4, None, 3.5).describe("row", "es") == "fila 4: 3.5"  # a raw value is not reformatted
    # merged reports keep the plain values; validacion.txt shows them in the run's language
    merged, _ = merge_reports([rep, ValidationReport(source="b.csv", n_read=10)], "todo")
    assert merged.notes["time_heaping"]["n"] == 7_981
    assert report_text(merged, {}, "es").startswith("todo: 38.776 de 40.010 filas usadas\n")
