"""Small denominators among the first ranks (geoprio.index.denominators): the finding, its
warning in both languages, the default minimum, the notes and manifest of a run, the console
table, the demo's configuration and the Bogotá examples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import typer
from shapely.geometry import box
from typer.testing import CliRunner

from geoprio.cli.index import register
from geoprio.demo.city import make_demo_city, write_demo_city
from geoprio.errors import InputError
from geoprio.index import (
    DEFAULT_MIN_POPULATION,
    IndexOptions,
    load_config,
    min_denominator_of,
    run_index,
    small_in_top,
)

ROOT = Path(__file__).resolve().parents[2]


def ranked(flags: list[bool], populations: list[float] | None = None) -> pd.DataFrame:
    """Zones z1.. ranked in order, with their small-denominator flags."""
    n = len(flags)
    return pd.DataFrame(
        {
            "zone_id": [f"z{i + 1}" for i in range(n)],
            "name": [f"Zona {i + 1}" for i in range(n)],
            "population": populations or [1000.0 * (i + 1) for i in range(n)],
            "rank": list(range(1, n + 1)),
            "small_denominator": flags,
        }
    )


# ------------------------------------------------------------------ the finding and its words


def test_small_zones_in_the_top_are_named_with_rank_and_population():
    t = ranked([True, False, True, True, False])
    found = small_in_top(t, top=3, minimum=5000, action="flag")
    assert found and found.zone_ids == ["z1", "z3"] and found.flagged == 3 and found.ranked == 5
    assert [(z.rank, z.population) for z in found.zones] == [(1, 1000.0), (3, 3000.0)]
    es = found.message("es")
    assert es.startswith("⚠ 2 de las 3 primeras zonas tienen menos de 5.000 residentes (†): ")
    assert "z1 Zona 1 (puesto 1; 1.000 residentes), z3 Zona 3 (puesto 3; 3.000 residentes)" in es
    assert 'smoothing = "eb"' in es
    en = found.message("en")
    assert en.startswith("⚠ 2 of the first 3 zones have fewer than 5,000 residents (†): z1 Zona 1 (rank 1; 1,000 residents)")
    d = found.to_dict("en")
    assert d["zones"][0] == {"zone_id": "z1", "name": "Zona 1", "rank": 1, "population": 1000.0} and d["message"] == en
    assert json.loads(json.dumps(d)) == d  # plain data for the notes and the manifest


def test_nothing_to_say_when_the_top_has_no_small_zone():
    t = ranked([False, False, False, True])
    found = small_in_top(t, top=3, minimum=5000)
    assert not found and found.zones == () and found.flagged == 1 and found.message() is None
    assert not small_in_top(t.drop(columns="small_denominator"), top=10)  # no rate: no flag column


def test_excluded_zones_are_not_in_the_top_and_the_top_is_capped_by_the_ranked_zones():
    t = ranked([True, True, False])
    t.loc[0, "rank"] = None  # left out of the ranking (small_zones = "exclude")
    t.loc[1:, "rank"] = [1, 2]
    found = small_in_top(t, top=10, minimum=5000, action="exclude")
    assert found.zone_ids == ["z2"] and found.message("es").startswith("⚠ 1 de las 2 primeras zonas")


def test_smoothed_rates_and_unknown_minimum_change_the_words():
    t = ranked([True, False])
    smoothed = small_in_top(t, top=2, minimum=5000, smoothed=True).message("es")
    assert "ya están suavizadas" in smoothed and "residentes no son el denominador adecuado" in smoothed
    unknown = small_in_top(t.drop(columns="population"), top=2).message("es")
    assert unknown.startswith("⚠ 1 de las 2 primeras zonas tiene un denominador pequeño (†): z1 Zona 1 (puesto 1).")


def test_bad_tables_and_tops_are_named():
    with pytest.raises(InputError, match="no column 'rank'"):
        small_in_top(pd.DataFrame({"zone_id": ["a"]}))
    with pytest.raises(InputError, match="top must be at least 1"):
        small_in_top(ranked([True]), top=0)


def test_min_denominator_of_a_manifest():
    assert min_denominator_of({"parameters": {"small_denominator": {"minimum": 3000.0}}}) == 3000.0
    assert min_denominator_of({"options": {"index": {"min_population": None}}}) == DEFAULT_MIN_POPULATION
    assert min_denominator_of({"options": {"index": {"min_population": 0}}}) is None
    assert min_denominator_of({"options": {"index": {"min_population": 2500}}}) == 2500.0
    assert min_denominator_of(None) is None and min_denominator_of({}) is None


# ------------------------------------------------------------------ the default minimum


def test_the_default_minimum_is_5000_and_zero_turns_it_off():
    assert DEFAULT_MIN_POPULATION == 5000
    assert IndexOptions().min_population is None and IndexOptions().min_denominator == 5000
    assert IndexOptions(min_population=3000).min_denominator == 3000
    assert IndexOptions(min_population=0).min_denominator is None
    with pytest.raises(Exception, match="greater than or equal to 0"):
        IndexOptions(min_population=-1)


def small_city(root: Path, index: str = "") -> Path:
    """Four zones (600, 4,000, 20,000 and 50,000 residents) and a config with one rate that says
    nothing about the minimum denominator (unless ``index`` adds to ``[index]``)."""
    zones = gpd.GeoDataFrame(
        {"cod": ["A", "B", "C", "D"], "nombre": ["Aeropuerto", "Bodega", "Centro", "Dorado"], "pob": [600, 4000, 20000, 50000]},
        geometry=[box(-74.10 + 0.01 * i, 4.60, -74.09 + 0.01 * i, 4.61) for i in range(4)],
        crs="EPSG:4326",
    )
    zones.to_file(root / "z.geojson")
    counts = {0: 6, 1: 8, 2: 30, 3: 40}  # rates 1,000, 200, 150, 80 per 100,000
    rows = [f"4.605,{-74.095 + 0.01 * i:.3f},Hurto" for i, n in counts.items() for _ in range(n)]
    (root / "d.csv").write_text("lat,lon,delito\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (root / "c.toml").write_text(
        '[zones]\npath = "z.geojson"\nid = "cod"\nname = "nombre"\npopulation_column = "pob"\n'
        '[sources.d]\npath = "d.csv"\n'
        f"[index]\n{index}\n"
        "[robustness]\ndraws = 0\ntop_k = 3\n"
        '[output]\ndir = "out"\nformats = ["csv"]\n'
        '[[indicators]]\nname = "hurto"\nsource = "d"\nmeasure = "rate"\nweight = 1\n',
        encoding="utf-8",
    )
    return root / "c.toml"


def test_a_config_that_says_nothing_flags_zones_under_5000_and_says_so(tmp_path):
    run = run_index(load_config(small_city(tmp_path)))
    t = run.table.set_index("zone_id")
    assert t["small_denominator"].to_dict() == {"A": True, "B": True, "C": False, "D": False}
    assert t.sort_values("rank").index.tolist() == ["A", "B", "C", "D"]  # the raw rate ranks the small zones first
    note = run.notes["small_denominator"]
    assert note["top"] == 3 and note["minimum"] == 5000 and note["action"] == "flag"
    assert [z["zone_id"] for z in note["zones"]] == ["A", "B"]
    assert note["message"].startswith("⚠ 2 de las 3 primeras zonas tienen menos de 5.000 residentes (†): A Aeropuerto (puesto 1; 600")
    assert run.small_in_top(1).zone_ids == ["A"]
    written = run.write()
    notes = json.loads((tmp_path / "out" / "indice_zona_notas.json").read_text(encoding="utf-8"))
    manifest = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert notes["small_denominator"] == note == manifest["parameters"]["small_denominator"]
    assert min_denominator_of(manifest) == 5000


def test_min_population_zero_flags_nothing_and_smoothing_changes_the_advice(tmp_path):
    for name in ("off", "eb"):
        (tmp_path / name).mkdir()
    off = run_index(load_config(small_city(tmp_path / "off", "min_population = 0")))
    assert not off.table["small_denominator"].any() and off.notes["small_denominator"]["zones"] == []
    assert off.notes["small_denominator"]["message"] is None
    cfg = load_config(small_city(tmp_path / "eb", 'lang = "en"'))
    cfg = cfg.model_copy(update={"indicators": [cfg.indicators[0].model_copy(update={"smoothing": "eb"})]})
    smoothed = run_index(cfg).notes["small_denominator"]
    assert smoothed["smoothed"] and "Their rates are already smoothed" in smoothed["message"]


def test_exclude_with_the_default_minimum_leaves_the_small_zones_out(tmp_path):
    run = run_index(load_config(small_city(tmp_path, 'small_zones = "exclude"')))
    t = run.table.set_index("zone_id")
    assert t.loc[["A", "B"], "rank"].isna().all() and t.loc["A", "excluded"] == "denominador menor que 5000 (población 600)"
    assert not run.small_in_top()  # nothing flagged is ranked


def test_the_console_table_warns_in_spanish_and_english(tmp_path):
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    config = small_city(tmp_path)
    es = CliRunner().invoke(app, ["index", str(config), "--top", "2", "--format", "csv"], terminal_width=400)
    assert es.exit_code == 0, es.output
    assert "Aeropuerto †" in es.output and "Bodega †" in es.output
    assert "⚠ 2 de las 2 primeras zonas tienen menos de 5.000 residentes (†): A Aeropuerto (puesto 1; 600 residentes)" in es.output
    en = CliRunner().invoke(app, ["index", str(config), "--top", "1", "--lang", "en", "--format", "csv"], terminal_width=400)
    assert en.exit_code == 0, en.output
    assert "⚠ 1 of the first 1 zones has fewer than 5,000 residents (†): A Aeropuerto (rank 1; 600 residents)" in en.output


# ------------------------------------------------------------------ the demo's configuration


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The default demo city (40,000 incidents), as ``geoprio demo`` writes it."""
    return write_demo_city(make_demo_city(), tmp_path_factory.mktemp("demo"))


def _run(config: Path, text: str | None = None):
    if text is not None:
        config = config.with_name("alternativa.toml")
        config.write_text(text, encoding="utf-8")
    cfg = load_config(config)
    return run_index(cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 0})}))


def test_the_demo_leads_with_densities_and_smoothed_complaints(demo):
    cfg = load_config(demo)
    measures = {i.name: (i.measure, i.smoothing) for i in cfg.indicators}
    assert measures["violencia"] == ("density", "none") and measures["hurto_personas"] == ("density", "none")
    assert measures["quejas"] == ("rate", "eb") and cfg.index.min_denominator == 5000
    run = _run(demo)
    top = run.table.sort_values("rank").set_index("zone_id")
    # La Candelaria (2,248 residents) is first, no longer by a factor of three
    assert top.index[:3].tolist() == ["UPZ02", "UPZ12", "UPZ24"]
    assert top["index"].iloc[:2].round(1).tolist() == [75.6, 55.7]
    assert top.loc["UPZ07", "rank"] > 5  # Zona Portuaria (1,831 residents) leaves the top five
    assert run.small_in_top(5).zone_ids == ["UPZ02"]  # its complaints are still a rate per resident


def test_the_default_minimum_does_not_trip_the_entornos_config(demo):
    from geoprio.entornos import load_entornos_config

    assert load_entornos_config(demo.with_name("entornos.toml")).index.min_population is None  # places have no residents


def test_the_demos_commented_raw_rates_are_the_trap_and_warn(demo):
    text = demo.read_text(encoding="utf-8")
    assert '#     measure = "rate"        # ⚠ la trampa del denominador pequeño' in text
    raw = re.sub(r'(harm_weighted = true\n|"Hurto de celulares"\]\n)measure = "density"', r'\1measure = "rate"', text)
    assert raw.count('measure = "rate"') == text.count('measure = "rate"') + 2
    run = _run(demo, raw)
    top = run.table.sort_values("rank")
    assert top["zone_id"].iloc[:2].tolist() == ["UPZ02", "UPZ07"] and top["index"].iloc[:2].round(1).tolist() == [96.3, 30.6]
    warning = run.small_in_top(5)
    assert warning.zone_ids == ["UPZ02", "UPZ07"]
    assert "UPZ02 La Candelaria (puesto 1; 2.248 residentes), UPZ07 Zona Portuaria (puesto 2; 1.831 residentes)" in warning.message()


# ------------------------------------------------------------------ Bogotá, real data


def _bogota(name: str, tmp_path: Path):
    cfg = load_config(ROOT / "data" / "examples" / name)
    cfg = cfg.model_copy(
        update={
            "output": cfg.output.model_copy(update={"dir": tmp_path / name, "formats": ["csv"]}),
            "robustness": cfg.robustness.model_copy(update={"draws": 0}),
        }
    )
    return run_index(cfg)


def test_bogota_example_leads_with_smoothing_and_the_raw_one_warns(shared_data, tmp_path):
    smooth, raw = _bogota("bogota_upz_2019.toml", tmp_path), _bogota("bogota_upz_2019_cruda.toml", tmp_path)
    assert all(i.smoothing == "eb" for i in load_config(ROOT / "data" / "examples" / "bogota_upz_2019.toml").indicators)
    # raw rates: four zones under 5,000 residents in the top ten, Guaymaral (167 residents) eighth
    warn_raw = raw.small_in_top(10)
    assert warn_raw.zone_ids == ["UPZ108", "UPZ63", "UPZ3", "UPZ1"]
    assert [z.rank for z in warn_raw.zones] == [1, 3, 8, 10] and warn_raw.zones[2].population == 167
    assert warn_raw.message().startswith("⚠ 4 de las 10 primeras zonas tienen menos de 5.000 residentes (†): UPZ108 ZONA INDUSTRIAL")
    # smoothed: two remain (Zona Industrial first: its residents are the wrong denominator), and the words say so
    warn = smooth.small_in_top(10)
    assert warn.zone_ids == ["UPZ108", "UPZ104"] and warn.smoothed
    assert "ya están suavizadas" in warn.message()
    t = smooth.table.set_index("zone_id")
    assert t.loc["UPZ63", "rank"] > 10 and t.loc["UPZ3", "rank"] > 10  # El Mochuelo and Guaymaral leave the top ten
    assert t.loc["UPZ117", "small_denominator"]  # Aeropuerto El Dorado, 835 residents, flagged by the default
