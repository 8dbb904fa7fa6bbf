"""Public releases of hot spots (geoprio.hotspots.public): hand-computed small cases, the
written public files and ``geoprio hotspots --public``."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import typer
from typer.testing import CliRunner

from geoprio.cli.hotspots import register
from geoprio.demo.city import make_demo_city, write_demo_city
from geoprio.disclosure import DisclosurePolicy, disclosure_of
from geoprio.hotspots import HotspotOptions, find_hotspots, public_cells, public_clusters, public_notes, public_run
from geoprio.records.load import load_points
from geoprio.zones.layers import load_zones

POLICY = DisclosurePolicy(min_count=10)  # protection ceil(10 / 2) = 5
METRIC = "EPSG:9377"


def _cells() -> gpd.GeoDataFrame:
    boxes = [shapely.box(4_800_000 + 150 * i, 2_700_000, 4_800_150 + 150 * i, 2_700_150) for i in range(4)]
    return gpd.GeoDataFrame(
        {
            "cell_id": ["c0", "c1", "c2", "c3"],
            "incidents": [0.0, 3.0, 12.0, 9.0],
            "gi_z": [-0.5, 0.4, 2.9, 1.1],
            "gi_p": [0.6, 0.7, 0.004, 0.27],
            "gi_q": [0.6, 0.7, 0.016, 0.36],
            "gi_bin": [0, 0, 3, 0],
            "gi_code": ["none", "none", "hot_99", "none"],
            "gi_class": ["no significativo", "no significativo", "caliente 99 %", "no significativo"],
            "kde_km2": [1.0, 20.0, 60.0, 35.0],
            "trend_code": ["none", "new", "persistent", "sporadic"],
            "trend_tau": [0.0, 0.2, 0.5, -0.1],
            "hot_bins": [0, 1, 7, 2],
        },
        geometry=boxes,
        crs=METRIC,
    ).to_crs("EPSG:4326")


def test_cells_publish_classes_only_and_hide_small_counts():
    cells = _cells()
    assert public_cells(cells, None) is cells  # full access: the layer as written
    pub = public_cells(cells, POLICY)
    assert list(pub.columns) == ["cell_id", "incidents", "gi_code", "gi_class", "trend_code", "hot_bins", "suppressed", "geometry"]
    # 3 and 9 are 1..min_count-1: hidden with what derives from them; 0 and 12 published
    assert pub["suppressed"].tolist() == [False, True, False, True]
    assert pub["incidents"].tolist()[0] == 0 and pub["incidents"].tolist()[2] == 12
    assert pub["incidents"].isna().tolist() == [False, True, False, True]
    assert pub["trend_code"].tolist() == ["none", None, "persistent", None]
    assert pub["hot_bins"].isna().tolist() == [False, True, False, True]
    assert pub["gi_code"].tolist() == cells["gi_code"].tolist()  # classes stay for every cell
    assert "gi_z" in cells and cells["incidents"].tolist() == [0.0, 3.0, 12.0, 9.0]  # input untouched


def _clusters() -> gpd.GeoDataFrame:
    hours = np.zeros((3, 24))
    hours[:, 18], hours[:, 19] = 0.5, 0.5  # cluster 2: 15 + 15 incidents at 18 h and 19 h
    hours[1] = 0.0
    hours[1, 18], hours[1, 3] = 0.85, 0.15  # cluster 1: 17 at 18 h, 3 at 3 h
    frame = pd.DataFrame(
        {
            "cluster_id": ["HS001", "HS002", "HS003"],
            "incidents": [8.0, 20.0, 30.0],
            "records": [8, 9, 30],
            "area_km2": [0.01, 0.02, 0.05],
            "density_km2": [800.0, 1000.0, 600.0],
            "share": [0.08, 0.2, 0.3],
            "top_categories": ["Homicidio 100 %", "Hurto 85 %", "Hurto 90 %"],
            **{f"hour_{h:02d}": hours[:, h] for h in range(24)},
            "night_share": [0.5, 1.0, 0.1],  # cluster 2: 0.1 × 30 = 3 at night → hidden
            "peak_hours": ["2 h", "18 h, 3 h", "18 h, 19 h"],
            "last_12m": [5.0, 3.0, 15.0],
            "previous_12m": [3.0, 17.0, 15.0],
            "change_12m": [2.0, -14.0, 0.0],
            "first_date": ["2023-01-01", "2023-02-01", "2023-03-01"],
            "harm": [300.0, 200.0, 250.0],
            "n_convivencia": [0, 4, 12],
            "n_zones": [1, 1, 2],
            "complexity": [0.2, 0.5, 0.9],
            "complexity_rank": [3, 2, 1],
            "complexity_tier": ["baja", "media", "alta"],
            "drivers": ["Daño 100 %", "Incidentes 60 %", "Incidentes 70 %"],
        }
    )
    centres = [(4_800_000 + 1000 * i, 2_700_000) for i in range(3)]
    polys = [shapely.Point(c).buffer(60, quad_segs=4) for c in centres]
    return gpd.GeoDataFrame(frame, geometry=polys, crs=METRIC).to_crs("EPSG:4326")


def test_clusters_small_ones_dropped_small_counts_hidden_with_their_complement():
    clusters = _clusters()
    assert public_clusters(clusters, None) is clusters
    pub = public_clusters(clusters, POLICY)
    assert pub["cluster_id"].tolist() == ["HS002", "HS003"]  # 8 incidents: not published at all
    for gone in ("share", "top_categories", "first_date", "harm", "complexity", "drivers", "hour_18"):
        assert gone not in pub.columns
    assert pub["complexity_rank"].tolist() == [2, 1] and pub["complexity_tier"].tolist() == ["media", "alta"]
    two, three = pub.iloc[0], pub.iloc[1]
    # HS002: 20 = 3 + 17; 3 is hidden, so 17 is hidden too (else 20 − 17 = 3), and the change with them
    assert np.isnan(two["last_12m"]) and np.isnan(two["previous_12m"]) and np.isnan(two["change_12m"])
    assert np.isnan(two["records"]) and np.isnan(two["n_convivencia"])  # 9 and 4 records
    assert two["incidents"] == 20 and two["density_km2"] == 1000  # a published count and what derives from it
    assert two["peak_hours"] is None  # 3 h rests on 3 incidents
    assert two["night_share"] == 1.0  # 20 at night, 0 by day: nothing hidden
    assert pub["suppressed"].tolist() == [True, True]
    # HS003: 15 + 15 published, 12 coexistence records published, 3 at night hidden
    assert three["last_12m"] == 15 and three["previous_12m"] == 15 and three["change_12m"] == 0
    assert three["records"] == 30 and three["n_convivencia"] == 12 and three["n_zones"] == 2
    assert np.isnan(three["night_share"]) and three["peak_hours"] == "18 h, 19 h"


def test_cluster_outlines_are_coarsened_off_the_incidents():
    clusters = _clusters()
    pub = public_clusters(clusters, POLICY).to_crs(METRIC)
    original = clusters.to_crs(METRIC).geometry.iloc[1:].reset_index(drop=True)
    for coarse, fine in zip(pub.geometry, original, strict=True):
        assert coarse.buffer(1).contains(fine)  # still covers the cluster
        xy = shapely.get_coordinates(coarse)
        assert np.allclose(xy / 50.0, np.round(xy / 50.0), atol=1e-6)  # every vertex on the 50 m grid
        assert coarse.area < fine.buffer(120).area


def test_notes_lose_totals():
    notes = {"points": 10, "points_used": 9, "points_outside": 1, "bandwidth_m": 300.0, "clusters": {"n_clusters": 2, "noise_share": 0.4}}
    assert public_notes(notes, None) is notes
    assert public_notes(notes, POLICY) == {"bandwidth_m": 300.0, "clusters": {"n_clusters": 2}}


@pytest.fixture(scope="module")
def city():
    return make_demo_city(20241, n_incidents=3000)


@pytest.fixture(scope="module")
def demo_files(city, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_public")
    write_demo_city(city, out)
    return out


def test_public_run_writes_a_public_release(city, tmp_path):
    delitos = load_points(city.delitos, source="delitos")
    upz = load_zones(city.upz, id="cod_upz", name="nombre", source="upz")
    run = find_hotspots(delitos, zones=upz, options=HotspotOptions(cell_size_m=250, time_bin="quarter"))
    assert public_run(run, None) is run
    pub = public_run(run, POLICY)
    written = pub.write(tmp_path, ["geojson"])
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["disclosure"] == {"public": True, "min_count": 10, "protection": 5}
    release = disclosure_of(doc)
    assert release is not None and (release.min_count, release.protection_level) == (10, 5)
    cells = gpd.read_file(tmp_path / "hotspots_celdas.geojson")
    assert not {"gi_z", "gi_p", "gi_q", "kde_km2", "trend_tau", "trend_z", "trend_p"} & set(cells.columns)
    counts = cells["incidents"].to_numpy(dtype=float)
    assert not ((counts > 0) & (counts < 10)).any() and cells["suppressed"].sum() > 0
    assert cells.loc[cells["suppressed"], "trend_code"].isna().all()
    clusters = gpd.read_file(tmp_path / "hotspots_clusters.geojson")
    assert (clusters["incidents"] >= 10).all()
    notes = json.loads((tmp_path / "hotspots_notas.json").read_text(encoding="utf-8"))
    assert "points_used" not in notes and "points_used" not in doc["notes"]


def test_without_zones_the_edge_cells_are_published_as_whole_squares(shared_data, tmp_path):
    # the study area is the incidents' concave hull grown by 250 m: its edge cells are cut by
    # arcs centred on single incidents, so the release publishes the grid's whole squares
    raw = pd.read_csv(shared_data / "medellin" / "medellin_homicides.csv", sep=";", dtype=str)
    raw[raw["fecha_hecho"].str[:4] == "2019"].to_csv(tmp_path / "homicidios_2019.csv", sep=";", index=False)
    delitos = load_points(tmp_path / "homicidios_2019.csv", category="modalidad", offsets="drop")
    run = find_hotspots(delitos, options=HotspotOptions(cell_size_m=250, time_bin="year"))
    assert run.notes["study_area"] == "points"
    full = run.cells.to_crs(METRIC)
    cut = np.abs(full.area.to_numpy() - 250.0**2) > 1.0
    assert cut.sum() > 10  # the edge cells are cut, as written
    pub = public_run(run, POLICY).cells
    metric = pub.to_crs(METRIC)
    np.testing.assert_allclose(metric.area.to_numpy(), 250.0**2, rtol=1e-9)
    np.testing.assert_allclose(pub["area_km2"].to_numpy(dtype=float), 0.0625, rtol=1e-9)
    # every published square contains its cell as written, and the whole cells are unchanged
    assert metric.geometry.buffer(1e-3).contains(full.geometry).all()
    assert (metric.geometry[~cut].geom_equals_exact(full.geometry[~cut], tolerance=1e-6)).all()
    # without the grid (a run over zones) the geometry stays as written
    assert public_cells(run.cells, POLICY).geometry.geom_equals(run.cells.geometry).all()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """Test app."""

    register(a)
    return a


def test_cli_public(app, demo_files, tmp_path):
    common = ["hotspots", str(demo_files / "delitos.csv"), "--zones", str(demo_files / "upz.geojson")]
    common += ["--zones-id", "cod_upz", "--zones-name", "nombre", "--cell-size-m", "250", "--format", "csv"]
    r = CliRunner().invoke(app, [*common, "--public", "--min-count", "20", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert doc["disclosure"] == {"public": True, "min_count": 20, "protection": 10}
    cells = pd.read_csv(tmp_path / "hotspots_celdas.csv")
    assert "gi_z" not in cells and not ((cells["incidents"] > 0) & (cells["incidents"] < 20)).any()
    r = CliRunner().invoke(app, [*common, "--min-count", "20", "--out", str(tmp_path / "x")])
    assert r.exit_code == 1 and "--min-count applies only to a public release" in r.output


def test_a_public_release_replays_as_the_same_public_release(app, demo_files, tmp_path):
    common = ["hotspots", str(demo_files / "delitos.csv"), "--zones", str(demo_files / "upz.geojson")]
    common += ["--zones-id", "cod_upz", "--zones-name", "nombre", "--cell-size-m", "250", "--format", "csv"]
    assert CliRunner().invoke(app, [*common, "--public", "--out", str(tmp_path)]).exit_code == 0
    before = (tmp_path / "hotspots_celdas.csv").read_bytes()
    r = CliRunner().invoke(app, ["hotspots", "--manifest", str(tmp_path / "manifest.json")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "hotspots_celdas.csv").read_bytes() == before  # not the full release written over it
    assert "gi_z" not in pd.read_csv(tmp_path / "hotspots_celdas.csv")


def test_replay_refuses_a_public_release_it_cannot_rebuild(tmp_path):
    from geoprio.errors import ManifestError
    from geoprio.io.results import replay

    (tmp_path / "manifest.json").write_text(
        json.dumps({"kind": "geoprio.x", "disclosure": {"public": True, "min_count": 10, "protection": 5}, "inputs": [], "outputs": []}),
        encoding="utf-8",
    )
    with pytest.raises(ManifestError, match="public release cannot be replayed"):
        replay(tmp_path / "manifest.json", kind="geoprio.x", options_type=HotspotOptions, run=lambda o: None)  # type: ignore[arg-type,return-value]
