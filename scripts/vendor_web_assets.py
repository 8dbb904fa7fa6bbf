"""Fetch the JavaScript and CSS that geoprio's maps use from the npm registry into ``geoprio/resources/web/``.

Folium pages load Leaflet, jQuery and the plugins from CDNs, which many government intranets
cannot reach. geoprio ships local copies and its map writer rewrites each CDN address to the
copy (``geoprio.maps.assets``). This script re-creates those copies, so updating folium or a plugin
is one command:

    .venv/bin/python scripts/vendor_web_assets.py          # needs node's ``npm`` and network

It reads the CDN addresses from the installed folium itself (the ``default_js``/``default_css``
entries of ``folium.Map`` and of the plugins the maps use), works out the npm package,
version and file of each, runs ``npm pack <package>@<version>`` (the ordinary npm client, no
install, no scripts run), and copies out of each tarball only:

* the referenced file (the unminified file when the package has no ``.min`` build, as
  ``leaflet.fullscreen`` 3.0.0 and ``leaflet-measure`` 2.1.7's CSS);
* the images a CSS file references with a relative ``url(...)``;
* the package's licence file.

It then writes ``assets.json`` (CDN address → local file, package, version, licence, npm
integrity, SHA-256 of each file), which ``geoprio.maps.assets`` reads, and ``README.md`` (the same
as a table). Everything else in ``resources/web/`` is deleted first, so old versions do
not linger. Check ``git diff --stat geoprio/resources/web`` afterwards and run the map tests
(``pytest tests/test_maps.py tests/test_maps_browser.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "geoprio" / "resources" / "web"

# (folium object, entry name) of every asset the maps load; geoprio.maps.assets uses exactly these.
# folium's other defaults (Bootstrap, Font Awesome, glyphicons, awesome-markers) are not
# used by geoprio's maps and are removed from their pages instead of vendored.
USED = [
    ("folium.Map", "leaflet"),
    ("folium.Map", "jquery"),
    ("folium.Map", "leaflet_css"),
    ("folium.plugins.Fullscreen", "Control.Fullscreen.js"),
    ("folium.plugins.Fullscreen", "Control.FullScreen.css"),
    ("folium.plugins.MeasureControl", "leaflet_measure_js"),
    ("folium.plugins.MeasureControl", "leaflet_measure_css"),
    ("folium.plugins.Search", "Leaflet.Search.js"),
    ("folium.plugins.Search", "Leaflet.Search.css"),
]
# Assets of the planner's workspace page (geoprio/resources/workspace, served by the API), not of
# the maps: recorded apart in assets.json (its "workspace" entry), so the maps' registry and
# their copies beside each map are unchanged. Leaflet.draw draws the exclusion areas.
WORKSPACE = [
    ("folium.plugins.Draw", "leaflet_draw_js"),
    ("folium.plugins.Draw", "leaflet_draw_css"),
]

_NPM = re.compile(r"^https://cdn\.jsdelivr\.net/npm/(?P<pkg>(?:@[^/]+/)?[^@/]+)@(?P<ver>[^/]+)/(?P<path>.+)$")
_GH = re.compile(r"^https://cdn\.jsdelivr\.net/gh/[^/]+/(?P<pkg>[^@/]+)@(?P<ver>[^/]+)/(?P<path>.+)$")
_CDNJS = re.compile(r"^https://cdnjs\.cloudflare\.com/ajax/libs/(?P<lib>[^/]+)/(?P<ver>[^/]+)/(?P<path>.+)$")
#: cdnjs library name → npm package, where they differ (cdnjs serves the package's ``dist/``).
_CDNJS_NPM = {"leaflet.draw": "leaflet-draw"}
_JQUERY = re.compile(r"^https://code\.jquery\.com/jquery-(?P<ver>[\d.]+)(?P<min>\.min)?\.js$")
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
#: Packages whose npm tarball has no licence file, and where their licence text and copyright are.
_NO_LICENSE_FILE = {
    "leaflet-draw@1.0.2": "the copyright notice is kept in the header of dist/leaflet.draw.js "
    "('(c) 2012-2017, Jacob Toye, Jon West, Smartrak, Leaflet'); the MIT text is "
    "https://github.com/Leaflet/Leaflet.draw/blob/v1.0.2/MIT-LICENSE.md",
}
_LICENSE = re.compile(r"^(LICEN[CS]E|COPYING)(\.(md|txt))?$", re.I)


def folium_urls(used: list[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """The CDN addresses of the used assets (default :data:`USED`), read from the installed folium."""
    import folium
    import folium.plugins

    objects = {
        "folium.Map": folium.Map,
        "folium.plugins.Fullscreen": folium.plugins.Fullscreen,
        "folium.plugins.MeasureControl": folium.plugins.MeasureControl,
        "folium.plugins.Search": folium.plugins.Search,
        "folium.plugins.Draw": folium.plugins.Draw,
    }
    out = []
    for owner, name in USED if used is None else used:
        cls = objects[owner]
        entries = dict(cls.default_js) | dict(cls.default_css)
        if name not in entries:
            raise SystemExit(f"folium {folium.__version__}: {owner} has no asset named {name!r}; update USED in {__file__}")
        out.append({"owner": owner, "name": name, "url": entries[name]})
    return out


def npm_source(url: str) -> tuple[str, str, str]:
    """``(package, version, path in the package)`` for a CDN address."""
    if m := _NPM.match(url):
        return m["pkg"], m["ver"], m["path"]
    if m := _GH.match(url):  # jsdelivr's GitHub mirror: the same release is published on npm
        return m["pkg"], m["ver"], m["path"]
    if m := _JQUERY.match(url):
        return "jquery", m["ver"], f"dist/jquery{m['min'] or ''}.js"
    if (m := _CDNJS.match(url)) and m["lib"] in _CDNJS_NPM:
        return _CDNJS_NPM[m["lib"]], m["ver"], f"dist/{m['path']}"
    raise SystemExit(f"don't know which npm package serves {url}; add a rule to npm_source()")


def npm_pack(spec: str, into: Path) -> tuple[Path, dict]:
    """Download a package tarball with ``npm pack`` (no install, no lifecycle scripts)."""
    res = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(into)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"npm pack {spec} failed:\n{res.stderr.strip()}")
    info = json.loads(res.stdout)[0]
    return into / info["filename"], info


def _pick(names: set[str], path: str) -> str:
    if path in names:
        return path
    plain = re.sub(r"\.min\.(js|css)$", r".\1", path)  # some packages publish no minified build
    if plain in names:
        return plain
    raise SystemExit(f"{path} (or {plain}) is not in the package; files: {sorted(names)[:40]}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def vendor(dest: Path = DEST) -> dict:
    """Fetch every used asset into ``dest`` and write ``assets.json`` and ``README.md``."""
    import folium

    entries = [{**e, "group": "maps"} for e in folium_urls()] + [{**e, "group": "workspace"} for e in folium_urls(WORKSPACE)]
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    groups: dict[str, tuple[dict[str, dict], list[dict]]] = {"maps": ({}, []), "workspace": ({}, [])}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        tars: dict[str, tuple[tarfile.TarFile, dict]] = {}
        for e in entries:
            pkg, ver, path = npm_source(e["url"])
            spec = f"{pkg}@{ver}"
            if spec not in tars:
                tgz, info = npm_pack(spec, tmpdir)
                tars[spec] = (tarfile.open(tgz), info)
            tar, info = tars[spec]
            members = {m.name.removeprefix("package/"): m for m in tar.getmembers() if m.isfile()}
            root = PurePosixPath(pkg.replace("@", "").replace("/", "__")) / ver

            def copy(name: str, *, tar: tarfile.TarFile = tar, members: dict = members, root: PurePosixPath = root) -> tuple[str, bytes]:
                data = tar.extractfile(members[name]).read()  # type: ignore[union-attr]
                out = dest / root / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                return str(root / name), data

            src = _pick(set(members), path)
            local, data = copy(src)
            files = {local: _sha256(data)}
            if src.endswith(".css"):  # images the stylesheet loads
                for _, ref in _CSS_URL.findall(data.decode("utf-8")):
                    if ref.startswith(("data:", "#", "http:", "https:", "/")):
                        continue
                    name = posixpath.normpath(posixpath.join(posixpath.dirname(src), ref.split("?")[0].split("#")[0]))
                    if name not in members:
                        raise SystemExit(f"{spec}/{src} references {ref}, which the package lacks")
                    extra, blob = copy(name)
                    files[extra] = _sha256(blob)
            packages, assets = groups[e["group"]]
            if spec not in packages:
                lic = sorted(n for n in members if "/" not in n and _LICENSE.match(n))
                manifest = json.loads(tar.extractfile(members["package.json"]).read())  # type: ignore[union-attr]
                if lic:
                    lic_local, _ = copy(lic[0])
                elif spec in _NO_LICENSE_FILE:  # the licence is declared, its text not shipped: say so beside the files
                    lic_local = str(root / "LICENSE.geoprio.txt")
                    (dest / lic_local).write_text(
                        f"{spec} (npm) ships no licence file. Its package.json declares the licence "
                        f"{manifest.get('license', '?')!r}; {_NO_LICENSE_FILE[spec]}\n",
                        encoding="utf-8",
                    )
                else:
                    raise SystemExit(f"{spec} has no licence file at its root")
                packages[spec] = {
                    "package": pkg,
                    "version": ver,
                    "license": manifest.get("license", "?"),
                    "license_file": lic_local,
                    "homepage": manifest.get("homepage", ""),
                    "npm_integrity": info.get("integrity", ""),
                }
            assets.append(
                {
                    "url": e["url"],
                    "used_by": f"{e['owner']} ({e['name']})",
                    "kind": "css" if src.endswith(".css") else "js",
                    "file": local,
                    "package": f"{pkg}@{ver}",
                    "files": files,
                }
            )
        for tar, _ in tars.values():
            tar.close()
    doc = {
        "generated_by": "scripts/vendor_web_assets.py",
        "folium": folium.__version__,
        "packages": groups["maps"][0],
        "assets": groups["maps"][1],
        "workspace": {"packages": groups["workspace"][0], "assets": groups["workspace"][1]},
    }
    (dest / "assets.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (dest / "README.md").write_text(_readme(doc, dest), encoding="utf-8")
    return doc


def _readme(doc: dict, dest: Path) -> str:
    total = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file() and p.name not in ("README.md", "assets.json"))
    lines = [
        "# Vendored web assets of geoprio's maps",
        "",
        "Local copies of the JavaScript and CSS that geoprio's Folium maps load, so that a map renders",
        "with no network (`geoprio.maps` rewrites each CDN address below to these files, either into",
        "an `assets/` folder beside the HTML or inlined into it). Generated by",
        f"`scripts/vendor_web_assets.py` from the npm registry for folium {doc['folium']}; do not edit",
        "by hand: re-run the script after upgrading folium (it reads the addresses from folium).",
        "",
        "| package (npm) | licence | licence file | files | replaces |",
        "|---|---|---|---|---|",
    ]
    lines += _rows(doc["packages"], doc["assets"])
    lines += [
        "",
        "The planner's workspace page (`GET /workspace`, `geoprio/resources/workspace`) also loads,",
        "from here (the `workspace` entry of `assets.json`; not copied beside maps):",
        "",
        "| package (npm) | licence | licence file | files | replaces |",
        "|---|---|---|---|---|",
        *_rows(doc["workspace"]["packages"], doc["workspace"]["assets"]),
    ]
    lines += [
        "",
        f"Total: {total / 1024:.0f} KiB. Each file's SHA-256 and each tarball's npm integrity hash are in",
        "`assets.json`. Not vendored because the maps do not use them: folium's default Bootstrap,",
        "Font Awesome, glyphicons and Leaflet.awesome-markers (geoprio's maps draw no icon markers),",
        "so geoprio removes those links from its pages.",
        "",
        "Equivalent manual commands (for one package):",
        "",
        "```bash",
        "npm pack leaflet@1.9.3 --pack-destination /tmp   # → /tmp/leaflet-1.9.3.tgz",
        "tar -xzf /tmp/leaflet-1.9.3.tgz -C /tmp          # → /tmp/package/dist/leaflet.js …",
        "```",
        "",
    ]
    return "\n".join(lines)


def _rows(packages: dict, assets: list[dict]) -> list[str]:
    by_pkg: dict[str, list[dict]] = {}
    for a in assets:
        by_pkg.setdefault(a["package"], []).append(a)
    rows = []
    for spec, items in by_pkg.items():
        p = packages[spec]
        files = "<br>".join(f"`{f}`" for a in items for f in a["files"])
        urls = "<br>".join(a["url"] for a in items)
        rows.append(f"| `{spec}` | {p['license']} | `{p['license_file']}` | {files} | {urls} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", type=Path, default=DEST, help=f"target folder (default {DEST.relative_to(ROOT)})")
    args = ap.parse_args(argv)
    doc = vendor(args.dest)
    for a in doc["assets"] + doc["workspace"]["assets"]:
        print(f"{a['package']:<28} {a['file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
