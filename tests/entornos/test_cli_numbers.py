"""``geoprio entornos`` prints its ranking and plan in the command's number format."""

from __future__ import annotations

import textwrap

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from geoprio.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def config(shared_data, tmp_path_factory):
    """Medellín's 48 metro stations and the homicides within 1.5 km of each (2010–2019)."""
    folder = tmp_path_factory.mktemp("entornos_numbers")
    med = shared_data / "medellin"
    path = folder / "entornos.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [places]
            path = "{(med / "medellin_metro_stns.csv").as_posix()}"
            type = "sistema"
            name = "nombre"
            radius_m = 1500
            overlap = "all"
            ring_width_m = 500

            [sources.homicidios]
            path = "{(med / "medellin_homicides.csv").as_posix()}"
            kind = "crime"
            date = "fecha_hecho"
            category = "modalidad"
            offsets = "drop"

            [[indicators]]
            name = "homicidios"
            source = "homicidios"
            weight = 1

            [robustness]
            draws = 0

            [deploy]
            teams = 2
            shift_hours = 8
            days = [4, 5, 6]
            top = 10

            [output]
            dir = "out"
            """
        ),
        encoding="utf-8",
    )
    return path


def test_parque_berrio_count_is_the_dwithin_join(config, shared_data):
    stations = pd.read_csv(shared_data / "medellin" / "medellin_metro_stns.csv")
    homicides = pd.read_csv(shared_data / "medellin" / "medellin_homicides.csv", sep=";", decimal=",", na_values=["NA"])
    homicides = homicides.dropna(subset=["longitud", "latitud"])
    st = gpd.GeoDataFrame(stations, geometry=gpd.points_from_xy(stations["x"], stations["y"]), crs=4326).to_crs(9377)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(homicides["longitud"], homicides["latitud"]), crs=4326).to_crs(9377)
    near = gpd.sjoin(st, pts, predicate="dwithin", distance=1500).groupby("nombre").size()
    # the three stations the ranking below prints first
    assert near[["Estación Parque Berrío (Línea A)", "Estación Prado (Línea A)", "Estación San Antonio (Línea B)"]].tolist() == [
        1282,
        1279,
        1222,
    ]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "es",
            [
                "9.279 de 9.360 filas usadas",
                "│ 100,0 │ 1.282 │ atrae ×2,7",
                "│ 99,8 │ 1.279 │",
                "(667,0 de 11.365,0); cota 667,0, brecha 0,000 %",
            ],
        ),
        (
            "en",
            [
                "9,279 of 9,360 rows used",
                "│ 100.0 │ 1,282 │ attracts ×2.7",
                "│ 99.8 │ 1,279 │",
                "(667.0 of 11,365.0); bound 667.0, gap 0.000 %",
            ],
        ),
    ],
)
def test_ranking_and_plan_in_the_commands_language(config, lang, expected, tmp_path):
    r = runner.invoke(app, ["entornos", str(config), "--top", "3", "--lang", lang, "--out", str(tmp_path / lang)])
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    for text in expected:
        assert text in flat, (text, r.output)
