"""``geoprio validate``, ``geoprio grid`` and ``geoprio harm``: look at inputs before a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from geoprio.cli.common import LangOpt, friendly, lang_option, out

__all__ = ["grid_cmd", "harm_cmd", "register", "validate_cmd"]


@friendly
def validate_cmd(
    path: Annotated[Path, typer.Argument(help="File to check (CSV, Excel, GeoJSON, GeoPackage, shapefile, GeoParquet).")],
    kind: Annotated[str, typer.Option(help="crime, complaint or coexistence.")] = "crime",
    x: Annotated[Optional[str], typer.Option(help="Longitude / x column.")] = None,
    y: Annotated[Optional[str], typer.Option(help="Latitude / y column.")] = None,
    crs: Annotated[Optional[str], typer.Option(help="CRS of projected coordinates, e.g. EPSG:9377.")] = None,
    key: Annotated[Optional[str], typer.Option(help="Column naming a place instead of coordinates.")] = None,
    zone_id: Annotated[Optional[str], typer.Option("--zone-id", help="Column of zone ids in a per-zone table.")] = None,
    date: Annotated[Optional[str], typer.Option(help="Date column.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Category column.")] = None,
    zones: Annotated[Optional[Path], typer.Option(help="Zone layer to assign the records to (checks the study area).")] = None,
    zones_id: Annotated[Optional[str], typer.Option("--zones-id", help="Id column of the zone layer.")] = None,
    zones_name: Annotated[Optional[str], typer.Option("--zones-name", help="Name column of the zone layer.")] = None,
    key_pattern: Annotated[
        Optional[str], typer.Option("--key-pattern", help=r"Regex with one group to extract the key, e.g. 'E-(\d+)'.")
    ] = None,
    match_on: Annotated[str, typer.Option("--match-on", help="Match keys to zone 'name' or 'id'.")] = "name",
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON here.")] = None,
    lang: LangOpt = "es",
) -> None:
    """Load one file, validate it and print the report (rows kept, corrected, dropped and why)."""
    from geoprio.index.config import SourceConfig
    from geoprio.index.run import load_source, tie_source
    from geoprio.io import files as io
    from geoprio.zones.layers import load_zones

    lang = lang_option(lang)
    src = SourceConfig(
        path=path,
        kind=kind,
        x=x,
        y=y,
        crs=crs,
        key=key,
        zone_id=zone_id,
        date=date,
        category=category,
        key_pattern=key_pattern,
        match_on=match_on,
    )  # type: ignore[arg-type]
    loaded = load_source(path.name, src)
    if zones is not None:
        if zones_id is None:
            raise typer.BadParameter("--zones needs --zones-id")
        z = load_zones(zones, id=zones_id, name=zones_name)
        loaded = tie_source(loaded, src, z, None)
    out.print(loaded.report.summary(lang))
    unmatched = loaded.report.settings.get("unmatched_keys")
    if unmatched:
        out.print(
            ("Lugares sin zona más frecuentes: " if lang == "es" else "Most frequent unmatched places: ")
            + ", ".join(f"{k} ({v:g})" for k, v in list(unmatched.items())[:10])
        )
    if json_out is not None:
        io.write_json(loaded.report.to_dict(), json_out)


@friendly
def grid_cmd(
    zones: Annotated[Path, typer.Argument(help="Polygon layer whose union is the study area.")],
    zones_id: Annotated[str, typer.Option("--id", help="Id column of the layer.")],
    cell_size_m: Annotated[float, typer.Option("--cell-size-m", help="Cell size in metres (hexagons: distance between centres).")],
    output: Annotated[Path, typer.Option("--out", help="Output layer (.geojson, .gpkg or .parquet).")],
    shape: Annotated[str, typer.Option(help="square or hex.")] = "square",
    metric_crs: Annotated[Optional[str], typer.Option("--metric-crs", help="Projected CRS in metres (default EPSG:9377).")] = None,
) -> None:
    """Make a square or hexagonal grid clipped to a study area, each cell tied to its zone."""
    from geoprio.io import files as io
    from geoprio.zones.layers import load_zones, make_grid

    z = load_zones(zones, id=zones_id, **({"metric_crs": metric_crs} if metric_crs else {}))
    g = make_grid(z, cell_size_m=cell_size_m, shape=shape)  # type: ignore[arg-type]
    io.write_layer(g.frame, output)
    out.print(f"{g.summary()} → {output}")


@friendly
def harm_cmd(
    table: Annotated[Optional[Path], typer.Option(help="A harm table TOML (default: geoprio's).")] = None,
) -> None:
    """Show the harm weights per crime category and the rationale of each."""
    from geoprio.records.harm import load_harm_table

    ht = load_harm_table(table)
    t = Table(title=f"Pesos de daño ({ht.source}): meses mínimos de prisión en el Código Penal")
    for col in ("Categoría", "Peso", "Artículo", "Justificación"):
        t.add_column(col)
    for _, r in ht.to_frame().iterrows():
        t.add_row(r["category"], f"{r['weight_months']:g}", r["article"], r["rationale"])
    out.print(t)


def register(app: typer.Typer) -> None:
    """Add ``validate``, ``grid`` and ``harm`` to the ``geoprio`` app."""
    app.command("validate")(validate_cmd)
    app.command("grid")(grid_cmd)
    app.command("harm")(harm_cmd)
