"""The public release of an entornos run (geoprio.entornos.public), on hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geoprio.disclosure import DisclosurePolicy
from geoprio.entornos.public import BLOCK_COLUMNS, WEEKDAY_COLUMNS, public_entornos

POLICY = DisclosurePolicy(min_count=10)  # protection 5


def _day(bins: dict[int, float]) -> str:
    return " ".join(f"{bins.get(h, 0):g}" for h in range(24))


def _table() -> pd.DataFrame:
    """Five places; indicator contributions are linear: hurtos 1 per record, violencia 2."""
    rows = [
        # id, weighted, hurtos, violencia, day profile, ring records
        ("A", 1.0, 1.0, 0.0, {6: 1}, 40),  # one theft at 06 h: a hidden place
        ("B", 30.0, 30.0, 0.0, {1: 10, 7: 10, 13: 10}, 40),  # every bin publishable
        ("C", 20.0, 20.0, 0.0, {1: 15, 7: 5}, 3),  # one small block; a small ring
        ("D", 15.0, 12.0, 3.0, {1: 15}, 40),  # a small indicator, protected by the other one
        ("E", 12.0, 0.0, 2.0, {20: 12}, 40),  # a small indicator alone: the index must go
    ]
    out = []
    for pid, w, h, v, day, ring in rows:
        out.append(
            {
                "place_id": pid,
                "name": f"Lugar {pid}",
                "type": "estación",
                "radius_m": 100.0,
                "lon": -75.5,
                "lat": 10.4,
                "influence_km2": 0.03,
                "index": h + 2 * v,
                "rank": 0,
                "tier": "alta",
                "drivers": "Hurtos 100 %",
                "hurtos": h,
                "hurtos__norm": h / 30,
                "hurtos__contrib": h,
                "hurtos__count": h,
                "violencia": v,
                "violencia__norm": v / 3,
                "violencia__contrib": 2 * v,
                "violencia__count": v,
                "weighted_incidents": w,
                "incidents_ring": float(ring),
                "records_ring": ring,
                "ratio_ring": 2.0,
                "pattern": "atrae",
                "peak_hours": "06:00–07:00",
                "peak_hours_n": 1,
                "peak_hours_share": 1.0,
                "peak_week": "jue 06:00–07:00",
                "no_hour": 0.0,
                "hours_profile": _day(day),
            }
        )
    t = pd.DataFrame(out)
    t["rank"] = t["index"].rank(ascending=False, method="first").astype(int)
    return t


def _profiles() -> pd.DataFrame:
    """Weekly bins: every place's day profile on Thursday (weekday 3)."""
    rows = []
    for r in _table().itertuples():
        for h, v in enumerate(float(x) for x in r.hours_profile.split()):
            if v:
                rows.append({"place_id": r.place_id, "weekday": 3, "day": "jue", "hour": h, "incidents": v})
    return pd.DataFrame(rows)


def _row(pub, pid: str) -> pd.Series:
    t = pub.table
    return t[t["place_id"] == pid].iloc[0]


def _nan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def test_full_access_changes_nothing():
    t = _table()
    pub = public_entornos(t, None, profiles=_profiles())
    assert pub.table.drop(columns="suppressed").equals(t) and not pub.table["suppressed"].any()
    assert pub.profiles is not None and pub.profiles.equals(_profiles()) and not pub.hidden.to_numpy().any()


def test_a_hidden_place_keeps_only_what_identifies_it():
    pub = public_entornos(_table(), POLICY, profiles=_profiles())
    a = _row(pub, "A")
    assert a["suppressed"] and a["name"] == "Lugar A" and a["radius_m"] == 100.0
    for col in ("weighted_incidents", "index", "rank", "tier", "drivers", "peak_hours", "peak_hours_share", "peak_week", "pattern"):
        assert _nan(a[col]), col
    assert all(_nan(a[c]) for c in BLOCK_COLUMNS + WEEKDAY_COLUMNS)
    assert pub.hidden.loc["A"].all()
    assert pub.profiles is not None and "A" not in set(pub.profiles["place_id"])


def test_a_place_with_every_bin_publishable_keeps_its_hours():
    b = _row(public_entornos(_table(), POLICY, profiles=_profiles()), "B")
    assert not b["suppressed"] and b["index"] == 30 and b["drivers"] == "Hurtos 100 %"
    assert [b[c] for c in BLOCK_COLUMNS] == [10, 10, 10, 0]
    assert [b[c] for c in WEEKDAY_COLUMNS] == [0, 0, 0, 30, 0, 0, 0]
    assert b["peak_hours"] == "06:00–07:00" and b["hours_profile"] == _day({1: 10, 7: 10, 13: 10})


def test_a_small_block_hides_its_complement_and_the_hourly_profile():
    c = _row(public_entornos(_table(), POLICY, profiles=_profiles()), "C")
    # blocks 15 + 5 = 20 (known): 5 alone would follow by subtraction, so 15 goes too
    assert _nan(c["block_00_06"]) and _nan(c["block_06_12"]) and c["block_12_18"] == 0 and c["block_18_24"] == 0
    assert c["weekday_3"] == 20  # one weekday holds them all: published
    assert _nan(c["hours_profile"]) and _nan(c["peak_hours"]) and _nan(c["peak_week"])
    # the ring holds 3 records: the surroundings go, the place stays
    assert _nan(c["records_ring"]) and _nan(c["ratio_ring"]) and _nan(c["pattern"]) and c["weighted_incidents"] == 20


def test_a_small_indicator_is_protected_by_complementary_suppression():
    pub = public_entornos(_table(), POLICY, profiles=_profiles())
    d = _row(pub, "D")
    # index = h + 2 v = 18 with v = 3 hidden: h = 12 is hidden too, so v ∈ [1, 8.5] ⊇ [1, 8]
    assert d["index"] == 18 and _nan(d["violencia__count"]) and _nan(d["violencia__contrib"]) and _nan(d["hurtos__count"])
    assert _nan(d["drivers"]) and pub.hidden.loc["D"].tolist() == [True, True]
    # index = 2 v with nothing else to hide: the index and the rank go
    e = _row(pub, "E")
    assert _nan(e["violencia__count"]) and _nan(e["index"]) and _nan(e["rank"]) and not e["suppressed"]


def test_deployment_drops_hidden_places_and_protects_small_shifts():
    shifts = pd.DataFrame(
        {
            "team": [1, 1, 2],
            "place": ["B", "C", "A"],
            "place_index": [1, 2, 0],
            "day": [3, 3, 3],
            "start_hour": [0, 8, 4],
            "end_hour": [8, 16, 12],
            "start_slot": [72, 80, 76],
            "value": [12.0, 3.0, 1.0],
            "share": [0.5, 0.125, 1 / 24],
        }
    )
    summary = {"teams": 2, "covered": 16.0, "total": 24.0, "share": 16 / 24, "bound": 16.0, "gap": 0.0}
    pub = public_entornos(_table(), POLICY, profiles=_profiles(), summary=summary, by_team=shifts, by_place=shifts)
    assert pub.by_team is not None and pub.by_place is not None and pub.summary is not None
    assert pub.by_team["place"].tolist() == ["B", "C"] and pub.by_place["place"].tolist() == ["B", "C"]
    # 3 and 1 hidden leave 12 + x + y = 16 exact unless 12 goes too
    assert pub.by_team["value"].isna().all() and pub.by_team["share"].isna().all()
    assert pub.summary["covered"] == 16.0 and pub.summary["share"] == 16 / 24


def test_policy_zero_like_threshold_publishes_everything_but_hidden_places():
    pub = public_entornos(_table(), DisclosurePolicy(min_count=1), profiles=_profiles())
    assert not pub.table["suppressed"].any() and pub.table["index"].notna().all()
    assert np.array_equal(pub.table["block_00_06"].to_numpy(), [0, 10, 15, 15, 0])


def test_the_command_writes_the_public_release(tmp_path):
    import json

    from typer.testing import CliRunner

    from geoprio.cli import app
    from geoprio.demo import run_demo

    run_demo(tmp_path / "demo", seed=11, n_incidents=600, new_cameras=1, new_garitas=1)
    config, out = tmp_path / "demo" / "entornos.toml", tmp_path / "publico"
    r = CliRunner().invoke(app, ["entornos", str(config), "--draws", "0", "--public", "--min-count", "5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["disclosure"] == {"public": True, "min_count": 5, "protection": 3}
    table = pd.read_csv(out / "entornos.csv")
    w = table["weighted_incidents"]
    assert "suppressed" in table and "block_00_06" in table and not ((w > 0) & (w < 5)).any()
    assert table.loc[table["suppressed"], "peak_hours"].isna().all() and not (out / "entornos_validacion.json").exists()
    assert set(pd.read_csv(out / "entornos_perfiles.csv").columns) == {"place_id", "profile", "bin", "incidents"}
    r = CliRunner().invoke(app, ["entornos", str(config), "--min-count", "5"])
    assert r.exit_code != 0 and "--public" in r.output
