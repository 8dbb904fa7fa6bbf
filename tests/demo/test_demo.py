"""Tests of the synthetic demo city (geoprio.demo): generator, written files and configuration resources."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal

from geoprio.demo.city import (
    CATEGORY_SHARES,
    COMPORTAMIENTOS,
    DemoCity,
    make_demo_city,
)
from geoprio.errors import ConfigError, CRSError
from geoprio.records.text import fold

METRIC = "EPSG:9377"
N = 5_000

GEO_FIELDS = ("localidades", "upz", "costa", "playas", "garitas", "camaras", "hotspot_centers")
TABLE_FIELDS = ("poblacion", "delitos", "quejas", "convivencia")


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return make_demo_city(n_incidents=N)


@pytest.fixture(scope="module")
def city_default() -> DemoCity:
    return make_demo_city()


def _union(city: DemoCity) -> shapely.Geometry:
    return shapely.union_all(city.upz.geometry.to_numpy())


def _metric_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC)
    return pts.x.to_numpy(), pts.y.to_numpy()


def _clean_incidents(city: DemoCity) -> pd.DataFrame:
    dirty = set()
    for key, rows in city.planted_rows.items():
        if key != "quejas_upz_unmatched":
            dirty.update(rows)
    return city.delitos.drop(index=sorted(dirty))


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_frames() -> None:
    a = make_demo_city(7, n_incidents=1_500)
    b = make_demo_city(7, n_incidents=1_500)
    for name in GEO_FIELDS:
        assert_geodataframe_equal(getattr(a, name), getattr(b, name))
    for name in TABLE_FIELDS:
        assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.planted == b.planted
    assert a.planted_rows == b.planted_rows


def test_different_seed_gives_different_city() -> None:
    a = make_demo_city(7, n_incidents=1_500)
    b = make_demo_city(8, n_incidents=1_500)
    assert not a.delitos.equals(b.delitos)
    assert not a.upz.geometry.geom_equals(b.upz.geometry).all()
    assert not a.poblacion.equals(b.poblacion)


def test_geography_does_not_depend_on_incident_count(city: DemoCity) -> None:
    small = make_demo_city(n_incidents=300)
    assert_geodataframe_equal(small.upz, city.upz)
    assert_frame_equal(small.poblacion, city.poblacion)
    assert_geodataframe_equal(small.hotspot_centers, city.hotspot_centers)


# ----------------------------------------------------------------------------- geography


def test_layers_are_in_wgs84_with_expected_columns(city: DemoCity) -> None:
    for name in GEO_FIELDS:
        layer = getattr(city, name)
        assert isinstance(layer, gpd.GeoDataFrame), name
        assert layer.crs is not None and layer.crs.to_epsg() == 4326, name
        assert layer.geometry.is_valid.all(), name
    assert list(city.localidades.columns) == ["cod_localidad", "nombre", "geometry"]
    assert list(city.upz.columns) == ["cod_upz", "nombre", "cod_localidad", "geometry"]
    assert list(city.poblacion.columns) == ["cod_upz", "nombre_upz", "poblacion", "poblacion_flotante"]
    assert set(city.costa.geom_type) <= {"LineString", "MultiLineString"}
    assert set(city.playas.geom_type) == {"Polygon"}
    assert set(city.garitas.geom_type) == {"Point"}
    assert set(city.camaras.geom_type) == {"Point"}


def test_city_location_and_size(city: DemoCity) -> None:
    land = _union(city)
    lon, lat = land.centroid.x, land.centroid.y
    assert -75.56 < lon < -75.44 and 10.34 < lat < 10.46
    m = gpd.GeoSeries([land], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    minx, miny, maxx, maxy = m.bounds
    assert 13_000 < maxy - miny < 15_500  # north-south
    assert 9_000 < maxx - minx < 12_000  # west-east
    assert 100e6 < m.area < 160e6
    assert m.area < 0.97 * (maxx - minx) * (maxy - miny)  # not a rectangle


def test_codes_and_names(city: DemoCity) -> None:
    loc, upz = city.localidades, city.upz
    assert loc.cod_localidad.tolist() == ["01", "02", "03", "04", "05", "06"]
    assert loc.nombre.is_unique and upz.nombre.is_unique and upz.cod_upz.is_unique
    assert 25 <= len(upz) <= 35
    assert all(re.fullmatch(r"UPZ\d{2}", c) for c in upz.cod_upz)
    assert set(upz.cod_localidad) == set(loc.cod_localidad)
    assert "Centro Histórico" in set(loc.nombre)
    # Spanish names with accents, as published
    assert any(not n.isascii() for n in upz.nombre)
    assert any(not n.isascii() for n in loc.nombre)
    assert upz.nombre.tolist() == city.poblacion.nombre_upz.tolist()
    assert upz.cod_upz.tolist() == city.poblacion.cod_upz.tolist()


def test_upz_nest_exactly_in_localidades(city: DemoCity) -> None:
    upz = city.upz.to_crs(METRIC)
    loc = city.localidades.to_crs(METRIC)
    assert set(city.localidades.geom_type) == {"Polygon"}
    assert set(city.upz.geom_type) == {"Polygon"}
    inter = shapely.area(shapely.intersection(upz.geometry.to_numpy()[:, None], loc.geometry.to_numpy()[None, :]))
    frac = inter / upz.area.to_numpy()[:, None]
    assert ((frac > 1e-6).sum(axis=1) == 1).all()  # within exactly one localidad
    best = frac.argmax(axis=1)
    assert np.allclose(frac.max(axis=1), 1.0, atol=1e-6)
    assert (loc.cod_localidad.to_numpy()[best] == upz.cod_localidad.to_numpy()).all()
    # localidades are exactly the union of their UPZ
    assert np.isclose(loc.area.sum(), upz.area.sum(), rtol=1e-9)


def test_upz_cover_the_land_without_gaps_or_overlaps(city: DemoCity) -> None:
    geoms = city.upz.geometry.to_numpy()
    assert shapely.coverage_is_valid(geoms)
    land = _union(city)
    assert land.geom_type == "Polygon" and len(land.interiors) == 0
    m = city.upz.to_crs(METRIC)
    assert m.area.min() > 1.0e6  # no slivers: every UPZ over 1 km2
    land_m = gpd.GeoSeries([land], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    assert np.isclose(land_m.area, m.area.sum(), rtol=1e-9)
    # the west edge of the land is the coastline
    coast = city.costa.to_crs(METRIC).geometry.iloc[0]
    assert coast.length > 14_000  # wiggly, longer than the 14 km city
    vertices = shapely.points(shapely.get_coordinates(coast))
    assert shapely.distance(land_m.boundary, vertices).max() < 1.0


@pytest.mark.parametrize("seed", [0, 1, 2, 99, 2024])
def test_geometry_is_sound_for_other_seeds(seed: int) -> None:
    c = make_demo_city(seed, n_incidents=400)
    assert c.upz.is_valid.all() and c.localidades.is_valid.all()
    assert set(c.localidades.geom_type) == {"Polygon"}
    assert shapely.coverage_is_valid(c.upz.geometry.to_numpy())
    assert c.upz.groupby("cod_localidad").size().min() >= 2
    pts = shapely.points(_clean_incidents(c)[["longitud", "latitud"]].to_numpy())
    assert shapely.contains(_union(c), pts).all()


def test_populations_are_realistic(city_default: DemoCity) -> None:
    pop = city_default.poblacion
    assert pop.poblacion.dtype == np.int64 and pop.poblacion_flotante.dtype == np.int64
    assert 0.9e6 <= pop.poblacion.sum() <= 1.3e6
    assert pop.poblacion.min() >= 1_500 and pop.poblacion.max() <= 125_000
    low = pop[pop.poblacion < 3_000]
    assert len(low) >= 1
    assert (low.poblacion_flotante > 10 * low.poblacion).all()  # commercial / port
    assert pop.poblacion.max() > 1.8 * pop.poblacion.median()  # skewed
    assert pop.poblacion.mean() > pop.poblacion.median()
    assert (pop.poblacion_flotante > 0).all()


# ----------------------------------------------------------------------------- beaches


def test_beaches_along_the_coast(city_default: DemoCity) -> None:
    coast = city_default.costa.to_crs(METRIC).geometry.iloc[0]
    beaches = city_default.playas.to_crs(METRIC)
    assert 5 <= len(beaches) <= 7
    assert all(n.startswith("Playa ") for n in beaches.nombre) and beaches.nombre.is_unique
    for beach in beaches.geometry:
        vertices = shapely.points(shapely.get_coordinates(beach))
        assert shapely.distance(coast, vertices).max() < 100.0
    along = sum(shapely.intersection(coast, b.buffer(1.0)).length for b in beaches.geometry)
    assert 8_000 <= along <= 10_000
    land = gpd.GeoSeries([_union(city_default)], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    assert beaches.intersection(land).area.sum() > 0.99 * beaches.area.sum()


def test_garitas_on_beaches(city: DemoCity) -> None:
    garitas = city.garitas.to_crs(METRIC)
    beaches = city.playas.to_crs(METRIC)
    assert len(garitas) == 4 and garitas["id"].is_unique
    for p in garitas.geometry:
        assert beaches.distance(p).min() < 5.0
    assert all(n.startswith("Garita ") for n in garitas.nombre)


def test_places_of_four_kinds_some_at_hot_spots(city: DemoCity) -> None:
    places = city.entornos
    assert places["codigo"].is_unique and set(places["tipo"]) == {"estación", "parque", "colegio", "zona nocturna"}
    kinds = dict(zip(places["tipo"], places.geom_type, strict=False))
    assert kinds == {"estación": "Point", "parque": "Polygon", "colegio": "Point", "zona nocturna": "LineString"}
    hs = city.hotspot_centers.to_crs(METRIC)
    stations = places[places["tipo"] == "estación"].to_crs(METRIC)
    centre = hs.loc[hs.rol == "centro", "geometry"].iloc[0]
    assert stations.distance(centre).min() < 400  # the trunk line passes the centre's hot spot (stations every ~700 m)
    assert shapely.contains(_union(city).buffer(0.01), places.geometry.to_numpy()).all()


def test_cameras_concentrated_in_the_centre(city: DemoCity) -> None:
    cams = city.camaras
    assert 120 <= len(cams) <= 180 and cams["id"].is_unique
    assert shapely.contains(_union(city), cams.geometry.to_numpy()).all()
    hs = city.hotspot_centers.to_crs(METRIC)
    centre = hs.loc[hs.rol == "centro", "geometry"].iloc[0]
    d = cams.to_crs(METRIC).distance(centre)
    assert (d < 1_500).mean() > 0.4


# ----------------------------------------------------------------------------- incidents


def test_incident_columns_and_formats(city: DemoCity) -> None:
    d = city.delitos
    assert list(d.columns) == ["id", "fecha", "hora", "delito", "latitud", "longitud", "cantidad"]
    assert len(d) == N
    assert d["id"].str.fullmatch(r"D\d{6}").all()
    assert d["hora"].str.fullmatch(r"([01]\d|2[0-3]):[0-5]\d").all()
    assert set(d["delito"]) == set(CATEGORY_SHARES)
    assert d["cantidad"].dtype == np.int64 and d["cantidad"].between(1, 3).all()
    assert (d["cantidad"] == 1).mean() > 0.85
    clean = _clean_incidents(city)
    dates = pd.to_datetime(clean["fecha"], format="%Y-%m-%d")
    assert dates.min() >= pd.Timestamp("2023-01-01")
    assert dates.max() <= pd.Timestamp("2024-12-31")
    assert (dates.dt.year == 2024).mean() == pytest.approx(0.5, abs=0.05)
    rounded = clean[["latitud", "longitud"]].round(6)
    assert (rounded == clean[["latitud", "longitud"]]).all().all()


def test_clean_incidents_fall_inside_the_city(city: DemoCity) -> None:
    clean = _clean_incidents(city)
    pts = shapely.points(clean[["longitud", "latitud"]].to_numpy())
    assert shapely.contains(_union(city), pts).all()


@pytest.mark.parametrize("fixture", ["city", "city_default"])
def test_planted_dirty_rows_match_the_data(fixture: str, request: pytest.FixtureRequest) -> None:
    c: DemoCity = request.getfixturevalue(fixture)
    d = c.delitos
    p = c.planted
    if fixture == "city_default":
        assert {
            k: p[k]
            for k in (
                "missing_coordinates",
                "swapped_coordinates",
                "outside_city",
                "duplicate_rows",
                "bad_dates",
            )
        } == {
            "missing_coordinates": 40,
            "swapped_coordinates": 25,
            "outside_city": 20,
            "duplicate_rows": 10,
            "bad_dates": 10,
        }
    lat, lon = d["latitud"], d["longitud"]
    missing = lat.isna() | lon.isna()
    assert missing.sum() == p["missing_coordinates"]
    swapped = lat.between(-80, -70) & lon.between(5, 15)
    assert swapped.sum() == p["swapped_coordinates"]
    land = _union(c)
    inside = shapely.contains(land, shapely.points(np.column_stack([lon, lat])))
    far = ~missing & ~swapped & ~inside
    assert far.sum() == p["outside_city"]
    # "far" means far: at least ~0.3 degrees from the city
    far_pts = shapely.points(np.column_stack([lon[far], lat[far]]))
    assert shapely.distance(land, far_pts).min() > 0.3
    assert d.duplicated().sum() == p["duplicate_rows"]
    assert d["id"].duplicated().sum() == p["duplicate_rows"]
    bad = pd.to_datetime(d["fecha"], format="%Y-%m-%d", errors="coerce").isna()
    assert bad.sum() == p["bad_dates"]
    total = sum(v for k, v in p.items() if k != "quejas_upz_unmatched")
    assert total / len(d) < 0.03
    # positions are reported correctly
    assert sorted(np.flatnonzero(missing)) == list(c.planted_rows["missing_coordinates"])
    assert sorted(np.flatnonzero(swapped)) == list(c.planted_rows["swapped_coordinates"])
    assert sorted(np.flatnonzero(far)) == list(c.planted_rows["outside_city"])
    assert sorted(np.flatnonzero(bad)) == list(c.planted_rows["bad_dates"])
    assert sorted(np.flatnonzero(d.duplicated())) == list(c.planted_rows["duplicate_rows"])


def test_category_shares_close_to_targets(city: DemoCity) -> None:
    shares = _clean_incidents(city)["delito"].value_counts(normalize=True)
    for cat, target in CATEGORY_SHARES.items():
        assert abs(shares.get(cat, 0.0) - target) < 0.03, cat


def test_hotspots_are_planted_and_concentrate_incidents(city: DemoCity) -> None:
    hs = city.hotspot_centers
    assert 8 <= len(hs) <= 10
    assert hs.sigma_m.between(120, 400).all()
    assert np.isclose(hs.weight.sum(), 1.0, atol=1e-3)
    hs_m = hs.to_crs(METRIC)
    beaches = city.playas.to_crs(METRIC)
    near_beach = [beaches.distance(p).min() < 100 for p in hs_m.geometry]
    assert sum(near_beach) >= 2
    assert "centro" in set(hs.rol)
    clean = _clean_incidents(city)
    x, y = _metric_xy(clean["longitud"].to_numpy(), clean["latitud"].to_numpy())
    dist = np.hypot(
        x[:, None] - hs_m.geometry.x.to_numpy()[None, :],
        y[:, None] - hs_m.geometry.y.to_numpy()[None, :],
    )
    within = (dist <= 3 * hs.sigma_m.to_numpy()[None, :]).any(axis=1)
    assert within.mean() >= 0.5
    # homicides concentrate in the two eastern peripheral hot spots
    periphery = hs.rol.str.startswith("periferia").to_numpy()
    assert periphery.sum() == 2
    near_periphery = (dist[:, periphery] <= 2 * hs.sigma_m.to_numpy()[periphery]).any(axis=1)
    is_hom = (clean["delito"] == "Homicidio").to_numpy()
    assert near_periphery[is_hom].mean() > 3 * near_periphery[~is_hom].mean()
    centre_x = np.mean(hs_m.geometry.x)
    assert (hs_m.geometry.x[periphery] > centre_x).all()
    # commerce theft favours the historic centre
    centro = (hs.rol == "centro").to_numpy()
    near_centro = (dist[:, centro] <= 2 * hs.sigma_m.to_numpy()[centro]).any(axis=1)
    is_com = (clean["delito"] == "Hurto a comercio").to_numpy()
    assert near_centro[is_com].mean() > 1.5 * near_centro[~is_com].mean()


def test_trends_and_weekly_pattern(city_default: DemoCity) -> None:
    clean = _clean_incidents(city_default)
    hs = city_default.hotspot_centers
    hs_m = hs.to_crs(METRIC)
    x, y = _metric_xy(clean["longitud"].to_numpy(), clean["latitud"].to_numpy())
    year = clean["fecha"].str[:4].to_numpy()
    assert (hs.trend > 0).sum() == 2 and (hs.trend < 0).sum() == 1
    for _, h in hs_m.iterrows():
        near = np.hypot(x - h.geometry.x, y - h.geometry.y) < h.sigma_m
        ratio = (near & (year == "2024")).sum() / max((near & (year == "2023")).sum(), 1)
        if h.trend > 0:
            assert ratio > 1.2, h.nombre
        elif h.trend < 0:
            assert ratio < 0.85, h.nombre
    dow = pd.to_datetime(clean["fecha"], format="%Y-%m-%d").dt.day_of_week.to_numpy()
    hour = clean["hora"].str[:2].astype(int).to_numpy()
    violent = clean["delito"].isin(["Lesiones personales", "Homicidio"]).to_numpy()
    night = (hour >= 20) | (hour < 3)
    weekend = dow >= 4
    assert (violent & night & weekend).sum() / (violent & weekend).sum() > (violent & night & ~weekend).sum() / (violent & ~weekend).sum()
    assert (weekend & violent).sum() / 3 > 1.3 * (~weekend & violent).sum() / 4
    theft = (clean["delito"] == "Hurto a personas").to_numpy()
    peak = ((hour >= 6) & (hour < 9)) | ((hour >= 17) & (hour < 21))
    assert (theft & peak).sum() / theft.sum() > 7 / 24 * 1.4


# ----------------------------------------------------------------------------- complaints


def test_complaints(city: DemoCity) -> None:
    q = city.quejas
    assert list(q.columns) == ["radicado", "fecha", "tipo", "motivo", "upz"]
    assert len(q) == round(0.2 * N)
    assert q["radicado"].is_unique
    assert q["radicado"].str.fullmatch(r"Q-202[34]-\d{6}").all()
    assert (q["radicado"].str[2:6] == q["fecha"].str[:4]).all()
    assert set(q["tipo"]) == {"Derecho de petición", "Solicitud ciudadana", "Llamada Línea 123"}
    pd.to_datetime(q["fecha"], format="%Y-%m-%d")  # all parse
    known = {fold(n): n for n in city.upz.nombre}
    norm = q["upz"].map(fold)
    unmatched = ~norm.isin(set(known))
    assert unmatched.sum() == city.planted["quejas_upz_unmatched"]
    assert sorted(np.flatnonzero(unmatched)) == list(city.planted_rows["quejas_upz_unmatched"])
    assert 0.01 <= unmatched.mean() <= 0.035
    # messy but matchable spellings are common
    exact = q["upz"].isin(set(city.upz.nombre))
    assert 0.3 < exact.mean() < 0.7
    assert q["upz"].str.isupper().mean() > 0.1
    assert (q["upz"] != q["upz"].str.strip()).mean() > 0.03
    # correlated with incidents per UPZ, but not identical
    clean = _clean_incidents(city)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(clean["longitud"], clean["latitud"]), crs="EPSG:4326")
    joined = gpd.sjoin(pts, city.upz[["nombre", "geometry"]], predicate="within")
    inc = joined["nombre"].value_counts()
    com = norm[~unmatched].map(known).value_counts()
    both = pd.concat([inc.rename("inc"), com.rename("com")], axis=1).fillna(0)
    rho = both["inc"].rank().corr(both["com"].rank())
    assert 0.5 < rho < 0.999


def test_coexistence_records(city: DemoCity) -> None:
    cv = city.convivencia
    assert list(cv.columns) == ["id", "fecha", "hora", "comportamiento", "medida", "latitud", "longitud"]
    assert len(cv) == round(0.3 * N)
    assert cv["id"].is_unique and cv["id"].str.fullmatch(r"C\d{6}").all()
    assert set(cv["comportamiento"]) == set(COMPORTAMIENTOS)
    assert set(cv["medida"]) <= {
        "Multa general tipo 1",
        "Multa general tipo 2",
        "Participación en programa comunitario",
        "Amonestación",
        "Destrucción de bien",
    }
    pd.to_datetime(cv["fecha"], format="%Y-%m-%d")
    assert cv["hora"].str.fullmatch(r"([01]\d|2[0-3]):[0-5]\d").all()
    pts = shapely.points(cv[["longitud", "latitud"]].to_numpy())
    assert shapely.contains(_union(city), pts).all()
    # spatially correlated with the incident hot spots
    hs = city.hotspot_centers.to_crs(METRIC)
    shared = (hs.weight_convivencia > 0).to_numpy()
    assert shared.sum() >= len(hs) - 2
    x, y = _metric_xy(cv["longitud"].to_numpy(), cv["latitud"].to_numpy())
    dist = np.hypot(
        x[:, None] - hs.geometry.x.to_numpy()[None, shared],
        y[:, None] - hs.geometry.y.to_numpy()[None, shared],
    )
    assert (dist <= 3 * hs.sigma_m.to_numpy()[None, shared]).any(axis=1).mean() > 0.45


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("kwargs", [{"n_incidents": 0}, {"n_incidents": 2.5}, {"seed": -1}])
def test_bad_arguments_raise_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        make_demo_city(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("crs", ["EPSG:4326", "not a crs"])
def test_bad_metric_crs_raises(crs: str) -> None:
    with pytest.raises(CRSError):
        make_demo_city(n_incidents=100, metric_crs=crs)


def test_written_demo_files_are_byte_identical_for_the_same_seed(tmp_path) -> None:
    from geoprio.demo.city import write_demo_city

    for out in ("a", "b"):
        write_demo_city(make_demo_city(7, n_incidents=2_000), tmp_path / out)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "indice.toml" in names and "delitos.csv" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# ----------------------------------------------------------------------------- configuration files


def test_config_resources_are_the_files_the_demo_writes(tmp_path) -> None:
    from importlib import resources

    from geoprio.demo import CONFIG_FILES, demo_config_text, write_demo_city

    config = write_demo_city(make_demo_city(5, n_incidents=300), tmp_path)
    assert config == tmp_path / "indice.toml"
    folder = resources.files("geoprio") / "resources" / "demo"
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml")) == sorted(CONFIG_FILES)
    for name in CONFIG_FILES:
        shipped = (folder / name).read_bytes()
        assert (tmp_path / name).read_bytes() == shipped, name
        assert demo_config_text(name).encode("utf-8") == shipped, name


def test_config_resources_load_as_configs(tmp_path) -> None:
    from geoprio.demo import write_demo_city
    from geoprio.entornos import load_entornos_config
    from geoprio.index import load_config

    write_demo_city(make_demo_city(5, n_incidents=300), tmp_path)
    cfg = load_config(tmp_path / "indice.toml")
    assert [i.name for i in cfg.indicators] == ["violencia", "hurto_personas", "hurto_patrimonio", "convivencia", "quejas", "tendencia"]
    ecfg = load_entornos_config(tmp_path / "entornos.toml")
    assert ecfg.deploy is not None and ecfg.deploy.teams == 4


def test_unknown_config_file_raises() -> None:
    from geoprio.demo import demo_config_text

    with pytest.raises(ConfigError, match="not a demo configuration file"):
        demo_config_text("otro.toml")
