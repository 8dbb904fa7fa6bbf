"""``geoprio forecast``: rolling-origin forecast backtests, and the next period's forecast surface.

Builds one :class:`geoprio.hotspots.forecast.ForecastJob` from the flags (flags left out take
the options' own defaults), runs it, prints the score table per horizon and method (Spanish by
default, ``--lang en``; words from ``geoprio/resources/labels/forecast.toml``) with the verdict
against prior counts, and with ``--out`` writes the tables and a ``manifest.json``. With
``--surface`` (one horizon) it builds a :class:`geoprio.hotspots.forecast_layer.ForecastSurfaceJob`
instead: the backtest, then the chosen method (or ``--method``) fitted on all the data, and
writes the next period's forecast per cell (``--format``, ``--crs``); with ``--public [--min-count N]``
the files are its public release under the same names
(:func:`geoprio.hotspots.forecast_public.run_public_forecast_job`, what ``GET /forecast`` serves
without a key). ``--manifest M`` replays either kind of full (internal) run. Register it on the
main app with :func:`register`.
"""

from __future__ import annotations

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
    MetricCrsOpt,
    MinCountOpt,
    OutOpt,
    PublicOpt,
    SeedOpt,
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
from geoprio.cli.hotspots import (
    BboxOpt,
    CategoryOpt,
    DateOpt,
    HourOpt,
    InputCrsOpt,
    OffsetsOpt,
    PointsArg,
    ShapeOpt,
    XOpt,
    YOpt,
    ZonesIdOpt,
    ZonesNameOpt,
    ZonesOpt,
    ZonesWhereOpt,
    points_location,
)
from geoprio.disclosure import disclosure_of
from geoprio.errors import InputError
from geoprio.hotspots.forecast import ForecastBacktest, ForecastJob, ForecastOptions, run_forecast_job
from geoprio.hotspots.forecast_layer import (
    ForecastSurface,
    ForecastSurfaceJob,
    SurfaceOptions,
    replay_any_forecast,
    run_forecast_surface_job,
)
from geoprio.hotspots.forecast_methods import FORECAST_METHODS
from geoprio.hotspots.forecast_public import PublicForecast, run_public_forecast_job
from geoprio.hotspots.jobs import PointsSource, ZonesSource, parse_where
from geoprio.io import manifest as manifest_io
from geoprio.labels import label
from geoprio.numbers import fmt_int, fmt_number, fmt_pct
from geoprio.settings import DEFAULT_SEED
from geoprio.zones import parse_bbox

__all__ = ["forecast_cmd", "print_forecast", "print_surface", "register"]

_OPT = ForecastOptions.model_fields


def _t(code: str, lang: str) -> str:
    return label("forecast", code, lang)


def _signed_pct(x: float, lang: str) -> str:
    text = fmt_pct(abs(x), lang)
    if text == fmt_pct(0.0, lang):
        return text  # no sign on a change that rounds to 0
    return ("+" if x > 0 else "−") + text


def _list(text: str | None, name: str) -> list[str] | None:
    if text is None:
        return None
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InputError(f"{name}: empty list")
    return items


def print_forecast(run: ForecastBacktest, *, lang: str) -> None:
    """Print one table per horizon (every method at every share: hit rate, PAI, PEI, gain vs prior counts) and the verdict."""
    s = run.summary
    n = run.notes
    for hz in dict.fromkeys(s["horizon"]):
        rows = s[s["horizon"] == hz]
        origins = n[hz]["origins"]
        tb = Table(
            title=_t("title", lang).format(
                horizon=_t(f"horizon_{hz}", lang),
                origins=len(origins),
                first=origins[0],
                last=origins[-1],
                cells=fmt_int(n["cells"], lang),
                size=fmt_number(run.options.cell_size_m, lang, 0),
            )
        )
        for col in ("method", "share", "hit", "pai", "pei", "gain"):
            tb.add_column(_t(f"col_{col}", lang), justify="left" if col == "method" else "right")
        for _, r in rows.iterrows():
            gain = (
                "—"
                if r["method"] == "prior"
                else f"{_signed_pct(r['gain'], lang)} ({_signed_pct(r['gain_low'], lang)} … {_signed_pct(r['gain_high'], lang)})"
            )
            tb.add_row(
                _t(f"method_{r['method']}", lang),
                fmt_pct(r["area_share"], lang),
                fmt_pct(r["hit_rate"], lang),
                fmt_number(r["pai"], lang, 2),
                fmt_number(r["pei"], lang, 2),
                gain,
            )
        out.print(tb)
        if n.get("sepp_spatial") == "off":
            out.print(_t("sepp_spatial_off", lang))
        v = n["goal"].get(hz)
        if v is not None:
            out.print(
                _t("verdict_yes" if v["beats_prior_by_10pct"] else "verdict_no", lang).format(
                    horizon=_t(f"horizon_{hz}", lang).capitalize(),
                    method=_t(f"method_{v['best']}", lang),
                    gain=_signed_pct(v["gain"], lang),
                    low=_signed_pct(v["gain_ci"][0], lang),
                    high=_signed_pct(v["gain_ci"][1], lang),
                )
            )


def print_surface(run: ForecastSurface, *, lang: str) -> None:
    """Print the backtest behind a forecast surface, then the forecast: period, method, expected incidents, score."""
    print_forecast(run.backtest, lang=lang)
    n = run.notes
    b = n["backtest"]
    out.print(
        _t("surface", lang).format(
            start=n["period_start"],
            end=(run.end - pd.Timedelta(days=1)).date(),
            method=_t(f"method_{run.method}", lang),
            expected=fmt_number(n["expected_total"], lang, 1),
            cells=fmt_int(n["cells"], lang),
            share=fmt_pct(b["area_share"], lang),
            top=fmt_number(n["expected_in_top_share"], lang, 1),
            pai=fmt_number(b["pai"], lang, 2),
            gain=_signed_pct(b["gain"], lang),
            low=_signed_pct(b["gain_ci"][0], lang),
            high=_signed_pct(b["gain_ci"][1], lang),
        )
    )


@friendly
def forecast_cmd(
    points: PointsArg = None,
    horizons: Annotated[Optional[str], typer.Option("--horizons", help="Comma list among week, month, quarter (default: month).")] = None,
    origins: Annotated[
        Optional[int], typer.Option("--origins", min=1, help=f"Scored origins: the last N periods (default {_OPT['origins'].default}).")
    ] = None,
    warmup: Annotated[
        Optional[int],
        typer.Option("--warmup", min=0, help=f"Earlier origins used only to choose hyperparameters (default {_OPT['warmup'].default})."),
    ] = None,
    methods: Annotated[
        Optional[str], typer.Option("--methods", help=f"Comma list among {', '.join(FORECAST_METHODS)} (default: all; prior always).")
    ] = None,
    shares: Annotated[Optional[str], typer.Option("--shares", help="Flagged-area shares (default 0.005,0.01,0.02,0.05).")] = None,
    cell_size_m: Annotated[
        Optional[float], typer.Option("--cell-size-m", help=f"Grid cell size in metres (default {_OPT['cell_size_m'].default:g}).")
    ] = None,
    shape: ShapeOpt = None,
    bootstrap: Annotated[
        Optional[int], typer.Option("--bootstrap", min=1, help=f"Bootstrap resamples of the origins (default {_OPT['bootstrap'].default}).")
    ] = None,
    seed: SeedOpt = DEFAULT_SEED,
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
    surface: Annotated[
        bool,
        typer.Option("--surface", help="Also fit the chosen method on all the data and write the next period's forecast per cell."),
    ] = False,
    method: Annotated[
        Optional[str], typer.Option("--method", help="With --surface: use this method (default: the backtest's best at 1 % of the area).")
    ] = None,
    out_dir: OutOpt = None,
    formats: FormatOpt = None,
    crs: CrsOpt = None,
    csv: CsvOpt = "standard",
    manifest: ManifestOpt = None,
    public: PublicOpt = False,
    min_count: MinCountOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Does a forecast beat prior counts next week, month or quarter? A rolling-origin backtest: hit rate, PAI, PEI."""
    lang = lang_option(lang)
    policy = public_policy(public, min_count)
    if manifest is not None and points is not None:
        raise typer.BadParameter("give either POINTS or --manifest, not both")
    if manifest is not None:
        if policy is not None:
            raise InputError("--public applies to a new run, not to --manifest (a replay writes what the manifest's run wrote)")
        if disclosure_of(manifest_io.read(manifest)) is not None:
            raise InputError(
                f"{manifest}: --manifest replays full (internal) runs only; run the forecast again with --public for a public one"
            )
        with err.status(label("cli", "working", lang)):
            rep = replay_any_forecast(manifest, out_dir=out_dir)
        if isinstance(rep.result, ForecastSurface):
            print_surface(rep.result, lang=lang)
        else:
            print_forecast(rep.result, lang=lang)
        print_replay(rep, lang)
        return
    if points is None:
        raise typer.BadParameter("give a POINTS file or --manifest")
    if not surface and (method is not None or formats or crs is not None or policy is not None):
        raise typer.BadParameter("--method, --format, --crs and --public go with --surface")
    fm = check_formats(formats)
    sh_text = _list(shares, "--shares")
    try:
        sh = tuple(float(s) for s in sh_text) if sh_text else None
    except ValueError:
        raise InputError(f"--shares: expected numbers such as 0.01,0.05, got {shares!r}") from None
    given: dict[str, Any] = {
        "horizons": _list(horizons, "--horizons"),
        "origins": origins,
        "warmup": warmup,
        "methods": _list(methods, "--methods"),
        "shares": sh,
        "cell_size_m": cell_size_m,
        "shape": shape,
        "bootstrap": bootstrap,
        "metric_crs": metric_crs,
    }
    opts = ForecastOptions(seed=seed, lang=lang, **{k: v for k, v in given.items() if v is not None})
    if zones is not None and zones_id is None:
        raise typer.BadParameter("--zones needs --zones-id")
    load: dict[str, Any] = {"x": x, "y": y, "date": date, "hour": hour, "category": category, "crs": input_crs, "offsets": offsets}
    load["bbox"] = parse_bbox(bbox) if bbox is not None else None
    src = PointsSource(path=points_location(points), **{k: v for k, v in load.items() if v is not None})
    zsrc = ZonesSource(path=zones.resolve(), id=zones_id, name=zones_name, where=parse_where(zones_where)) if zones is not None else None
    run: ForecastBacktest | ForecastSurface | PublicForecast
    if surface:
        sjob = ForecastSurfaceJob(points=src, zones=zsrc, options=SurfaceOptions(backtest=opts, method=method))
        with err.status(label("cli", "working", lang)):
            run = run_forecast_surface_job(sjob) if policy is None else run_public_forecast_job(sjob, policy)
        print_surface(run if isinstance(run, ForecastSurface) else run.surface, lang=lang)
    else:
        job = ForecastJob(points=src, zones=zsrc, options=opts)
        with err.status(label("cli", "working", lang)):
            run = run_forecast_job(job)
        print_forecast(run, lang=lang)
    if out_dir is None:
        print_not_written(lang)
        return
    print_written(run.write(out_dir, fm, command=command_line(), export=export_options(crs, csv, lang)), lang)


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to the ``geoprio`` app."""
    app.command("forecast")(forecast_cmd)
