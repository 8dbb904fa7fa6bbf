"""``geoprio plan cameras`` and ``geoprio plan garitas`` end to end (demo city and real data)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.spatial import cKDTree
from typer.testing import CliRunner

from geoprio.cli.plan import plan_app
from geoprio.io import files as io

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(plan_app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def index_layer(tmp_path_factory) -> Path:
    """The demo UPZ with a hand-made index: 100 in UPZ01, 0 elsewhere."""
    upz = gpd.read_file(DEMO / "upz.geojson")
    upz["index"] = np.where(upz["cod_upz"] == "UPZ01", 100.0, 0.0)
    path = tmp_path_factory.mktemp("index") / "indice.geojson"
    io.write_layer(upz, path)
    return path


def _projected(lon, lat, crs="EPSG:9377"):
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([x, y])


def test_plan_cameras_on_the_demo_city(tmp_path, index_layer):
    out = tmp_path / "camaras"
    res = run(
        "cameras", DEMO / "delitos.csv", "--existing", DEMO / "camaras.geojson", "--index", index_layer,
        "--p", "10", "--radius-m", "100", "--grid-spacing-m", "100", "--min-spacing-m", "50",
        "--method", "heuristic", "--time-limit", "5", "--out", out,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Plan de cámaras: 10 nuevas (+150 existentes), radio 100 m" in res.output
    assert "Demanda cubierta" in res.output and "Curva de cobertura" in res.output
    for name in ("sitios", "demanda"):
        for fmt in ("csv", "geojson", "gpkg"):
            assert (out / f"camaras_{name}.{fmt}").exists()
    sites = pd.read_csv(out / "camaras_sitios.csv")
    assert (sites["estado"] == "nueva").sum() == 10
    existing = gpd.read_file(DEMO / "camaras.geojson")
    assert sorted(sites.loc[sites["estado"] == "existente", "site_id"]) == sorted(existing["id"])  # existing kept
    summary = json.loads((out / "camaras_resumen.json").read_text(encoding="utf-8"))
    assert summary["objective"] <= summary["bound"] and summary["n_selected"] == 10
    # the summary's figures as Python writes them (397,504 / 27.2 %), with Spanish separators
    flat = " ".join(res.output.split())
    assert "delitos.csv: 39.940 de 40.000 filas usadas" in flat and "(p. ej. fila 12.537, columna 'id': 'D006515')" in flat
    es = _figures(summary, to_spanish=True)
    assert f"Demanda cubierta: {es['c']} (solo existentes: {es['e']}; alcanzable: {es['a']})" in flat
    assert f"Objetivo: {es['o']} — cota superior: {es['b']} — brecha: {es['g']}" in flat
    # covered share recomputed independently from the written coordinates
    demand = pd.read_csv(out / "camaras_demanda.csv")
    dxy = _projected(demand["lon"], demand["lat"])
    sxy = _projected(sites["lon"], sites["lat"])
    seen = np.asarray(cKDTree(sxy).query_ball_point(dxy, 100.0 + 1e-3, return_length=True)) > 0
    assert demand.loc[seen, "weight"].sum() / demand["weight"].sum() == pytest.approx(summary["covered_share"], abs=1e-6)
    # new sites keep 50 m from each other and from the existing cameras
    d, _ = cKDTree(sxy[sites["estado"] == "existente"]).query(sxy[sites["estado"] == "nueva"])
    assert (d >= 50 - 1e-6).all()
    # index weighting: incidents in UPZ01 weigh twice their harm
    assert set(np.round(demand["index_factor"].dropna(), 9)) <= {1.0, 2.0}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    inputs = {Path(i["path"]).name: i["sha256"] for i in manifest["inputs"]}
    assert inputs["delitos.csv"] == io.sha256_file(DEMO / "delitos.csv")
    assert {Path(o["path"]).name for o in manifest["outputs"]} >= {"camaras_sitios.csv", "camaras_curva.csv", "camaras_resumen.json"}
    assert manifest["parameters"]["radius_m"] == 100.0 and manifest["result"]["gap"] == summary["gap"]
    for o in manifest["outputs"]:
        assert io.sha256_file(o["path"]) == o["sha256"]


def test_plan_cameras_prints_english_numbers_with_lang_en(tmp_path, index_layer):
    res = run(
        "cameras", DEMO / "delitos.csv", "--existing", DEMO / "camaras.geojson", "--index", index_layer,
        "--p", "10", "--radius-m", "100", "--grid-spacing-m", "100", "--min-spacing-m", "50",
        "--method", "heuristic", "--time-limit", "5", "--lang", "en", "--out", tmp_path, "--format", "csv",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "camaras_resumen.json").read_text(encoding="utf-8"))
    flat = " ".join(res.output.split())
    assert "delitos.csv: 39,940 of 40,000 rows used" in flat and "(e.g. row 12,537, column 'id': 'D006515')" in flat
    en = _figures(summary, to_spanish=False)
    assert f"Demand covered: {en['c']} (existing alone: {en['e']}; reachable: {en['a']})" in flat
    assert f"Objective: {en['o']} — upper bound: {en['b']} — gap: {en['g']}" in flat


def _figures(summary: dict, *, to_spanish: bool) -> dict[str, str]:
    """The plan's headline figures written with Python's own formats; ``to_spanish`` swaps , and ."""
    swap = str.maketrans(",.", ".,") if to_spanish else str.maketrans("", "")
    pct = {k: f"{100 * summary[s]:.1f} %" for k, s in (("c", "covered_share"), ("e", "existing_share"), ("a", "coverable_share"))}
    return {
        **{k: v.translate(swap) for k, v in pct.items()},
        "o": f"{summary['objective']:,.0f}".translate(swap),
        "b": f"{summary['bound']:,.0f}".translate(swap),
        "g": f"{100 * summary['gap']:.2f} %".translate(swap),
    }


def test_plan_garitas_on_the_demo_beaches_in_english(tmp_path):
    out = tmp_path / "garitas"
    res = run(
        "garitas", "--coast", DEMO / "costa.geojson", "--beaches", DEMO / "playas.geojson",
        "--existing", DEMO / "garitas.geojson", "--p", "3", "--radius-m", "400", "--out", out,
        "--format", "geojson", "--format", "csv", "--lang", "en", "--time-limit", "20",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Garita plan: 3 new (+4 existing), radius 400 m along the shore" in res.output
    summary = json.loads((out / "garitas_resumen.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    stretches = gpd.read_file(out / "garitas_tramos.geojson")
    assert len(stretches) == 3 + 4
    assert (stretches.to_crs("EPSG:9377").length <= 800 + 1e-6).all()
    # uniform demand: covered share = covered metres / shore metres
    shore = gpd.read_file(out / "garitas_costa.geojson").to_crs("EPSG:9377")
    covered = stretches.to_crs("EPSG:9377").union_all().length
    assert summary["covered_share"] == pytest.approx(covered / shore.length.sum(), abs=0.01)
    assert not (out / "garitas_sitios.gpkg").exists()


def test_plan_errors_are_one_clear_message(tmp_path):
    base = ["cameras", DEMO / "delitos.csv", "--method", "heuristic", "--out", tmp_path, "--grid-spacing-m", "200"]
    res = run(*base, "--p", "5", "--radius-m", "0")
    assert res.exit_code == 1 and "radius_m must be a positive number of metres, got 0" in res.output
    res = run(*base, "--p", "100000")
    assert res.exit_code == 1 and "p=100000 new cameras requested but there are only" in res.output
    res = run(*base, "--p", "5", "--metric-crs", "EPSG:4326")
    assert res.exit_code == 1 and "geographic CRS (degrees)" in res.output
    res = run(*base, "--target", "80")
    assert res.exit_code == 2 and "--target is a share between 0 and 1" in res.output
    res = run(*base)
    assert res.exit_code == 1 and "say how many new sites (p), a budget, or a target share" in res.output
    res = run("garitas", "--p", "2")
    assert res.exit_code == 2 and "give --coast, --beaches or both" in res.output
    assert "Traceback" not in res.output


def test_fewest_garitas_to_cover_the_demo_beaches(tmp_path):
    res = run(
        "garitas", "--coast", DEMO / "costa.geojson", "--beaches", DEMO / "playas.geojson",
        "--existing", DEMO / "garitas.geojson", "--target", "1", "--radius-m", "400", "--out", tmp_path, "--format", "csv",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "garitas_resumen.json").read_text(encoding="utf-8"))
    assert summary["problem"] == "set_cover" and summary["covered_share"] == pytest.approx(1.0)
    assert summary["status"] == "optimal" and summary["objective"] == summary["bound"]


# --------------------------------------------------------------------------- real data


def test_garitas_along_the_cartagena_coast(shared_data, tmp_path):
    coast = shared_data / "cartagena" / "cartagena_coast_natural_earth_10m.geojson"
    res = run(
        "garitas", "--coast", coast, "--shore-bbox=-75.58,10.38,-75.46,10.53", "--p", "20", "--radius-m", "500",
        "--spacing-m", "100", "--out", tmp_path, "--format", "geojson",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "garitas_resumen.json").read_text(encoding="utf-8"))
    # uniform weight per metre: twenty garitas see at most 20 × 1,000 m of shore, and the
    # urban shore is long enough for them not to overlap
    assert summary["objective"] == pytest.approx(20_000, rel=0.01)
    assert summary["objective"] <= 20 * 1000 + 20 * 10  # + one 10 m demand sample per garita end
    assert summary["status"] == "optimal"


def test_cameras_for_medellin_homicides(shared_data, tmp_path):
    path = shared_data / "medellin" / "medellin_homicides.csv"
    res = run(
        "cameras", path, "--no-harm", "--p", "30", "--radius-m", "150", "--grid-spacing-m", "75",
        "--method", "heuristic", "--time-limit", "20", "--out", tmp_path, "--format", "csv",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "camaras_resumen.json").read_text(encoding="utf-8"))
    sites = pd.read_csv(tmp_path / "camaras_sitios.csv")
    # homicides within 150 m of a chosen site, counted from the raw file with a KD-tree
    from geoprio.records.load import load_points

    rec = load_points(path).data
    hxy = _projected(rec["x"], rec["y"])
    seen = np.asarray(cKDTree(_projected(sites["lon"], sites["lat"])).query_ball_point(hxy, 150.0 + 1e-3, return_length=True)) > 0
    assert seen.sum() == pytest.approx(summary["objective"])
    assert summary["objective"] <= summary["bound"] and 0 < summary["covered_share"] < 1


# --------------------------------------------------------------------------- replay, bbox, fallback


def test_plan_garitas_replays_from_its_manifest(tmp_path):
    out = tmp_path / "garitas"
    res = run(
        "garitas", "--coast", DEMO / "costa.geojson", "--beaches", DEMO / "playas.geojson",
        "--existing", DEMO / "garitas.geojson", "--p", "3", "--radius-m", "400", "--out", out, "--format", "csv",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "geoprio.plan.garitas" and manifest["options"]["p"] == 3
    res = run("garitas", "--manifest", out / "manifest.json")
    assert res.exit_code == 0, res.output
    assert "Reproducido" in res.output and "Plan de garitas: 3 nuevas" in res.output
    res = run("garitas", "--manifest", out / "manifest.json", "--coast", DEMO / "costa.geojson")
    assert res.exit_code == 2 and "give either --coast / --beaches or --manifest, not both" in res.output


def test_bbox_none_accepts_points_outside_colombia_and_anywhere_still_works(tmp_path):
    rng = np.random.default_rng(0)
    pts = pd.DataFrame({"x": -87.65 + rng.normal(0, 0.01, 300), "y": 41.85 + rng.normal(0, 0.01, 300), "category": "hurto"})
    path = tmp_path / "chicago.csv"
    pts.to_csv(path, index=False)
    base = ["cameras", path, "--p", "3", "--radius-m", "150", "--metric-crs", "EPSG:26916", "--method", "heuristic", "--format", "csv"]
    res = run(*base, "--out", tmp_path / "a")
    assert res.exit_code == 1 and "Traceback" not in res.output
    res = run(*base, "--bbox", "none", "--out", tmp_path / "b")
    assert res.exit_code == 0, res.output
    res = run(*base, "--bbox", "-88,41,-87,42", "--out", tmp_path / "c")
    assert res.exit_code == 0, res.output
    res = run(*base, "--anywhere", "--out", tmp_path / "d")
    assert res.exit_code == 0 and "--anywhere está en desuso: use --bbox none" in res.output
    res = run(*base, "--bbox", "chicago", "--out", tmp_path / "e")
    assert (
        res.exit_code == 1 and "--bbox: expected 'colombia', 'zones', 'none' or 'minlon,minlat,maxlon,maxlat', got 'chicago'" in res.output
    )


def test_a_fallback_to_the_heuristics_is_printed(tmp_path, monkeypatch):
    import sys

    import geoprio.placement.workers as workers

    monkeypatch.setattr(workers, "worker_command", lambda: [sys.executable, "-c", "import sys; sys.exit(3)"])
    res = run(
        "cameras", DEMO / "delitos.csv", "--p", "40", "--radius-m", "100", "--grid-spacing-m", "50", "--gap", "0",
        "--method", "milp", "--time-limit", "10", "--out", tmp_path, "--format", "csv", "--lang", "en",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "status: heuristic fallback: the exact search failed" in res.output
    assert "Warning: the exact search could not run (milp: exited with code 3 before finishing its task)" in res.output
    summary = json.loads((tmp_path / "camaras_resumen.json").read_text(encoding="utf-8"))
    assert summary["status"] == "fallback" and summary["fallback"].startswith("milp: exited with code 3")
