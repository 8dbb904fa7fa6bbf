"""The demo's maps: which files of a ``geoprio demo`` folder make which map.

:func:`demo_maps` draws ``indice.html`` always, and ``puntos_calientes.html``,
``plan_camaras.html``, ``plan_garitas.html`` and ``entornos.html`` when the demo folder holds
those outputs (:data:`DEMO_FILES`); ``geoprio demo`` calls it through the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geoprio.errors import InputError
from geoprio.io import files as io
from geoprio.maps.assets import AssetMode
from geoprio.maps.from_files import map_from_files
from geoprio.maps.page import MapOutput
from geoprio.maps.placement_layers import PLAN_KINDS, existing_mask
from geoprio.maps.text import MAP_LANG
from geoprio.settings import Lang

__all__ = ["DEMO_FILES", "demo_maps"]

#: Where :func:`demo_maps` looks for each input, relative to the demo folder (first found wins).
#: A plan's curve and (garitas) covered stretches are looked for beside its sites layer.
DEMO_FILES: dict[str, tuple[str, ...]] = {
    "index": ("output/indice_upz.geojson",),
    "clusters": ("output/hotspots/hotspots_clusters.geojson", "output/hotspots_clusters.geojson"),
    "cells": ("output/hotspots/hotspots_celdas.geojson", "output/hotspots_celdas.geojson"),
    "cameras": ("output/camaras/camaras_sitios.geojson", "output/camaras_sitios.geojson"),
    "garitas": ("output/garitas/garitas_sitios.geojson", "output/garitas_sitios.geojson"),
    "existing_cameras": ("camaras.geojson",),
    "existing_garitas": ("garitas.geojson",),
    "entornos": ("output/entornos/entornos.geojson", "output/entornos.geojson"),
}
_PREFIX = {"cameras": "camaras", "garitas": "garitas"}


def demo_maps(
    data_dir: str | Path = "data/demo",
    out_dir: str | Path = "maps",
    *,
    lang: Lang = MAP_LANG,
    assets: AssetMode = "folder",
    command: str | None = None,
) -> list[MapOutput]:
    """The demo's maps, from whatever outputs the demo folder holds (:data:`DEMO_FILES`).

    ``indice.html`` always (index, parent boundaries, existing cameras and garitas, off);
    ``puntos_calientes.html`` when hot-spot outputs exist; ``plan_camaras.html`` and
    ``plan_garitas.html`` when plans exist (with ``<camaras|garitas>_curva.csv`` and
    ``garitas_tramos.geojson`` and ``garitas_costa.geojson`` from the plan's folder); ``entornos.html`` when ranked places
    exist. All share one ``assets/`` folder.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    found = {role: next((data_dir / c for c in cands if (data_dir / c).is_file()), None) for role, cands in DEMO_FILES.items()}
    if found["index"] is None:
        raise InputError(f"{data_dir / DEMO_FILES['index'][0]}: not found; run `geoprio demo` first")
    common: dict[str, Any] = {"index": [found["index"]], "assets": assets, "command": command, "lang": lang}
    outs = [
        map_from_files(
            out_dir / "indice.html", existing_cameras=found["existing_cameras"], existing_garitas=found["existing_garitas"], **common
        )
    ]
    if found["clusters"] or found["cells"]:
        outs.append(map_from_files(out_dir / "puntos_calientes.html", clusters=found["clusters"], cells=found["cells"], **common))
    for kind in PLAN_KINDS:
        plan = found[kind]
        if plan is None:
            continue
        prefix = _PREFIX[kind]
        curve = plan.with_name(f"{prefix}_curva.csv")
        extra: dict[str, Any] = {kind: plan, f"{kind}_curve": curve if curve.is_file() else None}
        if kind == "garitas" and plan.with_name("garitas_tramos.geojson").is_file():
            extra["garitas_stretches"] = plan.with_name("garitas_tramos.geojson")
        if kind == "garitas" and plan.with_name("garitas_costa.geojson").is_file():
            extra["garitas_shore"] = plan.with_name("garitas_costa.geojson")
        if not _has_existing(plan):
            extra[f"existing_{kind}"] = found[f"existing_{kind}"]
        outs.append(map_from_files(out_dir / f"plan_{prefix}.html", **extra, **common))
    if found["entornos"]:
        outs.append(map_from_files(out_dir / "entornos.html", entornos=found["entornos"], **common))
    return outs


def _has_existing(path: Path) -> bool:
    return bool(existing_mask(io.read_layer(path)).any())
