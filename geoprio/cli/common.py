"""Pieces every ``geoprio`` command shares: consoles, error handling, shared options, printing.

Every command module imports from here, so that the error behaviour is the same everywhere:
input errors print one message and exit 1 without a traceback; unexpected errors exit 2
(``GEOPRIO_DEBUG=1`` shows the traceback). Options that mean the same thing in several
commands (``--out``, ``--format``, ``--crs``, ``--csv``, ``--lang``, ``--manifest``, ``--seed``,
``--top``, ``--metric-crs``) are defined once here, with their defaults taken from
:mod:`geoprio.settings`, so that no default is written twice.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from geoprio.disclosure import DisclosurePolicy
from geoprio.errors import GeoprioError, InputError
from geoprio.io.export import CSV_DIALECTS, Export, check_crs
from geoprio.io.results import Replay, Written
from geoprio.labels import check_lang, label
from geoprio.settings import EXPORT_FORMATS, OUTPUT_CRS, Lang, OutputFormat

__all__ = [
    "CrsOpt",
    "CsvOpt",
    "FormatOpt",
    "MinCountOpt",
    "PublicOpt",
    "public_policy",
    "LangOpt",
    "ManifestOpt",
    "MetricCrsOpt",
    "OutOpt",
    "SeedOpt",
    "TopOpt",
    "check_formats",
    "command_line",
    "err",
    "export_options",
    "friendly",
    "lang_option",
    "out",
    "print_not_written",
    "print_replay",
    "print_written",
]

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


def lang_option(lang: str) -> Lang:
    """Check a ``--lang`` value (an input error, exit 1, names the choices)."""
    return check_lang(lang)


def check_formats(formats: Sequence[str] | None) -> tuple[OutputFormat, ...] | None:
    """Check ``--format`` values against :data:`geoprio.settings.EXPORT_FORMATS`."""
    if not formats:
        return None
    bad = [f for f in formats if f not in EXPORT_FORMATS]
    if bad:
        raise InputError(f"--format: unknown format(s) {', '.join(map(repr, bad))}; choose from {', '.join(EXPORT_FORMATS)}")
    return tuple(formats)  # type: ignore[arg-type]


def export_options(crs: str | None, csv: str, lang: str) -> Export:
    """The :class:`~geoprio.io.export.Export` of ``--crs``, ``--csv`` and ``--lang`` (input errors name the flag)."""
    if csv not in CSV_DIALECTS:
        raise InputError(f"--csv: unknown dialect {csv!r}; choose from {', '.join(CSV_DIALECTS)}")
    return Export(crs=check_crs(crs) if crs else OUTPUT_CRS, csv=csv, lang=check_lang(lang))


def command_line() -> str:
    """The command as typed, for the run manifest."""
    return " ".join(["geoprio", *sys.argv[1:]])


def print_written(written: Written | Sequence[Path], lang: str, manifest: Path | None = None) -> None:
    """List the files a command wrote (the manifest last)."""
    paths = written.paths if isinstance(written, Written) else [*written, *([manifest] if manifest else [])]
    out.print(f"{label('cli', 'written', lang)}:")
    for p in paths:
        out.print(f"  {p}", markup=False)


def print_not_written(lang: str) -> None:
    """Say that nothing was written because no ``--out`` was given."""
    out.print(label("cli", "not_written", lang), markup=False)


def print_replay(replay: Replay, lang: str) -> None:
    """Say whether a replayed run wrote identical outputs; exit 1 when any differs."""
    print_written(replay.written, lang)
    if replay.different:
        err.print(label("cli", "differs", lang).format(files=", ".join(replay.different)))
        raise typer.Exit(1)
    out.print(label("cli", "reproduced", lang).format(n=len(replay.identical)))


LangOpt = Annotated[str, typer.Option("--lang", help="Language of what users read: es (default) or en.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Output folder.")]
FormatOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--format",
        help=f"Output format, repeatable: {', '.join(EXPORT_FORMATS)} (shp: short field names and a .fields.csv; xlsx: one workbook).",
    ),
]
CrsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--crs", help=f"CRS of the layers written, e.g. EPSG:9377 or EPSG:3116 (default {OUTPUT_CRS}; GeoJSON is always {OUTPUT_CRS})."
    ),
]
CsvOpt = Annotated[
    str,
    typer.Option("--csv", help="CSV dialect: standard (UTF-8, ',' and '.') or excel (UTF-8 with BOM, ';' and decimal comma)."),
]
ManifestOpt = Annotated[
    Optional[Path], typer.Option("--manifest", help="Re-run a previous run from its manifest.json and check the outputs are identical.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the random draws.")]
TopOpt = Annotated[int, typer.Option("--top", min=1, help="Rows to print.")]
PublicOpt = Annotated[
    bool,
    typer.Option(
        "--public",
        help="Write a public release: no count of 1 to --min-count - 1 records, nor anything derived from one (geoprio.disclosure).",
    ),
]
MinCountOpt = Annotated[Optional[int], typer.Option("--min-count", min=1, help="With --public: the smallest count published (default 10).")]


def public_policy(public: bool, min_count: int | None) -> DisclosurePolicy | None:
    """The disclosure policy of ``--public [--min-count N]`` (None: a full, internal release)."""
    if not public:
        if min_count is not None:
            raise InputError("--min-count applies only to a public release: add --public")
        return None
    return DisclosurePolicy() if min_count is None else DisclosurePolicy(min_count=min_count)


MetricCrsOpt = Annotated[
    Optional[str], typer.Option("--metric-crs", help="Projected CRS in metres for distances and areas (default EPSG:9377).")
]
