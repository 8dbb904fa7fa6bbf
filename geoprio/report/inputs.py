"""Reading the run folders a bulletin is built from: the index run, the previous period's, hot
spots and entornos.

Each folder is what a geoprio command wrote with ``--out``: its ``manifest.json`` (the kind is
checked) and the outputs it lists, looked for in the folder itself (so a folder that was moved
or copied still reads). Geographic formats are preferred (GeoJSON, GeoPackage, GeoParquet; the
map and the zones' hot spots and places need geometry), else the CSV.
:func:`check_public_release` refuses a folder that is not a public release for a public bulletin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoprio.disclosure import DisclosurePolicy, disclosure_of
from geoprio.errors import InputError
from geoprio.io import files as io
from geoprio.io import manifest as manifests
from geoprio.io.results import MANIFEST_NAME

__all__ = [
    "ENTORNOS_KIND",
    "HOTSPOTS_KIND",
    "INDEX_KIND",
    "RunFolder",
    "check_public_release",
    "read_entornos",
    "read_hotspots",
    "read_index_folder",
]

#: The manifest kinds of the runs a bulletin reads.
INDEX_KIND = "geoprio.index"
HOTSPOTS_KIND = "geoprio.hotspots"
ENTORNOS_KIND = "geoprio.entornos"

#: The output formats read, best first (geometry before plain CSV).
_PREFERRED = (".geojson", ".gpkg", ".parquet", ".csv")
#: Columns of identifiers, kept as text.
_TEXT_COLUMNS = ("zone_id", "parent_id", "cluster_id", "place_id")
#: The command that writes each kind, for messages.
_COMMANDS = {INDEX_KIND: "geoprio index", HOTSPOTS_KIND: "geoprio hotspots", ENTORNOS_KIND: "geoprio entornos"}


@dataclass(frozen=True)
class RunFolder:
    """One run's folder: its manifest, its main table (a GeoDataFrame when it has geometry) and notes."""

    folder: Path
    manifest: dict[str, Any]
    table: pd.DataFrame
    table_path: Path
    notes: dict[str, Any]

    @property
    def manifest_path(self) -> Path:
        """The folder's ``manifest.json``."""
        return self.folder / MANIFEST_NAME

    @property
    def disclosure(self) -> DisclosurePolicy | None:
        """The policy the run was released under (None: a full, internal release)."""
        return disclosure_of(self.manifest)

    @property
    def has_geometry(self) -> bool:
        """Whether the table has geometry (it was read from a geographic format)."""
        return isinstance(self.table, gpd.GeoDataFrame)


def _manifest(folder: Path, kind: str, role: str) -> dict[str, Any]:
    if not folder.is_dir():
        raise InputError(f"{role} {folder}: not a folder (give the folder a `{_COMMANDS[kind]} --out` wrote)")
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise InputError(f"{role} {folder}: no {MANIFEST_NAME} in it (give the folder a `{_COMMANDS[kind]} --out` wrote)")
    return manifests.read(path, kind=kind)


def _outputs(doc: dict[str, Any], folder: Path) -> list[Path]:
    """The manifest's outputs, found in ``folder`` by name."""
    out = []
    for entry in doc.get("outputs") or []:
        name = Path(str(entry.get("path") if isinstance(entry, dict) else entry)).name
        if (folder / name).is_file():
            out.append(folder / name)
    return out


def _pick(paths: list[Path], stem: str | None, role: str, folder: Path, what: str) -> Path:
    candidates = [p for p in paths if stem is None or p.stem == stem]
    for suffix in _PREFERRED:
        for p in candidates:
            if p.suffix.lower() == suffix:
                return p
    raise InputError(f"{role} {folder}: none of the outputs its manifest lists is {what} (.geojson, .gpkg, .parquet or .csv)")


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".csv":  # either CSV dialect (standard or Excel's)
        return io.read_output_table(path, text_columns=tuple(_TEXT_COLUMNS))
    frame = io.read_layer(path, dates_as_text=True)
    for c in _TEXT_COLUMNS:
        if c in frame:
            frame[c] = frame[c].map(lambda v: v if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    return frame


def _notes(paths: list[Path]) -> dict[str, Any]:
    for p in paths:
        if p.name.endswith("_notas.json"):
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"{p}: cannot read the run's notes: {exc}") from None
            return doc if isinstance(doc, dict) else {}
    return {}


def read_index_folder(folder: str | Path, *, role: str = "index") -> RunFolder:
    """The ranked table, notes and manifest of a ``geoprio index`` output folder."""
    f = Path(folder)
    doc = _manifest(f, INDEX_KIND, role)
    paths = _outputs(doc, f)
    tables = [p for p in paths if not p.name.endswith((".json",))]
    stems = sorted({p.stem for p in tables})
    if not stems:
        raise InputError(f"{role} {f}: its manifest lists no ranked table that is still in the folder")
    table_path = _pick(tables, stems[0], role, f, "a ranked table")
    table = _read(table_path)
    for col in ("zone_id", "index", "rank"):
        if col not in table:
            raise InputError(f"{role} {table_path}: not an index table (no '{col}' column)")
    return RunFolder(f, doc, table, table_path, _notes(paths))


def read_hotspots(folder: str | Path) -> RunFolder:
    """The clusters (``hotspots_clusters``) of a ``geoprio hotspots`` output folder."""
    f = Path(folder)
    doc = _manifest(f, HOTSPOTS_KIND, "hotspots")
    paths = _outputs(doc, f)
    path = _pick(paths, "hotspots_clusters", "hotspots", f, "the clusters (hotspots_clusters)")
    return RunFolder(f, doc, _read(path), path, _notes(paths))


def read_entornos(folder: str | Path) -> RunFolder:
    """The ranked places (``entornos``) of a ``geoprio entornos`` output folder."""
    f = Path(folder)
    doc = _manifest(f, ENTORNOS_KIND, "entornos")
    paths = _outputs(doc, f)
    path = _pick(paths, "entornos", "entornos", f, "the ranked places (entornos)")
    return RunFolder(f, doc, _read(path), path, _notes(paths))


def check_public_release(run: RunFolder, policy: DisclosurePolicy, role: str) -> None:
    """Raise :class:`~geoprio.errors.InputError` unless ``run`` is a public release with a
    ``min_count`` at least ``policy.min_count`` (hot spots and entornos: a public bulletin
    shows only what their own public release shows).
    """
    release = run.disclosure
    if release is not None and release.min_count >= policy.min_count:
        return
    why = "is a full (internal) release" if release is None else f"is public with min_count {release.min_count}, below {policy.min_count}"
    command = _COMMANDS.get(str(run.manifest.get("kind")), "the command that wrote it")
    raise InputError(
        f"{role} {run.folder}: a public bulletin shows only public releases, and this folder {why}; "
        f"write one first (`{command} ... --public --min-count {policy.min_count} --out <folder>`) and give that folder"
    )
