"""Where a computation runs: in memory, on a local Dask cluster, or on an existing one.

The engine is chosen by one word or address (:class:`EngineOptions`):

* ``"memory"`` (the default): everything in this process, geoprio's in-memory core;
* ``"local"``: a Dask cluster on this machine, with ``workers`` worker processes of
  ``threads_per_worker`` threads and a memory limit per worker (``memory_per_worker``),
  started and closed by :func:`open_engine`;
* ``"tcp://host:8786"`` (any Dask scheduler address, also ``tls://``): an existing cluster,
  which :func:`open_engine` connects to and leaves running.

The local cluster's scheduler and workers are started as new interpreters from a module entry
point (``python -m dask spec``, Dask's own ``SubprocessCluster``), never by re-importing the
caller's ``__main__``: a plain script without an ``if __name__ == "__main__":`` guard stays
safe. With ``processes=False`` the workers are threads of this process (quick to start; the
tests use it). Dask and ``distributed`` are optional dependencies, imported only when a
cluster is asked for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from geoprio.errors import ConfigError, InputError, MissingDependencyError
from geoprio.options import Options

__all__ = [
    "DEFAULT_MEMORY_PER_WORKER",
    "Engine",
    "EngineOptions",
    "check_local_memory",
    "machine_memory_bytes",
    "open_engine",
    "parse_bytes",
    "parse_engine",
]

#: Memory limit of each worker of a local cluster unless given.
DEFAULT_MEMORY_PER_WORKER = "2GB"

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
}
_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


def parse_bytes(text: str | int) -> int:
    """A size such as ``"2GB"``, ``"512 MiB"`` or ``1_000_000`` in bytes (KB = 1000, KiB = 1024, as Dask reads them)."""
    if isinstance(text, bool):
        raise ConfigError(f"memory_per_worker: expected a size such as '2GB' or '512MiB', got {text!r}")
    if isinstance(text, int):
        value = text
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", str(text))
        unit = m.group(2).lower() if m else ""
        if m is None or unit not in _UNITS:
            raise ConfigError(f"memory_per_worker: expected a size such as '2GB' or '512MiB', got {text!r}")
        value = int(float(m.group(1)) * _UNITS[unit])
    if value <= 0:
        raise ConfigError(f"memory_per_worker: the size must be positive, got {text!r}")
    return value


def parse_engine(text: str) -> str:
    """Check an engine: ``memory``, ``local`` or a Dask scheduler address (``tcp://host:8786``)."""
    word = str(text).strip()
    if word.lower() in ("memory", "local"):
        return word.lower()
    if word.lower().startswith(_SCHEMES) and len(word.split("://", 1)[1]) > 0:
        return word
    raise ConfigError(
        f"engine: expected 'memory' (in this process), 'local' (a Dask cluster on this machine) "
        f"or a Dask scheduler address such as 'tcp://host:8786', got {text!r}"
    )


class EngineOptions(Options):
    """Where a computation runs (see the module docstring)."""

    engine: str = "memory"
    workers: int = Field(default=2, ge=1)
    threads_per_worker: int = Field(default=1, ge=1)
    memory_per_worker: str = DEFAULT_MEMORY_PER_WORKER
    processes: bool = True
    timeout_s: float = Field(default=30.0, gt=0)

    @field_validator("engine")
    @classmethod
    def _engine(cls, v: str) -> str:
        return parse_engine(v)

    @field_validator("memory_per_worker")
    @classmethod
    def _memory(cls, v: str) -> str:
        parse_bytes(v)
        return v

    @property
    def kind(self) -> Literal["memory", "local", "scheduler"]:
        """``"memory"``, ``"local"`` or ``"scheduler"`` (an existing cluster)."""
        return "memory" if self.engine == "memory" else "local" if self.engine == "local" else "scheduler"

    @property
    def memory_limit_bytes(self) -> int:
        """``memory_per_worker`` in bytes."""
        return parse_bytes(self.memory_per_worker)


@dataclass(frozen=True, eq=False)
class Engine:
    """An open engine: its options and, on a cluster, the Dask ``Client`` and the scheduler address."""

    options: EngineOptions
    client: Any = None
    address: str | None = None

    @property
    def kind(self) -> str:
        """``"memory"``, ``"local"`` or ``"scheduler"``."""
        return self.options.kind

    @property
    def distributed(self) -> bool:
        """True on a Dask cluster."""
        return self.client is not None

    def workers(self) -> dict[str, dict[str, Any]]:
        """Per worker address: ``threads`` and ``memory_limit`` (bytes; 0 without a limit). Empty in memory."""
        if self.client is None:
            return {}
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {a: {"threads": int(w.get("nthreads", 0)), "memory_limit": int(w.get("memory_limit") or 0)} for a, w in info.items()}

    def describe(self) -> dict[str, Any]:
        """What the manifest records of the engine (never results: those do not depend on it)."""
        doc: dict[str, Any] = {"engine": self.kind}
        if self.client is not None:
            workers = self.workers()
            doc.update(
                address=self.address,
                workers=len(workers),
                threads=sum(w["threads"] for w in workers.values()),
                memory_per_worker=sorted({w["memory_limit"] for w in workers.values()}),
            )
        return doc


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - dask is installed where tests run
        raise MissingDependencyError(
            f"a Dask engine needs dask and distributed ({exc}); install them with pip install 'geoprio[dask]', or use engine 'memory'"
        ) from None
    return distributed


@contextmanager
def open_engine(engine: EngineOptions | Engine | str = "memory") -> Iterator[Engine]:
    """Open the engine for the ``with`` block: start a local cluster or connect to a scheduler.

    An :class:`Engine` already open is used as it is (and left open); a local cluster is
    closed at the end of the block; an existing cluster is only disconnected from.
    """
    if isinstance(engine, Engine):
        yield engine
        return
    opts = engine if isinstance(engine, EngineOptions) else EngineOptions(engine=parse_engine(engine))
    if opts.kind == "memory":
        yield Engine(opts)
        return
    dist = _distributed()
    if opts.kind == "scheduler":
        try:
            client = dist.Client(opts.engine, timeout=f"{opts.timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"engine {opts.engine!r}: cannot reach a Dask scheduler there ({type(exc).__name__}: {exc}); "
                "start one (dask scheduler, dask worker ADDRESS) or use engine 'local'"
            ) from None
        try:
            yield Engine(opts, client, opts.engine)
        finally:
            client.close()
        return
    cluster = _local_cluster(dist, opts)
    try:
        client = dist.Client(cluster, set_as_default=False)
        try:
            client.wait_for_workers(opts.workers, timeout=opts.timeout_s)
            yield Engine(opts, client, cluster.scheduler_address)
        finally:
            client.close()
    finally:
        cluster.close()


def machine_memory_bytes() -> int | None:
    """The memory this process may use: the machine's physical memory, or its control group's
    limit when lower (a container); None where neither can be read.
    """
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text.isdigit() and int(text) > 0:
            sizes.append(int(text))
    return min(sizes) if sizes else None


def check_local_memory(opts: EngineOptions, available: int | None = None) -> None:
    """Refuse a local cluster whose workers together may take more memory than the machine has:
    each worker is allowed ``memory_per_worker`` before Dask pauses and restarts it, so
    ``workers × memory_per_worker`` over the machine's memory lets the operating system kill
    processes before Dask's limits act.
    """
    machine = machine_memory_bytes() if available is None else available
    need = opts.workers * opts.memory_limit_bytes
    if machine is not None and need > machine:
        gib = 1024**3
        fit = max(1, machine // opts.memory_limit_bytes)
        raise ConfigError(
            f"a local cluster of {opts.workers} workers × {opts.memory_per_worker} needs {need / gib:.1f} GiB, more than this "
            f"machine's {machine / gib:.1f} GiB; use at most {fit} workers of {opts.memory_per_worker}, or less memory per worker"
        )


def _local_cluster(dist: Any, opts: EngineOptions) -> Any:
    # The scheduler serves HTTP (dashboard, health) even without a dashboard, on 8787 unless
    # told otherwise: ":0" takes a free port, so two local clusters at once never collide.
    check_local_memory(opts)
    limit = opts.memory_limit_bytes
    if not opts.processes:
        return dist.LocalCluster(
            n_workers=opts.workers,
            threads_per_worker=opts.threads_per_worker,
            memory_limit=limit,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=":0",
        )
    from distributed.deploy.subprocess import SubprocessCluster

    return SubprocessCluster(
        n_workers=opts.workers,
        threads_per_worker=opts.threads_per_worker,
        worker_kwargs={"memory_limit": limit},
        dashboard_address=":0",
    )
