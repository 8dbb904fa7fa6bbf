"""Records tied to zones, indicator measures and whole runs, on small and real data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geoprio.errors import ConfigError, InputError, ManifestError
from geoprio.index.config import IndicatorConfig, load_config, parse_config
from geoprio.index.measures import filter_records, indicator_values, previous_period
from geoprio.index.run import replay_manifest, run_index
from geoprio.records.harm import load_harm_table
from geoprio.records.load import load_keyed, load_points
from geoprio.zones.layers import load_zones
from geoprio.zones.tie import attach, match_keys

ROOT = Path(__file__).resolve().parents[2]


def two_zones():
    """Two 0.01° squares near Bogotá: A west, B east; population 1,000 and 4,000."""
    g = gpd.GeoDataFrame(
        {"cod": ["A", "B"], "nombre": ["Chicó Lago", "Las Nieves"], "pob": [1000, 4000]},
        geometry=[box(-74.10, 4.60, -74.09, 4.61), box(-74.09, 4.60, -74.08, 4.61)],
        crs="EPSG:4326",
    )
    return load_zones(g, id="cod", name="nombre", population="pob")


def points_frame():
    return pd.DataFrame(
        {
            "lon": ["-74.095", "-74.095", "-74.085", "-74.085", "-74.085", "-74.200"],
            "lat": ["4.605", "4.605", "4.605", "4.605", "4.605", "4.605"],
            "fecha": ["2024-01-05", "2023-12-20", "2024-01-06", "2024-01-07", "2023-12-01", "2024-01-01"],
            "hora": ["22:00", "10:00", "23:30", "02:00", "12:00", "12:00"],
            "delito": ["Hurto a personas", "Homicidio", "Hurto a personas", "HURTO A PERSONAS", "Lesiones personales", "Hurto a personas"],
        }
    )


def test_attach_points_reports_outside_the_zones():
    z = two_zones()
    r = attach(load_points(points_frame()), z)
    assert r.data["zone_id"].tolist() == ["A", "A", "B", "B", "B"]
    assert r.report.dropped == {"outside_study_area": 1}
    assert r.report.examples["outside_study_area"][0].row == 7


def test_match_keys_accents_case_codes_patterns_aliases():
    z = two_zones()
    keys = pd.Series(["CHICO LAGO", " las  nieves ", "Chicó-Lago", "Santa Fe", None])
    assert match_keys(keys, z).tolist() == ["A", "B", "A", pd.NA, pd.NA]
    assert match_keys(keys, z, aliases={"Santa Fe": "Las Nieves"}).tolist()[3] == "B"
    assert match_keys(pd.Series(["LAS NIEBES"]), z, fuzzy=0.8).tolist() == ["B"]
    # station codes: "LAS DELICIAS E-8" → 8 matches zone id "08"
    loc = load_zones(
        gpd.GeoDataFrame({"c": ["08", "10"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:3857"), id="c", metric_crs="EPSG:3857"
    )
    got = match_keys(pd.Series(["LAS DELICIAS E-8", "BOCHICA E-10", "TERMINAL"]), loc, on="id", pattern=r"E-(\d+)\s*$")
    assert got.tolist() == ["08", "10", pd.NA]
    with pytest.raises(InputError, match="needs one capturing group"):
        match_keys(keys, z, pattern=r"E-\d+")
    with pytest.raises(InputError, match="no zone has that name"):
        match_keys(keys, z, aliases={"x": "Nowhere"})


def test_attach_keyed_reports_unmatched_keys_by_frequency():
    z = two_zones()
    recs = load_keyed(pd.DataFrame({"upz": ["CHICO LAGO", "SIN DATO", "Marte", "Marte", "las nieves"]}), key="upz")
    assert recs.report.dropped == {"missing_key": 1}  # "SIN DATO" means no data
    r = attach(recs, z)
    assert r.data["zone_id"].tolist() == ["A", "B"]
    assert r.report.dropped["unmatched_key"] == 2 and r.report.settings["unmatched_keys"] == {"Marte": 2.0}
    with pytest.raises(InputError, match="none of 2 records"):
        attach(load_keyed(pd.DataFrame({"upz": ["Marte", "Venus"]}), key="upz"), z)


def test_filters_and_measures_by_hand():
    z = two_zones()
    r = attach(load_points(points_frame()), z)
    d = r.data
    assert len(filter_records(d, categories=["hurto*"])) == 3
    assert len(filter_records(d, hours=(22, 3))) == 3  # 22:00, 23:30, 02:00 (wraps past midnight)
    assert len(filter_records(d, date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 1, 6))) == 2
    assert len(filter_records(d, weekdays=[6])) == 1  # 2024-01-07 was a Sunday

    def val(**kw):
        ind = IndicatorConfig(name="x", source="s", **kw)
        return indicator_values(ind, r, z, harm_table=load_harm_table()).values.to_dict()

    assert val(measure="count") == {"A": 2, "B": 3}
    assert val(measure="rate", categories=["Hurto a personas"]) == {"A": 1 / 1000 * 1e5, "B": 2 / 4000 * 1e5}
    area = z.frame.set_index("zone_id")["area_km2"]
    assert val(measure="density") == pytest.approx({"A": 2 / area["A"], "B": 3 / area["B"]})
    # January 2024 (31 days) against December 2023
    assert val(measure="change", date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 1, 31)) == {"A": 1 - 1, "B": 2 - 1}
    # harm-weighted: homicide 208 months, theft 32, lesiones 16
    assert val(measure="count", harm_weighted=True) == {"A": 32 + 208, "B": 32 + 32 + 16}
    assert previous_period(dt.date(2024, 1, 1), dt.date(2024, 1, 31)) == (dt.date(2023, 12, 1), dt.date(2023, 12, 31))
    with pytest.raises(ConfigError, match="categories present"):
        val(categories=["Extorsión"])


def test_harm_table():
    h = load_harm_table()
    w = h.lookup(pd.Series(["HOMICIDIO", "Hurto de celulares", "Lesiones personales", "Riñas (art. 27 num. 1)", "Abigeato"]))
    assert w.tolist()[:4] == [208, 32, 16, 1] and np.isnan(w.iloc[4])
    with pytest.raises(ConfigError, match="not in the harm table"):
        h.weight("Abigeato")
    assert list(h.to_frame()["category"][:2]) == ["homicidio", "extorsion"]


def test_config_errors_are_named(tmp_path):
    base = {
        "zones": {"path": "z.geojson", "id": "c"},
        "sources": {"d": {"path": "d.csv"}},
        "indicators": [{"name": "a", "source": "d", "weight": 1}],
    }
    parse_config(base)
    with pytest.raises(ConfigError, match=r"indicators.0.source|unknown source 'x'"):
        parse_config({**base, "indicators": [{"name": "a", "source": "x", "weight": 1}]}, source="c.toml")
    with pytest.raises(ConfigError, match="have no weight"):
        parse_config({**base, "indicators": [{"name": "a", "source": "d"}]})
    with pytest.raises(ConfigError, match="a rate needs zone population"):
        parse_config({**base, "indicators": [{"name": "a", "source": "d", "weight": 1, "measure": "rate"}]})
    with pytest.raises(ConfigError, match="hours must be"):
        parse_config({**base, "indicators": [{"name": "a", "source": "d", "weight": 1, "hours": [25, 3]}]})
    with pytest.raises(ConfigError, match=r"c.toml: invalid configuration\n  index.normalizaton"):
        parse_config({**base, "index": {"normalizaton": "minmax"}}, source="c.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[zones\npath = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml: invalid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


# ------------------------------------------------------------------ real data, end to end


def test_bogota_upz_index_from_the_sdscj_table(shared_data, tmp_path):
    cfg = load_config(ROOT / "data" / "examples" / "bogota_upz_2019_cruda.toml")
    cfg = cfg.model_copy(
        update={"output": cfg.output.model_copy(update={"dir": tmp_path}), "robustness": cfg.robustness.model_copy(update={"draws": 200})}
    )
    run = run_index(cfg)
    assert not any(tmp_path.iterdir())  # nothing is written unless asked
    run.write()
    t = run.table.set_index("zone_id")
    assert len(t) == 112 and t["rank"].notna().all()
    # UPR1..UPR3, UPZ999 ("sin localización") and the rural rows are reported, not silently ignored
    assert run.sources["dai"].report.flagged["unknown_zone"] == 5
    # hand check of one rate: Las Nieves (UPZ93) homicides per 100,000
    raw = pd.read_csv(shared_data / "bogota" / "dai_upz_2018_2021_attributes.csv").set_index("CMIUUPLA")
    pop = t.loc["UPZ93", "population"]
    assert t.loc["UPZ93", "homicidios"] == pytest.approx(raw.loc["UPZ93", "CMH19CONT"] / pop * 1e5)
    # harm weights: homicide 208 of 208+16+32+32+96+48 = 432
    assert run.index.weights_["homicidios"] == pytest.approx(208 / 432)
    assert t["index"].max() <= 100 and (t.sort_values("rank")["index"].diff().dropna() <= 1e-9).all()
    assert set(t["tier"]) == {"alta", "media", "baja"}
    for p in ("indice_upz.csv", "indice_upz.geojson", "indice_upz.gpkg", "indice_upz.parquet", "manifest.json"):
        assert (tmp_path / p).exists()
    back = gpd.read_parquet(tmp_path / "indice_upz.parquet")
    assert len(back) == 112 and back.crs.to_epsg() == 4326


def test_police_records_by_station_agree_with_the_sdscj_table(shared_data, tmp_path):
    cfg = load_config(ROOT / "data" / "examples" / "bogota_localidades_policia_2019.toml")
    cfg = cfg.model_copy(
        update={
            "output": cfg.output.model_copy(update={"dir": tmp_path, "formats": ["csv"]}),
            "robustness": cfg.robustness.model_copy(update={"draws": 0}),
        }
    )
    run = run_index(cfg)
    rep = run.sources["policia"].report
    assert rep.n_read == 126_687
    assert rep.dropped["missing_key"] == 1 and rep.dropped["unmatched_key"] == 169  # other terminal/airport spellings
    counts = run.sources["policia"].data.groupby("zone_id")["weight"].sum()
    sdscj = pd.read_csv(shared_data / "bogota" / "dai_upz_2018_2021_attributes.csv", dtype={"LocCodigo": str})
    sdscj = sdscj.groupby("LocCodigo")["CMHP19CONT"].sum()
    # city totals agree within 1 % (0.1 % here) …
    assert abs(counts.sum() / sdscj.sum() - 1) < 0.01
    # … and per localidad the two sources mostly agree: station areas are not exactly localidades
    rel = (counts.reindex(sdscj.index) / sdscj - 1).abs()
    assert rel.median() < 0.05 and (rel < 0.10).sum() >= 17


def test_medellin_homicides_assigned_to_comunas(shared_data):
    zones = load_zones(shared_data / "medellin" / "medellin_comunas.gpkg", id="COMUNA", name="NOMBRE")
    recs = load_points(shared_data / "medellin" / "medellin_homicides.csv", category="modalidad", offsets="drop")
    placed = attach(recs, zones)
    rep = placed.report
    assert rep.n_read == 9360 and rep.dropped["missing_coordinates"] == 81
    assert rep.n_kept == len(placed.data) == 9360 - 81 - rep.dropped.get("outside_study_area", 0)
    # the peer: geopandas' spatial join gives the same comuna for every point
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(recs.data["x"], recs.data["y"]), crs="EPSG:4326")
    joined = gpd.sjoin(pts, zones.frame[["zone_id", "geometry"]], predicate="intersects", how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    assert (joined["zone_id"].notna()).sum() == len(placed.data)
    assert set(placed.data.groupby("zone_id").size().items()) == set(joined.groupby("zone_id").size().items())


def test_manifest_replay_reproduces_and_detects_changed_inputs(tmp_path):
    zones = gpd.GeoDataFrame(
        {"cod": ["A", "B", "C"], "pob": [10, 20, 30]},
        geometry=[box(-74.10 + 0.01 * i, 4.60, -74.09 + 0.01 * i, 4.61) for i in range(3)],
        crs="EPSG:4326",
    )
    zones.to_file(tmp_path / "z.geojson")
    (tmp_path / "d.csv").write_text(
        "lat,lon,delito\n4.605,-74.095,Hurto\n4.605,-74.085,Hurto\n4.605,-74.085,Hurto\n4.605,-74.075,Homicidio\n", encoding="utf-8"
    )
    (tmp_path / "c.toml").write_text(
        '[zones]\npath = "z.geojson"\nid = "cod"\npopulation_column = "pob"\n'
        '[sources.d]\npath = "d.csv"\n'
        '[index]\nweighting = "harm"\n'
        "[robustness]\ndraws = 100\n"
        '[output]\ndir = "out"\n'
        '[[indicators]]\nname = "hurto"\nsource = "d"\ncategories = ["hurto"]\nmeasure = "rate"\n'
        '[[indicators]]\nname = "homicidio"\nsource = "d"\ncategories = ["homicidio"]\n',
        encoding="utf-8",
    )
    run = run_index(load_config(tmp_path / "c.toml"))
    written = run.write()
    m = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert {Path(i["path"]).name for i in m["inputs"]} == {"z.geojson", "d.csv"}
    assert m["parameters"]["weights_used"] == {"hurto": pytest.approx(32 / 240), "homicidio": pytest.approx(208 / 240)}
    replay = replay_manifest(tmp_path / "out" / "manifest.json", out_dir=tmp_path / "again")
    assert replay.different == [] and "indice_zona.csv" in replay.identical
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again" / "indice_zona.csv"), pd.read_csv(written.files[0]))
    (tmp_path / "d.csv").write_text("lat,lon,delito\n4.605,-74.095,Hurto\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="d.csv: changed since the run"):
        replay_manifest(tmp_path / "out" / "manifest.json")


def test_failed_write_leaves_no_half_file(tmp_path, monkeypatch):
    from geoprio.io import files as io

    target = tmp_path / "out.csv"
    target.write_text("old,content\n", encoding="utf-8")

    def boom(self, *a, **k):
        with open(a[0], "w", encoding="utf-8") as fh:
            fh.write("half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        io.write_table(pd.DataFrame({"a": [1]}), target)
    assert target.read_text(encoding="utf-8") == "old,content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
