"""The seguimiento's numbers in the reader's format: ``12.346``, ``12,3``, ``71,7 %`` in Spanish,
``12,346``, ``12.3``, ``71.7 %`` in English (the default of the formatters), in the formatters,
the unit labels and ``geoprio indicators``.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from geoprio.cli import app
from geoprio.seguimiento import format_compact, format_number, format_percent, unit_label
from tests.builders import write_tiny_city

runner = CliRunner()


def test_formatters_in_both_languages():
    values = (12345.6, 123.4, 12.34, 1.234, None, float("nan"), float("inf"))
    assert [format_number(v, lang="es") for v in values] == ["12.346", "123", "12,3", "1,23", "–", "–", "–"]
    assert [format_number(v, lang="en") for v in values] == ["12,346", "123", "12.3", "1.23", "–", "–", "–"]
    assert format_number(-0.456, 2, lang="es") == "-0,456" and format_number(456.78, 2, lang="es") == "456,8"
    assert [format_compact(v, lang="es") for v in (13.631, 13.0, 1500.4, 0.5, None)] == ["13,63", "13", "1.500", "0,5", "–"]
    assert [format_compact(v, lang="en") for v in (13.631, 13.0, 1500.4, 0.5, None)] == ["13.63", "13", "1,500", "0.5", "–"]
    assert [format_percent(v, lang="es") for v in (0.7167, 1.0, -0.0001, None)] == ["71,7 %", "100,0 %", "0,0 %", "–"]
    assert [format_percent(v, lang="en") for v in (0.7167, 1.0, -0.0001, None)] == ["71.7 %", "100.0 %", "0.0 %", "–"]


def test_unit_label_groups_the_rate_base():
    rate = SimpleNamespace(unit="rate", per=100_000)
    assert unit_label(rate, "es") == "por 100.000 habitantes"
    assert unit_label(rate, "en") == "per 100,000 residents"


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, str]:
    targets = write_tiny_city(tmp_path_factory.mktemp("city"))
    out: dict[str, str] = {}
    for lang in ("es", "en"):
        folder = tmp_path_factory.mktemp(f"out_{lang}")
        r = runner.invoke(app, ["indicators", str(targets), "--out", str(folder), "--lang", lang], terminal_width=220)
        assert r.exit_code == 0, r.output
        out[lang] = r.output
    return out


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        # hurto: 80 per 100,000 in six months against 150 (prorated 75): progress 80 %; the
        # homicide share 16.7 % (2022) → 20.0 % against 10.0; quejas 2 of 6 (sum)
        (
            "es",
            [
                "por 100.000 habitantes │  200 (2022) │       150 │ 80,0 (acumulado a 6 meses) │  80,0 % │   80,0 %",
                "16,7 (2022) │      10,0 │ 20,0 (acumulado a 6 meses)",
                "6,00 │ 2,00 (acumulado a 6 meses) │ 100,0 %",
                "Seguridad │    2 │  57,5 %",
                "Avance del plan 2023: 71,7 %",
            ],
        ),
        (
            "en",
            [
                "per 100,000 residents │  200 (2022) │         150 │ 80.0 (year to date, 6 months) │   80.0 % │   80.0 %",
                "16.7 (2022) │        10.0 │ 20.0 (year to date, 6 months)",
                "6.00 │ 2.00 (year to date, 6 months) │  100.0 %",
                "Seguridad │      2 │   57.5 %",
                "Plan progress 2023: 71.7 %",
            ],
        ),
    ],
)
def test_indicators_prints_in_the_commands_number_format(printed, lang, expected):
    for text in expected:
        assert text in printed[lang], text
