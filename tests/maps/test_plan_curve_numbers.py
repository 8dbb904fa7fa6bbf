"""The coverage curve of a plan layer labels its n-sites axis in the map's number format."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import geoprio.maps as maps


@pytest.mark.parametrize(("lang", "middle"), [("es", "1,5"), ("en", "1.5")])
def test_curve_axis_ticks_in_the_maps_language(lang, middle):
    pts = shapely.points([[4_880_100.0, 2_066_100.0], [4_880_600.0, 2_066_300.0], [4_880_900.0, 2_066_900.0]])
    sites = gpd.GeoDataFrame(
        {"site_id": ["C01", "C02", "C03"], "rank": [1, 2, 3], "radius_m": [150.0, 150.0, 150.0]}, geometry=pts, crs="EPSG:9377"
    ).to_crs("EPSG:4326")
    curve = pd.DataFrame({"n_sites": [0, 1, 2, 3], "covered_share": [0.0, 0.5, 0.75, 0.9]})
    page = maps.render_html(maps.build_map(cameras=sites, cameras_curve=curve, lang=lang).map, assets="cdn", lang=lang)[0]
    # ticks at 0, 3/2 and 3 sites: x = 34 + 206·t/3 → 34.0, 137.0, 240.0
    for x, text in (("34.0", "0"), ("137.0", middle), ("240.0", "3")):
        tick = f'<text x="{x}" y="118" font-size="10" text-anchor="middle">{text}</text>'
        assert tick in page or _js(tick) in page, tick


def _js(text: str) -> str:
    """``text`` as Jinja's ``tojson`` writes it into the page's scripts (ASCII, HTML-safe)."""
    return json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
