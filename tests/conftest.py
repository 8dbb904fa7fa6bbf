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


#: Tests that use the one PostgreSQL test server: the API tests (which empty the test database
#: per module, and one of which restarts the server) and the PostGIS ones.
POSTGRES_TESTS = ("tests/api/", "tests/io/test_postgis", "tests/cli/test_cli_db")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under pytest-xdist (CI runs ``-n auto``), spread the tests over the workers one by one,
    except those of :data:`POSTGRES_TESTS`, which run one after the other on a single worker, as
    they would without xdist.

    (A scheduler rather than ``xdist_group`` marks: pytest-xdist 3.8 groups by rewriting
    ``item._nodeid``, which pytest 9.2 no longer reads, so the marks had no effect.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerForPostgres(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "postgres" if nodeid.startswith(POSTGRES_TESTS) else nodeid

    return OneWorkerForPostgres(config, log)
