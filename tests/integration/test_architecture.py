"""The layout keeps its promises: no import cycles, no private names across subpackages, small
modules, subpackages that re-export their public names, and an install that claims no
top-level name but ``geoprio``.

Imports are read from the source (every ``import`` statement, including those inside
functions), so a cycle hidden in a function body fails here as well.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "geoprio"
API = ROOT / "api"
MAX_LINES = 800


def _module_name(path: Path) -> str:
    if path.is_relative_to(API):
        parts = ("geoprio", "api", *path.relative_to(API).with_suffix("").parts)
    else:
        parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    files = [*PACKAGE.rglob("*.py"), *API.rglob("*.py")]
    return {_module_name(p): p for p in files}


MODULES = _sources()


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """``(module, names, line)`` for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((base, [a.name for a in node.names], node.lineno))
    return found


def _internal_edges() -> dict[str, set[str]]:
    """module → the geoprio modules it imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        for base, names, _ in _imports(name, path):
            if not base.startswith("geoprio"):
                continue
            for n in names or [""]:
                target = f"{base}.{n}" if n and f"{base}.{n}" in MODULES else base
                if target in MODULES and target != name:
                    edges[name].add(target)
    return edges


def _package_of(module: str) -> str:
    """``geoprio.<stage>`` (``geoprio.api.routes`` for the API's), or ``geoprio`` for the root door."""
    parts = module.split(".")
    if len(parts) == 1:
        return module
    return ".".join(parts[:3]) if parts[1] == "api" and len(parts) > 2 else ".".join(parts[:2])


def test_no_import_cycles_between_modules():
    edges = _internal_edges()
    # A package's __init__ re-exporting its own modules is not a cycle: those modules never
    # import their own package's __init__ (checked below), so leave those edges out.
    graph = {m: {t for t in ts if not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))} for m, ts in edges.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_modules_do_not_import_their_own_package_init():
    bad = []
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            continue
        own = name.rpartition(".")[0]
        for base, names, line in _imports(name, path):
            if base == own and any(f"{own}.{n}" not in MODULES for n in names):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports names from its own package {own}")
    assert not bad, "\n".join(bad)


def test_subpackages_depend_in_the_order_of_the_flow():
    # The root's shared modules (errors, settings, options, labels, _version) come first: every
    # stage may use them, and they use no stage.
    shared = [p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")]
    order = [
        *("io", "disclosure", "records", "zones", "index"),
        *("hotspots", "placement", "entornos", "seguimiento"),
        *("maps", "report", "demo", "api", "cli"),
    ]
    rank = {f"geoprio.{p}": -1 for p in shared} | {f"geoprio.{p}": i for i, p in enumerate(order)}
    rank |= {f"geoprio.api.{p.stem}": rank["geoprio.api"] for p in API.glob("*.py")} | {"geoprio.api.routes": rank["geoprio.api"]}
    bad = []
    for src, targets in _internal_edges().items():
        a = _package_of(src)
        for t in targets:
            b = _package_of(t)
            if a in rank and b in rank and rank[b] > rank[a]:
                bad.append(f"{src} imports {t} ({b} comes after {a} in the flow)")
    assert not bad, "\n".join(sorted(bad))


def test_nothing_imports_the_package_root():
    """The root ``geoprio/__init__.py`` is the users' door; geoprio's own modules import from the stages."""
    bad = [
        f"{path.relative_to(ROOT)}:{line}: from geoprio import {', '.join(names)}"
        for name, path in MODULES.items()
        for base, names, line in _imports(name, path)
        if base == "geoprio" and name not in ("geoprio", "geoprio.__main__") and any(f"geoprio.{n}" not in MODULES for n in names)
    ]
    assert not bad, "\n".join(bad)


def test_no_private_name_is_imported_from_another_subpackage():
    bad = []
    for name, path in MODULES.items():
        for base, names, line in _imports(name, path):
            if not base.startswith("geoprio.") or _package_of(base) == _package_of(name):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private or any(part.startswith("_") and part != "__init__" for part in base.split(".")[2:]):
                bad.append(f"{path.relative_to(ROOT)}:{line}: from {base} import {', '.join(names)}")
    assert not bad, "\n".join(bad)


def test_no_module_is_over_800_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_module_has_a_docstring():
    missing = [str(p.relative_to(ROOT)) for p in MODULES.values() if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None]
    assert not missing, f"modules without a docstring: {missing}"


SUBPACKAGES = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_subpackage_reexports_and_no_name_shadows_a_module(sub):
    pkg = importlib.import_module(f"geoprio.{sub}")
    assert isinstance(getattr(pkg, "__all__", None), list), f"geoprio.{sub} has no __all__"
    missing = [n for n in pkg.__all__ if not hasattr(pkg, n)]
    assert not missing, f"geoprio.{sub}.__all__ names what it does not define: {missing}"
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"geoprio.{sub}.{info.name}")
        assert getattr(pkg, info.name) is module, f"geoprio.{sub}.{info.name} is shadowed by {getattr(pkg, info.name)!r}"


def test_the_package_root_is_a_curated_door():
    import geoprio

    assert "__version__" in geoprio.__all__ and len(geoprio.__all__) >= 15
    missing = [n for n in geoprio.__all__ if not hasattr(geoprio, n)]
    assert not missing


def test_pyproject_lists_every_package_and_installs_no_top_level_api():
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(doc["tool"]["setuptools"]["packages"])
    on_disk = {_module_name(p) for p in [*PACKAGE.rglob("__init__.py"), *API.rglob("__init__.py")]}
    assert listed == on_disk
    # Run outside the project folder, so only what the install provides is importable.
    code = "import importlib.util, geoprio.api.main; print(importlib.util.find_spec('api') is None)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True", "installing geoprio must not claim the import name 'api'"
