"""Exceptions raised by geoprio.

Every error subclasses a builtin so callers can catch it without importing geoprio
(``except ValueError``), and carries a message that names the file or argument, the bad
value and what was expected. The command line prints the message and exits non-zero
without a traceback; the HTTP API turns it into a 4xx JSON answer.
"""

from __future__ import annotations

__all__ = [
    "GeoprioError",
    "InputError",
    "ColumnError",
    "ConfigError",
    "CRSError",
    "ManifestError",
    "MissingDependencyError",
]


class GeoprioError(Exception):
    """Base class of every error geoprio raises on purpose."""


class InputError(GeoprioError, ValueError):
    """A file or table cannot be used: unreadable, empty, or with no usable rows."""


class ColumnError(InputError, KeyError):
    """A column that was asked for, or that geoprio needs, is not in the table."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(GeoprioError, ValueError):
    """An index or run configuration is invalid."""


class CRSError(GeoprioError, ValueError):
    """A coordinate reference system is missing, unknown or unsuitable (degrees for metres)."""


class ManifestError(GeoprioError, ValueError):
    """A run manifest cannot be replayed (missing, changed or unreadable inputs)."""


class MissingDependencyError(GeoprioError, ImportError):
    """An optional dependency needed for this feature is not installed."""
