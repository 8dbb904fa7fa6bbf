"""geoprio: security and coexistence planning for Colombian cities.

The flow reads from the module list: :mod:`geoprio.io` (the only module that touches
files), :mod:`geoprio.load` (records and their validation), :mod:`geoprio.zones` (zone
layers and grids), :mod:`geoprio.assign` and :mod:`geoprio.attach` (records to zones),
:mod:`geoprio.measures` (indicator values), :mod:`geoprio.index` (the prioritization
index), :mod:`geoprio.pipeline` (a configured run with its manifest) and
:mod:`geoprio.cli` (the ``geoprio`` command).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geoprio")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
