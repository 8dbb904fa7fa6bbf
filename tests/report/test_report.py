"""The bulletin on the demo city: ranking, changes against a previous run, zone sheets, PDF, public release.

The demo (geoprio.demo.run_demo, 4,000 incidents) is built once into a temporary folder; the
"previous period" is the same city's index run again with equal weights, written to its own
folder, so that ranks move and the changes can be checked against the two tables.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from geoprio.cli import report as report_cli
from geoprio.demo import run_demo
from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError
from geoprio.index import load_config, public_index, run_index
from geoprio.report import (
    REPORT_KIND,
    build_report,
    fmt_change,
    fmt_int,
    fmt_number,
    fmt_pct,
    period_of,
    rank_changes,
    replay_report,
    report_options,
)
from tests.report.pages import es, rows
from tests.report.pdf import pdf_info

CHROMIUM = shutil.which("chromium") is not None
needs_chromium = pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("demo")
    run_demo(root, n_incidents=4000)
    cfg = load_config(root / "indice.toml")
    prev_dir = root / "previous"
    cfg = cfg.model_copy(
        update={
            "index": cfg.index.model_copy(update={"weighting": "equal"}),
            "robustness": cfg.robustness.model_copy(update={"draws": 0}),
        }
    )
    run_index(cfg).write(prev_dir, ["csv", "geojson"])
    out = root / "output"
    return {"root": root, "index": out, "previous": prev_dir, "hotspots": out / "hotspots", "entornos": out / "entornos"}


def test_number_formats_follow_the_language():
    assert fmt_number(100000, "es", 0) == "100.000" and fmt_number(100000, "en", 0) == "100,000"
    assert fmt_number(12345.678, "es", 2) == "12.345,68" and fmt_number(12345.678, "en", 2) == "12,345.68"
    assert fmt_pct(0.125, "es") == "12,5 %" and fmt_pct(0.125, "en") == "12.5%"
    assert fmt_int(2248.4, "es") == "2.248" and fmt_int(None, "es") == "—" and fmt_number(float("nan"), "en") == "—"
    assert fmt_change(3, "es") == "▲ 3" and fmt_change(-2, "en") == "▼ 2" and fmt_change(0, "es") == "=" and fmt_change(None, "es") == "—"


def test_the_period_comes_from_the_manifest():
    def doc(*inds: dict) -> dict:
        return {"options": {"indicators": list(inds)}}

    assert period_of(doc({"column": "CMH19CONT"}, {"column": "CMLP19CONT"})) == "2019"
    dated = doc({"date_from": "2024-01-01", "date_to": "2024-06-30"}, {"date_from": "2024-02-01", "date_to": "2024-12-31"})
    assert period_of(dated) == "2024-01-01 – 2024-12-31"
    assert period_of(doc({"categories": ["Hurto"]}, {"date_from": "2024-01-01", "date_to": "2024-12-31"})) is None  # not all dated


def test_rank_change_is_the_difference_of_the_two_runs_ranks():
    current = pd.DataFrame(
        {"zone_id": ["A", "B", "C", "D"], "index": [90, 50, 20, None], "rank": [1, 2, 3, None], "tier": ["alta", "media", "baja", None]}
    )
    previous = pd.DataFrame({"zone_id": ["B", "A", "C"], "index": [70, 60, 10], "rank": [1, 2, 3], "tier": ["alta", "media", "baja"]})
    t = rank_changes(current, previous).set_index("zone_id")
    assert t.loc["A", "rank_change"] == 1 and t.loc["B", "rank_change"] == -1 and t.loc["C", "rank_change"] == 0
    assert t.loc["A", "tier_change"] == 1 and t.loc["B", "tier_change"] == -1 and t.loc["C", "tier_change"] == 0
    assert pd.isna(t.loc["D", "rank_change"]) and list(t.index) == ["A", "B", "C", "D"]


@needs_chromium
def test_the_demo_bulletin(demo, tmp_path):
    report = build_report(
        report_options(index=demo["index"], previous=demo["previous"], hotspots=demo["hotspots"], entornos=demo["entornos"], pdf=True)
    )
    written = report.write(tmp_path / "boletin")
    assert [p.name for p in written.files] == ["boletin.html", "boletin_mapa.png", "boletin_ranking.csv", "boletin.pdf"]
    page = written.files[0].read_text(encoding="utf-8")
    table = pd.read_csv(demo["index"] / "indice_upz.csv", dtype={"zone_id": str})
    prev = pd.read_csv(demo["previous"] / "indice_upz.csv", dtype={"zone_id": str}).set_index("zone_id")
    # the first ranked zone and its index, as the index run wrote them, in Spanish format
    first = table.sort_values("rank").iloc[0]
    cells = rows(page)
    assert list(cells)[0] == first["zone_id"]
    assert cells[first["zone_id"]][1].startswith(first["name"]) and es(first["index"]) in cells[first["zone_id"]]
    assert cells[first["zone_id"]][3] == es(first["population"], 0)  # "2.248", not "2,248"
    # the rank change against the previous run is the difference of the two runs' ranks, for every zone
    moved = 0
    for _, r in table.iterrows():
        delta = int(prev.loc[r["zone_id"], "rank"] - r["rank"])
        moved += delta != 0
        expected = "=" if delta == 0 else f"{'▲' if delta > 0 else '▼'} {abs(delta)}"
        assert cells[r["zone_id"]][-1] == expected, r["zone_id"]
        assert cells[r["zone_id"]][-2] == str(int(prev.loc[r["zone_id"], "rank"]))
    assert moved > 5  # equal weights do move the demo's ranks
    csv = pd.read_csv(written.files[2], dtype={"zone_id": str}).set_index("zone_id")
    assert (csv["rank_change"] == prev["rank"].reindex(csv.index) - csv["rank"]).all()
    # one sheet per zone, each on its own page; the map embedded
    assert page.count('class="sheet ficha"') == len(table) == len(report.zones)
    assert 'src="data:image/png;base64,' in page and "https://" not in page.split("<body>", 1)[1]
    assert page.count("break-before: page") == 1 and "Versión interna" in page
    # the sheet of the first zone: its indicators, hot spots and places inside
    sheet = page.split(f'id="ficha-{first["zone_id"]}"', 1)[1].split("</section>", 1)[0]
    assert "Zona de rumba La Candelaria" in sheet and re.search(r"HS\d{3}", sheet) and "Horas pico" in sheet
    assert "Violencia (daño ponderado)" in sheet
    # the PDF: A4 landscape, more pages than zones (a sheet each, plus the sections)
    info = pdf_info(written.files[3])
    assert info.pages > len(table) and all(s == pytest.approx((297.0, 210.0), abs=0.2) for s in info.sizes_mm)
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["kind"] == REPORT_KIND and doc["summary"]["sheets"] == len(table) and "disclosure" not in doc
    assert {Path(i["path"]).name for i in doc["inputs"]} >= {
        "manifest.json",
        "indice_upz.geojson",
        "hotspots_clusters.geojson",
        "entornos.geojson",
    }


@needs_chromium
def test_each_zone_sheet_is_one_page(demo, tmp_path):
    def pages(n: int) -> int:
        rep = build_report(report_options(index=demo["index"], hotspots=demo["hotspots"], entornos=demo["entornos"], pdf=True, sheets=n))
        return pdf_info(rep.write(tmp_path / f"b{n}").files[-1]).pages

    assert pages(6) - pages(0) == 6


def test_english_without_map_and_replay(demo, tmp_path):
    report = build_report(report_options(index=demo["index"], lang="en", map=False, sheets=2))
    written = report.write(tmp_path / "en")
    page = written.files[0].read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Ranking of zones" in page and "No map (asked for none)." in page
    assert "No previous period" in page and page.count('class="sheet ficha"') == 2
    first = pd.read_csv(demo["index"] / "indice_upz.csv").sort_values("rank").iloc[0]
    assert f"{first['population']:,.0f}" in rows(page)[first["zone_id"]]  # "2,248"
    again = replay_report(written.manifest, out_dir=tmp_path / "again")
    assert again.different == [] and "boletin_ranking.csv" in again.identical
    assert (tmp_path / "again" / "boletin.html").read_text(encoding="utf-8") == page


def test_public_bulletin(demo, tmp_path):
    policy = DisclosurePolicy()
    with pytest.raises(InputError, match=r"hotspots .*a public bulletin shows only public releases.*full \(internal\) release"):
        build_report(report_options(index=demo["index"], hotspots=demo["hotspots"], public=policy, map=False))
    report = build_report(report_options(index=demo["index"], public=policy, map=False))
    written = report.write(tmp_path / "pub")
    page = written.files[0].read_text(encoding="utf-8")
    assert 'data-release="public"' in page and "Versión pública" in page and "1 a 9 registros" in page
    doc = json.loads((demo["index"] / "manifest.json").read_text(encoding="utf-8"))
    expected = public_index(pd.read_csv(demo["index"] / "indice_upz.csv", dtype={"zone_id": str}), policy, manifest=doc).table
    got = pd.read_csv(written.files[1], dtype={"zone_id": str}).set_index("zone_id")
    hidden = expected.set_index("zone_id")["violencia__count"].isna()
    assert hidden.any() and got.loc[hidden[hidden].index, "violencia__count"].isna().all()
    assert json.loads(written.manifest.read_text(encoding="utf-8"))["disclosure"]["public"] is True


def test_errors_name_the_folder(demo, tmp_path):
    with pytest.raises(InputError, match=r"index .*: no manifest.json in it"):
        build_report(report_options(index=tmp_path, map=False))
    with pytest.raises(InputError, match=r"previous .*not a folder"):
        build_report(report_options(index=demo["index"], previous=tmp_path / "nowhere", map=False))


def test_report_command(demo, tmp_path):
    app = typer.Typer()
    app.callback()(lambda: None)
    report_cli.register(app)
    result = CliRunner().invoke(app, ["report", str(demo["index"]), "--out", str(tmp_path / "b"), "--no-map", "--sheets", "1"])
    assert result.exit_code == 0, result.output
    assert "Boletín: 30 zonas, 1 fichas." in result.output and (tmp_path / "b" / "boletin.html").is_file()
    missing = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "c")])
    assert missing.exit_code == 1 and "INDEX_DIR" in missing.output
