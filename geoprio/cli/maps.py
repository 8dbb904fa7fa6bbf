"""``geoprio map``: draw the outputs of ``index``, ``hotspots``, ``plan`` and ``indicators`` on a web map that works offline.

A thin front end over :mod:`geoprio.maps.core`: it parses the options, calls
:func:`geoprio.maps.core.map_from_files` and prints what was written and how big it is.
:func:`render_demo_maps` is what ``geoprio demo`` calls to write its maps into ``maps/``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geoprio.cli.common import LangOpt, friendly, lang_option, out

__all__ = ["map_cmd", "render_demo_maps"]

_T = {
    "es": {
        "written": "Mapa escrito: {path} ({size})",
        "assets": "Recursos web en {folder} ({size}; el mapa funciona sin conexión{except_})",
        "inline": "Página autocontenida: recursos web incluidos (funciona sin conexión{except_})",
        "except": " salvo el mapa base",
        "cdn": "Recursos web desde CDN (necesita Internet)",
        "manifest": "Manifiesto: {path}",
        "layer": "Capa",
        "features": "Elementos",
        "note": "Nota",
        "dissolved": "una figura por clase",
        "demo": "Mapas de la demostración en {folder}:",
        "both": "--inline y --cdn se excluyen",
    },
    "en": {
        "written": "Map written: {path} ({size})",
        "assets": "Web assets in {folder} ({size}; the map works offline{except_})",
        "inline": "Self-contained page: web assets embedded (works offline{except_})",
        "except": " except the basemap",
        "cdn": "Web assets from CDNs (needs Internet)",
        "manifest": "Manifest: {path}",
        "layer": "Layer",
        "features": "Features",
        "note": "Note",
        "dissolved": "one shape per class",
        "demo": "Demo maps in {folder}:",
        "both": "--inline and --cdn are mutually exclusive",
    },
}

PathOpt = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, readable=True)]


def _print_output(o: object, lang: str, *, layers: bool = True) -> None:
    from geoprio.maps.core import format_size

    t = _T[lang]
    out.print(t["written"].format(path=o.path, size=format_size(o.bytes)))  # type: ignore[attr-defined]
    if layers and o.layers:  # type: ignore[attr-defined]
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column(t["layer"])
        table.add_column(t["features"], justify="right")
        table.add_column(t["note"])
        for li in o.layers:  # type: ignore[attr-defined]
            table.add_row(li.name, f"{li.features:,}", t["dissolved"] if li.note == "dissolved" else "")
        out.print(table)


def map_cmd(
    index: Annotated[
        list[Path] | None,
        typer.Option(
            "--index", exists=True, dir_okay=False, help="Index table of `geoprio index` (.geojson/.gpkg/.parquet); repeat per zone level."
        ),
    ] = None,
    hotspots: Annotated[Path | None, typer.Option("--hotspots", exists=True, dir_okay=False, help="Hot-spot clusters (polygons).")] = None,
    cells: Annotated[
        Path | None, typer.Option("--cells", exists=True, dir_okay=False, help="Grid cells with Gi* classes and/or kernel density (kde).")
    ] = None,
    cameras: Annotated[
        Path | None,
        typer.Option("--cameras", exists=True, dir_okay=False, help="Camera plan: sites (points), e.g. camaras_sitios.geojson."),
    ] = None,
    cameras_curve: Annotated[
        Path | None, typer.Option("--cameras-curve", exists=True, dir_okay=False, help="Camera coverage curve (n_sites, covered_share).")
    ] = None,
    garitas: Annotated[
        Path | None,
        typer.Option("--garitas", exists=True, dir_okay=False, help="Garita plan: sites (points), e.g. garitas_sitios.geojson."),
    ] = None,
    garitas_curve: Annotated[
        Path | None, typer.Option("--garitas-curve", exists=True, dir_okay=False, help="Garita coverage curve (n_sites, covered_share).")
    ] = None,
    existing_cameras: Annotated[
        Path | None, typer.Option("--existing-cameras", exists=True, dir_okay=False, help="Existing cameras (points).")
    ] = None,
    existing_garitas: Annotated[
        Path | None, typer.Option("--existing-garitas", exists=True, dir_okay=False, help="Existing garitas (points).")
    ] = None,
    garitas_stretches: Annotated[
        Path | None,
        typer.Option("--garitas-stretches", exists=True, dir_okay=False, help="Shore stretches the garitas cover (garitas_tramos), lines."),
    ] = None,
    cameras_radius_m: Annotated[
        float | None,
        typer.Option("--cameras-radius-m", min=0, help="Camera coverage radius (default: the plan's radius_m column or manifest)."),
    ] = None,
    garitas_radius_m: Annotated[
        float | None, typer.Option("--garitas-radius-m", min=0, help="Garita reach (default: the plan's radius_m column or manifest).")
    ] = None,
    seguimiento: Annotated[
        Path | None,
        typer.Option(
            "--seguimiento",
            exists=True,
            dir_okay=False,
            help="Plan tracking per zone of `geoprio indicators` (seguimiento_zonas.geojson): progress towards each target.",
        ),
    ] = None,
    seguimiento_indicator: Annotated[
        str | None,
        typer.Option("--seguimiento-indicator", help="Draw only this indicator of --seguimiento (its id; default: one layer each)."),
    ] = None,
    entornos: Annotated[
        Path | None,
        typer.Option("--entornos", exists=True, dir_okay=False, help="Ranked places of `geoprio entornos` (entornos.geojson)."),
    ] = None,
    out_path: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("maps/mapa.html"),
    inline: Annotated[bool, typer.Option("--inline", help="One self-contained HTML file (web assets embedded).")] = False,
    cdn: Annotated[bool, typer.Option("--cdn", help="Load the web assets from CDNs instead of a local assets/ folder.")] = False,
    tiles: Annotated[
        str,
        typer.Option(
            "--tiles",
            help="Basemaps, comma-separated: auto, light, positron, osm, none, or a tile URL template https://…/{z}/{x}/{y}.png.",
        ),
    ] = "auto",
    tiles_attribution: Annotated[
        str | None, typer.Option("--tiles-attribution", help="Attribution of a tile URL given to --tiles.")
    ] = None,
    carto_key: Annotated[
        str | None, typer.Option("--carto-key", envvar="GEOPRIO_CARTO_KEY", help="CARTO basemaps API key (for the Positron basemap).")
    ] = None,
    color_by: Annotated[str, typer.Option("--color-by", help="Colour the index by 'tier' or by 'index' value.")] = "tier",
    tolerance_m: Annotated[float, typer.Option("--tolerance-m", min=0, help="Polygon simplification tolerance, metres.")] = 10.0,
    max_cells: Annotated[int, typer.Option("--max-cells", min=0, help="Above this many cells, draw one shape per class.")] = 5000,
    title: Annotated[str | None, typer.Option("--title", help="Title shown on the map.")] = None,
    lang: LangOpt = "es",
) -> None:
    """Draw index, hot spots, plans, plan tracking and priority places on a web map that works offline; print its size."""
    from geoprio.maps.core import ASSETS_DIR, format_size, map_from_files

    lang = lang_option(lang)
    t = _T[lang]
    if inline and cdn:
        raise typer.BadParameter(t["both"])
    if color_by not in ("tier", "index"):
        raise typer.BadParameter(f"--color-by must be 'tier' or 'index', got {color_by!r}")
    assets = "inline" if inline else "cdn" if cdn else "folder"
    o = map_from_files(
        out_path,
        index=index or (),
        clusters=hotspots,
        cells=cells,
        cameras=cameras,
        cameras_curve=cameras_curve,
        garitas=garitas,
        garitas_curve=garitas_curve,
        existing_cameras=existing_cameras,
        existing_garitas=existing_garitas,
        garitas_stretches=garitas_stretches,
        cameras_radius_m=cameras_radius_m,
        garitas_radius_m=garitas_radius_m,
        tracking=seguimiento,
        entornos=entornos,
        assets=assets,
        command=" ".join(["geoprio", *sys.argv[1:]]),
        lang=lang,
        title=title,
        tiles=[s.strip() for s in tiles.split(",") if s.strip()],
        tiles_attribution=tiles_attribution,
        carto_key=carto_key,
        color_by=color_by,
        tolerance_m=tolerance_m,
        max_cells=max_cells,
        tracking_indicator=seguimiento_indicator,
    )
    _print_output(o, lang)
    except_ = "" if [s.strip() for s in tiles.split(",")] == ["none"] else t["except"]
    if assets == "folder":
        out.print(t["assets"].format(folder=out_path.parent / ASSETS_DIR, size=format_size(o.assets_bytes), except_=except_))
    elif assets == "inline":
        out.print(t["inline"].format(except_=except_))
    else:
        out.print(t["cdn"])
    out.print(t["manifest"].format(path=o.manifest))


def render_demo_maps(out_dir: Path, data_dir: Path, *, lang: str = "es") -> list:
    """Write the demo's maps (``geoprio demo`` calls this) and print one line per map with its size."""
    from geoprio.maps.core import demo_maps

    lang = lang_option(lang)
    outs = demo_maps(data_dir, out_dir, lang=lang, command=" ".join(["geoprio", *sys.argv[1:]]))  # type: ignore[arg-type]
    out.print(_T[lang]["demo"].format(folder=out_dir))
    for o in outs:
        _print_output(o, lang, layers=False)
    return outs


def register(app: typer.Typer) -> None:
    """Add ``map`` to the ``geoprio`` app."""
    app.command("map")(friendly(map_cmd))
