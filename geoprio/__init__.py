"""geoprio: security and coexistence planning for Colombian cities.

The package reads in the order of the flow, one subpackage per stage:

- :mod:`geoprio.io`: reading files as Colombian portals publish them, atomic writing, run
  manifests and the run protocol (:mod:`geoprio.io.results`);
- :mod:`geoprio.records`: incidents, complaints and coexistence records, validated;
- :mod:`geoprio.zones`: zone layers and grids, and tying records to them;
- :mod:`geoprio.index`: the *índice de priorización* and its configured run;
- :mod:`geoprio.hotspots`: Gi*, kernel density, clusters, emerging patterns, backtests;
- :mod:`geoprio.placement`: camera and garita sites by coverage optimization;
- :mod:`geoprio.entornos`: public places, their peak hours and a team deployment plan;
- :mod:`geoprio.seguimiento`: plan indicators against their targets;
- :mod:`geoprio.maps`: offline-ready web maps of all of the above;
- :mod:`geoprio.demo`: the synthetic city Puerto Demo;
- :mod:`geoprio.cli`: the ``geoprio`` command; the HTTP API is :mod:`geoprio.api`.

What a script needs is importable from here (``from geoprio import load_points, load_zones,
run_index, find_hotspots, plan_cameras, build_map``); the list is ``geoprio/__init__.pyi``,
and names load on first use, so ``import geoprio`` stays fast.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
