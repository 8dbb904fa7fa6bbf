"""The map attack on ``/maps/*`` (default settings, no key): a map drawn from data with a cell of
one incident is not listed nor served to the public (404, as a missing map); only maps written
as public releases (``geoprio map --public``) with a min_count at least the server's are, and
they hold no hidden count. A ``read:records`` key sees every map; ``min_count=0`` serves all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.disclosure import DisclosurePolicy, disclosure_record
from geoprio.hotspots import public_cells, public_clusters
from geoprio.io import files as io
from geoprio.io.results import write_result
from geoprio.maps import make_map, map_options


def _grid() -> gpd.GeoDataFrame:
    """Hot cells of 1, 40, 45 and 50 incidents: the one-incident cell is on a full map."""
    rows, boxes = [], []
    for i, n in enumerate([1.0, 40.0, 45.0, 50.0, 0.0, 0.0, 0.0, 0.0, 2.0]):
        hot = i < 4
        rows.append(
            {"cell_id": f"c{i}", "incidents": n, "gi_z": 3.1 if hot else -0.2, "gi_p": 0.002 if hot else 0.8, "gi_q": 0.01 if hot else 0.9}
        )
        rows[-1].update(gi_bin=3 if hot else 0, gi_code="hot_99" if hot else "none", gi_class="caliente 99 %" if hot else "no", kde_km2=n)
        boxes.append(
            shapely.box(4_800_000 + 150 * (i % 3), 2_700_000 + 150 * (i // 3), 4_800_150 + 150 * (i % 3), 2_700_150 + 150 * (i // 3))
        )
    return gpd.GeoDataFrame(rows, geometry=boxes, crs="EPSG:9377").to_crs("EPSG:4326")


def _release(folder: Path, layers: dict[str, gpd.GeoDataFrame], policy: DisclosurePolicy | None) -> dict[str, Path]:
    paths = {role: io.write_formats(frame, folder, name, ["geojson"])[0] for role, (name, frame) in layers.items()}
    write_result(
        kind="geoprio.hotspots",
        out_dir=folder,
        files=list(paths.values()),
        options=None,
        inputs=[],
        formats=["geojson"],
        command=None,
        disclosure=disclosure_record(policy),
    )
    return paths


@pytest.fixture(scope="module")
def maps_root(demo_root, tmp_path_factory) -> Path:
    """Maps of the demo's hot spots and of a small grid, full and public, in a folder of our own."""
    root = tmp_path_factory.mktemp("disclosure_maps")
    maps = root / "maps"
    src = demo_root / "demo" / "output" / "hotspots"
    cells, clusters = io.read_layer(src / "hotspots_celdas.geojson"), io.read_layer(src / "hotspots_clusters.geojson")
    policy, weak = DisclosurePolicy(), DisclosurePolicy(min_count=5)
    public = _release(
        root / "publico",
        {"cells": ("hotspots_celdas", public_cells(cells, policy)), "clusters": ("hotspots_clusters", public_clusters(clusters, policy))},
        policy,
    )
    grid_full = _release(root / "rejilla", {"cells": ("hotspots_celdas", _grid())}, None)
    grid_weak = _release(root / "rejilla5", {"cells": ("hotspots_celdas", public_cells(_grid(), weak))}, weak)
    grid_public = _release(root / "rejilla10", {"cells": ("hotspots_celdas", public_cells(_grid(), policy))}, policy)
    common: dict[str, Any] = {"tiles": "none", "assets": "cdn"}
    make_map(map_options(cells=src / "hotspots_celdas.geojson", clusters=src / "hotspots_clusters.geojson", **common)).write(
        maps / "demo_completo.html"
    )
    make_map(map_options(**public, public=policy, **common)).write(maps / "demo_publico.html")
    make_map(map_options(**grid_full, **common)).write(maps / "rejilla_completa.html")
    make_map(map_options(**grid_weak, public=weak, **common)).write(maps / "rejilla_publica5.html")
    make_map(map_options(**grid_public, public=policy, **common)).write(maps / "rejilla_publica.html")
    (maps / "sin_manifiesto.html").write_text("<html><body>1 incidente</body></html>", encoding="utf-8")
    return root


ALL = [
    "demo_completo.html",
    "demo_publico.html",
    "rejilla_completa.html",
    "rejilla_publica.html",
    "rejilla_publica5.html",
    "sin_manifiesto.html",
]


def _client(demo_root: Path, maps_root: Path, name: str, **kw: Any) -> TestClient:
    (maps_root / name).mkdir(exist_ok=True)
    s = Settings(
        data_dir=demo_root / "demo" / "output", maps_dir=maps_root / "maps", database_url=f"sqlite:///{maps_root / name}/x.sqlite", **kw
    )
    return TestClient(create_app(s))


def _counts(html: str) -> list[float]:
    """Every incident count a map's popups show (cells ``n``, clusters ``incidents``)."""
    found = re.findall(r'"(?:n|incidents)": "([0-9,.]+)"', html)
    return [float(v.replace(",", "")) for v in found]


def test_public_gets_only_public_maps(demo_root, maps_root):
    with _client(demo_root, maps_root, "default") as c:
        listed = [m["name"] for m in c.get("/maps").json()]
        assert listed == ["demo_publico.html", "rejilla_publica.html"]
        for name in ALL:
            r = c.get(f"/maps/{name}")
            if name in listed:
                assert r.status_code == 200
            else:  # exactly as a map that does not exist
                assert r.status_code == 404 and r.json()["detail"] == f"map {name!r} not found; maps: {listed}"
        # the attack: every count the public can read off /maps/* is 0 or at least min_count
        seen = [n for name in listed for n in _counts(c.get(f"/maps/{name}").text)]
        assert seen and not any(0 < n < 10 for n in seen)
        assert '"z":' not in c.get("/maps/rejilla_publica.html").text
        key = create_key(c.app.state.engine, "lector", ["read:records"])
        assert [m["name"] for m in c.get("/maps", headers={"X-API-Key": key}).json()] == ALL
        full = c.get("/maps/rejilla_completa.html", headers={"X-API-Key": key})
        assert full.status_code == 200 and 1.0 in _counts(full.text)  # the one-incident cell, to a keyed caller
        other = create_key(c.app.state.engine, "tablero", ["read:aggregates"])
        assert c.get("/maps/rejilla_completa.html", headers={"X-API-Key": other}).status_code == 404
        assert c.get("/maps", headers={"X-API-Key": "gp_nope"}).status_code == 403


def test_hidden_counts_on_full_maps(maps_root):
    """Before: /maps/* served every map, and the full grid map shows a count of 1 (the best
    constant guess of the hidden counts, 1 and 2, gets one right; the map gives one exactly)."""
    html = (maps_root / "maps" / "rejilla_completa.html").read_text(encoding="utf-8")
    counts = np.array(_counts(html))
    assert 1.0 in counts and ((counts > 0) & (counts < 10)).sum() == 1


def test_threshold_of_the_server_decides(demo_root, maps_root):
    with _client(demo_root, maps_root, "five", min_count=5) as c:
        assert [m["name"] for m in c.get("/maps").json()] == ["demo_publico.html", "rejilla_publica.html", "rejilla_publica5.html"]
    with _client(demo_root, maps_root, "zero", min_count=0) as c:
        assert [m["name"] for m in c.get("/maps").json()] == ALL
        assert c.get("/maps/rejilla_completa.html").status_code == 200
