"""Where a map's data come from: source, period, synthetic data and the parent level, read from
the ``manifest.json`` of the runs that wrote the map's input layers.

Every geoprio run writes ``manifest.json`` beside its outputs; :func:`provenance_of` reads the
one beside each input layer of a map and gathers what a printed map must say:

* ``source`` — the files the run counted (an index run's ``sources``; otherwise its tabular
  inputs: ``medellin_homicides.csv``), since a manifest records files, not publishers (give the
  publisher with ``source=``: "Policía Nacional — SIEDCO");
* ``period`` — an index run's indicator dates (``2024-01-01 – 2024-12-31``) or the year in its
  table columns (``CMH19CONT`` → ``2019``); a hot-spot run's time bins (``2010 – 2019``);
* ``synthetic`` — the run was ``geoprio demo``'s, its notes say ``synthetic``, or its inputs
  are the demo's (``data/demo/``);
* ``parent_level`` — the enclosing zone level of an index run (``localidad``), which names the
  boundaries layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Provenance", "period_of_manifest", "provenance_of", "read_beside"]

_TABULAR = (".csv", ".csv.gz", ".parquet", ".xlsx", ".txt", ".tsv")
_YEAR_COLUMN = re.compile(r"(?<!\d)(\d{2})CONT$|(?<!\d)(20\d{2})(?!\d)")


@dataclass(frozen=True)
class Provenance:
    """What the runs behind a map's layers say about their data (None when they do not say)."""

    source: str | None = None
    period: str | None = None
    synthetic: bool = False
    parent_level: str | None = None


def read_beside(layer: Path) -> dict[str, Any] | None:
    """The ``manifest.json`` of the run that wrote ``layer`` (beside it), or None."""
    path = layer.with_name("manifest.json")
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _name(path: Any) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def _sources(doc: Mapping[str, Any]) -> list[str]:
    opts = doc.get("options") if isinstance(doc.get("options"), Mapping) else {}
    sources = opts.get("sources") if isinstance(opts, Mapping) else None
    if isinstance(sources, Mapping) and sources:
        return [_name(s["path"]) for s in sources.values() if isinstance(s, Mapping) and s.get("path")]
    inputs = [e.get("path") for e in doc.get("inputs") or [] if isinstance(e, Mapping) and e.get("path")]
    return [_name(p) for p in inputs if str(p).lower().endswith(_TABULAR)]


def period_of_manifest(doc: Mapping[str, Any]) -> str | None:
    """The period a run covers, as its manifest records it (None when it does not)."""
    opts = doc.get("options") if isinstance(doc.get("options"), Mapping) else {}
    inds = [i for i in (opts.get("indicators") or []) if isinstance(i, Mapping)] if isinstance(opts, Mapping) else []
    starts = sorted(str(i["date_from"]) for i in inds if i.get("date_from"))
    ends = sorted(str(i["date_to"]) for i in inds if i.get("date_to"))
    if inds and len(starts) == len(ends) == len(inds):
        return f"{starts[0]} – {ends[-1]}"
    years = set()
    for i in inds:
        m = _YEAR_COLUMN.search(str(i.get("column") or ""))
        if m:
            years.add(f"20{m.group(1)}" if m.group(1) else m.group(2))
    if years:
        ys = sorted(years)
        return ys[0] if len(ys) == 1 else f"{ys[0]} – {ys[-1]}"
    notes = doc.get("notes") if isinstance(doc.get("notes"), Mapping) else {}
    bins = notes.get("time_bins") if isinstance(notes, Mapping) else None
    if isinstance(bins, list) and bins:
        first, last = str(bins[0]), str(bins[-1])
        return first if first == last else f"{first} – {last}"
    if isinstance(opts, Mapping) and opts.get("date_from") and opts.get("date_to"):
        return f"{opts['date_from']} – {opts['date_to']}"
    return None


def _synthetic(doc: Mapping[str, Any]) -> bool:
    if str(doc.get("command") or "").startswith("geoprio demo"):
        return True
    notes = doc.get("notes")
    if isinstance(notes, Mapping) and notes.get("synthetic"):
        return True
    paths = [str(e.get("path", "")) for e in doc.get("inputs") or [] if isinstance(e, Mapping)]
    return any(re.search(r"(^|/)data/demo/", p.replace("\\", "/")) for p in paths)


def _parent_level(doc: Mapping[str, Any]) -> str | None:
    opts = doc.get("options") if isinstance(doc.get("options"), Mapping) else {}
    zones = opts.get("zones") if isinstance(opts, Mapping) else None
    parent = zones.get("parent") if isinstance(zones, Mapping) else None
    level = parent.get("level") if isinstance(parent, Mapping) else None
    return str(level) if level else None


def provenance_of(layers: Iterable[Path]) -> tuple[Provenance, list[Path]]:
    """The provenance of a map drawn from ``layers``, and the manifests it was read from."""
    sources: list[str] = []
    periods: list[str] = []
    synthetic, parent, used = False, None, []
    seen: set[Path] = set()
    for layer in layers:
        path = layer.with_name("manifest.json")
        if path in seen:
            continue
        seen.add(path)
        doc = read_beside(layer)
        if doc is None:
            continue
        used.append(path)
        sources += [s for s in _sources(doc) if s not in sources]
        period = period_of_manifest(doc)
        if period and period not in periods:
            periods.append(period)
        synthetic = synthetic or _synthetic(doc)
        parent = parent or _parent_level(doc)
    prov = Provenance(
        source=", ".join(sources) or None,
        period="; ".join(periods) or None,
        synthetic=synthetic,
        parent_level=parent,
    )
    return prov, used
