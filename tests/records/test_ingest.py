"""Ingest: raw record files into one partitioned GeoParquet dataset, in Hilbert order.

The real Medellín homicides (9,360 rows, 9,279 with coordinates) are split into three files
of three dialects (Latin-1 with ``;`` and decimal commas, gzipped UTF-8, ``,`` with decimal
points) and ingested in chunks of 1,000 records into partitions of 2,000 points: every usable
row must come out once, with the values and the report a whole-file load gives.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geoprio.errors import ColumnError, InputError
from geoprio.records import ingest_sort, load_points
from geoprio.records.ingest import HILBERT_LEVEL, ingest_records
from geoprio.records.ingest_report import HeapingCounts
from geoprio.records.ingest_sort import SeenKeys, text_chunks
from geoprio.records.times import detect_time_heaping
from geoprio.settings import COLOMBIA_BBOX

#: Where each part starts in the original file (records before it).
OFFSETS = {"part1.csv": 0, "part2.csv.gz": 3000, "part3.csv": 6500}


def _comma_points(line: str) -> str:
    fields = line.rstrip("\n").split(";")
    fields[1], fields[2] = fields[1].replace(",", "."), fields[2].replace(",", ".")
    return ",".join(fields) + "\n"


@pytest.fixture(scope="module")
def parts(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = shared_data / "medellin" / "medellin_homicides.csv"
    lines = src.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    head, body = lines[0], lines[1:]
    folder = tmp_path_factory.mktemp("ingest_parts")
    (folder / "part1.csv").write_text(head + "".join(body[:3000]), encoding="latin-1")
    with gzip.open(folder / "part2.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(head + "".join(body[3000:6500]))
    (folder / "part3.csv").write_text(_comma_points(head) + "".join(_comma_points(x) for x in body[6500:]), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def ingested(parts: Path):
    result = ingest_records([str(parts / "part*.csv*")], parts / "out", chunk_rows=1000, partition_rows=2000)
    frame = pd.concat([gpd.read_parquet(parts / "out" / p.name) for p in result.partitions], ignore_index=True)
    return result, frame


def test_every_usable_row_once_with_the_values_of_a_whole_file_load(shared_data, parts, ingested):
    result, frame = ingested
    whole = load_points(shared_data / "medellin" / "medellin_homicides.csv")
    assert len(frame) == result.n_rows == len(whole.data) == 9279
    original_row = frame["row"] + frame["source_file"].map(OFFSETS)
    assert original_row.is_unique
    expected = whole.data.set_index("row").loc[original_row.to_numpy()]
    np.testing.assert_allclose(frame.geometry.x, expected["x"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(frame.geometry.y, expected["y"], rtol=0, atol=1e-9)
    assert (frame["date"].to_numpy() == expected["date"].to_numpy()).all()
    assert (frame["category"].to_numpy() == expected["category"].to_numpy()).all()
    assert (frame["hour"].to_numpy() == expected["hour"].to_numpy()).all()
    assert frame.crs.equals("EPSG:4326")
    # the source's other columns are carried as text; the parsed ones are not repeated
    assert {"sexo", "edad"} <= set(frame.columns) and not {"longitud", "latitud", "fecha_hecho", "modalidad"} & set(frame.columns)


def test_each_file_gets_the_report_and_rows_of_its_own_load(parts, ingested):
    result, frame = ingested
    for name in OFFSETS:
        alone = load_points(parts / name)
        mine = result.file_reports[name]
        assert mine.n_read == alone.report.n_read and mine.dropped == alone.report.dropped
        assert [e.row for e in mine.examples["missing_coordinates"]] == [e.row for e in alone.report.examples["missing_coordinates"]]
        rows = frame.loc[frame["source_file"] == name].set_index("row").sort_index()
        assert rows.index.equals(pd.Index(alone.data["row"]))
        # time heaping is tested on the whole file, not chunk by chunk: part3 alone is heaped
        assert (rows["time_heaped"].to_numpy() == alone.data["time_heaped"].to_numpy()).all()
        assert mine.flagged.get("heaped_time") == alone.report.flagged.get("heaped_time")
    assert result.file_reports["part3.csv"].flagged["heaped_time"] == 133


def test_duplicates_are_found_across_chunks_and_files(parts, ingested):
    result, _frame = ingested
    # rows equal to an earlier row: 4, 7 and 5 within each file (as load_points finds them),
    # and 14 rows of part2 equal to rows of part1 (part3 writes its coordinates otherwise)
    alone = {name: load_points(parts / name).report.flagged["duplicate_row"] for name in OFFSETS}
    assert alone == {"part1.csv": 4, "part2.csv.gz": 7, "part3.csv": 5}
    assert result.file_reports["part2.csv.gz"].flagged["duplicate_row"] == 7 + 14
    # part2's row 22 (line 3,023 of the original) repeats part1's row 966
    assert 22 in [e.row for e in result.file_reports["part2.csv.gz"].examples["duplicate_row"]]
    assert result.report.flagged["duplicate_row"] == 30


def test_merged_report_sums_the_files_and_names_each_example_file(parts, ingested):
    result, _frame = ingested
    assert result.report.n_read == 9360 and result.report.dropped == {"missing_coordinates": 81}
    doc = json.loads((parts / "out" / "validacion.json").read_text(encoding="utf-8"))
    assert doc["total"]["rows_kept"] == 9279 and set(doc["files"]) == set(OFFSETS)
    first = doc["total"]["examples"]["missing_coordinates"][0]
    assert first == {"row": 225, "column": "longitud", "value": "NA", "file": "part1.csv"}
    text = (parts / "out" / "validacion.txt").read_text(encoding="utf-8")
    assert re.match(r"3 archivos: 9[.,]279 de 9[.,]360 filas usadas\n", text)
    assert re.search(r"\npart2\.csv\.gz: 3[.,]465 de 3[.,]500 filas usadas\n", text)


def test_partitions_are_hilbert_ordered_with_their_bounds_in_the_manifest(parts, ingested):
    result, _frame = ingested
    assert [p.rows for p in result.partitions] == [2000, 2000, 2000, 2000, 1279]
    manifest = json.loads((parts / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "geoprio.ingest" and len(manifest["inputs"]) == 3
    assert manifest["parameters"]["hilbert"] == {"level": HILBERT_LEVEL, "total_bounds": list(COLOMBIA_BBOX)}
    previous_last = -1
    for part, entry in zip(result.partitions, manifest["partitions"], strict=True):
        gdf = gpd.read_parquet(parts / "out" / part.name)
        keys = gdf["hilbert"].to_numpy()
        assert (np.diff(keys) >= 0).all() and keys[0] >= previous_last  # one order across partitions
        previous_last = keys[-1]
        # the key is geopandas' own Hilbert distance on the fixed box
        expected = gdf.geometry.hilbert_distance(total_bounds=COLOMBIA_BBOX, level=HILBERT_LEVEL).to_numpy()
        assert (keys == expected).all()
        np.testing.assert_allclose(entry["bounds"], gdf.total_bounds)
        assert entry["rows"] == len(gdf) and entry["hilbert"] == [int(keys[0]), int(keys[-1])]
        assert list(gdf.columns) == manifest["columns"] == list(result.columns)
    # compact areas: each partition's box is far smaller than the whole dataset's
    whole = np.array([min(p.bounds[0] for p in result.partitions), max(p.bounds[2] for p in result.partitions)])
    widths = [p.bounds[2] - p.bounds[0] for p in result.partitions]
    assert sorted(widths)[2] < 0.7 * (whole[1] - whole[0])


# dask-geopandas 0.5 calls GeoDataFrame.reset_index(inplace=True), which pandas now warns about
@pytest.mark.filterwarnings("ignore:The inplace keyword in GeoDataFrame.reset_index is deprecated")
def test_dask_geopandas_reads_the_dataset(parts, ingested):
    result, frame = ingested
    ddf = dask_geopandas.read_parquet(parts / "out")
    assert ddf.npartitions == len(result.partitions)
    back = ddf.compute()
    assert len(back) == 9279 and back.crs.equals("EPSG:4326")
    assert back["record_id"].tolist() == frame["record_id"].tolist()


def test_a_malformed_chunk_names_the_file_row_of_the_file(tmp_path):
    rows = [f"{i},-74.0{i % 10},4.6{i % 10},Hurto" for i in range(30)]
    rows[24] = "24,-74.01,4.61,Hurto,extra,field"  # record 25: row 26 of the file
    (tmp_path / "bad.csv").write_text("id,lon,lat,delito\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv: row 26 has 6 fields but the header has 4"):
        ingest_records([tmp_path / "bad.csv"], tmp_path / "out", chunk_rows=10)
    assert not list((tmp_path / "out").glob("part-*"))  # nothing half written
    (tmp_path / "nocoords.csv").write_text("id,fecha\n1,2024-01-01\n", encoding="utf-8")
    with pytest.raises(ColumnError, match=r"nocoords\.csv"):
        ingest_records([tmp_path / "nocoords.csv"], tmp_path / "out")
    (tmp_path / "fake.csv.gz").write_bytes(b"id,lon,lat\n1,2,3\n")
    with pytest.raises(InputError, match=r"fake\.csv\.gz: cannot read the file"):
        ingest_records([tmp_path / "fake.csv.gz"], tmp_path / "out")
    with pytest.raises(InputError, match=r"nada\*\.csv: no file matches this pattern"):
        ingest_records([str(tmp_path / "nada*.csv")], tmp_path / "out")


def test_an_existing_dataset_is_kept_unless_overwritten(parts, ingested, tmp_path):
    first = ingest_records([parts / "part1.csv"], tmp_path, partition_rows=1000)
    assert len(first.partitions) == 3
    with pytest.raises(InputError, match="already holds a dataset"):
        ingest_records([parts / "part1.csv"], tmp_path)
    again = ingest_records([parts / "part1.csv"], tmp_path, overwrite=True)
    assert len(again.partitions) == 1 and sorted(p.name for p in tmp_path.glob("part-*.parquet")) == ["part-00000.parquet"]


def test_duplicate_ids_across_chunks_are_dropped_as_a_whole_file_load_drops_them(tmp_path):
    lines = [f"{i % 40},2024-01-{1 + i % 28:02d},-74.{i:03d},4.6,Hurto" for i in range(100)]
    (tmp_path / "ids.csv").write_text("id,fecha,lon,lat,delito\n" + "\n".join(lines) + "\n", encoding="utf-8")
    whole = load_points(tmp_path / "ids.csv")
    result = ingest_records([tmp_path / "ids.csv"], tmp_path / "out", chunk_rows=7)
    assert result.report.dropped == whole.report.dropped == {"duplicate_id": 60}
    assert [e.row for e in result.report.examples["duplicate_id"]] == [e.row for e in whole.report.examples["duplicate_id"]]
    kept = pd.concat([gpd.read_parquet(tmp_path / "out" / p.name) for p in result.partitions])
    assert sorted(kept["row"]) == list(range(2, 42)) and sorted(kept["record_id"], key=int) == [str(i) for i in range(40)]


def test_text_chunks_count_records_as_pandas_does(tmp_path):
    text = 'a,b\n1,"two\nlines"\n\n2,x\n3,"y ""q"""\n4,z'
    (tmp_path / "q.csv").write_text(text, encoding="utf-8")
    chunks = list(text_chunks(tmp_path / "q.csv", 2))
    assert [(c.first_record, c.n_records) for c in chunks] == [(0, 2), (2, 2)]
    frames = [pd.read_csv(__import__("io").BytesIO(c.data), dtype=str) for c in chunks]
    whole = pd.read_csv(tmp_path / "q.csv", dtype=str)
    assert pd.concat(frames, ignore_index=True).equals(whole)


def test_seen_keys_and_heaping_counts_agree_with_plain_numpy():
    rng = np.random.default_rng(7)
    seen = SeenKeys()
    added: set[int] = set()
    for _ in range(9):
        batch = rng.integers(0, 5000, 700).astype(np.uint64)
        assert (seen.contains(batch) == np.isin(batch, np.fromiter(added, np.uint64, len(added)))).all()
        seen.add(batch)
        added |= set(batch.tolist())
    assert len(seen) == len(added)
    hours = rng.integers(0, 24, 3000).astype(float)
    minutes = rng.choice([0.0, 0.0, 15.0, 30.0], 3000)
    hours[:200], minutes[:200] = 0.0, 0.0  # a heap at 00:00
    hours[200:260] = np.nan
    counts = HeapingCounts()
    for part in np.array_split(np.arange(3000), 4):
        counts.add(hours[part], minutes[part], part + 2, None, None)
    assert counts.test() == detect_time_heaping(hours, minutes)
    assert counts.test().heaped and counts.at_default == int(((hours == 0) & (minutes == 0)).sum())


def test_a_chunk_without_usable_rows_counts_them_as_a_whole_file_load_does(tmp_path):
    # rows 12–21 (the second chunk of 10) are in Chicago: outside Colombia, as the first 10 are not
    lines = [f"{i},2024-02-{1 + i % 28:02d},{-87.6 if 10 <= i < 20 else -74.1},{41.8 if 10 <= i < 20 else 4.6},Hurto" for i in range(30)]
    (tmp_path / "sorted.csv").write_text("id,fecha,lon,lat,delito\n" + "\n".join(lines) + "\n", encoding="utf-8")
    whole = load_points(tmp_path / "sorted.csv")
    result = ingest_records([tmp_path / "sorted.csv"], tmp_path / "out", chunk_rows=10)
    assert result.report.dropped == whole.report.dropped == {"outside_study_area": 10}
    assert result.n_rows == len(whole.data) == 20
    assert result.file_reports["sorted.csv"].settings["chunks_without_rows"][0]["rows"] == [12, 21]
    with pytest.raises(InputError, match=r"sorted\.csv: no usable rows out of 30 \(read in 3 chunks\)"):
        ingest_records([tmp_path / "sorted.csv"], tmp_path / "out2", chunk_rows=10, bbox=(0.0, 0.0, 1.0, 1.0))


def test_many_runs_are_merged_in_groups_into_the_same_dataset(parts, ingested, monkeypatch, tmp_path):
    _result, frame = ingested
    monkeypatch.setattr(ingest_sort, "MAX_MERGE_RUNS", 2)  # part1's 3 runs: 2 merged into one first
    again = ingest_records([parts / "part1.csv"], tmp_path, chunk_rows=1000, partition_rows=1000)
    assert [p.rows for p in again.partitions] == [1000, 1000, 971]
    merged = pd.concat([gpd.read_parquet(tmp_path / p.name) for p in again.partitions], ignore_index=True)
    assert (np.diff(merged["hilbert"].to_numpy()) >= 0).all()
    mine = frame.loc[frame["source_file"] == "part1.csv"].sort_values("hilbert", kind="stable")
    assert merged["row"].tolist() == mine["row"].tolist()  # one order, however the runs were merged
    assert not list(tmp_path.glob(".ingest-*"))  # the runs are gone


def test_load_points_reads_the_dataset_folder_as_one_layer(parts, ingested):
    """A dataset that fits in memory is a source like a file: ``load_points(folder)``."""
    result, frame = ingested
    back = load_points(parts / "out")
    assert len(back.data) == len(frame) == 9279
    np.testing.assert_allclose(back.data["x"], frame.geometry.x, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back.data["y"], frame.geometry.y, rtol=0, atol=1e-9)
    assert (back.data["date"].to_numpy() == frame["date"].to_numpy()).all()
    assert (back.data["category"].to_numpy() == frame["category"].to_numpy()).all()
