"""The count job: a point dataset counted per zone, grid cell and period, on any engine.

:func:`run_count` takes one :class:`CountOptions` (the dataset, the zone layer, the grid, what
to count by, and the engine of :mod:`geoprio.io.cluster`) and returns a :class:`CountRun`; it
writes nothing. ``run.write(out_dir, formats)`` writes, with the run protocol's manifest:

* ``conteos_zonas.<fmt>``: the zone layer with its total count (every zone, zeros included);
* ``conteos_zonas_grupos.csv``: counts per zone × period × category (non-empty groups);
* with a grid, ``conteos_celdas.<fmt>`` (every cell and its total) and
  ``conteos_celdas_grupos.csv`` (per cell × period, when counting by period);
* ``conteos_notas.json``: points read, placed and outside, partitions, engine.

The counts do not depend on the engine (:func:`geoprio.zones.distributed.count_points`), so a
replay (:func:`replay_count`) may run on another one and still write identical files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
from pydantic import Field, field_validator

from geoprio.io import files as io
from geoprio.io.cluster import Engine, EngineOptions
from geoprio.io.export import Export
from geoprio.io.results import Replay, Written, replay, write_result
from geoprio.options import Options
from geoprio.settings import DEFAULT_FORMATS, DEFAULT_METRIC_CRS
from geoprio.zones.distributed import CountBy, Period, PointColumns, PointCounts, count_points, dataset_parts
from geoprio.zones.layers import load_zones

__all__ = ["CountOptions", "CountRun", "replay_count", "run_count"]

MANIFEST_KIND = "geoprio.count"
OUTPUT_NAME = "conteos"


class CountOptions(Options):
    """Everything a count run needs: inputs, what to count by, and where it runs."""

    dataset: Path
    zones: Path
    zones_id: str
    zones_name: str | None = None
    zones_layer: str | int | None = None
    grid_m: float | None = Field(default=None, gt=0)
    grid_shape: Literal["square", "hex"] = "square"
    by: tuple[CountBy, ...] = ("period", "category")
    period: Period = "month"
    geometry_column: str | None = None
    date_column: str = "date"
    category_column: str = "category"
    weight_column: str | None = None
    metric_crs: str = DEFAULT_METRIC_CRS
    engine: EngineOptions = EngineOptions()

    @field_validator("by")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v))

    def resolved(self, base: Path) -> CountOptions:
        """A copy with relative paths made absolute against ``base``."""

        def fix(p: Path) -> Path:
            return p if p.is_absolute() else (base / p).resolve()

        return self.model_copy(update={"dataset": fix(self.dataset), "zones": fix(self.zones)})

    def input_paths(self) -> list[Path]:
        """The files read: every partition of the dataset and the zone layer."""
        return [*dataset_parts(self.dataset), self.zones]


@dataclass(frozen=True)
class CountRun:
    """A count run's result; :meth:`write` writes it (nothing is written before)."""

    options: CountOptions
    counts: PointCounts
    kind: str = field(default=MANIFEST_KIND, init=False)

    def zone_layer(self) -> gpd.GeoDataFrame:
        """The zones (id, name, parent, area) with their total ``count``."""
        frame = self.counts.zone_layer.frame
        layer = frame[["zone_id", "name", "parent_id", "area_km2", "geometry"]].copy()
        layer["count"] = self.counts.zone_totals().to_numpy()
        return layer

    def cell_layer(self) -> gpd.GeoDataFrame | None:
        """The grid cells (``cell_id``, ``zone_id`` = the zone overlapped most) with their total ``count``."""
        totals = self.counts.cell_totals()
        if totals is None or self.counts.grid is None:
            return None
        frame = self.counts.grid.frame
        layer = gpd.GeoDataFrame(
            {"cell_id": frame["zone_id"].to_numpy(), "zone_id": frame["parent_id"].to_numpy(), "area_km2": frame["area_km2"].to_numpy()},
            geometry=frame.geometry.to_numpy(),
            crs=frame.crs,
        )
        layer["count"] = totals.to_numpy()
        return layer

    def write(
        self,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write the layers, the grouped tables, the notes and ``manifest.json`` into ``out_dir``."""
        out = Path(out_dir)
        fmts = list(formats) if formats is not None else list(DEFAULT_FORMATS)
        grouped = bool(self.options.by)
        cells_grouped = "period" in self.options.by and self.counts.cells is not None
        paths = io.write_outputs(
            out,
            fmts,
            layers={f"{OUTPUT_NAME}_zonas": self.zone_layer(), f"{OUTPUT_NAME}_celdas": self.cell_layer()},
            tables={
                f"{OUTPUT_NAME}_zonas_grupos": self.counts.zones if grouped else None,
                f"{OUTPUT_NAME}_celdas_grupos": self.counts.cells if cells_grouped else None,
            },
            workbook=OUTPUT_NAME,
            export=export,
        )
        notes = {k: v for k, v in self.counts.notes.items() if k != "engine"}
        paths.append(io.write_json(notes, out / f"{OUTPUT_NAME}_notas.json"))
        return write_result(
            kind=MANIFEST_KIND,
            out_dir=out,
            files=paths,
            options=self.options,
            inputs=self.options.input_paths(),
            formats=fmts,
            command=command,
            export=export,
            engine=self.counts.notes.get("engine"),
        )


def run_count(options: CountOptions, *, engine: Engine | None = None) -> CountRun:
    """Load the zones and count the dataset on ``options.engine`` (or an ``engine`` already open)."""
    zones = load_zones(
        options.zones, id=options.zones_id, name=options.zones_name, layer=options.zones_layer, metric_crs=options.metric_crs
    )
    columns = PointColumns(
        geometry=options.geometry_column, date=options.date_column, category=options.category_column, weight=options.weight_column
    )
    counts = count_points(
        options.dataset,
        zones,
        grid_m=options.grid_m,
        grid_shape=options.grid_shape,
        by=options.by,
        period=options.period,
        columns=columns,
        metric_crs=options.metric_crs,
        engine=engine if engine is not None else options.engine,
    )
    return CountRun(options, counts)


def replay_count(path: str | Path, *, out_dir: str | Path | None = None, command: str | None = None, engine: Any = None) -> Replay:
    """Re-run the count a manifest describes (on ``engine``, an open :class:`~geoprio.io.cluster.Engine`,
    or the recorded one) and compare the outputs with the recorded ones.
    """
    return replay(
        path, kind=MANIFEST_KIND, options_type=CountOptions, run=lambda o: run_count(o, engine=engine), out_dir=out_dir, command=command
    )
