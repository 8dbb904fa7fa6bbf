"""A disk that fills up under the API (a small tmpfs; needs root, as CI and the developers'
machines run): writes answer JSON 503 with Retry-After, and a job whose result cannot be
recorded is not left ``running`` once space is back.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.demo import run_demo

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (CI runs as root)")


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory) -> Iterator[Path]:
    mount = tmp_path_factory.mktemp("tmpfs")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("disk")
    run_demo(root / "demo", seed=11, n_incidents=400, new_cameras=1, new_garitas=1)
    (root / "maps").mkdir()
    return root


def _fill(folder: Path) -> Path:
    """Fill the disk of ``folder`` to the last byte."""
    filler = folder / "relleno.bin"
    with open(filler, "wb", buffering=0) as f:  # unbuffered: nothing left to flush at close
        for block in (65536, 512, 1):
            try:
                while True:
                    f.write(b"\0" * block)
            except OSError:
                pass
    return filler


def _status(client: TestClient, job_id: str, key: str) -> str:
    return str(client.get(f"/jobs/{job_id}", headers={"X-API-Key": key}).json()["status"])


def test_a_full_disk_is_a_json_503_and_no_job_stays_running(small_disk, data_dir):
    settings = Settings(
        data_dir=data_dir / "demo" / "output",
        maps_dir=data_dir / "maps",
        database_url=f"sqlite:///{small_disk / 'api.sqlite'}",
        job_poll_s=0.1,
        job_stale_s=2.0,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        key = create_key(client.app.state.engine, "disco")
        headers = {"X-API-Key": key}
        filler = _fill(small_disk)
        r = client.post("/plans/cameras", headers=headers, json={"p": 2, "radius_m": 100, "time_limit_s": 20})
        assert r.status_code == 503 and r.headers["retry-after"] and r.json()["detail"].startswith("storage unavailable")
        filler.unlink()

        r = client.post("/plans/cameras", headers=headers, json={"p": 2, "radius_m": 300, "grid_spacing_m": 25, "time_limit_s": 20})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        deadline = time.time() + 60
        while _status(client, job_id, key) != "running" and time.time() < deadline:
            time.sleep(0.05)
        filler = _fill(small_disk)  # the result will not fit
        time.sleep(4)  # the worker finishes; recording its result fails
        filler.unlink()
        deadline = time.time() + 90
        status = _status(client, job_id, key)
        while status in ("running", "queued") and time.time() < deadline:
            time.sleep(0.2)
            status = _status(client, job_id, key)
        assert status in ("done", "failed"), f"the job was left {status!r}"
