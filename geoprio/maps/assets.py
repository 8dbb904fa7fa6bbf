"""Offline web assets: the vendored copies of Leaflet, jQuery and the plugins that a map page loads.

Folium loads Leaflet, jQuery and the plugins from CDNs. geoprio ships copies from the npm
registry (``geoprio/resources/web``, see its README and ``scripts/vendor_web_assets.py``) and
:func:`localize_assets` rewrites every CDN address to them: ``assets="folder"`` (default)
copies them into an ``assets/`` folder beside the HTML and links them relatively;
``assets="inline"`` embeds them (one self-contained file, images as ``data:`` URIs);
``assets="cdn"`` keeps folium's links. Only the basemap tiles then come from the network.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

from geoprio.errors import InputError

__all__ = ["ASSETS_DIR", "ASSET_MODES", "AssetMode", "localize_assets"]

#: How a page gets its web assets: copied into a folder beside it, embedded, or from CDNs.
AssetMode = Literal["folder", "inline", "cdn"]
ASSET_MODES: tuple[str, ...] = get_args(AssetMode)
#: Folder of the copied web assets, beside the HTML.
ASSETS_DIR = "assets"

_SCRIPT_TAG = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_LINK_TAG = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"/>')
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_REMOTE_TAG = re.compile(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=[\"'](?:https?:)?//", re.I)
_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


def _web(rel: str) -> Any:
    return resources.files("geoprio").joinpath("resources/web").joinpath(rel)


@cache
def _registry() -> dict[str, dict[str, Any]]:
    """CDN address → vendored asset (``resources/web/assets.json``)."""
    doc = json.loads(_web("assets.json").read_text(encoding="utf-8"))
    reg = {}
    for a in doc["assets"]:
        pkg = doc["packages"][a["package"]]
        reg[a["url"]] = {**a, "license_file": pkg["license_file"]}
    return reg


def _inline_css(rel: str) -> str:
    css = _web(rel).read_text(encoding="utf-8")
    base = posixpath.dirname(rel)

    def repl(mt: re.Match[str]) -> str:
        ref = mt.group(2)
        if ref.startswith(("data:", "#", "http:", "https:", "/")):
            return mt.group(0)
        target = posixpath.normpath(posixpath.join(base, ref.split("?")[0].split("#")[0]))
        mime = _MIME.get(posixpath.splitext(target)[1].lower(), "application/octet-stream")
        return f'url("data:{mime};base64,{base64.b64encode(_web(target).read_bytes()).decode("ascii")}")'

    return _CSS_URL.sub(repl, css)


def localize_assets(page: str, assets: AssetMode = "folder") -> tuple[str, dict[str, bytes]]:
    """The page with CDN addresses rewritten, and the asset files it needs (relative path → bytes).

    ``assets="folder"``: links to ``assets/<package>/<version>/…`` and returns those files
    (with the licences) to copy beside the HTML; ``"inline"``: scripts and styles embedded,
    their images as ``data:`` URIs, no files; ``"cdn"``: folium's CDN links, no files.
    Raises :class:`InputError` if the page links a script or style geoprio has not vendored.
    """
    if assets not in ASSET_MODES:
        raise InputError(f"assets must be 'folder', 'inline' or 'cdn', got {assets!r}")
    if assets == "cdn":
        return page, {}
    reg = _registry()
    needed: dict[str, bytes] = {}
    unknown: list[str] = []

    def local(url: str) -> dict[str, Any] | None:
        if url in reg:
            return reg[url]
        if url.startswith(("http:", "https:", "//")):
            unknown.append(url)
        return None

    def script(mt: re.Match[str]) -> str:
        a = local(mt["url"])
        if a is None:
            return mt.group(0)
        if assets == "inline":
            code = _web(a["file"]).read_text(encoding="utf-8").replace("</script", "<\\/script")
            return f"<script>/* {a['package']} {a['file']} */\n{code}\n</script>"
        for rel in [*a["files"], a["license_file"]]:
            needed[rel] = _web(rel).read_bytes()
        return f'<script src="{ASSETS_DIR}/{a["file"]}"></script>'

    def link(mt: re.Match[str]) -> str:
        a = local(mt["url"])
        if a is None:
            return mt.group(0)
        if assets == "inline":
            return f"<style>/* {a['package']} {a['file']} */\n{_inline_css(a['file'])}\n</style>"
        for rel in [*a["files"], a["license_file"]]:
            needed[rel] = _web(rel).read_bytes()
        return f'<link rel="stylesheet" href="{ASSETS_DIR}/{a["file"]}"/>'

    page = _SCRIPT_TAG.sub(script, page)
    page = _LINK_TAG.sub(link, page)
    left = _REMOTE_TAG.findall(page)
    if unknown or left:
        raise InputError(
            f"the map links web assets that geoprio has not vendored: {sorted(set(unknown)) or left}; "
            "add them to scripts/vendor_web_assets.py (USED) and re-run it, or write with assets='cdn'"
        )
    return page, {f"{ASSETS_DIR}/{k}": v for k, v in needed.items()}
