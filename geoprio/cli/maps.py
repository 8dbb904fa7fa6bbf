"""``geoprio map``: draw the outputs of ``index``, ``hotspots``, ``plan``, ``indicators`` and ``entornos`` on a web map that works offline.

``--public [--min-count N]`` draws a public map (:mod:`geoprio.maps.release`): from public
releases only, recorded as public in the map's manifest.

A thin front end over :mod:`geoprio.maps`: it parses the options, calls
:func:`geoprio.maps.map_from_files` (or :func:`geoprio.maps.replay_map` with ``--manifest``)
and prints what was written and how big it is. Defaults come from
:class:`geoprio.maps.MapOptions`. :func:`render_demo_maps` is what ``geoprio demo`` calls to
write its maps into ``maps/``; the words it prints are in ``resources/labels/maps_cli.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from geoprio.cli.common import (
    LangOpt,
    ManifestOpt,
    MetricCrsOpt,
    MinCountOpt,
    PublicOpt,
    command_line,
    friendly,
    lang_option,
    out,
    print_replay,
    public_policy,
)
from geoprio.errors import InputError
from geoprio.labels import labels
from geoprio.maps import ASSETS_DIR, DEFAULT_MAP_NAME, MapOptions, MapOutput, demo_maps, format_size, map_from_files, replay_map
from geoprio.numbers import fmt_int
from geoprio.settings import DEFAULT_LANG

__all__ = ["map_cmd", "register", "render_demo_maps"]

#: The label topic of what this command prints.
TOPIC = "maps_cli"
#: Where ``geoprio map`` writes without ``--out``.
DEFAULT_OUT = Path("maps") / DEFAULT_MAP_NAME


def _default(name: str) -> Any:
    """The default of a :class:`MapOptions` field (so no default is written twice)."""
    return MapOptions.model_fields[name].default


def _print_output(o: MapOutput, lang: str, *, layers: bool = True) -> None:
    t = labels(TOPIC, lang)
    out.print(t["written"].format(path=o.path, size=format_size(o.bytes, lang)))
    if layers and o.layers:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column(t["layer"])
        table.add_column(t["features"], justify="right")
        table.add_column(t["note"])
        for li in o.layers:
            table.add_row(li.name, fmt_int(li.features, lang), t["dissolved"] if li.note == "dissolved" else "")
        out.print(table)


def _print_assets(o: MapOutput, lang: str, *, assets: str, tiles: list[str]) -> None:
    t = labels(TOPIC, lang)
    except_ = "" if tiles == ["none"] else t["except"]
    if assets == "folder":
        out.print(t["assets"].format(folder=o.path.parent / ASSETS_DIR, size=format_size(o.assets_bytes, lang), except_=except_))
    elif assets == "inline":
        out.print(t["inline"].format(except_=except_))
    else:
        out.print(t["cdn"])
    out.print(t["manifest"].format(path=o.manifest))


FileOpt = Optional[Path]


def map_cmd(
    index: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--index", exists=True, dir_okay=False, help="Index table of `geoprio index` (.geojson/.gpkg/.parquet); repeat per zone level."
        ),
    ] = None,
    hotspots: Annotated[FileOpt, typer.Option("--hotspots", exists=True, dir_okay=False, help="Hot-spot clusters (polygons).")] = None,
    cells: Annotated[
        FileOpt,
        typer.Option("--cells", exists=True, dir_okay=False, help="Grid cells with Gi* classes (gi_code) and/or kernel density (kde_km2)."),
    ] = None,
    cameras: Annotated[
        FileOpt,
        typer.Option("--cameras", exists=True, dir_okay=False, help="Camera plan: sites (points), e.g. camaras_sitios.geojson."),
    ] = None,
    cameras_curve: Annotated[
        FileOpt, typer.Option("--cameras-curve", exists=True, dir_okay=False, help="Camera coverage curve (n_sites, covered_share).")
    ] = None,
    garitas: Annotated[
        FileOpt,
        typer.Option("--garitas", exists=True, dir_okay=False, help="Garita plan: sites (points), e.g. garitas_sitios.geojson."),
    ] = None,
    garitas_curve: Annotated[
        FileOpt, typer.Option("--garitas-curve", exists=True, dir_okay=False, help="Garita coverage curve (n_sites, covered_share).")
    ] = None,
    existing_cameras: Annotated[
        FileOpt, typer.Option("--existing-cameras", exists=True, dir_okay=False, help="Existing cameras (points).")
    ] = None,
    existing_garitas: Annotated[
        FileOpt, typer.Option("--existing-garitas", exists=True, dir_okay=False, help="Existing garitas (points).")
    ] = None,
    garitas_stretches: Annotated[
        FileOpt,
        typer.Option("--garitas-stretches", exists=True, dir_okay=False, help="Shore stretches the garitas cover (garitas_tramos), lines."),
    ] = None,
    garitas_shore: Annotated[
        FileOpt,
        typer.Option("--garitas-shore", exists=True, dir_okay=False, help="The shore the garitas watch (garitas_costa), lines."),
    ] = None,
    cameras_radius_m: Annotated[
        Optional[float],
        typer.Option("--cameras-radius-m", min=0, help="Camera coverage radius (default: the plan's radius_m column or manifest)."),
    ] = None,
    garitas_radius_m: Annotated[
        Optional[float], typer.Option("--garitas-radius-m", min=0, help="Garita reach (default: the plan's radius_m column or manifest).")
    ] = None,
    seguimiento: Annotated[
        FileOpt,
        typer.Option(
            "--seguimiento",
            exists=True,
            dir_okay=False,
            help="Plan tracking per zone of `geoprio indicators` (seguimiento_zonas.geojson): progress towards each target.",
        ),
    ] = None,
    seguimiento_indicator: Annotated[
        Optional[str],
        typer.Option("--seguimiento-indicator", help="Draw only this indicator of --seguimiento (its id; default: one layer each)."),
    ] = None,
    seguimiento_year: Annotated[
        Optional[int], typer.Option("--seguimiento-year", help="Year of --seguimiento to draw (default: the latest).")
    ] = None,
    entornos: Annotated[
        FileOpt, typer.Option("--entornos", exists=True, dir_okay=False, help="Ranked places of `geoprio entornos` (entornos.geojson).")
    ] = None,
    forecast: Annotated[
        FileOpt,
        typer.Option(
            "--forecast",
            exists=True,
            dir_okay=False,
            help="Forecast surface of `geoprio forecast --surface` (pronostico_superficie.geojson).",
        ),
    ] = None,
    out_path: Annotated[
        FileOpt, typer.Option("--out", help=f"HTML file to write (default {DEFAULT_OUT}; with --manifest, where the map was).")
    ] = None,
    inline: Annotated[bool, typer.Option("--inline", help="One self-contained HTML file (web assets embedded).")] = False,
    cdn: Annotated[bool, typer.Option("--cdn", help="Load the web assets from CDNs instead of a local assets/ folder.")] = False,
    tiles: Annotated[
        str,
        typer.Option(
            "--tiles",
            help="Basemaps, comma-separated: auto, light, positron, osm, none, or a tile URL template https://…/{z}/{x}/{y}.png.",
        ),
    ] = ",".join(_default("tiles")),
    tiles_attribution: Annotated[
        Optional[str], typer.Option("--tiles-attribution", help="Attribution of a tile URL given to --tiles.")
    ] = None,
    carto_key: Annotated[
        Optional[str], typer.Option("--carto-key", envvar="GEOPRIO_CARTO_KEY", help="CARTO basemaps API key (for the Positron basemap).")
    ] = None,
    color_by: Annotated[str, typer.Option("--color-by", help="Colour the index by 'tier' or by 'index' value.")] = _default("color_by"),
    tolerance_m: Annotated[float, typer.Option("--tolerance-m", min=0, help="Polygon simplification tolerance, metres.")] = _default(
        "tolerance_m"
    ),
    max_cells: Annotated[int, typer.Option("--max-cells", min=0, help="Above this many cells, draw one shape per class.")] = _default(
        "max_cells"
    ),
    metric_crs: MetricCrsOpt = None,
    title: Annotated[Optional[str], typer.Option("--title", help="Title shown on the map.")] = None,
    subtitle: Annotated[Optional[str], typer.Option("--subtitle", help="Subtitle under the title.")] = None,
    source: Annotated[
        Optional[str],
        typer.Option("--source", help="Data source line, e.g. 'Policía Nacional — SIEDCO' (default: the files the runs counted)."),
    ] = None,
    period: Annotated[
        Optional[str], typer.Option("--period", help="Period the data cover, e.g. 2019 (default: from the runs' manifests).")
    ] = None,
    synthetic: Annotated[
        Optional[bool],
        typer.Option("--synthetic/--not-synthetic", help="Stamp SINTÉTICO on the map (default: when the runs used the demo's data)."),
    ] = None,
    rank_labels: Annotated[
        int, typer.Option("--rank-labels", min=0, help="Rank numbers on the top N zones and hot-spot clusters (0: none).")
    ] = _default("rank_labels"),
    manifest: ManifestOpt = None,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Draw index, hot spots, plans, plan tracking and priority places on a web map that works offline; print its size.

    --manifest maps/x.manifest.json draws a previous map again from the same files and checks the HTML is identical.
    --public [--min-count N] draws a public map: only from output folders written with --public (min count at least N),
    recorded as public in the map's manifest (the API serves only such maps without a read:records key).
    """
    lang = lang_option(lang)
    t = labels(TOPIC, lang)
    policy = public_policy(public, min_count)
    if manifest is not None:
        if policy is not None:
            raise InputError("--public applies to a new map, not to --manifest (a replay draws what the manifest's map drew)")
        print_replay(replay_map(manifest, out=out_path, carto_key=carto_key), lang)
        return
    if inline and cdn:
        raise typer.BadParameter(t["both"])
    assets = "inline" if inline else "cdn" if cdn else "folder"
    tile_names = [s.strip() for s in tiles.split(",") if s.strip()]
    optional = {
        "metric_crs": metric_crs,
        "tiles_attribution": tiles_attribution,
        "title": title,
        "carto_key": carto_key,
        "public": policy,
        "subtitle": subtitle,
        "source": source,
        "period": period,
        "synthetic": synthetic,
    }
    o = map_from_files(
        out_path or DEFAULT_OUT,
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
        garitas_shore=garitas_shore,
        cameras_radius_m=cameras_radius_m,
        garitas_radius_m=garitas_radius_m,
        tracking=seguimiento,
        tracking_indicator=seguimiento_indicator,
        tracking_year=seguimiento_year,
        entornos=entornos,
        forecast=forecast,
        assets=assets,
        lang=lang,
        tiles=tile_names,
        color_by=color_by,
        tolerance_m=tolerance_m,
        max_cells=max_cells,
        rank_labels=rank_labels,
        command=command_line(),
        **{k: v for k, v in optional.items() if v is not None},
    )
    _print_output(o, lang)
    _print_assets(o, lang, assets=assets, tiles=tile_names)


def render_demo_maps(out_dir: Path, data_dir: Path, *, lang: str = DEFAULT_LANG) -> list[MapOutput]:
    """Write the demo's maps (``geoprio demo`` calls this) and print one line per map with its size."""
    checked = lang_option(lang)
    outs = demo_maps(data_dir, out_dir, lang=checked, command=command_line())
    out.print(labels(TOPIC, checked)["demo"].format(folder=out_dir))
    for o in outs:
        _print_output(o, checked, layers=False)
    return outs


def register(app: typer.Typer) -> None:
    """Add ``map`` to the ``geoprio`` app."""
    app.command("map")(friendly(map_cmd))
