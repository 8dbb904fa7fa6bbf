"""A hot-spot run's notes are plain data (a code and its values); ``geoprio hotspots`` words
them in the command's language and number format, and the backtest title counts in it too.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from geoprio.cli import app
from geoprio.cli.hotspots import note_text
from geoprio.hotspots.backtest_run import backtest_title

runner = CliRunner()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "es",
            [
                "593 de 9.360 filas usadas",
                "Nota: tendencias emergentes omitidas: los datos abarcan 1 año y se necesitan al menos 3 años",
                "Nota: el menor valor p por permutación es 1/1.000; con la FDR sobre 2.550 celdas, al menos 26 celdas deben "
                "alcanzarlo para que alguna sea significativa al 90 %",
            ],
        ),
        (
            "en",
            [
                "593 of 9,360 rows used",
                "Note: emerging trends skipped: the data span 1 year, at least 3 years needed",
                "Note: the smallest permutation p-value is 1/1,000; with the FDR over 2,550 cells, at least 26 cells must "
                "reach it for any cell to be significant at 90%",
            ],
        ),
    ],
)
def test_hotspot_notes_in_the_commands_language(shared_data, tmp_path, lang, expected):
    # Medellín's 2019 homicides (the file's last year): one yearly bin, too few for trends;
    # 999 permutations over 2,550 cells of 250 m: 2,550 / (1,000 · 0.10) = 25.5 → 26 cells
    path = shared_data / "medellin" / "medellin_homicides.csv"
    args = ["hotspots", str(path), "--cell-size-m", "250", "--clusters", "none", "--permutations", "999"]
    args += ["--date-from", "2019-01-01", "--time-bin", "year", "--format", "csv", "--out", str(tmp_path), "--lang", lang]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    for text in expected:
        assert text in flat, text
    notes = json.loads((tmp_path / "hotspots_notas.json").read_text(encoding="utf-8"))
    assert notes["permutation_resolution"] == {"code": "permutation_resolution", "permutations": 999, "cells": 2550, "cells_needed": 26}
    assert notes["emerging"] == {"code": "emerging_skipped", "bins": 1, "time_bin": "year", "bins_needed": 3}


def test_note_text_words_each_code_and_keeps_old_text():
    note = {"code": "emerging_skipped", "bins": 2, "time_bin": "quarter", "bins_needed": 3}
    assert note_text(note, "es") == "tendencias emergentes omitidas: los datos abarcan 2 trimestres y se necesitan al menos 3 trimestres"
    assert note_text(note, "en") == "emerging trends skipped: the data span 2 quarters, at least 3 quarters needed"
    res = {"code": "permutation_resolution", "permutations": 9999, "cells": 123456, "cells_needed": 124}
    assert "1/10.000; con la FDR sobre 123.456 celdas, al menos 124 celdas" in note_text(res, "es")
    assert "1/10,000; with the FDR over 123,456 cells, at least 124 cells" in note_text(res, "en")
    old = "skipped: 2 year bin(s), at least 3 needed"  # notes of runs written before the codes
    assert note_text(old, "es") == old


def test_backtest_title_counts_in_the_language():
    notes = {
        "train": {"from": "2016-01-01", "to": "2018-12-31", "incidents": 4101.0},
        "test": {"from": "2019-01-01", "to": "2019-12-31", "incidents": 1234.6},
        "cells": 1041,
    }
    assert backtest_title(notes, cell_size_m=250.0, lang="es") == (
        "Backtest: entrenamiento 2016-01-01 – 2018-12-31 (4.101 incidentes), prueba 2019-01-01 – 2019-12-31 "
        "(1.235 incidentes), 1.041 celdas de 250 m"
    )
    assert backtest_title(notes, cell_size_m=250.0, lang="en") == (
        "Backtest: training 2016-01-01 – 2018-12-31 (4,101 incidents), test 2019-01-01 – 2019-12-31 (1,235 incidents), 1,041 cells of 250 m"
    )


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "es",
            "Backtest: entrenamiento 2016-01-01 – 2017-12-31 (1.126 incidentes), prueba 2018-01-01 – 2019-12-31 (1.178 incidentes), "
            "238 celdas de 1000 m",
        ),
        (
            "en",
            "Backtest: training 2016-01-01 – 2017-12-31 (1,126 incidents), test 2018-01-01 – 2019-12-31 (1,178 incidents), "
            "238 cells of 1000 m",
        ),
    ],
)
def test_backtest_prints_its_title_in_the_commands_language(shared_data, tmp_path, lang, expected):
    # Medellín's homicides with coordinates (pandas on the file): 1,126 in 2016–2017 (training), 1,228 in
    # 2018–2019 of which 50 fall outside the grid drawn around the training points: 1,178 (test)
    path = shared_data / "medellin" / "medellin_homicides.csv"
    args = ["backtest", str(path), "--split", "2018-01-01", "--start", "2016-01-01", "--cell-size-m", "1000"]
    r = runner.invoke(app, [*args, "--format", "csv", "--out", str(tmp_path), "--lang", lang], terminal_width=400)
    assert r.exit_code == 0, r.output
    assert expected in " ".join(r.output.split())
    notes = json.loads((tmp_path / "backtest_notas.json").read_text(encoding="utf-8"))
    assert (notes["train"]["incidents"], notes["test"]["incidents"], notes["cells"]) == (1126.0, 1178.0, 238)
    assert notes["outside_study_area"] == {"train": 0, "test": 50}
