"""Plan inputs: a demand weight column, candidates and existing sites from CSV, the load report,
and a warning when harm weighting finds no category.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer

from geoprio.errors import ColumnError, CRSError, InputError
from geoprio.placement import plan_cameras, plan_garitas
from geoprio.placement.sites import NoCategoryWarning
from geoprio.records.report import ValidationReport

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
METRIC = "EPSG:9377"
X0, Y0 = 4_880_000.0, 2_075_000.0
TO_WGS = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
#: One camera, exact solve: the objective is the weight of the best candidate's incidents.
ONE = {"p": 1, "radius_m": 50.0, "method": "milp", "time_limit_s": 10.0}


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = TO_WGS.transform(X0 + dx, Y0 + dy)
    return float(lon), float(lat)


def _incidents(path: Path, *, category: bool = True) -> Path:
    """Three incidents at A (origin), one at B (1 km east) with weight 10; each row counts 1."""
    rows = [(0, 0, 1), (5, 0, 1), (0, 5, 1), (1000, 0, 10)]
    head = "lon,lat,delito,peso,weight" if category else "lon,lat,peso,weight"
    lines = [head]
    for dx, dy, w in rows:
        lon, lat = _lonlat(dx, dy)
        lines.append(f"{lon:.7f},{lat:.7f}," + ("Hurto a personas," if category else "") + f"{w},{w}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _candidates(path: Path) -> Path:
    """Candidates at A and at B, as a ';' CSV with decimal commas."""
    lines = ["codigo;longitud;latitud;costo"]
    for code, dx in (("A", 0.0), ("B", 1000.0)):
        lon, lat = _lonlat(dx, 0)
        lines.append(f"{code};{str(round(lon, 7)).replace('.', ',')};{str(round(lat, 7)).replace('.', ',')};1")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_weight_column_multiplies_each_points_weight(tmp_path):
    inc, cand = _incidents(tmp_path / "inc.csv"), _candidates(tmp_path / "cand.csv")
    plain = plan_cameras(inc, candidates=cand, harm=False, **ONE)
    assert plain.result.objective == pytest.approx(3.0)  # three incidents at A beat one at B
    assert plain.sites.loc[plain.sites["estado"] == "nueva", "site_id"].tolist() == ["PUN-00001"]
    weighted = plan_cameras(inc, candidates=cand, harm=False, weight_column="peso", **ONE)
    assert weighted.result.objective == pytest.approx(10.0)  # B's incident weighs 10
    assert weighted.parameters["weight_column"] == "peso" and weighted.options.weight_column == "peso"
    np.testing.assert_allclose(sorted(weighted.demand["weight"]), [1, 1, 1, 10])
    # a column literally named 'weight' (the case) is read too, as each row's weight
    named = plan_cameras(inc, candidates=cand, harm=False, weight_column="weight", **ONE)
    assert named.result.objective == pytest.approx(10.0)
    with pytest.raises(ColumnError, match=r"column 'pesos' \(in keep\) not found.*'peso'"):
        plan_cameras(inc, candidates=cand, harm=False, weight_column="pesos", **ONE)
    with pytest.raises(InputError, match="rename one of them"):
        plan_cameras(inc, candidates=cand, harm=False, weight_column="weight", incident_options={"count": "peso"}, **ONE)


def test_the_weight_column_multiplies_the_count_and_the_harm(tmp_path):
    from geoprio.records.harm import load_harm_table
    from geoprio.records.load import load_points

    inc = _incidents(tmp_path / "inc.csv")
    records = load_points(inc, keep=["peso"])
    run = plan_cameras(records, candidates=_candidates(tmp_path / "cand.csv"), weight_column="peso", **ONE)
    harm = float(load_harm_table().lookup(records.data["category"]).iloc[0])
    assert run.result.objective == pytest.approx(10.0 * harm)


def test_candidates_and_existing_sites_from_csv(tmp_path):
    inc, cand = _incidents(tmp_path / "inc.csv"), _candidates(tmp_path / "cand.csv")
    run = plan_cameras(inc, candidates=cand, existing=cand, harm=False, p=1, radius_m=50.0, method="milp")
    assert run.result.n_selected == 0 or run.result.objective == pytest.approx(0.0)  # the existing cameras already see all
    assert (run.sites["estado"] == "existente").sum() == 2 and set(run.sites["site_id"]) >= {"A", "B"}
    assert ("candidates", cand) in run.inputs and run.options.candidates == cand
    # coordinates in metres need their CRS, through candidate_options
    metric = tmp_path / "cand_m.csv"
    metric.write_text(f"id,este,norte\nA,{X0},{Y0}\nB,{X0 + 1000},{Y0}\n", encoding="utf-8")
    with pytest.raises(CRSError, match=r"look projected \(metres\); give their CRS"):
        plan_cameras(inc, candidates=metric, harm=False, **ONE)
    by_crs = plan_cameras(inc, candidates=metric, harm=False, candidate_options={"crs": METRIC}, **ONE)
    assert by_crs.result.objective == pytest.approx(3.0)
    bad = tmp_path / "cand_bad.csv"
    bad.write_text("lon,lat\n-74.1,4.6\n,4.7\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"candidates \(cand_bad\.csv\): row 3, column 'lon'"):
        plan_cameras(inc, candidates=bad, harm=False, **ONE)
    with pytest.raises(InputError, match=r"candidates_options: unknown setting\(s\) \['lon'\]"):
        plan_cameras(inc, candidates=cand, harm=False, candidate_options={"lon": "x"}, **ONE)


def test_the_demand_load_report_comes_with_the_plan(tmp_path):
    inc = tmp_path / "inc.csv"
    lon, lat = _lonlat(0, 0)
    inc.write_text(
        f"lon,lat,delito\n{lon},{lat},Hurto a personas\n,{lat},Hurto a personas\n{lon},{lat},Hurto a personas\n", encoding="utf-8"
    )
    run = plan_cameras(inc, candidates=_candidates(tmp_path / "cand.csv"), **ONE)
    report = run.reports["incidents"]
    assert isinstance(report, ValidationReport) and report.n_read == 3 and report.n_kept == 2
    load = run.notes["demand"]["load"]
    assert load["rows_read"] == 3 and load["dropped"] == {"missing_coordinates": 1} and load["columns"]["x"] == "lon"
    assert run.summary()["notes"]["demand"]["load"]["rows_kept"] == 2


def test_harm_weighting_without_categories_warns(tmp_path):
    inc = _incidents(tmp_path / "inc.csv", category=False)
    cand = _candidates(tmp_path / "cand.csv")
    with pytest.warns(NoCategoryWarning, match=r"none of the 4 demand points has a category .* every point weighs 1"):
        run = plan_cameras(inc, candidates=cand, **ONE)
    assert run.notes["demand"]["harm_without_categories"] == 4 and run.result.objective == pytest.approx(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan_cameras(inc, candidates=cand, harm=False, **ONE)  # harm off: nothing to warn about
        plan_cameras(_incidents(tmp_path / "con.csv"), candidates=cand, **ONE)  # categories found: no warning


def test_garitas_take_the_weight_column_existing_csv_and_report_the_load(tmp_path):
    coast = gpd.read_file(DEMO / "costa.geojson")
    line = coast.to_crs(METRIC).geometry.iloc[0]
    pts = [line.interpolate(d) for d in (100.0, 120.0, 2000.0)]
    lonlat = gpd.GeoSeries(pts, crs=METRIC).to_crs(4326)
    inc = tmp_path / "playa.csv"
    inc.write_text(
        "lon,lat,delito,peso\n" + "".join(f"{p.x:.7f},{p.y:.7f},Hurto a personas,{w}\n" for p, w in zip(lonlat, (1, 1, 5), strict=True)),
        encoding="utf-8",
    )
    existing = tmp_path / "garitas.csv"
    far = gpd.GeoSeries([line.interpolate(line.length - 10)], crs=METRIC).to_crs(4326).iloc[0]
    existing.write_text(f"nombre,lon,lat\nG1,{far.x:.7f},{far.y:.7f}\n", encoding="utf-8")
    common = {"coast": DEMO / "costa.geojson", "incidents": inc, "existing": existing, "p": 1, "radius_m": 150.0, "method": "milp"}
    plain = plan_garitas(harm=False, **common)
    weighted = plan_garitas(harm=False, weight_column="peso", **common)
    assert plain.result.objective == pytest.approx(2.0) and weighted.result.objective == pytest.approx(5.0)
    assert weighted.parameters["weight_column"] == "peso"
    assert weighted.notes["demand"]["load"]["rows_kept"] == 3 and weighted.reports["incidents"].n_read == 3
    assert (weighted.sites["estado"] == "existente").sum() == 1


def test_the_cli_takes_a_weight_column_csv_candidates_and_warns_without_categories(tmp_path):
    from typer.testing import CliRunner

    from geoprio.cli.plan import plan_app

    inc, cand = _incidents(tmp_path / "inc.csv", category=False), _candidates(tmp_path / "cand.csv")
    common = ["cameras", str(inc), "--candidates", str(cand), "--p", "1", "--radius-m", "50", "--method", "milp", "--time-limit", "10"]
    r = CliRunner().invoke(plan_app, [*common, "--weight-column", "peso", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "4 de 4 filas" in r.output  # the demand's load report is printed
    assert "no category" in r.output.lower() or "sin categor" in r.output.lower()  # harm weighting found none: said in one line
    sites = gpd.read_file(tmp_path / "out" / "camaras_sitios.geojson")
    assert sites.loc[sites["estado"] == "nueva", "site_id"].tolist() == ["PUN-00002"]  # the weight 10 at B beats three at A
