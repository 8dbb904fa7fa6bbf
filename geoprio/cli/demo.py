"""``geoprio demo``: build the synthetic city Puerto Demo and run every stage on it.

The command calls :func:`geoprio.demo.run_demo` and prints what it produced; its words come
from the ``demo`` label topic (``geoprio/resources/labels/demo.toml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geoprio.cli.common import LangOpt, SeedOpt, TopOpt, command_line, err, friendly, lang_option, out, print_written
from geoprio.cli.index import print_index, print_reports
from geoprio.cli.maps import render_demo_maps
from geoprio.demo import DEFAULT_DEMO_DIR, DEFAULT_N_INCIDENTS, DemoRun, run_demo
from geoprio.labels import label
from geoprio.numbers import LangNumber
from geoprio.settings import DEFAULT_LANG, DEFAULT_SEED

__all__ = ["demo_cmd", "register"]


@friendly
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Where the synthetic city and the outputs go.")] = DEFAULT_DEMO_DIR,
    seed: SeedOpt = DEFAULT_SEED,
    incidents: Annotated[int, typer.Option(min=1000, help="Number of crime incidents to generate.")] = DEFAULT_N_INCIDENTS,
    top: TopOpt = 15,
    maps_dir: Annotated[Path, typer.Option("--maps", help="Where the demo's maps go (offline-ready HTML).")] = Path("maps"),
    lang: LangOpt = DEFAULT_LANG,
) -> None:
    """Build the synthetic demo city (seeded); run the index, hot spots, camera and garita plans and priority places; draw the maps."""
    lang = lang_option(lang)
    with err.status(label("demo", "working", lang)):
        demo = run_demo(out_dir, seed=seed, n_incidents=incidents, lang=lang, command=command_line())
    out.print(label("demo", "written_to", lang).format(path=out_dir))
    run = demo.index
    print_reports(run, lang)
    print_index(run, top=top, lang=lang)
    print_written(demo.outputs["index"], lang)
    _print_plans(demo, lang)
    render_demo_maps(maps_dir, out_dir, lang=lang)


def _print_plans(demo: DemoRun, lang: str) -> None:
    """Print where the other jobs wrote, one line per plan and one for the entornos."""
    for kind in ("hotspots", "cameras", "garitas", "entornos"):
        out.print(f"  {demo.outputs[kind][0].parent}/")
    for kind, plan in (("cameras", demo.cameras), ("garitas", demo.garitas)):
        s = plan.summary()
        text = label("demo", "plan", lang)
        share, gap = LangNumber(100 * s["covered_share"], lang), LangNumber(100 * (s["gap"] or 0), lang)
        out.print(text.format(kind=label("demo", kind, lang), n=s["n_selected"], share=share, gap=gap))
    ent = demo.entornos
    first = ent.table.sort_values("rank").iloc[0]
    line = label("demo", "entornos", lang).format(n=len(ent.table), name=first["name"], peak_hours=first["peak_hours"])
    if ent.plan is not None:
        deploy = label("demo", "deployment", lang)
        line += deploy.format(teams=ent.plan.teams, share=LangNumber(100 * ent.plan.share, lang), gap=LangNumber(100 * ent.plan.gap, lang))
    out.print(line)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``geoprio`` app."""
    app.command("demo")(demo_cmd)
