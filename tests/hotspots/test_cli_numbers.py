"""``geoprio hotspots`` prints its counts in the command's language: ``4.101`` / ``4,101``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from geoprio.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", ["9.279 de 9.360 filas usadas", "(p. ej. fila 2.275: ", "Getis-Ord Gi* por celda (1.041 celdas de 500 m", "4.101", "4.439"]),
        ("en", ["9,279 of 9,360 rows used", "(e.g. row 2,275: ", "Getis-Ord Gi* per cell (1,041 cells of 500 m", "4,101", "4,439"]),
    ],
)
def test_hotspots_counts_in_the_commands_language(shared_data, lang, expected):
    path = shared_data / "medellin" / "medellin_homicides.csv"
    r = runner.invoke(app, ["hotspots", str(path), "--cell-size-m", "500", "--clusters", "none", "--lang", lang])
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    for text in expected:
        assert text in flat, text
    # incidents per Gi* class: hot 99 % 4,101, 95 % 438, 90 % 301, not significant 4,439; they add up
    # to the 9,279 homicides with coordinates (all inside the grid drawn around them)
    assert 4_101 + 438 + 301 + 4_439 == 9_279
    assert ("9.279" if lang == "es" else "9,279") in flat
