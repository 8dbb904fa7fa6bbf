"""``geoprio hotspots``, ``geoprio backtest`` and ``geoprio displacement``: hot spots from the command line.

Each command builds one job options object of :mod:`geoprio.hotspots.jobs` from its flags
(flags left out take the options' own defaults), runs it, prints a summary table (Spanish by
default, ``--lang en``; words from ``geoprio/resources/labels/cli_hotspots.toml``) and writes the
outputs with a ``manifest.json``; ``--manifest M`` replays a run instead. Register them on the
main app with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from geoprio.cli.common import (
    CrsOpt,
    CsvOpt,
    FormatOpt,
    LangOpt,
    ManifestOpt,
    MetricCrsOpt,
    MinCountOpt,
    OutOpt,
    PublicOpt,
    SeedOpt,
    TopOpt,
    check_formats,
    command_line,
    err,
    export_options,
    friendly,
    lang_option,
    out,
    print_not_written,
    print_replay,
    print_written,
    public_policy,
)
from geoprio.cli.progress import console_progress
from geoprio.errors import InputError
from geoprio.hotspots import (
    BACKTEST_METHODS,
    BacktestJob,
    BacktestRun,
    DisplacementJob,
    DisplacementRun,
    HotspotJob,
    HotspotOptions,
    HotspotRun,
    PointsSource,
    ZonesSource,
    parse_where,
    public_run,
    replay_backtest,
    replay_displacement,
    replay_hotspots,
    run_backtest_job,
    run_displacement_job,
    run_hotspot_job,
)
from geoprio.hotspots.backtest_run import backtest_title
from geoprio.io.export import Export
from geoprio.io.postgis import PostgisSource, path_or_source
from geoprio.labels import label, plural
from geoprio.numbers import LangNumber, fmt_int, fmt_spec, is_number
from geoprio.records.gazetteer import approximate_note
from geoprio.records.report import ValidationReport
from geoprio.settings import DEFAULT_SEED
from geoprio.zones import parse_bbox

__all__ = ["backtest_cmd", "displacement_cmd", "hotspots_cmd", "note_text", "points_location", "register"]

#: Output folders when ``--out`` is not given (a replay writes beside its manifest).

_OPT = HotspotOptions.model_fields
_BUFFER_M = DisplacementJob.model_fields["buffer_m"].default
_SHARES = ",".join(f"{s:g}" for s in BacktestJob.model_fields["shares"].default)
_COMPLEXITY_HELP = "TOML ranking of clusters ([index] and [[indicators]])."
_TIME_BIN_HELP = "Emerging hot spots per year (default), quarter, month, week, or none."


def _t(code: str, lang: str) -> str:
    return label("cli_hotspots", code, lang)


# --------------------------------------------------------------------------- shared options

PointsArg = Annotated[
    Optional[str],
    typer.Argument(
        help="Point records with coordinates and dates: a file (CSV, Excel, GeoJSON, GeoPackage…) or a PostGIS table or query "
        "(postgresql://host:5432/db?table=schema.name; credentials from PGUSER/PGPASSWORD or ~/.pgpass).",
        show_default=False,
    ),
]
XOpt = Annotated[Optional[str], typer.Option("--x", help="Longitude / x column (detected when omitted).")]
YOpt = Annotated[Optional[str], typer.Option("--y", help="Latitude / y column (detected when omitted).")]
DateOpt = Annotated[Optional[str], typer.Option("--date", help="Date column.")]
HourOpt = Annotated[Optional[str], typer.Option("--hour", help="Hour column (else the time of the date).")]
CategoryOpt = Annotated[Optional[str], typer.Option("--category", help="Category column (crime type, modalidad).")]
InputCrsOpt = Annotated[Optional[str], typer.Option("--input-crs", help="CRS of projected coordinates in the file, e.g. EPSG:3116.")]
OffsetsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--offsets",
        help="Timestamps with a UTC offset: 'convert' to local time (default) or 'drop' the offset (exports that label local times Z).",
    ),
]
BboxOpt = Annotated[
    Optional[str],
    typer.Option(
        "--bbox",
        help="Where points must lie: 'colombia', 'zones' (the zones' box), 'none' (no check) or 'minlon,minlat,maxlon,maxlat' "
        "(default: 'zones' with --zones, else 'colombia').",
    ),
]
ZonesOpt = Annotated[Optional[Path], typer.Option("--zones", help="Zone layer: the study area, and the zones clusters are reported in.")]
ZonesIdOpt = Annotated[Optional[str], typer.Option("--zones-id", help="Id column of the zone layer.")]
ZonesNameOpt = Annotated[Optional[str], typer.Option("--zones-name", help="Name column of the zone layer.")]
ZonesWhereOpt = Annotated[
    Optional[list[str]], typer.Option("--zones-where", help="Keep zones whose column has one of the values: COL=V1,V2 (repeatable).")
]
CellOpt = Annotated[
    Optional[float], typer.Option("--cell-size-m", help=f"Grid cell size in metres (default {_OPT['cell_size_m'].default:g}).")
]
ShapeOpt = Annotated[Optional[str], typer.Option("--shape", help="Cell shape: square (default) or hex.")]
WeightsOpt = Annotated[Optional[str], typer.Option("--weights", help="Gi* neighbours: distance (band, default) or knn.")]
DistanceOpt = Annotated[Optional[float], typer.Option("--distance-m", help="Gi* distance band in metres (default 1.5 × cell size).")]
KOpt = Annotated[Optional[int], typer.Option("--k", help=f"Neighbours for --weights knn (default {_OPT['k'].default}).")]
BandwidthOpt = Annotated[
    Optional[str], typer.Option("--bandwidth-m", help="Kernel density radius in metres, or 'silverman' (default: 2 × cell size).")
]
KernelOpt = Annotated[Optional[str], typer.Option("--kernel", help="Kernel: quartic (default), epanechnikov or uniform.")]
EpsOpt = Annotated[Optional[float], typer.Option("--eps-m", help="DBSCAN radius in metres (default 100).")]
MinSamplesOpt = Annotated[Optional[float], typer.Option("--min-samples", help="DBSCAN core weight / HDBSCAN min_samples.")]
MinClusterOpt = Annotated[
    Optional[int], typer.Option("--min-cluster-size", help="HDBSCAN smallest cluster (default max(10, 0.2 % of incidents)).")
]
MembershipOpt = Annotated[
    Optional[float],
    typer.Option(
        "--min-membership", help=f"HDBSCAN: weaker members than this become noise (0–1, default {_OPT['min_membership'].default:g})."
    ),
]
SelectionOpt = Annotated[Optional[str], typer.Option("--selection", help="HDBSCAN cluster selection: leaf (default) or eom.")]
EngineOpt = Annotated[
    Optional[str],
    typer.Option(
        "--engine",
        help="HDBSCAN implementation: auto (default: geoprio's knn spanning tree when fast_hdbscan or hdbscan is installed, "
        "else scikit-learn), "
        "knn, hdbscan (the package's approximate tree, the default before), sklearn, or fast_hdbscan (exact tree, 2-3x slower).",
    ),
]


def _given(**kw: Any) -> dict[str, Any]:
    """The options the user gave (None: left to the options' default)."""
    return {k: v for k, v in kw.items() if v is not None}


def _bandwidth(text: str | None) -> float | str | None:
    if text is None or text == "silverman":
        return text
    try:
        return float(text)
    except ValueError:
        raise InputError(f"--bandwidth-m: expected metres (e.g. 300) or 'silverman', got {text!r}") from None


def _parse_list(text: str | None, name: str) -> list[str] | None:
    if text is None:
        return None
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InputError(f"{name}: empty list")
    return items


def _zones_source(path: Path | None, zid: str | None, name: str | None, where: list[str] | None) -> ZonesSource | None:
    if path is None:
        return None
    if zid is None:
        raise typer.BadParameter("--zones needs --zones-id")
    return ZonesSource(path=path.resolve(), id=zid, name=name, where=parse_where(where))


def points_location(text: str, *, where: str = "POINTS") -> Path | PostgisSource:
    """A points argument as the job holds it: a ``postgresql://`` source string as a
    :class:`~geoprio.io.postgis.PostgisSource`, anything else as an absolute path.
    """
    located = path_or_source(text, where=where)
    return located if isinstance(located, PostgisSource) else located.resolve()


def _points_source(path: str, where: str = "POINTS", **kw: Any) -> PointsSource:
    kw["bbox"] = parse_bbox(kw.get("bbox"))
    return PointsSource(path=points_location(path, where=where), **_given(**kw))


def _no_manifest_and_input(manifest: Path | None, points: str | None) -> None:
    if manifest is not None and points is not None:
        raise typer.BadParameter("give either POINTS or --manifest, not both")
    if manifest is None and points is None:
        raise typer.BadParameter("give a POINTS file or --manifest")


def _print_reports(reports: tuple[ValidationReport, ...], lang: str) -> None:
    for report in reports:
        err.print(report.summary(lang))


def _fmt(v: Any, lang: str, spec: str = ",.0f") -> str:
    """A table cell: ``v`` with ``spec`` in ``lang``'s number format, ``–`` when missing, text as it is."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    return fmt_spec(v, spec, lang) if is_number(v) else str(v)


def _pct(share: float, spec: str, lang: str) -> str:
    """A share in [0, 1] as a percentage with ``spec``: ``12,5 %`` / ``12.5 %``."""
    return f"{fmt_spec(100 * share, spec, lang)} %"


# --------------------------------------------------------------------------- hotspots


def _print_gistar(run: HotspotRun, lang: str) -> None:
    opts = run.options
    inference = _t("permutations" if opts.permutations else "analytic", lang) + (", FDR" if opts.fdr else "")
    tb = Table(
        title=_t("gi_title", lang).format(n=LangNumber(len(run.cells), lang), size=LangNumber(opts.cell_size_m, lang), inference=inference)
    )
    tb.add_column(_t("class", lang))
    tb.add_column(_t("cells", lang), justify="right")
    tb.add_column(_t("incidents", lang), justify="right")
    g = run.cells.groupby(["gi_bin", "gi_class"])["incidents"].agg(["size", "sum"]).reset_index().sort_values("gi_bin", ascending=False)
    for _, r in g.iterrows():
        tb.add_row(str(r["gi_class"]), fmt_spec(r["size"], ",", lang), _fmt(r["sum"], lang))
    out.print(tb)


def note_text(note: Any, lang: str) -> str:
    """A hot-spot run's note (``notes["permutation_resolution"]``, ``notes["emerging"]``: a
    ``code`` and its values) in ``lang``'s words and number format; a note written as text (runs
    from before December 2026) as it is.
    """
    if not isinstance(note, dict):
        return str(note)
    code = note.get("code")
    if code == "permutation_resolution":
        return label("hotspots", "note_permutation_resolution", lang).format(
            p=fmt_int(int(note["permutations"]) + 1, lang), cells=fmt_int(note["cells"], lang), need=fmt_int(note["cells_needed"], lang)
        )
    if code == "emerging_skipped":
        forms = label("hotspots", f"time_bin_{note['time_bin']}", lang)
        return label("hotspots", "note_emerging_skipped", lang).format(
            bins=plural(forms, int(note["bins"]), lang), need=plural(forms, int(note["bins_needed"]), lang)
        )
    return ", ".join(f"{k}={v}" for k, v in note.items())


def _print_trends(run: HotspotRun, lang: str) -> None:
    cells = run.cells
    if "trend_class" not in cells:
        if "emerging" in run.notes:
            out.print(f"{_t('note', lang)}: {note_text(run.notes['emerging'], lang)}", markup=False)
        return
    bins = run.notes.get("time_bins", [])
    tt = Table(title=_t("trend_title", lang).format(bins=f"{bins[0]}–{bins[-1]}" if bins else ""))
    tt.add_column(_t("pattern", lang))
    tt.add_column(_t("cells", lang), justify="right")
    counts = cells.groupby(["trend_code", "trend_class"]).size().reset_index(name="n")
    # hot patterns first (1…8), then cold (−1…−8), "none" last
    order = np.where(counts["trend_code"] > 0, counts["trend_code"], np.where(counts["trend_code"] < 0, 100 - counts["trend_code"], 1000))
    for _, r in counts.assign(o=order).sort_values("o").iterrows():
        tt.add_row(str(r["trend_class"]), fmt_spec(r["n"], ",", lang))
    out.print(tt)


def _print_clusters(run: HotspotRun, top: int, lang: str) -> None:
    cl = run.clusters
    if run.options.clusters == "none":
        return
    if cl is None or cl.empty:
        out.print(_t("no_clusters", lang))
        return
    method = str(run.params["clusters"]["method"]).upper()
    tc = Table(title=_t("clusters_title", lang).format(n=min(top, len(cl)), total=len(cl), method=method))
    for col, right in (("rank", True), ("cluster", False), ("incidents", True), ("area", True), ("density", True), ("zones", False)):
        tc.add_column(_t(col, lang), justify="right" if right else "left")
    extra = [(c, h) for c, h in (("top_categories", "categories"), ("peak_hours", "hours"), ("peak_days", "days")) if c in cl]
    for _, h in extra:
        tc.add_column(_t(h, lang))
    tc.add_column(_t("complexity", lang), justify="right")
    tc.add_column(_t("tier", lang))
    for _, r in cl.head(top).iterrows():
        row = [
            str(int(r["complexity_rank"])),
            str(r["cluster_id"]),
            _fmt(r["incidents"], lang),
            _fmt(r["area_km2"], lang, ".2f"),
            _fmt(r["density_km2"], lang, ",.0f"),
            str(r.get("zones", "")),
        ]
        row += [str(r[c]) for c, _ in extra]
        row += [_fmt(r["complexity"], lang, ".1f"), str(r["complexity_tier"])]
        tc.add_row(*row)
    out.print(tc)


def print_hotspots(run: HotspotRun, *, top: int, lang: str) -> None:
    """Print a hot-spot run: the Gi* classes, the emerging patterns and the top clusters."""
    _print_gistar(run, lang)
    _print_trends(run, lang)
    _print_clusters(run, top, lang)
    if "permutation_resolution" in run.notes:
        out.print(f"{_t('note', lang)}: {note_text(run.notes['permutation_resolution'], lang)}", markup=False)
    approximate = approximate_note(run.notes.get("approximate_locations"), lang)
    if approximate is not None:
        out.print(f"⚠ {approximate}", markup=False)


def _context_sources(items: list[str] | None, offsets: str | None, bbox: str | None) -> dict[str, PointsSource]:
    ctx: dict[str, PointsSource] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"--context: expected NAME=FILE, got {item!r}")
        name, path = item.split("=", 1)
        ctx[name.strip()] = _points_source(path, f"--context {name.strip()}", kind="coexistence", offsets=offsets, bbox=bbox)
    return ctx


@friendly
def hotspots_cmd(
    points: PointsArg = None,
    zones: ZonesOpt = None,
    zones_id: ZonesIdOpt = None,
    zones_name: ZonesNameOpt = None,
    zones_where: ZonesWhereOpt = None,
    x: XOpt = None,
    y: YOpt = None,
    date: DateOpt = None,
    hour: HourOpt = None,
    category: CategoryOpt = None,
    input_crs: InputCrsOpt = None,
    offsets: OffsetsOpt = None,
    bbox: BboxOpt = None,
    date_from: Annotated[Optional[str], typer.Option("--date-from", help="Use records from this date (inclusive).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--date-to", help="Use records up to this date (inclusive).")] = None,
    context: Annotated[
        Optional[list[str]],
        typer.Option(
            "--context",
            help="Other point records to count inside clusters: NAME=FILE (e.g. convivencia=convivencia.csv) or "
            "NAME=postgresql://…?table=…, repeatable.",
        ),
    ] = None,
    metric_crs: MetricCrsOpt = None,
    cell_size_m: CellOpt = None,
    shape: ShapeOpt = None,
    weights: WeightsOpt = None,
    distance_m: DistanceOpt = None,
    k: KOpt = None,
    permutations: Annotated[
        Optional[int], typer.Option("--permutations", help="Gi* permutations (0, the default: analytic inference).")
    ] = None,
    seed: SeedOpt = DEFAULT_SEED,
    fdr: Annotated[
        Optional[bool],
        typer.Option("--fdr/--no-fdr", help="Benjamini–Hochberg correction of the Gi* p-values (default on).", show_default=False),
    ] = None,
    bandwidth_m: BandwidthOpt = None,
    kernel: KernelOpt = None,
    clusters: Annotated[Optional[str], typer.Option("--clusters", help="hdbscan (default), dbscan or none.")] = None,
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    min_cluster_size: MinClusterOpt = None,
    min_membership: MembershipOpt = None,
    selection: SelectionOpt = None,
    engine: EngineOpt = None,
    hull_buffer_m: Annotated[
        Optional[float],
        typer.Option(
            "--hull-buffer-m", help=f"Buffer around each cluster's concave hull, metres (default {_OPT['hull_buffer_m'].default:g})."
        ),
    ] = None,
    time_bin: Annotated[Optional[str], typer.Option("--time-bin", help=_TIME_BIN_HELP)] = None,
    complexity: Annotated[Optional[Path], typer.Option("--complexity", help=_COMPLEXITY_HELP)] = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    manifest: ManifestOpt = None,
    top: TopOpt = 10,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Hot spots: Gi* and kernel density per grid cell, emerging patterns, and ranked density clusters.

    With ``--public [--min-count N]`` the files written are the public release
    (:func:`geoprio.hotspots.public_run`, what the API serves without a key).
    """
    lang = lang_option(lang)
    fmts = check_formats(formats)
    policy = public_policy(public, min_count)
    _no_manifest_and_input(manifest, points)
    if manifest is not None:
        if policy is not None:
            raise InputError("--public applies to a new run, not to --manifest (a replay writes what the manifest's run wrote)")
        with err.status(label("cli", "working", lang)):
            rep = replay_hotspots(manifest, out_dir=out_dir)
        if rep.result.policy is None:  # a public release replays without its statistics: nothing to tabulate
            print_hotspots(rep.result, top=top, lang=lang)
        print_replay(rep, lang)
        return
    assert points is not None
    opts = HotspotOptions(
        **_given(
            cell_size_m=cell_size_m,
            shape=shape,
            weights=weights,
            distance_m=distance_m,
            k=k,
            permutations=permutations,
            random_state=seed,
            fdr=fdr,
            bandwidth_m=_bandwidth(bandwidth_m),
            kernel=kernel,
            clusters=clusters,
            eps_m=eps_m,
            min_samples=min_samples,
            min_cluster_size=min_cluster_size,
            min_membership=min_membership,
            selection=selection,
            engine=engine,
            hull_buffer_m=hull_buffer_m,
            metric_crs=metric_crs,
            lang=lang,
        ),
        **({"time_bin": None if time_bin == "none" else time_bin} if time_bin is not None else {}),
    )
    job = HotspotJob(
        points=_points_source(points, x=x, y=y, date=date, hour=hour, category=category, crs=input_crs, offsets=offsets, bbox=bbox),
        zones=_zones_source(zones, zones_id, zones_name, zones_where),
        context=_context_sources(context, offsets, bbox),
        complexity=complexity.resolve() if complexity is not None else None,
        options=opts,
        **_given(date_from=date_from, date_to=date_to),
    )
    with console_progress(lang) as progress:  # a bar per long step (Gi* permutations, clustering)
        run = run_hotspot_job(job, progress=progress)
    _print_reports(run.reports, lang)
    print_hotspots(run, top=top, lang=lang)
    _write(public_run(run, policy), out_dir, fmts, lang, export_options(crs, csv, lang))


def _write(
    run: HotspotRun | BacktestRun | DisplacementRun, out_dir: Path | None, fmts: Sequence[str] | None, lang: str, export: Export
) -> None:
    """Write the run's files and manifest when ``--out`` was given; nothing is written otherwise."""
    if out_dir is None:
        print_not_written(lang)
        return
    print_written(run.write(out_dir, fmts, command=command_line(), export=export), lang)


# --------------------------------------------------------------------------- backtest


def print_backtest(run: BacktestRun, *, lang: str) -> None:
    """Print a backtest: the metrics of every method at every flagged-area share, and the best PAI."""

    def method(code: str) -> str:
        try:
            return _t(f"method_{code}", lang)
        except KeyError:
            return code

    # the title in the command's language and number format (the run's own is in the run's)
    tb = Table(title=backtest_title(run.notes, cell_size_m=run.options.cell_size_m, lang=lang) if run.title is not None else None)
    for col, right in (("method", False), ("share", True), ("hit", True), ("PAI", True), ("PEI", True), ("RRI", True), ("vsbase", True)):
        tb.add_column(_t(col, lang), justify="right" if right else "left")
    table = run.table
    for _, r in table.iterrows():
        tb.add_row(
            method(r["method"]),
            _pct(r["area_share"], "g", lang),
            _pct(r["hit_rate"], ".1f", lang),
            _fmt(r["pai"], lang, ".2f"),
            _fmt(r["pei"], lang, ".2f"),
            _fmt(r.get("rri"), lang, ".2f"),
            _fmt(r.get("pai_vs_baseline"), lang, ".2f"),
        )
    out.print(tb)
    if "prior" in set(table["method"]):
        for s in sorted(set(table["area_share"]), key=list(table["area_share"]).index):
            rows = table[np.isclose(table["area_share"], s)]
            best = rows.loc[rows["pai"].idxmax()]
            base = float(rows.loc[rows["method"] == "prior", "pai"].iloc[0])
            out.print(
                _t("best", lang).format(
                    share=_pct(s, "g", lang), method=method(best["method"]), pai=LangNumber(best["pai"], lang), base=LangNumber(base, lang)
                )
            )


@friendly
def backtest_cmd(
    points: PointsArg = None,
    split: Annotated[
        Optional[str], typer.Option("--split", help="First day of the test period (YYYY-MM-DD); training is everything before.")
    ] = None,
    start: Annotated[Optional[str], typer.Option("--start", help="First day of training (default: the data's first).")] = None,
    end: Annotated[Optional[str], typer.Option("--end", help="Last day of the test period (default: the data's last).")] = None,
    methods: Annotated[
        Optional[str], typer.Option("--methods", help=f"Comma list among {', '.join(BACKTEST_METHODS)} (default: all).")
    ] = None,
    shares: Annotated[
        Optional[str],
        typer.Option(
            "--shares",
            help=f"Flagged-area shares (default {_SHARES}).",
        ),
    ] = None,
    zones: ZonesOpt = None,
    zones_id: ZonesIdOpt = None,
    zones_name: ZonesNameOpt = None,
    zones_where: ZonesWhereOpt = None,
    x: XOpt = None,
    y: YOpt = None,
    date: DateOpt = None,
    hour: HourOpt = None,
    category: CategoryOpt = None,
    input_crs: InputCrsOpt = None,
    offsets: OffsetsOpt = None,
    bbox: BboxOpt = None,
    metric_crs: MetricCrsOpt = None,
    cell_size_m: CellOpt = None,
    shape: ShapeOpt = None,
    weights: WeightsOpt = None,
    distance_m: DistanceOpt = None,
    k: KOpt = None,
    bandwidth_m: BandwidthOpt = None,
    kernel: KernelOpt = None,
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    min_cluster_size: MinClusterOpt = None,
    min_membership: MembershipOpt = None,
    selection: SelectionOpt = None,
    engine: EngineOpt = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    manifest: ManifestOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Does the map predict? Fit every method before --split, score it after: hit rate, PAI, PEI, RRI."""
    lang = lang_option(lang)
    fmts = check_formats(formats)
    _no_manifest_and_input(manifest, points)
    if manifest is not None:
        with err.status(label("cli", "working", lang)):
            rep = replay_backtest(manifest, out_dir=out_dir)
        print_backtest(rep.result, lang=lang)
        print_replay(rep, lang)
        return
    assert points is not None
    if split is None:
        raise typer.BadParameter("--split is required (the first day of the test period)")
    opts = HotspotOptions(
        **_given(
            cell_size_m=cell_size_m,
            shape=shape,
            weights=weights,
            distance_m=distance_m,
            k=k,
            bandwidth_m=_bandwidth(bandwidth_m),
            kernel=kernel,
            eps_m=eps_m,
            min_samples=min_samples,
            min_cluster_size=min_cluster_size,
            min_membership=min_membership,
            selection=selection,
            engine=engine,
            metric_crs=metric_crs,
            lang=lang,
        )
    )
    sh_text = _parse_list(shares, "--shares")
    try:
        sh = [float(s) for s in sh_text] if sh_text else None
    except ValueError:
        raise InputError(f"--shares: expected numbers such as 0.01,0.05, got {shares!r}") from None
    job = BacktestJob(
        points=_points_source(points, x=x, y=y, date=date, hour=hour, category=category, crs=input_crs, offsets=offsets, bbox=bbox),
        zones=_zones_source(zones, zones_id, zones_name, zones_where),
        split=split,
        options=opts,
        **_given(start=start, end=end, methods=_parse_list(methods, "--methods"), shares=sh),
    )
    with err.status(label("cli", "working", lang)):
        run = run_backtest_job(job)
    _print_reports(run.reports, lang)
    print_backtest(run, lang=lang)
    _write(run, out_dir, fmts, lang, export_options(crs, csv, lang))


# --------------------------------------------------------------------------- displacement


def print_displacement(run: DisplacementRun, *, lang: str) -> None:
    """Print a displacement analysis: counts per area before and after, the WDQ and its reading."""
    res = run.result
    tb = Table(title=_t("d_title", lang).format(b0=res.before[0], b1=res.before[1], a0=res.after[0], a1=res.after[1]))
    for col, right in (("d_area", False), ("area", True), ("before", True), ("after", True), ("change", True)):
        tb.add_column(_t(col, lang), justify="right" if right else "left")
    for _, r in res.table.iterrows():
        pct = "" if pd.isna(r["change_pct"]) else f" ({_pct(r['change_pct'] / 100, '+.0f', lang)})"
        tb.add_row(
            _t(f"area_{r['area']}", lang).format(m=LangNumber(run.params["buffer_m"], lang)),
            fmt_spec(r["area_km2"], ".2f", lang),
            _fmt(r["before"], lang),
            _fmt(r["after"], lang),
            f"{fmt_spec(r['change'], '+,.0f', lang)}{pct}",
        )
    out.print(tb)
    m = res.measures
    q = "–" if np.isnan(m["wdq"]) else fmt_spec(m["wdq"], ".2f", lang)
    values = {k: LangNumber(m[key], lang) for k, key in (("s", "success"), ("b", "buffer_displacement"), ("t", "total_net_effect"))}
    out.print(_t("wdq", lang).format(wdq=q, **values))
    out.print(f"{_t('reading', lang)}: {res.reading}")


@friendly
def displacement_cmd(
    points: PointsArg = None,
    targets: Annotated[Optional[Path], typer.Option("--targets", help="Intervention polygons (any vector layer).")] = None,
    start: Annotated[Optional[str], typer.Option("--start", help="Start date of the intervention (YYYY-MM-DD).")] = None,
    buffer_m: Annotated[
        Optional[float],
        typer.Option("--buffer-m", help=f"Width of the ring around the targets, metres (default {_BUFFER_M:g})."),
    ] = None,
    control: Annotated[
        Optional[Path], typer.Option("--control", help="Control polygons (default: the study area beyond 2 × buffer).")
    ] = None,
    days: Annotated[
        Optional[int], typer.Option("--days", help="Length of each period in days (default: the longest equal periods).")
    ] = None,
    zones: ZonesOpt = None,
    zones_id: ZonesIdOpt = None,
    zones_name: ZonesNameOpt = None,
    zones_where: ZonesWhereOpt = None,
    x: XOpt = None,
    y: YOpt = None,
    date: DateOpt = None,
    category: CategoryOpt = None,
    input_crs: InputCrsOpt = None,
    offsets: OffsetsOpt = None,
    bbox: BboxOpt = None,
    metric_crs: MetricCrsOpt = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    manifest: ManifestOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Displacement around an intervention: incidents in it, in a ring and in a control area, before and after; the WDQ."""
    lang = lang_option(lang)
    fmts = check_formats(formats)
    _no_manifest_and_input(manifest, points)
    if manifest is not None:
        rep = replay_displacement(manifest, out_dir=out_dir)
        print_displacement(rep.result, lang=lang)
        print_replay(rep, lang)
        return
    assert points is not None
    if targets is None or start is None:
        raise typer.BadParameter("--targets and --start are required")
    job = DisplacementJob(
        points=_points_source(points, x=x, y=y, date=date, category=category, crs=input_crs, offsets=offsets, bbox=bbox),
        zones=_zones_source(zones, zones_id, zones_name, zones_where),
        targets=targets.resolve(),
        start=start,
        lang=lang,
        **_given(
            buffer_m=buffer_m,
            control=control.resolve() if control is not None else None,
            days=days,
            metric_crs=metric_crs,
        ),
    )
    run = run_displacement_job(job)
    _print_reports(run.reports, lang)
    print_displacement(run, lang=lang)
    _write(run, out_dir, fmts, lang, export_options(crs, csv, lang))


def register(app: typer.Typer) -> None:
    """Add ``hotspots``, ``backtest`` and ``displacement`` to the ``geoprio`` app."""
    app.command("hotspots")(hotspots_cmd)
    app.command("backtest")(backtest_cmd)
    app.command("displacement")(displacement_cmd)
