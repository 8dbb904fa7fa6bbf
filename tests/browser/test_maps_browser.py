"""The maps in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

Every demo map is served from a local ``http.server`` on 127.0.0.1 and opened with every request
to another host refused (``route.abort``), except the basemap tiles, which are answered with a
blank local tile: the test proves the page needs nothing from the network but tiles. It then
checks that the layers are drawn (SVG paths in Leaflet's overlay pane, one per feature shown),
that the layer control lists the layers, that legends follow their layers, that the zone search,
tooltips and popups, fullscreen and measure controls are there, that the console has no error, and saves a
screenshot per map under pytest's temporary folder.

Playwright is used with the system browser (``executable_path="/usr/bin/chromium"``); its own
browser download (``playwright install``) is never needed. The module skips, with the reason,
when Playwright or Chromium is missing; CI installs both.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

import geoprio.maps as maps
from geoprio.hotspots import distance_band_weights, gi_star, kernel_density
from geoprio.records import load_points

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
METRIC = "EPSG:9377"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TILE_HOSTS = {
    "tile.openstreetmap.org",
    "a.basemaps.cartocdn.com",
    "b.basemaps.cartocdn.com",
    "c.basemaps.cartocdn.com",
    "d.basemaps.cartocdn.com",
}
# a 1 × 1 light-grey PNG, stretched by Leaflet to each 256-px tile
BLANK_TILE = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC")


# --------------------------------------------------------------------------- demo outputs


_GI_ES = {
    3: "caliente 99 %",
    2: "caliente 95 %",
    1: "caliente 90 %",
    0: "no significativo",
    -1: "frío 90 %",
    -2: "frío 95 %",
    -3: "frío 99 %",
}


def _write_standin_outputs(xy: np.ndarray, out: Path, *, cell_m: float = 200.0) -> None:
    """Stand-ins for ``geoprio hotspots`` and ``geoprio plan`` outputs, in their files and columns.

    ``output/hotspots/hotspots_celdas.geojson`` (cells: incidents, Gi* z/p/q/bin and readable
    class, kernel density ``kde_km2``) and ``hotspots_clusters.geojson`` (the connected 99 %
    hot areas, ranked); ``output/camaras|garitas/``: ``*_sitios.geojson`` (greedy coverage
    plans, ``estado`` nueva/existente, no radius column), ``*_curva.csv``, ``manifest.json``
    (the radius), and for garitas ``garitas_tramos.geojson`` (covered stretches, lines).
    Computed from incident coordinates (metres) with numpy, geoprio.hotspots.density and geoprio.hotspots.gistar.
    """
    lo = np.floor(xy.min(axis=0) / cell_m) * cell_m
    ij = ((xy - lo) // cell_m).astype(np.int64)
    nx, ny = ij.max(axis=0) + 1
    counts = np.bincount(ij[:, 1] * nx + ij[:, 0], minlength=nx * ny).astype(float)
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    centres = np.c_[lo[0] + (gx.ravel() + 0.5) * cell_m, lo[1] + (gy.ravel() + 0.5) * cell_m]
    occupied = counts > 0
    kde = kernel_density(centres[occupied], centres, bandwidth_m=3 * cell_m, weights=counts[occupied])
    keep = kde > 0
    centres, counts, kde = centres[keep], counts[keep], kde[keep]
    gi = gi_star(counts, distance_band_weights(centres, distance_m=1.5 * cell_m))
    half = cell_m / 2
    boxes = shapely.box(centres[:, 0] - half, centres[:, 1] - half, centres[:, 0] + half, centres[:, 1] + half)
    cells = gpd.GeoDataFrame(
        {
            "cell_id": [f"C{i:05d}" for i in range(len(counts))],
            "incidents": counts,
            "gi_z": gi.z,
            "gi_p": gi.p,
            "gi_q": gi.q,
            "gi_bin": gi.bin.astype(int),
            "gi_class": [_GI_ES[int(b)] for b in gi.bin],
            "kde_km2": kde,
        },
        geometry=boxes,
        crs=METRIC,
    )
    hot = [g for g in shapely.get_parts(shapely.union_all(boxes[gi.bin == 3])) if g.area >= 2 * cell_m * cell_m]
    inside = np.array([counts[shapely.contains_xy(g, centres[:, 0], centres[:, 1])].sum() for g in hot])
    order = np.argsort(-inside)
    polys = [shapely.buffer(hot[i], 0.3 * cell_m, join_style="round") for i in order]
    area_km2 = np.array([p.area / 1e6 for p in polys])
    n = len(polys)
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": [f"HS{i + 1:03d}" for i in range(n)],
            "incidents": inside[order],
            "area_km2": area_km2,
            "density_km2": inside[order] / area_km2,
            "top_categories": "Hurto a personas 60 %; Lesiones personales 20 %",
            "complexity": np.round(100 * inside[order] / inside[order].max(), 2),
            "complexity_rank": np.arange(1, n + 1),
            "complexity_tier": np.where(np.arange(n) < n / 3, "alta", np.where(np.arange(n) < 2 * n / 3, "media", "baja")),
            "drivers": "Incidentes 67 %; Densidad (por km²) 33 %",
        },
        geometry=polys,
        crs=METRIC,
    )
    (out / "hotspots").mkdir(parents=True)
    cells.to_crs("EPSG:4326").to_file(out / "hotspots" / "hotspots_celdas.geojson")
    clusters.to_crs("EPSG:4326").to_file(out / "hotspots" / "hotspots_clusters.geojson")
    tree = cKDTree(xy)
    for kind, prefix, radius, k in (("cameras", "camaras", 150.0, 12), ("garitas", "garitas", 300.0, 5)):
        cand = centres[np.argsort(-counts)[:300]]
        reach = tree.query_ball_point(cand, radius)
        covered = np.zeros(len(xy), bool)
        sites, gains, shares = [], [], []
        for _ in range(k):
            gain = np.array([np.count_nonzero(~covered[r]) for r in reach])
            j = int(np.argmax(gain))
            sites.append(cand[j])
            gains.append(gain[j] / len(xy))
            covered[reach[j]] = True
            shares.append(covered.mean())
        xy_sites = np.array(sites)
        plan = gpd.GeoDataFrame(
            {
                "rank": np.arange(1, k + 1),
                "site_id": [f"{prefix[:3].upper()}-N{i + 1:02d}" for i in range(k)],
                "estado": "nueva",
                "marginal_share": gains,
                "cumulative_share": shares,
            },
            geometry=shapely.points(xy_sites),
            crs=METRIC,
        ).to_crs("EPSG:4326")
        folder = out / prefix
        folder.mkdir()
        if kind == "garitas":  # the plan carries the existing garitas, and the shore each one covers
            old = gpd.read_file(DEMO / "garitas.geojson").rename(columns={"id": "site_id"})[["site_id", "geometry"]]
            plan = pd.concat([plan, old.assign(estado="existente")], ignore_index=True)
            pts = plan.to_crs(METRIC).get_coordinates().to_numpy()
            lines = shapely.linestrings([[[x - radius, y], [x, y + 30], [x + radius, y]] for x, y in pts])
            tramos = gpd.GeoDataFrame(
                {"site_id": plan["site_id"], "estado": plan["estado"], "rank": plan["rank"]}, geometry=lines, crs=METRIC
            )
            tramos.to_crs("EPSG:4326").to_file(folder / "garitas_tramos.geojson")
        plan.to_file(folder / f"{prefix}_sitios.geojson")
        pd.DataFrame({"n_sites": np.arange(k + 1), "covered_share": np.r_[0.0, shares]}).to_csv(folder / f"{prefix}_curva.csv", index=False)
        (folder / "manifest.json").write_text(json.dumps({"run": f"plan {kind}", "parameters": {"radius_m": radius}}), encoding="utf-8")


@pytest.fixture(scope="module")
def demo_maps_dir(tmp_path_factory) -> tuple[Path, list[maps.MapOutput]]:
    """The demo folder with the index run and stand-in hot-spot and plan outputs, and its maps."""
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
    run = run_index(cfg)
    run.write()
    rec = load_points(DEMO / "delitos.csv", kind="crime").data
    area = shapely.union_all(run.table.geometry.to_numpy())
    inside = shapely.contains_xy(area, rec["x"].to_numpy(), rec["y"].to_numpy())
    xy = gpd.GeoSeries(gpd.points_from_xy(rec["x"][inside], rec["y"][inside]), crs="EPSG:4326").to_crs(METRIC).get_coordinates().to_numpy()
    _write_standin_outputs(xy, folder / "output")
    from geoprio.entornos import load_entornos_config, run_entornos

    ecfg = load_entornos_config(DEMO / "entornos.toml")
    ecfg = ecfg.model_copy(
        update={
            "output": ecfg.output.model_copy(update={"dir": folder / "output" / "entornos", "formats": ["geojson"]}),
            "robustness": ecfg.robustness.model_copy(update={"draws": 100}),
            "deploy": None,
        }
    )
    run_entornos(ecfg).write()  # writes into ecfg.output.dir
    out_dir = tmp_path_factory.mktemp("maps")
    outs = maps.demo_maps(folder, out_dir)
    # and one self-contained English page, opened from file://
    hot = folder / "output" / "hotspots"
    outs.append(
        maps.map_from_files(
            out_dir / "inline" / "hotspots_en.html",
            index=[folder / "output" / "indice_upz.geojson"],
            clusters=hot / "hotspots_clusters.geojson",
            cells=hot / "hotspots_celdas.geojson",
            assets="inline",
            lang="en",
        )
    )
    return out_dir, outs


@pytest.fixture(scope="module")
def server(demo_maps_dir) -> Iterator[str]:
    out_dir, _ = demo_maps_dir

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Visit:
    """One page load with the network refused: what was blocked, the tiles asked for, the console."""

    def __init__(self, browser: object, url: str):
        self.blocked: list[str] = []
        self.tiles: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text} @ {m.location}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        # a local file that is missing (404) or cannot load; tile requests cancelled by zooming are not errors
        self.page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"))
        self.page.on("requestfailed", lambda r: urlparse(r.url).hostname not in TILE_HOSTS and self.errors.append(f"failed: {r.url}"))
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")

    def _route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        host = urlparse(url).hostname
        if url.startswith(("file:", "data:")) or host == "127.0.0.1":
            route.continue_()  # type: ignore[attr-defined]
        elif host in TILE_HOSTS:
            self.tiles.append(url)
            route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)  # type: ignore[attr-defined]
        else:
            self.blocked.append(url)
            route.abort()  # type: ignore[attr-defined]


def _expected_paths(layers: tuple[maps.LayerInfo, ...]) -> int:
    """SVG paths Leaflet draws at opening: one per feature of each shown layer (sites: circles, dots, stretches)."""
    n = 0
    for li in layers:
        if not li.layer.show:
            continue
        if isinstance(li.layer, folium.FeatureGroup):
            n += sum(len(c.data["features"]) for c in li.layer._children.values() if isinstance(c, folium.GeoJson))
        else:
            n += li.features
    return n


def _check_page(v: Visit, out: maps.MapOutput, shot: Path) -> None:
    page = v.page
    page.wait_for_selector(".leaflet-overlay-pane path")
    page.wait_for_timeout(300)
    assert v.blocked == [], f"requests to other hosts: {v.blocked}"
    assert v.errors == []
    assert all(urlparse(u).hostname in TILE_HOSTS for u in v.tiles) and v.tiles
    assert page.locator(".leaflet-tile-pane img.leaflet-tile-loaded").count() > 0
    # the layer control lists every layer, in order
    labels = [s.strip() for s in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
    assert labels == [li.name for li in out.layers]
    checked = page.locator(".leaflet-control-layers-overlays input").evaluate_all("els => els.map(e => e.checked)")
    assert checked == [bool(li.layer.show) for li in out.layers]
    # every shape of the shown layers is drawn
    assert page.locator(".leaflet-overlay-pane path").count() == _expected_paths(out.layers)
    # controls: zoom, zone search, fullscreen, measure, scale, a legend per shown layer with one
    for sel in (
        ".leaflet-control-zoom",
        ".leaflet-control-search",
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-measure",
        ".leaflet-control-scale",
    ):
        assert page.locator(sel).count() == 1, sel
    assert page.locator(".geoprio-legend").count() >= 1
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000


MAPS = ["indice.html", "puntos_calientes.html", "plan_camaras.html", "plan_garitas.html", "entornos.html"]


@pytest.mark.parametrize("name", MAPS)
def test_demo_map_renders_offline(name, demo_maps_dir, server, browser, tmp_path):
    _, outs = demo_maps_dir
    out = next(o for o in outs if o.path.name == name)
    v = Visit(browser, f"{server}/{name}")
    try:
        _check_page(v, out, tmp_path / f"{out.path.stem}.png")
        title = v.page.locator(".geoprio-title").inner_text()
        assert (
            title
            == {
                "indice.html": "Índice de priorización — UPZ",
                "puntos_calientes.html": "Puntos calientes de incidentes",
                "plan_camaras.html": "Plan de cámaras",
                "plan_garitas.html": "Plan de garitas",
                "entornos.html": "Entornos priorizados",
            }[name]
        )
        assert v.page.locator(".leaflet-control-zoom-fullscreen").get_attribute("title") == "Pantalla completa"
        assert v.page.locator(".leaflet-control-measure-toggle").get_attribute("title") == "Mida distancias y áreas"
    finally:
        v.page.close()


def test_demo_maps_were_all_written(demo_maps_dir):
    _, outs = demo_maps_dir
    assert [o.path.name for o in outs] == [*MAPS, "hotspots_en.html"]
    kinds = {o.path.name: [li.kind for li in o.layers] for o in outs}
    assert kinds["puntos_calientes.html"] == ["index", "parent", "density", "gistar", "clusters"]
    assert kinds["plan_garitas.html"] == ["index", "parent", "plan_garitas", "existing_garitas"]
    assert kinds["plan_camaras.html"] == ["index", "parent", "existing_cameras", "plan_cameras", "coverage_cameras"]
    assert kinds["entornos.html"] == ["index", "parent", "entornos"]
    # the camera radius comes from the plan's manifest.json (the sites layer has no radius column)
    cams = next(li for li in outs[2].layers if li.kind == "coverage_cameras").layer  # off at opening
    assert cams.show is False
    circles = list(cams._children.values())[0]
    assert {circles.style_function(f)["radius"] for f in circles.data["features"]} == {150.0}
    # garitas: the covered stretches (lines) replace the circles
    gar = next(li for li in outs[3].layers if li.kind == "plan_garitas").layer
    geojsons = [c for c in gar._children.values() if isinstance(c, folium.GeoJson)]
    assert [c.data["features"][0]["geometry"]["type"] for c in geojsons] == ["LineString", "Point"]
    assert len(geojsons[0].data["features"]) == 5


def test_index_map_tooltip_search_and_legend_follow_the_layer(demo_maps_dir, server, browser):
    _, outs = demo_maps_dir
    v = Visit(browser, f"{server}/indice.html")
    page = v.page
    try:
        page.wait_for_selector(".leaflet-overlay-pane path")
        # hovering a zone shows its name; clicking it (a tablet has no hover) opens its popup
        # with the rank interval and the drivers
        zone = page.locator(".leaflet-overlay-pane path.leaflet-interactive").first
        zone.hover()
        tip = page.locator(".foliumtooltip")
        tip.wait_for()
        assert tip.inner_text().startswith("Zona")
        zone.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        text = popup.inner_text()
        assert "Rango 5–95 %" in text and "Principales factores" in text and "Prioridad" in text
        page.keyboard.press("Escape")
        # the zone search finds La Candelaria (flagged †) and zooms to it
        zoom0 = page.evaluate("() => Object.values(window).find(o => o instanceof L.Map).getZoom()")
        page.locator(".leaflet-control-search input.search-input").press_sequentially("Candel")  # keyup events
        page.locator(".search-tip").first.wait_for()
        assert page.locator(".search-tip").all_inner_texts() == ["La Candelaria †"]
        page.locator(".search-tip").first.click()
        page.wait_for_timeout(800)
        assert page.evaluate("() => Object.values(window).find(o => o instanceof L.Map).getZoom()") > zoom0
        # switching the index off removes its legend and its shapes; on again brings them back
        legend = page.locator(".geoprio-legend", has_text="Prioridad")
        assert legend.count() == 1
        box = page.locator(".leaflet-control-layers-overlays label", has_text="Índice de priorización").locator("input")
        n_on = page.locator(".leaflet-overlay-pane path").count()
        box.uncheck()
        assert legend.count() == 0 and page.locator(".leaflet-overlay-pane path").count() == n_on - 30
        box.check()
        assert legend.count() == 1 and page.locator(".leaflet-overlay-pane path").count() == n_on
        assert v.errors == [] and v.blocked == []
    finally:
        page.close()


def test_entornos_popup_shows_the_hour_profile(demo_maps_dir, server, browser):
    _, outs = demo_maps_dir
    out = next(o for o in outs if o.path.name == "entornos.html")
    v = Visit(browser, f"{server}/entornos.html")
    try:
        page = v.page
        page.wait_for_selector(".leaflet-overlay-pane path")
        layer = next(li for li in out.layers if li.kind == "entornos").layer
        first = layer.data["features"][0]["properties"]
        # the first feature is the best-ranked place; click its shape and read the popup
        page.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        text = popup.inner_text()
        assert "Incidentes por hora del día" in text and "Horas pico" in text
        assert popup.locator("svg rect").count() == 24 and popup.locator('svg rect[fill="#e31a1c"]').count() >= 1
        assert first["rank"] in text
        assert v.errors == [] and v.blocked == []
    finally:
        v.page.close()


def test_hidden_layers_and_their_legends_appear_when_switched_on(demo_maps_dir, server, browser):
    v = Visit(browser, f"{server}/puntos_calientes.html")
    page = v.page
    try:
        page.wait_for_selector(".leaflet-overlay-pane path")
        density = page.locator(".geoprio-legend", has_text="Densidad de incidentes")
        assert density.count() == 0
        page.locator(".leaflet-control-layers-overlays label", has_text="Densidad de incidentes").locator("input").check()
        assert density.count() == 1
        assert density.inner_text().count("–") == 7  # seven classes with their ranges
        assert v.errors == [] and v.blocked == []
    finally:
        page.close()


def test_inline_page_renders_from_a_file_in_english(demo_maps_dir, browser, tmp_path):
    _, outs = demo_maps_dir
    out = outs[-1]
    assert not (out.path.parent / "assets").exists()  # nothing beside the file
    v = Visit(browser, out.path.as_uri())
    try:
        _check_page(v, out, tmp_path / "hotspots_en.png")
        assert v.page.locator(".geoprio-title").inner_text() == "Incident hot spots"
        assert v.page.locator(".leaflet-control-measure-toggle").get_attribute("title") == "Measure distances and areas"
        assert v.page.evaluate("document.documentElement.lang") == "en"
    finally:
        v.page.close()
