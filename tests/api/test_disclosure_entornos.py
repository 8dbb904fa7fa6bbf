"""Issue 14's attacks on the served entornos (``/entornos`` in every format, ``/entornos/{id}``,
``/entornos/plan``), default settings, no key: each attack recovers no more hidden values
exactly than the best constant guess does. A key with ``read:records`` and ``min_count=0``
still see everything.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.disclosure.complementary import Relation, attack_intervals

BLOCKS = ("block_00_06", "block_06_12", "block_12_18", "block_18_24")


def _settings(root: Path, tmp: Path, **kw: Any) -> Settings:
    return Settings(data_dir=root / "demo" / "output", maps_dir=root / "maps", database_url=f"sqlite:///{tmp}/x.sqlite", **kw)


@pytest.fixture(scope="module")
def client(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(demo_root, tmp_path_factory.mktemp("db")))) as c:
        yield c


@pytest.fixture(scope="module")
def truth(demo_root: Path) -> dict[str, Any]:
    """The full outputs on disk: the place table, the weekly profiles and the plan."""
    out = demo_root / "demo" / "output" / "entornos"
    table = pd.read_csv(out / "entornos.csv", dtype={"place_id": str}).set_index("place_id")
    week = pd.read_csv(out / "entornos_perfiles.csv", dtype={"place_id": str})
    shifts = pd.read_csv(out / "entornos_despliegue_equipos.csv", dtype={"place": str})
    summary = json.loads((out / "entornos_despliegue.json").read_text(encoding="utf-8"))
    w = table["weighted_incidents"]
    return {"table": table, "week": week, "shifts": shifts, "summary": summary, "hidden": list(w[(w > 0) & (w < 10)].index)}


def _best_constant(values: list[Any]) -> int:
    """Hidden values the best constant guess gets right: how often the most common one occurs."""
    return Counter(values).most_common(1)[0][1] if values else 0


def _day(table: pd.DataFrame, pid: str) -> np.ndarray:
    return np.array([float(v) for v in str(table.loc[pid, "hours_profile"]).split()])


def test_hidden_places_show_no_peak_hour_nor_driver_in_any_format(client, truth):
    hidden = truth["hidden"]
    assert len(hidden) >= 10  # the demo has places with 1 to 9 incidents near them
    served = {it["place_id"]: it for it in client.get("/entornos", params={"page_size": 500}).json()["items"]}
    csv = pd.read_csv(io.StringIO(client.get("/entornos", params={"page_size": 500, "format": "csv"}).text), dtype={"place_id": str})
    geo = client.get("/entornos", params={"page_size": 500, "format": "geojson"}).json()["features"]
    csv, geo = csv.set_index("place_id"), {f["properties"]["place_id"]: f["properties"] for f in geo}
    derived = ("weighted_incidents", "index", "rank", "peak_hours", "peak_hours_share", "drivers", "pattern", "ratio_ring")
    for pid in hidden:
        assert served[pid]["suppressed"] and geo[pid]["suppressed"] and bool(csv.loc[pid, "suppressed"])
        assert all(served[pid][k] is None and geo[pid].get(k) is None and pd.isna(csv.loc[pid, k]) for k in derived), pid
        d = client.get(f"/entornos/{pid}").json()
        assert d["profile_day"] is None and d["profile_week"] is None and d["profile_blocks"] is None and d["shifts"] == []
        assert all(i["value"] is None and i["count"] is None and i["contribution"] is None for i in d["indicators"])
        assert d["peak_week"] is None and all(v is None for v in d["surroundings"].values())
    # the attack: the hour of each hidden place's busiest hour (a single incident's hour), and its first driver
    table = truth["table"]
    hours = [int(np.argmax(_day(table, pid))) for pid in hidden]
    guessed = [int(served[pid]["peak_hours"][:2]) if served[pid]["peak_hours"] else None for pid in hidden]
    exact = sum(g == h for g, h in zip(guessed, hours, strict=True))
    assert exact <= _best_constant(hours)
    drivers = [str(table.loc[pid, "drivers"]).split(" ")[0] for pid in hidden]
    named = [served[pid]["drivers"].split(" ")[0] if served[pid]["drivers"] else None for pid in hidden]
    assert sum(a == b for a, b in zip(named, drivers, strict=True)) <= _best_constant(drivers)


def test_coarse_profiles_resist_subtraction_from_their_totals(client, truth):
    table, week = truth["table"], truth["week"]
    cells, hidden_truth, exact = 0, [], 0
    for pid in table.index:
        if pid in truth["hidden"] or not table.loc[pid, "weighted_incidents"] > 0:
            continue
        d = client.get(f"/entornos/{pid}").json()
        blocks = _day(table, pid).reshape(4, 6).sum(axis=1)
        mine = week[week["place_id"] == pid]
        days = np.bincount(mine["weekday"], weights=mine["incidents"], minlength=7)
        for served, true in ((d["profile_blocks"], blocks), (d["profile_weekdays"], days)):
            cells += len(true)
            hide = np.array([v is None for v in served])
            if not hide.any():
                assert np.allclose(served, true)
                continue
            # the attacker knows every published bin and the total of the profile
            lo, hi = attack_intervals(true, hide, [Relation(list(range(len(true))), [1.0] * len(true), float(true.sum()))])
            exact += int(np.sum(hide & (hi - lo < 1e-6) & np.isclose(lo, true)))
            hidden_truth += true[hide].tolist()
    assert cells > 100 and hidden_truth  # something was hidden, the attack had work to do
    assert exact <= _best_constant(hidden_truth)


def test_indicator_contributions_do_not_follow_from_the_index(client, truth):
    table = truth["table"]
    names = [c.removesuffix("__count") for c in table.columns if c.endswith("__count")]
    hidden_truth, exact = [], 0
    for it in client.get("/entornos", params={"page_size": 500}).json()["items"]:
        pid = it["place_id"]
        d = client.get(f"/entornos/{pid}").json()
        parts = {i["name"]: i["contribution"] for i in d["indicators"]}
        hide = np.array([parts[m] is None for m in names])
        if it["suppressed"] or not hide.any():
            continue
        true = np.array([float(table.loc[pid, f"{m}__contrib"]) for m in names])
        hidden_truth += [round(v, 3) for v in true[hide]]
        if it["index"] is None:
            continue
        # subtraction: index = Σ contributions, each at least 0
        lo, hi = attack_intervals(true, hide, [Relation(list(range(len(names))), [1.0] * len(names), float(it["index"]))], lower=0.0)
        exact += int(np.sum(hide & (hi - lo < 1e-3) & np.isclose(lo, true, atol=1e-3)))
    assert hidden_truth and exact <= _best_constant(hidden_truth)


def test_deployment_shifts_resist_subtraction_from_the_covered_total(client, truth):
    plan = client.get("/entornos/plan").json()
    shifts, full = plan["shifts"], truth["shifts"]
    assert not {s["place"] for s in shifts} & set(truth["hidden"])
    values = full["value"].to_numpy(dtype=float)
    key = {(s["team"], s["start_slot"]): s["value"] for s in shifts}
    hide = np.array([key.get((t, s)) is None for t, s in zip(full["team"], full["start_slot"], strict=True)])
    covered = plan["summary"]["covered"]
    exact = 0
    if covered is not None and hide.any():
        lo, hi = attack_intervals(values, hide, [Relation(list(range(len(values))), [1.0] * len(values), float(covered))])
        exact = int(np.sum(hide & (hi - lo < 1e-6) & np.isclose(lo, values)))
    assert exact <= _best_constant(values[hide].tolist())


def test_a_key_with_read_records_and_min_count_zero_see_everything(demo_root, truth, tmp_path):
    table, pid = truth["table"], truth["hidden"][0]
    with TestClient(create_app(_settings(demo_root, tmp_path))) as c:
        key = create_key(c.app.state.engine, "lectora", ["read:aggregates", "read:records"])
        item = c.get(f"/entornos/{pid}", headers={"X-API-Key": key}).json()
        assert not item["suppressed"] and item["weighted_incidents"] == table.loc[pid, "weighted_incidents"]
        assert item["peak_hours"] == table.loc[pid, "peak_hours"] and item["profile_day"] == _day(table, pid).tolist()
        plan = c.get("/entornos/plan", headers={"X-API-Key": key}).json()
        assert [s["value"] for s in plan["shifts"]] == truth["shifts"]["value"].tolist()
        aggregates = create_key(c.app.state.engine, "agregados", ["read:aggregates"])
        assert c.get(f"/entornos/{pid}", headers={"X-API-Key": aggregates}).json()["suppressed"]
    with TestClient(create_app(_settings(demo_root, tmp_path, min_count=0))) as c:
        item = c.get(f"/entornos/{pid}").json()
        assert not item["suppressed"] and item["drivers"] == table.loc[pid, "drivers"]
        assert c.get("/entornos/plan").json()["summary"] == truth["summary"]
