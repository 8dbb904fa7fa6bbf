"""Locations placed by place name are said to be approximate everywhere they are used: the
gazetteer's drop reasons, the notes and manifest of hot spots, plans and entornos, the hot-spot
console, and the legends of the maps drawn from them (in memory and from files); the small-
denominator warning in the index layer's legend. Hand-made data and the Bogotá police thefts.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geoprio.hotspots import HotspotOptions, find_hotspots
from geoprio.maps import build_map
from geoprio.maps.from_files import map_from_files
from geoprio.maps.index_layer import add_index_layer
from geoprio.maps.page import new_map
from geoprio.records.gazetteer import APPROXIMATE_COLUMN, approximate_locations, approximate_note, geocode, load_gazetteer
from geoprio.records.load import load_keyed, load_points

ES = "ubicación aproximada (por nombre de barrio)"
EN = "approximate location (by barrio name)"
OPTIONS = HotspotOptions(cell_size_m=200.0, clusters="dbscan", eps_m=150.0, min_samples=5, time_bin=None)


def _barrios() -> gpd.GeoDataFrame:
    """Three barrio centroids, two of them sharing a name."""
    return gpd.GeoDataFrame(
        {"nombre": ["Las Nieves", "San José", "SAN JOSE"]},
        geometry=[Point(-74.075, 4.605), Point(-74.060, 4.620), Point(-74.090, 4.590)],
        crs="EPSG:4326",
    )


def _geocoded(n: int = 60):
    keys = ["Las Nieves"] * n + ["San José"] * 3 + ["Narnia"] * 2
    frame = pd.DataFrame({"fecha": ["2024-03-01"] * len(keys), "barrio": keys})
    return geocode(load_keyed(frame, key="barrio"), load_gazetteer(_barrios(), name="nombre"), method="point")


def _mixed_points() -> pd.DataFrame:
    """80 points with coordinates around Las Nieves, plus the 60 placed at its centroid."""
    rng = np.random.default_rng(5)
    exact = pd.DataFrame(
        {
            "fecha": ["2024-03-01"] * 80,
            "lon": -74.075 + rng.normal(0, 0.0008, 80),
            "lat": 4.605 + rng.normal(0, 0.0008, 80),
            APPROXIMATE_COLUMN: False,
        }
    )
    placed = _geocoded().records.data
    approx = pd.DataFrame({"fecha": ["2024-03-01"] * len(placed), "lon": placed["x"], "lat": placed["y"], APPROXIMATE_COLUMN: True})
    approx["location_method"] = "place_point"
    exact["location_method"] = pd.NA
    return pd.concat([exact, approx], ignore_index=True)


def test_gazetteer_drops_are_reported_as_unmatched_and_ambiguous_places():
    g = _geocoded()
    assert g.records.report.dropped == {"unmatched_place": 2, "ambiguous_place": 3}
    summary = g.records.report.summary("es")
    assert "nombre de lugar que no está en el nomenclátor" in summary and "compartido por varios lugares" in summary
    assert "place name not in the gazetteer" in g.records.report.summary("en")


def test_approximate_locations_counts_the_marked_rows():
    data = _mixed_points()
    data["weight"] = 1.0
    info = approximate_locations(data)
    assert info == {"records": 60, "share": round(60 / 140, 4), "weight": 60.0, "methods": {"place_point": 60}}
    assert approximate_locations(data.drop(columns=APPROXIMATE_COLUMN)) is None
    assert approximate_locations(data.assign(**{APPROXIMATE_COLUMN: False})) is None
    assert approximate_note(info, "es").startswith("ubicación aproximada: 60 puntos ubicados por nombre de lugar (place_point 60)")
    assert approximate_note(None) is None


@pytest.fixture(scope="module")
def hotspots_dir(tmp_path_factory):
    """Hot spots of the mixed points, written with their manifest."""
    out = tmp_path_factory.mktemp("hotspots")
    records = load_points(_mixed_points(), x="lon", y="lat")
    assert records.report.settings["approximate"] == {"records": 60, "methods": {"place_point": 60}}
    run = find_hotspots(records, options=OPTIONS)
    run.write(out, formats=["geojson"])
    return run, out


def test_hotspot_notes_and_manifest_say_the_locations_are_approximate(hotspots_dir):
    run, out = hotspots_dir
    assert run.notes["approximate_locations"]["records"] == 60 and run.notes["approximate_locations"]["methods"] == {"place_point": 60}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notes"]["approximate_locations"]["records"] == 60
    exact = find_hotspots(load_points(_mixed_points().iloc[:80], x="lon", y="lat"), options=OPTIONS)
    assert "approximate_locations" not in exact.notes


def test_hotspot_console_says_so(hotspots_dir):
    from geoprio.cli.common import out as console
    from geoprio.cli.hotspots import print_hotspots

    run, _ = hotspots_dir
    with console.capture() as captured:
        print_hotspots(run, top=3, lang="en")
    assert "⚠ approximate location: 60 points located by place name (place_point 60)" in captured.get()


def shown(text: str, html: str) -> bool:
    """Whether a map page shows ``text`` (legends are embedded JSON-escaped in the page's script)."""
    return text in html or json.dumps(text)[1:-1] in html


def test_map_legends_of_layers_from_approximate_points(hotspots_dir):
    run, _ = hotspots_dir
    html = build_map(clusters=run, cells=run).map.get_root().render()
    assert shown(ES, html)
    en = build_map(clusters=run, lang="en").map.get_root().render()
    assert shown(EN, en) and not shown(ES, en)
    plain = build_map(clusters=run.clusters).map.get_root().render()  # a bare layer carries no notes
    assert not shown(ES, plain)
    assert shown(ES, build_map(clusters=run.clusters, approximate=["clusters"]).map.get_root().render())
    with pytest.raises(Exception, match="unknown layer"):
        build_map(clusters=run.clusters, approximate=["index"])


def test_map_from_files_reads_the_mark_from_the_manifest_beside(hotspots_dir, tmp_path):
    _, out = hotspots_dir
    written = map_from_files(tmp_path / "mapa.html", clusters=out / "hotspots_clusters.geojson", cells=out / "hotspots_celdas.geojson")
    assert shown(ES, written.path.read_text(encoding="utf-8"))


def test_plan_notes_count_approximate_demand(tmp_path):
    from geoprio.placement import plan_cameras

    records = load_points(_mixed_points(), x="lon", y="lat")
    plan = plan_cameras(records, p=2, grid_spacing_m=100.0, method="heuristic", time_limit_s=5.0, harm=False)
    assert plan.notes["approximate_locations"]["records"] == 60
    written = plan.write(tmp_path, formats=["geojson"])
    assert json.loads(written.manifest.read_text(encoding="utf-8"))["approximate_locations"]["records"] == 60
    assert shown(ES, build_map(cameras=plan).map.get_root().render())
    html = map_from_files(tmp_path / "mapa.html", cameras=tmp_path / "camaras_sitios.geojson").path.read_text(encoding="utf-8")
    assert shown(ES, html)


# ------------------------------------------------------------------ the index legend


def _index_table(flags: list[bool]) -> gpd.GeoDataFrame:
    n = len(flags)
    return gpd.GeoDataFrame(
        {
            "zone_id": [f"Z{i}" for i in range(n)],
            "name": [f"Zona {i}" for i in range(n)],
            "index": np.linspace(90, 10, n),
            "rank": np.arange(1, n + 1),
            "tier": ["alta"] * (n // 3) + ["media"] * (n // 3) + ["baja"] * (n - 2 * (n // 3)),
            "small_denominator": flags,
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(n)],
        crs="EPSG:9377",
    )


def test_index_legend_warns_when_small_zones_sit_in_the_top():
    t = _index_table([True, False, False, True] + [False] * 8)
    m = new_map([t.to_crs(4326)], lang="es")
    add_index_layer(m, t, lang="es")
    html = m.get_root().render()
    assert shown("⚠ 2 de las 10 primeras zonas con denominador pequeño (†): Zona 0 (1), Zona 3 (4)", html)
    m = new_map([t.to_crs(4326)], lang="en")
    add_index_layer(m, t, lang="en", top=3)
    assert shown("⚠ 1 of the first 3 zones with a small denominator (†): Zona 0 (1)", m.get_root().render())
    quiet = _index_table([False] * 11 + [True])
    m = new_map([quiet.to_crs(4326)], lang="es")
    add_index_layer(m, quiet, lang="es")
    html = m.get_root().render()
    assert not shown("primeras zonas con denominador", html) and shown("† denominador pequeño (borde punteado)", html)


# ------------------------------------------------------------------ Bogotá, real data


def test_bogota_police_thefts_at_barrio_centroids_make_approximate_hot_spots(shared_data):
    thefts = load_keyed(shared_data / "bogota" / "ponal_hurto_personas_bogota_2019.csv.gz", key="Barrio")
    gz = load_gazetteer(shared_data / "bogota" / "barrios_centroides_1193.geojson", name="nombre", id="codigo")
    g = geocode(thefts, gz, pattern=r"^(.*?)\s*E-\d+\s*$")
    assert g.records.report.dropped["unmatched_place"] == 38_862 and g.records.report.dropped["ambiguous_place"] == 9_112
    assert "unmatched_key" not in g.records.report.dropped
    run = find_hotspots(g.records, options=HotspotOptions(cell_size_m=500.0, clusters="none", time_bin=None))
    info = run.notes["approximate_locations"]
    assert info["records"] == run.notes["points_used"] and info["methods"] == {"place_point": info["records"]}
    assert shown(ES, build_map(cells=run).map.get_root().render())


def test_approximate_of_reads_hot_spot_plan_and_entornos_notes():
    from geoprio.maps.text import approximate_of

    assert approximate_of({"approximate_locations": {"records": 3, "methods": {"place_point": 3}}})
    assert approximate_of({"approximate_locations": {"hurtos": 4, "convivencia": 0}})  # entornos: per source
    assert not approximate_of({"approximate_locations": {"hurtos": 0}})
    assert not approximate_of({"points": 10}) and not approximate_of(None)


def test_a_public_release_says_locations_are_approximate_without_their_count():
    from geoprio.maps.text import approximate_of
    from geoprio.records import approximate_note, public_approximate

    info = {"records": 3, "share": 0.01, "weight": 3.0, "methods": {"place_point": 3}}
    public = public_approximate(info)
    assert public == {"methods": ["place_point"]} and approximate_of({"approximate_locations": public})
    assert "3" not in (approximate_note(public) or "x") and "place_point" in (approximate_note(public) or "")
    assert public_approximate({"records": 0}) is None and not approximate_of({"approximate_locations": None})
