"""Shared fixtures: the real public data folder beside the project, and small builders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the project root; tests using it skip cleanly where absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} not found")
    return SHARED_DATA


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests that share the one PostgreSQL server on one pytest-xdist worker.

    CI runs the suite on two workers (``-n auto --dist loadgroup``). The API tests empty the
    test database per module and one of them restarts the server, so they, and every test
    marked ``postgres`` (PostGIS), run one after the other on a single worker, as they would
    without xdist; the other tests are spread over the workers.
    """
    api = ROOT / "tests" / "api"
    for item in items:
        if item.get_closest_marker("postgres") or api in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("postgres"))
