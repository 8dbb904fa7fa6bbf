"""A small reader of the PDFs headless Chromium writes: page count and page sizes.

No PDF library is installed with the test dependencies (no pypdf, no poppler's ``pdfinfo``),
and Chromium's PDF writer (Skia) stores each page object as plain text (``/Type /Page`` with
its ``/MediaBox``), so two regular expressions read what the tests check. A PDF whose page
objects sit in compressed object streams would read as having no pages, which fails the
tests loudly rather than passing them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Points per millimetre.
PT_PER_MM = 72 / 25.4

_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])(.*?)endobj", re.DOTALL)
_BOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")


@dataclass(frozen=True)
class PdfInfo:
    """Pages of a PDF and each page's size in millimetres (width, height)."""

    pages: int
    sizes_mm: list[tuple[float, float]]


def pdf_info(path: str | Path) -> PdfInfo:
    """The page count and page sizes of ``path`` (a PDF Chromium wrote)."""
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF-"), f"{path} is not a PDF"
    sizes = []
    for match in _PAGE.finditer(data):
        box = _BOX.search(match.group(1))
        assert box is not None, f"{path}: a page without /MediaBox"
        x0, y0, x1, y1 = (float(v) for v in box.groups())
        sizes.append((round((x1 - x0) / PT_PER_MM, 1), round((y1 - y0) / PT_PER_MM, 1)))
    return PdfInfo(len(sizes), sizes)


def rasterize(pdf: str | Path, page: int, out_stem: Path, *, dpi: int = 96) -> Path | None:
    """Page ``page`` (1-based) of ``pdf`` as a PNG by poppler's ``pdftoppm``; None where it is not installed."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    subprocess.run(
        [exe, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(out_stem)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out_stem.with_suffix(".png")
