"""The gazetteer path: records that only name a place, matched to a layer of places and located.

Hand-made cases (accents, patterns, names several places share, groups, aliases, seeded
spread within polygons), the written points read back as approximate, configured sources,
the CLI, and the real files: Bogotá's police thefts against the 1,193 barrio centroids and
San Cristóbal's cadastral polygons.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box
from typer.testing import CliRunner

from geoprio.cli import app
from geoprio.errors import ColumnError, ConfigError, InputError
from geoprio.index import load_config, load_source, run_index
from geoprio.records import (
    APPROXIMATE_COLUMN,
    GazetteerConfig,
    PlaceMatch,
    geocode,
    load_gazetteer,
    load_keyed,
    load_points,
    match_places,
    normalize_names,
)

runner = CliRunner()
POLICE_PATTERN = r"^(.*?)\s*E-\d+\s*$"


def _points_layer() -> gpd.GeoDataFrame:
    """Four places; "San José" twice (localidades 1 and 2), "Chicó Lago" with its accent."""
    return gpd.GeoDataFrame(
        {
            "codigo": ["001", "002", "003", "004"],
            "nombre": ["Chicó Lago", "SAN JOSÉ", "San José", "Las Nieves"],
            "loc": ["01", "01", "02", "03"],
        },
        geometry=[Point(-74.05, 4.67), Point(-74.07, 4.60), Point(-74.10, 4.58), Point(-74.08, 4.61)],
        crs="EPSG:4326",
    )


def _records(keys: list[str], **extra: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"fecha": ["2019-01-01"] * len(keys), "barrio": keys, **extra})


# --------------------------------------------------------------------------- matching


def test_names_fold_accents_case_punctuation_and_leading_zeros():
    got = normalize_names(pd.Series(["  Chicó   Lago ", "CHICO-LAGO", "08", "Ñ", None], dtype="string"))
    assert got.tolist()[:4] == ["chico lago", "chico lago", "8", "n"] and pd.isna(got.iloc[4])


def test_accents_pattern_ambiguous_and_unmatched_are_reported():
    gz = load_gazetteer(_points_layer(), name="nombre", id="codigo", group="loc")
    keys = pd.Series(["CHICO LAGO E-2", "chicó lago E-2", "SAN JOSE E-1", "LAS NIEVES E-3", "NARNIA E-9", "NARNIA E-9", "ATLANTIS"])
    place, m = match_places(keys, gz, pattern=POLICE_PATTERN)
    assert place.tolist() == [0, 0, -2, 3, -1, -1, -1]
    assert (m.n_records, m.matched, m.unmatched, m.ambiguous) == (7, 3, 3, 1)
    assert m.rate == pytest.approx(3 / 7)
    assert m.unmatched_names == {"NARNIA": 2, "ATLANTIS": 1}  # names as the pattern extracts them; no pattern match = the whole key
    assert m.ambiguous_names == {"SAN JOSE": 1} and m.ambiguous_places == {"SAN JOSE": 2}


def test_a_group_settles_names_several_places_share():
    gz = load_gazetteer(_points_layer(), name="nombre", id="codigo", group="loc")
    keys = pd.Series(["SAN JOSE E-1", "SAN JOSE E-2", "SAN JOSE E-7", "LAS NIEVES E-9"])
    groups = pd.Series(["01", "2", "07", "09"])  # leading zeros do not matter
    place, m = match_places(keys, gz, pattern=POLICE_PATTERN, groups=groups)
    # a name one place has matches whatever the group; the group only chooses among several places
    assert place.tolist() == [1, 2, -2, 3]
    assert m.by_group == 2 and m.matched == 3 and m.ambiguous == 1


def test_aliases_fuzzy_and_weights():
    gz = load_gazetteer(_points_layer(), name="nombre", id="codigo")
    keys = pd.Series(["LA NIEVES", "CHICO LAGOO", "EL LAGO"])
    place, m = match_places(keys, gz, weights=pd.Series([2.0, 1.0, 1.0]))
    assert place.tolist() == [-1, -1, -1]  # fuzzy is off by default: a wrong place is worse than none
    place, m = match_places(keys, gz, aliases={"el lago": "Chicó Lago"}, fuzzy=0.9, weights=pd.Series([2.0, 1.0, 1.0]))
    assert place.tolist() == [3, 0, 0] and m.fuzzy == 2 and m.weighted_rate == 1.0
    with pytest.raises(InputError, match="alias 'x' → 'Nowhere': no place of <GeoDataFrame> has that name"):
        match_places(keys, gz, aliases={"x": "Nowhere"})
    with pytest.raises(InputError, match="needs one capturing group"):
        match_places(keys, gz, pattern=r"E-\d+")


def test_layer_errors_name_the_column_and_the_problem():
    with pytest.raises(ColumnError, match=r"column 'nombres' \(place name\) not found.*nombre"):
        load_gazetteer(_points_layer(), name="nombres")
    mixed = gpd.GeoDataFrame({"n": ["a", "b"]}, geometry=[Point(0, 0), box(0, 0, 1, 1)], crs="EPSG:4326")
    with pytest.raises(InputError, match="points and polygons mixed"):
        load_gazetteer(mixed, name="n")
    unnamed = gpd.GeoDataFrame({"n": [None, "b"]}, geometry=[Point(0, 0), None], crs="EPSG:4326")
    with pytest.raises(InputError, match="no place with a name and a geometry"):
        load_gazetteer(unnamed, name="n")


def test_projected_layer_is_returned_in_degrees():
    metric = _points_layer().to_crs("EPSG:9377")
    gz = load_gazetteer(metric, name="nombre")
    assert gz.frame.crs.to_epsg() == 4326
    assert gz.frame.geometry.x.iloc[0] == pytest.approx(-74.05, abs=1e-9)


# --------------------------------------------------------------------------- placing


def test_point_layer_places_each_record_at_its_place_marked_approximate():
    records = load_keyed(_records(["Chicó Lago", "LAS NIEVES", "San José", "Narnia"], n=[1, 3, 1, 1]), key="barrio", count="n")
    g = geocode(records, load_gazetteer(_points_layer(), name="nombre", id="codigo"))
    d = g.records.data
    assert g.records.layout == "points" and len(d) == 2
    assert d[["x", "y"]].to_numpy().tolist() == [[-74.05, 4.67], [-74.08, 4.61]]
    assert d["place_id"].tolist() == ["001", "004"] and d["weight"].tolist() == [1.0, 3.0]
    assert d[APPROXIMATE_COLUMN].all() and set(d["location_method"]) == {"place_point"}
    assert g.records.report.dropped == {"unmatched_place": 1, "ambiguous_place": 1}  # Narnia, and the ambiguous San José
    assert g.match.weighted_rate == pytest.approx(4 / 6)
    assert g.records.report.settings["gazetteer"]["matched"] == 2
    with pytest.raises(InputError, match="this layer holds points"):
        geocode(records, load_gazetteer(_points_layer(), name="nombre"), method="spread")


def _polygons() -> gpd.GeoDataFrame:
    """An L-shaped barrio (its bounding box is not inside it) and a small square."""
    ell = shapely.union(box(-74.10, 4.60, -74.09, 4.62), box(-74.10, 4.60, -74.07, 4.61))
    return gpd.GeoDataFrame({"nombre": ["La Ele", "El Cuadro"]}, geometry=[ell, box(-74.05, 4.65, -74.049, 4.651)], crs="EPSG:4326")


def test_spread_within_polygons_stays_inside_and_is_reproducible():
    keys = ["La Ele"] * 300 + ["El Cuadro"] * 40
    records = load_keyed(_records(keys), key="barrio")
    gz = load_gazetteer(_polygons(), name="nombre")
    a = geocode(records, gz, seed=7).records.data
    b = geocode(records, gz, seed=7).records.data
    c = geocode(records, gz, seed=8).records.data
    assert np.array_equal(a[["x", "y"]].to_numpy(), b[["x", "y"]].to_numpy())  # same seed, same points
    assert not np.array_equal(a[["x", "y"]].to_numpy(), c[["x", "y"]].to_numpy())
    geoms = gz.frame.geometry.to_numpy()[np.where(a["place_name"] == "La Ele", 0, 1)]
    assert shapely.contains_xy(geoms, a["x"].to_numpy(), a["y"].to_numpy()).all()
    assert set(a["location_method"]) == {"polygon_spread"}
    # spread, not piled up: the L's two arms both get points, in proportion to their areas (2:2 of 4 cells)
    in_east_arm = (a["place_name"] == "La Ele") & (a["x"] > -74.09)
    assert 0.35 < in_east_arm.sum() / 300 < 0.65
    # a polygon's points depend on its own records only: fewer records elsewhere move nothing
    fewer = geocode(load_keyed(_records(["La Ele"] * 300 + ["El Cuadro"] * 5), key="barrio"), gz, seed=7).records.data
    ele = a["place_name"] == "La Ele"
    assert np.array_equal(fewer.loc[fewer["place_name"] == "La Ele", ["x", "y"]].to_numpy(), a.loc[ele, ["x", "y"]].to_numpy())


def test_point_method_puts_records_at_one_point_inside_the_polygon():
    records = load_keyed(_records(["La Ele"] * 3), key="barrio")
    gz = load_gazetteer(_polygons(), name="nombre")
    d = geocode(records, gz, method="point").records.data
    assert d[["x", "y"]].drop_duplicates().shape[0] == 1
    assert shapely.contains_xy(gz.frame.geometry.iloc[0], d["x"].to_numpy(), d["y"].to_numpy()).all()
    assert set(d["location_method"]) == {"polygon_point"}


def test_nothing_matched_is_an_error_that_lists_names():
    records = load_keyed(_records(["Narnia", "Atlantis"]), key="barrio")
    with pytest.raises(InputError, match=r"none of 2 place names matches a place of <GeoDataFrame> \(most frequent: NARNIA, ATLANTIS\)"):
        geocode(records, load_gazetteer(_points_layer(), name="nombre"))


def test_written_points_are_read_back_as_approximate(tmp_path):
    frame = _records(["Chicó Lago", "Las Nieves"], hora=["20:00", "21:00"], delito=["Hurto", "Hurto"], zona=["U", "R"])
    records = load_keyed(frame, key="barrio", keep=["zona"])
    g = geocode(records, load_gazetteer(_points_layer(), name="nombre", id="codigo"))
    path = g.write(tmp_path / "puntos.csv")
    back = load_points(path)
    assert len(back) == 2 and back.data[APPROXIMATE_COLUMN].all()
    assert back.data["hour"].tolist() == [20, 21] and back.data["category"].tolist() == ["Hurto", "Hurto"]
    assert back.report.settings["approximate"] == {"records": 2, "methods": {"place_point": 2}}
    assert pd.read_csv(path)["zona"].tolist() == ["U", "R"]  # kept source columns follow
    layer = gpd.read_file(g.write(tmp_path / "puntos.geojson"))
    assert layer.geometry.x.round(6).tolist() == [-74.05, -74.08] and layer[APPROXIMATE_COLUMN].all()


# --------------------------------------------------------------------------- configured sources


def test_a_configured_source_with_a_gazetteer_is_points(tmp_path):
    _points_layer().to_file(tmp_path / "barrios.geojson")
    _records(["Chicó Lago", "Las Nieves", "Las Nieves", "Narnia"]).to_csv(tmp_path / "hurtos.csv", index=False)
    zones = gpd.GeoDataFrame({"cod": ["N", "S"]}, geometry=[box(-74.2, 4.62, -74.0, 4.8), box(-74.2, 4.5, -74.0, 4.62)], crs="EPSG:4326")
    zones.to_file(tmp_path / "z.geojson")
    (tmp_path / "c.toml").write_text(
        textwrap.dedent(
            """
            [zones]
            path = "z.geojson"
            id = "cod"

            [sources.hurtos]
            path = "hurtos.csv"
            key = "barrio"
            gazetteer = { path = "barrios.geojson", name = "nombre", id = "codigo" }

            [[indicators]]
            name = "hurtos"
            source = "hurtos"
            weight = 1
            """
        ),
        encoding="utf-8",
    )
    cfg = load_config(tmp_path / "c.toml")
    src = cfg.sources["hurtos"]
    assert src.layout == "points" and src.gazetteer.path == (tmp_path / "barrios.geojson").resolve()
    assert (tmp_path / "barrios.geojson").resolve() in cfg.input_paths()  # so a manifest checks it
    loaded = load_source("hurtos", src)
    assert loaded.layout == "points" and loaded.data[APPROXIMATE_COLUMN].all() and len(loaded) == 3
    run = run_index(cfg)
    assert run.table.set_index("zone_id")["hurtos"].to_dict() == {"N": 1.0, "S": 2.0}
    missing = src.model_copy(update={"gazetteer": src.gazetteer.model_copy(update={"path": tmp_path / "no.geojson"})})
    with pytest.raises(InputError, match=r"^sources\.hurtos\.gazetteer\.path: "):
        load_source("hurtos", missing)


def test_gazetteer_needs_a_key():
    from geoprio.index.config import SourceConfig
    from geoprio.options import validated

    with pytest.raises(ConfigError, match="gazetteer locates records that name a place: give key"):
        validated(SourceConfig, {"path": "a.csv", "gazetteer": {"path": "b.geojson", "name": "n"}}, source="t")
    assert GazetteerConfig(path=Path("b.geojson"), name="n").resolved(Path("/d")).path == Path("/d/b.geojson")


# --------------------------------------------------------------------------- the command line


def test_cli_validate_reports_the_match_and_geocode_writes_points(tmp_path):
    _points_layer().to_file(tmp_path / "barrios.geojson")
    _records(["CHICO LAGO E-2", "LAS NIEVES E-3", "SAN JOSE E-1", "NARNIA E-9"]).to_csv(tmp_path / "hurtos.csv", index=False)
    common = ["--key", "barrio", "--key-pattern", POLICE_PATTERN, "--gazetteer", str(tmp_path / "barrios.geojson"), "--place-key", "nombre"]
    r = runner.invoke(app, ["validate", str(tmp_path / "hurtos.csv"), *common, "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "hurtos.csv: 2 of 4 rows used" in r.output
    assert "located: 2 of 4 records (50.0%; 50.0% of the count)" in r.output
    assert "the most frequent: NARNIA (1)" in r.output and "SAN JOSE (1; 2 places)" in r.output
    r = runner.invoke(
        app, ["geocode", str(tmp_path / "hurtos.csv"), *common, "--out", str(tmp_path / "p.csv"), "--json", str(tmp_path / "r.json")]
    )
    assert r.exit_code == 0, r.output
    assert "ubicados: 2 de 4 registros" in r.output and "puntos aproximados escritos" in r.output
    assert pd.read_csv(tmp_path / "p.csv")["place_name"].tolist() == ["Chicó Lago", "Las Nieves"]
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["settings"]["gazetteer"]["ambiguous"] == 1
    r = runner.invoke(app, ["validate", str(tmp_path / "p.csv"), "--lang", "en"])
    assert r.exit_code == 0 and "approximate location: 2 points located by place name (place_point 2)" in r.output
    r = runner.invoke(app, ["validate", str(tmp_path / "hurtos.csv"), "--key", "barrio", "--gazetteer", str(tmp_path / "barrios.geojson")])
    assert r.exit_code == 1 and "--gazetteer needs --place-key" in r.output


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def bogota_thefts(shared_data):
    return load_keyed(shared_data / "bogota" / "ponal_hurto_personas_bogota_2019.csv.gz", key="Barrio", keep=["estacion_policia"])


def test_bogota_police_thefts_against_the_barrio_centroids(shared_data, bogota_thefts):
    """The issue's 69 % is the share of records whose name is in the layer: 62.1 % name one
    barrio (located) and 7.2 % a name two to four barrios share (not located without a group).
    """
    records = bogota_thefts
    assert len(records) == 126_686  # 126,687 rows, one with barrio '-'
    gz = load_gazetteer(shared_data / "bogota" / "barrios_centroides_1193.geojson", name="nombre", id="codigo")
    g = geocode(records, gz, pattern=POLICE_PATTERN)
    m = g.match
    assert (m.matched, m.ambiguous, m.unmatched) == (78_712, 9_112, 38_862)
    assert m.rate == pytest.approx(0.6213, abs=1e-4)
    assert (m.matched + m.ambiguous) / m.n_records == pytest.approx(0.6932, abs=1e-4)  # the 69 %
    assert list(m.unmatched_names)[:3] == ["PATIO BONITO I", "CIUDAD SALITRE II", "CHICO I"]
    assert m.ambiguous_places["LAS MARGARITAS"] == 4
    assert len(g.records) == 78_712 and g.records.data[APPROXIMATE_COLUMN].all()
    assert g.records.report.n_kept == 78_712  # rows used are rows located


def test_bogota_station_numbers_settle_shared_names(shared_data, bogota_thefts):
    """The police station number (E-n) is the localidad code: with the localidad of each
    centroid (a spatial join), 5,553 records of shared names find their barrio; and 95 % of
    the records located by name alone sit in their station's localidad (a check of the names).
    """
    centroids = gpd.read_file(shared_data / "bogota" / "barrios_centroides_1193.geojson")
    localidades = gpd.read_file(shared_data / "bogota" / "localidades_sdp.geojson").to_crs(4326)
    joined = gpd.sjoin(centroids, localidades[["LocCodigo", "geometry"]], how="left", predicate="within").drop(columns="index_right")
    gz = load_gazetteer(joined, name="nombre", id="codigo", group="LocCodigo", source="centroides")
    g = geocode(bogota_thefts, gz, pattern=POLICE_PATTERN, group="estacion_policia")
    m = g.match
    assert m.by_group == 5_553 and m.matched == 78_712 + 5_553 and m.ambiguous == 9_112 - 5_553
    d = g.records.data
    by_name = gz.frame.set_index("place_id")["group"].reindex(d["place_id"]).to_numpy()
    agree = by_name == normalize_names(d["estacion_policia"]).to_numpy()
    assert agree.mean() == pytest.approx(0.9508, abs=1e-3)


def test_san_cristobal_thefts_spread_within_real_cadastral_polygons(shared_data, bogota_thefts):
    """Station 4 (San Cristóbal) against its 106 cadastral sectors, one of them invalid (repaired)."""
    e4 = bogota_thefts.data["key"].str.endswith("E-4").fillna(False).to_numpy()
    records = type(bogota_thefts)(data=bogota_thefts.data.loc[e4].reset_index(drop=True), report=bogota_thefts.report, layout="keyed")
    gz = load_gazetteer(shared_data / "bogota" / "barrios_sectorcatastral_sancristobal.geojson", name="SCANOMBRE", id="SCACODIGO")
    assert gz.kind == "polygon" and gz.report.corrected == {"repaired_geometry": 1}
    g = geocode(records, gz, pattern=POLICE_PATTERN, seed=3)
    assert g.match.n_records == 2_785 and g.match.matched == 1_691
    d = g.records.data
    polys = gz.frame.set_index("place_id").geometry.reindex(d["place_id"]).to_numpy()
    assert shapely.contains_xy(polys, d["x"].to_numpy(), d["y"].to_numpy()).all()
    again = geocode(records, gz, pattern=POLICE_PATTERN, seed=3).records.data
    assert np.array_equal(again[["x", "y"]].to_numpy(), d[["x", "y"]].to_numpy())


def test_match_report_round_trips_as_plain_data():
    gz = load_gazetteer(_points_layer(), name="nombre")
    _place, m = match_places(pd.Series(["San José", "Las Nieves"]), gz)
    assert PlaceMatch.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_entornos_take_a_source_located_through_a_gazetteer(tmp_path):
    from geoprio.entornos.run import load_entornos_config, run_entornos

    _points_layer().to_file(tmp_path / "barrios.geojson")
    gpd.GeoDataFrame(
        {"codigo": ["P", "Q"], "tipo": ["cai", "cai"]}, geometry=[Point(-74.0501, 4.6701), Point(-74.0801, 4.6101)], crs="EPSG:4326"
    ).to_file(tmp_path / "lugares.geojson")
    _records(["Chicó Lago"] * 3 + ["Las Nieves", "Narnia"]).to_csv(tmp_path / "hurtos.csv", index=False)
    (tmp_path / "e.toml").write_text(
        textwrap.dedent(
            """
            [places]
            path = "lugares.geojson"
            type = "tipo"
            id = "codigo"
            radius_m = 100

            [sources.hurtos]
            path = "hurtos.csv"
            key = "barrio"
            gazetteer = { path = "barrios.geojson", name = "nombre" }

            [[indicators]]
            name = "hurtos"
            source = "hurtos"
            weight = 1
            """
        ),
        encoding="utf-8",
    )
    run = run_entornos(load_entornos_config(tmp_path / "e.toml"))
    assert run.table.set_index("place_id")["hurtos"].to_dict() == {"P": 3.0, "Q": 1.0}
    assert run.notes["approximate_locations"] == {"hurtos": 4}
    assert run.sources["hurtos"].report.settings["gazetteer"]["unmatched"] == 1


def test_cli_geocode_on_polygons_spreads_with_the_seed(tmp_path):
    _polygons().to_file(tmp_path / "barrios.geojson")
    _records(["La Ele"] * 20 + ["El Cuadro"] * 5).to_csv(tmp_path / "hurtos.csv", index=False)
    base = ["geocode", str(tmp_path / "hurtos.csv"), "--key", "barrio", "--gazetteer", str(tmp_path / "barrios.geojson")]
    base += ["--place-key", "nombre"]
    r = runner.invoke(app, [*base, "--seed", "5", "--out", str(tmp_path / "a.geojson"), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "spread at random within their polygon (seed 5, reproducible)" in r.output
    r = runner.invoke(app, [*base, "--seed", "5", "--out", str(tmp_path / "b.geojson")])
    a, b = gpd.read_file(tmp_path / "a.geojson"), gpd.read_file(tmp_path / "b.geojson")
    assert len(a) == 25 and a.geometry.equals(b.geometry)
    r = runner.invoke(app, [*base, "--location-method", "point"])
    assert r.exit_code == 0 and "un punto interior de su polígono" in r.output and "Nada escrito: dé --out ARCHIVO" in r.output
    r = runner.invoke(app, [*base, "--location-method", "centroide"])
    assert r.exit_code == 1 and "gazetteer.method" in r.output and "Traceback" not in r.output
