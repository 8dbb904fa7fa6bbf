"""geoprio: security and coexistence planning for Colombian cities."""

from geoprio._version import __version__

__all__ = ["__version__"]
