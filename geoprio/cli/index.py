"""``geoprio index``: the prioritization index and the ranked zone list from a config file.

A thin layer over :func:`geoprio.index.run.run_index` (then :meth:`~geoprio.index.run.IndexRun.write`
where the config says; with ``--public``, of :func:`geoprio.index.public.public_run`) and
:func:`geoprio.index.run.replay_manifest`; :func:`print_index` and :func:`print_reports` are
shared with ``geoprio demo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import pandas as pd
import typer
from rich.table import Table

from geoprio.cli.common import (
    CrsOpt,
    CsvOpt,
    FormatOpt,
    LangOpt,
    ManifestOpt,
    MinCountOpt,
    OutOpt,
    PublicOpt,
    TopOpt,
    check_formats,
    command_line,
    err,
    export_options,
    friendly,
    lang_option,
    out,
    print_replay,
    print_written,
    public_policy,
)
from geoprio.disclosure import disclosure_of
from geoprio.errors import InputError
from geoprio.io.manifest import read as read_manifest
from geoprio.labels import label, labels
from geoprio.numbers import fmt_number, fmt_spec
from geoprio.settings import DEFAULT_LANG

__all__ = ["config_overrides", "index_cmd", "print_index", "print_reports", "register"]


def print_index(run: Any, *, top: int, lang: str) -> None:
    """Print the ranked zones of an index run (the top ``top``), flags and exclusions."""
    t = labels("cli_index", lang)
    table = run.table
    ranked = table[table["rank"].notna()].sort_values("rank", kind="stable")
    k = run.config.robustness.top_k
    rich_table = Table(title=t["title"].format(level=run.zones.level, n=min(top, len(ranked)), total=len(ranked)))
    for col in ("rank", "zone", "name", "parent", "index", "tier"):
        rich_table.add_column(t[col], justify="right" if col in ("rank", "index") else "left")
    has_mc = "rank_p05" in table.columns
    if has_mc:
        rich_table.add_column(t["interval"], justify="center")
        rich_table.add_column(t["ptop"].format(k=k), justify="right")
    rich_table.add_column(t["drivers"])
    for _, r in ranked.head(top).iterrows():
        cells = [
            str(int(r["rank"])),
            str(r["zone_id"]),
            str(r["name"]) + (" †" if bool(r.get("small_denominator", False)) else ""),
            "" if pd.isna(r["parent_name"]) else str(r["parent_name"]),
            fmt_number(r["index"], lang, 1),
            str(r["tier"]),
        ]
        if has_mc:
            cells += [f"{int(r['rank_p05'])}–{int(r['rank_p95'])}", fmt_number(r[f"p_top_{k}"], lang, 2)]
        cells.append(str(r["drivers"]))
        rich_table.add_row(*cells)
    out.print(rich_table)
    if "small_denominator" in table.columns and table["small_denominator"].any():
        small = table[table["small_denominator"].astype(bool)]
        flagged = ", ".join(f"{z} {n}" for z, n in zip(small["zone_id"], small["name"], strict=True))
        minimum = run.config.index.min_denominator
        out.print(
            t["small"].format(n=fmt_spec(minimum, "g", lang), action=t["small_" + run.config.index.small_zones], zones=flagged),
            markup=False,
        )
    warning = run.small_in_top(top).message(lang)
    if warning is not None:
        out.print(warning, style="bold yellow", markup=False)
    excluded = table[table["rank"].isna()]
    if len(excluded):
        out.print(
            f"{t['excluded']}: " + ", ".join(f"{z} ({why})" for z, why in zip(excluded["zone_id"], excluded["excluded"], strict=True))
        )


def print_reports(run: Any, lang: str) -> None:
    """Print the validation report of every source the run read."""
    for report in run.reports:
        if report.n_read:
            err.print(report.summary(lang))


def config_overrides(cfg: Any, *, out_dir: Path | None, formats: list[str] | None, draws: int | None, lang: str) -> dict[str, Any]:
    """The ``output``, ``robustness`` and ``index`` sections of a run config with the command
    line's ``--out``, ``--format``, ``--draws`` and ``--lang`` applied (only those that change).

    Works on any config with those sections (the index's and the entornos' run configs).
    """
    fmts = check_formats(formats)
    updates: dict[str, Any] = {}
    if out_dir is not None or fmts:
        updates["output"] = cfg.output.model_copy(
            update={
                **({"dir": out_dir.resolve()} if out_dir is not None else {}),
                **({"formats": list(fmts)} if fmts else {}),
            }
        )
    if draws is not None:
        updates["robustness"] = cfg.robustness.model_copy(update={"draws": draws})
    if lang != cfg.index.lang:
        updates["index"] = cfg.index.model_copy(update={"lang": lang})
    return updates


@friendly
def index_cmd(
    config: Annotated[Optional[Path], typer.Argument(help="TOML configuration of the run (see the README).")] = None,
    manifest: ManifestOpt = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    draws: Annotated[Optional[int], typer.Option("--draws", min=0, help="Monte Carlo draws for rank stability (0 turns it off).")] = None,
    top: TopOpt = 15,
    lang: LangOpt = DEFAULT_LANG,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
) -> None:
    """Compute the prioritization index and the ranked zone list from a config file.

    The outputs go to the config's [output] folder and formats unless --out / --format say
    otherwise; --manifest re-runs a previous run and checks its outputs are identical.
    With --public the files are the public release (small counts and what derives from them
    hidden, with the cells that would give them away; the manifest records the policy).
    """
    from geoprio.index.config import load_config
    from geoprio.index.public import public_run
    from geoprio.index.run import replay_manifest, run_index

    lang = lang_option(lang)
    check_formats(formats)
    policy = public_policy(public, min_count)
    export = export_options(crs, csv, lang)
    if manifest is not None:
        if config is not None:
            raise InputError("give either CONFIG or --manifest, not both")
        if policy is not None or disclosure_of(read_manifest(manifest)) is not None:
            raise InputError(
                f"{manifest}: --manifest replays full (internal) releases only; run the config again with --public for a public one"
            )
        with err.status(label("cli", "working", lang)):
            replay = replay_manifest(manifest, out_dir=out_dir)
        print_reports(replay.result, lang)
        print_index(replay.result, top=top, lang=lang)
        print_replay(replay, lang)
        return
    if config is None:
        raise InputError("give a CONFIG file or --manifest (see geoprio index --help)")
    cfg = load_config(config)
    cfg = cfg.model_copy(update=config_overrides(cfg, out_dir=out_dir, formats=formats, draws=draws, lang=lang))
    with err.status(label("cli", "working", lang)):
        run = run_index(cfg, command=command_line())
        release = public_run(run, policy)
        written = release.write(export=export)
    print_reports(run, lang)
    print_index(release, top=top, lang=lang)
    print_written(written, lang)


def register(app: typer.Typer) -> None:
    """Add ``index`` to the ``geoprio`` app."""
    app.command("index")(index_cmd)
