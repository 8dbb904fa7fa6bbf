"""The zones channel against the issue's attack (issue 14): subtraction on contributions and
``drivers``, run on the served ``/zones`` outputs of the demo city with the default settings.

The attacker is given more than the server publishes: the exact linear map from each cell's
count to its contribution (``contribution = a·count + b``, from the full table), so that any
recovery the served outputs allow shows up. The attack recovers no more hidden counts
exactly than the best constant guess does.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from geoprio.api.keys import create_key
from geoprio.api.main import create_app
from geoprio.api.settings import Settings

from geoprio.disclosure import DEFAULT_MIN_COUNT, DisclosurePolicy, Relation, attack_intervals
from geoprio.index.public import indicator_names


def _settings(root: Path, tmp: Path, **kw) -> Settings:
    return Settings(data_dir=root / "demo" / "output", maps_dir=root / "maps", database_url=f"sqlite:///{tmp}/x.sqlite", **kw)


@pytest.fixture(scope="module")
def full(demo_root) -> pd.DataFrame:
    """The full index table as written (what only a key with read:records may see)."""
    t = pd.read_csv(demo_root / "demo" / "output" / "indice_upz.csv", dtype={"zone_id": str})
    return t.set_index("zone_id")


@pytest.fixture(scope="module")
def served(demo_root, tmp_path_factory) -> dict:
    """Everything /zones serves without a key, in every format, under the default settings."""
    tmp = tmp_path_factory.mktemp("zones_attack")
    with TestClient(create_app(_settings(demo_root, tmp))) as c:
        listing = c.get("/zones", params={"page_size": 500}).json()
        details = {z["zone_id"]: c.get(f"/zones/{z['zone_id']}").json() for z in listing["items"]}
        csv = pd.read_csv(io.StringIO(c.get("/zones", params={"page_size": 500, "format": "csv"}).text), dtype={"zone_id": str})
        geojson = c.get("/zones", params={"page_size": 500, "format": "geojson"}).json()
    return {"list": listing, "details": details, "csv": csv, "geojson": geojson}


def _model(full: pd.DataFrame) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """The exact per-record slope ``a`` and intercept ``b`` of every cell (the attacker's gift)."""
    names = indicator_names(full.reset_index())
    a = pd.DataFrame(index=full.index, columns=names, dtype=float)
    for n in names:
        v, c, k = full[n], full[f"{n}__count"], full[f"{n}__contrib"]
        beta = np.polyfit(v, k, 1)[0]
        per_record = (v / c).where(c > 0, 1.0) if n != "tendencia" else pd.Series(1.0, index=full.index)
        a[n] = beta * per_record
    b = pd.DataFrame({n: full[f"{n}__contrib"] - a[n] * full[f"{n}__count"] for n in names})
    return names, a, b


def _attack(details: dict, full: pd.DataFrame) -> tuple[int, int, int, int]:
    """Run subtraction (and the attacker's full linear program) on the served details.

    Returns (hidden cells, recovered exactly, best constant guess, small counts the linear
    program bounds within the protection interval).
    """
    names, a, b = _model(full)
    zones = list(details)
    cells = [(z, n) for z in zones for n in names]
    pos = {cell: i for i, cell in enumerate(cells)}
    true = np.array([full.at[z, f"{n}__count"] for z, n in cells], dtype=float)
    hidden = np.array([next(i for i in details[z]["indicators"] if i["name"] == n)["count"] is None for z, n in cells])
    relations, by_subtraction = [], {}
    for z in zones:
        d = details[z]
        if d["index"] is None:
            continue
        shown = {i["name"]: i for i in d["indicators"]}
        rest = d["index"] - sum(i["contribution"] for i in d["indicators"] if i["contribution"] is not None)
        gone = [n for n in names if shown[n]["contribution"] is None]
        if len(gone) == 1:  # the subtraction: one hidden contribution per zone
            n = gone[0]
            by_subtraction[(z, n)] = round((rest - b.at[z, n]) / a.at[z, n])
        # the joint attack: Σ a·count over hidden cells = index − published − Σ b (served rounding ±1e-4 per term)
        idx = [pos[(z, n)] for n in gone]
        rhs = rest - sum(b.at[z, n] for n in gone)
        relations.append(Relation(idx, [a.at[z, n] for n in gone], rhs))
    # a-priori bounds: at least 1 record, and a contribution within the indicator's published range
    lower, upper = np.ones(len(cells)), np.full(len(cells), np.inf)
    for i, (z, n) in enumerate(cells):
        ends = sorted(((full[f"{n}__contrib"].min() - b.at[z, n]) / a.at[z, n], (full[f"{n}__contrib"].max() - b.at[z, n]) / a.at[z, n]))
        lower[i], upper[i] = max(1.0, min(true[i], np.floor(ends[0] + 1e-9))), max(true[i], np.ceil(ends[1] - 1e-9))
    lo, hi = attack_intervals(true, hidden, relations, lower=lower, upper=upper)
    level = DisclosurePolicy().protection_level
    primary = DisclosurePolicy().hidden(true)
    exposed = primary & ((hi < np.minimum(true + level, upper) - 1e-6) | (lo > np.maximum(true - level, lower) + 1e-6))
    # the extremes: two published (value, normalized) pairs give each indicator's min and max,
    # held by some zone; if no published zone holds one and a single hidden cell can, it is that
    for n in names:
        shown = [
            (i["value"], i["normalized"]) for d in details.values() for i in d["indicators"] if i["name"] == n and i["value"] is not None
        ]
        if len({v for v, _ in shown}) < 2:
            continue
        for end in (0.0, 1.0):
            if any(abs(m - end) < 1e-9 for _, m in shown):
                continue
            k_end = end * (full[f"{n}__contrib"].max() - full[f"{n}__contrib"].min()) + full[f"{n}__contrib"].min()
            can = [
                i
                for i, (z, m) in enumerate(cells)
                if m == n and hidden[i] and min(lo[i], hi[i]) <= (k_end - b.at[z, n]) / a.at[z, n] + 1e-6 <= max(lo[i], hi[i]) + 2e-6
            ]
            if len(can) == 1:
                z = cells[can[0]][0]
                by_subtraction[cells[can[0]]] = round((k_end - b.at[z, n]) / a.at[z, n])
    recovered = 0
    for i in np.flatnonzero(hidden):
        guess = by_subtraction.get(cells[i])
        exact_lp = np.isfinite(hi[i]) and hi[i] - lo[i] < 1.0 and round((lo[i] + hi[i]) / 2) == true[i]
        recovered += int((guess is not None and guess == true[i]) or exact_lp)
    best_constant = max(Counter(true[hidden].tolist()).values()) if hidden.any() else 0
    return int(hidden.sum()), recovered, best_constant, int(exposed.sum())


def test_subtraction_on_contributions_recovers_no_more_than_a_constant_guess(served, full):
    n_hidden, recovered, best_constant, exposed = _attack(served["details"], full)
    counts = full[[c for c in full.columns if c.endswith("__count")]].to_numpy()
    primaries = int(DisclosurePolicy().hidden(counts).sum())
    assert n_hidden >= primaries > 0  # every small count hidden, plus the secondary cells
    assert recovered <= best_constant
    assert recovered == 0 and exposed == 0  # every small count keeps ± protection records of doubt
    assert (n_hidden, primaries, best_constant) == (54, 39, 9)


def test_the_old_release_gave_counts_away(full):
    """Before: only the small counts were hidden (the old route). Subtraction recovers the 5
    alone in their zone exactly (fewer than the 9 a constant guess gets right, but the guess
    does not know which), and the linear program bounds 14 within the protection interval.
    """
    names, _, _ = _model(full)
    policy = DisclosurePolicy()
    details = {}
    for z, row in full.iterrows():
        inds = []
        for n in names:
            hide = policy.hides(row[f"{n}__count"])
            inds.append(
                {
                    "name": n,
                    "count": None if hide else row[f"{n}__count"],
                    "contribution": None if hide else row[f"{n}__contrib"],
                    "value": None if hide else row[n],
                    "normalized": None if hide else row[f"{n}__norm"],
                }
            )
        details[z] = {"index": row["index"], "indicators": inds}
    n_hidden, recovered, best_constant, exposed = _attack(details, full)
    assert (n_hidden, recovered, best_constant, exposed) == (39, 5, 9, 14)


def test_drivers_name_no_hidden_indicator(served, full, demo_root):
    import json

    labels = json.loads((demo_root / "demo" / "output" / "manifest.json").read_text())["parameters"]["index"]["labels"]
    for z, d in served["details"].items():
        for i in d["indicators"]:
            if i["suppressed"]:
                assert labels[i["name"]] not in (d["drivers"] or ""), (z, i["name"])
                assert i["value"] is None and i["normalized"] is None and i["contribution"] is None and i["rate_raw"] is None
    # every format serves the same public drivers and index
    by_id = {d["zone_id"]: d for d in served["list"]["items"]}
    for _, row in served["csv"].iterrows():
        assert (row["drivers"] if isinstance(row["drivers"], str) else "") == (by_id[row["zone_id"]]["drivers"] or "")
    for f in served["geojson"]["features"]:
        assert f["properties"]["drivers"] == by_id[f["properties"]["zone_id"]]["drivers"]
        assert f["properties"]["index"] == by_id[f["properties"]["zone_id"]]["index"]


def test_index_and_rank_stay_published(served, full):
    counts = full[[c for c in full.columns if c.endswith("__count")]]
    withheld = []
    for d in served["list"]["items"]:
        assert d["rank"] == full.at[d["zone_id"], "rank"]
        if d["index"] is None:  # only a zone whose every count is small loses its index (its rank stays)
            assert (counts.loc[d["zone_id"]] < DEFAULT_MIN_COUNT).all()
            withheld.append(d["zone_id"])
        else:
            assert d["index"] == pytest.approx(full.at[d["zone_id"], "index"])
        assert served["details"][d["zone_id"]]["suppressed_below"] == DEFAULT_MIN_COUNT
    assert len(withheld) <= 1


def test_a_key_that_reads_records_sees_everything_and_min_count_0_publishes_all(demo_root, tmp_path, full):
    with TestClient(create_app(_settings(demo_root, tmp_path))) as c:
        key = create_key(c.app.state.engine, "analista")  # default scopes include read:records
        weak = create_key(c.app.state.engine, "tablero", scopes=["read:aggregates"])
        z = full["index"].idxmin()
        d = c.get(f"/zones/{z}", headers={"X-API-Key": key}).json()
        assert d["suppressed_below"] == 0 and not any(i["suppressed"] for i in d["indicators"])
        assert [i["count"] for i in d["indicators"]] == [full.at[z, f"{i['name']}__count"] for i in d["indicators"]]
        assert c.get("/zones", headers={"X-API-Key": key}).json()["items"][-1]["drivers"] == full.at[full.index[-1], "drivers"]
        d = c.get(f"/zones/{z}", headers={"X-API-Key": weak}).json()
        assert d["suppressed_below"] == DEFAULT_MIN_COUNT and any(i["suppressed"] for i in d["indicators"])
        assert c.get(f"/zones/{z}", headers={"X-API-Key": "not-a-key"}).status_code == 403
    with TestClient(create_app(_settings(demo_root, tmp_path, min_count=0))) as c:
        d = c.get(f"/zones/{z}").json()
        assert d["suppressed_below"] == 0 and not any(i["suppressed"] for i in d["indicators"])
        assert [i["contribution"] for i in d["indicators"]] == [full.at[z, f"{i['name']}__contrib"] for i in d["indicators"]]
