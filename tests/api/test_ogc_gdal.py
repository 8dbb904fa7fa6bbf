"""A real GIS client against a real server: GDAL's OAPIF driver (``ogrinfo``, ``ogr2ogr``, Debian's
``gdal-bin``) reads OGC API – Features from uvicorn, started as a process on a loopback port.

Skipped only where ``ogrinfo`` is not installed (``.ci/run`` installs ``gdal-bin``).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time

import geopandas as gpd
import pytest
from geoprio.api.engine import make_engine
from geoprio.api.keys import create_key

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed (apt-get install gdal-bin)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_root, tmp_path_factory):
    """The demo city served on a free port (public policy: min_count 10); yields (url, a read:records key)."""
    work = tmp_path_factory.mktemp("ogc_gdal")
    db = f"sqlite:///{work}/api.sqlite"
    key = create_key(make_engine(db), "sig", scopes=["read:records"])
    port = _free_port()
    code = (
        "from geoprio.api.server import run; from geoprio.api.settings import Settings; "
        f"run(Settings(data_dir={str(demo_root / 'demo' / 'output')!r}, maps_dir={str(demo_root / 'maps')!r}, database_url={db!r}), "
        f"host='127.0.0.1', port={port})"
    )
    log = (work / "server.log").open("wb")  # a file, not a pipe: hundreds of access-log lines would fill a pipe and stall the server
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT, cwd=work)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                if b"200 OK" in s.recv(1000):
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        proc.wait(timeout=10)
        log.close()
        raise AssertionError(f"the server did not start:\n{(work / 'server.log').read_text()}")
    yield f"OAPIF:http://127.0.0.1:{port}/ogc", key
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def _run(*args: str, key: str | None = None) -> str:
    config = ["--config", "GDAL_HTTP_HEADERS", f"X-API-Key: {key}"] if key else []
    done = subprocess.run([args[0], *config, *args[1:]], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_every_collection(server):
    url, _ = server
    listed = re.findall(r"^\d+: (\S+) \(title", _run("ogrinfo", "-ro", "-so", url), flags=re.M)
    assert listed == ["zones-upz", "hotspots-cells", "hotspots-clusters", "entornos", "plan-camaras-camaras", "plan-garitas-garitas"]


def test_gdal_reads_every_cell_across_pages_public_release(server, demo_root, tmp_path):
    url, _ = server
    written = gpd.read_file(demo_root / "demo" / "output" / "hotspots" / "hotspots_celdas.geojson")
    out = tmp_path / "public.gpkg"
    _run("ogr2ogr", "-f", "GPKG", str(out), url, "hotspots-cells")  # GDAL's own page size (10 in GDAL 3.6): hundreds of pages
    got = gpd.read_file(out)
    assert list(got["cell_id"]) == list(written["cell_id"])
    assert "gi_z" not in got.columns  # the public release: Gi* classes only
    small = (written["incidents"] > 0) & (written["incidents"] < 10)
    assert small.any() and got.loc[small.to_numpy(), "incidents"].isna().all()


def test_ogr2ogr_copies_cells_equal_to_the_files_with_a_records_key(server, demo_root, tmp_path):
    url, key = server
    written = gpd.read_file(demo_root / "demo" / "output" / "hotspots" / "hotspots_celdas.geojson")
    out = tmp_path / "cells.gpkg"
    _run("ogr2ogr", "-oo", "PAGE_SIZE=1000", "-f", "GPKG", str(out), url, "hotspots-cells", key=key)
    got = gpd.read_file(out)
    assert len(got) == len(written) and list(got["cell_id"]) == list(written["cell_id"])
    for column in ("incidents", "gi_z", "gi_p", "kde_km2"):
        assert got[column].to_numpy() == pytest.approx(written[column].to_numpy(), rel=1e-12, nan_ok=True), column
    assert list(got["gi_class"]) == list(written["gi_class"])
    assert all(a.equals_exact(b, 1e-7) for a, b in zip(got.geometry, written.geometry, strict=True))


def test_ogr2ogr_copies_the_index_equal_to_the_file(server, demo_root, tmp_path):
    url, key = server
    written = gpd.read_file(demo_root / "demo" / "output" / "indice_upz.geojson").set_index("zone_id")
    out = tmp_path / "zones.gpkg"
    _run("ogr2ogr", "-f", "GPKG", str(out), url, "zones-upz", key=key)
    got = gpd.read_file(out).set_index("zone_id")
    assert set(got.index) == set(written.index)
    w = written.loc[got.index]
    assert got["index"].to_numpy() == pytest.approx(w["index"].to_numpy()) and list(got["rank"]) == list(w["rank"])
    assert list(got["tier"]) == list(w["tier"])
    assert all(a.equals_exact(b, 1e-7) for a, b in zip(got.geometry, w.geometry, strict=True))
