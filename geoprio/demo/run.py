"""The demo, end to end: write Puerto Demo and run geoprio's main jobs on it.

:func:`run_demo` is what ``geoprio demo`` calls: it writes the city with
:func:`geoprio.demo.city.write_demo_city`, then runs the index from its ``indice.toml``, the
hot spots, the camera and garita plans and the entornos from its ``entornos.toml``, writing
every output and manifest; :class:`DemoRun` holds what it produced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from geoprio.demo.city import make_demo_city, write_demo_city
from geoprio.demo.parameters import DEFAULT_N_INCIDENTS
from geoprio.errors import ConfigError
from geoprio.labels import check_lang
from geoprio.records import Records
from geoprio.settings import DEFAULT_LANG, DEFAULT_SEED, OutputFormat

if TYPE_CHECKING:  # the jobs are imported when run, so building the city needs none of them
    from geoprio.entornos import EntornosRun
    from geoprio.hotspots import HotspotRun
    from geoprio.index import IndexRun
    from geoprio.placement import PlanRun

__all__ = ["DEFAULT_DEMO_DIR", "DEMO_FORMATS", "DemoRun", "run_demo"]

#: Where ``geoprio demo`` writes the city and its outputs unless told.
DEFAULT_DEMO_DIR: Final = Path("data/demo")

#: The formats of the demo's hot-spot, plan and entornos outputs (what its maps and the API read).
DEMO_FORMATS: Final[tuple[OutputFormat, ...]] = ("csv", "geojson")


@dataclass(frozen=True)
class DemoRun:
    """What :func:`run_demo` produced: the index run, the hot spots, the two plans, the
    entornos run and the files (by job: ``index``, ``hotspots``, ``cameras``, ``garitas``,
    ``entornos``).
    """

    index: IndexRun
    hotspots: HotspotRun
    cameras: PlanRun
    garitas: PlanRun
    entornos: EntornosRun
    outputs: dict[str, list[Path]]


def _points(index: IndexRun, name: str) -> Records:
    """The index run's point source ``name`` (the demo's ``delitos`` or ``convivencia``)."""
    source = index.sources[name]
    if not isinstance(source, Records):
        raise ConfigError(f"sources.{name}: the demo expects point records, got a zone table")
    return source


def run_demo(
    out_dir: str | os.PathLike[str] = DEFAULT_DEMO_DIR,
    *,
    seed: int = DEFAULT_SEED,
    n_incidents: int = DEFAULT_N_INCIDENTS,
    lang: str = DEFAULT_LANG,
    new_cameras: int = 15,
    new_garitas: int = 4,
    command: str | None = None,
) -> DemoRun:
    """Generate the demo city and run geoprio's main jobs on it, writing every output.

    ``out_dir/`` gets the city's inputs, ``indice.toml`` and ``entornos.toml``;
    ``out_dir/output/`` the index (and its manifest), ``output/hotspots/`` the Gi*, density
    and cluster outputs, ``output/camaras/`` and ``output/garitas/`` the two plans,
    ``output/entornos/`` the ranked places with their hours and deployment plan (each folder
    with its manifest), all in :data:`DEMO_FORMATS`. The maps are drawn from these files by
    :func:`geoprio.maps.demo_maps`.
    """
    from geoprio.entornos import load_entornos_config, run_entornos
    from geoprio.hotspots import HotspotOptions, find_hotspots
    from geoprio.index import load_config, run_index
    from geoprio.placement import plan_cameras, plan_garitas

    lang = check_lang(lang)
    out = Path(out_dir)
    config_path = write_demo_city(make_demo_city(seed, n_incidents=n_incidents), out)
    cfg = load_config(config_path)
    if lang != cfg.index.lang:
        cfg = cfg.model_copy(update={"index": cfg.index.model_copy(update={"lang": lang})})
    index = run_index(cfg)
    crimes = _points(index, "delitos")
    outputs: dict[str, list[Path]] = {"index": index.write(command=command).paths}
    hot = find_hotspots(
        crimes, zones=index.zones, context={"convivencia": _points(index, "convivencia")}, options=HotspotOptions(lang=lang)
    )
    outputs["hotspots"] = hot.write(out / "output" / "hotspots", DEMO_FORMATS, command=command, inputs=[out / "delitos.csv"]).paths
    cameras = plan_cameras(
        crimes,
        p=new_cameras,
        radius_m=100.0,
        grid_spacing_m=100.0,
        existing=out / "camaras.geojson",
        index_zones=index.table,
        time_limit_s=30.0,
    )
    outputs["cameras"] = cameras.write(out / "output" / "camaras", DEMO_FORMATS, command=command).paths
    garitas = plan_garitas(
        coast=out / "costa.geojson",
        beaches=out / "playas.geojson",
        existing=out / "garitas.geojson",
        incidents=crimes,
        p=new_garitas,
        time_limit_s=30.0,
    )
    outputs["garitas"] = garitas.write(out / "output" / "garitas", DEMO_FORMATS, command=command).paths
    ecfg = load_entornos_config(out / "entornos.toml")
    if lang != ecfg.index.lang:
        ecfg = ecfg.model_copy(update={"index": ecfg.index.model_copy(update={"lang": lang})})
    entornos = run_entornos(ecfg)
    outputs["entornos"] = entornos.write(formats=DEMO_FORMATS, command=command).paths
    return DemoRun(index, hot, cameras, garitas, entornos, outputs)
