"""The map job: options naming the output files of the other commands, read, drawn, written.

The run protocol of :mod:`geoprio.io.results` for maps:

* :class:`MapOptions` — one frozen options object: the input files (``index``, ``clusters``,
  ``cells``, plans, ``tracking``, ``entornos``…), how to draw them (``lang``, ``tiles``,
  ``tolerance_m``…) and how the page gets its web assets (``assets``);
* :func:`make_map` — reads the files and builds the map (:func:`~geoprio.maps.page.build_map`);
  it writes nothing and returns a :class:`~geoprio.maps.page.MapResult`, whose ``write(path)``
  writes the HTML, its assets and ``<name>.manifest.json`` (with the options and the inputs'
  SHA-256);
* :func:`replay_map` — ``geoprio map --manifest maps/x.manifest.json``: re-runs a map from its
  manifest (refusing changed inputs) and says whether the HTML is byte-identical;
* :func:`map_from_files` — the same in one call, for scripts (returns the written map).

``public`` (a :class:`~geoprio.disclosure.DisclosurePolicy`) makes a public map: every input
must come from a public release with a ``min_count`` at least the policy's
(:func:`geoprio.maps.release.check_public_inputs`) and the map's manifest records
``disclosure``. Without it (the default) the map is the full one, drawn as before.

A plan's coverage radius is its ``radius_m`` column, else ``cameras_radius_m`` /
``garitas_radius_m``, else the ``radius_m`` recorded in the ``manifest.json`` of
``geoprio plan`` beside the sites layer (then an input of the map as well).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import Field, field_validator

from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError, ManifestError
from geoprio.io import files as io
from geoprio.io import manifest as run_manifest
from geoprio.io.results import Replay, replay
from geoprio.maps.assets import AssetMode
from geoprio.maps.forecast_layer import FORECAST_MANIFEST_KIND, check_forecast
from geoprio.maps.geometry import DEFAULT_DECIMALS, DEFAULT_TOLERANCE_M
from geoprio.maps.hotspot_layers import DEFAULT_MAX_CELLS
from geoprio.maps.index_layer import DEFAULT_RANK_LABELS, ColorBy
from geoprio.maps.page import MAP_KIND, MapOutput, MapResult, build_map
from geoprio.maps.placement_layers import PLAN_KINDS, check_curve
from geoprio.maps.provenance import provenance_of, read_beside
from geoprio.maps.release import check_public_inputs
from geoprio.maps.text import MAP_LANG, approximate_of
from geoprio.options import Options, validated
from geoprio.settings import DEFAULT_METRIC_CRS, Lang

__all__ = ["LAYER_FILES", "MapOptions", "make_map", "map_from_files", "map_options", "replay_map"]

#: The options that name an input file (besides ``index``, one file per zone level), in the
#: order the manifest lists them.
LAYER_FILES = (
    "clusters",
    "cells",
    "cameras",
    "cameras_curve",
    "garitas",
    "garitas_curve",
    "existing_cameras",
    "existing_garitas",
    "garitas_stretches",
    "garitas_shore",
    "tracking",
    "entornos",
    "forecast",
)


class MapOptions(Options):
    """Everything the map job needs: which output files to draw, how, and how to write the page.

    The files are those ``geoprio index`` / ``hotspots`` / ``plan`` / ``indicators`` /
    ``entornos`` write: ``index`` (one table per zone level), ``clusters`` and ``cells``
    (hot spots), ``cameras`` / ``garitas`` (a plan's sites) with their ``*_curve`` (coverage
    curve CSV), ``garitas_stretches`` and ``garitas_shore`` (``garitas_costa``), ``existing_cameras`` / ``existing_garitas``,
    ``tracking`` (``seguimiento_zonas.geojson``), ``entornos`` (``entornos.geojson``) and
    ``forecast`` (``pronostico_superficie.geojson`` of ``geoprio forecast --surface``; its
    period and backtest score come from the ``manifest.json`` beside it).
    The drawing settings are :func:`~geoprio.maps.page.build_map`'s. ``carto_key`` is not
    recorded in the manifest (give it again to replay a map with the Positron basemap).
    ``public``: the policy of a public map (inputs from public releases only; None, the
    default, for a full map; recorded in the manifest only when given).
    ``subtitle``, ``source``, ``period``, ``synthetic``: the map elements; ``source``,
    ``period`` and ``synthetic`` default to what the manifests of the runs that wrote the
    inputs say (:func:`geoprio.maps.provenance.provenance_of`). ``rank_labels``: how many top
    zones of the index carry their rank number (0: none).
    """

    index: tuple[Path, ...] = ()
    clusters: Path | None = None
    cells: Path | None = None
    cameras: Path | None = None
    cameras_curve: Path | None = None
    garitas: Path | None = None
    garitas_curve: Path | None = None
    existing_cameras: Path | None = None
    existing_garitas: Path | None = None
    garitas_stretches: Path | None = None
    garitas_shore: Path | None = None
    cameras_radius_m: float | None = Field(default=None, ge=0)
    garitas_radius_m: float | None = Field(default=None, ge=0)
    tracking: Path | None = None
    tracking_indicator: str | None = None
    tracking_year: int | None = None
    entornos: Path | None = None
    forecast: Path | None = None
    lang: Lang = MAP_LANG
    title: str | None = None
    tiles: tuple[str, ...] = ("auto",)
    tiles_attribution: str | None = None
    carto_key: str | None = Field(default=None, exclude=True, repr=False)
    color_by: ColorBy = "tier"
    tolerance_m: float = Field(default=DEFAULT_TOLERANCE_M, ge=0)
    decimals: int = Field(default=DEFAULT_DECIMALS, ge=0, le=8)
    max_cells: int = Field(default=DEFAULT_MAX_CELLS, ge=0)
    metric_crs: str = DEFAULT_METRIC_CRS
    assets: AssetMode = "folder"
    public: DisclosurePolicy | None = None
    subtitle: str | None = None
    source: str | None = None
    period: str | None = None
    synthetic: bool | None = None
    rank_labels: int = Field(default=DEFAULT_RANK_LABELS, ge=0)

    @field_validator("tiles", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    def layer_files(self) -> list[tuple[str, Path]]:
        """``(role, path)`` of every input file given, ``index`` first."""
        given = [(role, getattr(self, role)) for role in LAYER_FILES]
        return [("index", p) for p in self.index] + [(role, p) for role, p in given if p is not None]


def map_options(**settings: Any) -> MapOptions:
    """:class:`MapOptions` from keyword settings; bad ones raise one :class:`~geoprio.errors.ConfigError` naming each."""
    return validated(MapOptions, settings, source="map options", what="options")


def _read_layer(path: Path | None, *, dates_as_text: bool = False) -> gpd.GeoDataFrame | None:
    if path is None:
        return None
    frame = io.read_layer(path, dates_as_text=dates_as_text)
    frame.attrs["source"] = str(path)  # error messages name the file
    return frame


def _read_curve(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    df = io.read_table(path)
    try:
        return check_curve(df)
    except InputError as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _plan_radius(sites: Path, kind: str) -> tuple[float, Path] | None:
    """``radius_m`` of a ``geoprio plan`` run and its manifest, from the ``manifest.json`` beside its sites layer."""
    path = sites.with_name("manifest.json")
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if doc.get("run") != f"plan {kind}" and doc.get("kind") != f"geoprio.plan.{kind}":
        return None
    r = (doc.get("parameters") or {}).get("radius_m", (doc.get("options") or {}).get("radius_m"))
    return (float(r), path) if isinstance(r, (int, float)) and r > 0 else None


def _approximate_beside(layer: Path | None) -> bool:
    """Whether the run that wrote ``layer`` (its ``manifest.json`` beside it) placed points by
    place name: ``notes.approximate_locations`` (hot spots) or ``approximate_locations`` (plans, entornos).
    """
    if layer is None or not (path := layer.with_name("manifest.json")).is_file():
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(doc, dict):
        return False
    return approximate_of(doc.get("notes")) or approximate_of({"approximate_locations": doc.get("approximate_locations")})


def make_map(options: MapOptions) -> MapResult:
    """Read the files ``options`` names and draw them; nothing is written (``result.write(path)`` does)."""
    o = options
    inputs = o.layer_files()
    radii: dict[str, float | None] = {"cameras": o.cameras_radius_m, "garitas": o.garitas_radius_m}
    for kind in PLAN_KINDS:
        sites = o.cameras if kind == "cameras" else o.garitas
        if radii[kind] is None and sites is not None:
            found = _plan_radius(sites, kind)
            if found is not None:
                radii[kind] = found[0]
                inputs.append((f"{kind}_manifest", found[1]))
    if o.public is not None:
        check_public_inputs(inputs, o.public)
    prov, _ = provenance_of(p for _, p in o.layer_files())
    result = build_map(
        index=[layer for p in o.index if (layer := _read_layer(p)) is not None] or None,
        clusters=_read_layer(o.clusters),
        cells=_read_layer(o.cells),
        cameras=_read_layer(o.cameras),
        cameras_curve=_read_curve(o.cameras_curve),
        garitas=_read_layer(o.garitas),
        garitas_curve=_read_curve(o.garitas_curve),
        existing_cameras=_read_layer(o.existing_cameras),
        existing_garitas=_read_layer(o.existing_garitas),
        garitas_stretches=_read_layer(o.garitas_stretches),
        garitas_shore=_read_layer(o.garitas_shore),
        cameras_radius_m=radii["cameras"],
        garitas_radius_m=radii["garitas"],
        tracking=_read_layer(o.tracking),
        tracking_indicator=o.tracking_indicator,
        tracking_year=o.tracking_year,
        entornos=_read_layer(o.entornos, dates_as_text=True),
        forecast=_read_forecast(o.forecast),
        forecast_notes=_forecast_notes(o.forecast),
        lang=o.lang,
        title=o.title,
        tiles=o.tiles,
        tiles_attribution=o.tiles_attribution,
        carto_key=o.carto_key,
        color_by=o.color_by,
        tolerance_m=o.tolerance_m,
        decimals=o.decimals,
        max_cells=o.max_cells,
        metric_crs=o.metric_crs,
        subtitle=o.subtitle,
        source=o.source or prov.source,
        period=o.period or prov.period,
        synthetic=prov.synthetic if o.synthetic is None else o.synthetic,
        parent_level=prov.parent_level,
        rank_labels=o.rank_labels,
        approximate=[
            topic
            for topic, layer in (
                ("clusters", o.clusters),
                ("cells", o.cells),
                ("cameras", o.cameras),
                ("garitas", o.garitas),
                ("entornos", o.entornos),
            )
            if _approximate_beside(layer)
        ],
    )
    return dataclasses.replace(result, options=options, inputs=tuple(inputs), assets=o.assets, disclosure=o.public)


def _read_forecast(path: Path | None) -> gpd.GeoDataFrame | None:
    layer = _read_layer(path)
    return None if layer is None else check_forecast(layer)


def _forecast_notes(layer: Path | None) -> dict[str, Any]:
    """The notes of the ``geoprio forecast --surface`` run that wrote ``layer`` (its ``manifest.json`` beside it), or ``{}``."""
    doc = read_beside(layer) if layer is not None else None
    if not doc or doc.get("kind") != FORECAST_MANIFEST_KIND or not isinstance(doc.get("notes"), dict):
        return {}
    return dict(doc["notes"])


def map_from_files(
    out: str | Path,
    *,
    index: Sequence[str | Path] = (),
    command: str | None = None,
    **settings: Any,
) -> MapOutput:
    """Read the output files of ``geoprio index`` / ``hotspots`` / ``plan`` / ``indicators`` /
    ``entornos``, draw them and write the map to ``out`` (an ``.html`` path).

    ``settings`` are :class:`MapOptions`' (the other files: ``clusters``, ``cells``,
    ``cameras``…, ``tracking``, ``entornos``; and ``lang``, ``title``, ``tiles``,
    ``color_by``, ``tolerance_m``, ``assets``…). The same as
    ``make_map(map_options(...)).write(out)``.
    """
    options = map_options(index=tuple(index), **settings)
    return make_map(options).write(out, command=command)


def replay_map(manifest: str | Path, *, out: str | Path | None = None, carto_key: str | None = None) -> Replay:
    """Re-run the map a ``<name>.manifest.json`` describes and compare the HTML with the recorded one.

    The map is written to ``out`` (an ``.html`` path or a folder), by default where it was.
    Raises :class:`~geoprio.errors.ManifestError` when the file is not a map manifest with
    options (maps drawn in memory and written with :func:`write_map` cannot be replayed), or
    when an input is missing or changed since the run. ``carto_key`` is needed again for the
    Positron basemap (keys are not recorded).
    """
    path = Path(manifest)
    doc = run_manifest.read(path, kind=MAP_KIND)
    if not doc.get("options"):
        raise ManifestError(f"{path}: the map was not made from files (no options recorded); it cannot be replayed")
    recorded = doc.get("map") or {}
    name = Path(recorded.get("path") or path.name.removesuffix(".manifest.json") + ".html").name
    target = Path(out) if out is not None else path.parent / name
    if target.suffix.lower() not in (".html", ".htm"):
        target = target / name

    def run(options: MapOptions) -> MapResult:
        return make_map(options.model_copy(update={"carto_key": carto_key}) if carto_key else options)

    rep = replay(path, kind=MAP_KIND, options_type=MapOptions, run=run, out_dir=target)
    html = rep.written.files[0]
    same = io.sha256_file(html) == recorded.get("sha256")
    identical = [*rep.identical, html.name] if same else rep.identical
    different = rep.different if same else [*rep.different, html.name]
    return dataclasses.replace(rep, identical=identical, different=different)
