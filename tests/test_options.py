"""The shared options base and the run protocol: strict frozen options, one manifest rule, replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pydantic
import pytest

from geoprio.errors import ConfigError, ManifestError
from geoprio.io import files as io
from geoprio.io.results import MANIFEST_NAME, Written, replay, write_result
from geoprio.options import Options, validated


class Inner(Options):
    radius_m: float = 100.0


class Job(Options):
    path: Path
    factor: int = 2
    inner: Inner = Inner()


def test_options_are_frozen_and_refuse_unknown_keys_with_a_suggestion():
    job = Job(path=Path("x.csv"))
    with pytest.raises(pydantic.ValidationError):
        job.factor = 3  # type: ignore[misc]
    with pytest.raises(ConfigError, match=r"job.toml: invalid configuration\n  factr: unknown setting; did you mean 'factor'\?"):
        validated(Job, {"path": "x.csv", "factr": 3}, source="job.toml")
    with pytest.raises(ConfigError, match=r"inner.radius: unknown setting; did you mean 'radius_m'\?"):
        validated(Job, {"path": "x.csv", "inner": {"radius": 3}}, source="job.toml")


@dataclass(frozen=True)
class Doubled:
    """A toy job result: the input file's number, doubled."""

    options: Job
    value: int
    kind: str = "test.doubled"

    def write(self, out_dir: str | Path, formats: Sequence[str] | None = None, *, command: str | None = None) -> Written:
        out = io.write_text(f"{self.value}\n", Path(out_dir) / "value.csv")
        return write_result(kind=self.kind, out_dir=out_dir, files=[out], options=self.options, inputs=[self.options.path], command=command)


def run_doubled(options: Job) -> Doubled:
    return Doubled(options, int(options.path.read_text()) * options.factor)


def test_write_result_then_replay_reproduces_and_refuses_changed_inputs(tmp_path):
    source = tmp_path / "n.csv"
    source.write_text("21")
    result = run_doubled(Job(path=source))
    assert not (tmp_path / "out").exists()  # running writes nothing
    written = result.write(tmp_path / "out", command="geoprio test")
    assert written.files == (tmp_path / "out" / "value.csv",) and written.manifest.name == MANIFEST_NAME
    assert (tmp_path / "out" / "value.csv").read_text() == "42\n"

    again = replay(written.manifest, kind="test.doubled", options_type=Job, run=run_doubled, out_dir=tmp_path / "again")
    assert again.result.value == 42 and again.identical == ["value.csv"] and again.different == []

    with pytest.raises(ManifestError, match="a 'test.doubled' manifest, expected 'geoprio.index'"):
        replay(written.manifest, kind="geoprio.index", options_type=Job, run=run_doubled)
    source.write_text("22")
    with pytest.raises(ManifestError, match=r"n.csv: changed since the run \(sha256 differs\)"):
        replay(written.manifest, kind="test.doubled", options_type=Job, run=run_doubled)
