"""Displacement around an intervention: :func:`run_displacement` and its result, :class:`DisplacementRun`.

:func:`run_displacement` counts incidents in the intervention polygons, in a ring around them
and in a control area, before and after the intervention's start, and measures the weighted
displacement quotient (the numeric core is :mod:`geoprio.hotspots.displacement`). It writes
nothing: ``run.write(out_dir)`` writes ``desplazamiento.csv``, the areas layer and the
manifest (kind ``geoprio.displacement``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import shapely

from geoprio.errors import CRSError
from geoprio.hotspots.displacement import DEFAULT_BUFFER_M, DisplacementResult, displacement_areas, measure_displacement
from geoprio.hotspots.grid import area_from_points, to_metric, to_output_crs
from geoprio.hotspots.options import as_timestamp, check_positive
from geoprio.io import files as io
from geoprio.io.export import Export
from geoprio.io.results import Written, write_result
from geoprio.labels import label
from geoprio.options import Options
from geoprio.records.load import Records
from geoprio.records.report import ValidationReport
from geoprio.settings import DEFAULT_LANG, DEFAULT_METRIC_CRS, OUTPUT_CRS
from geoprio.zones.layers import Zones, check_metric_crs

__all__ = ["DISPLACEMENT_KIND", "DisplacementRun", "run_displacement"]

#: The manifest kind of a displacement analysis.
DISPLACEMENT_KIND = "geoprio.displacement"


@dataclass(frozen=True, eq=False)
class DisplacementRun:
    """A displacement analysis: the result and the three areas as a layer (EPSG:4326); ``write`` writes it.

    ``job`` is the file-level options object when the run was made from files
    (:class:`geoprio.hotspots.jobs.DisplacementJob`); ``inputs`` are the files it read and ``reports``
    the validation reports of the records loaded from them.
    """

    result: DisplacementResult
    areas: gpd.GeoDataFrame
    params: dict[str, Any]
    job: Options | None = None
    inputs: tuple[Path, ...] = ()
    reports: tuple[ValidationReport, ...] = ()

    kind: str = field(default=DISPLACEMENT_KIND, init=False)
    #: Layer formats of the areas written when none are asked for.
    default_formats: ClassVar[tuple[str, ...]] = ("geojson",)

    def write(
        self,
        out_dir: str | Path,
        formats: Sequence[str] | None = None,
        *,
        command: str | None = None,
        inputs: Sequence[str | Path] | None = None,
        export: Export | None = None,
    ) -> Written:
        """Write ``desplazamiento.csv`` (counts and measures), the areas layer and ``manifest.json``."""
        out = Path(out_dir)
        fmts = list(formats) if formats else list(self.default_formats)
        res = self.result
        table = res.table.copy()
        for k, v in res.measures.items():
            table[k] = v
        table["reading"] = res.reading
        export = export or Export()
        paths = [io.write_table(table, out / "desplazamiento.csv", export=export)]
        paths += io.write_outputs(
            out,
            fmts,
            layers={"desplazamiento_areas": self.areas},
            workbook="desplazamiento",
            sheets={"desplazamiento": table},
            export=export,
        )
        notes = {
            "measures": res.measures,
            "reading": res.reading,
            "before": [str(d) for d in res.before],
            "after": [str(d) for d in res.after],
        }
        used = self.inputs if inputs is None else tuple(Path(p) for p in inputs)
        return write_result(
            kind=self.kind,
            out_dir=out,
            files=paths,
            options=self.job,
            inputs=[p.resolve() for p in used],
            formats=fmts,
            command=command,
            export=export,
            parameters=self.params,
            notes=notes,
        )


def run_displacement(
    records: Records,
    targets: gpd.GeoDataFrame,
    *,
    start: dt.date | str,
    buffer_m: float = DEFAULT_BUFFER_M,
    control: gpd.GeoDataFrame | None = None,
    zones: Zones | None = None,
    days: int | None = None,
    metric_crs: str = DEFAULT_METRIC_CRS,
    lang: str = DEFAULT_LANG,
) -> DisplacementRun:
    """Incidents in the intervention polygons, a ``buffer_m`` ring and a control area, before and after ``start``; the WDQ.

    Without ``control`` the control area is the study area (the zones, or the concave hull
    of all points) beyond ``2 × buffer_m`` of the targets.
    """
    check_positive("buffer_m", buffer_m, allow_none=False)
    check_metric_crs(metric_crs)
    t_start = as_timestamp(start, "start")
    if targets.crs is None:
        raise CRSError("the intervention layer has no CRS")
    xy = to_metric(records, metric_crs)
    tgeom = np.asarray(targets.geometry.to_crs(metric_crs).values, dtype=object)
    cgeom = np.asarray(control.geometry.to_crs(metric_crs).values, dtype=object) if control is not None else None
    if cgeom is None:
        study = shapely.union_all(np.asarray(zones.metric_geometry.values, dtype=object)) if zones is not None else area_from_points(xy)
    else:
        study = None
    target, ring, ctrl = displacement_areas(tgeom, buffer_m=buffer_m, study_area=study, control=cgeom)
    res = measure_displacement(
        xy,
        records.data["date"],
        records.data["weight"].to_numpy(dtype=float),
        target,
        ring,
        ctrl,
        start=t_start.date(),
        days=days,
        lang=lang,
    )
    codes = ["target", "buffer", "control"]
    names = [label("hotspots", f"area_{c}", "en" if lang == "en" else "es") for c in codes]
    areas = gpd.GeoDataFrame(
        {"area": codes, "name": names, "area_km2": [res.areas_km2[k] for k in codes]},
        geometry=to_output_crs(np.array([target, ring, ctrl], dtype=object), metric_crs).values,
        crs=OUTPUT_CRS,
    )
    params = {
        **res.params,
        "buffer_m": float(buffer_m),
        "metric_crs": metric_crs,
        "control": "given" if control is not None else "study area beyond 2 × buffer_m",
    }
    return DisplacementRun(result=res, areas=areas, params=params)
