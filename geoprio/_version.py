"""The installed version of geoprio (one place, so no module imports the package root for it)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geoprio")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
