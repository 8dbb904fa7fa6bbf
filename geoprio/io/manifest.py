"""Run manifests: what every geoprio run records beside its outputs, and how it is replayed.

A manifest is a JSON document with the same core keys whatever the command: ``kind``,
``geoprio_version``, ``created_at`` (UTC), ``command``, ``inputs`` (path, SHA-256, bytes;
optionally a role), ``outputs`` (path, SHA-256), ``environment`` (Python, platform and the
versions of the libraries that shape the numbers), plus the job's own keys (its ``options``,
``formats``, ``parameters``, ``notes``…; manifests written before the run protocol hold a
``config`` instead of ``options``). :func:`document` builds it, :func:`write` writes it
atomically; jobs call them through :func:`geoprio.io.results.write_result`. For replay,
:func:`read` loads one, :func:`check_inputs` refuses to re-run when an input is missing or
changed, and :func:`compare_outputs` says which re-written outputs are byte-identical (text
outputs only: GeoPackage and GeoParquet embed write times).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from geoprio._version import __version__
from geoprio.errors import ManifestError
from geoprio.io import files as io

__all__ = ["check_inputs", "compare_outputs", "document", "environment", "file_entry", "read", "write"]

#: Libraries whose versions every manifest records (those not installed are left out).
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "shapely", "geopandas", "pyproj", "pyogrio", "folium", "branca", "hdbscan")

#: Outputs compared byte for byte on replay.
COMPARED_SUFFIXES = (".csv", ".json")


def environment() -> dict[str, str]:
    """Python, the platform, and the installed versions of :data:`LIBRARIES`."""
    env = {"python": sys.version.split()[0], "platform": platform.platform()}
    for lib in LIBRARIES:
        try:
            env[lib] = version(lib)
        except PackageNotFoundError:  # optional packages
            pass
    return env


def file_entry(path: str | Path, *, role: str | None = None, size: bool = True) -> dict[str, Any]:
    """``{"role"?, "path", "sha256", "bytes"?}`` of one file."""
    p = Path(path)
    entry: dict[str, Any] = {"role": role} if role is not None else {}
    entry.update(path=str(p), sha256=io.sha256_file(p))
    if size:
        entry["bytes"] = p.stat().st_size
    return entry


def _plain(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def document(
    *,
    kind: str,
    command: str | None,
    inputs: Iterable[str | Path | tuple[str, str | Path]],
    outputs: Sequence[str | Path],
    config: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    """A manifest document.

    ``inputs`` are paths or ``(role, path)`` pairs; ``config`` a pydantic model (stored as
    its JSON form) or plain data; ``extra`` the command's own keys (``parameters``,
    ``notes``, ``result``…), stored as JSON-safe data.
    """
    entries = [file_entry(i[1], role=i[0]) if isinstance(i, (tuple, list)) else file_entry(i) for i in inputs]
    doc: dict[str, Any] = {
        "kind": kind,
        "geoprio_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
    }
    if config is not None:
        doc["config"] = json.loads(config.model_dump_json()) if hasattr(config, "model_dump_json") else _plain(config)
    doc["inputs"] = entries
    doc.update({k: _plain(v) for k, v in extra.items()})
    doc["outputs"] = [file_entry(p, size=False) for p in outputs]
    doc["environment"] = environment()
    return doc


def write(doc: Mapping[str, Any], path: str | Path) -> Path:
    """Write a manifest atomically."""
    return io.write_json(dict(doc), path)


def read(path: str | Path, *, kind: str | None = None) -> dict[str, Any]:
    """Load a manifest, checking it is one (and of ``kind`` when given)."""
    p = Path(path)
    if not p.is_file():
        raise ManifestError(f"{p}: manifest not found")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        doc["inputs"], doc["outputs"]  # noqa: B018 - the keys every manifest has
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{p}: not a geoprio manifest ({exc})") from None
    found = doc.get("kind", "geoprio.index")  # index manifests written before kinds existed have none
    if kind is not None and found != kind:
        raise ManifestError(f"{p}: a {found!r} manifest, expected {kind!r}")
    return doc


def check_inputs(doc: Mapping[str, Any], *, source: str | Path = "manifest") -> None:
    """Raise :class:`ManifestError` listing every input that is missing or changed since the run."""
    problems = []
    for item in doc["inputs"]:
        ip = Path(item["path"])
        if not ip.exists():
            problems.append(f"{ip}: missing")
        elif io.sha256_file(ip) != item["sha256"]:
            problems.append(f"{ip}: changed since the run (sha256 differs)")
    if problems:
        raise ManifestError(f"{source}: cannot reproduce the run:\n  " + "\n  ".join(problems))


def compare_outputs(doc: Mapping[str, Any], outputs: Iterable[Path]) -> tuple[list[str], list[str]]:
    """Names of the re-written text outputs that are identical to / different from the recorded ones."""
    recorded = {Path(o["path"]).name: o["sha256"] for o in doc["outputs"]}
    identical: list[str] = []
    different: list[str] = []
    for out in outputs:
        if out.suffix not in COMPARED_SUFFIXES or out.name not in recorded:
            continue
        (identical if io.sha256_file(out) == recorded[out.name] else different).append(out.name)
    return identical, different
