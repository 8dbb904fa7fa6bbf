"""The targets file and the data step of the seguimiento, on a tiny city built by hand and on
the real Bogotá tables. Expected values are computed by hand from the records listed below
(or, for Bogotá, with pandas from the source files in the test itself).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoprio.errors import ConfigError, InputError
from geoprio.io import files as io
from geoprio.seguimiento import UNPLACED, load_targets, parse_targets, read_program_csv, track, zone_layer
from tests.builders import POPULATION, TARGETS_TOML, write_tiny_city  # noqa: F401


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = write_tiny_city(tmp_path_factory.mktemp("tiny"))
    return path, track(load_targets(path))


def series(res, ident, zone="city"):
    r = res.indicator(ident)
    unit = next(u for u in r.units if u.zone_id == zone)
    return {s.year: s for s in unit.series}


# --------------------------------------------------------------------------- the tiny city


def test_rate_per_year_and_year_to_date(tiny):
    _, res = tiny
    s = series(res, "hurto")
    # 2022: 10 hurtos / 5,000 residents × 100,000 = 200 (the baseline); 2023 to June: 4 → 80, annualized 160
    assert s[2022].actual == pytest.approx(200.0) and res.indicator("hurto").units[0].baseline == pytest.approx(200.0)
    assert s[2023].actual == pytest.approx(80.0) and s[2023].actual_annualized == pytest.approx(160.0) and s[2023].fraction == 0.5
    # decreciente (200 − 160)/(200 − 150) = 0.8
    assert s[2023].progress == pytest.approx(0.8) and s[2023].progress_capped == pytest.approx(0.8)
    assert res.indicator("hurto").units[0].months == {2022: 12, 2023: 6}
    codes = [n.code for n in res.indicator("hurto").notes]
    assert "partial_year" in codes and "period_inferred" in codes


def test_months_and_year_to_date_of_a_city_indicator(tiny):
    _, res = tiny
    months = {m["month"]: m for m in res.indicator("hurto").units[0].monthly}
    # 2023: Jan 1 (d14), Feb 1 (d13), Mar 0, Apr 0 (d18 is outside the city), May 1 (d16), Jun 1 (d15)
    assert [months[f"2023-0{m}"]["count"] for m in range(1, 7)] == [1, 1, 0, 0, 1, 1]
    assert months["2023-06"]["year_to_date"] == pytest.approx(4 / 5000 * 1e5)  # 80
    assert months["2022-12"]["year_to_date"] == pytest.approx(200.0)
    assert "2023-07" not in months


def test_zone_level_counts_with_relative_targets(tiny):
    _, res = tiny
    r = res.indicator("hurto_localidad")
    assert [u.zone_id for u in r.units] == ["L1", "L2"]
    l1, l2 = series(res, "hurto_localidad", "L1"), series(res, "hurto_localidad", "L2")
    # L1: baseline 6, target 6·(1 − 0.5) = 3, six months with 3 → annualized 6 → (6 − 6)/(6 − 3) = 0
    assert (l1[2022].actual, l1[2023].actual, l1[2023].target, l1[2023].progress) == (6.0, 3.0, 3.0, 0.0)
    # L2: baseline 4, target 2, 1 → annualized 2 → (4 − 2)/(4 − 2) = 1
    assert (l2[2022].actual, l2[2023].actual_annualized, l2[2023].target, l2[2023].progress) == (4.0, 2.0, 2.0, 1.0)
    assert r.progress_by_year[2023] == pytest.approx(0.5)  # mean of the zones' capped progress
    assert r.progress_uncapped_by_year[2023] is None


def test_share_is_not_prorated(tiny):
    _, res = tiny
    s = series(res, "homicidio_share")
    # 2 of 12 records in 2022, 1 of 5 in 2023 (a share is compared as it is); constante lower: 10/20 = 0.5
    assert s[2022].actual == pytest.approx(100 * 2 / 12) and s[2023].actual == pytest.approx(20.0)
    assert s[2023].fraction == 1.0 and s[2023].progress == pytest.approx(0.5)


def test_suma_with_keyed_records_and_a_place_without_zone(tiny):
    _, res = tiny
    s = series(res, "quejas")
    # the unmatched "Desconocido" counts in the city: 5 in 2022 → 5/4 = 1.25; 2023: (5 + 2)/(4 + 6·½) = 1.0
    assert s[2022].actual == 5.0 and s[2022].progress == pytest.approx(1.25) and s[2022].progress_capped == 1.0
    assert s[2023].cumulative_actual == 7.0 and s[2023].cumulative_target == pytest.approx(7.0) and s[2023].progress == pytest.approx(1.0)
    assert s[2023].progress_plan_total == pytest.approx(7 / 10)
    unplaced = [n for n in res.indicator("quejas").notes if n.code == "unplaced"]
    assert [(n.year, n.params["count"]) for n in unplaced] == [(2022, 1.0)]


def test_objective_and_plan_progress(tiny):
    _, res = tiny
    # seguridad 2023: (1·0.8 + 1·0.5 + 2·0.5)/4 = 0.575; servicio 1.0 (capped); plan (2·0.575 + 1·1)/3
    assert res.year == 2023
    assert res.objectives["seguridad"][2023] == pytest.approx(0.575)
    assert res.objectives["servicio"][2023] == pytest.approx(1.0)
    assert res.plan[2023] == pytest.approx(2.15 / 3)
    # 2022: only quejas has a programmed year
    assert res.objectives["seguridad"][2022] is None and res.plan[2022] == pytest.approx(1.0)


def test_breakdown_says_where_the_city_target_is_lost(tiny):
    _, res = tiny
    b = res.indicator("hurto").breakdown[2023]
    assert res.indicator("hurto").breakdown_level == "localidad"
    # parts of the city rate: base L1 120, L2 80; 2023 (annualized) L1 120, L2 40 → change 0 and −40
    assert b.loc[["L1", "L2"], "part_base"].tolist() == pytest.approx([120.0, 80.0])
    assert b.loc[["L1", "L2"], "change"].tolist() == pytest.approx([0.0, -40.0])
    # expected: −50 split 0.6/0.4; shortfall L1 30, L2 −20; they add up to 160 − 150
    assert b.loc[["L1", "L2"], "shortfall"].tolist() == pytest.approx([30.0, -20.0])
    assert b["shortfall"].sum() == pytest.approx(10.0)
    # the zones' own rates: L1 6/2,000 = 300 both years; L2 4/3,000 = 133.3 → 2/3,000 annualized = 66.7
    assert b.loc["L1", "value_base"] == pytest.approx(300.0) and b.loc["L2", "value_annualized"] == pytest.approx(200 / 3)
    # against the city's planned relative change (150/200): L1 target 225 → 0; L2 target 100 → (133.3 − 66.7)/33.3 = 2
    assert b.loc["L1", "proportional_target"] == pytest.approx(225.0) and b.loc["L1", "progress"] == pytest.approx(0.0)
    assert b.loc["L2", "progress"] == pytest.approx(2.0)
    assert b.loc["L1", "gap_to_city_target"] == pytest.approx(150.0)
    assert b.loc[UNPLACED, "part"] == 0.0  # points outside the city are never "without a zone"


def test_hours_filter_as_in_the_index(tmp_path):
    toml = TARGETS_TOML.replace('categories = ["Hurto"]\nunit = "rate"', 'categories = ["Hurto"]\nhours = [18, 6]\nunit = "rate"')
    res = track(load_targets(write_tiny_city(tmp_path, toml=toml)))
    # night hurtos 2022: d2 20h, d3 21h, d7 19h, d8 2h, d9 3h = 5 → 100 per 100,000
    assert series(res, "hurto")[2022].actual == pytest.approx(100.0)


def test_outputs_csv_json_geojson_html_and_manifest(tiny, tmp_path):
    path, res = tiny
    written = res.write(tmp_path / "out", command="geoprio indicators metas.toml", targets_file=path)
    paths = list(written.files)
    names = sorted(p.name for p in paths) + [written.manifest.name]
    assert names == ["seguimiento.csv", "seguimiento.html", "seguimiento.json", "seguimiento_zonas.geojson", "seguimiento_manifest.json"]
    table = pd.read_csv(tmp_path / "out" / "seguimiento.csv", dtype={"zone_id": str})
    row = table[(table["indicator"] == "hurto") & (table["year"] == 2023)].iloc[0]
    assert row["months"] == 6 and row["actual"] == pytest.approx(80.0) and row["progress"] == pytest.approx(0.8)
    assert len(table[table["indicator"] == "hurto_localidad"]) == 2 * 2  # two localidades × 2022, 2023
    doc = json.loads((tmp_path / "out" / "seguimiento.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "geoprio.seguimiento" and doc["year"] == 2023 and doc["plan"]["progress"] == pytest.approx(2.15 / 3, abs=1e-6)
    hurto = next(i for i in doc["indicators"] if i["id"] == "hurto")
    assert [r["zone_id"] for r in hurto["breakdown"]["by_year"]["2023"]] == ["L1", "L2", UNPLACED]
    layer = gpd.read_file(tmp_path / "out" / "seguimiento_zonas.geojson")
    hz = layer[layer["indicator"] == "hurto"].set_index("zone_id")
    assert hz.loc["L1", "shortfall"] == pytest.approx(30.0) and hz.loc["L2", "progress"] == pytest.approx(2.0)
    assert hz.loc["L2", "value_change"] == pytest.approx(200 / 3 - 400 / 3)  # 66.7 − 133.3 per 100,000
    # the localidad geometry is the union of its UPZ (no parent layer given): 2 squares side by side
    assert hz.loc["L1"].geometry.bounds == pytest.approx((-74.10, 4.60, -74.08, 4.61), abs=1e-6)
    html = (tmp_path / "out" / "seguimiento.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="es">' in html
    assert html.count("<svg") == 4 and "<script" not in html and "src=" not in html and 'href="http' not in html
    manifest = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert manifest["kind"] == "geoprio.seguimiento" and manifest["parameters"]["year"] == 2023
    inputs = {Path(i["path"]).name: i["sha256"] for i in manifest["inputs"]}
    assert set(inputs) == {"metas.toml", "zonas.geojson", "delitos.csv", "quejas.csv", "poblacion.csv"}
    assert inputs["delitos.csv"] == io.sha256_file(path.parent / "delitos.csv")
    assert {Path(o["path"]).name for o in manifest["outputs"]} == set(names[:-1])


def test_english_and_another_year(tiny):
    path, _ = tiny
    res = track(load_targets(path), lang="en", year=2022)
    doc = res.to_dict()
    assert doc["year"] == 2022 and doc["lang"] == "en"
    hurto = next(i for i in doc["indicators"] if i["id"] == "hurto")
    assert hurto["unit_label"] == "per 100,000 residents" and hurto["trend_label"] == "Decreasing"
    assert any(n["text"].startswith("2023: 6 months of data") for n in hurto["notes"])
    with pytest.raises(ConfigError, match=r"year 2030 is not tracked; years: \[2021, 2022, 2023\]"):
        track(load_targets(path), year=2030)


def test_zone_layer_for_zone_level_indicators(tiny):
    _, res = tiny
    layer = zone_layer(res)
    loc = layer[layer["indicator"] == "hurto_localidad"].set_index("zone_id")
    assert loc.loc["L2", "progress"] == pytest.approx(1.0) and loc.loc["L1", "target"] == pytest.approx(3.0)
    assert loc.loc["L1", "scope"] == "zone" and set(layer["scope"]) == {"zone", "breakdown"}
    assert layer.crs.to_epsg() == 4326


# --------------------------------------------------------------------------- population errors


def test_rate_without_population_for_a_zone_and_year_names_both_and_the_file(tmp_path):
    pop = {(z, y): p for z, p in POPULATION.items() for y in (2022, 2023) if (z, y) != ("B2", 2023)}
    path = write_tiny_city(tmp_path, population=pop)
    with pytest.raises(
        InputError,
        match=r"'hurto': the rate of the city in 2023 needs the population of upz 'B2' \(Beta Dos\); poblacion.csv has no row for it",
    ):
        track(load_targets(path))


def test_rate_without_population_for_a_year(tmp_path):
    pop = {(z, 2022): p for z, p in POPULATION.items()}
    with pytest.raises(
        InputError,
        match=r"in 2023 needs the population of upz 'A1' \(Alfa Uno\); poblacion.csv has no row for it \(years in the file: 2022–2022\)",
    ):
        track(load_targets(write_tiny_city(tmp_path, population=pop)))


def test_population_at_a_coarser_level_cannot_give_zone_rates(tmp_path):
    toml = TARGETS_TOML.replace('level = "localidad"\nrelative_targets', 'level = "upz"\nrelative_targets').replace(
        'unit = "count"\ntrend = "decreciente"\nlevel = "upz"', 'unit = "rate"\ntrend = "decreciente"\nlevel = "upz"'
    )
    path = write_tiny_city(tmp_path, toml=toml, population={(loc, y): 1000 for loc in ("L1", "L2") for y in (2022, 2023)})
    with pytest.raises(
        InputError,
        match=r"a rate at level 'upz' needs population at that level or a finer one; the population tables are per \['localidad'\]",
    ):
        track(load_targets(path))


def test_population_ids_must_match_a_zone_level(tmp_path):
    path = write_tiny_city(tmp_path, population={("X9", 2022): 5})
    with pytest.raises(InputError, match=r"poblacion.csv: no id in column 'cod'"):
        track(load_targets(path))


def test_population_duplicates_are_errors_naming_the_rows(tmp_path):
    path = write_tiny_city(tmp_path)
    text = (tmp_path / "poblacion.csv").read_text(encoding="utf-8") + "A1,2022,5\n"
    (tmp_path / "poblacion.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"zone 'A1', year 2022 appears in rows 2, 10"):
        track(load_targets(path))


# --------------------------------------------------------------------------- the targets file


def base_doc(**indicator) -> dict:
    ind = {"id": "x", "objective": "o", "source": "s", "trend": "decreciente", "targets": {"2024": 10}} | indicator
    return {
        "zones": {"path": "z.geojson", "id": "id", "level": "upz", "parent_column": "loc"},
        "sources": {"s": {"path": "d.csv"}, "t": {"path": "t.csv", "zone_id": "id"}},
        "population": {"path": "p.csv", "id": "id"},
        "indicators": [ind],
    }


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        ({"source": "nope"}, r"unknown source 'nope'; sources: \['s', 't'\]"),
        ({"level": "barrio"}, r"level 'barrio' is not one of \['city', 'upz', 'localidad'\]"),
        ({"source": "t"}, r"per-zone table; give columns"),
        ({"source": "t", "columns": {"2024": "c"}, "categories": ["a"]}, r"filters .* need record-level data"),
        ({"source": "t", "columns": {"2024": "c"}, "unit": "share"}, r"needs total_columns"),
        ({"columns": {"2024": "c"}}, r"columns are for per-zone tables"),
        ({"relative_targets": {"2024": -0.1}}, r"either targets \(absolute\) or relative_targets"),
        ({"targets": {}}, r"no target"),
        ({"direction": "higher_is_better"}, r"trend 'decreciente' means lower_is_better"),
        ({"baseline_year": 2024}, r"baseline_year 2024 must come before the first programmed year 2024"),
        ({"targets": {"2024": -3}}, r"cannot be negative"),
        ({"zone_targets": {"01": {"2024": 3}}}, r"zone_targets need a zone level"),
        ({"level": "localidad", "baseline": 4}, r"baseline \(one value\) is for city indicators"),
        ({"hours": [25, 3]}, r"hours must be \[start, end\)"),
        ({"per": 1000}, r"per applies to unit = 'rate' only"),
    ],
)
def test_invalid_indicators_are_named(indicator, message):
    with pytest.raises(ConfigError, match=message):
        parse_targets(base_doc(**indicator), source="metas.toml")


def test_objectives_declared_must_be_used_consistently():
    doc = base_doc() | {"objectives": {"vida": {"label": "Vida"}}}
    with pytest.raises(ConfigError, match=r"objective 'o' is not in \[objectives\]; objectives: \['vida'\]"):
        parse_targets(doc)
    cfg = parse_targets(base_doc())  # none declared: one per name, weight 1
    assert cfg.objectives["o"].weight == 1.0


def test_rate_needs_population_and_defaults():
    doc = base_doc(unit="rate")
    del doc["population"]
    with pytest.raises(ConfigError, match=r"a rate needs population by zone and year"):
        parse_targets(doc)
    ind = parse_targets(base_doc()).indicators[0]
    assert ind.resolved_direction == "lower_is_better" and ind.resolved_baseline_year == 2023 and ind.level == "city"
    assert parse_targets(base_doc(trend="creciente")).indicators[0].resolved_direction == "higher_is_better"


def test_load_targets_errors(tmp_path):
    with pytest.raises(ConfigError, match="targets file not found"):
        load_targets(tmp_path / "nada.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("zones = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_targets(bad)
    csv = tmp_path / "metas.csv"
    csv.write_text("indicador,anio,meta\nx,2024,3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="name it in a TOML targets file with program = 'metas.csv'"):
        load_targets(csv)


# --------------------------------------------------------------------------- the program as CSV

PROGRAM_CSV = """indicador;objetivo;fuente;categorias;unidad;tendencia;nivel;anio;meta;meta relativa;sentido
hurto;seguridad;delitos;Hurto;tasa;Decreciente;ciudad;2023;150;;
hurto_localidad;seguridad;delitos;Hurto;conteo;decreciente;localidad;2023;;-0,5;
homicidio_share;seguridad;delitos;Homicidio;porcentaje;constante;ciudad;2023;10;;
quejas;servicio;quejas;;conteo;suma;ciudad;2022;4;;mayor es mejor
quejas;;;;;;;2023;6;;
"""


def test_program_csv_gives_the_same_results_as_the_toml(tiny, tmp_path):
    _, res = tiny
    head = TARGETS_TOML[: TARGETS_TOML.index("[[indicators]]")].replace(
        'title = "Ciudad de prueba"', 'title = "Ciudad de prueba"\nprogram = "metas.csv"'
    )
    toml = head + TARGETS_TOML[TARGETS_TOML.index("[options]") :]
    path = write_tiny_city(tmp_path, toml=toml)
    (tmp_path / "metas.csv").write_text(PROGRAM_CSV, encoding="utf-8")
    cfg = load_targets(path)
    assert [i.id for i in cfg.indicators] == ["hurto", "hurto_localidad", "homicidio_share", "quejas"]
    quejas = cfg.indicators[3]
    assert quejas.targets == {2022: 4.0, 2023: 6.0} and quejas.direction == "higher_is_better" and quejas.trend == "suma"
    assert cfg.indicators[1].relative_targets == {2023: -0.5}
    res_csv = track(cfg)
    for ident in ("hurto", "hurto_localidad", "homicidio_share", "quejas"):
        assert res_csv.indicator(ident).progress_by_year == pytest.approx(res.indicator(ident).progress_by_year)
    # the CSV gives no weights, so homicidio_share weighs 1 (2 in the TOML): seguridad = (0.8 + 0.5 + 0.5)/3 = 0.6
    assert res_csv.objectives["seguridad"][2023] == pytest.approx(0.6) and res_csv.plan[2023] == pytest.approx((2 * 0.6 + 1) / 3)


def test_program_csv_attributes_must_agree(tmp_path):
    p = tmp_path / "metas.csv"
    p.write_text("indicator,year,target,trend,objective,source\nx,2024,3,decreciente,o,s\nx,2025,2,creciente,o,s\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"indicator 'x' has trend 'decreciente' in row 2 and 'creciente' in row 3"):
        read_program_csv(p)
    p.write_text("indicator,year,target\nx,2024,tres\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2, column 'target': 'tres' is not a number"):
        read_program_csv(p)
    p.write_text("indicator,meta\nx,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no column for 'year'"):
        read_program_csv(p)
    p.write_text("indicator,year,target\nx,2024,3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"metas.csv \(indicator 'x'\): invalid targets file"):
        read_program_csv(p)


def test_program_csv_zone_targets(tmp_path):
    p = tmp_path / "metas.csv"
    p.write_text(
        "indicator,year,zone,target,trend,objective,source,level,column\n"
        "h,2024,01,3,decreciente,o,t,localidad,H24\nh,2024,02,4,,,,,\nh,2025,01,2,,,,,H25\n",
        encoding="utf-8",
    )
    (ind,) = read_program_csv(p)
    assert ind.zone_targets == {"01": {2024: 3.0, 2025: 2.0}, "02": {2024: 4.0}} and ind.columns == {2024: "H24", 2025: "H25"}


# --------------------------------------------------------------------------- Bogotá, real data


@pytest.fixture(scope="module")
def bogota(shared_data):
    root = Path(__file__).resolve().parents[2]
    return track(load_targets(root / "data" / "examples" / "bogota_seguimiento.toml"))


def test_bogota_city_rates_equal_a_direct_computation(bogota, shared_data):
    dai = pd.read_csv(shared_data / "bogota" / "dai_upz_2018_2021_attributes.csv", dtype={"LocCodigo": str})
    pop = pd.read_csv(shared_data / "bogota" / "poblacion_localidad_2018_2024.csv", dtype={"LocCodigo": str})
    city_pop = pop.groupby("anio")["total"].sum()
    s = series(bogota, "homicidios")
    # every row of the SDSCJ table (112 UPZ, 4 UPR, UPZ999 "sin localización") over the 20 localidades' population
    for year, col in ((2019, "CMH19CONT"), (2020, "CMH20CONT"), (2021, "CMH21CONT")):
        assert s[year].actual == pytest.approx(dai[col].sum() / city_pop[year] * 1e5, rel=1e-12)
    assert dai["CMH21CONT"].sum() == 1121 and city_pop[2021] == pytest.approx(7_834_167)
    # decreciente 13.63 → 12.5 in 2021; actual 14.31: (B − A)/(B − T) < 0
    b, a = s[2019].actual, s[2021].actual
    assert s[2021].progress == pytest.approx((b - a) / (b - 12.5)) and s[2021].progress_capped == 0.0


def test_bogota_localidad_rates_and_where_the_homicide_target_is_lost(bogota, shared_data):
    dai = pd.read_csv(shared_data / "bogota" / "dai_upz_2018_2021_attributes.csv", dtype={"LocCodigo": str})
    pop = pd.read_csv(shared_data / "bogota" / "poblacion_localidad_2018_2024.csv", dtype={"LocCodigo": str})
    kennedy = series(bogota, "homicidios_localidad", "08")
    k = dai.loc[dai["LocCodigo"] == "08", "CMH21CONT"].sum()
    k_pop = pop.loc[(pop["LocCodigo"] == "08") & (pop["anio"] == 2021), "total"].iloc[0]
    assert k == 185 and kennedy[2021].actual == pytest.approx(k / k_pop * 1e5, rel=1e-12)
    # UPR rows enter their localidad through the zone layer: Sumapaz (20) is UPR4 + UPR5, Ciudad Bolívar (19) has UPR3
    cb = dai.loc[(dai["LocCodigo"] == "19") | (dai["CMIUUPLA"] == "UPR3"), "CMH21CONT"].sum()
    ciudad_bolivar = next(u for u in bogota.indicator("homicidios_localidad").units if u.zone_id == "19")
    assert ciudad_bolivar.counts[2021] == cb == 2 + 2 + 12 + 16 + 58 + 13 + 50 + 38 + 16 == 207  # UPZ63–70 and UPR3
    b = bogota.indicator("homicidios").breakdown[2021]
    assert b["shortfall"].sum() == pytest.approx(series(bogota, "homicidios")[2021].actual - 12.5, rel=1e-9)
    assert b["part"].sum() == pytest.approx(series(bogota, "homicidios")[2021].actual, rel=1e-12)
    top = b.sort_values("shortfall", ascending=False).index[:4].tolist()
    assert top == ["08", "04", "18", "19"]  # Kennedy, San Cristóbal, Rafael Uribe Uribe, Ciudad Bolívar
    assert b.loc[UNPLACED, "count"] == 2  # UPZ999's two homicides of 2021: in the city, in no localidad
    assert np.isclose(b.loc["08", "share_of_shortfall"], 0.3907, atol=1e-4)


# --------------------------------------------------------------------------- per-zone tables

TABLE_CSV = "cod,H22,H23,T22,T23\nA1,2,1,10,10\nA2,1,1,10,10\nB1,3,2,20,20\nB2,0,0,10,10\nZZ,1,0,5,5\n"
TABLE_TOML = """
[zones]
path = "zonas.geojson"
id = "cod"
name = "nombre"
level = "upz"
parent_column = "loc"

[sources.tabla]
path = "tabla.csv"
zone_id = "cod"

[options]
unplaced = "{unplaced}"

[[indicators]]
id = "casos"
objective = "o"
source = "tabla"
columns = {{ 2022 = "H22", 2023 = "H23" }}
trend = "decreciente"
targets = {{ 2023 = 5, 2024 = 4 }}

[[indicators]]
id = "proporcion"
objective = "o"
source = "tabla"
columns = {{ 2022 = "H22", 2023 = "H23" }}
total_columns = {{ 2022 = "T22", 2023 = "T23" }}
unit = "share"
trend = "constante"
targets = {{ 2023 = 8 }}

[[indicators]]
id = "casos_localidad"
objective = "o"
source = "tabla"
columns = {{ 2022 = "H22", 2023 = "H23" }}
trend = "decreciente"
level = "localidad"
baseline_year = 2022
zone_targets = {{ L1 = {{ 2023 = 2 }}, L2 = {{ 2023 = 3 }} }}
"""


def table_city(tmp_path, unplaced="include"):
    path = write_tiny_city(tmp_path, toml=TABLE_TOML.format(unplaced=unplaced))
    (tmp_path / "tabla.csv").write_text(TABLE_CSV, encoding="utf-8")
    return track(load_targets(path))


def test_per_zone_table_with_a_year_without_data(tmp_path):
    res = table_city(tmp_path)
    s = series(res, "casos")
    # the city counts every row, ZZ (not a zone) included: 2022 7, 2023 4 → (7 − 4)/(7 − 5) = 1.5
    assert (s[2022].actual, s[2023].actual, s[2023].progress, s[2023].progress_capped) == (7.0, 4.0, 1.5, 1.0)
    assert s[2024].actual is None and s[2024].progress is None and [n.code for n in s[2024].notes] == ["no_data"]
    assert res.year == 2023  # the latest programmed year with data
    notes = [n.text("es") for n in res.indicator("casos").notes]
    assert "2022: 1 caso sin zona se cuenta (ids de la tabla que no son zonas: ZZ) en el total de la ciudad y en ninguna zona" in notes
    # share = column over total_columns: 7/55 and 4/55 (%); constante lower: 8/7.27 = 1.1
    p = series(res, "proporcion")
    assert p[2022].actual == pytest.approx(700 / 55) and p[2023].progress == pytest.approx(8 / (400 / 55))


def test_zone_targets_and_a_target_equal_to_the_zone_baseline(tmp_path):
    res = table_city(tmp_path)
    l1, l2 = series(res, "casos_localidad", "L1"), series(res, "casos_localidad", "L2")
    # L1: 3 → 2 with target 2: (3 − 2)/(3 − 2) = 1; L2: target 3 = baseline 3 → attainment T/A = 3/2
    assert l1[2023].progress == pytest.approx(1.0)
    assert l2[2023].progress == pytest.approx(1.5) and [n.code for n in l2[2023].notes] == ["target_equals_baseline"]
    assert l2[2023].notes[0].zone_id == "L2"


def test_unplaced_excluded_from_the_city(tmp_path):
    res = table_city(tmp_path, unplaced="exclude")
    s = series(res, "casos")
    assert (s[2022].actual, s[2023].actual) == (6.0, 4.0)  # ZZ left out
    assert [n.code for n in res.indicator("casos").notes if n.code.startswith("unplaced")] == ["unplaced_excluded"]
    assert UNPLACED not in res.indicator("casos").breakdown[2023].index


def test_table_column_that_does_not_exist(tmp_path):
    path = write_tiny_city(
        tmp_path, toml=TABLE_TOML.format(unplaced="include").replace('2023 = "H23" }\ntrend', '2023 = "H99" }\ntrend', 1)
    )
    (tmp_path / "tabla.csv").write_text(TABLE_CSV, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"indicator 'casos': column 'H99' \(year 2023\) is not in tabla.csv"):
        track(load_targets(path))


def test_html_report_draws_in_a_real_browser_without_the_network(tiny, tmp_path):
    """Headless Chromium (Playwright, system browser) opens the report with every request refused."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).is_file():
        pytest.skip("Debian's chromium is not installed")
    _, res = tiny
    res.write(tmp_path / "html")
    page_url = (tmp_path / "html" / "seguimiento.html").as_uri()
    requests, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def refuse(route):
            if route.request.url != page_url:
                requests.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", refuse)
        page.goto(page_url)
        boxes = page.eval_on_selector_all(
            "svg", "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
        )
        lines = page.eval_on_selector_all("svg polyline.actual", "els => els.map(e => e.getAttribute('points').split(' ').length)")
        partial = page.eval_on_selector_all("svg circle.partial", "els => els.length")
        page.screenshot(path=str(tmp_path / "seguimiento.png"), full_page=True)
        browser.close()
    assert requests == [] and errors == []
    assert len(boxes) == 4 and all(w == 640 and h > 60 for w, h in boxes)  # three line charts, one bar chart (2 zones)
    # hurto, homicidio_share and quejas are city charts; the 2023 value of hurto is a year to date (hollow dot)
    assert lines and partial == 1
