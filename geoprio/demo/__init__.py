"""Puerto Demo: a seeded synthetic coastal city and the run of every stage on it.

Modules, in the order they build on each other: :mod:`~geoprio.demo.parameters` (the fixed
parameters of the fictional city), :mod:`~geoprio.demo.geography` (land, UPZ, localidades,
beaches, hot spots, populations, cameras, places), :mod:`~geoprio.demo.records` (incidents,
complaints, coexistence records, the planted dirty rows, and :func:`synthetic_incidents` for
real zone layers), :mod:`~geoprio.demo.city` (:class:`DemoCity`, :func:`make_demo_city`,
:func:`write_demo_city` with the TOML files under ``geoprio/resources/demo/``) and
:mod:`~geoprio.demo.run` (:func:`run_demo`, what ``geoprio demo`` calls).
"""

from geoprio.demo.city import (
    CATEGORY_SHARES,
    COMPORTAMIENTOS,
    CONFIG_FILES,
    DemoCity,
    demo_config_text,
    make_demo_city,
    write_demo_city,
)
from geoprio.demo.parameters import DEFAULT_N_INCIDENTS
from geoprio.demo.records import synthetic_incidents
from geoprio.demo.run import DEFAULT_DEMO_DIR, DEMO_FORMATS, DemoRun, run_demo

__all__ = [
    "CATEGORY_SHARES",
    "COMPORTAMIENTOS",
    "CONFIG_FILES",
    "DEFAULT_DEMO_DIR",
    "DEFAULT_N_INCIDENTS",
    "DEMO_FORMATS",
    "DemoCity",
    "DemoRun",
    "demo_config_text",
    "make_demo_city",
    "run_demo",
    "synthetic_incidents",
    "write_demo_city",
]
