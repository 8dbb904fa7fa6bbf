"""The public release of an index table (geoprio.index.public): hand-computed small tables,
nested levels, a zone that cannot be protected, and ``geoprio index --public``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from geoprio.cli.index import register
from geoprio.demo.city import make_demo_city, write_demo_city
from geoprio.disclosure import DisclosurePolicy, Relation, attack_intervals, disclosure_of
from geoprio.index.public import public_index, public_levels, public_notes

POLICY = DisclosurePolicy(min_count=10)  # protection 5


def table(a_counts, b_counts, zone_ids=None, parents=None) -> pd.DataFrame:
    """An index table of two count indicators, min–max normalized, weights 0.5 / 0.5."""
    a = np.asarray(a_counts, dtype=float)
    b = np.asarray(b_counts, dtype=float)
    na, nb = (a - a.min()) / np.ptp(a), (b - b.min()) / np.ptp(b)
    ca, cb = 50 * na, 50 * nb
    t = pd.DataFrame(
        {
            "zone_id": zone_ids or [f"z{i + 1}" for i in range(len(a))],
            "index": ca + cb,
            "rank": pd.Series(-(ca + cb)).rank(method="min").astype(int),
            "drivers": [f"B {100 * y / (x + y):.0f} %; A {100 * x / (x + y):.0f} %" if x + y else "" for x, y in zip(ca, cb, strict=True)],
            "A": a,
            "A__norm": na,
            "A__contrib": ca,
            "A__count": a,
            "B": b,
            "B__norm": nb,
            "B__contrib": cb,
            "B__count": b,
        }
    )
    if parents is not None:
        t["parent_id"] = parents
    return t


def test_a_lone_small_count_takes_its_zones_other_cell_with_it():
    # A = [0, 30, 40, 6] → contribution 1.25·A; B = [10, 60, 20, 30] → contribution B − 10.
    # z4: 7.5 + 20 = 27.5. A = 6 is the only small count: alone, 27.5 − 20 = 7.5 → A = 6.
    t = table([0, 30, 40, 6], [10, 60, 20, 30])
    pub = public_index(t, POLICY, labels={"A": "A", "B": "B"})
    assert pub.safe and pub.exposed_zones == ()
    assert pub.hidden.loc["z4"].tolist() == [True, True] and pub.hidden.drop("z4").to_numpy().sum() == 0
    assert pub.secondary.loc["z4"].tolist() == [False, True]
    row = pub.table.set_index("zone_id").loc["z4"]
    assert row[["A", "A__norm", "A__contrib", "A__count", "B", "B__contrib", "B__count"]].isna().all()
    assert row["index"] == pytest.approx(27.5) and row["rank"] == 3 and row["drivers"] == ""
    assert pub.table.set_index("zone_id").loc["z2", "drivers"] == t.loc[1, "drivers"]  # untouched zones as written
    # the attacker: 1.25·A + B = 37.5 with B in [10, 60] (its contribution in [0, 50]) → A in [1, 22]
    lo, hi = attack_intervals(
        [0, 30, 40, 6, 10, 60, 20, 30],
        [False] * 3 + [True] + [False] * 3 + [True],
        [Relation([3, 7], [1.25, 1.0], 37.5)],
        lower=[0, 1, 1, 1, 1, 1, 1, 10],
        upper=[np.inf] * 7 + [60],
    )
    assert (lo[3], hi[3]) == pytest.approx((1.0, 22.0))


def test_no_policy_is_the_table_as_written():
    t = table([0, 30, 40, 6], [10, 60, 20, 30])
    pub = public_index(t, None)
    assert pub.table is t and not pub.hidden.to_numpy().any()


def test_a_zone_no_choice_protects_loses_its_index_and_says_so():
    # z4 has a single positive count (B = 0 is published): its index gives A away
    t = table([0, 30, 40, 6], [10, 60, 20, 10])
    pub = public_index(t, POLICY)
    assert not pub.safe and pub.exposed_zones == ("z4",)
    row = pub.table.set_index("zone_id").loc["z4"]
    assert np.isnan(row["index"]) and np.isnan(row["A__count"]) and row["rank"] == t.loc[3, "rank"]


def test_nested_levels_protect_through_the_parent_sum():
    # children c1..c4 in parents p1 (c1, c2) and p2 (c3, c4); each parent count = Σ children.
    child = table([5, 40, 30, 25], [30, 20, 40, 50], zone_ids=["c1", "c2", "c3", "c4"], parents=["p1", "p1", "p2", "p2"])
    parent = table([45, 55], [50, 90], zone_ids=["p1", "p2"])
    out = public_levels({"child": child, "parent": parent}, POLICY, parents={"child": "parent"})
    hidden_child, hidden_parent = out["child"].hidden, out["parent"].hidden
    assert hidden_child.at["c1", "A"]
    # the parent relation A(p1) = A(c1) + A(c2) must not give c1 away: c2 or p1 hidden too
    assert hidden_child.at["c2", "A"] or hidden_parent.at["p1", "A"]
    assert out["child"].safe and out["parent"].safe


def test_public_notes_drop_city_totals():
    notes = {
        "indicators": {"A": {"records": 40, "weighted_count": 50.0, "harm_per_record": 1.25, "denominator": "population"}},
        "weights": {"A": 1},
    }
    assert public_notes(notes, POLICY) == {"indicators": {"A": {"denominator": "population"}}, "weights": {"A": 1}}
    assert public_notes(notes, None) == notes


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("index_public")
    return write_demo_city(make_demo_city(11, n_incidents=4000), root / "demo")


def test_cli_public_writes_the_public_release(demo_config, tmp_path):
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    full_dir, pub_dir = tmp_path / "full", tmp_path / "public"
    base = ["index", str(demo_config), "--draws", "0", "--format", "csv"]
    assert runner.invoke(app, [*base, "--out", str(full_dir)]).exit_code == 0
    r = runner.invoke(app, [*base, "--out", str(pub_dir), "--public"])
    assert r.exit_code == 0, r.output
    doc = json.loads((pub_dir / "manifest.json").read_text(encoding="utf-8"))
    assert doc["disclosure"] == {"public": True, "min_count": 10, "protection": 5}
    assert (disclosure_of(doc).min_count, disclosure_of(doc).protection_level) == (10, 5)
    assert disclosure_of(json.loads((full_dir / "manifest.json").read_text(encoding="utf-8"))) is None
    full = pd.read_csv(full_dir / "indice_upz.csv", dtype={"zone_id": str})
    pub = pd.read_csv(pub_dir / "indice_upz.csv", dtype={"zone_id": str})
    counts = pub[[c for c in pub.columns if c.endswith("__count")]].to_numpy()
    assert not POLICY.hidden(counts).any() and np.isnan(counts).sum() > 0
    # the file agrees with what the API computes from the full table
    expected = public_index(full, POLICY, manifest=json.loads((full_dir / "manifest.json").read_text(encoding="utf-8")))
    assert np.array_equal(np.isnan(counts), expected.hidden.to_numpy())
    # published indices are the full ones; the demo's densities leave one zone of this sparse city
    # (every count under 10) without a publishable index, as the API computes too
    published = pub["index"].notna().to_numpy()
    assert published.sum() >= len(pub) - 1
    assert pub["index"][published].tolist() == pytest.approx(full["index"][published].tolist())
    assert pub["index"].tolist() == pytest.approx(expected.table["index"].astype(float).tolist(), nan_ok=True)
    assert json.loads((pub_dir / "indice_upz_validacion.json").read_text(encoding="utf-8")) == {}
    assert "records" not in json.loads((pub_dir / "indice_upz_notas.json").read_text(encoding="utf-8"))["indicators"]["violencia"]
    r = runner.invoke(app, ["index", "--manifest", str(pub_dir / "manifest.json")])
    assert r.exit_code == 1 and "replays full" in r.output
    r = runner.invoke(app, [*base, "--min-count", "5"])
    assert r.exit_code == 1 and "--public" in r.output


def test_a_minimum_held_only_by_a_hidden_cell_gets_a_second_candidate():
    # A = [3, 30, 40, 20]: z1's 3 is the minimum, which the published (value, normalized)
    # pairs of z2..z4 give away (min 3, span 37); were z1 the only hidden A, it would be the 3.
    # The published A nearest the minimum (z4, 20) is hidden too, with its zone's other cell.
    t = table([3, 30, 40, 20], [30, 60, 20, 10])
    pub = public_index(t, POLICY)
    assert pub.safe
    assert pub.hidden.to_numpy().tolist() == [[True, True], [False, False], [False, False], [True, True]]
    assert pub.secondary.to_numpy().tolist() == [[False, True], [False, False], [False, False], [True, True]]
    # without the rule (z-scores have no extreme to give away) only z1 is hidden
    assert public_index(t, POLICY, normalization="rank").hidden.to_numpy().sum() == 2
