"""``geoprio ingest``: raw record files into one partitioned GeoParquet dataset.

A thin layer over :func:`geoprio.records.ingest.ingest_records`: it parses the options,
shows progress, prints the merged validation report and the files written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from geoprio.cli.common import LangOpt, ManifestOpt, command_line, friendly, lang_option, out, print_replay, print_written
from geoprio.cli.progress import console_progress
from geoprio.errors import InputError
from geoprio.records.ingest import DEFAULT_CHUNK_ROWS, DEFAULT_PARTITION_ROWS
from geoprio.settings import DEFAULT_LANG

__all__ = ["ingest_cmd", "register"]


@friendly
def ingest_cmd(
    paths: Annotated[
        Optional[list[str]], typer.Argument(help="Record files or glob patterns ('dumps/*.csv.gz'): CSV/TSV, gzip, Excel, layers.")
    ] = None,
    out_dir: Annotated[
        Optional[Path], typer.Option("--out", help="Folder of the dataset: part-00000.parquet …, validacion.json, manifest.json.")
    ] = None,
    manifest: ManifestOpt = None,
    chunk_rows: Annotated[
        Optional[int], typer.Option("--chunk-rows", min=1, help=f"Records read and validated at a time (default {DEFAULT_CHUNK_ROWS:_}).")
    ] = None,
    partition_rows: Annotated[
        Optional[int], typer.Option("--partition-rows", min=1, help=f"Points per GeoParquet file (default {DEFAULT_PARTITION_ROWS:_}).")
    ] = None,
    kind: Annotated[Optional[str], typer.Option(help="crime (default), complaint or coexistence.")] = None,
    x: Annotated[Optional[str], typer.Option(help="Longitude / x column.")] = None,
    y: Annotated[Optional[str], typer.Option(help="Latitude / y column.")] = None,
    crs: Annotated[
        Optional[str], typer.Option("--input-crs", "--crs", help="CRS of projected coordinates in the files, e.g. EPSG:9377.")
    ] = None,
    date: Annotated[Optional[str], typer.Option(help="Date column.")] = None,
    hour: Annotated[Optional[str], typer.Option(help="Hour column (when the date has no time).")] = None,
    category: Annotated[Optional[str], typer.Option(help="Category column.")] = None,
    id: Annotated[Optional[str], typer.Option("--id", help="Record id column (duplicates are looked for across all files).")] = None,
    count: Annotated[Optional[str], typer.Option(help="Count column (records per row).")] = None,
    offsets: Annotated[
        Optional[str], typer.Option(help="Timestamps with an offset: convert (default) to local time, or drop the offset.")
    ] = None,
    bbox: Annotated[
        Optional[str],
        typer.Option(help="Box points must fall in: colombia (default), none or minlon,minlat,maxlon,maxlat; also the Hilbert box."),
    ] = None,
    duplicate_rows: Annotated[
        Optional[str],
        typer.Option("--duplicate-rows", help="Rows equal to an earlier one (files without ids): flag (default) or drop."),
    ] = None,
    across: Annotated[
        bool,
        typer.Option(
            "--duplicates-across-chunks/--duplicates-within-chunks",
            help="Look for duplicate ids and rows across chunks and files (8 bytes of memory per record) or only within a chunk.",
        ),
    ] = True,
    sep: Annotated[Optional[str], typer.Option(help="Separator of delimited files (detected by default).")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Text encoding (detected by default: UTF-8, cp1252, Latin-1).")] = None,
    decimal: Annotated[Optional[str], typer.Option(help="Decimal mark (detected by default).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a dataset already in --out.")] = False,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Turn many raw record files into one partitioned GeoParquet dataset, in Hilbert order.

    Every file is read in chunks (memory stays bounded) and validated as geoprio validate
    does; the reports are merged into validacion.json and validacion.txt, with each
    example's file and row. The dataset reads with dask_geopandas.read_parquet(OUT).
    """
    from geoprio.options import validated
    from geoprio.records.ingest import IngestOptions, expand_inputs, ingest_records, replay_ingest
    from geoprio.zones.bbox import parse_bbox, resolve_bbox

    lang = lang_option(lang)
    if manifest is not None:
        print_replay(replay_ingest(manifest, out_dir=out_dir, command=command_line()), lang)
        return
    if not paths or out_dir is None:
        raise InputError("geoprio ingest needs the files to read and --out (or --manifest to run a previous ingest again)")
    given: dict[str, Any] = {
        "chunk_rows": chunk_rows,
        "partition_rows": partition_rows,
        "kind": kind,
        "x": x,
        "y": y,
        "crs": crs,
        "date": date,
        "hour": hour,
        "category": category,
        "id": id,
        "count": count,
        "offsets": offsets,
        "duplicate_rows": duplicate_rows,
        "sep": sep,
        "encoding": encoding,
        "decimal": decimal,
    }
    doc: dict[str, Any] = {"paths": expand_inputs(paths), **{k: v for k, v in given.items() if v is not None}}
    if bbox is not None:
        doc["bbox"] = resolve_bbox(parse_bbox(bbox), None)
    doc.update(duplicates_across_chunks=across, lang=lang)
    options = validated(IngestOptions, doc, source="geoprio ingest", what="options")
    with console_progress(lang) as progress:
        result = ingest_records(None, out_dir, options=options, overwrite=overwrite, progress=progress, command=command_line())
    out.print(result.report_text(lang), markup=False)
    out.print(result.summary(lang), markup=False)
    print_written(result.written, lang)


def register(app: typer.Typer) -> None:
    """Add ``ingest`` to the ``geoprio`` app."""
    app.command("ingest")(ingest_cmd)
