"""File-level hot-spot jobs: options, bbox, the period filter, gi codes, writing nothing until asked, replay."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from geoprio.cli.hotspots import register
from geoprio.demo.city import make_demo_city, write_demo_city
from geoprio.errors import ConfigError, InputError, ManifestError
from geoprio.hotspots import (
    GI_CODES,
    BacktestJob,
    DisplacementJob,
    HotspotJob,
    HotspotOptions,
    PointsSource,
    ZonesSource,
    find_hotspots,
    gi_class_labels,
    replay_backtest,
    replay_displacement,
    replay_hotspots,
    run_backtest_job,
    run_displacement_job,
    run_hotspot_job,
    select_period,
)
from geoprio.labels import labels
from geoprio.records.load import load_points
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_SEED
from geoprio.zones import parse_bbox, resolve_bbox
from geoprio.zones.layers import load_zones

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_jobs")
    city = make_demo_city(20241, n_incidents=3000)
    write_demo_city(city, out)
    centre = city.hotspot_centers.iloc[0]
    target = gpd.GeoDataFrame(geometry=[centre.geometry], crs=4326).to_crs(9377)
    target["geometry"] = target.buffer(300)
    target.to_crs(4326).to_file(out / "target.geojson")
    return out


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """Test app."""

    register(a)
    return a


def _points(files: Path) -> PointsSource:
    return PointsSource(path=files / "delitos.csv")


def _zones(files: Path) -> ZonesSource:
    return ZonesSource(path=files / "upz.geojson", id="cod_upz", name="nombre")


def test_options_are_frozen_pydantic_with_the_old_defaults_and_checks():
    o = HotspotOptions()
    assert o.random_state == DEFAULT_SEED and o.cell_size_m == 150 and o.band_m == 225 and o.lang == "es"
    with pytest.raises(Exception, match="frozen"):
        o.cell_size_m = 100  # type: ignore[misc]
    assert HotspotOptions.model_validate(o.model_dump(mode="json")) == o
    with pytest.raises(InputError, match="shape: Input should be 'square' or 'hex', got 'triangle'"):
        HotspotOptions(shape="triangle")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"alpha must be in \(0, 1\), got 1.5"):
        HotspotOptions(alpha=1.5)
    with pytest.raises(InputError, match="unknown option 'cellsize'"):
        HotspotOptions(cellsize=100)  # type: ignore[call-arg]
    with pytest.raises(InputError, match="k must be a positive integer, got 0"):
        HotspotOptions(weights="knn", k=0)
    assert HotspotOptions(bandwidth_m="silverman").bandwidth_m == "silverman"


def test_bbox_values():
    assert parse_bbox(None) == "auto" and parse_bbox("none") == "none" and parse_bbox("Colombia") == "colombia"
    assert parse_bbox("-75,4,-74,5") == (-75.0, 4.0, -74.0, 5.0)
    with pytest.raises(InputError, match="min < max"):
        parse_bbox("-74,4,-75,5")
    with pytest.raises(InputError, match="expected 'colombia', 'zones', 'none'"):
        parse_bbox("everywhere")
    assert resolve_bbox("none", None) is None and resolve_bbox("auto", None) == COLOMBIA_BBOX
    with pytest.raises(InputError, match="needs a zone layer"):
        resolve_bbox("zones", None)


def test_bbox_auto_is_the_zones_box(files):
    zones = load_zones(files / "upz.geojson", id="cod_upz")
    x0, y0, x1, y1 = zones.frame.total_bounds
    assert resolve_bbox("auto", zones) == pytest.approx((x0 - 0.05, y0 - 0.05, x1 + 0.05, y1 + 0.05))
    assert resolve_bbox("colombia", zones) == COLOMBIA_BBOX


def test_select_period_keeps_inclusive_days(files):
    rec = load_points(files / "delitos.csv")
    d = pd.to_datetime(rec.data["date"])
    got = select_period(rec, pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-03-31").date())
    # the CLI's former filter: from the first day (inclusive) to the day after the last (exclusive)
    want = ((d >= "2024-01-01") & (d < pd.Timestamp("2024-03-31") + pd.Timedelta(days=1))).sum()
    assert len(got.data) == want > 0
    assert select_period(rec) is rec
    with pytest.raises(InputError, match="is empty: no record falls in it"):
        select_period(rec, pd.Timestamp("2030-01-01").date(), None)


def test_gi_codes_beside_readable_classes(files):
    rec = load_points(files / "delitos.csv")
    run = find_hotspots(rec, options=HotspotOptions(cell_size_m=300, clusters="none", time_bin=None, lang="en"))
    cells = run.cells
    assert list(cells.columns).index("gi_code") == list(cells.columns).index("gi_class") - 1
    assert (cells["gi_code"] == cells["gi_bin"].map(GI_CODES)).all()
    words = labels("hotspots", "en")
    assert (cells["gi_class"] == cells["gi_code"].map(words)).all()
    assert set(GI_CODES.values()) == {"hot_99", "hot_95", "hot_90", "none", "cold_90", "cold_95", "cold_99"}
    assert list(gi_class_labels([3, 0, -3])) == ["caliente 99 %", "no significativo", "frío 99 %"]


def test_a_job_writes_nothing_until_asked_then_replays(files, tmp_path):
    job = HotspotJob(
        points=_points(files),
        zones=_zones(files),
        context={"convivencia": PointsSource(path=files / "convivencia.csv", kind="coexistence")},
        date_from="2023-06-01",
        options=HotspotOptions(cell_size_m=300, time_bin="quarter"),
    )
    before = sorted(p.name for p in files.iterdir())
    run = run_hotspot_job(job)
    assert sorted(p.name for p in files.iterdir()) == before and not any(tmp_path.iterdir())
    assert len(run.reports) == 2 and run.notes["time_bins"][0] == "2023Q2"
    written = run.write(tmp_path, ["csv"])
    assert written.manifest == tmp_path / "manifest.json" and written.files[0].name == "hotspots_celdas.csv"
    doc = json.loads(written.manifest.read_text(encoding="utf-8"))
    assert doc["kind"] == "geoprio.hotspots" and doc["formats"] == ["csv"]
    assert doc["options"]["options"]["cell_size_m"] == 300 and doc["parameters"]["options"]["distance_m_used"] == 450
    assert [Path(i["path"]).name for i in doc["inputs"]] == ["delitos.csv", "upz.geojson", "convivencia.csv"]
    rep = replay_hotspots(written.manifest, out_dir=tmp_path / "again")
    assert not rep.different and {"hotspots_celdas.csv", "hotspots_clusters.csv", "hotspots_notas.json"} <= set(rep.identical)


def test_backtest_and_displacement_jobs_replay(files, tmp_path):
    bt = run_backtest_job(
        BacktestJob(
            points=_points(files),
            zones=_zones(files),
            split="2024-07-01",
            methods=("prior", "kde"),
            options=HotspotOptions(cell_size_m=300),
        )
    )
    assert bt.title is not None and bt.title.startswith("Backtest: entrenamiento 2023-01-01 – 2024-06-30")
    w = bt.write(tmp_path / "bt")
    assert [p.name for p in w.files][-2:] == ["backtest_celdas.gpkg", "backtest_notas.json"]
    rep = replay_backtest(w.manifest)
    assert not rep.different and {"backtest_tabla.csv", "backtest_curva.csv"} <= set(rep.identical)
    with pytest.raises(InputError, match="split: 'mañana' is not a date"):
        BacktestJob(points=_points(files), split="mañana")

    dj = DisplacementJob(points=_points(files), targets=files / "target.geojson", start="2024-01-01", zones=_zones(files), lang="en")
    d = run_displacement_job(dj)
    assert d.areas["name"].tolist() == ["target", "buffer", "control"]
    w = d.write(tmp_path / "d")
    rep = replay_displacement(w.manifest)
    assert not rep.different and "desplazamiento.csv" in rep.identical


def test_replay_refuses_changed_inputs_and_in_memory_runs(files, tmp_path):
    src = tmp_path / "delitos.csv"
    src.write_bytes((files / "delitos.csv").read_bytes())
    job = BacktestJob(points=PointsSource(path=src), split="2024-07-01", methods=("prior",), options=HotspotOptions(cell_size_m=400))
    w = run_backtest_job(job).write(tmp_path / "bt")
    with src.open("a", encoding="utf-8") as f:
        f.write("\n")
    with pytest.raises(ManifestError, match="changed since the run"):
        replay_backtest(w.manifest)
    # a run on records in memory records no job: its manifest cannot be replayed
    mem = find_hotspots(load_points(files / "delitos.csv"), options=HotspotOptions(cell_size_m=400, clusters="none", time_bin=None))
    w = mem.write(tmp_path / "mem", ["csv"])
    with pytest.raises(ConfigError, match="points"):
        replay_hotspots(w.manifest)


def test_cli_manifest_replay(app, files, tmp_path):
    args = ["hotspots", str(files / "delitos.csv"), "--zones", str(files / "upz.geojson"), "--zones-id", "cod_upz"]
    r = runner.invoke(app, [*args, "--cell-size-m", "300", "--clusters", "dbscan", "--format", "csv", "--out", str(tmp_path / "h")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["hotspots", "--manifest", str(tmp_path / "h" / "manifest.json"), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "Reproduced:" in r.output and "Getis-Ord Gi* per cell" in r.output
    r = runner.invoke(app, [*args, "--manifest", str(tmp_path / "h" / "manifest.json")])
    assert r.exit_code == 2 and "not both" in r.output
    r = runner.invoke(
        app,
        [
            "backtest",
            str(files / "delitos.csv"),
            "--split",
            "2024-07-01",
            "--methods",
            "prior",
            "--bbox",
            "colombia",
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["backtest", "--manifest", str(tmp_path / "b" / "manifest.json")])
    assert r.exit_code == 0 and "Reproducido" in r.output, r.output
    r = runner.invoke(
        app,
        [
            "displacement",
            str(files / "delitos.csv"),
            "--targets",
            str(files / "target.geojson"),
            "--start",
            "2024-01-01",
            "--out",
            str(tmp_path / "d"),
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["displacement", "--manifest", str(tmp_path / "d" / "manifest.json")])
    assert r.exit_code == 0 and "Reproducido" in r.output, r.output
    r = runner.invoke(app, ["hotspots", str(files / "delitos.csv"), "--bbox", "nowhere"])
    assert r.exit_code == 1 and "--bbox: expected" in r.output
