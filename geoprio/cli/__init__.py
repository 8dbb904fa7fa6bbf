"""The ``geoprio`` command line: one module per command group, each a thin layer over the library.

:mod:`~geoprio.cli.application` builds the Typer app from every module's ``register(app)``;
:mod:`~geoprio.cli.common` holds what all commands share (error handling, shared options,
printing what was written).
"""

from geoprio.cli.application import app, main

__all__ = ["app", "main"]
