"""Map elements in a real browser (issue 16): title band, source line, north arrow, scale, the
SINTÉTICO stamp, rank labels, click popups clear of every control, accent-insensitive search.

A 6 × 6 grid of 1-km zones in Bogotá covers the whole view, so that a zone lies under every
control; one zone is "Simón Bolívar". Served from a local ``http.server`` with every other host
refused, in Debian's Chromium through Playwright (as ``test_maps_browser.py``).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoprio.maps as maps

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
X0, Y0 = 4_880_000.0, 2_066_000.0  # Bogotá in EPSG:9377
N = 6


def _grid_index() -> gpd.GeoDataFrame:
    """36 zones, index 100 → 0 from the north-west corner (rank 1) row by row; zone 15 is Simón Bolívar."""
    boxes, names = [], []
    for k in range(N * N):
        row, col = divmod(k, N)
        boxes.append(shapely.box(X0 + col * 1000, Y0 - (row + 1) * 1000, X0 + (col + 1) * 1000, Y0 - row * 1000))
        names.append("Simón Bolívar" if k == 14 else f"Zona {k + 1:02d}")
    index = np.round(np.linspace(100, 0, N * N), 2)
    frame = pd.DataFrame(
        {
            "zone_id": [f"Z{k + 1:02d}" for k in range(N * N)],
            "level": "upz",
            "name": names,
            "parent_id": [f"L{k % 3}" for k in range(N * N)],
            "parent_name": [f"Localidad {k % 3}" for k in range(N * N)],
            "index": index,
            "rank": np.arange(1, N * N + 1),
            "tier": np.where(np.arange(N * N) < 12, "alta", np.where(np.arange(N * N) < 24, "media", "baja")),
            "drivers": "Hurto a personas 60 %; Lesiones personales 40 %",
        }
    )
    return gpd.GeoDataFrame(frame, geometry=boxes, crs="EPSG:9377").to_crs("EPSG:4326")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("elements")
    res = maps.build_map(
        index=_grid_index(),
        tiles="none",
        title="Índice de prueba",
        subtitle="Rejilla de 36 zonas",
        source="Policía Nacional — SIEDCO",
        period="2019",
        synthetic=True,
        parent_level="localidad",
    )
    res.write(out / "grid.html")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser: object, url: str, *, width: int = 1280, height: int = 860) -> tuple[object, list[str]]:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(".leaflet-overlay-pane path")
    page.wait_for_timeout(200)
    return page, errors


def _box(page: object, selector: str) -> dict[str, float]:
    return page.locator(selector).first.bounding_box()  # type: ignore[attr-defined]


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_title_source_north_scale_stamp_and_parent_name(site, browser):
    page, errors = _open(browser, f"{site}/grid.html")
    try:
        assert page.locator(".geoprio-title").inner_text() == "Índice de prueba\nRejilla de 36 zonas"
        assert page.locator(".geoprio-source").inner_text() == "Fuente: Policía Nacional — SIEDCO · Periodo: 2019 · Elaborado con geoprio"
        assert page.locator(".geoprio-north svg").count() == 1 and page.locator(".leaflet-control-scale-line").count() == 1
        assert page.locator(".geoprio-stamp").inner_text().startswith("SINTÉTICO")
        overlays = [s.strip() for s in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
        assert overlays == ["Índice de priorización — UPZ", "Localidades"]
        # no control covers the title band
        title = _box(page, ".geoprio-title")
        for i in range(page.locator(".leaflet-control").count()):
            assert not _overlap(page.locator(".leaflet-control").nth(i).bounding_box(), title)
        assert errors == []
    finally:
        page.close()


def test_rank_labels_of_the_top_ten_sit_in_their_zones(site, browser):
    page, errors = _open(browser, f"{site}/grid.html")
    try:
        labels = page.locator(".geoprio-rank span")
        assert sorted(int(t) for t in labels.all_inner_texts()) == list(range(1, 11))
        # rank k is zone k: row (k-1)//6, column (k-1)%6 of the grid, counted from the north-west
        boxes = {int(labels.nth(i).inner_text()): labels.nth(i).bounding_box() for i in range(10)}
        x1, x2 = boxes[1]["x"], boxes[2]["x"]
        assert x2 > x1 and abs(boxes[1]["y"] - boxes[2]["y"]) < 1  # same row, next column east
        assert boxes[7]["y"] > boxes[1]["y"] and abs(boxes[7]["x"] - x1) < 1  # next row south, same column
        # switching the index off removes the labels
        page.locator(".leaflet-control-layers-overlays label", has_text="Índice").locator("input").uncheck()
        assert page.locator(".geoprio-rank").count() == 0
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 860), (800, 600)])
def test_popup_under_the_layer_control_is_fully_visible(site, browser, width, height):
    page, errors = _open(browser, f"{site}/grid.html", width=width, height=height)
    try:
        control = _box(page, ".leaflet-control-layers")
        x, y = control["x"] + control["width"] / 2, control["y"] + control["height"] / 2
        # the zone under the control's centre gets a click there (a real click would hit the control)
        name = page.evaluate(
            """([x, y]) => {
                const map = Object.values(window).find(o => o instanceof L.Map);
                map.setView(map.getCenter(), map.getZoom() + 2, {animate: false});  // zones fill the whole view
                const r = map.getContainer().getBoundingClientRect();
                const at = map.containerPointToLatLng([x - r.left, y - r.top]);
                let found = null;
                map.eachLayer(l => { if (!found && l.feature && l.getBounds && l.getBounds().contains(at)) { found = l; } });
                found.fire('click', {latlng: at}, true);
                return found.feature.properties.name;
            }""",
            [x, y],
        )
        popup = page.locator(".leaflet-popup")
        popup.wait_for()
        page.wait_for_timeout(150)
        assert name in popup.inner_text() and "Principales factores" in popup.inner_text()
        p = popup.bounding_box()
        assert p["x"] >= 0 and p["y"] >= 0 and p["x"] + p["width"] <= width and p["y"] + p["height"] <= height
        for sel in (".leaflet-control-layers", ".geoprio-title", ".leaflet-control-zoom", ".geoprio-legend", ".geoprio-source"):
            assert not _overlap(p, _box(page, sel)), sel
        assert errors == []
    finally:
        page.close()


def test_small_screens_collapse_the_layer_control(site, browser):
    page, errors = _open(browser, f"{site}/grid.html", width=800, height=600)
    try:
        assert page.locator(".leaflet-control-layers-expanded").count() == 0
        assert _box(page, ".leaflet-control-layers")["width"] < 60
    finally:
        page.close()
    page, errors = _open(browser, f"{site}/grid.html", width=1280, height=860)
    try:
        assert page.locator(".leaflet-control-layers-expanded").count() == 1
    finally:
        page.close()


def test_search_ignores_accents_and_case(site, browser):
    page, errors = _open(browser, f"{site}/grid.html")
    try:
        box = page.locator(".leaflet-control-search input.search-input")
        box.press_sequentially("simon bolivar")
        page.locator(".search-tip").first.wait_for()
        assert page.locator(".search-tip").all_inner_texts() == ["Simón Bolívar"]
        box.fill("")
        box.press_sequentially("ZONA 0")
        page.wait_for_timeout(500)
        assert len(page.locator(".search-tip").all_inner_texts()) == 9  # Zona 01 … Zona 09 (no accents: as before)
        assert errors == []
    finally:
        page.close()
