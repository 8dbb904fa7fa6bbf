"""The public release of a tracking run (geoprio.seguimiento.public): hand-built documents with
hand-computed expectations, the table and the layer, and ``geoprio indicators --public``.

Policy min_count 10 (protection 5) unless said otherwise: counts of 1 to 9 are hidden, and a
hidden count must stay uncertain by ±5 records (clipped at 1) given every published sum.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from geoprio.cli.application import app
from geoprio.disclosure import DisclosurePolicy, disclosure_of
from geoprio.seguimiento import load_targets, public_tracking, track, write_public_tracking
from tests.builders import write_tiny_city

POLICY = DisclosurePolicy()  # min_count 10, protection 5


def entry(year: int, count: float | None, *, target: float | None = None, progress: float | None = None) -> dict[str, Any]:
    """A yearly entry of a count indicator (actual = count)."""
    return {
        "year": year,
        "months": 12,
        "actual": count,
        "actual_annualized": None,
        "count": count,
        "target": target,
        "target_to_date": None,
        "progress": progress,
        "progress_capped": None if progress is None else min(max(progress, 0.0), 1.0),
        "cumulative_actual": None,
        "cumulative_target": None,
        "plan_total_target": None,
        "progress_plan_total": None,
        "notes": ["a note"],
    }


def row(zone: str, base: float, now: float) -> dict[str, Any]:
    """A breakdown row of a count indicator (the values follow from the counts)."""
    return {
        "zone_id": zone,
        "name": zone,
        "count_base": base,
        "count": now,
        "value_base": base,
        "value": now,
        "value_annualized": now,
        "value_change": now - base,
        "part_base": base,
        "part": now,
        "change": now - base,
        "share_of_change": None,
        "expected": -0.1 * base,
        "shortfall": now - base + 0.1 * base,
        "share_of_shortfall": None,
        "proportional_target": 0.9 * base,
        "progress": None,
        "progress_capped": None,
        "gap_to_city_target": None,
    }


def indicator(ident: str, level: str, **kw: Any) -> dict[str, Any]:
    base = {
        "id": ident,
        "label": ident,
        "objective": "o",
        "objective_label": "o",
        "weight": 1.0,
        "source": "delitos",
        "unit": "count",
        "unit_label": "casos",
        "per": None,
        "direction": "lower_is_better",
        "trend": "decreciente",
        "trend_label": "Decreciente",
        "level": level,
        "baseline_year": 2022,
        "baseline": None,
        "targets": None,
        "relative_targets": {"2023": -0.1},
        "program_years": [2023],
        "years": [2022, 2023],
        "progress_by_year": {"2022": None, "2023": None},
        "progress_uncapped_by_year": {"2022": None, "2023": None},
        "notes": [
            {"code": "unplaced", "year": 2022, "text": "2022: 2 casos sin zona"},
            {"code": "partial_year", "year": 2023, "text": "x"},
        ],
        "summary": {"year": 2023, "progress": None, "progress_uncapped": None},
    }
    return {**base, **kw}


def zone(zone_id: str, base: float, now: float) -> dict[str, Any]:
    return {
        "zone_id": zone_id,
        "name": zone_id,
        "baseline": base,
        "targets": {"2023": 0.9 * base},
        "series": [entry(2022, base), entry(2023, now, target=0.9 * base, progress=(base - now) / (0.1 * base))],
        "notes": [],
        "months": [{"month": "2023-01", "count": now, "value": now, "year_to_date": now}],
    }


def document() -> dict[str, Any]:
    """robo: the city (30 in 2022, 28 in 2023) and its breakdown per localidad, A 20 → 18,
    B 7 → 6, C 3 → 4 (B and C hidden); robo_zona: the same counts as a zone-level indicator with
    relative targets (baseline × 0.9)."""
    months_2022 = [15, 0, 15] + [0] * 9  # no small month: published
    months_2023 = [10, 1, 17] + [0] * 9  # one month of 1: the whole year withheld
    months = [
        {"month": f"2022-{i + 1:02d}", "count": c, "value": c, "year_to_date": sum(months_2022[: i + 1])} for i, c in enumerate(months_2022)
    ]
    months += [
        {"month": f"2023-{i + 1:02d}", "count": c, "value": c, "year_to_date": sum(months_2023[: i + 1])} for i, c in enumerate(months_2023)
    ]
    robo = indicator(
        "robo",
        "city",
        baseline=30.0,
        targets={"2023": 27.0},
        series=[entry(2022, 30.0), entry(2023, 28.0, target=27.0, progress=2 / 3)],
        months=months,
        progress_by_year={"2022": None, "2023": 0.666667},
        progress_uncapped_by_year={"2022": None, "2023": 0.666667},
        breakdown={
            "level": "localidad",
            "baseline_year": 2022,
            "by_year": {"2023": [row("A", 20, 18), row("B", 7, 6), row("C", 3, 4), row("_unplaced", 0, 0)]},
        },
    )
    robo["summary"].update(actual=28.0, target=27.0, progress=0.666667, progress_uncapped=0.666667, months=12)
    zonal = indicator("robo_zona", "localidad", zones=[zone("A", 20, 18), zone("B", 7, 6), zone("C", 3, 4)])
    zonal["progress_by_year"] = {"2022": None, "2023": 0.5}
    zonal["summary"].update(progress=0.5, zones=3, zones_with_progress=3, zones_met=1)
    return {
        "kind": "geoprio.seguimiento",
        "title": "t",
        "lang": "es",
        "year": 2023,
        "years": [2022, 2023],
        "levels": ["city", "localidad"],
        "plan": {"progress": 0.583333, "progress_by_year": {"2022": None, "2023": 0.583333}},
        "objectives": [
            {
                "id": "o",
                "label": "o",
                "weight": 1.0,
                "progress": 0.583333,
                "progress_by_year": {"2022": None, "2023": 0.583333},
                "indicators": ["robo", "robo_zona"],
            }
        ],
        "indicators": [robo, zonal],
    }


def test_full_access_returns_the_outputs_unchanged():
    doc, table = document(), pd.DataFrame({"a": [1]})
    pub = public_tracking(doc, None, table=table, layer={"features": []})
    assert pub.document == doc and pub.table is table and pub.layer == {"features": []} and (pub.primary, pub.secondary) == (0, 0)


def test_the_input_document_is_not_changed():
    doc = document()
    before = copy.deepcopy(doc)
    public_tracking(doc, POLICY)
    assert doc == before


def test_the_breakdown_hides_the_small_zones_and_the_cheapest_complement():
    """30 = A 20 + B 7 + C 3 (2022) and 28 = 18 + 6 + 4 (2023): B and C are primary; B and C
    alone give each other at most 1 record of room (B ≤ 30 − 20 − 1 = 9 < 7 + 5), so A (20,
    cheaper than the city's 30) is hidden too; the city stays published."""
    pub = public_tracking(document(), POLICY)
    robo = pub.document["indicators"][0]
    rows = {r["zone_id"]: r for r in robo["breakdown"]["by_year"]["2023"]}
    for z in ("A", "B", "C"):
        assert rows[z]["suppressed"] and rows[z]["count"] is None and rows[z]["count_base"] is None and rows[z]["value_change"] is None
    assert rows["_unplaced"]["count"] == 0 and not rows["_unplaced"].get("suppressed")
    assert [e["count"] for e in robo["series"]] == [30.0, 28.0] and robo["baseline"] == 30.0 and robo["targets"] == {"2023": 27.0}
    assert robo["progress_by_year"]["2023"] == pytest.approx(0.666667)
    assert (pub.primary, pub.secondary, pub.safe) == (4, 2, True)  # B, C in both years; A in both years
    assert pub.document["disclosure"] == {"public": True, "min_count": 10, "protection": 5, "hidden": 6, "secondary": 2, "safe": True}


def test_a_count_met_in_two_indicators_is_hidden_in_both():
    """robo_zona publishes the breakdown's counts again: A's 20 and 18 are hidden there too."""
    zones = {z["zone_id"]: z for z in public_tracking(document(), POLICY).document["indicators"][1]["zones"]}
    assert all(e["count"] is None and e["actual"] is None and e["suppressed"] for z in zones.values() for e in z["series"])


def test_relative_targets_of_a_hidden_baseline_are_hidden():
    """target = baseline × (1 + r): with the baseline hidden, the target (and the progress
    against it) would give it away; r itself stays."""
    ind = public_tracking(document(), POLICY).document["indicators"][1]
    b = next(z for z in ind["zones"] if z["zone_id"] == "B")
    assert b["baseline"] is None and b["baseline_suppressed"] and b["targets"] == {"2023": None} and b["notes"] == []
    assert all(e["target"] is None and e["progress"] is None for e in b["series"])
    assert ind["relative_targets"] == {"2023": -0.1}
    assert b["months"] == []  # a zone's month split is internal


def test_the_month_split_is_withheld_whole_when_a_month_is_small():
    months = public_tracking(document(), POLICY).document["indicators"][0]["months"]
    y2022 = [m for m in months if m["month"].startswith("2022")]
    y2023 = [m for m in months if m["month"].startswith("2023")]
    assert [m["count"] for m in y2022] == [15, 0, 15] + [0] * 9 and not any(m.get("suppressed") for m in y2022)
    assert all(m["count"] is None and m["value"] is None and m["year_to_date"] is None and m["suppressed"] for m in y2023)


def test_aggregates_are_recomputed_from_the_published_values():
    """robo_zona's progress is hidden in every zone: the objective's and the plan's progress
    become robo's alone (2/3), not the mean with a hidden value."""
    doc = public_tracking(document(), POLICY).document
    zonal = doc["indicators"][1]
    assert zonal["progress_by_year"]["2023"] is None and zonal["summary"]["zones_with_progress"] == 0
    assert doc["objectives"][0]["progress"] == pytest.approx(0.666667) and doc["plan"]["progress"] == pytest.approx(0.666667)


def test_notes_that_quote_a_count_are_left_out():
    doc = public_tracking(document(), POLICY).document
    assert [n["code"] for n in doc["indicators"][0]["notes"]] == ["partial_year"]
    assert doc["indicators"][0]["series"][0]["notes"] == ["a note"]  # a published entry keeps its notes


def test_nothing_small_hides_nothing():
    doc = document()
    pub = public_tracking(doc, DisclosurePolicy(min_count=3))  # no count of 1 or 2 in the year cells; a month of 1
    robo = pub.document["indicators"][0]
    assert pub.primary == 0 and robo["breakdown"] == doc["indicators"][0]["breakdown"]
    assert pub.document["indicators"][1]["zones"][0]["series"] == doc["indicators"][1]["zones"][0]["series"]
    assert robo["months"][13]["count"] is None  # the month of 1 withholds its year's split


def hierarchy_doc() -> dict[str, Any]:
    """upz A1 12, A2 3 (in L1), A3 50 (in L2); localidad L1 15, L2 50, all in 2022."""
    upz = indicator("u", "upz", relative_targets=None, years=[2022], zones=[])
    upz["zones"] = [
        {"zone_id": z, "name": z, "baseline": None, "targets": {}, "series": [entry(2022, c)], "notes": []}
        for z, c in (("A1", 12.0), ("A2", 3.0), ("A3", 50.0))
    ]
    loc = indicator("l", "localidad", relative_targets=None, years=[2022], zones=[])
    loc["zones"] = [
        {"zone_id": z, "name": z, "baseline": None, "targets": {}, "series": [entry(2022, c)], "notes": []}
        for z, c in (("L1", 15.0), ("L2", 50.0))
    ]
    doc = document()
    doc.update(levels=["city", "upz", "localidad"], indicators=[upz, loc])
    doc["objectives"][0]["indicators"] = ["u", "l"]
    return doc


def _counts(doc: dict[str, Any], ident: str) -> dict[str, Any]:
    ind = next(i for i in doc["indicators"] if i["id"] == ident)
    return {z["zone_id"]: z["series"][0]["count"] for z in ind["zones"]}


def test_a_parent_zone_protects_its_children():
    """L1 = A1 + A2: with A2 (3) hidden, L1 − A1 would give it away; A1 (12, cheaper than 15)
    is hidden too. A3 is in another localidad and stays."""
    pub = public_tracking(hierarchy_doc(), POLICY, parents={"A1": "L1", "A2": "L1", "A3": "L2"})
    assert _counts(pub.document, "u") == {"A1": None, "A2": None, "A3": 50.0}
    assert _counts(pub.document, "l") == {"L1": 15.0, "L2": 50.0}


def test_without_the_hierarchy_the_base_level_is_withheld():
    pub = public_tracking(hierarchy_doc(), POLICY)
    assert _counts(pub.document, "u") == {"A1": None, "A2": None, "A3": None}
    assert _counts(pub.document, "l") == {"L1": 15.0, "L2": 50.0}


# --------------------------------------------------------------------------- table, layer, files


def test_table_and_layer_hide_what_the_document_hides():
    doc = document()
    table = pd.DataFrame(
        [
            {
                "indicator": "robo",
                "zone_id": "city",
                "year": 2023,
                "count": 28.0,
                "actual": 28.0,
                "baseline": 30.0,
                "target": 27.0,
                "notes": "n",
            },
            {
                "indicator": "robo_zona",
                "zone_id": "B",
                "year": 2022,
                "count": 7.0,
                "actual": 7.0,
                "baseline": 7.0,
                "target": None,
                "notes": "",
            },
            {
                "indicator": "robo_zona",
                "zone_id": "B",
                "year": 2023,
                "count": 6.0,
                "actual": 6.0,
                "baseline": 7.0,
                "target": 6.3,
                "notes": "",
            },
        ]
    )
    layer = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "indicator": "robo",
                    "zone_id": "A",
                    "scope": "breakdown",
                    "count": 18.0,
                    "actual": 18.0,
                    "baseline": 20.0,
                    "target": 18.0,
                },
            },
            {
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "indicator": "robo_zona",
                    "zone_id": "C",
                    "scope": "zone",
                    "count": 4.0,
                    "actual": 4.0,
                    "baseline": 3.0,
                    "target": 2.7,
                    "value_change": 1.0,
                },
            },
        ],
    }
    pub = public_tracking(doc, POLICY, table=table, layer=layer)
    t = pub.table
    assert t["suppressed"].tolist() == [False, True, True]
    assert t.loc[0, "count"] == 28.0 and t.loc[0, "notes"] == "n"
    assert t.loc[1:, ["count", "actual", "baseline", "target"]].isna().all().all()
    a, c = (f["properties"] for f in pub.layer["features"])
    assert a["suppressed"] and all(a[k] is None for k in ("count", "actual", "baseline")) and a["target"] is None  # A's baseline is hidden
    assert c["suppressed"] and all(c[k] is None for k in ("count", "actual", "baseline", "target", "value_change"))
    assert table.loc[0, "count"] == 28.0 and layer["features"][0]["properties"]["count"] == 18.0  # inputs unchanged


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_city(tmp_path_factory.mktemp("public_tiny") / "ciudad")


def test_write_public_tracking_records_the_policy(tiny, tmp_path):
    res = track(load_targets(tiny))
    written = write_public_tracking(res, DisclosurePolicy(min_count=3), tmp_path / "pub")
    manifest = json.loads(written.manifest.read_text(encoding="utf-8"))
    policy = disclosure_of(manifest)
    assert policy is not None and (policy.min_count, policy.protection_level) == (3, 2)
    table = pd.read_csv(tmp_path / "pub" / "seguimiento.csv", dtype={"zone_id": str})
    l2 = table[(table["indicator"] == "hurto_localidad") & (table["year"] == 2023)]
    assert l2["count"].isna().all() and l2["suppressed"].all()  # L2's 1 hurto, and L1's 3 that would give it away
    layer = json.loads((tmp_path / "pub" / "seguimiento_zonas.geojson").read_text(encoding="utf-8"))
    assert any(f["properties"]["suppressed"] for f in layer["features"])
    assert "Ciudad de prueba" in (tmp_path / "pub" / "seguimiento.html").read_text(encoding="utf-8")
    full = write_public_tracking(res, None, tmp_path / "full")
    assert disclosure_of(json.loads(full.manifest.read_text(encoding="utf-8"))) is None
    assert (tmp_path / "full" / "seguimiento.json").read_bytes() != (tmp_path / "pub" / "seguimiento.json").read_bytes()


def test_cli_public(tiny, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["indicators", str(tiny), "--out", str(tmp_path / "o"), "--public", "--min-count", "3"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "o" / "seguimiento_manifest.json").read_text(encoding="utf-8"))
    assert manifest["disclosure"] == {"public": True, "min_count": 3, "protection": 2}
    r = runner.invoke(app, ["indicators", str(tiny), "--out", str(tmp_path / "p"), "--min-count", "3"])
    assert r.exit_code != 0 and "--public" in r.output
    before = (tmp_path / "o" / "seguimiento.json").read_bytes()
    r = runner.invoke(app, ["indicators", "--manifest", str(tmp_path / "o" / "seguimiento_manifest.json")])
    assert r.exit_code != 0 and "not replayed" in r.output  # a replay would write the full outputs over it
    assert (tmp_path / "o" / "seguimiento.json").read_bytes() == before
