"""The README's and the user guide's runnable commands and snippets run, and the guide builds.

Marker convention (in README.md and docs/**/*.md): an HTML comment on the line right before a
fenced block marks it runnable; unmarked blocks are shown only (they must still be correct).

* ``<!-- test -->`` before a ```` ```bash ```` block: every command in it runs (lines joined at a
  trailing ``\\``; comments and blank lines skipped) with ``bash -e``, in a temporary workspace
  where ``geoprio demo`` has written ``data/demo/`` and ``maps/`` (one demo per session).
  Before a ```` ```python ```` block: the block runs with the project's Python in the workspace.
* ``<!-- test: script -->`` before a ```` ```python ```` block: the block is saved as a file and
  run as a plain script (``python script.py``), without a ``__main__`` guard, in the workspace.
* ``<!-- test: shared -->``: as ``<!-- test -->``, for commands that read ``../shared/data``
  (skipped with the ``shared_data`` fixture's reason when it is absent).

The workspace holds ``work/`` (the current directory: ``data/demo``, ``data/examples``, ``maps``)
and ``shared/data`` (a link to the real data), so that ``../shared/data/...`` and the example
configs' relative paths resolve as they do beside a clone. Nothing is written into the
repository. ``geoprio`` is the project's console script (its ``bin`` folder first on ``PATH``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BIN = Path(sys.executable).parent

MARK = re.compile(r"^<!--\s*test(?::\s*(?P<kind>[a-z]+))?\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>[a-z]*)\s*$")


@dataclass(frozen=True)
class Block:
    """One marked fenced block."""

    path: Path
    line: int
    kind: str  # "run", "script" or "shared"
    lang: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def marked_blocks(path: Path) -> list[Block]:
    """The blocks of a Markdown file that a ``<!-- test -->`` comment marks runnable."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    for i, line in enumerate(lines):
        m = MARK.match(line.strip())
        if not m:
            continue
        fence = FENCE.match(lines[i + 1].strip()) if i + 1 < len(lines) else None
        assert fence, f"{path}:{i + 1}: a test marker must be followed by a fenced block"
        end = next(j for j in range(i + 2, len(lines)) if lines[j].strip() == "```")
        kind = m.group("kind") or "run"
        assert kind in {"run", "script", "shared"}, f"{path}:{i + 1}: unknown marker {kind!r}"
        lang = fence.group("lang")
        assert lang in {"bash", "python"}, f"{path}:{i + 1}: only bash and python blocks run"
        blocks.append(Block(path, i + 2, kind, lang, "\n".join(lines[i + 2 : end]) + "\n"))
    return blocks


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


BLOCKS = [b for p in doc_files() for b in marked_blocks(p)]


def commands(code: str) -> list[str]:
    """The commands of a bash block: continuation lines joined, comments and blanks skipped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [ln for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary clone-like folder with the demo city written by ``geoprio demo`` (once)."""
    top = tmp_path_factory.mktemp("docs")
    work = top / "work"
    (work / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "examples", work / "data" / "examples")
    shared = ROOT.parent / "shared" / "data"
    if shared.is_dir():
        (top / "shared").mkdir()
        (top / "shared" / "data").symlink_to(shared, target_is_directory=True)
    run = subprocess.run(
        [str(BIN / "geoprio"), "demo", "--out", "data/demo", "--maps", "maps"],
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"geoprio demo failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("GEOPRIO_DEBUG", None)
    env["NO_MKDOCS_2_WARNING"] = "1"  # mkdocs-material's banner about its successor
    return env


def _run(args: list[str], cwd: Path, what: str) -> None:
    res = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{what} exited {res.returncode}\n--- stdout\n{res.stdout[-4000:]}\n--- stderr\n{res.stderr[-4000:]}"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_marked_block_runs(block: Block, workspace: Path, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if block.kind == "shared":
        request.getfixturevalue("shared_data")
    if block.lang == "bash":
        for cmd in commands(block.code):
            _run(["bash", "-e", "-c", cmd], workspace, f"{block.id}: `{cmd}`")
    else:
        script = tmp_path / "script.py"
        script.write_text(block.code, encoding="utf-8")
        _run([sys.executable, str(script)], workspace, f"{block.id}: python script")


def test_readme_has_the_plain_script() -> None:
    """The README's Python tour is marked to run as a plain script, without a __main__ guard."""
    scripts = [b for b in BLOCKS if b.path.name == "README.md" and b.kind == "script"]
    assert len(scripts) == 1
    assert "__main__" not in scripts[0].code


def test_every_guide_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")]
    assert pages
    missing = [p for p in pages if p not in nav]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"


def test_guide_builds_strict(tmp_path: Path) -> None:
    _run([str(BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")], ROOT, "mkdocs build --strict")
    assert (tmp_path / "site" / "index.html").is_file()
