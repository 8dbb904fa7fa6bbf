"""Puerto Demo: a seeded synthetic coastal city and the run of every stage on it."""

from geoprio.demo.city import (
    DemoCity,
    DemoRun,
    make_demo_city,
    run_demo,
    synthetic_incidents,
    write_demo_city,
)

__all__ = [
    "DemoCity",
    "DemoRun",
    "make_demo_city",
    "run_demo",
    "synthetic_incidents",
    "write_demo_city",
]
