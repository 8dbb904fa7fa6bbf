"""``geoprio count``: a point dataset counted per zone, grid cell, period and category, on any engine.

A thin front end over :mod:`geoprio.zones.counting`: it builds one
:class:`~geoprio.zones.counting.CountOptions` from the flags (defaults come from the options
objects, never repeated here), runs it in memory or on a Dask cluster
(``--engine local`` or ``--engine``/``--scheduler tcp://host:8786``), prints a summary and
writes the tables, layers and manifest with ``--out``; or replays a manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from geoprio.cli.common import (
    CrsOpt,
    CsvOpt,
    FormatOpt,
    LangOpt,
    ManifestOpt,
    MetricCrsOpt,
    OutOpt,
    TopOpt,
    check_formats,
    command_line,
    export_options,
    friendly,
    lang_option,
    out,
    print_not_written,
    print_replay,
    print_written,
)
from geoprio.errors import InputError
from geoprio.io.cluster import EngineOptions
from geoprio.labels import labels, plural
from geoprio.numbers import fmt_int, fmt_number
from geoprio.options import validated
from geoprio.settings import DEFAULT_LANG
from geoprio.zones.counting import CountOptions, CountRun, replay_count, run_count

__all__ = ["count_cmd", "register"]


def parse_by(text: str | None) -> tuple[str, ...] | None:
    """``--by``: ``period``, ``category``, ``period,category`` or ``none`` (None: the options' default)."""
    if text is None:
        return None
    words = tuple(w.strip().lower() for w in text.split(",") if w.strip())
    if words in ((), ("none",)):
        return ()
    bad = [w for w in words if w not in ("period", "category")]
    if bad:
        raise InputError(f"--by: expected 'period', 'category', 'period,category' or 'none', got {text!r}")
    return words


def count_options(given: dict[str, Any], engine: dict[str, Any]) -> CountOptions:
    """The options the flags name; flags not given keep the options' defaults."""
    doc = {k: v for k, v in given.items() if v is not None}
    doc["engine"] = validated(EngineOptions, {k: v for k, v in engine.items() if v is not None}, source="command line", what="engine")
    return validated(CountOptions, doc, source="command line", what="options")


def _print(run: CountRun, *, top: int, lang: str) -> None:
    t = labels("count", lang)
    notes = run.counts.notes
    eng = notes["engine"]
    if eng.get("address"):
        gbs = [m / 1e9 for m in eng.get("memory_per_worker", [])]
        memory = ", ".join(f"{fmt_number(g, lang, 0 if g == round(g) else 2)} GB" for g in gbs)
        workers = plural(t["workers"], int(eng["workers"]), lang)
        threads = plural(t["threads"], int(eng["threads"]), lang)
        out.print(t["engine_cluster"].format(address=eng["address"], workers=workers, threads=threads, memory=memory))
    else:
        out.print(t["engine"].format(engine=eng["engine"]))
    out.print(
        t["summary"].format(
            points=fmt_int(notes["points"], lang),
            partitions=fmt_int(notes["partitions"], lang),
            inside=fmt_int(notes["points_in_zones"], lang),
            outside=fmt_int(notes["points_outside_zones"], lang),
        )
    )
    if "grid_cells" in notes:
        out.print(
            t["grid"].format(
                m=f"{notes['grid_m']:g}", cells=fmt_int(notes["grid_cells"], lang), outside=fmt_int(notes["points_outside_grid"], lang)
            )
        )
    totals = run.counts.zone_totals().sort_values(ascending=False, kind="stable")
    names = run.counts.zone_layer.frame.set_index("zone_id")["name"]
    table = Table(title=t["title"].format(n=min(top, len(totals)), total=len(totals)))
    table.add_column(t["zone"])
    table.add_column(t["count"], justify="right")
    for zone_id, n in totals.head(top).items():
        name = names.get(zone_id, zone_id)
        table.add_row(f"{name} ({zone_id})" if name != zone_id else str(zone_id), fmt_int(n, lang))
    out.print(table)


@friendly
def count_cmd(
    dataset: Annotated[
        Optional[Path], typer.Argument(help="Dataset folder of part-*.parquet files (geoprio ingest) or a GeoParquet file.")
    ] = None,
    zones: Annotated[Optional[Path], typer.Option("--zones", help="Zone layer (GeoJSON, GeoPackage, shapefile, GeoParquet).")] = None,
    zones_id: Annotated[Optional[str], typer.Option("--zones-id", help="Id column of the zone layer.")] = None,
    zones_name: Annotated[Optional[str], typer.Option("--zones-name", help="Name column of the zone layer.")] = None,
    grid_m: Annotated[Optional[float], typer.Option("--grid-m", help="Also count on a grid of cells of this size (metres).")] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="Group by: period, category, period,category (default) or none.")] = None,
    period: Annotated[Optional[str], typer.Option("--period", help="Period: day, week, month (default), quarter or year.")] = None,
    date_column: Annotated[Optional[str], typer.Option("--date-column", help="Date column of the dataset (default date).")] = None,
    category_column: Annotated[
        Optional[str], typer.Option("--category-column", help="Category column of the dataset (default category).")
    ] = None,
    weight_column: Annotated[Optional[str], typer.Option("--weight-column", help="Column of weights (counts) to sum as well.")] = None,
    engine: Annotated[
        Optional[str],
        typer.Option("--engine", help="memory (default), local (a Dask cluster here) or a scheduler address tcp://host:8786."),
    ] = None,
    scheduler: Annotated[
        Optional[str], typer.Option("--scheduler", help="An existing Dask scheduler, tcp://host:8786 (= --engine ADDRESS).")
    ] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Workers of a local cluster (default 2).")] = None,
    memory_per_worker: Annotated[
        Optional[str], typer.Option("--memory-per-worker", help="Memory limit of each local worker, e.g. 2GB (default).")
    ] = None,
    metric_crs: MetricCrsOpt = None,
    output: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    lang: LangOpt = DEFAULT_LANG,
    top: TopOpt = 10,
    manifest: ManifestOpt = None,
) -> None:
    """Count points per zone (× period × category) and per grid cell, in memory or on a Dask cluster."""
    lang = lang_option(lang)
    if scheduler is not None and engine is not None and engine != scheduler:
        raise InputError(f"--engine {engine!r} and --scheduler {scheduler!r}: give one of the two")
    engine_doc = {"engine": scheduler or engine, "workers": workers, "memory_per_worker": memory_per_worker}
    if manifest is not None:
        from geoprio.io.cluster import open_engine

        chosen = validated(EngineOptions, {k: v for k, v in engine_doc.items() if v is not None}, source="command line", what="engine")
        with open_engine(chosen) as eng:
            print_replay(replay_count(manifest, out_dir=output, command=command_line(), engine=eng), lang)
        return
    if dataset is None or zones is None or zones_id is None:
        raise InputError("give the dataset, --zones and --zones-id (or --manifest to replay a run)")
    given = {
        "dataset": dataset,
        "zones": zones,
        "zones_id": zones_id,
        "zones_name": zones_name,
        "grid_m": grid_m,
        "by": parse_by(by),
        "period": period,
        "date_column": date_column,
        "category_column": category_column,
        "weight_column": weight_column,
        "metric_crs": metric_crs,
    }
    options = count_options(given, engine_doc)
    fmts = check_formats(formats)
    export = export_options(crs, csv, lang)
    run = run_count(options)
    _print(run, top=top, lang=lang)
    if output is None:
        print_not_written(lang)
        return
    print_written(run.write(output, fmts, command=command_line(), export=export), lang)


def register(app: typer.Typer) -> None:
    """Add ``count`` to the ``geoprio`` app."""
    app.command("count")(count_cmd)
