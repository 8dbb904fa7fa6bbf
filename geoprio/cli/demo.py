"""``geoprio demo``: build the synthetic city Puerto Demo and run every stage on it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from geoprio.cli.common import LangOpt, err, friendly, lang_option, out, print_written
from geoprio.cli.index import print_index, print_reports
from geoprio.cli.maps import render_demo_maps
from geoprio.settings import DEFAULT_SEED

__all__ = ["demo_cmd", "register"]


@friendly
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Where the synthetic city and the outputs go.")] = Path("data/demo"),
    seed: Annotated[int, typer.Option(help="Seed of the generator (same seed, same city).")] = DEFAULT_SEED,
    incidents: Annotated[int, typer.Option(min=1000, help="Number of crime incidents to generate.")] = 40_000,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to print.")] = 15,
    maps_dir: Annotated[Path, typer.Option("--maps", help="Where the demo's maps go (offline-ready HTML).")] = Path("maps"),
    lang: LangOpt = "es",
) -> None:
    """Build the synthetic demo city (seeded); run the index, hot spots, camera and garita plans and priority places; draw the maps."""
    from geoprio.demo.city import run_demo

    lang = lang_option(lang)
    with err.status(
        "Generando la ciudad y corriendo índice, puntos calientes y planes…" if lang == "es" else "Generating the city and running…"
    ):
        demo = run_demo(out_dir, seed=seed, n_incidents=incidents, lang=lang, command=" ".join(["geoprio", *sys.argv[1:]]))
    out.print(("Ciudad de demostración escrita en " if lang == "es" else "Demo city written to ") + str(out_dir))
    run = demo.index
    print_reports(run, lang)
    print_index(run, top=top, lang=lang)
    print_written(run.outputs, lang, run.manifest)
    for kind in ("hotspots", "cameras", "garitas", "entornos"):
        out.print(f"  {demo.outputs[kind][0].parent}/")
    for kind, plan in (("cámaras" if lang == "es" else "cameras", demo.cameras), ("garitas", demo.garitas)):
        s = plan.summary()
        share, gap = 100 * s["covered_share"], 100 * (s["gap"] or 0)
        if lang == "es":
            out.print(f"Plan de {kind}: {s['n_selected']} nuevas cubren {share:.1f} % de la demanda ponderada; brecha {gap:.2f} %")
        else:
            out.print(f"{kind} plan: {s['n_selected']} new sites cover {share:.1f} % of weighted demand; gap {gap:.2f} %")
    ent = demo.entornos
    top = ent.table.sort_values("rank").iloc[0]
    plan = ent.plan
    if lang == "es":
        out.print(
            f"Entornos: {len(ent.table)} lugares; el primero es {top['name']} (horas pico {top['peak_hours']}); "
            f"{plan.teams} equipos cubren {100 * plan.share:.1f} % de sus incidentes ponderados (brecha {100 * plan.gap:.2f} %)"
        )
    else:
        out.print(
            f"Places: {len(ent.table)}; first is {top['name']} (peak hours {top['peak_hours']}); "
            f"{plan.teams} teams cover {100 * plan.share:.1f} % of their weighted incidents (gap {100 * plan.gap:.2f} %)"
        )
    render_demo_maps(maps_dir, out_dir, lang=lang)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``geoprio`` app."""
    app.command("demo")(demo_cmd)
