"""Ingest: many raw record files into one partitioned GeoParquet dataset, spatially sorted.

``geoprio ingest`` (:func:`ingest_records`) reads record dumps (CSV/TSV, gzipped or not, and
every other format :func:`~geoprio.records.load.load_points` reads) and writes
``part-00000.parquet`` … : GeoParquet files of Point geometries in EPSG:4326 with the
record columns (``source_file``, ``row``, ``record_id``, ``date``, ``hour``, ``time_heaped``,
``category``, ``weight``), the source's other columns as text, and ``hilbert``, the sort key.

Memory stays bounded whatever the input size:

1. each delimited file is read in chunks of ``chunk_rows`` records
   (:func:`~geoprio.records.ingest_sort.text_chunks`), and each chunk is validated by
   :func:`~geoprio.records.load.load_points` itself, with the file's settings (separator,
   decimal mark, columns) taken from its first chunk; row numbers in the report are those of
   the original file. Duplicate ids (and rows, in files without ids) are looked for across
   chunks and files too, with 8 bytes of memory per record kept (``duplicates_across_chunks``);
2. each chunk's points get their Hilbert distance on a fixed box (the ``bbox`` points are
   checked against, or the whole world without one), so that the order is one and the same
   across chunks, and are written sorted as a temporary run;
3. the runs are merged (an external merge sort, one batch of each run in memory) into
   partitions of ``partition_rows`` points in Hilbert order: each covers a compact area.

Beside the partitions: ``validacion.json`` (the merged report, its examples with their file
and original row, and one report per file), ``validacion.txt`` (the same in words) and
``manifest.json`` (inputs and their hashes, options, partitions with their rows, bounds and
key range). Unlike other jobs, ingest writes as it runs (its output does not fit in memory):
partitions are written into a temporary folder inside ``out_dir`` and moved into place at
the end, so a failed run leaves the folder as it was.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field

from geoprio.errors import GeoprioError, InputError
from geoprio.io import files as io
from geoprio.io import manifest as manifests
from geoprio.io.results import Replay, Written, write_result
from geoprio.labels import label
from geoprio.numbers import fmt_int
from geoprio.options import Options, validated
from geoprio.records.ingest_report import HeapingCounts, merge_reports, report_json, report_text, shift_report
from geoprio.records.ingest_sort import KEY, SeenKeys, is_delimited, merge_runs, reduce_runs, text_chunks, write_run
from geoprio.records.load import DuplicateRows, Kind, Records, load_points
from geoprio.records.report import REASONS, ValidationReport
from geoprio.records.times import Offsets
from geoprio.settings import COLOMBIA_BBOX, DEFAULT_LANG, Lang

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_PARTITION_ROWS",
    "HILBERT_LEVEL",
    "INGEST_KIND",
    "IngestOptions",
    "IngestResult",
    "IngestPartition",
    "expand_inputs",
    "ingest_records",
    "replay_ingest",
]

#: Records read and validated at a time from one file.
DEFAULT_CHUNK_ROWS = 1_000_000
#: Points per output partition (the last one may have fewer).
DEFAULT_PARTITION_ROWS = 1_000_000
#: Level of the Hilbert curve (2**16 cells a side of the box).
HILBERT_LEVEL = 16
#: The manifest kind of an ingest.
INGEST_KIND = "geoprio.ingest"
#: The box of the Hilbert order when points are not checked against one.
WORLD_BOUNDS = (-180.0, -90.0, 180.0, 90.0)

#: Rows of each run read at a time while merging (and the row-group size of the runs).
RUN_BATCH_ROWS = 8192

_RECORD_COLUMNS = ("source_file", "row", "record_id", "date", "hour", "time_heaped", "category", "weight")
_OPTIONAL_COLUMNS = ("approximate", "location_method")
#: Source columns with these names are not carried (their parsed form is).
_RESERVED = frozenset((*_RECORD_COLUMNS, *_OPTIONAL_COLUMNS, "x", "y", "key", KEY, "geometry"))
#: The run column marking times at the default 00:00 (``time_heaped`` once the file is tested).
_AT_DEFAULT = "at_default_time"
_ROLES = ("x", "y", "date", "hour", "category", "id", "count")
_ROW_IN_MESSAGE = re.compile(r"\b(rows?|line) (\d+)")
Progress = Callable[[str, int, int], None]


class IngestOptions(Options):
    """Everything an ingest needs to run again. Load settings left ``None`` take
    :func:`~geoprio.records.load.load_points`' defaults (and ``sep``, ``encoding``, ``decimal``
    are detected); ``bbox`` (Colombia by default, None for no check) also bounds the Hilbert
    order.
    """

    paths: tuple[Path, ...] = Field(min_length=1)
    kind: Kind | None = None
    x: str | None = None
    y: str | None = None
    date: str | None = None
    hour: str | None = None
    category: str | None = None
    id: str | None = None
    count: str | None = None
    crs: str | None = None
    bbox: tuple[float, float, float, float] | None = COLOMBIA_BBOX
    fix_swapped: bool | None = None
    require_date: bool | None = None
    timezone: str | None = None
    offsets: Offsets | None = None
    date_format: str | None = None
    duplicate_rows: DuplicateRows | None = None
    sep: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    chunk_rows: int = Field(default=DEFAULT_CHUNK_ROWS, ge=1)
    partition_rows: int = Field(default=DEFAULT_PARTITION_ROWS, ge=1)
    duplicates_across_chunks: bool = True
    lang: Lang = DEFAULT_LANG

    def load_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`load_points` these options set."""
        names = ("kind", *_ROLES, "crs", "fix_swapped", "require_date", "timezone", "offsets", "date_format", "duplicate_rows")
        given = {k: getattr(self, k) for k in names if getattr(self, k) is not None}
        return {**given, "bbox": self.bbox}

    def read_options(self) -> dict[str, str]:
        """The reading settings given (the others are detected from each file's first chunk)."""
        return {k: v for k in ("sep", "encoding", "decimal") if (v := getattr(self, k)) is not None}


@dataclass(frozen=True)
class IngestPartition:
    """One output file: its name, points, bounds (min lon, min lat, max lon, max lat) and key range."""

    name: str
    rows: int
    bounds: tuple[float, float, float, float]
    hilbert: tuple[int, int]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the manifest."""
        return {"file": self.name, "rows": self.rows, "bounds": list(self.bounds), "hilbert": list(self.hilbert)}


@dataclass
class IngestResult:
    """What an ingest wrote: the partitions, the merged report (and one per file), the files."""

    options: IngestOptions
    out_dir: Path
    partitions: tuple[IngestPartition, ...]
    report: ValidationReport
    file_reports: dict[str, ValidationReport]
    written: Written
    columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    kind = INGEST_KIND

    @property
    def n_rows(self) -> int:
        """Points written."""
        return sum(p.rows for p in self.partitions)

    def report_text(self, lang: str = DEFAULT_LANG) -> str:
        """The merged validation report in words, then each file's (``validacion.txt``)."""
        return report_text(self.report, self.file_reports, lang)

    def summary(self, lang: str = DEFAULT_LANG) -> str:
        """One line: points, partitions, files, folder."""
        return label("ingest", "summary", lang).format(
            rows=fmt_int(self.n_rows, lang), partitions=fmt_int(len(self.partitions), lang), files=len(self.file_reports), out=self.out_dir
        )


# --------------------------------------------------------------------------- inputs


def expand_inputs(patterns: Sequence[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """Files named or matched by glob patterns (``data/*.csv.gz``), in order, each once, as
    absolute paths (so that the run's manifest replays from any working folder).

    Raises :class:`InputError` for a pattern that matches no file, a missing file or a folder.
    """
    found: list[Path] = []
    for pattern in patterns:
        text = os.fspath(pattern)
        if glob.has_magic(text):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(f"{text}: no file matches this pattern")
            found.extend(m.absolute() for m in matches)
            continue
        p = Path(text)
        if p.is_dir():
            raise InputError(f"{p}: is a folder; name its files, e.g. {p / '*.csv'}")
        if not p.is_file():
            raise InputError(f"{p}: file not found")
        found.append(p.absolute())
    return tuple(dict.fromkeys(found))


def _names(paths: Sequence[Path]) -> dict[Path, str]:
    """How each input is named in reports: its file name, or its path when two share a name."""
    counts: dict[str, int] = {}
    for p in paths:
        counts[p.name] = counts.get(p.name, 0) + 1
    return {p: p.name if counts[p.name] == 1 else str(p) for p in paths}


# --------------------------------------------------------------------------- reading and validating


def _fixed_message(exc: GeoprioError, tmp: Path, name: str, offset: int) -> GeoprioError:
    """The error of a chunk as the whole file would give it: its name, and rows of the file."""
    text = str(exc).replace(str(tmp), name)
    text = _ROW_IN_MESSAGE.sub(lambda m: f"{m.group(1)} {int(m.group(2)) + offset}", text) if offset else text
    try:
        return type(exc)(text)
    except TypeError:  # an error class with another signature: keep it as it was
        return exc


def _no_rows(exc: GeoprioError) -> bool:
    """Whether the loader refused a chunk only because none of its rows is usable."""
    text = str(exc)
    return "no usable rows out of" in text or "no row has usable coordinates" in text


_MAIN_REASON = re.compile(r"no usable rows out of [\d,]+; ([\d,]+) dropped as ([a-z ]+?)(?:;|$)")


def _empty_chunk_report(exc: GeoprioError, name: str, n: int, first_row: int) -> ValidationReport:
    """The report of a chunk none of whose rows is usable, from the loader's message.

    The loader names only the main reason; every row of the chunk is counted under it, and
    the chunk and the message are kept in the settings (``chunks_without_rows``).
    """
    rep = ValidationReport(source=name, n_read=n)
    match = _MAIN_REASON.search(str(exc))
    reason = match.group(2).replace(" ", "_") if match else ""
    reason = reason if reason in REASONS else "bad_coordinates"
    rep.drop(reason, np.arange(first_row, first_row + n), None, None)
    rep.settings["chunks_without_rows"] = [{"rows": [first_row, first_row + n - 1], "message": str(exc)}]
    return rep


def _source_columns(path: Path, chunk: bytes | None, tmp: Path, read: dict[str, str]) -> list[str]:
    """The columns of a file (for a delimited one, read from the head of its first chunk)."""
    if chunk is None:
        df = io.read_table(path)
    else:
        head = tmp / "head.csv"
        lines = chunk.split(b"\n", 21)[:21]
        with io.atomic_path(head) as t:
            t.write_bytes(b"\n".join(lines) + b"\n")
        try:
            df = io.read_table(head, **read)
        except GeoprioError:  # a quoted field cut by the head: the header alone
            with io.atomic_path(head) as t:
                t.write_bytes(lines[0] + b"\n")
            df = io.read_table(head, **read)
    return [str(c) for c in df.columns if str(c) not in _RESERVED]


def _load_chunks(
    path: Path, name: str, opts: IngestOptions, tmp: Path
) -> Iterator[tuple[Records | None, ValidationReport, int, list[str]]]:
    """Validated chunks of one file: ``(records or None, report, bytes read, source columns)``, rows of the file."""
    load = opts.load_options()
    if not is_delimited(path):  # Excel and vector layers: read whole, as load_points does
        columns = _source_columns(path, None, tmp, {})
        rec = load_points(path, source=name, keep=columns, **load)
        yield rec, rec.report, path.stat().st_size, columns
        return
    read: dict[str, Any] = dict(opts.read_options())
    chunk_file = tmp / "chunk.csv"
    originals: list[str] = []
    settled = False  # the file's settings and columns are known (from its first usable chunk)
    empty: list[tuple[GeoprioError, ValidationReport]] = []
    n_chunks = 0
    for chunk in text_chunks(path, opts.chunk_rows):
        n_chunks += 1
        with io.atomic_path(chunk_file) as t:
            t.write_bytes(chunk.data)
        try:
            if n_chunks == 1:
                originals = _source_columns(path, chunk.data, tmp, read)
            rec = load_points(chunk_file, source=name, keep=originals, **load, **read)
        except GeoprioError as exc:
            if not _no_rows(exc):
                raise _fixed_message(exc, chunk_file, name, chunk.first_record) from None
            rep = _empty_chunk_report(exc, name, chunk.n_records, chunk.first_record + 2)
            empty.append((_fixed_message(exc, chunk_file, name, chunk.first_record), rep))
            yield None, rep, chunk.position, originals
            continue
        if not settled:  # the file's settings and columns hold for its later chunks
            read = {k: str(rec.report.settings[k]) for k in ("sep", "decimal") if k in rec.report.settings} | read
            load = {**load, **{role: col for role, col in rec.report.columns.items() if role in _ROLES}}
            settled = True
        if chunk.first_record:
            rec.data["row"] += chunk.first_record
            if "id" not in rec.report.columns:
                rec.data["record_id"] = pd.array([f"{name}:{r}" for r in rec.data["row"]], dtype="string")
        yield rec, shift_report(rec.report, chunk.first_record), chunk.position, originals
    if not n_chunks:
        raise InputError(f"{path}: no data rows")
    if len(empty) == n_chunks:  # no usable row in the whole file: the loader's error, as for a whole-file load
        if n_chunks == 1:
            raise empty[0][0]
        n_read = sum(rep.n_read for _exc, rep in empty)
        raise InputError(f"{name}: no usable rows out of {n_read:,} (read in {n_chunks} chunks); the first chunk: {empty[0][0]}")


@dataclass
class _Duplicates:
    """Ids and rows already kept, by id column and by set of columns (:class:`SeenKeys`)."""

    ids: dict[str, SeenKeys] = field(default_factory=dict)
    rows: dict[tuple[str, ...], SeenKeys] = field(default_factory=dict)

    def check(self, data: pd.DataFrame, report: ValidationReport, originals: list[str], how: str) -> pd.DataFrame:
        """Drop (or flag) the rows of ``data`` that repeat an id or a row kept earlier."""
        id_col = report.columns.get("id")
        if id_col is not None:
            ids = data["record_id"]
            hashes = pd.util.hash_pandas_object(ids.astype("string"), index=False).to_numpy()
            known = ids.notna().to_numpy()
            seen = self.ids.setdefault(id_col, SeenKeys())
            dup = seen.contains(hashes) & known
            report.drop("duplicate_id", data["row"].to_numpy()[dup], id_col, ids.to_numpy()[dup])
            seen.add(hashes[known & ~dup])
            return data.loc[~dup].reset_index(drop=True) if dup.any() else data
        columns = [*originals, "date", "hour", "category", "weight", "x", "y"]
        hashes = pd.util.hash_pandas_object(data[columns], index=False).to_numpy()
        seen = self.rows.setdefault(tuple(columns), SeenKeys())
        first = ~pd.Series(hashes).duplicated().to_numpy()  # later copies in the chunk: the loader's
        dup = seen.contains(hashes) & first
        first_col = originals[0] if originals else "date"
        if how == "drop":
            report.drop("duplicate_row", data["row"].to_numpy()[dup], None, data[first_col].to_numpy()[dup])
            data = data.loc[~dup].reset_index(drop=True) if dup.any() else data
        else:
            report.flag("duplicate_row", data["row"].to_numpy()[dup], None, data[first_col].to_numpy()[dup])
        seen.add(hashes)
        return data


# --------------------------------------------------------------------------- the dataset


@dataclass
class _Schema:
    """The dataset's columns: record columns, optional ones met, source columns in order met."""

    originals: dict[str, None] = field(default_factory=dict)
    optional: dict[str, None] = field(default_factory=dict)
    heaped_files: set[str] = field(default_factory=set)

    @property
    def columns(self) -> list[str]:
        return [*_RECORD_COLUMNS, *self.optional, *self.originals, "x", "y", KEY]

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """A run's rows with the dataset's columns and types, ``time_heaped`` from the file's test."""
        out = df.copy()
        if _AT_DEFAULT in out:  # not yet conformed (runs merged in groups already are)
            at_default = out.pop(_AT_DEFAULT).to_numpy(dtype=bool)
            out["time_heaped"] = at_default & out["source_file"].isin(self.heaped_files).to_numpy(dtype=bool)
        for col in [*self.optional, *self.originals]:
            if col not in out:
                out[col] = False if col == "approximate" else pd.NA
        out = out[self.columns]
        types: dict[str, Any] = {c: "string" for c in ("source_file", "record_id", "category", *self.originals)}
        types.update(row="int64", hour="Int64", time_heaped="bool", weight="float64", x="float64", y="float64")
        if "approximate" in self.optional:
            types["approximate"] = "bool"
        if "location_method" in self.optional:
            types["location_method"] = "string"
        out = out.astype(types)
        out["date"] = pd.to_datetime(out["date"])
        return out


def _count_times(heaping: HeapingCounts, data: pd.DataFrame, report: ValidationReport) -> np.ndarray:
    """Add a chunk's times to its file's heaping counts; return where a time sits at 00:00."""
    hours, minutes = HeapingCounts.times(data, report.columns)
    hour_col, date_col = report.columns.get("hour"), report.columns.get("date")
    column = hour_col if hour_col is not None and hour_col != date_col else date_col
    values = data[column].to_numpy() if column is not None and column in data else None
    return heaping.add(hours, minutes, data["row"].to_numpy(), values, column)


def _run_frame(data: pd.DataFrame, name: str, originals: list[str], bounds: tuple[float, float, float, float]) -> pd.DataFrame:
    frame = data.drop(columns=[c for c in data.columns if c not in (*_RECORD_COLUMNS, *_OPTIONAL_COLUMNS, *originals, "x", "y")])
    frame.insert(0, "source_file", pd.array([name] * len(frame), dtype="string"))
    points = gpd.GeoSeries(gpd.points_from_xy(frame["x"], frame["y"]))
    frame[KEY] = points.hilbert_distance(total_bounds=bounds, level=HILBERT_LEVEL).to_numpy(dtype=np.int64)
    for col in originals:
        frame[col] = frame[col].astype("string")
    return frame


def _check_out(out: Path, overwrite: bool) -> list[Path]:
    old = sorted(out.glob("part-*.parquet")) if out.is_dir() else []
    if old and not overwrite:
        raise InputError(
            f"{out}: already holds a dataset ({len(old)} part-*.parquet); choose an empty folder or overwrite=True (--overwrite)"
        )
    return old


def ingest_records(
    paths: Sequence[str | os.PathLike[str]] | None,
    out_dir: str | os.PathLike[str],
    *,
    options: IngestOptions | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    command: str | None = None,
    **settings: Any,
) -> IngestResult:
    """Turn record files into one partitioned GeoParquet dataset in ``out_dir`` (see the module).

    ``paths`` are files or glob patterns (:func:`expand_inputs`); ``settings`` are the fields of
    :class:`IngestOptions` (``chunk_rows``, ``partition_rows``, ``x``, ``crs``, ``bbox``…), or
    pass a built ``options`` (then ``paths`` is None). ``progress(step, done, total)`` is called
    as files are read (``ingest_read``, in bytes) and partitions written (``ingest_write``).
    Raises :class:`InputError` naming the file, row and column of an unusable input, or when
    ``out_dir`` already holds a dataset and ``overwrite`` is False.
    """
    if options is None:
        if paths is None:
            raise InputError("ingest_records: give paths or options")
        options = validated(IngestOptions, {"paths": expand_inputs(paths), **settings}, source="ingest_records", what="options")
    elif paths is not None or settings:
        raise InputError("ingest_records: give either options or paths and settings, not both")
    opts = options
    out = Path(out_dir)
    old = _check_out(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    names = _names(opts.paths)
    bounds = opts.bbox or WORLD_BOUNDS
    total_bytes = sum(p.stat().st_size for p in opts.paths)
    tick = progress or (lambda step, done, total: None)
    schema = _Schema()
    duplicates = _Duplicates()
    file_reports: dict[str, ValidationReport] = {}
    with tempfile.TemporaryDirectory(prefix=".ingest-", dir=out) as tmp_name:
        tmp = Path(tmp_name)
        runs: list[Path] = []
        done_bytes = 0
        for path in opts.paths:
            name = names[path]
            pieces: list[ValidationReport] = []
            heaping = HeapingCounts()
            for rec, rep, position, originals in _load_chunks(path, name, opts, tmp):
                if rec is not None:
                    data = rec.data
                    if opts.duplicates_across_chunks:
                        data = duplicates.check(data, rep, originals, opts.duplicate_rows or "flag")
                    at_default = _count_times(heaping, data, rep)
                    carried = [c for c in originals if c not in rep.columns.values()]  # the others are parsed
                    schema.originals.update(dict.fromkeys(carried))
                    schema.optional.update(dict.fromkeys(c for c in _OPTIONAL_COLUMNS if c in data))
                    frame = _run_frame(data, name, carried, bounds)
                    frame[_AT_DEFAULT] = at_default
                    for start in range(0, len(frame), opts.chunk_rows):
                        run = tmp / f"run-{len(runs):05d}.parquet"
                        runs.append(write_run(frame.iloc[start : start + opts.chunk_rows], run, row_group_rows=RUN_BATCH_ROWS))
                pieces.append(rep)
                tick("ingest_read", done_bytes + position, total_bytes)
            done_bytes += path.stat().st_size
            file_reports[name] = merge_reports(pieces, name)[0]
            file_reports[name].settings["chunks"] = len(pieces)
            without = [c for rep in pieces for c in rep.settings.get("chunks_without_rows", [])]
            if without:
                file_reports[name].settings["chunks_without_rows"] = without
            if heaping.apply(file_reports[name]):
                schema.heaped_files.add(name)
        tick("ingest_read", total_bytes, total_bytes)
        total, example_files = merge_reports(
            list(file_reports.values()), _dataset_source(file_reports, opts.lang), files=list(file_reports)
        )
        total.columns, total.notes = {}, {}  # each file's own, in file_reports
        total.settings = {"files": len(file_reports)}
        parts_dir = tmp / "parts"
        partitions: list[IngestPartition] = []
        written_rows = 0
        runs = reduce_runs(runs, tmp, batch_rows=RUN_BATCH_ROWS, conform=schema.conform)
        for block in merge_runs(runs, opts.partition_rows, batch_rows=RUN_BATCH_ROWS, conform=schema.conform):
            partition = _write_partition(block, parts_dir / f"part-{len(partitions):05d}.parquet")
            partitions.append(partition)
            written_rows += partition.rows
            tick("ingest_write", written_rows, total.n_kept)
        for stale in old:
            stale.unlink()
        final = []
        for partition in partitions:
            os.replace(parts_dir / partition.name, out / partition.name)
            final.append(out / partition.name)
    doc = report_json(total, example_files, file_reports)
    files = [
        *final,
        io.write_json(doc, out / "validacion.json"),
        io.write_text(report_text(total, file_reports, opts.lang), out / "validacion.txt"),
    ]
    written = write_result(
        kind=INGEST_KIND,
        out_dir=out,
        files=files,
        options=opts,
        inputs=opts.paths,
        command=command,
        parameters={"crs": "EPSG:4326", "hilbert": {"level": HILBERT_LEVEL, "total_bounds": list(bounds)}, "sort_key": KEY},
        summary={"rows_read": total.n_read, "rows_kept": total.n_kept, "rows_written": written_rows, "partitions": len(partitions)},
        partitions=[p.to_dict() for p in partitions],
        columns=_output_columns(schema),
    )
    return IngestResult(
        options=opts,
        out_dir=out,
        partitions=tuple(partitions),
        report=total,
        file_reports=file_reports,
        written=written,
        columns=tuple(_output_columns(schema)),
    )


def replay_ingest(path: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None, command: str | None = None) -> Replay:
    """Run again the ingest a ``manifest.json`` describes and say which outputs are identical.

    Refuses (:class:`~geoprio.errors.ManifestError`) when an input is missing or changed since
    the run. The dataset is written again into ``out_dir`` (default: the manifest's folder,
    replacing it); ``validacion.json`` is compared byte for byte (Parquet files embed write
    times).
    """
    p = Path(path)
    doc = manifests.read(p, kind=INGEST_KIND)
    manifests.check_inputs(doc, source=p)
    options = validated(IngestOptions, doc.get("options") or {}, source=f"{p} (options)", what="options")
    result = ingest_records(None, out_dir if out_dir is not None else p.parent, options=options, overwrite=True, command=command)
    identical, different = manifests.compare_outputs(doc, result.written.files)
    return Replay(result, result.written, identical, different)


def _output_columns(schema: _Schema) -> list[str]:
    """The columns of every partition, in order."""
    return [*(c for c in schema.columns if c not in ("x", "y")), "geometry"]


def _dataset_source(file_reports: dict[str, ValidationReport], lang: str) -> str:
    names = list(file_reports)
    return names[0] if len(names) == 1 else label("ingest", "dataset_source", lang).format(n=len(names))


def _write_partition(block: pd.DataFrame, path: Path) -> IngestPartition:
    x = block["x"].to_numpy()
    y = block["y"].to_numpy()
    gdf = gpd.GeoDataFrame(block.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    io.write_layer(gdf, path)
    keys = block[KEY].to_numpy()
    return IngestPartition(
        name=path.name,
        rows=len(block),
        bounds=(float(x.min()), float(y.min()), float(x.max()), float(y.max())),
        hilbert=(int(keys[0]), int(keys[-1])),
    )
