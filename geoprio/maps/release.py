"""Public maps: which inputs a public map may draw, and whether a written map is public.

A map is public only if it was written as a public release: ``geoprio map --public
[--min-count N]`` (:class:`~geoprio.maps.from_files.MapOptions` ``public``) draws only output
files whose run's ``manifest.json`` (beside them) records a public release
(:func:`geoprio.disclosure.disclosure_of`) with a ``min_count`` at least the map's, and
records ``disclosure`` in the map's own manifest. :func:`check_public_inputs` refuses any
other input with an error that names the folder and the command to run.
:func:`map_disclosure` reads a written map's release back and :func:`published_to` says
whether a caller under a policy may see it (the API lists and serves maps by it).

Existing facilities (``existing_cameras`` / ``existing_garitas``) are not outputs of a run
(the locations of installed cameras and garitas, not records): they need no release.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from geoprio.disclosure import DisclosurePolicy, disclosure_of
from geoprio.errors import InputError

__all__ = ["RELEASE_FREE", "check_public_inputs", "map_disclosure", "published_to"]

#: Input roles that are not outputs of a geoprio run, drawn on public maps as given.
RELEASE_FREE = ("existing_cameras", "existing_garitas")

#: The command that writes each input role, for the error message.
_COMMANDS = {
    "index": "geoprio index",
    "clusters": "geoprio hotspots",
    "cells": "geoprio hotspots",
    "cameras": "geoprio plan cameras",
    "cameras_curve": "geoprio plan cameras",
    "cameras_manifest": "geoprio plan cameras",
    "garitas": "geoprio plan garitas",
    "garitas_curve": "geoprio plan garitas",
    "garitas_stretches": "geoprio plan garitas",
    "garitas_manifest": "geoprio plan garitas",
    "tracking": "geoprio indicators",
    "entornos": "geoprio entornos",
}


def _manifest(path: Path) -> dict[str, object] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def check_public_inputs(inputs: Sequence[tuple[str, Path]], policy: DisclosurePolicy) -> None:
    """Raise :class:`~geoprio.errors.InputError` unless every ``(role, path)`` input comes from
    a public release with ``min_count`` ≥ ``policy.min_count`` (its folder's ``manifest.json``).
    """
    for role, path in inputs:
        if role in RELEASE_FREE:
            continue
        folder = Path(path).parent
        manifest = folder / "manifest.json"
        doc = _manifest(manifest) if manifest.is_file() else None
        release = disclosure_of(doc) if doc is not None else None
        if release is not None and release.min_count >= policy.min_count:
            continue
        if doc is None:
            why = "has no manifest.json"
        elif release is None:
            why = "is a full (internal) release: its manifest.json records no public disclosure"
        else:
            why = f"is a public release with min_count {release.min_count}, below the map's {policy.min_count}"
        command = _COMMANDS.get(role, "the command that wrote it")
        raise InputError(
            f"{role} {path}: a public map draws only public releases, and the folder {folder} {why}; "
            f"write a public release first (`{command} ... --public --min-count {policy.min_count} --out <folder>`) "
            "and draw from that folder"
        )


def map_disclosure(html_path: str | Path) -> DisclosurePolicy | None:
    """The release a written map was made under (its ``<name>.manifest.json``): the policy of a
    public map, or None for a full one (no manifest, an unreadable one, or one without a
    public ``disclosure``).
    """
    p = Path(html_path)
    doc = _manifest(p.with_name(f"{p.stem}.manifest.json"))
    return disclosure_of(doc) if doc is not None else None


def published_to(html_path: str | Path, policy: DisclosurePolicy | None) -> bool:
    """Whether a caller under ``policy`` may see the map (None: full access, every map)."""
    if policy is None:
        return True
    release = map_disclosure(html_path)
    return release is not None and release.min_count >= policy.min_count
