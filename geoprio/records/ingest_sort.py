"""The out-of-core pieces of :mod:`geoprio.records.ingest`: record chunks, sorted runs, their merge.

Nothing here knows about validation or geometry. :func:`text_chunks` cuts a delimited text
file (optionally gzipped) into chunks of whole records, header first, without reading the
file whole: a record ends at a line break outside quotes, blank lines are skipped as pandas
skips them, so record numbers agree with a whole-file read. :class:`SeenKeys` remembers
64-bit hashes of keys met so far (duplicate ids and rows across chunks). :func:`write_run`
writes one chunk sorted by its key as a Parquet "run", and :func:`merge_runs` merges the runs
into globally sorted blocks of a fixed number of rows, holding only a batch of each run in
memory: an external merge sort.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd

from geoprio.errors import InputError, MissingDependencyError
from geoprio.io import files as io

__all__ = ["KEY", "MAX_MERGE_RUNS", "SeenKeys", "TextChunk", "is_delimited", "merge_runs", "reduce_runs", "text_chunks", "write_run"]

#: The sort key column of runs and partitions (the Hilbert distance of each point).
KEY = "hilbert"

#: The longest line read in one piece (bytes): four bytes per character of
#: :data:`geoprio.io.files.MAX_LINE_CHARS`, the longest table row geoprio accepts.
MAX_LINE_BYTES = 4 * io.MAX_LINE_CHARS

#: Runs merged at once: more runs are first merged in groups of this many into longer runs, so
#: that the merge holds at most this many batches whatever the number of chunks.
MAX_MERGE_RUNS = 64

_DELIMITED = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")


def is_delimited(path: Path) -> bool:
    """True for delimited text (``.csv``, ``.tsv``, ``.txt``, each optionally ``.gz``)."""
    name = path.name.lower()
    return any(name.endswith(s) for s in _DELIMITED)


@dataclass(frozen=True)
class TextChunk:
    """Whole records of a delimited file, the header line first.

    ``first_record`` is the 0-based index of the chunk's first record in the file (so its user
    row number is ``first_record + 2``); ``position`` how many bytes of the file (compressed
    bytes for gzip) have been read when the chunk ends.
    """

    data: bytes
    first_record: int
    n_records: int
    position: int


def _open(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by text_chunks
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")), raw
    return raw, raw


def _line(fh: IO[bytes], path: Path, number: int) -> bytes:
    line = fh.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise InputError(
            f"{path}: line {number} is longer than {MAX_LINE_BYTES:,} bytes; a table row is expected to be at most "
            f"{io.MAX_LINE_CHARS:,} characters (a few hundred in an ordinary export). The file looks cut off or has lost "
            "its line breaks; export it again as a CSV with one record per line"
        )
    return line


def text_chunks(path: Path, chunk_rows: int) -> Iterator[TextChunk]:
    """Yield chunks of at most ``chunk_rows`` records of a delimited file, each with the header.

    Raises :class:`InputError` for an empty file, a gzip file that is not gzip, or a line too
    long to be a table row (naming the line).
    """
    fh, raw = _open(path)
    try:
        try:
            header = b""
            line_no = 0
            while not header.strip():
                header = _line(fh, path, line_no + 1)
                line_no += 1
                if not header:
                    raise InputError(f"{path}: the file is empty")
            if header.count(b'"') % 2:
                raise InputError(f"{path}: line {line_no}: the header has an unbalanced quote")
            lines: list[bytes] = [header if header.endswith(b"\n") else header + b"\n"]
            n = 0
            first = 0
            record: list[bytes] = []
            quotes = 0
            while True:
                line = _line(fh, path, line_no + 1)
                if not line:
                    break
                line_no += 1
                if not record and not line.strip(b"\r\n"):
                    continue  # a blank line between records: pandas skips it
                record.append(line)
                quotes += line.count(b'"')
                if quotes % 2:
                    continue  # a quoted field goes on to the next line
                lines.extend(record)
                if not record[-1].endswith(b"\n"):
                    lines.append(b"\n")
                record, quotes = [], 0
                n += 1
                if n == chunk_rows:
                    yield TextChunk(b"".join(lines), first, n, raw.tell())
                    first += n
                    lines, n = [lines[0]], 0
            lines.extend(record)  # an unterminated quote: let the CSV reader name it
            if n or record:
                yield TextChunk(b"".join(lines), first, n + (1 if record else 0), raw.tell())
        except (OSError, EOFError) as exc:
            raise InputError(
                f"{path}: cannot read the file ({exc}); is it a complete {'gzip' if fh is not raw else 'text'} file?"
            ) from None
    finally:
        fh.close()
        raw.close()


class SeenKeys:
    """Hashes (uint64) of keys met so far, for duplicates across chunks and files.

    The hashes are kept in a few sorted arrays whose sizes grow geometrically (a log-structured
    merge), so adding and testing ``n`` keys costs ``O(n log² n)`` and memory is 8 bytes a key.
    """

    def __init__(self) -> None:
        self._levels: list[np.ndarray] = []

    def __len__(self) -> int:
        """Distinct keys added."""
        return int(sum(a.size for a in self._levels))

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """True where a hash was added before."""
        found = np.zeros(hashes.shape, dtype=bool)
        for level in self._levels:
            i = np.minimum(np.searchsorted(level, hashes), level.size - 1)
            found |= level[i] == hashes
        return found

    def add(self, hashes: np.ndarray) -> None:
        """Remember ``hashes``."""
        new = np.unique(hashes.astype(np.uint64))
        new = new[~self.contains(new)]
        if not new.size:
            return
        self._levels.append(new)
        while len(self._levels) > 1 and self._levels[-2].size <= 2 * self._levels[-1].size:
            last = self._levels.pop()
            self._levels[-1] = np.union1d(self._levels[-1], last)


def _pyarrow() -> tuple[Any, Any]:
    """The pyarrow module and its Parquet module, an optional dependency (``pip install 'geoprio[parquet]'``)."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MissingDependencyError(
            "geoprio ingest writes GeoParquet and needs pyarrow; install it with pip install 'geoprio[parquet]'"
        ) from exc
    return pa, pq


def write_run(df: pd.DataFrame, path: Path, *, row_group_rows: int) -> Path:
    """Write ``df`` sorted by :data:`KEY` (stable) as a Parquet run, atomically."""
    pa, pq = _pyarrow()
    order = np.argsort(df[KEY].to_numpy(), kind="stable")
    table = pa.Table.from_pandas(df.iloc[order], preserve_index=False)
    with io.atomic_path(path) as tmp:
        pq.write_table(table, tmp, row_group_size=max(1, row_group_rows))
    return path


class _Run:
    """A run being merged: its batches, and the rows of the current batch not yet taken."""

    def __init__(self, path: Path, batch_rows: int) -> None:
        self._batches = _pyarrow()[1].ParquetFile(path).iter_batches(batch_size=max(1, batch_rows))
        self.buffer: pd.DataFrame | None = None
        self.refill()

    def refill(self) -> None:
        for batch in self._batches:
            if batch.num_rows:
                self.buffer = batch.to_pandas()
                return
        self.buffer = None


def merge_runs(
    runs: list[Path], block_rows: int, *, batch_rows: int, conform: Callable[[pd.DataFrame], pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    """Merge runs sorted by :data:`KEY` into blocks of ``block_rows`` rows in global key order.

    Each step takes, from every run's current batch, the rows whose key is at most the
    smallest last key of the batches (so no later row can sort before them), sorts them
    (stable: equal keys stay in run order) and adds them to the block being filled. At most
    one batch of ``batch_rows`` rows per run and one block are held in memory. ``conform``
    gives each run's rows the dataset's columns and types (runs of different files may
    have different columns). The last block may be shorter.
    """
    open_runs = [r for r in (_Run(p, batch_rows) for p in runs) if r.buffer is not None]
    pending: list[pd.DataFrame] = []
    n_pending = 0
    while open_runs:
        cutoff = min(int(r.buffer[KEY].iloc[-1]) for r in open_runs if r.buffer is not None)
        taken: list[pd.DataFrame] = []
        for r in open_runs:
            assert r.buffer is not None
            k = int(np.searchsorted(r.buffer[KEY].to_numpy(), cutoff, side="right"))
            if k:
                taken.append(conform(r.buffer.iloc[:k]))
                r.buffer = r.buffer.iloc[k:]
            if not len(r.buffer):
                r.refill()
        open_runs = [r for r in open_runs if r.buffer is not None]
        step = pd.concat(taken, ignore_index=True) if len(taken) > 1 else taken[0].reset_index(drop=True)
        step = step.iloc[np.argsort(step[KEY].to_numpy(), kind="stable")]
        pending.append(step)
        n_pending += len(step)
        while n_pending >= block_rows:
            block = pd.concat(pending, ignore_index=True)
            yield block.iloc[:block_rows].reset_index(drop=True)
            rest = block.iloc[block_rows:]
            pending, n_pending = ([rest], len(rest)) if len(rest) else ([], 0)
    if n_pending:
        yield pd.concat(pending, ignore_index=True)


def reduce_runs(
    runs: list[Path], folder: Path, *, batch_rows: int, conform: Callable[[pd.DataFrame], pd.DataFrame], fan_in: int | None = None
) -> list[Path]:
    """Merge runs in groups of ``fan_in`` (:data:`MAX_MERGE_RUNS`) into longer runs until at most
    ``fan_in`` are left; each merged run is written batch by batch and its inputs deleted.
    """
    fan_in = max(2, fan_in or MAX_MERGE_RUNS)
    pa, pq = _pyarrow()
    level = 0
    while len(runs) > fan_in:
        merged: list[Path] = []
        for start in range(0, len(runs), fan_in):
            group = runs[start : start + fan_in]
            path = folder / f"merged-{level}-{len(merged):05d}.parquet"
            with io.atomic_path(path) as tmp:
                writer = None
                try:
                    for block in merge_runs(group, batch_rows, batch_rows=batch_rows, conform=conform):
                        table = pa.Table.from_pandas(block, preserve_index=False)
                        if writer is None:
                            writer = pq.ParquetWriter(tmp, table.schema)
                        writer.write_table(table.replace_schema_metadata(writer.schema.metadata), row_group_size=batch_rows)
                finally:
                    if writer is not None:
                        writer.close()
            for done in group:
                done.unlink()
            merged.append(path)
        runs, level = merged, level + 1
    return runs
