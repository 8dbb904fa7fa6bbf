"""The planner's workspace in a real browser: headless Chromium (Debian's) driven by Playwright.

A real API server (uvicorn, in a child process, with the workspace router) serves a small demo
city on 127.0.0.1; the page is opened with every other host refused (basemap tiles answered
with a blank tile), its key typed into sessionStorage. The checks: a site added by clicking
shows exactly the covered demand the API computes for that plan; dragging, removing and
locking re-evaluate it; an excluded area and an excluded site are never used and the locked
site is kept when the plan is completed; two scenarios are saved and compared; English labels.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoprio.demo import run_demo

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
BLANK_TILE = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC")
METRIC = "EPSG:9377"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The API with the workspace router on a demo city; an admin key and a planner key."""
    from geoprio.api.engine import make_engine
    from geoprio.api.keys import create_key

    root = tmp_path_factory.mktemp("workspace_browser")
    run_demo(root / "demo", seed=11, n_incidents=400, new_cameras=1, new_garitas=1)
    (root / "maps").mkdir()
    url = f"sqlite:///{root / 'api.sqlite'}"
    engine = make_engine(url)
    keys = {
        "admin": create_key(engine, "admin", ["admin"]),
        "planner": create_key(engine, "planeacion", ["read:aggregates", "submit:plans"]),
    }
    engine.dispose()
    port = _free_port()
    settings = f"data_dir={str(root / 'demo' / 'output')!r}, maps_dir={str(root / 'maps')!r}, database_url={url!r}, job_poll_s=0.1"
    code = (
        "import uvicorn\n"
        "from geoprio.api.main import create_app\n"
        "from geoprio.api.settings import Settings\n"
        f"app = create_app(Settings({settings}))\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise AssertionError(f"the server did not start:\n{proc.communicate()[0].decode()}")
    zones = gpd.read_file(root / "demo" / "output" / "indice_upz.geojson").to_crs(METRIC)
    cameras = gpd.read_file(root / "demo" / "camaras.geojson").to_crs(METRIC).geometry
    yield {"base": base, "keys": keys, "zones": zones, "root": root, "cameras": cameras}
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def call(server: dict[str, Any], method: str, path: str, body: Any = None, who: str = "admin") -> Any:
    req = urllib.request.Request(
        server["base"] + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-API-Key": server["keys"][who]},
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """The workspace opened with a key, the network refused but for 127.0.0.1 and blank tiles."""

    def __init__(self, browser: Any, server: dict[str, Any], who: str = "admin", query: str = ""):
        self.errors: list[str] = []
        self.server = server
        self.page = browser.new_page(viewport={"width": 1300, "height": 850})
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.add_init_script(f"sessionStorage.setItem('geoprio-key', {json.dumps(server['keys'][who])})")
        self.page.goto(f"{server['base']}/workspace{query}")
        self.page.wait_for_selector("body[data-ready='1']", timeout=30_000)

    def _route(self, route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        elif host == "tile.openstreetmap.org":
            route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)
        else:
            route.abort()

    def point(self, lon: float, lat: float) -> dict[str, float]:
        x, y = self.page.evaluate(
            "([lat, lon]) => { const p = workspace.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }", [lat, lon]
        )
        return {"x": x, "y": y}

    def click_map(self, lon: float, lat: float) -> None:
        self.page.locator("#map").click(position=self.point(lon, lat))

    def settle(self) -> None:
        """Wait until the last edit's evaluation is on the panel (else fail with the page's errors)."""
        try:
            self.page.wait_for_function("document.body.dataset.evaluated === String(workspace.state.seq)", timeout=20_000)
        except sync_api.TimeoutError:
            state = self.page.evaluate(
                "JSON.stringify({seq: workspace.state.seq, n: workspace.state.sites.length, ev: document.body.dataset.evaluated})"
            )
            raise AssertionError(f"no evaluation: {self.page.locator('#error').inner_text()!r}, {self.errors}, {state}") from None

    def proposal(self) -> dict[str, Any]:
        return self.page.evaluate(
            "() => ({radius_m: 100, sites: workspace.state.sites.map(s => ({lon: s.lon, lat: s.lat, locked: s.locked})),"
            " retired: Array.from(workspace.state.retired)})"
        )

    def shown(self, element: str) -> float:
        return float(self.page.locator(element).get_attribute("data-value"))


def inner(server: dict[str, Any], k: int) -> tuple[float, float]:
    """A point inside zone ``k`` (lon, lat), 100 m or more inside it, as far as can be from the existing cameras
    (a click there lands on the map, not on a camera's marker).
    """
    zone = server["zones"].geometry.iloc[k].buffer(-100)
    x0, y0, x1, y1 = zone.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 25), np.linspace(y0, y1, 25))
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = pts[shapely.contains(zone, pts)]
    cams = server["cameras"]
    far = pts[int(np.argmax([cams.distance(p).min() for p in pts]))]
    p = gpd.GeoSeries([far], crs=METRIC).to_crs("EPSG:4326").iloc[0]
    return float(p.x), float(p.y)


def test_add_drag_remove_show_the_api_s_exact_coverage(server, browser):
    v = Page(browser, server)
    v.click_map(*inner(server, 0))
    v.settle()
    api = call(server, "POST", "/workspace/evaluate", v.proposal())
    assert v.shown("#covered-weight") == api["covered_weight"] and v.shown("#covered-share") == api["covered_share"]
    assert len(api["sites"]) == 1 and api["covered_weight"] > api["existing_weight"]
    v.click_map(*inner(server, 3))
    v.settle()
    api2 = call(server, "POST", "/workspace/evaluate", v.proposal())
    assert v.shown("#covered-weight") == api2["covered_weight"] and v.page.locator("#sites tbody tr").count() == 2
    assert v.page.locator("#curve polyline").get_attribute("data-points") == "3"
    # drag the first site 80 px to the right
    box = v.page.locator(".ws-site[data-site='0']").bounding_box()
    before = v.page.evaluate("workspace.state.sites[0].lon")
    v.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    v.page.mouse.down()
    v.page.mouse.move(box["x"] + 50, box["y"] + 5, steps=5)
    v.page.mouse.move(box["x"] + 87, box["y"] + 7, steps=5)
    v.page.mouse.up()
    v.settle()
    assert v.page.evaluate("workspace.state.sites[0].lon") > before
    api3 = call(server, "POST", "/workspace/evaluate", v.proposal())
    assert v.shown("#covered-weight") == api3["covered_weight"]
    # remove the second site from its popup
    v.page.locator(".ws-site[data-site='1']").click()
    v.page.locator(".leaflet-popup .ws-remove").click()
    v.settle()
    assert v.page.evaluate("workspace.state.sites.length") == 1
    assert v.shown("#covered-weight") == call(server, "POST", "/workspace/evaluate", v.proposal())["covered_weight"]
    assert v.errors == []


def test_lock_exclude_and_complete_the_plan(server, browser):
    free = call(server, "POST", "/workspace/complete", {"radius_m": 100, "p": 2, "time_limit_s": 30}, who="planner")
    deadline = time.time() + 120
    while call(server, "GET", f"/jobs/{free['id']}", who="planner")["status"] != "done":
        assert time.time() < deadline
        time.sleep(0.3)
    best = gpd.GeoDataFrame.from_features(call(server, "GET", f"/plans/{free['id']}")["sites"]["features"], crs="EPSG:4326")
    best = best[best["estado"] == "nueva"].sort_values("rank")
    b1, b2 = best.geometry.iloc[0], best.geometry.iloc[1]

    v = Page(browser, server, who="planner")
    locked_at = inner(server, 5)
    v.click_map(*locked_at)
    v.settle()
    v.page.locator(".ws-site[data-site='0']").click()
    v.page.locator(".leaflet-popup .ws-lock").click()
    v.settle()
    assert v.page.evaluate("workspace.state.sites[0].locked") is True
    assert v.page.locator(".ws-site.locked").count() == 1
    # exclude an area around the best free site (a square of ±40 px) and the second best as a site
    v.page.locator("button[data-mode='exclude_area']").click()
    c = v.point(b1.x, b1.y)
    for dx, dy in ((-40, -40), (40, -40), (40, 40), (-40, 40)):
        v.page.locator("#map").click(position={"x": c["x"] + dx, "y": c["y"] + dy})
        v.page.wait_for_timeout(200)  # Leaflet.draw takes no new vertex for 50 ms after one (a person is slower)
    v.page.locator("#finish-area").click()
    v.page.locator("button[data-mode='exclude_site']").click()
    v.click_map(b2.x, b2.y)
    area = v.page.evaluate("workspace.state.excludeAreas[0]")
    assert area["type"] == "Polygon" and len(area["coordinates"][0]) == 5
    assert v.page.evaluate("workspace.state.excludeSites.length") == 1
    v.page.fill("#p", "2")
    with v.page.expect_request("**/workspace/complete") as sent:
        v.page.locator("#complete").click()
    # each site carries its own lock; the area and the site are sent as drawn
    body = sent.value.post_data_json
    first = v.page.evaluate("({lon: workspace.state.sites[0].lon, lat: workspace.state.sites[0].lat})")
    assert body["sites"] == [{**first, "locked": True}] and body["p"] == 2
    assert body["exclude_areas"] == [area] and len(body["exclude_sites"]) == 1
    v.page.wait_for_selector("#complete-status[data-status='done']", timeout=120_000)
    v.settle()
    job = v.page.locator("#complete-status").get_attribute("data-job")
    plan = call(server, "GET", f"/plans/{job}")
    sites = gpd.GeoDataFrame.from_features(plan["sites"]["features"], crs="EPSG:4326")
    kept = sites[sites["site_id"] == "fijado-0"]
    assert len(kept) == 1 and kept["estado"].iloc[0] == "existente"
    assert kept.geometry.iloc[0].distance(shapely.Point(*locked_at)) < 1e-4  # the clicked spot, to a pixel
    new = sites[sites["estado"] == "nueva"]
    polygon = shapely.geometry.shape(area)
    assert len(new) == 2 and not new.geometry.intersects(polygon).any()
    far = new.to_crs(METRIC).distance(gpd.GeoSeries([b2], crs="EPSG:4326").to_crs(METRIC).iloc[0])
    assert (far > 50).all()
    assert plan["summary"]["bound"] is not None and "·" in v.page.locator("#complete-status").inner_text()
    # the page's proposal is now the locked site and the two new ones, evaluated
    assert v.page.evaluate("workspace.state.sites.length") == 3 and v.page.evaluate("workspace.state.sites[0].locked")
    assert v.page.locator("#covered-share").get_attribute("data-value") == str(
        call(server, "POST", "/workspace/evaluate", v.proposal(), who="planner")["covered_share"]
    )
    assert v.errors == []


def test_save_two_scenarios_and_compare(server, browser):
    v = Page(browser, server, who="planner")
    start = int(v.page.get_attribute("body", "data-scenarios") or 0)
    for k in (1, 2):
        v.click_map(*inner(server, k))
    v.settle()
    v.page.fill("#scenario-name", "Dos sitios")
    v.page.locator("#save").click()
    v.page.wait_for_selector(f"body[data-scenarios='{start + 1}']")
    v.click_map(*inner(server, 4))
    v.settle()
    v.page.fill("#scenario-name", "Tres sitios")
    v.page.locator("#save").click()
    v.page.wait_for_selector(f"body[data-scenarios='{start + 2}']")
    ids = [s["id"] for s in call(server, "GET", "/workspace/scenarios", who="planner")][-2:]
    v.page.select_option("#scenario-a", ids[0])
    v.page.select_option("#scenario-b", ids[1])
    v.page.locator("#compare").click()
    v.page.wait_for_selector("#comparison[data-added]")
    api = call(server, "GET", f"/workspace/scenarios/compare?a={ids[0]}&b={ids[1]}", who="planner")
    out = v.page.locator("#comparison")
    assert out.get_attribute("data-added") == "1" == str(len(api["added"])) and out.get_attribute("data-removed") == "0"
    # the planner key has no read:records: the page shows the public, rounded shares
    assert float(out.get_attribute("data-share-b")) == api["b"]["covered_share"] == round(api["b"]["covered_share"], 2)
    assert "Tres sitios" in out.inner_text()
    assert v.page.locator("#covered-weight").inner_text() == "oculto (sin permiso read:records)"
    assert v.errors == []


def test_labels_are_spanish_by_default_and_english_on_request(server, browser):
    es = Page(browser, server)
    assert es.page.locator("#complete").inner_text() == "Completar el plan" and es.page.title() == "Espacio de trabajo del planeador"
    en = Page(browser, server, query="?lang=en")
    assert en.page.locator("#complete").inner_text() == "Complete the plan"
    assert en.page.evaluate("document.documentElement.lang") == "en"


def test_garitas_switch_draws_the_shore_and_a_site_on_it_shows_the_api_s_coverage(server, browser):
    shore = gpd.GeoDataFrame.from_features(call(server, "GET", "/workspace/shore")["features"], crs="EPSG:4326").to_crs(METRIC)
    garitas = gpd.read_file(server["root"] / "demo" / "garitas.geojson").to_crs(METRIC).geometry
    # points every 100 m along the shore, 200 m or more from the existing garitas (a click there lands on the map)
    samples = [line.interpolate(d) for line in shore.geometry for d in np.arange(50.0, line.length, 100.0)]
    samples = [p for p in samples if garitas.distance(p).min() > 200]
    lonlat = gpd.GeoSeries(samples, crs=METRIC).to_crs("EPSG:4326")
    probe = {"kind": "garitas", "radius_m": 500, "order": "greedy", "sites": [{"lon": p.x, "lat": p.y} for p in lonlat]}
    best = next(s for s in call(server, "POST", "/workspace/evaluate", probe)["sites"] if s["rank"] == 1)
    target = lonlat.iloc[best["i"]]  # the sample adding the most demand to the existing garitas
    assert best["gain_weight"] > 0
    v = Page(browser, server)
    v.page.select_option("#kind", "garitas")
    v.page.wait_for_function("document.body.dataset.kind === 'garitas' && workspace.state.sites.length === 0")
    v.settle()
    assert v.page.locator("#kind option:checked").inner_text() == "Garitas" and v.page.input_value("#radius") == "500"
    assert v.page.locator("path.leaflet-interactive, #map svg path").count() > 0  # the shore is drawn
    v.click_map(target.x, target.y)
    v.settle()
    sites = v.page.evaluate("workspace.state.sites.map(s => ({lon: s.lon, lat: s.lat}))")
    api = call(server, "POST", "/workspace/evaluate", {"kind": "garitas", "radius_m": 500, "sites": sites})
    assert len(sites) == 1 and api["covered_weight"] > api["existing_weight"]
    assert v.shown("#covered-weight") == api["covered_weight"] and v.shown("#covered-share") == api["covered_share"]
    assert v.errors == []
