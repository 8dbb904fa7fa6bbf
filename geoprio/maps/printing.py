"""Print an HTML page geoprio wrote (a map, a bulletin) to PDF and PNG with headless Chromium.

:func:`print_page` opens the page in Debian's ``chromium`` (``/usr/bin/chromium --headless``)
with the network blocked (every host name resolves to nothing and every request goes to a
closed proxy: the maps are offline; basemap tiles fail and are left blank), waits a virtual
time budget for the page to finish drawing (Leaflet's layers, legends and fonts), and writes a
PDF (:data:`PAPERS`: A4 or letter, landscape) and/or a PNG screenshot of one page. The page is
read from a temporary copy with a ``<base href>`` pointing at its folder (so its ``assets/``
are found) and a print style: the paper size, no margin and, with ``fit=True`` (maps), the
page sized to the sheet so that the map fills it. The original file is never changed.

Chromium is found by :func:`find_chromium` (``chromium`` / ``chromium-browser`` /
``google-chrome`` on the ``PATH``, or ``$GEOPRIO_CHROMIUM``); without one,
:class:`~geoprio.errors.MissingDependencyError` names the package to install. Playwright is not
needed (it is a test dependency only).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from geoprio.errors import GeoprioError, InputError, MissingDependencyError
from geoprio.io import files as io

__all__ = [
    "CHROMIUM_ENV",
    "DEFAULT_PAPER",
    "DEFAULT_WAIT_MS",
    "PAPERS",
    "Paper",
    "PrintOutput",
    "find_chromium",
    "page_pixels",
    "print_page",
]

#: Paper sizes, landscape, in millimetres (width, height).
Paper = Literal["a4", "letter"]
PAPERS: Final[dict[str, tuple[float, float]]] = {"a4": (297.0, 210.0), "letter": (279.4, 215.9)}
#: The paper used unless told.
DEFAULT_PAPER: Final[Paper] = "a4"
#: Virtual time Chromium gives the page to finish drawing before printing (milliseconds).
DEFAULT_WAIT_MS: Final = 5000
#: The environment variable that names the Chromium executable to use.
CHROMIUM_ENV: Final = "GEOPRIO_CHROMIUM"
#: Seconds after which a Chromium that has not finished is stopped.
TIMEOUT_S: Final = 180.0

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--hide-scrollbars",
    "--no-pdf-header-footer",
    # offline: no name resolves, and any request by address goes to a closed port
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
)


@dataclass(frozen=True)
class PrintOutput:
    """What :func:`print_page` wrote: the PDF and the PNG (None when not asked for)."""

    pdf: Path | None
    png: Path | None

    @property
    def paths(self) -> list[Path]:
        """The files written, PDF first."""
        return [p for p in (self.pdf, self.png) if p is not None]


def find_chromium(executable: str | os.PathLike[str] | None = None) -> Path:
    """The Chromium executable: ``executable`` if given, else ``$GEOPRIO_CHROMIUM``, else the
    first of ``chromium``, ``chromium-browser``, ``google-chrome`` on the ``PATH``.

    Raises :class:`~geoprio.errors.MissingDependencyError` naming the package to install.
    """
    given = executable if executable is not None else os.environ.get(CHROMIUM_ENV)
    if given:
        path = shutil.which(str(given)) or (str(given) if Path(given).is_file() else None)
        if path is None:
            raise MissingDependencyError(f"Chromium not found at {given!s}; install it (Debian/Ubuntu: apt-get install chromium)")
        return Path(path)
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise MissingDependencyError(
        "printing to PDF or PNG needs a headless Chromium and none was found on the PATH "
        f"(chromium, chromium-browser, google-chrome); install it (Debian/Ubuntu: apt-get install chromium) "
        f"or name it in ${CHROMIUM_ENV}"
    )


def page_pixels(paper: Paper) -> tuple[int, int]:
    """The landscape sheet of ``paper`` in CSS pixels (96 per inch), width and height."""
    w, h = _paper(paper)
    return round(w / 25.4 * 96), round(h / 25.4 * 96)


def _paper(paper: str) -> tuple[float, float]:
    if paper not in PAPERS:
        raise InputError(f"paper: expected one of {sorted(PAPERS)}, got {paper!r}")
    return PAPERS[paper]


#: The interactive controls of a Leaflet map a print leaves out (search, zoom, fullscreen,
#: measure at the top left; the layer control): the title, legends and scale bar stay.
_CONTROLS_CSS = ".leaflet-top.leaflet-left .leaflet-control, .leaflet-control-layers { display: none !important; }"


def _print_style(paper: str, *, fit: bool, margin_mm: float, controls: bool) -> str:
    w, h = _paper(paper)
    css = f"@page {{ size: {w}mm {h}mm; margin: {margin_mm}mm; }}"
    if not controls:
        css += " " + _CONTROLS_CSS
    if fit:
        css += (
            f" html, body {{ width: {w - 2 * margin_mm}mm !important; height: {h - 2 * margin_mm}mm !important;"
            " margin: 0 !important; overflow: hidden !important; }"
            " * { -webkit-print-color-adjust: exact !important; print-color-adjust: exact !important; }"
        )
    return f'<style media="all">{css}</style>'


def _with_base(page: str, folder: Path, style: str) -> str:
    """``page`` with ``<base href=folder/>`` and ``style`` first in its ``<head>``."""
    head = f'<base href="{html.escape(folder.resolve().as_uri(), quote=True)}/">{style}'
    match = re.search(r"<head[^>]*>", page, flags=re.IGNORECASE)
    if match:
        return page[: match.end()] + head + page[match.end() :]
    return head + page


def _run(chromium: Path, args: list[str], url: str, profile: Path, target: Path) -> None:
    cmd = [str(chromium), *_FLAGS, f"--user-data-dir={profile}", *args, url]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise GeoprioError(f"Chromium did not finish printing {target.name} within {TIMEOUT_S:.0f} s") from None
    except OSError as exc:
        raise MissingDependencyError(f"cannot run Chromium ({chromium}): {exc}; install it (apt-get install chromium)") from None
    if not target.is_file() or target.stat().st_size == 0:
        tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
        raise GeoprioError(f"Chromium wrote no {target.suffix[1:].upper()} (exit status {done.returncode}): {tail}")


def print_page(
    page: str | os.PathLike[str],
    *,
    pdf: str | os.PathLike[str] | None = None,
    png: str | os.PathLike[str] | None = None,
    paper: Paper = DEFAULT_PAPER,
    fit: bool = True,
    margin_mm: float = 0.0,
    controls: bool = False,
    wait_ms: int = DEFAULT_WAIT_MS,
    scale: float = 1.0,
    chromium: str | os.PathLike[str] | None = None,
) -> PrintOutput:
    """Print the HTML file ``page`` to ``pdf`` and/or ``png`` (landscape ``paper``).

    Parameters
    ----------
    page
        An HTML file (a map from ``geoprio map`` or :func:`~geoprio.maps.write_map`, a bulletin).
    pdf, png
        Where to write the PDF and the PNG (one sheet, the first screen of the page); at least one.
    paper
        ``"a4"`` (297 × 210 mm) or ``"letter"`` (279.4 × 215.9 mm), landscape.
    fit
        Size the page to the sheet (a map fills it, on one page); False for a document that
        flows over several pages (a bulletin with its own page breaks).
    margin_mm
        The sheet's margin.
    controls
        Keep a map's interactive controls (search, zoom, fullscreen, measure, layer control);
        by default they are left out of the print (title, legends and scale bar stay).
    wait_ms
        Virtual time the page has to finish drawing before it is printed.
    scale
        Device pixels per CSS pixel of the PNG (2 for a sharper image).
    chromium
        The Chromium executable (default: :func:`find_chromium`).
    """
    source = Path(page)
    if not source.is_file():
        raise InputError(f"{source}: no such HTML file to print")
    if pdf is None and png is None:
        raise InputError("print_page: give pdf=, png= or both")
    if wait_ms < 0 or scale <= 0 or margin_mm < 0:
        raise InputError(f"print_page: wait_ms and margin_mm must be ≥ 0 and scale > 0, got {wait_ms}, {margin_mm}, {scale}")
    exe = find_chromium(chromium)
    width, height = page_pixels(paper)
    text = source.read_text(encoding="utf-8")
    outputs: dict[str, Path | None] = {"pdf": Path(pdf) if pdf is not None else None, "png": Path(png) if png is not None else None}
    with tempfile.TemporaryDirectory(prefix="geoprio-print-") as tmp:
        work = Path(tmp)
        copy = work / "page.html"
        copy.write_text(
            _with_base(text, source.parent, _print_style(paper, fit=fit, margin_mm=margin_mm, controls=controls)), encoding="utf-8"
        )
        common = [f"--virtual-time-budget={int(wait_ms)}", f"--window-size={width},{height}"]
        for kind, target in outputs.items():
            if target is None:
                continue
            tmp_out = work / f"out.{kind}"
            args = [f"--print-to-pdf={tmp_out}"] if kind == "pdf" else [f"--screenshot={tmp_out}", f"--force-device-scale-factor={scale}"]
            _run(exe, [*common, *args], copy.as_uri(), work / f"profile-{kind}", tmp_out)
            with io.atomic_path(target) as part:
                shutil.copyfile(tmp_out, part)
    return PrintOutput(outputs["pdf"], outputs["png"])
