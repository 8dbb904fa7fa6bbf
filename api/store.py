"""The outputs the API serves, loaded once at start-up from the data directory.

Nothing is computed here that ``geoprio`` already wrote: the ranked tables come from
``indice_<level>.geojson`` (one per zone level), hot spots and plans from the files their
commands wrote, maps from ``maps_dir`` (to a caller under a disclosure policy, only the maps
whose manifest records a public release at least as strict: :func:`geoprio.maps.published_to`).
Incident-level records are loaded only when an authorized client asks for them, from the
inputs named in the index's manifest.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import InputError
from geoprio.io import files as io
from geoprio.maps.release import published_to

__all__ = ["LAYERS", "Store"]

#: Other outputs the API serves, by the file name their command writes.
LAYERS = {
    "clusters": "hotspots_clusters.geojson",
    "cells": "hotspots_celdas.geojson",
    "entornos": "entornos.geojson",
    "forecast": "pronostico_superficie.geojson",  # geoprio forecast --surface (its manifest and backtest tables beside it)
}


def _round(geometry: Any, digits: int = 6) -> Any:
    if isinstance(geometry, dict):
        return {k: _round(v, digits) for k, v in geometry.items()}
    if isinstance(geometry, (list, tuple)):
        return [_round(v, digits) for v in geometry]
    if isinstance(geometry, float):
        return round(geometry, digits)
    return geometry


@dataclass
class Store:
    """What one data directory holds."""

    data_dir: Path
    maps_dir: Path
    zones: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    layer_paths: dict[str, Path] = field(default_factory=dict)
    _records: dict[str, pd.DataFrame] = field(default_factory=dict)
    _cache: dict[Any, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _building: dict[Any, threading.RLock] = field(default_factory=dict)
    _building_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, data_dir: Path, maps_dir: Path) -> Store:
        """Read every index table (``indice_*.geojson``, one per level) found under ``data_dir``
        and the newest of each other known layer (:data:`LAYERS`).
        """
        store = cls(Path(data_dir), Path(maps_dir))
        if not store.data_dir.is_dir():
            raise InputError(f"{store.data_dir}: data directory not found; run `geoprio demo` or `geoprio index` first")
        for path in sorted(store.data_dir.glob("**/indice_*.geojson")):
            gdf = io.read_layer(path)
            level = str(gdf["level"].iloc[0]) if "level" in gdf.columns and len(gdf) else path.stem.removeprefix("indice_")
            gdf["zone_id"] = gdf["zone_id"].astype(str)
            store.zones[level] = gdf
            manifest = path.parent / "manifest.json"
            if manifest.exists():
                store.manifests[level] = json.loads(manifest.read_text(encoding="utf-8"))
        for name, pattern in LAYERS.items():
            found = sorted(store.data_dir.glob(f"**/{pattern}"), key=lambda p: p.stat().st_mtime)
            if found:  # the newest run of that kind
                store.layers[name] = io.read_layer(found[-1], dates_as_text=name == "entornos")
                store.layer_paths[name] = found[-1]
        return store

    @property
    def levels(self) -> list[str]:
        return sorted(self.zones)

    def table(self, level: str | None) -> tuple[str, gpd.GeoDataFrame]:
        """The zone table of ``level`` (the only one when there is a single level)."""
        if not self.zones:
            raise LookupError("no index output in the data directory")
        if level is None:
            level = self.levels[0]
        if level not in self.zones:
            raise KeyError(level)
        return level, self.zones[level]

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value derived from the loaded outputs, built once (outputs never change while served).

        Single flight: when many requests ask for a value not built yet (the first seconds
        under load), one builds it and the others wait for it, instead of each building its own.
        """
        try:
            return self._cache[key]
        except KeyError:
            pass
        with self._building_lock:
            lock = self._building.setdefault(key, threading.RLock())
        with lock:
            if key not in self._cache:
                self._cache[key] = build()
        return self._cache[key]

    def simplified(self, level: str, tolerance_m: float = 5.0) -> dict[str, Any]:
        """Zone id → GeoJSON geometry simplified to ``tolerance_m`` metres, 6 decimals."""
        _, t = self.table(level)
        metric = t.geometry.to_crs("EPSG:9377").simplify(tolerance_m, preserve_topology=True).to_crs("EPSG:4326")
        geoms = json.loads(gpd.GeoSeries(metric.values, crs="EPSG:4326").to_json(to_wgs84=False, drop_id=True))["features"]
        return {str(z): _round(f["geometry"]) for z, f in zip(t["zone_id"], geoms, strict=True)}

    def plans(self) -> dict[str, dict[str, Any]]:
        """Plans written by ``geoprio plan`` under the data directory: id → kind, summary, sites."""

        def build() -> dict[str, dict[str, Any]]:
            found = {}
            for prefix, kind in (("camaras", "cameras"), ("garitas", "garitas")):
                for summary in sorted(self.data_dir.glob(f"**/{prefix}_resumen.json")):
                    sites = summary.with_name(f"{prefix}_sitios.geojson")
                    pid = "file-" + "-".join(summary.parent.relative_to(self.data_dir).parts + (prefix,))
                    found[pid] = {
                        "kind": kind,
                        "summary": json.loads(summary.read_text(encoding="utf-8")),
                        "sites": json.loads(sites.read_text(encoding="utf-8")) if sites.exists() else {},
                    }
            return found

        return self.cached("plans", build)

    def beside(self, layer: str, file_name: str) -> pd.DataFrame | dict[str, Any] | None:
        """A table (CSV) or document (JSON) written beside a loaded layer, or None if absent."""

        def build() -> pd.DataFrame | dict[str, Any] | None:
            path = self.layer_paths[layer].with_name(file_name)
            if not path.is_file():
                return None
            if path.suffix == ".json":
                return json.loads(path.read_text(encoding="utf-8"))
            return io.read_output_table(path, text_columns=("place_id", "place"))

        return self.cached(("beside", layer, file_name), build)

    def maps(self, policy: DisclosurePolicy | None = None) -> list[Path]:
        """The maps in ``maps_dir`` a caller under ``policy`` may see (None: every map; a policy:
        the public maps made with a ``min_count`` at least the policy's).
        """
        found = sorted(self.maps_dir.glob("*.html")) if self.maps_dir.is_dir() else []
        return [p for p in found if published_to(p, policy)]

    def records(self, level: str) -> pd.DataFrame:
        """Incident-level records behind the index of ``level`` (loaded on first use)."""
        from geoprio.index.run import build_zones, config_from_manifest, load_source, tie_source
        from geoprio.records import Records

        with self._lock:
            if level in self._records:
                return self._records[level]
            manifest = self.manifests.get(level)
            if manifest is None:
                raise LookupError(f"no manifest for level {level!r}: records cannot be traced")
            cfg = config_from_manifest(manifest)
            zones = build_zones(cfg)
            frames = []
            for name, src in cfg.sources.items():
                if src.layout == "table":
                    continue
                loaded = tie_source(load_source(name, src), src, zones, None)
                if not isinstance(loaded, Records):  # a per-zone table: no records to serve
                    continue
                data = loaded.data.assign(source=name, kind=src.kind)
                frames.append(data)
            if not frames:
                raise LookupError(f"the index of level {level!r} was built from aggregated tables only: no records")
            out = pd.concat(frames, ignore_index=True)
            self._records[level] = out
            return out
