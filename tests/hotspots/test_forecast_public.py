"""The public release of a forecast surface: no small count recoverable from what it publishes."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import typer
from typer.testing import CliRunner

from geoprio.cli import forecast
from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError
from geoprio.hotspots import public_forecast
from geoprio.hotspots.forecast import ForecastOptions
from geoprio.hotspots.forecast_layer import COUNT_COLUMN, ForecastSurfaceJob, SurfaceOptions, reach_m, window_counts
from geoprio.hotspots.forecast_public import public_forecast_notes, run_public_forecast_job
from geoprio.hotspots.jobs import PointsSource
from geoprio.records.load import load_points

SIZE = 100.0
_app = typer.Typer()
forecast.register(_app)
_app.command("noop", hidden=True)(lambda: None)  # two commands: typer keeps `forecast` as a subcommand


def _cli(*args: object):
    return CliRunner().invoke(_app, ["forecast", *[str(a) for a in args]], catch_exceptions=False)


def _surface(
    counts: np.ndarray,
    method: str = "prior",
    scale: float = 0.5,
    score: np.ndarray | None = None,
    crs: str = "EPSG:9377",
    origin: tuple[float, float] = (4_800_000.0, 2_200_000.0),
) -> gpd.GeoDataFrame:
    """A square grid of ``len(counts)`` cells in rows of 10 (100 m, in ``crs`` from ``origin``) with the columns of a forecast surface."""
    n = len(counts)
    ix, iy = np.arange(n) % 10, np.arange(n) // 10
    x0, y0 = origin[0] + ix * SIZE, origin[1] + iy * SIZE
    geom = shapely.box(x0, y0, x0 + SIZE, y0 + SIZE)
    s = np.asarray(counts, dtype=float) if score is None else score
    expected = s * scale
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"c{i}" for i in range(n)],
            "expected": expected,
            "rank": pd.Series(s).rank(method="min", ascending=False).astype(int).to_numpy(),
            "share": expected / expected.sum(),
            "cum_area_share": np.zeros(n),
            "score": s,
            "method": method,
        },
        geometry=geom,
        crs=crs,
    ).to_crs("EPSG:4326")


def test_a_single_incident_is_suppressed_and_not_recoverable_from_totals():
    counts = np.array([30, 1, 12, 0, 20, 0, 0, 0, 0, 0], dtype=float)
    full = _surface(counts)
    pub = public_forecast(full, DisclosurePolicy(min_count=10))
    assert pub["suppressed"].tolist() == [False, True, False, False, False, False, False, False, False, False]
    assert np.isnan(pub.loc[1, "expected"]) and pd.isna(pub.loc[1, "rank"]) and pd.isna(pub.loc[1, "top"])
    assert np.isnan(pub.loc[1, "cum_area_share"])
    # the raw surface, the shares of the total and the counts are not published
    assert not {"score", "share", "past_incidents"} & set(pub.columns)
    np.testing.assert_allclose(pub["expected"].to_numpy()[[0, 2, 4]], [15.0, 6.0, 10.0])
    # ranks and area shares among the published cells only: 30, 20, 12, then the zeros
    assert pub["rank"].tolist()[:5] == [1, pd.NA, 3, 4, 2]
    np.testing.assert_allclose(pub["cum_area_share"].to_numpy()[[0, 4, 2]], [0.1, 0.2, 0.3])
    assert pub["top"].tolist()[:3] == [False, pd.NA, False]
    wide = public_forecast(full, DisclosurePolicy(min_count=10), top_share=0.25)
    assert wide["top"].tolist()[:5] == [True, pd.NA, False, False, True]
    notes = {"expected_total": 31.5, "expected_in_top_share": 15.0, "incidents_last_365_days": 63, "method": "prior"}
    pnotes = public_forecast_notes(notes, pub, DisclosurePolicy(min_count=10))
    assert pnotes["expected_published"] == 31.0  # the published values' own sum: 31.5 − 31 would give the hidden 0.5
    assert not {"expected_total", "expected_in_top_share", "incidents_last_365_days"} & set(pnotes)
    assert pnotes["suppressed_cells"] == 1 and pnotes["disclosure"] == {"public": True, "min_count": 10, "protection": 5}
    # whatever the attacker sums, only published values are in it: no hidden value comes back by subtraction
    released = pub["expected"].to_numpy()
    assert np.nansum(released) == pytest.approx(np.sum(counts[counts != 1]) * 0.5)


def test_without_a_policy_or_with_min_count_one_nothing_is_hidden():
    full = _surface(np.array([3, 1, 0, 12], dtype=float))
    assert public_forecast(full, None) is full
    pub = public_forecast(full, DisclosurePolicy(min_count=1))
    assert not pub["suppressed"].any()
    np.testing.assert_allclose(pub["expected"], full["expected"])
    assert pub["rank"].tolist() == [2, 3, 4, 1]
    assert public_forecast_notes({"expected_total": 8.0}, None, None) == {"expected_total": 8.0}


def test_a_smoothing_method_suppresses_the_neighbours_of_a_lone_incident():
    # two rows of 10 cells: 15 incidents in each cell but cell 3, which has one; kde of 150 m
    counts = np.full(20, 15.0)
    counts[3] = 1.0
    kde = _surface(counts, method="kde", score=np.linspace(1.0, 2.0, 20))
    params = {"bandwidth_m": 150.0}
    assert reach_m("kde", params, SIZE) == pytest.approx(150.0 + 50.0 * np.sqrt(2.0))
    pub = public_forecast(kde, DisclosurePolicy(min_count=10), counts=counts, params=params, cell_size_m=SIZE)
    # centres within 220.7 m of cell 3's (x = 3, y = 0): x 1..5 on its row, x 2..4 on the next
    near = {1, 2, 3, 4, 5, 12, 13, 14}
    assert set(np.flatnonzero(pub["suppressed"])) == near
    assert pub.loc[list(near), "expected"].isna().all()
    assert pub.drop(index=list(near))["expected"].notna().all()
    # the same cells under prior counts: only the lone incident's own cell
    prior = public_forecast(_surface(counts), DisclosurePolicy(min_count=10), counts=counts)
    assert np.flatnonzero(prior["suppressed"]).tolist() == [3]
    # promap's reach is its bandwidth in cells; its counts are those of the last bandwidth_weeks
    pro = public_forecast(
        _surface(counts, method="promap"), DisclosurePolicy(min_count=10), counts=counts, params={"bandwidth_cells": 1.0}, cell_size_m=SIZE
    )
    assert set(np.flatnonzero(pro["suppressed"])) == {2, 3, 4, 13}


def test_reach_is_measured_in_the_grids_own_metric_crs():
    # a Chicago grid in UTM 16N: in EPSG:9377 (Colombia's) its squares are turned and stretched
    counts = np.full(20, 15.0)
    counts[3] = 1.0
    surface = _surface(counts, method="promap", crs="EPSG:32616", origin=(440_000.0, 4_640_000.0))
    policy, params = DisclosurePolicy(min_count=10), {"bandwidth_cells": 1.0}
    pub = public_forecast(surface, policy, counts=counts, params=params, cell_size_m=SIZE, metric_crs="EPSG:32616")
    assert set(np.flatnonzero(pub["suppressed"])) == {2, 3, 4, 13}


def test_window_counts_and_errors():
    cell = np.array([0, 0, 1, 2, -1])
    age = np.array([3.0, 40.0, 10.0, 400.0, 1.0])
    w = np.array([1.0, 1.0, 2.0, 1.0, 5.0])
    np.testing.assert_allclose(window_counts(cell, age, w, 3, method="prior", params={}), [2.0, 2.0, 1.0])
    np.testing.assert_allclose(window_counts(cell, age, w, 3, method="promap", params={"bandwidth_weeks": 4.0}), [1.0, 2.0, 0.0])
    np.testing.assert_allclose(window_counts(cell, age, w, 3, method="sepp", params={"window_days": 365.0}), [2.0, 2.0, 0.0])
    full = _surface(np.array([5.0, 12.0]), method="kde")
    with pytest.raises(InputError, match="kde surface needs its params"):
        public_forecast(full, DisclosurePolicy(), counts=[5.0, 12.0])
    with pytest.raises(InputError, match="one value per cell"):
        public_forecast(full, DisclosurePolicy(), counts=[5.0], params={"bandwidth_m": 100.0})
    # a smoothing surface without its counts publishes no value
    assert public_forecast(full, DisclosurePolicy())["suppressed"].all()
    assert reach_m("sepp", {"window_days": 365.0, "radius_cells": 2.0}, 100.0) == 200.0
    assert reach_m("learned", {"train_periods": 12.0}, 100.0) == 150.0 and reach_m("recent", {"decay_days": 30.0}, 100.0) == 0.0
    with pytest.raises(InputError, match="unknown forecast method"):
        reach_m("lstm", {}, 100.0)


@pytest.fixture(scope="module")
def medellin(shared_data, tmp_path_factory):
    """Medellín homicides of the second half of 2019, as a file of their own (a small slice)."""
    raw = pd.read_csv(shared_data / "medellin" / "medellin_homicides.csv", sep=";", dtype=str)
    month = raw[raw["fecha_hecho"].str[:7].between("2019-07", "2019-12")]
    path = tmp_path_factory.mktemp("medellin_forecast") / "homicidios.csv"
    month.to_csv(path, sep=";", index=False)
    return path, len(month)


def _counts(path, cells: gpd.GeoDataFrame) -> np.ndarray:
    """Each cell's homicides (all of them are before the period), independently: points in the cell polygons."""
    pts = load_points(path, category="modalidad", offsets="drop").data
    pts = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts["x"], pts["y"]), crs="EPSG:4326").to_crs("EPSG:9377")
    poly = cells.to_crs("EPSG:9377")
    return np.bincount(gpd.sjoin(pts, poly[["geometry"]], predicate="within")["index_right"].to_numpy(), minlength=len(poly))


def test_real_homicides_kde_publishes_no_value_near_a_small_count(medellin):
    path, n = medellin
    bt = ForecastOptions(horizons=("week",), origins=2, warmup=1, cell_size_m=250.0, bootstrap=50, methods=("kde",))
    job = ForecastSurfaceJob(
        points=PointsSource(path=path, category="modalidad", offsets="drop"), options=SurfaceOptions(backtest=bt, method="kde")
    )
    release = run_public_forecast_job(job, DisclosurePolicy(min_count=3))
    cells, full = release.cells, release.surface.cells
    assert len(cells) == len(full) and n > 100
    counts = _counts(path, full)
    hidden = (counts > 0) & (counts < 3)
    assert hidden.any() and (counts >= 3).any()
    # every cell whose centre is within the bandwidth plus half a diagonal of a hidden cell's centre
    c = full.to_crs("EPSG:9377").centroid
    xy = np.column_stack([c.x, c.y])
    d = np.hypot(*(xy[:, None, :] - xy[None, hidden, :]).transpose(2, 0, 1))
    reach = release.surface.params["bandwidth_m"] + 125.0 * np.sqrt(2.0)
    assert (cells["suppressed"].to_numpy() == (d <= reach + 1e-6).any(axis=1)).all()
    shown = ~cells["suppressed"].to_numpy()
    assert shown.sum() > 100
    np.testing.assert_allclose(cells["expected"].to_numpy()[shown], full["expected"].to_numpy()[shown])
    assert np.isnan(cells["expected"].to_numpy()[~shown]).all()
    assert not {"expected_total", "incidents_last_365_days"} & set(release.notes)
    # the full layer carries the counts, so its file alone gives the same release (what GET /forecast does)
    np.testing.assert_array_equal(full[COUNT_COLUMN].to_numpy(), counts)
    crs = release.surface.notes["metric_crs"]
    again = public_forecast(full, DisclosurePolicy(min_count=3), params=release.surface.params, metric_crs=crs)
    assert (again["suppressed"].to_numpy() == cells["suppressed"].to_numpy()).all()


def test_cli_public_release_of_real_homicides(medellin, shared_data, tmp_path):
    path, _ = medellin
    zones = ["--zones", shared_data / "medellin" / "medellin_comunas.gpkg", "--zones-id", "COMUNA"]
    args = [path, *zones, "--category", "modalidad", "--offsets", "drop", "--horizons", "week", "--origins", "2", "--warmup", "1"]
    args += ["--cell-size-m", "500", "--bootstrap", "50", "--methods", "kde", "--surface", "--method", "prior"]
    res = _cli(*args, "--public", "--min-count", "3", "--format", "geojson", "--out", tmp_path / "pub")
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "pub" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["disclosure"] == {"public": True, "min_count": 3, "protection": 2}
    assert "expected_total" not in manifest["notes"] and manifest["notes"]["suppressed_cells"] > 0
    cells = gpd.read_file(tmp_path / "pub" / "pronostico_superficie.geojson")
    assert not {"score", "share"} & set(cells.columns)
    # prior counts: exactly the cells of 1 or 2 homicides are suppressed (cells clipped to the comunas, as written)
    counts = _counts(path, cells)
    assert (cells["suppressed"].to_numpy() == ((counts > 0) & (counts < 3))).all()
    assert cells.loc[cells["suppressed"], "expected"].isna().all() and cells.loc[~cells["suppressed"], "expected"].notna().all()
    assert (counts >= 3).sum() > 5 and (cells["expected"] > 0).sum() == (counts >= 3).sum()
    # a public release does not replay; --min-count needs --public; --public needs --surface
    again = _cli("--manifest", tmp_path / "pub" / "manifest.json")
    assert again.exit_code == 1 and "full (internal) runs only" in again.output
    assert _cli(*args, "--min-count", "3").exit_code == 1
    assert _cli(*args[:-3], "--public").exit_code == 2


def test_clipped_edge_cells_are_published_as_whole_squares():
    counts = np.array([12.0, 0.0, 15.0, 11.0])
    full = _surface(counts).to_crs("EPSG:9377")
    # cell 1 clipped to a triangle (an arc of the study area's edge), cell 3 to its lower half
    x0, y0 = 4_800_100.0, 2_200_000.0
    geoms = list(full.geometry)
    geoms[1] = shapely.Polygon([(x0, y0), (x0 + 100, y0), (x0, y0 + 60)])
    geoms[3] = shapely.box(4_800_300.0, 2_200_000.0, 4_800_400.0, 2_200_050.0)
    full = full.set_geometry(geoms).to_crs("EPSG:4326")
    full["lon"], full["lat"] = 0.0, 0.0
    pub = public_forecast(full, DisclosurePolicy(min_count=10), cell_size_m=SIZE, whole_cells=True)
    metric = pub.to_crs("EPSG:9377").geometry
    np.testing.assert_allclose(metric.area, 10_000.0, rtol=1e-6)
    np.testing.assert_allclose(metric.bounds.to_numpy()[1], [4_800_100.0, 2_200_000.0, 4_800_200.0, 2_200_100.0], atol=1e-3)
    np.testing.assert_allclose(metric.bounds.to_numpy()[3], [4_800_300.0, 2_200_000.0, 4_800_400.0, 2_200_100.0], atol=1e-3)
    centre = gpd.GeoSeries([shapely.Point(4_800_150.0, 2_200_050.0)], crs="EPSG:9377").to_crs("EPSG:4326")
    assert pub.loc[1, "lon"] == pytest.approx(centre.x[0], abs=1e-7) and pub.loc[0, "lon"] == 0.0
    # area shares over the whole squares: 15, 12, 11, then the zero
    np.testing.assert_allclose(pub["cum_area_share"], [0.5, 1.0, 0.25, 0.75])
    # without the option the clipped geometry stays
    kept = public_forecast(full, DisclosurePolicy(min_count=10), cell_size_m=SIZE)
    assert kept.geometry.iloc[1].equals(full.geometry.iloc[1])
