"""Benchmark: ``GET /zones`` under a steady load on loopback.

Starts geoprio's API with uvicorn on 127.0.0.1 over a data directory, sends ``GET /zones``
at a fixed rate (200 requests per second by default) for a fixed time, and prints p50, p90,
p99 and max latency and the errors. Latency is measured from each request's *scheduled*
send time, so a stalled server cannot hide its queue (no coordinated omission).

The peer, measured in the same run with the same client and load: a bare ASGI app under the
same uvicorn that returns the very same JSON bytes from memory, the floor any Python web
stack can reach here; the ratio says what geoprio's routing, validation and filtering cost.

    python benchmarks/api.py [--data-dir data/demo/output] [--rate 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=cwd)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"{app} did not start on port {port}")


async def load(url: str, rate: float, seconds: float) -> tuple[np.ndarray, int, int]:
    n = int(rate * seconds)
    latencies = np.full(n, np.nan)
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        t0 = time.perf_counter() + 0.05

        async def one(i: int) -> None:
            nonlocal errors
            scheduled = t0 + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                r = await client.get(url)
                if r.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies[i] = time.perf_counter() - scheduled

        await asyncio.gather(*(one(i) for i in range(n)))
    return latencies * 1000, errors, n


def report(name: str, lat: np.ndarray, errors: int, n: int) -> tuple[float, float]:
    p50, p90, p99, mx = np.nanpercentile(lat, [50, 90, 99, 100])
    print(f"{name:<30}{n:>9,}{errors:>8}{p50:>10.2f}{p90:>10.2f}{p99:>10.2f}{mx:>10.2f}")
    return p50, p99


PEER = textwrap.dedent(
    """
    import os
    BODY = open(os.environ["PEER_BODY"], "rb").read()
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": BODY})
    """
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=ROOT / "data" / "demo" / "output")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--path", default="/zones")
    args = ap.parse_args()
    if not (args.data_dir / "manifest.json").exists():
        sys.exit(f"{args.data_dir}: no index output; run `geoprio demo` first")
    tmp = Path(tempfile.mkdtemp())
    env = {
        "GEOPRIO_DATA_DIR": str(args.data_dir.resolve()),
        "GEOPRIO_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
        "GEOPRIO_MAPS_DIR": str(tmp),
    }
    port = free_port()
    proc = start("geoprio.api.main:app", port, env, ROOT)
    try:
        url = f"http://127.0.0.1:{port}{args.path}"
        body = httpx.get(url).content
        asyncio.run(load(url, args.rate, min(2.0, args.seconds)))  # warm up
        geo = asyncio.run(load(url, args.rate, args.seconds))
    finally:
        proc.terminate()
        proc.wait()
    (tmp / "body.json").write_bytes(body)
    (tmp / "peer.py").write_text(PEER, encoding="utf-8")
    peer_port = free_port()
    peer = start("peer:app", peer_port, {"PEER_BODY": str(tmp / "body.json")}, tmp)
    try:
        purl = f"http://127.0.0.1:{peer_port}{args.path}"
        asyncio.run(load(purl, args.rate, min(2.0, args.seconds)))
        ref = asyncio.run(load(purl, args.rate, args.seconds))
    finally:
        peer.terminate()
        peer.wait()
    print(f"cores: {os.cpu_count()}; GET {args.path} ({len(body):,} bytes) at {args.rate:g} req/s for {args.seconds:g} s")
    print(f"{'server':<30}{'requests':>9}{'errors':>8}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    g50, g99 = report("geoprio API (uvicorn)", *geo)
    r50, r99 = report("peer: bytes from memory", *ref)
    print(f"ratio p99 (geoprio / peer): {g99 / r99:.1f}×; p50: {g50 / r50:.1f}×; goal p99 < 20 ms: {'met' if g99 < 20 else 'NOT met'}")
    print(f"errors: {geo[1]}")


if __name__ == "__main__":
    main()
