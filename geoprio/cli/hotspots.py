"""``geoprio hotspots``, ``geoprio backtest`` and ``geoprio displacement``: hot spots from the command line.

Each command loads the points (and zones), calls one function of :mod:`geoprio.hotspots.run`,
prints a summary table (Spanish by default, ``--lang en``) and writes its outputs with a
``manifest.json``. Register them on the main app with :func:`register`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from geoprio.cli.common import LangOpt, err, friendly, lang_option, out
from geoprio.errors import InputError

__all__ = ["backtest_cmd", "displacement_cmd", "hotspots_cmd", "register"]

_T = {
    "es": {
        "gi_title": "Getis-Ord Gi* por celda ({n:,} celdas de {size:g} m, {inference})",
        "class": "Clase",
        "cells": "Celdas",
        "incidents": "Incidentes",
        "trend_title": "Puntos calientes emergentes ({bins})",
        "pattern": "Patrón",
        "clusters_title": "Espacios de alta complejidad: top {n} de {total} conglomerados ({method})",
        "rank": "Pos.",
        "cluster": "Conglomerado",
        "area": "Área km²",
        "density": "Densidad /km²",
        "zones": "Zonas",
        "categories": "Categorías principales",
        "hours": "Horas pico",
        "days": "Días pico",
        "complexity": "Complejidad",
        "tier": "Nivel",
        "written": "Archivos escritos",
        "no_clusters": "No se encontraron conglomerados con estos parámetros.",
        "bt_title": (
            "Backtest: entrenamiento {train} ({ntrain:,.0f} incidentes), prueba {test} ({ntest:,.0f} incidentes), "
            "{cells:,} celdas de {size:g} m"
        ),
        "method": "Método",
        "share": "Área señalada",
        "hit": "Aciertos",
        "vsbase": "PAI / base",
        "methods": {
            "prior": "conteos previos (base)",
            "recent": "conteos recientes",
            "kde": "densidad kernel",
            "gistar": "Gi*",
            "hdbscan": "HDBSCAN",
            "dbscan": "DBSCAN",
        },
        "best": "Mejor PAI al {share}: {method} ({pai:.2f}; base {base:.2f})",
        "d_title": "Desplazamiento: antes {b0} – {b1}, después {a0} – {a1}",
        "d_area": "Área",
        "before": "Antes",
        "after": "Después",
        "change": "Cambio",
        "areas": {"target": "intervención", "buffer": "anillo {m:g} m", "control": "control"},
        "wdq": "WDQ = {wdq}; medida de éxito {s:.5f}; desplazamiento en el anillo {b:.5f}; efecto neto total {t:,.1f} incidentes",
        "reading": "Lectura",
        "note": "Nota",
    },
    "en": {
        "gi_title": "Getis-Ord Gi* per cell ({n:,} cells of {size:g} m, {inference})",
        "class": "Class",
        "cells": "Cells",
        "incidents": "Incidents",
        "trend_title": "Emerging hot spots ({bins})",
        "pattern": "Pattern",
        "clusters_title": "High-complexity places: top {n} of {total} clusters ({method})",
        "rank": "Rank",
        "cluster": "Cluster",
        "area": "Area km²",
        "density": "Density /km²",
        "zones": "Zones",
        "categories": "Top categories",
        "hours": "Peak hours",
        "days": "Peak days",
        "complexity": "Complexity",
        "tier": "Tier",
        "written": "Files written",
        "no_clusters": "No cluster found with these parameters.",
        "bt_title": (
            "Backtest: training {train} ({ntrain:,.0f} incidents), test {test} ({ntest:,.0f} incidents), {cells:,} cells of {size:g} m"
        ),
        "method": "Method",
        "share": "Flagged area",
        "hit": "Hit rate",
        "vsbase": "PAI / baseline",
        "methods": {
            "prior": "prior counts (baseline)",
            "recent": "recent counts",
            "kde": "kernel density",
            "gistar": "Gi*",
            "hdbscan": "HDBSCAN",
            "dbscan": "DBSCAN",
        },
        "best": "Best PAI at {share}: {method} ({pai:.2f}; baseline {base:.2f})",
        "d_title": "Displacement: before {b0} – {b1}, after {a0} – {a1}",
        "d_area": "Area",
        "before": "Before",
        "after": "After",
        "change": "Change",
        "areas": {"target": "target", "buffer": "{m:g} m buffer", "control": "control"},
        "wdq": "WDQ = {wdq}; success measure {s:.5f}; buffer displacement {b:.5f}; total net effect {t:,.1f} incidents",
        "reading": "Reading",
        "note": "Note",
    },
}

# --------------------------------------------------------------------------- shared options

PointsArg = Annotated[Path, typer.Argument(help="Point records (CSV, Excel, GeoJSON, GeoPackage…) with coordinates and dates.")]
XOpt = Annotated[str | None, typer.Option("--x", help="Longitude / x column (detected when omitted).")]
YOpt = Annotated[str | None, typer.Option("--y", help="Latitude / y column (detected when omitted).")]
DateOpt = Annotated[str | None, typer.Option("--date", help="Date column.")]
HourOpt = Annotated[str | None, typer.Option("--hour", help="Hour column (else the time of the date).")]
CategoryOpt = Annotated[str | None, typer.Option("--category", help="Category column (crime type, modalidad).")]
CrsOpt = Annotated[str | None, typer.Option("--crs", help="CRS of projected coordinates in the file, e.g. EPSG:3116.")]
OffsetsOpt = Annotated[
    str,
    typer.Option(
        "--offsets", help="Timestamps with a UTC offset: 'convert' to local time or 'drop' the offset (exports that label local times Z)."
    ),
]
BboxOpt = Annotated[
    str | None,
    typer.Option("--bbox", help="Valid lon/lat box 'minlon,minlat,maxlon,maxlat', or 'none' (default: the zones' box, else Colombia)."),
]
ZonesOpt = Annotated[Path | None, typer.Option("--zones", help="Zone layer: the study area, and the zones clusters are reported in.")]
ZonesIdOpt = Annotated[str | None, typer.Option("--zones-id", help="Id column of the zone layer.")]
ZonesNameOpt = Annotated[str | None, typer.Option("--zones-name", help="Name column of the zone layer.")]
ZonesWhereOpt = Annotated[
    list[str] | None, typer.Option("--zones-where", help="Keep zones whose column has one of the values: COL=V1,V2 (repeatable).")
]
MetricOpt = Annotated[
    str | None, typer.Option("--metric-crs", help="Projected CRS in metres (default EPSG:9377; e.g. EPSG:32616 for Chicago).")
]
CellOpt = Annotated[float, typer.Option("--cell-size-m", help="Grid cell size in metres.")]
ShapeOpt = Annotated[str, typer.Option("--shape", help="Cell shape: square or hex.")]
WeightsOpt = Annotated[str, typer.Option("--weights", help="Gi* neighbours: distance (band) or knn.")]
DistanceOpt = Annotated[float | None, typer.Option("--distance-m", help="Gi* distance band in metres (default 1.5 × cell size).")]
KOpt = Annotated[int, typer.Option("--k", help="Neighbours for --weights knn.")]
BandwidthOpt = Annotated[
    str | None, typer.Option("--bandwidth-m", help="Kernel density radius in metres, or 'silverman' (default: 2 × cell size).")
]
KernelOpt = Annotated[str, typer.Option("--kernel", help="Kernel: quartic, epanechnikov or uniform.")]
EpsOpt = Annotated[float | None, typer.Option("--eps-m", help="DBSCAN radius in metres (default 100).")]
MinSamplesOpt = Annotated[float | None, typer.Option("--min-samples", help="DBSCAN core weight / HDBSCAN min_samples.")]
MinClusterOpt = Annotated[
    int | None, typer.Option("--min-cluster-size", help="HDBSCAN smallest cluster (default max(10, 0.2 % of incidents)).")
]
MembershipOpt = Annotated[float, typer.Option("--min-membership", help="HDBSCAN: weaker members than this become noise (0–1).")]
SelectionOpt = Annotated[str, typer.Option("--selection", help="HDBSCAN cluster selection: leaf or eom.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="HDBSCAN implementation: auto, hdbscan or sklearn.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder (a manifest.json is written there).")]
FormatOpt = Annotated[list[str] | None, typer.Option("--format", help="Layer format, repeatable: csv, geojson, gpkg, parquet.")]


def _command() -> str:
    return " ".join(["geoprio", *sys.argv[1:]]) if sys.argv else "geoprio"


def _parse_bbox(text: str | None, zones: Any) -> tuple[float, float, float, float] | None:
    from geoprio.settings import COLOMBIA_BBOX

    if text is None:
        if zones is not None:
            x0, y0, x1, y1 = zones.frame.total_bounds
            return (x0 - 0.05, y0 - 0.05, x1 + 0.05, y1 + 0.05)
        return COLOMBIA_BBOX
    if text.strip().lower() == "none":
        return None
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--bbox: expected 'minlon,minlat,maxlon,maxlat' or 'none', got {text!r}") from None
    if len(vals) != 4 or not (vals[0] < vals[2] and vals[1] < vals[3]):
        raise InputError(f"--bbox: expected 'minlon,minlat,maxlon,maxlat' with min < max, got {text!r}")
    return vals  # type: ignore[return-value]


def _parse_where(items: list[str] | None) -> dict[str, list[str]] | None:
    if not items:
        return None
    where: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--zones-where: expected COL=V1,V2, got {item!r}")
        col, values = item.split("=", 1)
        where[col.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return where


def _load_zones(path: Path | None, zid: str | None, name: str | None, where: list[str] | None, metric_crs: str) -> Any:
    from geoprio.zones.layers import load_zones

    if path is None:
        return None
    if zid is None:
        raise typer.BadParameter("--zones needs --zones-id")
    return load_zones(path, id=zid, name=name, where=_parse_where(where), metric_crs=metric_crs)


def _load_points(path: Path, zones: Any, *, x, y, date, hour, category, crs, offsets, bbox, kind: str = "crime") -> Any:
    from geoprio.records.load import load_points

    if offsets not in ("convert", "drop"):
        raise InputError(f"--offsets must be 'convert' or 'drop', got {offsets!r}")
    rec = load_points(
        path,
        kind=kind,  # type: ignore[arg-type]
        x=x,
        y=y,
        date=date,
        hour=hour,
        category=category,
        crs=crs,
        bbox=_parse_bbox(bbox, zones),
        offsets=offsets,  # type: ignore[arg-type]
    )
    err.print(rec.report.summary())
    return rec


def _bandwidth(text: str | None) -> float | str | None:
    if text is None or text == "silverman":
        return text
    try:
        return float(text)
    except ValueError:
        raise InputError(f"--bandwidth-m: expected metres (e.g. 300) or 'silverman', got {text!r}") from None


def _options(**kw: Any) -> Any:
    from geoprio.hotspots.run import HotspotOptions
    from geoprio.settings import DEFAULT_METRIC_CRS

    kw["metric_crs"] = kw.get("metric_crs") or DEFAULT_METRIC_CRS
    return HotspotOptions(**kw).validate()


def _print_written(paths: list[Path], manifest: Path | None, lang: str) -> None:
    out.print(f"{_T[lang]['written']}:")
    for p in [*paths, *([manifest] if manifest else [])]:
        out.print(f"  {p}")


def _fmt(v: Any, spec: str = ",.0f") -> str:
    try:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "–"
        return format(v, spec)
    except (TypeError, ValueError):
        return str(v)


def _select_period(records: Any, date_from: str | None, date_to: str | None) -> Any:
    if date_from is None and date_to is None:
        return records
    from dataclasses import replace

    d = pd.to_datetime(records.data["date"])
    keep = d.notna()
    try:
        if date_from is not None:
            keep &= d >= pd.Timestamp(date_from)
        if date_to is not None:
            keep &= d < pd.Timestamp(date_to) + pd.Timedelta(days=1)
    except ValueError:
        raise InputError(f"--date-from/--date-to: expected dates like 2019-01-31, got {date_from!r}, {date_to!r}") from None
    if not keep.any():
        raise InputError(f"the period {date_from or '…'} – {date_to or '…'} is empty: no record falls in it")
    return replace(records, data=records.data.loc[keep.to_numpy()].reset_index(drop=True))


# --------------------------------------------------------------------------- hotspots


@friendly
def hotspots_cmd(
    points: PointsArg,
    zones: ZonesOpt = None,
    zones_id: ZonesIdOpt = None,
    zones_name: ZonesNameOpt = None,
    zones_where: ZonesWhereOpt = None,
    x: XOpt = None,
    y: YOpt = None,
    date: DateOpt = None,
    hour: HourOpt = None,
    category: CategoryOpt = None,
    crs: CrsOpt = None,
    offsets: OffsetsOpt = "convert",
    bbox: BboxOpt = None,
    date_from: Annotated[str | None, typer.Option("--date-from", help="Use records from this date (inclusive).")] = None,
    date_to: Annotated[str | None, typer.Option("--date-to", help="Use records up to this date (inclusive).")] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context", help="Other point records to count inside clusters: NAME=FILE (e.g. convivencia=convivencia.csv), repeatable."
        ),
    ] = None,
    metric_crs: MetricOpt = None,
    cell_size_m: CellOpt = 150.0,
    shape: ShapeOpt = "square",
    weights: WeightsOpt = "distance",
    distance_m: DistanceOpt = None,
    k: KOpt = 8,
    permutations: Annotated[int, typer.Option("--permutations", help="Gi* permutations (0: analytic inference).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the permutations.")] = 20241,
    no_fdr: Annotated[bool, typer.Option("--no-fdr", help="Class cells on raw p-values (no Benjamini–Hochberg correction).")] = False,
    bandwidth_m: BandwidthOpt = None,
    kernel: KernelOpt = "quartic",
    clusters: Annotated[str, typer.Option("--clusters", help="hdbscan, dbscan or none.")] = "hdbscan",
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    min_cluster_size: MinClusterOpt = None,
    min_membership: MembershipOpt = 0.1,
    selection: SelectionOpt = "leaf",
    engine: EngineOpt = "auto",
    hull_buffer_m: Annotated[float, typer.Option("--hull-buffer-m", help="Buffer around each cluster's concave hull, metres.")] = 25.0,
    time_bin: Annotated[str, typer.Option("--time-bin", help="Emerging hot spots per year, quarter, month, week, or none.")] = "year",
    complexity: Annotated[Path | None, typer.Option("--complexity", help="TOML ranking of clusters ([index] and [[indicators]]).")] = None,
    out_dir: OutOpt = Path("hotspots"),
    formats: FormatOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Clusters to print.")] = 10,
    lang: LangOpt = "es",
) -> None:
    """Hot spots: Gi* and kernel density per grid cell, emerging patterns, and ranked density clusters."""
    from geoprio.hotspots.clusters import DEFAULT_COMPLEXITY, load_complexity_config
    from geoprio.hotspots.run import find_hotspots, write_hotspots

    lang = lang_option(lang)
    t = _T[lang]
    opts = _options(
        cell_size_m=cell_size_m,
        shape=shape,
        weights=weights,
        distance_m=distance_m,
        k=k,
        permutations=permutations,
        random_state=seed,
        fdr=not no_fdr,
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
        time_bin=None if time_bin == "none" else time_bin,
        metric_crs=metric_crs,
        lang=lang,
    )
    cfg = load_complexity_config(complexity) if complexity is not None else DEFAULT_COMPLEXITY
    z = _load_zones(zones, zones_id, zones_name, zones_where, opts.metric_crs)
    common = {"x": x, "y": y, "date": date, "hour": hour, "category": category, "crs": crs, "offsets": offsets, "bbox": bbox}
    rec = _select_period(_load_points(points, z, **common), date_from, date_to)
    ctx, inputs = {}, [points, *([zones] if zones else []), *([complexity] if complexity else [])]
    for item in context or []:
        if "=" not in item:
            raise InputError(f"--context: expected NAME=FILE, got {item!r}")
        name, path = item.split("=", 1)
        ctx[name.strip()] = _load_points(
            Path(path), z, x=None, y=None, date=None, hour=None, category=None, crs=None, offsets=offsets, bbox=bbox, kind="coexistence"
        )
        inputs.append(Path(path))
    with err.status("…"):
        run = find_hotspots(rec, zones=z, context=ctx, options=opts, complexity=cfg)
        paths = write_hotspots(run, out_dir, formats=formats or ["csv", "geojson", "gpkg"], inputs=inputs, command=_command())

    cells = run.cells
    inference = (
        ("permutaciones" if lang == "es" else "permutations") if opts.permutations else ("analítico" if lang == "es" else "analytic")
    )
    if opts.fdr:
        inference += ", FDR"
    tb = Table(title=t["gi_title"].format(n=len(cells), size=opts.cell_size_m, inference=inference))
    tb.add_column(t["class"])
    tb.add_column(t["cells"], justify="right")
    tb.add_column(t["incidents"], justify="right")
    g = cells.groupby(["gi_bin", "gi_class"])["incidents"].agg(["size", "sum"]).reset_index().sort_values("gi_bin", ascending=False)
    for _, r in g.iterrows():
        tb.add_row(str(r["gi_class"]), f"{r['size']:,}", _fmt(r["sum"]))
    out.print(tb)
    if "trend_class" in cells:
        bins = run.notes.get("time_bins", [])
        tt = Table(title=t["trend_title"].format(bins=f"{bins[0]}–{bins[-1]}" if bins else ""))
        tt.add_column(t["pattern"])
        tt.add_column(t["cells"], justify="right")
        counts = cells.groupby(["trend_code", "trend_class"]).size().reset_index(name="n")
        # hot patterns first (1…8), then cold (−1…−8), "none" last
        order = np.where(
            counts["trend_code"] > 0, counts["trend_code"], np.where(counts["trend_code"] < 0, 100 - counts["trend_code"], 1000)
        )
        for _, r in counts.assign(o=order).sort_values("o").iterrows():
            tt.add_row(str(r["trend_class"]), f"{r['n']:,}")
        out.print(tt)
    elif "emerging" in run.notes:
        out.print(f"{t['note']}: {run.notes['emerging']}")
    cl = run.clusters
    if opts.clusters != "none":
        if cl is None or cl.empty:
            out.print(t["no_clusters"])
        else:
            tc = Table(
                title=t["clusters_title"].format(n=min(top, len(cl)), total=len(cl), method=run.params["clusters"]["method"].upper())
            )
            for col, right in (
                ("rank", True),
                ("cluster", False),
                ("incidents", True),
                ("area", True),
                ("density", True),
                ("zones", False),
            ):
                tc.add_column(t[col], justify="right" if right else "left")
            has_cat = "top_categories" in cl
            if has_cat:
                tc.add_column(t["categories"])
            has_h = "peak_hours" in cl
            if has_h:
                tc.add_column(t["hours"])
            if "peak_days" in cl:
                tc.add_column(t["days"])
            tc.add_column(t["complexity"], justify="right")
            tc.add_column(t["tier"])
            for _, r in cl.head(top).iterrows():
                cells_row = [
                    str(int(r["complexity_rank"])),
                    str(r["cluster_id"]),
                    _fmt(r["incidents"]),
                    _fmt(r["area_km2"], ".2f"),
                    _fmt(r["density_km2"], ",.0f"),
                    str(r.get("zones", "")),
                ]
                if has_cat:
                    cells_row.append(str(r["top_categories"]))
                if has_h:
                    cells_row.append(str(r["peak_hours"]))
                if "peak_days" in cl:
                    cells_row.append(str(r["peak_days"]))
                cells_row += [_fmt(r["complexity"], ".1f"), str(r["complexity_tier"])]
                tc.add_row(*cells_row)
            out.print(tc)
    if "permutation_resolution" in run.notes:
        out.print(f"{t['note']}: {run.notes['permutation_resolution']}")
    _print_written(paths, run.manifest, lang)


# --------------------------------------------------------------------------- backtest


def _parse_list(text: str | None, name: str) -> list[str] | None:
    if text is None:
        return None
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InputError(f"{name}: empty list")
    return items


@friendly
def backtest_cmd(
    points: PointsArg,
    split: Annotated[str, typer.Option("--split", help="First day of the test period (YYYY-MM-DD); training is everything before.")],
    start: Annotated[str | None, typer.Option("--start", help="First day of training (default: the data's first).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day of the test period (default: the data's last).")] = None,
    methods: Annotated[
        str | None, typer.Option("--methods", help="Comma list among prior, recent, kde, gistar, hdbscan, dbscan (default: all).")
    ] = None,
    shares: Annotated[str | None, typer.Option("--shares", help="Flagged-area shares, e.g. 0.01,0.02,0.05,0.1 (default).")] = None,
    zones: ZonesOpt = None,
    zones_id: ZonesIdOpt = None,
    zones_name: ZonesNameOpt = None,
    zones_where: ZonesWhereOpt = None,
    x: XOpt = None,
    y: YOpt = None,
    date: DateOpt = None,
    hour: HourOpt = None,
    category: CategoryOpt = None,
    crs: CrsOpt = None,
    offsets: OffsetsOpt = "convert",
    bbox: BboxOpt = None,
    metric_crs: MetricOpt = None,
    cell_size_m: CellOpt = 150.0,
    shape: ShapeOpt = "square",
    weights: WeightsOpt = "distance",
    distance_m: DistanceOpt = None,
    k: KOpt = 8,
    bandwidth_m: BandwidthOpt = None,
    kernel: KernelOpt = "quartic",
    eps_m: EpsOpt = None,
    min_samples: MinSamplesOpt = None,
    min_cluster_size: MinClusterOpt = None,
    min_membership: MembershipOpt = 0.1,
    selection: SelectionOpt = "leaf",
    engine: EngineOpt = "auto",
    out_dir: OutOpt = Path("backtest"),
    formats: FormatOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Does the map predict? Fit every method before --split, score it after: hit rate, PAI, PEI, RRI."""
    from geoprio.hotspots.backtest import DEFAULT_AREA_SHARES
    from geoprio.hotspots.run import BACKTEST_METHODS, run_backtest, write_backtest

    lang = lang_option(lang)
    t = _T[lang]
    opts = _options(
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
    meth = _parse_list(methods, "--methods") or list(BACKTEST_METHODS)
    sh_text = _parse_list(shares, "--shares")
    try:
        sh = [float(s) for s in sh_text] if sh_text else list(DEFAULT_AREA_SHARES)
    except ValueError:
        raise InputError(f"--shares: expected numbers such as 0.01,0.05, got {shares!r}") from None
    z = _load_zones(zones, zones_id, zones_name, zones_where, opts.metric_crs)
    rec = _load_points(points, z, x=x, y=y, date=date, hour=hour, category=category, crs=crs, offsets=offsets, bbox=bbox)
    with err.status("…"):
        run = run_backtest(rec, split=split, start=start, end=end, zones=z, options=opts, methods=meth, shares=sh)
        n = run.notes
        title = t["bt_title"].format(
            train=f"{n['train']['from']} – {n['train']['to']}",
            ntrain=n["train"]["incidents"],
            test=f"{n['test']['from']} – {n['test']['to']}",
            ntest=n["test"]["incidents"],
            cells=n["cells"],
            size=opts.cell_size_m,
        )
        paths = write_backtest(run, out_dir, formats=formats or ["gpkg"], inputs=[points, *([zones] if zones else [])], command=_command())
    tb = Table(title=title)
    for col, right in (("method", False), ("share", True), ("hit", True), ("PAI", True), ("PEI", True), ("RRI", True), ("vsbase", True)):
        tb.add_column(t.get(col, col), justify="right" if right else "left")
    table = run.table
    for _, r in table.iterrows():
        tb.add_row(
            t["methods"].get(r["method"], r["method"]),
            f"{100 * r['area_share']:g} %",
            f"{100 * r['hit_rate']:.1f} %",
            _fmt(r["pai"], ".2f"),
            _fmt(r["pei"], ".2f"),
            _fmt(r.get("rri"), ".2f"),
            _fmt(r.get("pai_vs_baseline"), ".2f"),
        )
    out.print(tb)
    if "prior" in set(table["method"]):
        for s in sh:
            rows = table[np.isclose(table["area_share"], s)]
            best = rows.loc[rows["pai"].idxmax()]
            base = float(rows.loc[rows["method"] == "prior", "pai"].iloc[0])
            out.print(
                t["best"].format(
                    share=f"{100 * s:g} %", method=t["methods"].get(best["method"], best["method"]), pai=best["pai"], base=base
                )
            )
    _print_written(paths, run.manifest, lang)


# --------------------------------------------------------------------------- displacement


@friendly
def displacement_cmd(
    points: PointsArg,
    targets: Annotated[Path, typer.Option("--targets", help="Intervention polygons (any vector layer).")],
    start: Annotated[str, typer.Option("--start", help="Start date of the intervention (YYYY-MM-DD).")],
    buffer_m: Annotated[float, typer.Option("--buffer-m", help="Width of the ring around the targets, metres.")] = 250.0,
    control: Annotated[Path | None, typer.Option("--control", help="Control polygons (default: the study area beyond 2 × buffer).")] = None,
    days: Annotated[int | None, typer.Option("--days", help="Length of each period in days (default: the longest equal periods).")] = None,
    zones: ZonesOpt = None,
    zones_id: ZonesIdOpt = None,
    zones_name: ZonesNameOpt = None,
    zones_where: ZonesWhereOpt = None,
    x: XOpt = None,
    y: YOpt = None,
    date: DateOpt = None,
    category: CategoryOpt = None,
    crs: CrsOpt = None,
    offsets: OffsetsOpt = "convert",
    bbox: BboxOpt = None,
    metric_crs: MetricOpt = None,
    out_dir: OutOpt = Path("desplazamiento"),
    formats: FormatOpt = None,
    lang: LangOpt = "es",
) -> None:
    """Displacement around an intervention: incidents in it, in a ring and in a control area, before and after; the WDQ."""
    from geoprio.hotspots.run import run_displacement, write_displacement
    from geoprio.io import files as io
    from geoprio.settings import DEFAULT_METRIC_CRS

    lang = lang_option(lang)
    t = _T[lang]
    mcrs = metric_crs or DEFAULT_METRIC_CRS
    z = _load_zones(zones, zones_id, zones_name, zones_where, mcrs)
    rec = _load_points(points, z, x=x, y=y, date=date, hour=None, category=category, crs=crs, offsets=offsets, bbox=bbox)
    tg = io.read_layer(targets)
    ctl = io.read_layer(control) if control is not None else None
    run = run_displacement(rec, tg, start=start, buffer_m=buffer_m, control=ctl, zones=z, days=days, metric_crs=mcrs, lang=lang)
    inputs = [points, targets, *([control] if control else []), *([zones] if zones else [])]
    paths = write_displacement(run, out_dir, formats=formats or ["geojson"], inputs=inputs, command=_command())
    res = run.result
    tb = Table(title=t["d_title"].format(b0=res.before[0], b1=res.before[1], a0=res.after[0], a1=res.after[1]))
    for col, right in (("d_area", False), ("area", True), ("before", True), ("after", True), ("change", True)):
        tb.add_column(t[col], justify="right" if right else "left")
    for _, r in res.table.iterrows():
        pct = "" if pd.isna(r["change_pct"]) else f" ({r['change_pct']:+.0f} %)"
        tb.add_row(
            t["areas"][r["area"]].format(m=buffer_m),
            f"{r['area_km2']:.2f}",
            _fmt(r["before"]),
            _fmt(r["after"]),
            f"{r['change']:+,.0f}{pct}",
        )
    out.print(tb)
    m = res.measures
    q = "–" if np.isnan(m["wdq"]) else f"{m['wdq']:.2f}"
    out.print(t["wdq"].format(wdq=q, s=m["success"], b=m["buffer_displacement"], t=m["total_net_effect"]))
    out.print(f"{t['reading']}: {res.reading}")
    _print_written(paths, run.manifest, lang)


def register(app: typer.Typer) -> None:
    """Add ``hotspots``, ``backtest`` and ``displacement`` to the ``geoprio`` app."""
    app.command("hotspots")(hotspots_cmd)
    app.command("backtest")(backtest_cmd)
    app.command("displacement")(displacement_cmd)
