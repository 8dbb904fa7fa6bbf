"""Reading the bulletin's HTML in tests: the ranking table's cells, and Colombian number format by hand."""

from __future__ import annotations

import html
import re


def rows(page: str) -> dict[str, list[str]]:
    """The ranking table's rows: zone id → the text of each cell."""
    table = page.split('<table class="ranking">', 1)[1].split("</table>", 1)[0]
    out = {}
    for zid, body in re.findall(r'<tr data-zone="([^"]+)">(.*?)</tr>', table, flags=re.DOTALL):
        out[html.unescape(zid)] = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.DOTALL)
        ]
    return out


def es(x: float, digits: int = 1) -> str:
    """Colombian number format by hand: 12345.6 → '12.345,6'."""
    return f"{x:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
