"""``geoprio validate`` on awkward inputs: the real cause, exit 1, repairs and offsets shown."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from geoprio.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def validate(*args: str):
    return runner.invoke(app, ["validate", *args])


def test_validate_reads_quoted_decimal_commas_and_mixed_dates():
    r = validate(str(DATA / "comillas_coma_decimal.csv"), "--lang", "en")
    assert r.exit_code == 0, r.output
    assert "comillas_coma_decimal.csv: 4 of 4 rows used" in r.output
    assert "dates of 'fecha' in several formats, each value unambiguous" in r.output


def test_validate_input_errors_exit_1_with_the_cause(shared_data, tmp_path):
    cases = [
        ([str(shared_data / "bogota" / "upz_simplified_116.geojson")], "a layer of MultiPolygon, Polygon features (116), not records"),
        ([str(shared_data / "medellin" / "medellin_metro_stns.csv"), "--crs", "EPSG:3116"], "look like degrees"),
        ([str(DATA / "campos_de_mas.csv")], "row 3 has 5 fields but the header has 3"),
        ([str(DATA / "comillas_coma_decimal.csv"), "--date", "fehca"], "did you mean 'fecha'?"),
        ([str(DATA / "comillas_coma_decimal.csv"), "--offsets", "keep"], "offsets: Input should be 'convert' or 'drop'"),
        ([str(DATA / "comillas_coma_decimal.csv"), "--lang", "fr"], "language 'fr' is not available"),
    ]
    for args, message in cases:
        r = validate(*args)
        assert r.exit_code == 1, (args, r.output)
        assert message in " ".join(r.output.split()), (args, r.output)
        assert "internal error" not in r.output


def test_validate_offsets_shows_either_reading(shared_data):
    path = str(shared_data / "medellin" / "medellin_homicides.csv")
    converted = validate(path, "--lang", "en")
    dropped = validate(path, "--offsets", "drop", "--lang", "en")
    assert converted.exit_code == 0 and dropped.exit_code == 0
    flat = " ".join(converted.output.split())
    assert "converting their offset ('Z') moves 3 records out of those years" in flat and "--offsets drop" in flat
    assert "local times, read without their offset ('Z') as they should be" in " ".join(dropped.output.split())


def test_validate_zones_reports_the_repair(shared_data, tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("lat,lon\n6.2442,-75.5812\n6.2518,-75.5636\n4.6,-74.1\n", encoding="utf-8")
    r = validate(str(p), "--zones", str(shared_data / "medellin" / "medellin_comunas.gpkg"), "--zones-id", "COMUNA", "--lang", "en")
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "medellin_comunas.gpkg: 21 of 21 rows used corrected: 1 × invalid polygon repaired" in flat and "id '60'" in flat
    assert "m.csv: 2 of 3 rows used" in flat and "1 × outside the study area" in flat


def test_validate_keyed_records_without_zones_says_nothing_was_matched(shared_data):
    r = validate(str(shared_data / "cartagena" / "ponal_hurto_personas_cartagena_2019.csv"), "--key", "Barrio", "--lang", "en")
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "5,810 of 5,810 rows used" in flat and "the places in 'Barrio' were not matched to zones (no --zones)" in flat
    # Cartagena's police records heap at 00:00 too: 353 records, 6.1 %, 3.6 times an average hh:00
    assert "flagged: 353 × default 00:00 time (heaping)" in flat and "353 records (6.1 %) at 00:00, 3.6 times" in flat
