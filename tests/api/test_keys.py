"""API keys: names, scopes, expiry, revocation, rotation, the ``geoprio apikey`` commands,
the failed-key limiter and the audit log of incident-level routes (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from geoprio.api.audit import AUDIT_LOGGER, FailedKeyLimiter
from geoprio.api.db import sessions
from geoprio.api.deps import OptionalKeyDep
from geoprio.api.keys import (
    CREATE_SCOPES,
    DEFAULT_SCOPES,
    ApiKey,
    KeyFailure,
    KeyInfo,
    KeyRefusedError,
    UnknownKeyError,
    authenticate,
    check_name,
    create_key,
    hash_key,
    key_info,
    list_keys,
    owner_filter,
    revoke_key,
    rotate_key,
    verify_key,
)
from geoprio.api.main import create_app
from geoprio.api.settings import Settings, get_settings
from sqlalchemy import Integer, column, delete, select, update
from typer.testing import CliRunner

from geoprio.cli import app as cli_app
from geoprio.demo import make_demo_city, write_demo_city
from geoprio.errors import InputError
from geoprio.index import load_config, run_index

runner = CliRunner()


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A small demo city indexed into ``output/`` (the index alone: enough for /incidents)."""
    root = tmp_path_factory.mktemp("keys")
    config = write_demo_city(make_demo_city(11, n_incidents=800), root / "demo")
    run_index(load_config(config)).write(root / "demo" / "output")
    return root


@pytest.fixture(scope="module")
def settings(root, database) -> Settings:
    return Settings(data_dir=root / "demo" / "output", maps_dir=root / "maps", database_url=database(root), key_fail_limit=3)


@pytest.fixture(scope="module")
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def engine(client):
    return client.app.state.engine


def _set(engine, key: str, **values) -> None:
    with sessions(engine)() as s, s.begin():
        s.execute(update(ApiKey).where(ApiKey.key_hash == hash_key(key)).values(**values))


def _row(engine, key: str) -> ApiKey:
    with sessions(engine)() as s:
        return s.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).one()


# --- names and scopes


@pytest.mark.parametrize("name", ["tablero", "Secretaría de Seguridad", "ops@alcaldia.gov.co", "a", "x" * 100, "equipo_1-b.2"])
def test_valid_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "needs a name"),
        ("x" * 101, "too long: 101 characters; the limit is 100"),
        ("x" * 250, "too long: 250 characters"),
        ("tablero/admin", r"characters not allowed \('/'\)"),
        ("a;b<c>", "characters not allowed"),
        (" tablero", "must not start or end with a space"),
    ],
)
def test_invalid_names_are_refused_clearly(engine, name, message):
    with pytest.raises(InputError, match=message):
        check_name(name)
    with pytest.raises(InputError, match=message):
        create_key(engine, name)


def test_scopes_are_validated_and_stored(engine):
    key = create_key(engine, "lector", ["read:records", "read:aggregates", "read:records"])
    assert key_info(engine, key) == KeyInfo(_row(engine, key).id, "lector", frozenset({"read:aggregates", "read:records"}))
    assert _row(engine, key).scopes == "read:aggregates,read:records"  # SCOPES order, no repeats
    with pytest.raises(InputError, match="unknown scope 'write:all'; scopes: read:aggregates, read:records, submit:plans, admin"):
        create_key(engine, "x", ["write:all"])
    with pytest.raises(InputError, match="at least one scope"):
        create_key(engine, "x", [])


def test_a_key_stored_without_scopes_keeps_what_keys_could_do_before(engine):
    key = create_key(engine, "antigua")
    _set(engine, key, scopes=None)  # a row made before scopes existed
    info = key_info(engine, key)
    assert info is not None and info.scopes == frozenset(DEFAULT_SCOPES) and not info.is_admin


def test_ownership_helpers():
    own, other, admin = KeyInfo(1, "a"), KeyInfo(2, "b"), KeyInfo(3, "c", frozenset({"admin"}))
    assert own.sees(1) and not own.sees(2) and not own.sees(None)
    assert admin.sees(2) and admin.sees(None) and admin.allows("read:records")
    assert not other.sees(1)
    owner = column("owner_key_id", Integer)
    assert str(owner_filter(own, owner).compile(compile_kwargs={"literal_binds": True})) == "owner_key_id = 1"
    assert str(owner_filter(admin, owner).compile(compile_kwargs={"literal_binds": True})) == "true"


def test_optional_key_gives_the_caller_or_none(engine, settings):
    probe = FastAPI()
    probe.state.engine = engine
    probe.dependency_overrides[get_settings] = lambda: settings

    @probe.get("/probe")
    def who(info: OptionalKeyDep) -> dict[str, int | None]:
        return {"id": info.id if info else None}

    key = create_key(engine, "opcional")
    c = TestClient(probe)
    assert c.get("/probe").json() == {"id": None}
    assert c.get("/probe", headers={"X-API-Key": key}).json() == {"id": _row(engine, key).id}
    assert c.get("/probe", headers={"X-API-Key": "gp_nope"}).status_code == 403


# --- expiry, revocation, rotation


def test_expired_and_revoked_keys_are_refused_saying_which(client, engine):
    expired = create_key(engine, "temporal", expires_days=1)
    assert client.get("/incidents", headers={"X-API-Key": expired}).status_code == 200
    _set(engine, expired, expires_at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC))
    r = client.get("/incidents", headers={"X-API-Key": expired})
    assert r.status_code == 403 and r.json()["detail"] == "the API key 'temporal' expired on 2026-01-02 03:04 UTC"
    assert not verify_key(engine, expired)

    revoked = create_key(engine, "revocada")
    record = revoke_key(engine, "revocada")
    assert record.status == "revoked" and record.name == "revocada"
    r = client.get("/incidents", headers={"X-API-Key": revoked})
    assert r.status_code == 403 and r.json()["detail"].startswith("the API key 'revocada' was revoked on ")
    with pytest.raises(KeyRefusedError, match="revoked"):
        authenticate(engine, revoked)
    with pytest.raises(UnknownKeyError):
        authenticate(engine, "gp_nope")
    with pytest.raises(InputError, match="already revoked"):
        revoke_key(engine, str(record.id))
    with pytest.raises(InputError, match="'revocada' was already revoked"):
        revoke_key(engine, "revocada")


def test_rotate_gives_a_new_secret_with_the_same_name_scopes_and_lifetime(client, engine):
    old = create_key(engine, "rotar", ["read:records", "submit:plans"], expires_days=30)
    old_row = _row(engine, old)
    record, new = rotate_key(engine, "rotar")
    assert new != old and record.name == "rotar" and record.scopes == ("read:records", "submit:plans") and record.id != old_row.id
    lifetime = record.expires_at - record.created_at
    assert abs(lifetime - dt.timedelta(days=30)) < dt.timedelta(seconds=1)
    assert client.get("/incidents", headers={"X-API-Key": new}).status_code == 200
    r = client.get("/incidents", headers={"X-API-Key": old})
    assert r.status_code == 403 and "was revoked on" in r.json()["detail"]
    record2, newer = rotate_key(engine, str(record.id), expires_days=2)  # by id, with a new lifetime
    assert abs((record2.expires_at - record2.created_at) - dt.timedelta(days=2)) < dt.timedelta(seconds=1)
    assert not verify_key(engine, new) and verify_key(engine, newer)


def test_unknown_and_ambiguous_names(engine):
    with pytest.raises(InputError, match="no API key named 'nadie'"):
        revoke_key(engine, "nadie")
    with pytest.raises(InputError, match="no API key named 'nadie'"):
        rotate_key(engine, "nadie")
    create_key(engine, "doble")
    create_key(engine, "doble")
    with pytest.raises(InputError, match=r"several API keys are named 'doble' \(ids \d+, \d+\); give the id"):
        revoke_key(engine, "doble")


def test_last_used_is_recorded(client, engine):
    key = create_key(engine, "uso")
    assert _row(engine, key).last_used_at is None
    client.get("/incidents", headers={"X-API-Key": key})
    assert _row(engine, key).last_used_at is not None
    assert next(r for r in list_keys(engine) if r.name == "uso").last_used_at is not None


# --- scopes on routes


def test_incidents_need_read_records(client, engine):
    plain = create_key(engine, "sin-registros", CREATE_SCOPES)
    r = client.get("/incidents", headers={"X-API-Key": plain})
    assert r.status_code == 403 and r.json()["detail"] == "the API key 'sin-registros' lacks the scope 'read:records'"
    admin = create_key(engine, "jefa", ["admin"])
    assert client.get("/incidents", headers={"X-API-Key": admin}).status_code == 200
    assert client.get("/incidents").status_code == 401


def test_aggregates_open_unless_required_then_read_aggregates(settings, client, engine):
    assert client.get("/zones").status_code == 200  # open by default
    records_only = create_key(engine, "solo-registros", ["read:records"])
    aggregates = create_key(engine, "tablero-agregados", ["read:aggregates"])
    with TestClient(create_app(settings.model_copy(update={"require_key_for_aggregates": True}))) as c:
        assert c.get("/zones").status_code == 401
        r = c.get("/zones", headers={"X-API-Key": records_only})
        assert r.status_code == 403 and "lacks the scope 'read:aggregates'" in r.json()["detail"]
        assert c.get("/zones", headers={"X-API-Key": aggregates}).status_code == 200


# --- failed-key limiter


@pytest.fixture
def clean_limiter(client):
    """No failed keys counted before or after the test, in the app or in the database (the
    counts are shared by every app on the database when the limiter has the engine).
    """
    _limiter_clean(client)
    yield
    _limiter_clean(client)


def _limiter_clean(client: TestClient) -> None:
    client.app.state.key_limiter = None
    with sessions(client.app.state.engine)() as s, s.begin():
        s.execute(delete(KeyFailure))


def test_failed_keys_get_429_without_locking_valid_keys_or_other_clients_out(client, engine, clean_limiter):
    good = create_key(engine, "oficina")
    assert client.get("/incidents", headers={"X-API-Key": good}).status_code == 200  # known to this process
    fresh = create_key(engine, "nueva")  # valid, but never seen from here
    for i in range(3):  # key_fail_limit=3
        assert client.get("/incidents", headers={"X-API-Key": f"gp_wrong{i}"}).status_code == 403
    r = client.get("/incidents", headers={"X-API-Key": "gp_wrong_again"})
    assert r.status_code == 429 and "too many invalid API keys" in r.json()["detail"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert client.get("/incidents", headers={"X-API-Key": good}).status_code == 200  # a valid key still works
    assert client.get("/incidents", headers={"X-API-Key": fresh}).status_code == 429  # unseen keys wait (no oracle)
    other = TestClient(client.app, client=("10.1.2.3", 40000))  # same app and state, another address
    assert other.get("/incidents", headers={"X-API-Key": "gp_wrong"}).status_code == 403
    assert other.get("/incidents", headers={"X-API-Key": fresh}).status_code == 200


def test_failed_keys_are_counted_across_api_processes_on_one_database(client, engine, settings, clean_limiter):
    """Two apps on one database (as ``--workers 2`` or two hosts): the failures of both count
    toward one limit, the block holds on both, and a key seen to work through one still works
    through the other.
    """
    with TestClient(create_app(settings)) as second:
        apps = (client, second)
        for c in apps:
            c.app.state.key_limiter = FailedKeyLimiter(
                settings.key_fail_limit, settings.key_fail_window_s, settings.key_block_s, engine=c.app.state.engine
            )
        good = create_key(engine, "vista-en-uno")
        assert client.get("/incidents", headers={"X-API-Key": good}).status_code == 200  # seen through the first app only
        fresh = create_key(engine, "sin-usar")
        for i, c in enumerate((client, second, client)):  # key_fail_limit=3, spread over both apps
            assert c.get("/incidents", headers={"X-API-Key": f"gp_wrong{i}"}).status_code == 403
        for c in apps:
            r = c.get("/incidents", headers={"X-API-Key": "gp_wrong_again"})
            assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
            assert c.get("/incidents", headers={"X-API-Key": fresh}).status_code == 429  # unseen keys wait (no oracle)
        assert second.get("/incidents", headers={"X-API-Key": good}).status_code == 200  # a valid key seen elsewhere works
        other = TestClient(second.app, client=("10.1.2.4", 40000))
        assert other.get("/incidents", headers={"X-API-Key": fresh}).status_code == 200  # other addresses are not blocked


def test_limiter_window_and_block_expire():
    now = [0.0]
    limiter = FailedKeyLimiter(limit=2, window_s=10, block_s=30, clock=lambda: now[0])
    limiter.failed("a")
    now[0] = 11.0  # the first failure left the window
    limiter.failed("a")
    assert limiter.retry_after("a", "h") is None
    limiter.failed("a")
    assert limiter.retry_after("a", "h") == 30 and limiter.retry_after("b", "h") is None
    limiter.accepted("good")
    assert limiter.retry_after("a", "good") is None
    now[0] = 41.5
    assert limiter.retry_after("a", "h") is None  # block over


def test_limiter_counts_in_the_database_expire_and_are_pruned(engine, clean_limiter):
    now = [1000.0]
    one = FailedKeyLimiter(limit=2, window_s=10, block_s=30, engine=engine, clock=lambda: now[0])
    two = FailedKeyLimiter(limit=2, window_s=10, block_s=30, engine=engine, clock=lambda: now[0])
    one.failed("a")
    now[0] = 1011.0  # the first failure left the window
    two.failed("a")
    assert one.retry_after("a", "h") is None
    one.failed("a")
    assert two.retry_after("a", "h") == 30 and two.retry_after("b", "h") is None
    now[0] = 1041.5
    assert one.retry_after("a", "h") is None  # block over
    now[0] = 1100.0
    one.failed("b")  # the first failure counted in a window's time prunes the rows with nothing recent
    with sessions(engine)() as s:
        assert [r.client for r in s.scalars(select(KeyFailure))] == ["b"]


# --- audit


def test_one_audit_line_per_incident_request_naming_the_key_never_the_key(client, engine, caplog):
    key = create_key(engine, "auditada")
    key_id = _row(engine, key).id
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        client.get("/incidents", params={"page_size": 5, "zone_id": "UPZ01"}, headers={"X-API-Key": key})
        client.get("/incidents", params={"page_size": 0}, headers={"X-API-Key": key})
        client.get("/incidents")
        client.get("/zones")  # not incident-level: no line
        revoke_key(engine, str(key_id))
        client.get("/incidents", headers={"X-API-Key": key})
    lines = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert len(lines) == 4
    first, invalid, anonymous, revoked = (r.getMessage() for r in lines)
    assert f"key_id={key_id} key_name='auditada'" in revoked and "status=403" in revoked
    assert f"key_id={key_id} key_name='auditada' method=GET route=/incidents" in first
    assert "query='page_size=5&zone_id=UPZ01' status=200" in first
    assert "status=422" in invalid and f"key_id={key_id}" in invalid
    assert "key_id=- key_name='-'" in anonymous and "status=401" in anonymous
    assert all(key not in r.getMessage() and hash_key(key) not in r.getMessage() for r in caplog.records)


# --- the command line


@pytest.fixture
def cli_env(settings, monkeypatch):
    """Run ``geoprio apikey`` against the test database (its env changes are undone after)."""
    for name in ("GEOPRIO_DATA_DIR", "GEOPRIO_MAPS_DIR", "GEOPRIO_DATABASE_URL"):
        monkeypatch.setenv(name, "unused")
    return ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]


def test_cli_create_list_revoke_rotate(cli_env, engine):
    r = runner.invoke(cli_app, ["apikey", "create", "consola", "--expires-days", "10", *cli_env])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()
    assert key.startswith("gp_") and key_info(engine, key).scopes == frozenset(CREATE_SCOPES)
    r = runner.invoke(cli_app, ["apikey", "create", "consola-registros", "--scope", "read:records", "--scope", "admin", *cli_env])
    assert r.exit_code == 0 and key_info(engine, r.stdout.strip()).scopes == frozenset({"read:records", "admin"})

    listed = runner.invoke(cli_app, ["apikey", "list", *cli_env])
    assert listed.exit_code == 0, listed.output
    for word in ("consola", "read:aggregates submit:plans", "active", "expires", "last used"):
        assert word in listed.stdout
    assert key not in listed.stdout and hash_key(key) not in listed.stdout and "gp_" not in listed.stdout

    rotated = runner.invoke(cli_app, ["apikey", "rotate", "consola", *cli_env])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.stdout.strip()
    assert new.startswith("gp_") and verify_key(engine, new) and not verify_key(engine, key)
    assert runner.invoke(cli_app, ["apikey", "revoke", "consola", *cli_env]).exit_code == 0
    assert not verify_key(engine, new)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revoke", "fantasma"], "no API key named 'fantasma'"),
        (["rotate", "fantasma"], "no API key named 'fantasma'"),
        (["create", "x" * 201], "too long: 201 characters"),
        (["create", "ok", "--scope", "root"], "unknown scope 'root'"),
    ],
)
def test_cli_errors_exit_1_with_a_message(cli_env, args, message):
    r = runner.invoke(cli_app, ["apikey", *args, *cli_env])
    assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output


def test_serve_sends_the_audit_lines_to_the_server_log():
    from geoprio.cli.serve import _log_config

    config = _log_config()
    assert config["loggers"][AUDIT_LOGGER] == {"handlers": ["audit"], "level": "INFO", "propagate": False}
    assert config["handlers"]["audit"]["stream"] == "ext://sys.stdout" and "uvicorn.access" in config["loggers"]
