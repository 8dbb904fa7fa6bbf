"""Places and their influence areas: counts at the radius edge, overlap rules, surroundings."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from scipy import stats

from geoprio.entornos.places import incident_pairs, load_places, surroundings
from geoprio.errors import ColumnError, ConfigError, CRSError, InputError

METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_075_000.0  # Bogotá in MAGNA-SIRGAS Origen-Nacional
TO_WGS = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)


def lonlat(dx, dy):
    """Incident coordinates given as metric offsets from (X0, Y0)."""
    return TO_WGS.transform(X0 + np.asarray(dx, float), Y0 + np.asarray(dy, float))


def places_frame(geoms, types=None, ids=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"codigo": ids or [f"P{i}" for i in range(n)], "nombre": [f"Lugar {i}" for i in range(n)], "tipo": types or ["estación"] * n},
        geometry=list(geoms),
        crs=METRIC,
    )


def test_counts_at_the_radius_edge_for_points_lines_and_polygons():
    point = shapely.Point(X0, Y0)
    line = shapely.LineString([(X0 + 1000, Y0), (X0 + 1400, Y0)])
    poly = shapely.box(X0 + 3000, Y0, X0 + 3200, Y0 + 200)
    places = load_places(places_frame([point, line, poly], types=["estación", "calle", "parque"]), type="tipo", id="codigo", name="nombre")
    # point: 99.99 m in, 100.01 m out (any direction); line: measured from the segment,
    # including beyond its end; polygon: from its edge, and inside counts with distance 0
    dx = [99.99, 0, -70.71, 100.01, 1200, 1200, 1400 + 99.99, 1400 + 100.01, 3100, 3100, 3200 + 99.99, 3200 + 100.02]
    dy = [0, -99.99, 70.70, 0, 99.99, -100.01, 0, 0, 100, 300 + 0.0, 100, 100]
    x, y = lonlat(dx, dy)
    pairs = incident_pairs(places, x, y)
    got = dict(zip(pairs["incident"], pairs["place"], strict=True))
    assert got == {0: 0, 1: 0, 2: 0, 4: 1, 6: 1, 8: 2, 9: 2, 10: 2}
    d = dict(zip(pairs["incident"], pairs["distance_m"], strict=True))
    assert d[0] == pytest.approx(99.99, abs=1e-6) and d[8] == 0.0 and d[9] == pytest.approx(100.0, abs=1e-6)


def test_radius_per_type_and_the_default():
    places = load_places(
        places_frame([shapely.Point(X0, Y0), shapely.Point(X0 + 5000, Y0)], types=["colegio", "parque"]),
        type="tipo",
        radius_m={"colegio": 200},
        default_radius_m=50,
    )
    assert places.frame["radius_m"].tolist() == [200.0, 50.0]
    x, y = lonlat([150, 5000 + 60, 5000 + 40], [0, 0, 0])
    pairs = incident_pairs(places, x, y)
    assert list(zip(pairs["incident"], pairs["place"], strict=True)) == [(0, 0), (2, 1)]


def test_overlapping_places_all_or_nearest():
    a, b = shapely.Point(X0, Y0), shapely.Point(X0 + 150, Y0)
    places = load_places(places_frame([a, b]), type="tipo")
    # incident 0 is 75 m from both (tie: the place listed first), 1 is 60 m from A and 90 m from B,
    # 2 is 40 m from B and 190 m from A, 3 is near neither
    x, y = lonlat([75, 60, 190, 400], [0, 0, 0, 0])
    both = incident_pairs(places, x, y, overlap="all")
    assert list(zip(both["incident"], both["place"], strict=True)) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1)]
    nearest = incident_pairs(places, x, y, overlap="nearest")
    assert list(zip(nearest["incident"], nearest["place"], strict=True)) == [(0, 0), (1, 0), (2, 1)]
    assert np.bincount(nearest["place"], minlength=2).sum() == 3  # totals add up to the incidents near any place
    with pytest.raises(ConfigError, match="overlap must be 'all' or 'nearest'"):
        incident_pairs(places, x, y, overlap="closest")  # type: ignore[arg-type]


def test_agrees_with_geopandas_dwithin_join():
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 3000, size=(40, 2))
    places = load_places(places_frame(shapely.points(X0 + centres[:, 0], Y0 + centres[:, 1])), type="tipo", radius_m=120)
    pts = rng.uniform(-200, 3200, size=(5000, 2))
    x, y = lonlat(pts[:, 0], pts[:, 1])
    ours = incident_pairs(places, x, y)
    incidents = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:4326").to_crs(METRIC)
    peer = gpd.sjoin(incidents, places.frame.to_crs(METRIC), predicate="dwithin", distance=120)
    assert sorted(zip(ours["incident"], ours["place"], strict=True)) == sorted(zip(peer.index, peer["index_right"], strict=True))


def test_surroundings_against_hand_computation():
    places = load_places(places_frame([shapely.Point(X0, Y0)]), type="tipo", radius_m=100)
    # 3 incidents inside (one weighs 2), 1 in the ring 100–300 m, 1 beyond
    x, y = lonlat([10, -50, 0, 200, 400], [0, 0, 80, 0, 0])
    s = surroundings(places, x, y, np.array([1, 2, 1, 1, 1.0]), ring_width_m=200)
    row = s.table.iloc[0]
    a_in, a_ring = math.pi * 0.1**2, math.pi * (0.3**2 - 0.1**2)
    assert row["records_in"] == 3 and row["records_ring"] == 1 and row["incidents_in"] == 4
    assert row["area_in_km2"] == pytest.approx(a_in, rel=2e-3) and row["area_ring_km2"] == pytest.approx(a_ring, rel=2e-3)
    assert row["ratio_ring"] == pytest.approx((4 / a_in) / (1 / a_ring), rel=2e-3)  # 32
    assert row["p_value_ring"] == pytest.approx(stats.binom.sf(2, 4, 1 / 9), rel=1e-2)
    assert row["pattern"] == "atrae"
    # a place whose density matches its ring reflects its area
    even = surroundings(places, *lonlat([0, 150, -150, 0, 0, 150, -150, 200, -200], [0, 0, 0, 150, -150, 150, -150, 200, -200]))
    assert even.table.iloc[0]["pattern"] == "refleja su zona"
    empty = surroundings(places, *lonlat([1000], [0]), lang="en")
    assert empty.table.iloc[0]["pattern"] == "no incidents" and np.isnan(empty.table.iloc[0]["ratio_ring"])
    with pytest.raises(ConfigError, match="ring_width_m must be a positive"):
        surroundings(places, x, y, ring_width_m=0)


def test_place_layer_errors_name_the_problem(tmp_path):
    frame = places_frame([shapely.Point(X0, Y0), shapely.Point(X0 + 10, Y0)])
    with pytest.raises(ColumnError, match="column 'clase' \\(place type\\) not found"):
        load_places(frame, type="clase")
    with pytest.raises(ConfigError, match="exactly one of the two"):
        load_places(frame)
    schools = load_places(frame.drop(columns="tipo"), type_value="colegio", radius_m={"colegio": 200})
    assert schools.frame["type"].tolist() == ["colegio", "colegio"] and schools.frame["radius_m"].tolist() == [200.0, 200.0]
    with pytest.raises(ConfigError, match="radius_m must be a positive number of metres, got 0"):
        load_places(frame, type="tipo", radius_m=0)
    with pytest.raises(ConfigError, match="radius_m for type 'estación' must be a positive"):
        load_places(frame, type="tipo", radius_m={"estación": -5})
    with pytest.raises(ConfigError, match="radius_m names types that no place has: \\['parque'\\]"):
        load_places(frame, type="tipo", radius_m={"parque": 50})
    with pytest.raises(InputError, match="place id 'A' in column 'codigo' appears in features 1, 2"):
        load_places(places_frame([shapely.Point(X0, Y0)] * 2, ids=["A", "A"]), type="tipo", id="codigo")
    with pytest.raises(ConfigError, match="types \\['colegio'\\] not found"):
        load_places(frame, type="tipo", types=["colegio"])
    with pytest.raises(CRSError, match="no CRS"):
        load_places(frame.set_crs(None, allow_override=True), type="tipo")
    bad = frame.copy()
    bad.loc[1, "tipo"] = None
    with pytest.raises(InputError, match="feature 2, column 'tipo': empty place type"):
        load_places(bad, type="tipo")
    csv = tmp_path / "lugares.csv"
    csv.write_text("nombre;tipo;x;y\nA;parque;-74,08;4,6\nB;parque;;4,61\n", encoding="latin-1")
    with pytest.raises(InputError, match="lugares.csv: row 3, column 'x'"):
        load_places(csv, type="tipo")


def test_places_from_a_semicolon_csv_and_as_zones(tmp_path):
    csv = tmp_path / "estaciones.csv"
    csv.write_text("nombre;tipo;x;y\nEstación Ñuñoa;troncal;-74,08;4,6\nParque Núñez;parque;-74,07;4,61\n", encoding="latin-1")
    places = load_places(csv, type="tipo", name="nombre", radius_m={"troncal": 150})
    assert places.frame["name"].tolist() == ["Estación Ñuñoa", "Parque Núñez"]
    assert places.frame["place_id"].tolist() == ["1", "2"]
    zones = places.as_zones()
    assert zones.level == "entorno" and zones.frame["zone_id"].tolist() == ["1", "2"]
    assert zones.frame["area_km2"].to_numpy() == pytest.approx([math.pi * 0.15**2, math.pi * 0.1**2], rel=2e-3)
    assert pd.isna(zones.frame["population"]).all()
    gz = tmp_path / "estaciones.csv.gz"
    import gzip

    gz.write_bytes(gzip.compress(csv.read_bytes()))
    assert load_places(gz, type="tipo").frame["type"].tolist() == ["troncal", "parque"]
