"""Worker processes that run the exact solvers to a deadline the parent enforces.

HiGHS may overrun its own time limit (a long simplex solve is not interrupted) and cannot be
stopped from another thread, so the exact solvers run in child processes that the parent
kills at its deadline, keeping whatever they reported so far.

A worker is a new interpreter started from a module entry point,
``python -m geoprio.placement.worker_process`` (which calls :func:`serve`), that reads one pickled task from its standard input
and streams ``(kind, payload)`` messages back through a pipe. It never imports the caller's
``__main__``: the :mod:`multiprocessing` start methods that spawn or fork-serve a process
re-import the main script in the child, which re-runs a plain script that calls
:func:`~geoprio.placement.plan.plan_cameras` without an ``if __name__ == "__main__":``
guard (its body ran three times, the workers died and the plan silently fell back to the
heuristics). Starting from a module entry point also never forks a parent that may be
running threads (BLAS, HiGHS, the HTTP server). The cost is an interpreter start-up per
worker (about 0.7 s, overlapped with the parent's heuristics on large problems); the task
carries a wall-clock deadline so that a late start does not push the solver past the
parent's deadline.

Tasks (dicts with ``kind`` and ``seconds`` or ``until``, a :func:`time.time` deadline):

* ``mclp``: :func:`~geoprio.placement.milp.mclp_milp` → ``("milp", MilpOutcome)``;
* ``lscp``: the LP bound (``("lp_bound", value)``) then
  :func:`~geoprio.placement.milp.lscp_milp` → ``("milp", MilpOutcome)``;
* ``lns``: with a site ``price``, first :func:`~geoprio.placement.decomposition.decompose`
  for up to ``DECOMPOSITION_SHARE`` of the time (``bound``, ``incumbent``, ``decomp_end``),
  then :func:`~geoprio.placement.milp.lns` (``incumbent``, ``lns_end``).

Every task ends with ``("done", None)`` or ``("error", message)``; a worker that exits
without either (or cannot start) is reported to :func:`run_workers`'s ``handle`` as an
``error`` too, so that a solver can say its exact path failed. POSIX only (the pipes are
file descriptors read with :func:`multiprocessing.connection.wait`).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO, Any

from geoprio.placement.decomposition import decompose
from geoprio.placement.milp import lns, lscp_milp, mclp_milp

__all__ = ["DECOMPOSITION_SHARE", "WORKER_MODULE", "Worker", "WorkerProcess", "run_task", "run_workers", "serve", "worker_command"]

#: Share of the search worker's time the decomposition by site price may use before the neighbourhood search.
DECOMPOSITION_SHARE = 0.6
#: The module a worker process runs (``python -m``); nothing imports it, so it runs exactly once.
WORKER_MODULE = "geoprio.placement.worker_process"
#: Seconds the parent waits for a killed worker to be reaped.
REAP_S = 1.0

Handle = Callable[[str, str, Any], bool]


def worker_command() -> list[str]:
    """The command line that starts a worker: this interpreter, ``-m geoprio.placement.worker_process``."""
    return [sys.executable, "-m", WORKER_MODULE]


def _package_root() -> Path:
    """The folder that holds the imported ``geoprio`` package (the workers import the same one)."""
    return Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- the child side


def run_task(task: dict[str, Any], send: Callable[[tuple[str, Any]], None]) -> None:
    """Run one solver task, passing every message to ``send`` (the body of a worker process)."""
    task = dict(task)
    kind = task.pop("kind")
    until = task.pop("until", None)
    seconds = task.pop("seconds", None)
    budget_s = float(until - time.time()) if until is not None else float(seconds if seconds is not None else 60.0)
    budget_s = max(budget_s, 0.05)
    nice = task.pop("nice", 0)
    if nice and hasattr(os, "nice"):  # a lower priority than the other worker's (on a busy machine)
        try:
            os.nice(nice)
        except OSError:  # pragma: no cover
            pass
    deadline = time.perf_counter() + budget_s
    if kind == "mclp":
        send(("milp", mclp_milp(task["model"], p=task["p"], budget=task["budget"], time_limit_s=budget_s, mip_rel_gap=task["gap"])))
    elif kind == "lscp":
        lp = lscp_milp(task["model"], target=task["target"], time_limit_s=budget_s / 4, relax=True)
        if lp.dual_bound is not None:
            send(("lp_bound", lp.dual_bound))
        left = deadline - time.perf_counter()
        send(("milp", lscp_milp(task["model"], target=task["target"], time_limit_s=max(left, 0.05), mip_rel_gap=task["gap"])))
    elif kind == "lns":
        chosen = task["chosen"]
        if task.get("price") is not None:  # first the decomposition by site price (maximal covering with p)
            share = time.perf_counter() + DECOMPOSITION_SHARE * budget_s  # the rest is left to the neighbourhood search
            dec = decompose(task["model"], p=task["p"], mu=task["price"], incumbent=chosen, deadline=share, gap=task["gap"], send=send)
            send(("decomp_end", dec.stats))
            if dec.chosen is not None and len(dec.chosen):
                chosen = dec.chosen
        lns(
            task["model"],
            chosen,
            p=task["p"],
            budget=task["budget"],
            deadline=deadline,
            random_state=task["random_state"],
            send=send,
        )
    else:
        raise ValueError(f"unknown task kind {kind!r}")
    send(("done", None))


def _exit_on_eof(reader: Connection) -> None:  # pragma: no cover - runs in a child process
    """Exit the worker when the parent closes its end (the parent ended or stopped the worker)."""
    try:
        while True:
            reader.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(0)


def serve() -> int:  # pragma: no cover - runs in a child process
    """The body of a worker process: one task from stdin, messages to the original stdout."""
    out_fd = os.dup(1)
    try:  # everything goes back through the pipe; HiGHS sometimes prints debug lines to stdout itself
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
    reader = Connection(os.dup(0), writable=False)
    writer = Connection(out_fd, readable=False)
    try:
        task = pickle.loads(reader.recv_bytes())
        if task is None:
            return 0
        threading.Thread(target=_exit_on_eof, args=(reader,), daemon=True).start()
        run_task(task, writer.send)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    except Exception as exc:  # report and exit: the parent keeps its own plan
        try:
            writer.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
        except (BrokenPipeError, OSError):
            pass
    finally:
        writer.close()
    return 0


# --------------------------------------------------------------------------- the parent side


class WorkerProcess:
    """The child process of a :class:`Worker` (a :class:`subprocess.Popen` with ``is_alive``)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        if self.popen.poll() is None:
            try:
                self.popen.kill()
            except OSError:  # pragma: no cover - already gone
                pass

    def join(self, timeout: float | None = None) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is normally immediate
            pass


def _reap(popen: subprocess.Popen[bytes]) -> None:
    """Kill and reap a worker still running when its :class:`Worker` is collected or Python exits."""
    if popen.poll() is None:
        try:
            popen.kill()
            popen.wait(REAP_S)
        except (OSError, subprocess.TimeoutExpired):  # pragma: no cover
            pass


class Worker:
    """A child process that runs one solver task and can be stopped at any time.

    Started early so that its start-up overlaps the parent's heuristics; :meth:`submit` sends
    the task (from a thread: the parent never blocks on a child that is still starting),
    :meth:`stop` kills the process if still running. When the process cannot be started,
    ``error`` says why and the worker is inactive from the start.
    """

    def __init__(self, name: str, command: list[str] | None = None) -> None:
        self.name = name
        self.error: str | None = None
        self.active = False
        self.done = False
        self.proc: WorkerProcess | None = None
        self.reader: Connection | None = None
        self._writer: Connection | None = None
        self._stderr: IO[bytes] | None = None
        self._sender: threading.Thread | None = None
        cmd = command if command is not None else worker_command()
        if os.name == "nt":  # pragma: no cover - the pipes are POSIX file descriptors
            self.error = "solver worker processes are not supported on Windows"
            return
        if not cmd or not cmd[0]:
            self.error = "no Python executable to start a solver worker (sys.executable is empty)"
            return
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self._stderr = tempfile.TemporaryFile()
            popen = subprocess.Popen(
                cmd,
                stdin=to_child_r,
                stdout=from_child_w,
                stderr=self._stderr,
                cwd=_package_root(),
                close_fds=True,
            )
        except OSError as exc:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            self.error = f"could not start a solver worker ({' '.join(cmd)}): {exc}"
            return
        os.close(to_child_r)
        os.close(from_child_w)
        self.proc = WorkerProcess(popen)
        self._writer = Connection(to_child_w, readable=False)
        self.reader = Connection(from_child_r, writable=False)
        self.active = True
        self._finalizer = weakref.finalize(self, _reap, popen)

    def submit(self, task: dict[str, Any] | None) -> None:
        """Send ``task`` to the process (None: nothing to do, the process exits)."""
        if self._writer is None:
            return
        data = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
        writer = self._writer

        def send() -> None:
            try:
                writer.send_bytes(data)
            except (BrokenPipeError, OSError):
                pass

        self._sender = threading.Thread(target=send, name=f"geoprio-{self.name}-submit", daemon=True)
        self._sender.start()
        if task is None:
            self.active = False

    def stderr_tail(self, n: int = 600) -> str:
        """The last ``n`` characters the process wrote to its standard error."""
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode("utf-8", "replace")[-n:].strip()
        except (OSError, ValueError):  # pragma: no cover
            return ""

    def failure(self) -> str:
        """Why the process ended without finishing its task."""
        code = self.proc.exitcode if self.proc is not None else None
        tail = self.stderr_tail()
        return f"exited with code {code} before finishing its task" + (f": {tail}" if tail else "")

    def stop(self) -> None:
        """Kill the process if still running, reap it and close the pipes."""
        self.active = False
        if self.proc is not None:
            self.proc.kill()
            self.proc.join(REAP_S)
        if self._sender is not None:  # its write fails at once now that the child is gone
            self._sender.join(REAP_S)
            if self._sender.is_alive():  # pragma: no cover - never close a pipe another thread writes to
                self._writer = None
        for conn in (self._writer, self.reader):
            if conn is not None:
                try:
                    conn.close()
                except OSError:  # pragma: no cover
                    pass
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def run_workers(workers: list[Worker], deadline: float, handle: Handle, idle: Callable[[], bool] | None = None) -> bool:
    """Relay messages from ``workers`` to ``handle(name, kind, payload)`` until the deadline.

    ``deadline`` is a :func:`time.perf_counter` value. ``handle`` returns True to stop early
    (the plan is proven good enough). A worker that could not start, or that ends without
    ``done``, is passed to ``handle`` as ``(name, "error", why)``. ``idle()``, if given, is
    called between waits to do a slice of work in the parent and returns False when it has
    nothing left to do. Every worker is killed on return. Returns True when the deadline
    (not the workers or ``handle``) ended the wait.
    """
    hit_deadline = False
    try:
        stop = False
        for w in workers:
            if w.error is not None and not w.done:
                w.done = True
                stop = handle(w.name, "error", w.error) or stop
        while not stop:
            live = [w for w in workers if w.active and w.reader is not None]
            if not live:
                break
            left = deadline - time.perf_counter()
            if left <= 0:
                hit_deadline = True
                break
            timeout = min(left, 0.02) if idle is not None else left
            ready = wait([w.reader for w in live if w.reader is not None], timeout=timeout)
            for w in live:
                if w.reader not in ready or w.reader is None:
                    continue
                try:
                    kind, payload = w.reader.recv()
                except (EOFError, OSError):
                    w.active = False
                    if not w.done:
                        w.done = True
                        if w.proc is not None:
                            w.proc.join(0.2)  # so that its exit code is known
                        stop = handle(w.name, "error", w.failure()) or stop
                    continue
                if kind == "done":
                    w.active = False
                    w.done = True
                elif kind == "error":
                    w.done = True
                    stop = handle(w.name, kind, payload) or stop
                elif handle(w.name, kind, payload):
                    stop = True
            if not stop and idle is not None and not ready and not idle():
                idle = None
    finally:
        for w in workers:
            w.stop()
    return hit_deadline
