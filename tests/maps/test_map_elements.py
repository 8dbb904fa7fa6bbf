"""Map elements fit for a bulletin (issue 16): provenance from the runs' manifests, the parent
level's name, rank labels, clusters by tier, numbered sites, Spanish numbers, the stamp.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoprio.maps as maps
from geoprio.errors import InputError
from geoprio.maps.elements import RankMarkers
from geoprio.maps.index_layer import plural_level
from geoprio.maps.provenance import period_of_manifest, provenance_of
from geoprio.maps.style import rgba
from geoprio.maps.text import fmt_int, fmt_num, fmt_pct, fmt_pvalue

METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_066_000.0


def _zones(n: int = 12) -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(n)]
    # an L-shaped zone 3 (rank 3) whose centroid falls outside it
    boxes[2] = shapely.Polygon(
        [(X0 + 2000, Y0), (X0 + 3000, Y0), (X0 + 3000, Y0 + 100), (X0 + 2100, Y0 + 100), (X0 + 2100, Y0 + 1000), (X0 + 2000, Y0 + 1000)]
    )
    df = pd.DataFrame(
        {
            "zone_id": [f"Z{i}" for i in range(n)],
            "name": [f"Zona {i}" for i in range(n)],
            "index": np.linspace(100, 0, n),
            "rank": np.r_[np.arange(1, n), np.nan],
            "tier": ["alta"] * 4 + ["media"] * 4 + ["baja"] * 4,
            "parent_id": ["L1"] * 6 + ["L2"] * 6,
            "parent_name": ["Norte"] * 6 + ["Sur"] * 6,
        }
    )
    return gpd.GeoDataFrame(df, geometry=boxes, crs=METRIC).to_crs("EPSG:4326")


def _ranks(result: maps.MapResult) -> list[RankMarkers]:
    return [c for c in result.map._children.values() if isinstance(c, RankMarkers)]


def test_numbers_are_colombian_in_spanish_and_english_in_english():
    assert [fmt_num(100000, 0), fmt_num(1234.5, 1), fmt_pct(0.125), fmt_int(12345), fmt_pvalue(0.0004)] == [
        "100.000",
        "1.234,5",
        "12,5 %",
        "12.345",
        "< 0,001",
    ]
    assert [fmt_num(100000, 0, "en"), fmt_pct(0.125, 1, "en"), fmt_pvalue(0.0004, "en")] == ["100,000", "12.5%", "< 0.001"]
    assert maps.format_size(1_234_567, "es") == "1,23 MB" and maps.format_size(1_234_567) == "1.23 MB"


def test_rank_labels_on_the_top_zones_inside_them():
    r = maps.build_map(index=_zones(), tiles="none")
    (labels,) = _ranks(r)
    assert [p[2] for p in labels.points] == list(range(1, 11))  # top 10 by default, in rank order
    zones = _zones().set_index("rank")
    for lat, lon, k in labels.points:
        assert zones.loc[k].geometry.contains(shapely.Point(lon, lat)), k  # the L-shaped zone 3 too
    # the centroid of a square zone: rank 1 is the first 1-km box, centre (X0 + 500, Y0 + 500)
    x, y = gpd.GeoSeries([shapely.Point(labels.points[0][1], labels.points[0][0])], crs=4326).to_crs(METRIC).iloc[0].coords[0]
    assert (x, y) == pytest.approx((X0 + 500, Y0 + 500), abs=0.2)
    assert [p[2] for p in _ranks(maps.build_map(index=_zones(), tiles="none", rank_labels=3))[0].points] == [1, 2, 3]
    assert _ranks(maps.build_map(index=_zones(), tiles="none", rank_labels=0)) == []
    with pytest.raises(InputError, match="rank_labels must be a non-negative integer"):
        maps.build_map(index=_zones(), rank_labels=-1)


def test_parent_boundaries_take_the_parent_levels_name_and_have_a_legend():
    assert [plural_level(x) for x in ("localidad", "comuna", "upz", "Barrios", "corregimiento")] == [
        "Localidades",
        "Comunas",
        "UPZ",
        "Barrios",
        "Corregimientos",
    ]
    r = maps.build_map(index=_zones(), tiles="none", parent_level="localidad")
    assert [li.name for li in r.layers] == ["Índice de priorización — zonas", "Localidades"]
    page = maps.render_html(r.map, assets="cdn")[0]
    assert "\\u003ch4\\u003eLocalidades\\u003c/h4\\u003e" in page
    assert maps.build_map(index=_zones(), tiles="none").layers[1].name == "Límites del nivel superior"  # level unknown


def test_title_subtitle_source_period_stamp_and_north_arrow_in_the_page():
    r = maps.build_map(index=_zones(), tiles="none", title="Título", subtitle="Sub <b>", source="SIEDCO", period="2019", synthetic=True)
    page = maps.render_html(r.map, assets="cdn")[0]
    # title and subtitle in the band, escaped (the page's scripts hold them as JSON)
    assert 't.innerHTML = "T\\u00edtulo\\u003cdiv class=\\"sub\\"\\u003eSub \\u0026lt;b\\u0026gt;\\u003c/div\\u003e";' in page
    assert "Fuente: SIEDCO \\u00b7 Periodo: 2019 \\u00b7 Elaborado con geoprio" in page
    assert "SINT\\u00c9TICO" in page and "geoprio-north" in page and "L.control.scale({imperial: false" in page
    assert r.parameters["source"] == "SIEDCO" and r.parameters["synthetic"] is True
    plain = maps.render_html(maps.build_map(index=_zones(), tiles="none").map, assets="cdn")[0]
    assert "geoprio-stamp', box" not in plain and "Elaborado con geoprio" in plain  # no stamp on real data
    # popups open on click and pan clear of every control; search folds accents
    assert "bindPopup" in plain and "geoprioClearPopup" in plain and "normalize('NFD')" in plain


def test_clusters_filled_by_tier_with_matching_swatches_and_numbered():
    polys = [shapely.box(X0 + i * 500, Y0, X0 + i * 500 + 300, Y0 + 300) for i in range(4)]
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": ["HS001", "HS002", "HS003", "HS004"],
            "complexity_rank": [1, 2, 3, 4],
            "complexity": [90.0, 60.0, 30.0, 10.0],
            "complexity_tier": ["alta", "media", "baja", "baja"],
        },
        geometry=polys,
        crs=METRIC,
    ).to_crs(4326)
    r = maps.build_map(clusters=clusters, tiles="none", rank_labels=2)
    layer = r.layers[0].layer
    fills = [layer.style_function(f)["fillColor"] for f in layer.data["features"]]
    assert fills == ["#f03b20", "#feb24c", "#ffeda0", "#ffeda0"]  # the index's three tiers (YlOrRd)
    page = maps.render_html(r.map, assets="cdn")[0]
    legend = json.loads(re.search(r'div.innerHTML = ("\\u003ch4\\u003ePuntos calientes.*?");', page).group(1))
    assert legend.index("alta (1)") < legend.index("media (1)") < legend.index("baja (2)")
    assert f"background:{rgba('#f03b20', 0.45)}" in legend and rgba("#f03b20", 0.45) == "rgba(240,59,32,0.45)"
    assert {layer.style_function(f)["fillOpacity"] for f in layer.data["features"]} == {0.45}
    (labels,) = _ranks(r)
    assert [p[2] for p in labels.points] == [1, 2]


def test_proposed_sites_are_numbered_by_rank_with_their_popup():
    pts = shapely.points([[X0 + 100, Y0 + 100], [X0 + 600, Y0 + 300], [X0 + 900, Y0 + 900]])
    sites = gpd.GeoDataFrame(
        {"site_id": ["C01", "C02", "C03"], "rank": [2, 1, 3], "radius_m": 150.0, "existing": False}, geometry=pts, crs=METRIC
    )
    r = maps.build_map(cameras=sites, tiles="none")
    (labels,) = _ranks(r)
    assert [p[2] for p in labels.points] == [1, 2, 3] and labels.css_class == "geoprio-rank site"
    assert "Cámara propuesta n.º 1" in labels.points[0][3] and "C02" in labels.points[0][3]
    x, y = gpd.GeoSeries([shapely.Point(labels.points[0][1], labels.points[0][0])], crs=4326).to_crs(METRIC).iloc[0].coords[0]
    assert (x, y) == pytest.approx((X0 + 600, Y0 + 300), abs=1.0)  # rank 1 is C02 (5 decimals ≈ 1 m)


def test_provenance_from_the_runs_manifests(tmp_path: Path):
    index = tmp_path / "indice" / "indice_upz.geojson"
    index.parent.mkdir()
    _zones().to_file(index)
    doc = {
        "kind": "geoprio.index",
        "command": "geoprio index config.toml",
        "inputs": [{"path": "/x/delitos.csv"}, {"path": "/x/upz.geojson"}],
        "options": {
            "zones": {"parent": {"level": "localidad"}},
            "sources": {"delitos": {"path": "/x/delitos.csv"}},
            "indicators": [{"name": "h", "column": "CMH19CONT"}, {"name": "l", "column": "CMLP19CONT"}],
        },
    }
    (index.parent / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    hot = tmp_path / "hot" / "hotspots_clusters.geojson"
    hot.parent.mkdir()
    (hot.parent / "manifest.json").write_text(
        json.dumps({"command": "geoprio demo", "inputs": [{"path": "data/demo/delitos.csv"}], "notes": {"time_bins": ["2023", "2024"]}}),
        encoding="utf-8",
    )
    prov, used = provenance_of([index])
    assert (prov.source, prov.period, prov.synthetic, prov.parent_level) == ("delitos.csv", "2019", False, "localidad")
    assert used == [index.parent / "manifest.json"]
    both, _ = provenance_of([index, hot])
    assert both.source == "delitos.csv" and both.period == "2019; 2023 – 2024" and both.synthetic is True
    dated = {
        "options": {
            "indicators": [{"date_from": "2024-01-01", "date_to": "2024-06-30"}, {"date_from": "2024-02-01", "date_to": "2024-12-31"}]
        }
    }
    assert period_of_manifest(dated) == "2024-01-01 – 2024-12-31" and period_of_manifest({}) is None
    # the map job reads them; options given win
    out = maps.map_from_files(tmp_path / "m.html", index=[index], tiles="none", assets="cdn")
    doc_map = json.loads(out.manifest.read_text(encoding="utf-8"))
    assert doc_map["parameters"]["source"] == "delitos.csv" and doc_map["parameters"]["period"] == "2019"
    assert [la["name"] for la in doc_map["layers"]] == ["Índice de priorización — zonas", "Localidades"]
    again = maps.map_from_files(tmp_path / "m2.html", index=[index], tiles="none", assets="cdn", source="SDSCJ", synthetic=True)
    params = json.loads(again.manifest.read_text(encoding="utf-8"))["parameters"]
    assert params["source"] == "SDSCJ" and params["synthetic"] is True


def test_garitas_draw_the_beaches_and_the_uncovered_shore_and_existing_radius():
    shore = gpd.GeoDataFrame({"name": ["Playa Norte"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 1000, Y0)])], crs=METRIC)
    stretches = gpd.GeoDataFrame(
        {"site_id": ["G1", "G0"], "estado": ["nueva", "existente"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 300, Y0)]), shapely.LineString([(X0 + 300, Y0), (X0 + 400, Y0)])],
        crs=METRIC,
    )
    sites = gpd.GeoDataFrame(
        {"site_id": ["G1", "G0"], "rank": [1, np.nan], "estado": ["nueva", "existente"]},
        geometry=shapely.points([[X0 + 150, Y0], [X0 + 350, Y0]]),
        crs=METRIC,
    )
    r = maps.build_map(garitas=sites, garitas_stretches=stretches, garitas_shore=shore, garitas_radius_m=150.0, tiles="none")
    kinds = [(li.kind, li.features) for li in r.layers]
    assert kinds == [("shore", 1), ("plan_garitas", 1), ("existing_garitas", 1)]  # no coverage circles: the stretches are
    # 1 km of shore, 0–400 m covered (a new and an existing garita): 0,6 km uncovered
    assert r.layers[0].note == "0,6 km sin cubrir de 1,0 km de costa"
    beach, gaps = list(r.layers[0].layer._children.values())
    assert beach.data["features"][0]["properties"] == {"name": "Playa Norte", "length": "1.000"}
    gap = gpd.GeoSeries([shapely.from_geojson(json.dumps(gaps.data["features"][0]["geometry"]))], crs=4326).to_crs(METRIC).iloc[0]
    assert gap.length == pytest.approx(599.0, abs=1.5)  # 600 m less the 1-m tolerance at the covered end
    # the existing garita shows the plan's radius, not "—", and draws no circle (its coverage is on the shore)
    existing = list(r.layers[2].layer._children.values())
    assert len(existing) == 2 and existing[0].data["features"][0]["properties"]["radius"] == "150 m"


def test_entornos_places_carry_a_numbered_marker_with_their_popup():
    areas = gpd.GeoDataFrame(
        {
            "place_id": ["E1", "E2"],
            "name": ["Estación Norte", "Parque Sur"],
            "type": ["estación", "parque"],
            "index": [80.0, 20.0],
            "rank": [2, 1],
            "hours_profile": [json.dumps([1.0] * 24), " ".join(["2"] * 24)],  # a JSON array or space-separated text
            "hours_peak": ["1" * 24, "0" * 24],
        },
        geometry=[shapely.Point(X0, Y0).buffer(100), shapely.Point(X0 + 2000, Y0).buffer(100)],
        crs=METRIC,
    ).to_crs(4326)
    r = maps.build_map(entornos=areas, tiles="none")
    (labels,) = _ranks(r)
    assert [p[2] for p in labels.points] == [1, 2] and "Parque Sur" in labels.points[0][3]
    assert "Incidentes por hora del día" in labels.points[1][3]  # both profile formats are drawn
    fills = [r.layers[0].layer.style_function(f)["fillColor"] for f in r.layers[0].layer.data["features"]]
    assert [labels.points[1][4], labels.points[0][4]] == fills  # each marker ringed in its place's index colour
    x, y = gpd.GeoSeries([shapely.Point(labels.points[1][1], labels.points[1][0])], crs=4326).to_crs(METRIC).iloc[0].coords[0]
    assert (x, y) == pytest.approx((X0, Y0), abs=0.5)  # the station's own point, the centre of its area
