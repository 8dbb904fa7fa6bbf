"""One run protocol: options in, a result out, ``result.write(out_dir, formats)`` writes it all.

Every geoprio job follows the same rule:

1. It takes one frozen options object (an :class:`~geoprio.options.Options` model) that holds
   everything needed to run it again: input paths, load settings and analysis parameters.
2. It returns a result object and writes nothing.
3. ``result.write(out_dir, formats=None)`` writes the outputs into ``out_dir`` (atomically,
   each file through a temporary file and a rename) and then, last, one ``manifest.json``
   beside them, by :func:`write_result`; it returns a :class:`Written`.
4. ``geoprio <command> --manifest DIR/manifest.json`` replays a run: :func:`replay` refuses if
   an input is missing or changed, rebuilds the options from the manifest, runs the job again,
   writes, and says which outputs are byte-identical.

A result class satisfies :class:`Result`; its ``write`` is usually three lines: write its
files with :mod:`geoprio.io.files`, then return ``write_result(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from geoprio.errors import ManifestError
from geoprio.io import manifest
from geoprio.io.export import Export
from geoprio.options import Options, validated

__all__ = ["MANIFEST_NAME", "Export", "Replay", "Result", "Written", "replay", "write_result"]

#: The name of the manifest every job writes beside its outputs.
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Written:
    """What ``result.write`` wrote: the output files (in order) and the manifest."""

    files: tuple[Path, ...]
    manifest: Path

    @property
    def paths(self) -> list[Path]:
        """Every file written, the manifest last."""
        return [*self.files, self.manifest]


class Result(Protocol):
    """What every job returns."""

    @property
    def kind(self) -> str:
        """The manifest kind, e.g. ``"geoprio.hotspots"``."""
        ...

    def write(self, out_dir: str | Path, formats: Sequence[str] | None = None, *, command: str | None = None) -> Written:
        """Write the outputs and the manifest into ``out_dir``; return what was written.

        ``command`` is the command line recorded in the manifest (None from Python). Jobs that
        write layers or tables also take ``export=Export(crs=..., csv=..., lang=...)``
        (:class:`~geoprio.io.export.Export`) and record it in the manifest.
        """
        ...


def write_result(
    *,
    kind: str,
    out_dir: str | Path,
    files: Sequence[Path],
    options: Options | None,
    inputs: Iterable[str | Path | tuple[str, str | Path]] = (),
    formats: Sequence[str] | None = None,
    command: str | None = None,
    manifest_name: str = MANIFEST_NAME,
    export: Export | None = None,
    **extra: Any,
) -> Written:
    """Write ``manifest.json`` into ``out_dir`` for a result whose ``files`` are already written.

    ``options`` is stored whole (its JSON form) so that :func:`replay` can rebuild it;
    ``inputs`` are hashed (SHA-256) so that a replay refuses changed inputs; ``formats`` is
    recorded so that a replay writes the same files; ``extra`` holds the job's own keys
    (``parameters``, ``summary``, ``notes``…). ``manifest_name`` is for jobs that share a
    folder with the index (whose ``manifest.json`` the API reads), e.g.
    ``seguimiento_manifest.json``. ``export`` (the output CRS and CSV dialect) is recorded
    under ``export`` so that a replay writes the same way.
    """
    if export is not None:
        extra = {"export": export.record(), **extra}
    doc = manifest.document(
        kind=kind,
        command=command,
        inputs=inputs,
        outputs=list(files),
        options=options.model_dump(mode="json") if options is not None else None,
        formats=list(formats) if formats is not None else None,
        **extra,
    )
    path = manifest.write(doc, Path(out_dir) / manifest_name)
    return Written(tuple(files), path)


OptionsT = TypeVar("OptionsT", bound=Options)
ResultT = TypeVar("ResultT", bound=Result)


@dataclass(frozen=True)
class Replay:
    """A replayed run: its result, what it wrote, and which text outputs match the recorded ones."""

    result: Any
    written: Written
    identical: list[str]
    different: list[str]


def replay(
    path: str | Path,
    *,
    kind: str,
    options_type: type[OptionsT],
    run: Callable[[OptionsT], ResultT],
    out_dir: str | Path | None = None,
    command: str | None = None,
    publish: Callable[[ResultT, dict[str, Any]], ResultT] | None = None,
) -> Replay:
    """Re-run the job a manifest describes and compare the outputs with the recorded ones.

    The outputs go to ``out_dir`` (default: the manifest's folder, overwriting the run's files
    with identical ones); ``command`` is recorded in the new manifest. A public release (a
    manifest with a public ``disclosure`` record) is replayed only through ``publish``, which
    turns the re-run result into the same public release; without it the replay is refused,
    so that a replay never writes a full release over a public one. Raises
    :class:`~geoprio.errors.ManifestError` when the file is not a ``kind`` manifest, when an
    input is missing or changed since the run, or for a public release without ``publish``.
    """
    p = Path(path)
    doc = manifest.read(p, kind=kind)
    disclosure = doc.get("disclosure")
    public = isinstance(disclosure, dict) and bool(disclosure.get("public"))
    if public and publish is None:
        raise ManifestError(f"{p}: a public release cannot be replayed (that would write the full outputs); run it again with --public")
    manifest.check_inputs(doc, source=p)
    options = validated(options_type, doc.get("options") or {}, source=f"{p} (options)", what="options")
    result = run(options)
    if public and publish is not None and isinstance(disclosure, dict):
        result = publish(result, disclosure)
    target = out_dir if out_dir is not None else p.parent
    recorded = doc.get("export")
    if isinstance(recorded, dict):  # manifests written before the export options have none: defaults
        export = Export(**{k: v for k, v in recorded.items() if k in Export.model_fields})
        written = result.write(target, doc.get("formats"), command=command, export=export)  # type: ignore[call-arg]
    else:
        written = result.write(target, doc.get("formats"), command=command)
    identical, different = manifest.compare_outputs(doc, written.files)
    return Replay(result, written, identical, different)
