"""Maps (geoprio.maps, geoprio.cli.maps): layers and labels, offline assets, metric simplification, size."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import geoprio.maps as maps
from geoprio.cli import app as cli_app
from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.hotspots import distance_band_weights, gi_star, kernel_density

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
METRIC = "EPSG:9377"
# Bogotá in MAGNA-SIRGAS Origen-Nacional (metres)
X0, Y0 = 4_880_000.0, 2_066_000.0
runner = CliRunner()


# --------------------------------------------------------------------------- builders


def _index_table() -> gpd.GeoDataFrame:
    """Four 1-km zones: three scored (alta, media, baja), one excluded."""
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(4)]
    df = pd.DataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3", "Z4"],
            "level": "upz",
            "name": ["Zona Industrial", "Chapinero <b>", "Usaquén", "Guaymaral"],
            "parent_id": ["16", "02", "01", "11"],
            "parent_name": ["Puente Aranda", "Chapinero", "Usaquén", "Suba"],
            "index": [92.81, 51.94, 10.0, np.nan],
            "rank": [1, 2, 3, np.nan],
            "tier": ["alta", "media", "baja", None],
            "drivers": ["Homicidios 48 %; Hurto a personas 30 %", "Hurto a personas 60 %", "Lesiones 100 %", ""],
            "rank_p05": [1, 2, 2, np.nan],
            "rank_p95": [1, 3, 3, np.nan],
            "p_top_3": [1.0, 0.981, 0.5, np.nan],
            "small_denominator": [True, False, False, True],
            "excluded": [None, None, None, "sin población"],
        }
    )
    return gpd.GeoDataFrame(df, geometry=boxes, crs=METRIC).to_crs("EPSG:4326")


def _cells(classes: list[str], kde: list[float], *, size: float = 250.0) -> gpd.GeoDataFrame:
    n = len(classes)
    boxes = [shapely.box(X0 + i * size, Y0, X0 + (i + 1) * size, Y0 + size) for i in range(n)]
    z = np.linspace(3.5, -3.5, n)
    return gpd.GeoDataFrame({"gi_class": classes, "gi_z": z, "gi_p": np.full(n, 0.0004), "kde": kde}, geometry=boxes, crs=METRIC).to_crs(
        "EPSG:4326"
    )


def _plan() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    pts = shapely.points([[X0 + 100, Y0 + 100], [X0 + 600, Y0 + 300], [X0 + 900, Y0 + 900]])
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["C01", "C02", "CAM-7"],
            "rank": [1, 2, np.nan],
            "marginal_gain": [120.5, 40.0, np.nan],
            "cumulative_share": [0.5, 0.75, np.nan],
            "radius_m": [150.0, 150.0, 100.0],
            "existing": [False, False, True],
        },
        geometry=pts,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    curve = pd.DataFrame({"n_sites": [0, 1, 2], "covered_share": [0.0, 0.5, 0.75]})
    return sites, curve


def _features(info: maps.LayerInfo) -> list[dict]:
    layer = info.layer
    if isinstance(layer, folium.FeatureGroup):  # sites: circles and dots share the same features
        layer = list(layer._children.values())[0]
    return layer.data["features"]


def _html(result: maps.MapResult, assets: str = "cdn") -> str:
    return maps.render_html(result.map, assets=assets, lang=result.lang)[0]


def _js(text: str) -> str:
    """``text`` as Jinja's ``tojson`` writes it into the page's scripts (ASCII, HTML-safe)."""
    return json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def _shows(page: str, text: str) -> bool:
    return text in page or _js(text) in page


# --------------------------------------------------------------------------- the index layer


def test_index_layer_tooltips_legend_and_flags_in_spanish():
    r = maps.build_map(index=_index_table())
    info = r.layers[0]
    assert info.name == "Índice de priorización — UPZ" and info.kind == "index" and info.features == 4
    props = {f["properties"]["zone_id"]: f["properties"] for f in _features(info)}
    assert props["Z1"] == {
        "name": "Zona Industrial †",
        "zone_id": "Z1",
        "index": "92,8",
        "rank": "1",
        "tier": "alta",
        "parent": "Puente Aranda",
        "interval": "1–1",
        "p_top": "1,00",
        "drivers": "Homicidios 48 %; Hurto a personas 30 %",
    }
    assert props["Z2"]["name"] == "Chapinero &lt;b&gt;"  # tooltips are HTML: names are escaped
    assert props["Z2"]["interval"] == "2–3" and props["Z2"]["p_top"] == "0,98"
    assert props["Z4"]["index"] == "sin índice (sin población)" and props["Z4"]["tier"] == "—"
    page = _html(r)
    assert '<html lang="es">' in page and "<title>Índice de priorización — UPZ</title>" in page
    for text in ("Rango 5–95 %", "Principales factores", "Prioridad", "P(top 3)", "Posición", "Límites del nivel superior"):
        assert _shows(page, text), text
    # legend: tiers from highest to lowest with their index ranges, the † note, the grey 'no index'
    legend = json.loads(re.search(r'div.innerHTML = ("\\u003ch4\\u003ePrioridad.*?");', page).group(1))
    assert legend.index("alta (92,8–92,8)") < legend.index("media (51,9–51,9)") < legend.index("baja (10,0–10,0)")
    assert "denominador pequeño (borde punteado)" in legend and "sin índice" in legend


def test_index_colours_by_tier_or_by_value_and_dashes_small_denominators():
    table = _index_table()
    by_tier = maps.build_map(index=table).layers[0].layer
    styles = [by_tier.style_function(f) for f in by_tier.data["features"]]
    assert [s["fillColor"] for s in styles] == ["#f03b20", "#feb24c", "#ffeda0", "#bdbdbd"]
    assert [s.get("dashArray") for s in styles] == ["5 4", None, None, "5 4"]
    table = table.assign(index=[0.0, 50.0, 100.0, np.nan])
    by_value = maps.build_map(index=table, color_by="index").layers[0].layer
    fills = [by_value.style_function(f)["fillColor"] for f in by_value.data["features"]]
    # 0 and 100 are the ramp's ends; 50 is its 5th of 9 stops (8 intervals × 0.5 = 4)
    assert fills == ["#ffffcc", "#fd8d3c", "#800026", "#bdbdbd"]


def test_english_labels_and_tier_names():
    r = maps.build_map(index=_index_table(), lang="en")
    props = [f["properties"] for f in _features(r.layers[0])]
    assert [p["tier"] for p in props] == ["high", "medium", "low", "—"]
    assert props[3]["index"] == "no index (sin población)"
    page = _html(r)
    assert '<html lang="en">' in page
    for text in ("Prioritization index — UPZ", "Rank 5–95 %", "Main drivers", "Parent-level boundaries", "Search zone…", "Full screen"):
        assert _shows(page, text), text
    assert not _shows(page, "Índice de priorización") and not _shows(page, "Rango 5–95 %")
    assert '"localization": "en"' in page  # the measure control speaks English too


def test_unknown_tier_names_are_ordered_by_their_mean_index():
    table = _index_table().assign(tier=["A", "B", "C", None])
    layer = maps.build_map(index=table).layers[0].layer
    fills = [layer.style_function(f)["fillColor"] for f in layer.data["features"]]
    assert fills == ["#f03b20", "#feb24c", "#ffeda0", "#bdbdbd"]  # A (92.8) highest, C (10) lowest
    assert [f["properties"]["tier"] for f in layer.data["features"]] == ["A", "B", "C", "—"]


def test_one_layer_per_zone_level_the_first_searchable():
    upz = _index_table()
    loc = _index_table().assign(level="localidad", zone_id=["L1", "L2", "L3", "L4"])
    r = maps.build_map(index=[upz, loc])
    assert [(li.name, li.layer.show) for li in r.layers if li.kind == "index"] == [
        ("Índice de priorización — UPZ", True),
        ("Índice de priorización — Localidad", False),
    ]
    page = _html(r)
    assert page.count("new L.Control.Search(") == 1
    search = re.search(r"new L.Control.Search\(\{\s*layer: (geo_json_\w+)", page).group(1)
    assert search == r.layers[0].layer.get_name()


def test_parent_outline_dissolves_zones_by_parent():
    table = _index_table().assign(parent_id=["A", "A", "B", "B"], parent_name=["Norte", "Norte", "Sur", "Sur"])
    r = maps.build_map(index=table)
    outline = next(li for li in r.layers if li.kind == "parent")
    feats = _features(outline)
    assert [f["properties"]["parent"] for f in feats] == ["Norte", "Sur"]
    g = shapely.from_geojson(json.dumps(feats[0]["geometry"]))
    merged = gpd.GeoSeries([g], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    assert merged.area == pytest.approx(2_000_000, rel=1e-3)  # two 1-km² zones, one polygon (coordinates rounded to ~1 m)
    assert merged.geom_type == "Polygon"


# --------------------------------------------------------------------------- hot spots, density, plans


def test_gistar_layer_draws_significant_cells_with_classes():
    classes = ["hot_99", "hot_95", "hot_90", "none", "cold_90", "cold_95", "cold_99"]
    r = maps.build_map(cells=_cells(classes, [5, 4, 3, 2, 1, 1, 1]))
    gi = next(li for li in r.layers if li.kind == "gistar")
    feats = _features(gi)
    assert gi.features == 6 and [f["properties"]["_c"] for f in feats] == [c for c in classes if c != "none"]
    assert feats[0]["properties"] == {"cls": "Caliente, 99 % de confianza", "z": "3,50", "p": "< 0,001", "_c": "hot_99"}
    fills = [gi.layer.style_function(f)["fillColor"] for f in feats]
    assert fills == ["#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"]
    # the density layer is there too, off at opening when Gi* cells are drawn
    dens = next(li for li in r.layers if li.kind == "density")
    assert dens.layer.show is False and gi.layer.show is True
    # integer bins (ArcGIS Gi_Bin) work the same
    bins = _cells(classes, [1] * 7).drop(columns="gi_class").assign(gi_bin=[3, 2, 1, 0, -1, -2, -3])
    gi2 = next(li for li in maps.build_map(cells=bins).layers if li.kind == "gistar")
    assert [f["properties"]["_c"] for f in _features(gi2)] == [c for c in classes if c != "none"]
    with pytest.raises(InputError, match=r"unknown classes \['hot'\]"):
        maps.build_map(cells=_cells(["hot", "none"], [1, 1]))


def test_density_layer_classes_skips_zero_cells_and_dissolves_above_max_cells():
    kde = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    cells = _cells(["none"] * 9, kde).drop(columns="gi_class")
    dens = maps.build_map(cells=cells).layers[0]
    assert dens.kind == "density" and dens.features == 8  # the zero cell is not drawn
    # seven quantile classes of 1..8: edges 1, 2, 3, 4, 5, 6, 7, 8 → each cell its own class but the last two
    assert [f["properties"]["_k"] for f in _features(dens)] == [0, 1, 2, 3, 4, 5, 6, 6]
    assert _features(dens)[0]["properties"]["d"] == "1,0"
    merged = maps.build_map(cells=cells, max_cells=3).layers[0]
    assert merged.note == "dissolved" and merged.features == 7  # one (multi)polygon per class
    last = next(f for f in _features(merged) if f["properties"]["_k"] == 6)
    assert last["properties"] == {"d": "7,0–8,0", "n": "2", "_k": 6}
    # the two adjacent cells of the last class became one 500 m × 250 m rectangle
    g = gpd.GeoSeries([shapely.from_geojson(json.dumps(last["geometry"]))], crs="EPSG:4326").to_crs(METRIC).iloc[0]
    assert g.area == pytest.approx(500 * 250, rel=5e-3) and shapely.get_num_coordinates(g) == 5  # ±0.5 m rounding


def test_clusters_accept_the_profile_column_names():
    polys = [shapely.box(X0, Y0, X0 + 300, Y0 + 200).buffer(20), shapely.box(X0 + 1000, Y0, X0 + 1200, Y0 + 400)]
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": ["HS002", "HS001"],
            "complexity_rank": [2, 1],
            "complexity": [40.0, 100.0],
            "incidents": [210.0, 540.0],
            "density_km2": [3100.0, 6750.0],
            "top_categories": ["Hurto a personas", "Homicidio"],
            "complexity_tier": ["media", "alta"],
            "drivers": ["Incidentes 60 %", "Densidad (por km²) 70 %"],
        },
        geometry=polys,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    info = maps.build_map(clusters=clusters).layers[0]
    props = [f["properties"] for f in _features(info)]
    assert [p["cluster"] for p in props] == ["HS001", "HS002"]  # drawn in rank order
    assert props[0] == {
        "cluster": "HS001",
        "rank": "1",
        "tier": "alta",
        "score": "100,0",
        "incidents": "540",
        "density": "6.750",  # Colombian thousands
        "area": "0,080",  # 200 m × 400 m, measured in EPSG:9377
        "top_categories": "Homicidio",
        "drivers": "Densidad (por km²) 70 %",
    }


def test_plan_layer_new_and_existing_sites_and_the_coverage_curve():
    sites, curve = _plan()
    r = maps.build_map(cameras=sites, cameras_curve=curve)
    kinds = [(li.kind, li.features) for li in r.layers]
    assert kinds == [("plan_cameras", 2), ("coverage_cameras", 2), ("existing_cameras", 1)]
    # the coverage circles are a layer of their own, off at opening (issue 16: coverage on demand)
    (dots,) = list(r.layers[0].layer._children.values())
    (circles,) = list(r.layers[1].layer._children.values())
    assert r.layers[1].name == "Cobertura de las cámaras propuestas" and r.layers[1].layer.show is False
    feats = circles.data["features"]
    assert feats[0]["properties"] == {
        "site": "Cámara propuesta n.º 1",
        "id": "C01",
        "gain": "120,5",
        "share": "50,0 %",
        "radius": "150 m",
    }
    assert circles.style_function(feats[0])["radius"] == 150.0  # Leaflet circles in metres
    assert dots.style_function(feats[0])["radius"] == 6  # the centre dot, in pixels
    page = _html(r)
    assert _shows(page, "Curva de cobertura — cámaras") and _shows(page, "Cámaras existentes")
    # hand-computed SVG: x = 34 + 206·n/2, y = 8 + 98·(1 − share)
    assert "34.0,106.0 137.0,57.0 240.0,32.5" in page
    existing = _features(r.layers[2])
    assert existing[0]["properties"] == {"site": "Cámara existente CAM-7", "radius": "100 m"}
    with pytest.raises(
        InputError, match=r"covered_share must be a share in \[0, 1\], got 50 at n_sites=1 \(a percentage\? divide by 100\)"
    ):
        maps.build_map(cameras=sites, cameras_curve=curve.assign(covered_share=[0.0, 50.0, 75.0]))
    en = maps.build_map(garitas=sites, garitas_curve=curve, lang="en")
    assert [li.name for li in en.layers] == ["Proposed garitas", "Coverage of the proposed garitas", "Existing garitas"]
    assert _shows(_html(en), "Coverage curve — garitas")


def test_geoprio_hotspots_columns_readable_classes_and_kde_km2():
    # what `geoprio hotspots` writes: gi_bin, a readable gi_class, gi_q, incidents, kde_km2
    cells = _cells(["x"] * 3, [0.0] * 3).drop(columns=["gi_class", "kde"])
    cells = cells.assign(
        gi_bin=[3, 0, -2], gi_class=["caliente 99 %", "no significativo", "frío 95 %"], gi_q=[0.002, 0.5, 0.03], incidents=[41, 3, 0]
    )
    cells["kde_km2"] = [120.0, 10.0, 0.5]
    r = maps.build_map(cells=cells)
    assert [(li.kind, li.features) for li in r.layers] == [("density", 3), ("gistar", 2)]
    props = _features(r.layers[1])[0]["properties"]
    assert props == {"cls": "Caliente, 99 % de confianza", "z": "3,50", "p": "< 0,001", "q": "0,002", "n": "41", "_c": "hot_99"}
    # readable classes alone (no gi_bin) are understood too, in either language
    en = cells.drop(columns="gi_bin").assign(gi_class=["hot 99 %", "not significant", "cold 95 %"])
    assert [f["properties"]["_c"] for f in _features(maps.build_map(cells=en).layers[1])] == ["hot_99", "cold_95"]


def test_geoprio_plan_columns_estado_marginal_share_and_stretches(tmp_path):
    sites, curve = _plan()
    plan = sites.drop(columns=["existing", "marginal_gain", "radius_m"]).assign(
        estado=["nueva", "nueva", "existente"], marginal_share=[0.25, 0.125, np.nan]
    )
    pts = plan.to_crs(METRIC).get_coordinates().to_numpy()
    lines = gpd.GeoDataFrame(
        {"site_id": plan["site_id"], "estado": plan["estado"]},
        geometry=shapely.linestrings([[[x - 400, y], [x + 400, y]] for x, y in pts]),
        crs=METRIC,
    ).to_crs("EPSG:4326")
    r = maps.build_map(garitas=plan, garitas_curve=curve, garitas_stretches=lines, garitas_radius_m=400)
    assert [(li.kind, li.features) for li in r.layers] == [("plan_garitas", 2), ("existing_garitas", 1)]
    new = [c for c in r.layers[0].layer._children.values() if isinstance(c, folium.GeoJson)]
    assert [c.data["features"][0]["geometry"]["type"] for c in new] == ["LineString", "Point"]  # stretches, not circles
    assert len(new[0].data["features"]) == 2 and new[1].data["features"][0]["properties"]["gain"] == "25,0 %"
    old = [c for c in r.layers[1].layer._children.values() if isinstance(c, folium.GeoJson)]
    assert [c.data["features"][0]["geometry"]["type"] for c in old] == ["Point", "LineString"]
    # from files: the radius of a `geoprio plan` run is read from the manifest.json beside its sites layer
    folder = tmp_path / "camaras"
    folder.mkdir()
    plan.to_file(folder / "camaras_sitios.geojson")
    (folder / "manifest.json").write_text(json.dumps({"run": "plan cameras", "parameters": {"radius_m": 120}}), encoding="utf-8")
    out = maps.map_from_files(tmp_path / "m.html", cameras=folder / "camaras_sitios.geojson", assets="cdn")
    circles = list(out.layers[1].layer._children.values())[0]
    assert {circles.style_function(f)["radius"] for f in circles.data["features"]} == {120.0}
    assert out.layers[2].kind == "existing_cameras" and out.layers[2].features == 1


def test_facilities_without_radius_are_dots_only():
    cams = gpd.read_file(DEMO / "camaras.geojson")
    info = maps.build_map(existing_cameras=cams).layers[0]
    assert info.features == 150
    children = list(info.layer._children.values())
    assert len(children) == 1  # no coverage circles without a radius
    assert children[0].data["features"][0]["properties"] == {"site": "Cámara existente CAM-001", "radius": "—"}


# --------------------------------------------------------------------------- geometry


def _spiked_square(x: float, y: float, height_m: float) -> shapely.Polygon:
    """A 1-km square whose top edge has its midpoint raised by ``height_m``."""
    return shapely.Polygon([(x, y), (x + 1000, y), (x + 1000, y + 1000), (x + 500, y + 1000 + height_m), (x, y + 1000)])


@pytest.mark.parametrize(("x", "y"), [(X0, Y0), (4_560_000.0, 1_050_000.0), (5_300_000.0, 2_900_000.0)])
def test_simplification_tolerance_is_in_metres(x, y):
    # Bogotá, Leticia (−4°) and San Andrés-like latitudes (+12°): the same metric polygon simplifies the same way
    square = gpd.GeoSeries([_spiked_square(x, y, 2.0)], crs=METRIC).to_crs("EPSG:4326")
    n = [shapely.get_num_coordinates(maps.simplify_m(square, tolerance_m=t).iloc[0]) for t in (20.0, 40.0)]
    # Visvalingam–Whyatt (coverage): the spike's triangle is 1000 m × 2 m / 2 = 1000 m² = (31.6 m)²
    assert n == [6, 5]
    # Douglas–Peucker (not a coverage): the spike deviates 2 m from the edge
    n_dp = [shapely.get_num_coordinates(maps.simplify_m(square, tolerance_m=t, coverage=False).iloc[0]) for t in (1.5, 2.5)]
    assert n_dp == [6, 5]
    assert maps.simplify_m(square, tolerance_m=40.0).crs == "EPSG:4326"


def test_coverage_simplification_keeps_neighbours_adjacent():
    # two zones sharing a wiggly border of 200 vertices
    xs = np.linspace(0, 2000, 200)
    border = np.c_[X0 + xs, Y0 + 1000 + 15 * np.sin(xs / 37.0)]
    north = shapely.Polygon([(X0, Y0 + 2000), *border.tolist(), (X0 + 2000, Y0 + 2000)])
    south = shapely.Polygon([(X0, Y0), (X0 + 2000, Y0), *border[::-1].tolist()])
    zones = gpd.GeoSeries([north, south], crs=METRIC).to_crs("EPSG:4326")
    simple = maps.simplify_m(zones, tolerance_m=25.0).to_crs(METRIC)
    assert shapely.get_num_coordinates(simple.to_numpy()).sum() < 0.5 * shapely.get_num_coordinates(zones.to_numpy()).sum()
    a, b = simple.iloc[0], simple.iloc[1]
    assert a.intersection(b).area == pytest.approx(0.0, abs=1e-3)  # no overlap …
    assert a.union(b).area == pytest.approx(4_000_000, rel=1e-6)  # … and no gap
    assert maps.simplify_m(zones, tolerance_m=0).to_crs(METRIC).iloc[0].equals_exact(north, 1e-3)
    with pytest.raises(InputError, match="tolerance_m must be a non-negative number of metres"):
        maps.simplify_m(zones, tolerance_m=-1)


def test_round_coordinates():
    g = shapely.Polygon([(-74.123456789, 4.600004), (-74.123461, 4.600001), (-74.1, 4.6), (-74.1, 4.7)])
    r = maps.round_coordinates(np.array([g]), 5)[0]
    coords = shapely.get_coordinates(r)
    assert np.array_equal(coords, np.round(coords, 5))
    assert coords.tolist()[0] == [-74.12346, 4.6]
    assert len(coords) == 4  # the second vertex rounds onto the first and is dropped (3 corners + closing)


# --------------------------------------------------------------------------- offline


_URL = re.compile(r"https?://[^\s\"'<>)\\]+")
# what may remain in an offline page: tile templates, attribution links, the SVG namespace, and a
# link in a JavaScript comment of folium's measure control; none of them is fetched when the page loads
_ALLOWED = {
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "https://www.openstreetmap.org/copyright",
    "https://carto.com/attributions",
    "http://www.w3.org/2000/svg",
    "https://github.com/ljagis/leaflet-measure/issues/171",
}


def _remote_urls(page: str) -> list[str]:
    # in inline mode the vendored libraries' own text (comments, licence headers) is not fetched
    page = re.sub(r"<script>/\* \S+@\S+ \S+ \*/.*?</script>", "", page, flags=re.S)
    page = re.sub(r"<style>/\* \S+@\S+ \S+ \*/.*?</style>", "", page, flags=re.S)
    return sorted({u for u in _URL.findall(page) if u not in _ALLOWED})


def _full_map(lang: str = "es") -> maps.MapResult:
    sites, curve = _plan()
    return maps.build_map(
        index=_index_table(),
        cells=_cells(["hot_99", "none", "cold_95"], [3.0, 2.0, 1.0]),
        clusters=gpd.GeoDataFrame({"cluster_id": ["HS001"]}, geometry=[shapely.box(X0, Y0, X0 + 300, Y0 + 300)], crs=METRIC),
        cameras=sites,
        cameras_curve=curve,
        lang=lang,
    )


def test_offline_folder_mode_links_only_local_copies(tmp_path):
    out = maps.write_map(_full_map(), tmp_path / "m.html")
    page = out.path.read_text(encoding="utf-8")
    assert _remote_urls(page) == []
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?:", page)
    linked = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page)
    assert linked and all(u.startswith("assets/") for u in linked)
    reg = json.loads((ROOT / "geoprio/resources/web/assets.json").read_text(encoding="utf-8"))
    recorded = {f: h for a in reg["assets"] for f, h in a["files"].items()}
    for u in linked:
        assert (tmp_path / u).is_file(), u
    for f, h in recorded.items():  # verbatim copies of the vendored files, images included
        assert hashlib.sha256((tmp_path / "assets" / f).read_bytes()).hexdigest() == h, f
    for p in reg["packages"].values():  # with their licences
        assert (tmp_path / "assets" / p["license_file"]).is_file()
    assert "bootstrap" not in page and "fontawesome" not in page and "awesome-markers" not in page
    doc = json.loads(out.manifest.read_text(encoding="utf-8"))
    assert doc["map"]["bytes"] == out.bytes == out.path.stat().st_size
    assert doc["map"]["sha256"] == hashlib.sha256(out.path.read_bytes()).hexdigest()
    kinds = ["index", "parent", "density", "gistar", "clusters", "plan_cameras", "coverage_cameras", "existing_cameras"]
    assert [li["kind"] for li in doc["layers"]] == kinds
    assert doc["parameters"]["tolerance_m"] == 10.0 and doc["environment"]["folium"] == folium.__version__


def test_offline_inline_mode_is_one_self_contained_file(tmp_path):
    out = maps.write_map(_full_map("en"), tmp_path / "m.html", assets="inline")
    page = out.path.read_text(encoding="utf-8")
    assert out.assets == () and not (tmp_path / "assets").exists()
    assert _remote_urls(page) == []
    assert "<script src=" not in page and '<link rel="stylesheet"' not in page
    assert page.count("<script>/* ") == 5 and page.count("<style>/* ") == 4  # leaflet, jquery, 3 plugins
    # the stylesheets' images are data: URIs (e.g. Leaflet's layer-control icon)
    assert 'url("data:image/png;base64,' in page and "url(images/layers.png)" not in page


def test_tiles_none_leaves_no_network_address_at_all(tmp_path):
    r = maps.build_map(index=_index_table(), tiles="none")
    page = maps.render_html(r.map, assets="inline")[0]
    assert _remote_urls(page) == [] and "tile.openstreetmap.org" not in page


def test_basemap_choices():
    t = _index_table()
    page = _html(maps.build_map(index=t))
    assert _shows(page, "Mapa claro (OpenStreetMap en gris)") and '"className": "geoprio-light"' in page
    page = _html(maps.build_map(index=t, carto_key="abc123"))
    assert "basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png?key=abc123" in page and "CARTO Positron" in page
    page = _html(maps.build_map(index=t, tiles=["https://tiles.alcaldia.gov.co/{z}/{x}/{y}.png"], tiles_attribution="Alcaldía"))
    assert "https://tiles.alcaldia.gov.co/{z}/{x}/{y}.png" in page and _shows(page, "Alcaldía")
    with pytest.raises(InputError, match="needs an API key since August 2026"):
        maps.build_map(index=t, tiles="positron")
    with pytest.raises(InputError, match="needs an attribution"):
        maps.build_map(index=t, tiles="https://x.org/{z}/{x}/{y}.png")
    with pytest.raises(InputError, match="expected 'auto', 'light'"):
        maps.build_map(index=t, tiles="satellite")


def test_every_cdn_address_folium_uses_is_vendored():
    # a folium upgrade that changes an address fails here (re-run scripts/vendor_web_assets.py)
    r = _full_map()
    page = _html(r, "cdn")
    urls = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page)
    reg = {a["url"] for a in json.loads((ROOT / "geoprio/resources/web/assets.json").read_text(encoding="utf-8"))["assets"]}
    assert urls and set(urls) == reg


def test_a_plugin_that_is_not_vendored_is_refused():
    r = maps.build_map(index=_index_table())
    folium.plugins.MiniMap().add_to(r.map)
    with pytest.raises(
        InputError, match=r"not vendored: \['https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.css'"
    ):
        maps.render_html(r.map, assets="folder")
    assert "leaflet-minimap" in maps.render_html(r.map, assets="cdn")[0]


# --------------------------------------------------------------------------- errors


def test_errors_name_the_file_the_argument_and_what_was_expected(tmp_path):
    bad = _index_table().drop(columns=["tier"])
    path = tmp_path / "indice.geojson"
    bad.to_file(path)
    with pytest.raises(ColumnError, match=r"indice.geojson \(index\): missing column\(s\) \['tier'\]"):
        maps.map_from_files(tmp_path / "m.html", index=[path])
    with pytest.raises(CRSError, match="index: the layer has no CRS"):
        maps.build_map(index=_index_table().set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="lang must be 'es' or 'en', got 'fr'"):
        maps.build_map(index=_index_table(), lang="fr")
    with pytest.raises(InputError, match="expected Point geometries, got Polygon"):
        maps.build_map(cameras=_index_table())
    with pytest.raises(InputError, match="give at least one layer"):
        maps.build_map()
    with pytest.raises(InputError, match="a map is written as .html"):
        maps.write_map(maps.build_map(index=_index_table()), tmp_path / "m.png")
    with pytest.raises(InputError, match="coverage curve or stretches were given without the cameras plan"):
        maps.build_map(index=_index_table(), cameras_curve=pd.DataFrame({"n_sites": [1], "covered_share": [0.1]}))


# --------------------------------------------------------------------------- command line and demo


@pytest.fixture(scope="module")
def demo_outputs(tmp_path_factory) -> Path:
    """The demo index run into a temporary folder (data/demo/output is not committed)."""
    from geoprio.index import load_config, run_index

    folder = tmp_path_factory.mktemp("demo")
    for name in ("camaras.geojson", "garitas.geojson"):
        (folder / name).symlink_to(DEMO / name)
    cfg = load_config(DEMO / "indice.toml")
    cfg = cfg.model_copy(
        update={
            "output": cfg.output.model_copy(update={"dir": folder / "output", "formats": ["geojson"]}),
            "robustness": cfg.robustness.model_copy(update={"draws": 200}),
        }
    )
    run_index(cfg).write()
    return folder


def test_cli_map_writes_the_map_and_prints_its_size(demo_outputs, tmp_path):
    index = demo_outputs / "output" / "indice_upz.geojson"
    res = runner.invoke(
        cli_app,
        ["map", "--index", str(index), "--existing-garitas", str(demo_outputs / "garitas.geojson"), "--out", str(tmp_path / "i.html")],
    )
    assert res.exit_code == 0, res.output
    size = (tmp_path / "i.html").stat().st_size
    assert f"Mapa escrito: {tmp_path / 'i.html'} ({maps.format_size(size, 'es')})" in res.output
    assert "Índice de priorización — UPZ" in res.output and "Garitas existentes" in res.output
    assert "Recursos web en" in res.output and (tmp_path / "assets" / "leaflet" / "1.9.3" / "dist" / "leaflet.js").is_file()
    doc = json.loads((tmp_path / "i.manifest.json").read_text(encoding="utf-8"))
    assert doc["inputs"][0] == {
        "role": "index",
        "path": str(index),
        "sha256": hashlib.sha256(index.read_bytes()).hexdigest(),
        "bytes": index.stat().st_size,
    }
    res = runner.invoke(cli_app, ["map", "--index", str(index), "--out", str(tmp_path / "e.html"), "--lang", "en", "--inline"])
    assert res.exit_code == 0, res.output
    assert "Map written:" in res.output and "Self-contained page" in res.output
    res = runner.invoke(cli_app, ["map", "--index", str(index), "--inline", "--cdn", "--out", str(tmp_path / "x.html")])
    assert res.exit_code != 0 and "mutually exclusive" in res.output.replace("\n", " ") or "se excluyen" in res.output


def test_cli_map_input_error_is_one_message_and_exit_1(tmp_path):
    bad = tmp_path / "sin_tier.geojson"
    _index_table().drop(columns=["tier"]).to_file(bad)
    res = runner.invoke(cli_app, ["map", "--index", str(bad), "--out", str(tmp_path / "m.html")])
    assert res.exit_code == 1
    assert "sin_tier.geojson (index): missing column(s) ['tier']" in res.output and "Traceback" not in res.output


def test_demo_maps(demo_outputs, tmp_path, capsys):
    from geoprio.cli.maps import render_demo_maps

    outs = render_demo_maps(tmp_path / "maps", demo_outputs)
    assert [o.path.name for o in outs] == ["indice.html"]  # no hot-spot or plan outputs in the demo yet
    assert [(li.kind, li.features) for li in outs[0].layers] == [
        ("index", 30),
        ("parent", 6),
        ("existing_cameras", 150),
        ("existing_garitas", 4),
    ]
    assert "Mapas de la demostración en" in capsys.readouterr().out
    assert (tmp_path / "maps" / "indice.manifest.json").is_file()
    with pytest.raises(InputError, match="run `geoprio demo` first"):
        maps.demo_maps(tmp_path / "nothing", tmp_path / "maps")


# --------------------------------------------------------------------------- size


def _synthetic_city(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` incidents (metres, EPSG:9377) over a 24 × 36 km city: 70 % in 40 hot spots, 30 % spread."""
    lo, hi = np.array([X0 - 12_000, Y0 - 18_000]), np.array([X0 + 12_000, Y0 + 18_000])
    centres = rng.uniform(lo, hi, size=(40, 2))
    sigma = rng.uniform(150, 900, size=40)
    k = rng.integers(0, 40, size=int(0.7 * n))
    pts = np.vstack([centres[k] + rng.normal(size=(len(k), 2)) * sigma[k, None], rng.uniform(lo, hi, size=(n - len(k), 2))])
    return np.clip(pts, lo, hi - 1e-6)


def test_a_million_incidents_make_a_map_under_5_mb(tmp_path):
    rng = np.random.default_rng(20241)
    xy = _synthetic_city(1_000_000, rng)
    assert len(xy) == 1_000_000
    # aggregate to 150 m cells with numpy (no per-point markers anywhere)
    size = 150.0
    lo = np.floor(xy.min(axis=0) / size) * size
    ij = ((xy - lo) // size).astype(np.int64)
    nx, ny = ij.max(axis=0) + 1
    counts = np.bincount(ij[:, 1] * nx + ij[:, 0], minlength=nx * ny).astype(float)
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    centres = np.c_[lo[0] + (gx.ravel() + 0.5) * size, lo[1] + (gy.ravel() + 0.5) * size]
    occupied = counts > 0
    kde = kernel_density(centres[occupied], centres, bandwidth_m=450.0, weights=counts[occupied])
    gi = gi_star(counts, distance_band_weights(centres, distance_m=1.5 * size))
    names = {3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "none", -1: "cold_90", -2: "cold_95", -3: "cold_99"}
    half = size / 2
    boxes = shapely.box(centres[:, 0] - half, centres[:, 1] - half, centres[:, 0] + half, centres[:, 1] + half)
    cells = gpd.GeoDataFrame(
        {"kde": kde, "gi_z": gi.z, "gi_p": gi.p, "gi_class": [names[int(b)] for b in gi.bin]}, geometry=boxes, crs=METRIC
    ).to_crs("EPSG:4326")
    # clusters: the connected 99 % hot areas; zones: 144 blocks of 2 × 3 km with densified edges
    hot = [g for g in shapely.get_parts(shapely.union_all(boxes[gi.bin == 3])) if g.area >= 4 * size * size]
    clusters = gpd.GeoDataFrame({"cluster_id": [f"HS{i + 1:03d}" for i in range(len(hot))]}, geometry=hot, crs=METRIC)
    blocks = [
        shapely.segmentize(
            shapely.box(X0 - 12_000 + 2000 * i, Y0 - 18_000 + 3000 * j, X0 - 10_000 + 2000 * i, Y0 - 15_000 + 3000 * j), 10.0
        )
        for i in range(12)
        for j in range(12)
    ]
    ranks = rng.permutation(144) + 1
    zones = gpd.GeoDataFrame(
        {
            "zone_id": [f"Z{i:03d}" for i in range(144)],
            "name": [f"Zona {i}" for i in range(144)],
            "index": 100 - ranks * 100 / 144,
            "rank": ranks,
            "tier": np.where(ranks <= 48, "alta", np.where(ranks <= 96, "media", "baja")),
            "drivers": "Hurto a personas 50 %; Lesiones personales 30 %; Homicidios 20 %",
        },
        geometry=blocks,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    r = maps.build_map(index=zones, cells=cells, clusters=clusters)
    out = maps.write_map(r, tmp_path / "million.html", assets="inline")
    folder = maps.write_map(r, tmp_path / "million_folder.html")
    print(
        f"\n1,000,000 incidents → {len(cells):,} cells of 150 m, {len(clusters)} clusters, 144 zones: "
        f"inline HTML {maps.format_size(out.bytes)}, "
        f"with assets/ folder {maps.format_size(folder.bytes)} + {maps.format_size(folder.assets_bytes)}; "
        + ", ".join(f"{li.kind} {li.features:,}" for li in r.layers)
    )
    assert out.bytes < 5_000_000
    layers = {li.kind: li for li in r.layers}
    assert layers["density"].note == "dissolved" and layers["density"].features <= 7
    assert layers["index"].features == 144
    # aggregates only: a few thousand shapes for a million incidents
    assert sum(li.features for li in r.layers) < 10_000 and all(li.features <= len(cells) for li in r.layers)


# --------------------------------------------------------------------------- plan tracking (seguimiento)


def _tracking_table() -> gpd.GeoDataFrame:
    """``seguimiento_zonas.geojson``'s columns on six 1-km zones: a city indicator's breakdown
    with one zone in each progress class (and one without data), a zone-level indicator on two
    zones, and one row of an earlier year.
    """
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(6)]
    hurto = pd.DataFrame(
        {
            "indicator": "hurto",
            "label": "Tasa de hurto",
            "unit": "rate",
            "year": 2023,
            "zone_id": ["01", "02", "03", "04", "05", "06"],
            "name": ["Usaquén", "Chapinero", "Santa Fe", "San Cristóbal", "Usme", ""],
            "scope": "breakdown",
            "actual": [17.9, 300.0, 120.5, 1.0, 66.7, np.nan],
            "baseline": [13.3, 300.0, 150.0, 2.0, 133.3, np.nan],
            "target": [12.2, 225.0, 100.0, 1.0, 100.0, np.nan],
            "progress": [-4.105, 0.3, 0.6, 0.9, 2.0, np.nan],
            "progress_capped": [0.0, 0.3, 0.6, 0.9, 1.0, np.nan],
            "share_of_shortfall": [0.391, 0.2, 0.1, 0.05, -0.1, np.nan],
            "count": [185.0, 30.0, 12.0, 1.0, 5.0, np.nan],
        }
    )
    homicidios = pd.DataFrame(
        {
            "indicator": "homicidios",
            "label": "Homicidios <por localidad>",
            "unit": "count",
            "year": [2023, 2023, 2022],
            "zone_id": ["01", "02", "01"],
            "name": ["Usaquén", "Chapinero", "Usaquén"],
            "scope": "zone",
            "actual": [6.0, 2.0, 7.0],
            "baseline": [6.0, 4.0, 6.0],
            "target": [3.0, 2.0, 5.0],
            "progress": [0.0, 1.0, -1.0],
            "progress_capped": [0.0, 1.0, 0.0],
            "share_of_shortfall": np.nan,
            "count": [3.0, 1.0, 7.0],
        }
    )
    df = pd.concat([hurto, homicidios], ignore_index=True)
    return gpd.GeoDataFrame(df, geometry=boxes + boxes[:2] + boxes[:1], crs=METRIC).to_crs("EPSG:4326")


def _geojson(info: maps.LayerInfo) -> folium.GeoJson:
    """The zones of a tracking layer (a FeatureGroup holding one GeoJson)."""
    return next(c for c in info.layer._children.values() if isinstance(c, folium.GeoJson))


def test_progress_classes_red_far_green_met_grey_without_data():
    # ColorBrewer RdYlGn (5): [0, 25 %) red … [75 %, 100 %) light green, 100 % (met) green
    values = [0.0, 0.2499, 0.25, 0.5, 0.7499, 0.75, 0.999, 1.0, None, float("nan"), "x"]
    expected = ["#d7191c", "#d7191c", "#fdae61", "#ffffbf", "#ffffbf", "#a6d96a", "#a6d96a", "#1a9641", "#bdbdbd", "#bdbdbd", "#bdbdbd"]
    assert [maps.progress_color(v) for v in values] == expected


def test_tracking_layer_colours_popup_and_legend_in_spanish():
    r = maps.build_map(tracking=_tracking_table())
    assert [(li.kind, li.name, li.features, li.layer.show) for li in r.layers] == [
        ("tracking", "Seguimiento 2023 — Tasa de hurto", 6, True),  # one FeatureGroup per indicator, the first on
        ("tracking", "Seguimiento 2023 — Homicidios <por localidad>", 2, False),  # the latest year only
    ]
    assert all(isinstance(li.layer, folium.FeatureGroup) for li in r.layers)
    hurto = _geojson(r.layers[0])
    fills = [hurto.style_function(f)["fillColor"] for f in hurto.data["features"]]
    assert fills == ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641", "#bdbdbd"]
    props = [f["properties"] for f in hurto.data["features"]]
    assert props[0] == {
        "name": "Usaquén",
        "zone_id": "01",
        "indicator": "Tasa de hurto",
        "actual": "17,9",
        "target": "12,2",
        "progress_capped": "0,0 %",
        "progress": "-410,5 %",
        "baseline": "13,3",
        "count": "185",
        "unit": "tasa",  # no `per` column: the rate's base is not known
        "target_kind": "meta de la ciudad, proporcional a la línea base de la zona",
        "share_of_shortfall": "39,1 %",
    }
    assert props[4]["progress"] == "200,0 %" and props[4]["progress_capped"] == "100,0 %"
    assert props[5]["name"] == "06" and props[5]["actual"] == "—" and props[5]["progress_capped"] == "—"  # no name: the code
    homicidios = _geojson(r.layers[1])
    hp = [f["properties"] for f in homicidios.data["features"]]
    assert [p["target_kind"] for p in hp] == ["meta propia de la zona"] * 2 and [p["unit"] for p in hp] == ["casos"] * 2
    assert hp[0]["indicator"] == "Homicidios &lt;por localidad&gt;"  # popups are HTML: labels are escaped
    page = _html(r)
    assert '<html lang="es">' in page and "<title>Seguimiento del plan</title>" in page
    for text in ("Observado 2023", "Meta 2023", "Avance sin tope", "Línea base", "Casos 2023", "Parte del rezago de la ciudad"):
        assert _shows(page, text), text
    assert page.count(".bindPopup(") == 2
    legends = [json.loads(s) for s in re.findall(r'div.innerHTML = ("\\u003ch4\\u003eAvance hacia la meta.*?");', page)]
    assert len(legends) == 2
    first = legends[0]
    assert first.startswith("<h4>Avance hacia la meta 2023 — Tasa de hurto</h4>")
    rows = re.findall(r'background:(#\w+);"></span>([^<]+)</div>', first)
    assert rows == [
        ("#1a9641", "Meta cumplida (100 %)"),
        ("#a6d96a", "75–100 %"),
        ("#ffffbf", "50–75 %"),
        ("#fdae61", "25–50 %"),
        ("#d7191c", "0–25 % (lejos de la meta)"),
        ("#bdbdbd", "Sin datos"),
    ]
    assert "1 de 6 zonas cumplen la meta" in first and "repartida en proporción a su línea base" in first
    assert "Sin datos" not in legends[1] and "1 de 2 zonas cumplen la meta" in legends[1] and "repartida" not in legends[1]
    assert "Homicidios &lt;por localidad&gt;" in legends[1]


def test_tracking_layer_in_english_one_indicator_and_year():
    r = maps.build_map(tracking=_tracking_table(), tracking_indicator="homicidios", tracking_year=2022, lang="en")
    assert [(li.name, li.features) for li in r.layers] == [("Plan tracking 2022 — Homicidios <por localidad>", 1)]
    feats = _features(r.layers[0])
    assert feats[0]["properties"]["actual"] == "7.0" and feats[0]["properties"]["target_kind"] == "the zone's own target"
    page = _html(r)
    assert '<html lang="en">' in page and "<title>Plan tracking</title>" in page
    for text in ("Actual 2022", "Target 2022", "Uncapped progress", "Baseline", "Progress towards the target 2022", "Target met (100 %)"):
        assert _shows(page, text), text
    assert not _shows(page, "Avance sin tope") and not _shows(page, "Meta cumplida")
    # with an index: the tracking layer is on, the index listed but off
    both = maps.build_map(index=_index_table(), tracking=_tracking_table(), tracking_indicator="hurto")
    assert [(li.kind, li.layer.show) for li in both.layers if li.kind in ("index", "tracking")] == [("index", False), ("tracking", True)]
    assert both.parameters["tracking_indicator"] == "hurto"


def test_tracking_layer_errors_name_the_choice_and_what_is_there():
    t = _tracking_table()
    with pytest.raises(InputError, match=r"tracking: indicator 'robo' is not in the layer; indicators: \['hurto', 'homicidios'\]"):
        maps.build_map(tracking=t, tracking_indicator="robo")
    with pytest.raises(InputError, match=r"tracking: year 2030 is not in the layer; years: \[2022, 2023\]"):
        maps.build_map(tracking=t, tracking_year=2030)
    with pytest.raises(ColumnError, match=r"tracking: missing column\(s\) \['progress_capped'\]"):
        maps.build_map(tracking=t.drop(columns="progress_capped"))
    with pytest.raises(InputError, match="a tracking indicator or year was given without the tracking layer"):
        maps.build_map(index=_index_table(), tracking_indicator="hurto")
    with pytest.raises(InputError, match="tracking: no zone with a geometry to draw"):
        maps.build_map(tracking=t.iloc[:0])
    with pytest.raises(InputError, match="expected Polygon or MultiPolygon geometries, got Point"):
        maps.build_map(tracking=t.set_geometry(shapely.centroid(t.geometry.to_numpy()), crs="EPSG:4326"))


@pytest.fixture(scope="module")
def tracking_output(tmp_path_factory) -> Path:
    """``geoprio indicators`` run on the tiny city of test_targets (its real zone layer)."""
    from geoprio.seguimiento import load_targets, track
    from tests.builders import write_tiny_city

    root = tmp_path_factory.mktemp("seguimiento")
    track(load_targets(write_tiny_city(root / "ciudad"))).write(root / "out")
    return root / "out" / "seguimiento_zonas.geojson"


def test_tracking_layer_from_geoprio_indicators_output_offline(tracking_output, tmp_path):
    out = maps.map_from_files(tmp_path / "seg.html", tracking=tracking_output, tiles="none")
    # hurto (city; its localidad breakdown): L1 0 %, L2 met; hurto_localidad: L1 0 %, L2 met; homicidio_share: L1 34 %, L2 met
    assert [(li.name, li.features) for li in out.layers] == [
        ("Seguimiento 2023 — Tasa de hurto", 2),
        ("Seguimiento 2023 — hurto_localidad", 2),
        ("Seguimiento 2023 — homicidio_share", 2),
    ]
    fills = [[_geojson(li).style_function(f)["fillColor"] for f in _features(li)] for li in out.layers]
    assert fills == [["#d7191c", "#1a9641"], ["#d7191c", "#1a9641"], ["#fdae61", "#1a9641"]]
    share = _features(out.layers[2])[1]["properties"]
    # L2 had no homicide in 2023: actual 0 (lower is better) meets the target; uncapped T/0 is undefined
    assert (share["actual"], share["progress_capped"], share["progress"], share["unit"]) == ("0,0 %", "100,0 %", "—", "porcentaje (%)")
    page = out.path.read_text(encoding="utf-8")
    assert _remote_urls(page) == [] and (tmp_path / "assets" / "leaflet" / "1.9.3" / "dist" / "leaflet.js").is_file()
    doc = json.loads(out.manifest.read_text(encoding="utf-8"))
    assert [i["role"] for i in doc["inputs"]] == ["tracking"] and [la["kind"] for la in doc["layers"]] == ["tracking"] * 3


def test_cli_map_seguimiento_option(tracking_output, tmp_path):
    res = runner.invoke(cli_app, ["map", "--seguimiento", str(tracking_output), "--out", str(tmp_path / "s.html"), "--tiles", "none"])
    assert res.exit_code == 0, res.output
    assert "Mapa escrito:" in res.output and "Seguimiento 2023 — Tasa de hurto" in res.output and "homicidio_share" in res.output
    res = runner.invoke(
        cli_app,
        [
            "map",
            "--seguimiento",
            str(tracking_output),
            "--seguimiento-indicator",
            "hurto",
            "--lang",
            "en",
            "--out",
            str(tmp_path / "h.html"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Plan tracking 2023 — Tasa de hurto" in res.output and "hurto_localidad" not in res.output
    args = ["map", "--seguimiento", str(tracking_output), "--seguimiento-indicator", "robo", "--out", str(tmp_path / "x.html")]
    res = runner.invoke(cli_app, args)
    assert res.exit_code == 1 and "Traceback" not in res.output
    text = res.output.replace("\n", "")
    assert "seguimiento_zonas.geojson (tracking): indicator 'robo' is not in the layer; indicators: ['hurto'," in text


def test_entornos_layer_colours_by_index_and_shows_the_hour_profile(tmp_path):
    import shapely

    from geoprio.maps import add_entornos_layer, build_map

    areas = gpd.GeoDataFrame(
        {
            "place_id": ["A", "B"],
            "name": ["Estación <Norte>", "Parque Sur"],
            "type": ["estación", "parque"],
            "radius_m": [100.0, 80.0],
            "index": [100.0, np.nan],
            "rank": [1, None],
            "weighted_incidents": [12.0, 0.0],
            "pattern": ["atrae", "sin incidentes"],
            "ratio_ring": [3.0, np.nan],
            "peak_hours": ["20:00–22:00", ""],
            "drivers": ["hurtos 100 %", ""],
            "hours_profile": [" ".join(["0"] * 20 + ["6", "6", "0", "0"]), " ".join(["0"] * 24)],
            "hours_peak": ["0" * 20 + "11" + "00", "0" * 24],
        },
        geometry=[shapely.Point(-74.08, 4.6).buffer(0.001), shapely.Point(-74.07, 4.61).buffer(0.001)],
        crs="EPSG:4326",
    )

    def js(text: str) -> str:  # how text appears inside the page's scripts
        return json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    result = build_map(entornos=areas, tiles="none")
    html_text = result.map.get_root().render()
    assert result.layers[0].name == "Entornos priorizados — área de influencia"
    assert js("Incidentes por hora del día") in html_text
    assert "#800026" in html_text and "#bdbdbd" in html_text  # the top of the index ramp; grey without an index
    assert js("Estación &lt;Norte&gt;") in html_text  # names are escaped
    assert html_text.count('fill=\\"#e31a1c\\"') == 4  # two peak-hour bars, in the area's popup and the marker's
    assert result.layers[0].kind == "entornos" and result.layers[0].features == 2
    en = build_map(entornos=areas, tiles="none", lang="en")
    assert en.layers[0].name == "Priority places — influence area" and js("Incidents by hour of day") in en.map.get_root().render()
    with pytest.raises(InputError, match="rank"):
        add_entornos_layer(build_map(entornos=areas, tiles="none").map, areas.drop(columns="rank"))
