"""The API's derived-value cache builds each value once, however many requests ask at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from geoprio.api.store import Store


def test_a_value_asked_for_by_many_threads_at_once_is_built_once(tmp_path):
    store = Store(Path(tmp_path), Path(tmp_path))
    builds: list[int] = []
    start = threading.Barrier(16)

    def build() -> str:
        builds.append(1)
        time.sleep(0.2)  # long enough for every other thread to arrive while it builds
        return "valor"

    results: list[str] = []

    def ask() -> None:
        start.wait()
        results.append(store.cached(("public", "upz", (10, 5)), build))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and results == ["valor"] * 16
    assert store.cached(("public", "upz", (10, 5)), lambda: "otro") == "valor"  # built once, for good
