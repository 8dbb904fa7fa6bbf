"""``geoprio validate``, ``geoprio grid`` and ``geoprio harm``: look at inputs before a run.

Thin layers over :func:`geoprio.index.run.load_source` / :func:`~geoprio.index.run.tie_source`,
:func:`geoprio.zones.layers.make_grid` and :func:`geoprio.records.harm.load_harm_table`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from geoprio.cli.common import LangOpt, MetricCrsOpt, friendly, lang_option, out
from geoprio.errors import InputError
from geoprio.labels import label, labels
from geoprio.settings import DEFAULT_LANG

__all__ = ["grid_cmd", "harm_cmd", "register", "validate_cmd"]


@friendly
def validate_cmd(
    path: Annotated[Path, typer.Argument(help="File to check (CSV, Excel, GeoJSON, GeoPackage, shapefile, GeoParquet).")],
    kind: Annotated[Optional[str], typer.Option(help="crime (default), complaint or coexistence.")] = None,
    x: Annotated[Optional[str], typer.Option(help="Longitude / x column.")] = None,
    y: Annotated[Optional[str], typer.Option(help="Latitude / y column.")] = None,
    crs: Annotated[Optional[str], typer.Option(help="CRS of projected coordinates, e.g. EPSG:9377.")] = None,
    key: Annotated[Optional[str], typer.Option(help="Column naming a place instead of coordinates.")] = None,
    zone_id: Annotated[Optional[str], typer.Option("--zone-id", help="Column of zone ids in a per-zone table.")] = None,
    date: Annotated[Optional[str], typer.Option(help="Date column.")] = None,
    hour: Annotated[Optional[str], typer.Option(help="Hour column (when the date has no time).")] = None,
    offsets: Annotated[
        Optional[str],
        typer.Option(
            help="Timestamps with an offset ('Z', '-05:00'): convert (default) to local time, or drop the offset and keep "
            "the time as written (for exports that label local times 'Z'). The report notes which the data support."
        ),
    ] = None,
    category: Annotated[Optional[str], typer.Option(help="Category column.")] = None,
    zones: Annotated[Optional[Path], typer.Option(help="Zone layer to assign the records to (checks the study area).")] = None,
    zones_id: Annotated[Optional[str], typer.Option("--zones-id", help="Id column of the zone layer.")] = None,
    zones_name: Annotated[Optional[str], typer.Option("--zones-name", help="Name column of the zone layer.")] = None,
    key_pattern: Annotated[
        Optional[str], typer.Option("--key-pattern", help=r"Regex with one group to extract the key, e.g. 'E-(\d+)'.")
    ] = None,
    match_on: Annotated[Optional[str], typer.Option("--match-on", help="Match keys to zone 'name' (default) or 'id'.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON here.")] = None,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Load one file, validate it and print the report (rows kept, corrected, dropped and why).

    With --zones the zone layer's own report (polygons repaired, with their ids) comes first,
    and rows outside every zone count as dropped.
    """
    from geoprio.index.config import SourceConfig
    from geoprio.index.run import load_source, tie_source
    from geoprio.io import files as io
    from geoprio.options import validated
    from geoprio.zones.layers import load_zones

    lang = lang_option(lang)
    if zones is not None and zones_id is None:
        raise InputError("--zones needs --zones-id (the id column of the zone layer)")
    given: dict[str, Any] = {
        "kind": kind,
        "x": x,
        "y": y,
        "crs": crs,
        "key": key,
        "zone_id": zone_id,
        "date": date,
        "hour": hour,
        "offsets": offsets,
        "category": category,
        "key_pattern": key_pattern,
        "match_on": match_on,
    }
    src = validated(
        SourceConfig, {"path": path, **{k: v for k, v in given.items() if v is not None}}, source="geoprio validate", what="options"
    )
    loaded = load_source(path.name, src)
    if zones is not None:
        z = load_zones(zones, id=str(zones_id), name=zones_name)
        if z.report.has_issues:
            out.print(z.report.summary(lang), markup=False)
        loaded = tie_source(loaded, src, z, None)
    out.print(loaded.report.summary(lang), markup=False)
    if zones is None and src.layout == "keyed":
        out.print(label("records", "keys_not_matched", lang).format(column=src.key), markup=False)
    unmatched = loaded.report.settings.get("unmatched_keys")
    if unmatched:
        head = labels("cli_index", lang)["unmatched_places"]
        out.print(f"{head}: " + ", ".join(f"{k} ({v:g})" for k, v in list(unmatched.items())[:10]))
    if json_out is not None:
        io.write_json(loaded.report.to_dict(), json_out)


@friendly
def grid_cmd(
    zones: Annotated[Path, typer.Argument(help="Polygon layer whose union is the study area.")],
    zones_id: Annotated[str, typer.Option("--id", help="Id column of the layer.")],
    cell_size_m: Annotated[float, typer.Option("--cell-size-m", help="Cell size in metres (hexagons: distance between centres).")],
    output: Annotated[Path, typer.Option("--out", help="Output layer (.geojson, .gpkg or .parquet).")],
    shape: Annotated[str, typer.Option(help="square or hex.")] = "square",
    metric_crs: MetricCrsOpt = None,
) -> None:
    """Make a square or hexagonal grid clipped to a study area, each cell tied to its zone."""
    from geoprio.io import files as io
    from geoprio.zones.layers import load_zones, make_grid

    z = load_zones(zones, id=zones_id) if metric_crs is None else load_zones(zones, id=zones_id, metric_crs=metric_crs)
    g = make_grid(z, cell_size_m=cell_size_m, shape=shape)  # type: ignore[arg-type]  # make_grid names the choices
    io.write_layer(g.frame, output)
    out.print(f"{g.summary()} → {output}")


@friendly
def harm_cmd(
    table: Annotated[Optional[Path], typer.Option(help="A harm table TOML (default: geoprio's).")] = None,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Show the harm weights per crime category and the rationale of each."""
    from geoprio.records.harm import load_harm_table

    lang = lang_option(lang)
    t = labels("cli_index", lang)
    ht = load_harm_table(table)
    rich_table = Table(title=t["harm_title"].format(source=ht.source))
    for col in ("harm_category", "harm_weight", "harm_article", "harm_rationale"):
        rich_table.add_column(t[col])
    for _, r in ht.to_frame().iterrows():
        rich_table.add_row(r["category"], f"{r['weight_months']:g}", r["article"], r["rationale"])
    out.print(rich_table)


def register(app: typer.Typer) -> None:
    """Add ``validate``, ``grid`` and ``harm`` to the ``geoprio`` app."""
    app.command("validate")(validate_cmd)
    app.command("grid")(grid_cmd)
    app.command("harm")(harm_cmd)
