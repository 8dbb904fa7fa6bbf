"""``geoprio validate``, ``geoprio geocode``, ``geoprio grid`` and ``geoprio harm``: inputs before a run.

Thin layers over :func:`geoprio.index.run.load_source` / :func:`~geoprio.index.run.tie_source`,
:func:`geoprio.records.gazetteer.run_geocode`, :func:`geoprio.zones.layers.make_grid` and
:func:`geoprio.records.harm.load_harm_table`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from geoprio.cli.common import CrsOpt, LangOpt, MetricCrsOpt, SeedOpt, export_options, friendly, lang_option, out
from geoprio.errors import InputError
from geoprio.labels import label, labels
from geoprio.settings import DEFAULT_LANG, DEFAULT_SEED

__all__ = ["geocode_cmd", "grid_cmd", "harm_cmd", "register", "validate_cmd"]

GazetteerOpt = Annotated[
    Optional[Path],
    typer.Option(help="Point or polygon layer of named places (barrio centroids or polygons) to locate --key at."),
]
PlaceKeyOpt = Annotated[Optional[str], typer.Option("--place-key", help="Name column of the gazetteer, matched to --key.")]
PlaceIdOpt = Annotated[Optional[str], typer.Option("--place-id", help="Id column of the gazetteer.")]
PlaceGroupOpt = Annotated[
    Optional[str],
    typer.Option("--place-group", help="Gazetteer column telling apart places sharing a name (e.g. the localidad)."),
]
RecordGroupOpt = Annotated[
    Optional[str], typer.Option("--record-group", help="Column of the records compared with --place-group (e.g. the police station).")
]
LocationMethodOpt = Annotated[
    Optional[str],
    typer.Option(
        "--location-method",
        help="Polygons: 'spread' records at random within each polygon (default, seeded) or put them at one 'point' inside it.",
    ),
]


@friendly
def validate_cmd(
    path: Annotated[
        str,
        typer.Argument(
            help="File to check (CSV, Excel, GeoJSON, GeoPackage, shapefile, GeoParquet), or a PostGIS table or query "
            "(postgresql://host:5432/db?table=schema.name; credentials from PGUSER/PGPASSWORD or ~/.pgpass)."
        ),
    ],
    kind: Annotated[Optional[str], typer.Option(help="crime (default), complaint or coexistence.")] = None,
    x: Annotated[Optional[str], typer.Option(help="Longitude / x column.")] = None,
    y: Annotated[Optional[str], typer.Option(help="Latitude / y column.")] = None,
    crs: Annotated[
        Optional[str],
        typer.Option("--input-crs", "--crs", help="CRS of projected coordinates in the file, e.g. EPSG:9377 (--crs: its former name)."),
    ] = None,
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
    gazetteer: GazetteerOpt = None,
    place_key: PlaceKeyOpt = None,
    place_id: PlaceIdOpt = None,
    place_group: PlaceGroupOpt = None,
    record_group: RecordGroupOpt = None,
    method: LocationMethodOpt = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the report as JSON here.")] = None,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Load one file (or PostGIS table or query), validate it and print the report (rows kept, corrected, dropped and why).

    With --zones the zone layer's own report (polygons repaired, with their ids) comes first,
    and rows outside every zone count as dropped. With --gazetteer (and --key, --place-key)
    the place names are matched to a layer of places and the match report follows: records
    located, unmatched and ambiguous, with the most frequent names.
    """
    from geoprio.index.config import SourceConfig
    from geoprio.index.run import load_source, tie_source
    from geoprio.io import files as io
    from geoprio.io.postgis import path_or_source
    from geoprio.options import validated
    from geoprio.records.gazetteer import PlaceMatch, approximate_summary
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
        "gazetteer": _gazetteer(gazetteer, place_key, place_id, place_group, record_group, method, None),
    }
    located = path_or_source(path, where="PATH")  # a postgresql:// string names a database source
    src = validated(
        SourceConfig, {"path": located, **{k: v for k, v in given.items() if v is not None}}, source="geoprio validate", what="options"
    )
    loaded = load_source(located.name, src, section=None)
    if zones is not None:
        z = load_zones(zones, id=str(zones_id), name=zones_name)
        if z.report.has_issues:
            out.print(z.report.summary(lang), markup=False)
        loaded = tie_source(loaded, src, z, None)
    out.print(loaded.report.summary(lang), markup=False)
    approximate = approximate_summary(loaded.report, lang)
    if approximate is not None:
        out.print(f"  {approximate}", markup=False)
    if "gazetteer" in loaded.report.settings:
        out.print(PlaceMatch.from_dict(loaded.report.settings["gazetteer"]).summary(lang), markup=False)
    if zones is None and src.layout == "keyed":
        out.print(label("records", "keys_not_matched", lang).format(column=src.key), markup=False)
    unmatched = loaded.report.settings.get("unmatched_keys")
    if unmatched:
        head = labels("cli_index", lang)["unmatched_places"]
        out.print(f"{head}: " + ", ".join(f"{k} ({v:g})" for k, v in list(unmatched.items())[:10]))
    if json_out is not None:
        io.write_json(loaded.report.to_dict(), json_out)


@friendly
def geocode_cmd(
    path: Annotated[Path, typer.Argument(help="Records that name a place instead of giving coordinates (CSV, Excel...).")],
    key: Annotated[str, typer.Option(help="Column naming each record's place (barrio).")],
    gazetteer: Annotated[Path, typer.Option(help="Point or polygon layer of named places (barrio centroids or polygons).")],
    place_key: Annotated[str, typer.Option("--place-key", help="Name column of the gazetteer, matched to --key.")],
    output: Annotated[Optional[Path], typer.Option("--out", help="Points file to write (.csv, .geojson, .gpkg or .parquet).")] = None,
    key_pattern: Annotated[
        Optional[str], typer.Option("--key-pattern", help=r"Regex with one group to extract the name, e.g. '^(.*?)\s*E-\d+$'.")
    ] = None,
    fuzzy: Annotated[Optional[float], typer.Option(min=0, max=1, help="Match names still unmatched at this similarity (0-1); off.")] = None,
    place_id: PlaceIdOpt = None,
    place_group: PlaceGroupOpt = None,
    record_group: RecordGroupOpt = None,
    method: LocationMethodOpt = None,
    seed: SeedOpt = DEFAULT_SEED,
    kind: Annotated[Optional[str], typer.Option(help="crime (default), complaint or coexistence.")] = None,
    date: Annotated[Optional[str], typer.Option(help="Date column.")] = None,
    hour: Annotated[Optional[str], typer.Option(help="Hour column (when the date has no time).")] = None,
    category: Annotated[Optional[str], typer.Option(help="Category column.")] = None,
    count: Annotated[Optional[str], typer.Option(help="Count column (records per row).")] = None,
    keep: Annotated[Optional[list[str]], typer.Option(help="Source column to carry into the points file, repeatable.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the load and match report as JSON here.")] = None,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Locate records that name a place at the places of a gazetteer: approximate points.

    Prints the match report (located, unmatched and ambiguous records, with the most
    frequent names); with --out writes the points, marked approximate, for hotspots,
    entornos and plan commands. Nothing is written without --out.
    """
    from geoprio.io import files as io
    from geoprio.options import validated
    from geoprio.records.gazetteer import GeocodeOptions, run_geocode

    lang = lang_option(lang)
    doc: dict[str, Any] = {
        "path": path,
        "key": key,
        "gazetteer": _gazetteer(gazetteer, place_key, place_id, place_group, record_group, method, seed),
        "kind": kind,
        "key_pattern": key_pattern,
        "fuzzy": fuzzy,
        "date": date,
        "hour": hour,
        "category": category,
        "count": count,
        "keep": keep or None,
    }
    options = validated(GeocodeOptions, {k: v for k, v in doc.items() if v is not None}, source="geoprio geocode", what="options")
    result = run_geocode(options)
    out.print(result.records.report.summary(lang), markup=False)
    out.print(result.match.summary(lang), markup=False)
    if json_out is not None:
        io.write_json(result.records.report.to_dict(), json_out)
    if output is not None:
        written = result.write(output)
        out.print(f"{label('gazetteer', 'written', lang)}: {written}", markup=False)
    else:
        out.print(label("gazetteer", "not_written", lang), markup=False)


def _gazetteer(
    path: Path | None,
    name: str | None,
    id: str | None,
    group: str | None,
    record_group: str | None,
    method: str | None,
    seed: int | None,
) -> dict[str, Any] | None:
    """The ``gazetteer`` section the options name (None without --gazetteer)."""
    if path is None:
        if any(v is not None for v in (name, id, group, record_group, method)):
            raise InputError("--place-key, --place-id, --place-group, --record-group and --location-method need --gazetteer")
        return None
    if name is None:
        raise InputError("--gazetteer needs --place-key (the gazetteer's column of place names)")
    given = {"id": id, "group": group, "record_group": record_group, "method": method, "seed": seed}
    return {"path": path, "name": name, **{k: v for k, v in given.items() if v is not None}}


@friendly
def grid_cmd(
    zones: Annotated[Path, typer.Argument(help="Polygon layer whose union is the study area.")],
    zones_id: Annotated[str, typer.Option("--id", help="Id column of the layer.")],
    cell_size_m: Annotated[float, typer.Option("--cell-size-m", help="Cell size in metres (hexagons: distance between centres).")],
    output: Annotated[Path, typer.Option("--out", help="Output layer (.geojson, .gpkg, .parquet or .shp).")],
    shape: Annotated[str, typer.Option(help="square or hex.")] = "square",
    metric_crs: MetricCrsOpt = None,
    crs: CrsOpt = None,
) -> None:
    """Make a square or hexagonal grid clipped to a study area, each cell tied to its zone."""
    from geoprio.io import files as io
    from geoprio.zones.layers import load_zones, make_grid

    export = export_options(crs, "standard", "es")
    z = load_zones(zones, id=zones_id) if metric_crs is None else load_zones(zones, id=zones_id, metric_crs=metric_crs)
    g = make_grid(z, cell_size_m=cell_size_m, shape=shape)  # type: ignore[arg-type]  # make_grid names the choices
    frame = g.frame.to_crs(export.crs) if g.frame.crs is not None else g.frame
    if output.suffix.lower() == ".shp":
        io.write_shapefile(frame, output, lang=export.lang)
    else:
        io.write_layer(frame, output)
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
    """Add ``validate``, ``geocode``, ``grid`` and ``harm`` to the ``geoprio`` app."""
    app.command("validate")(validate_cmd)
    app.command("geocode")(geocode_cmd)
    app.command("grid")(grid_cmd)
    app.command("harm")(harm_cmd)
