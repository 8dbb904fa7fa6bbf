"""Pieces every ``geoprio`` command shares: consoles, error handling, the language option.

Topic modules (``cli.py`` and the commands of later features) import from here, so that the
error behaviour is the same everywhere: input errors print one message and exit 1 without a
traceback; unexpected errors exit 2 (``GEOPRIO_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from geoprio.errors import GeoprioError

__all__ = ["LangOpt", "err", "friendly", "lang_option", "out"]

# Piped output (files, CI logs) gets a wide table instead of rich's 80-column default.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 180)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn geoprio's errors into one message and exit status 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except GeoprioError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
            raise typer.Exit(1) from None
        except (OSError, MemoryError) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
            raise typer.Exit(1) from None
        except Exception as exc:  # a bug: say so plainly
            if os.environ.get("GEOPRIO_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
                "Please report it; run with GEOPRIO_DEBUG=1 to see the traceback.",
                markup=True,
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def lang_option(lang: str) -> str:
    """Check a ``--lang`` value."""
    if lang not in ("es", "en"):
        raise typer.BadParameter(f"--lang must be 'es' or 'en', got {lang!r}")
    return lang


LangOpt = Annotated[str, typer.Option("--lang", help="Language of what users read: es (default) or en.")]
