"""The real server (uvicorn, started as a process) under slow clients and overload.

Only loopback addresses are used; every loop is bounded in count and time.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geoprio.demo import make_demo_city, write_demo_city
from geoprio.index import load_config, run_index


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    cfg = load_config(write_demo_city(make_demo_city(5, n_incidents=2000), root / "demo"))
    run_index(cfg.model_copy(update={"robustness": cfg.robustness.model_copy(update={"draws": 0})})).write()
    port = _free_port()
    code = (
        "from geoprio.api.server import run; from geoprio.api.settings import Settings; "
        f"run(Settings(data_dir={str(root / 'demo' / 'output')!r}, maps_dir={str(root)!r}, request_timeout_s=1.0, max_connections=20), "
        f"host='127.0.0.1', port={port})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=Path(root))
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
        output = proc.communicate()[0].decode()
        raise AssertionError(f"the server did not start:\n{output}")
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def _get(port: int, path: str = "/health") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_incomplete_headers_get_408_and_the_connection_closed(server):
    slow = [socket.create_connection(("127.0.0.1", server), timeout=5) for _ in range(10)]
    for s in slow:
        s.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n")  # never finishes its headers
    time.sleep(1.5)
    answers = []
    for s in slow:
        answers.append(s.recv(1000))
        s.close()
    assert all(a.startswith(b"HTTP/1.1 408") and a.endswith(b'{"detail":"request not complete in time; closing"}') for a in answers)
    assert b"200 OK" in _get(server)  # meanwhile and afterwards the server answers


def test_an_incomplete_body_closes_the_connection(server):
    with socket.create_connection(("127.0.0.1", server), timeout=5) as s:
        s.sendall(b"POST /plans/cameras HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        t0 = time.time()
        data = s.recv(1000)
        assert time.time() - t0 < 4  # closed after about 1 s, not left open
    assert b"200" not in data


def test_over_the_connection_limit_the_answer_is_a_quick_503(server):
    held = [socket.create_connection(("127.0.0.1", server), timeout=5) for _ in range(25)]
    try:
        for s in held:
            s.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        t0 = time.time()
        answer = _get(server)
        assert answer.startswith(b"HTTP/1.1 503") and time.time() - t0 < 1.0
    finally:
        for s in held:
            s.close()
