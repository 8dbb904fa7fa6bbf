"""The public release of a plan (geoprio.placement.public), on hand-made sites."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoprio.disclosure import DisclosurePolicy
from geoprio.placement.public import PlanCounts, plan_counts, public_plan, snap_to_grid

METRIC = "EPSG:9377"
POLICY = DisclosurePolicy(min_count=10)  # sites on a 100 m grid


def test_snap_to_grid_gives_cell_centres_from_a_fixed_origin():
    x, y = snap_to_grid(np.array([149.0, 250.0, -1.0]), np.array([0.0, -1.0, 99.9]), 100)
    assert x.tolist() == [150.0, 250.0, -50.0] and y.tolist() == [50.0, -50.0, 50.0]


def _sites() -> gpd.GeoDataFrame:
    """Three new sites (two in one 100 m cell) and one existing camera, as a plan writes them."""
    xy = [(4_700_005, 2_000_003), (4_700_040, 2_000_090), (4_700_150, 2_000_010), (4_700_500, 2_000_500)]
    frame = pd.DataFrame(
        {
            "rank": [1.0, 2.0, 3.0, np.nan],
            "site_id": ["GRI-00001", "GRI-00002", "GRI-00003", "CAM-1"],
            "estado": ["nueva", "nueva", "nueva", "existente"],
            "source": ["grilla", "grilla", "grilla", "existente"],
            "marginal_weight": [64.0, 32.0, 16.0, np.nan],
            "marginal_share": [0.4, 0.2, 0.1, np.nan],
            "cumulative_share": [0.5, 0.7, 0.8, np.nan],
            "unique_weight": [64.0, 32.0, 16.0, np.nan],
            "cost": [1.0, 1.0, 1.0, np.nan],
            "incident_category": ["Homicidio", "Hurto", "Hurto", None],  # e.g. candidates from incident points
        }
    )
    g = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(*zip(*xy, strict=True)), crs=METRIC).to_crs("EPSG:4326")
    g["lon"], g["lat"] = g.geometry.x.round(7), g.geometry.y.round(7)
    return g


SUMMARY = {
    "n_selected": 3,
    "objective": 112.0,
    "bound": 112.0,
    "gap": 0.0,
    "total_weight": 160.0,
    "covered_share": 0.8,
    "existing_share": 0.1,
    "n_demand": 40,
    "curve": [{"n_sites": 0, "covered_share": 0.1}, {"n_sites": 1, "covered_share": 0.5}],
    "notes": {"demand": {"unknown_harm_categories": {"Secuestro": 1}}, "candidates": {"generated": 9, "used": 9}},
}


def test_full_access_changes_nothing():
    pub = public_plan(SUMMARY, _sites(), None)
    assert pub.summary == SUMMARY and pub.sites.equals(_sites())


def test_sites_are_published_as_grid_cells_without_their_figures():
    pub = public_plan(SUMMARY, _sites(), POLICY)
    new = pub.sites[pub.sites["estado"] == "nueva"]
    xy = new.to_crs(METRIC).geometry
    assert np.allclose(xy.x, [4_700_050, 4_700_150], atol=0.01) and np.allclose(xy.y, [2_000_050, 2_000_050], atol=0.01)
    assert new["n_sites"].tolist() == [2, 1] and new["rank"].tolist() == [1, 3]
    assert not new["site_id"].str.startswith("GRI").any() and "incident_category" not in pub.sites
    assert new[["marginal_weight", "marginal_share", "cumulative_share", "unique_weight"]].isna().all().all()
    old = pub.sites[pub.sites["estado"] == "existente"]
    assert old["site_id"].tolist() == ["CAM-1"] and np.allclose(old.to_crs(METRIC).geometry.x, [4_700_500], atol=0.01)
    # without the incidents covered, totals, the curve and the demand notes are hidden
    s = pub.summary
    assert s["objective"] is None and s["covered_share"] is None and s["total_weight"] is None and s["curve"] is None
    assert s["notes"] == {"candidates": {"generated": 9, "used": 9}} and s["n_selected"] == 3 and s["gap"] == 0.0
    assert s["disclosure"] == {
        "public": True,
        "min_count": 10,
        "protection": 5,
        "site_grid_m": 100.0,
        "site_figures": False,
        "totals": False,
    }


def _counts(per_site: list[float], covered: float = 40, existing: float = 12, total: float = 60) -> PlanCounts:
    return PlanCounts(np.array(per_site, dtype=float), covered, existing, total)


def test_figures_and_totals_are_published_when_every_site_covers_enough():
    pub = public_plan(SUMMARY, _sites(), POLICY, counts=_counts([12, 15, 20, 12]))
    new = pub.sites[pub.sites["estado"] == "nueva"]
    assert new["marginal_weight"].tolist() == [96.0, 16.0] and new["cumulative_share"].tolist() == [0.7, 0.8]
    s = pub.summary
    assert s["covered_share"] == 0.8 and s["existing_share"] == 0.1 and s["total_weight"] == 160 and s["curve"] == SUMMARY["curve"]
    # one site covering 3 incidents: every site's figures go (the cumulative shares would give it back)
    few = public_plan(SUMMARY, _sites(), POLICY, counts=_counts([12, 3, 20, 12]))
    assert few.sites["marginal_weight"].isna().all() and few.summary["covered_share"] == 0.8 and few.summary["curve"] is None
    # 9 covered, or 5 left uncovered (the total gives them away): the covered figures go
    assert public_plan(SUMMARY, _sites(), POLICY, counts=_counts([12, 15, 20, 12], covered=9)).summary["objective"] is None
    uncovered = public_plan(SUMMARY, _sites(), POLICY, counts=_counts([12, 15, 20, 12], total=45)).summary
    assert uncovered["covered_share"] is None and uncovered["total_weight"] == 160
    # existing cameras covering 3: their share goes, the plan's stays
    existing = public_plan(SUMMARY, _sites(), POLICY, counts=_counts([12, 15, 20, 3], existing=3)).summary
    assert existing["existing_share"] is None and existing["covered_share"] == 0.8


def test_demand_that_is_not_incidents_keeps_every_figure():
    pub = public_plan(SUMMARY, _sites(), POLICY, incident_demand=False)
    assert pub.summary["covered_share"] == 0.8 and pub.summary["disclosure"]["totals"]
    assert pub.sites["marginal_weight"].notna().sum() == 2 and pub.summary["curve"] == SUMMARY["curve"]


def test_plan_counts_counts_records_within_the_radius():
    sites = _sites()
    demand = gpd.GeoDataFrame(
        {"n_records": [1, 2, 5], "covered": [True, True, False]},
        geometry=gpd.points_from_xy([4_700_000, 4_700_045, 4_709_000], [2_000_000, 2_000_085, 2_000_000]),
        crs=METRIC,
    ).to_crs("EPSG:4326")
    counts = plan_counts(sites, demand, radius_m=10, kind="cameras")
    assert counts.per_site is not None and counts.per_site.tolist() == [1, 2, 0, 0]
    assert (counts.covered, counts.existing, counts.total) == (3, 0, 8)
    assert plan_counts(sites, demand, radius_m=500, kind="garitas") == PlanCounts(None, 3, None, 8)
    assert plan_counts(sites, None, radius_m=10, kind="cameras") == PlanCounts()
    # incident points without the plan's coverage: covered = within the radius of any site
    points = demand.drop(columns="covered")
    counts = plan_counts(sites, points, radius_m=10, kind="cameras")
    assert counts.per_site is not None and counts.per_site.tolist() == [1, 2, 0, 0] and counts.covered == 3
    near_old = plan_counts(sites, points, radius_m=650, kind="cameras")  # the existing camera reaches the second point
    assert near_old.existing == 2 and near_old.covered == 3
    assert plan_counts(sites, points, radius_m=500, kind="garitas") == PlanCounts(total=8)


@pytest.mark.parametrize("spacing", [100.0, 250.0])
def test_a_coarser_policy_grid_is_used(spacing):
    pub = public_plan(SUMMARY, _sites(), DisclosurePolicy(min_site_spacing_m=spacing))
    xy = pub.sites[pub.sites["estado"] == "nueva"].to_crs(METRIC).geometry
    assert np.allclose(np.mod(xy.x, spacing), spacing / 2, atol=0.01) and np.allclose(np.mod(xy.y, spacing), spacing / 2, atol=0.01)


def test_the_command_writes_the_public_release(tmp_path):
    import json

    from typer.testing import CliRunner

    from geoprio.cli import app
    from geoprio.demo import run_demo

    run_demo(tmp_path / "demo", seed=11, n_incidents=600, new_cameras=1, new_garitas=1)
    out = tmp_path / "publico"
    args = ["plan", "cameras", str(tmp_path / "demo" / "delitos.csv"), "-p", "3", "--radius-m", "20", "--grid-spacing-m", "10"]
    r = CliRunner().invoke(app, [*args, "--public", "--out", str(out), "--format", "csv", "--format", "geojson"])
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["disclosure"] == {"public": True, "min_count": 10, "protection": 5}
    sites = gpd.read_file(out / "camaras_sitios.geojson").to_crs(METRIC)
    assert np.allclose(np.mod(sites.geometry.x, 100), 50, atol=0.05) and sites["marginal_weight"].isna().all()
    assert not (out / "camaras_demanda.csv").exists() and not (out / "camaras_curva.csv").exists()
    summary = json.loads((out / "camaras_resumen.json").read_text(encoding="utf-8"))
    assert summary["disclosure"]["site_figures"] is False and summary["n_selected"] == 3
