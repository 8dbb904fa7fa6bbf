"""A rich progress bar for the library's ``progress(step, done, total)`` callbacks.

The numeric cores (:func:`geoprio.hotspots.gistar.gi_star`,
:class:`geoprio.hotspots.clusters.DensityClusters`…) report progress through an optional
callback and never import rich. A command wraps its work in :func:`console_progress` and
passes the object it yields::

    with console_progress(lang) as progress:
        result = find_hotspots(options, progress=progress)

A running step shows as one bar with its elapsed time (its text is the label
``progress_<step>`` of topic ``hotspots``, or the step code if there is none); the bar goes
away when the step ends. Nothing is drawn when the console is not a terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from geoprio.cli.common import err
from geoprio.labels import label

__all__ = ["ConsoleProgress", "console_progress"]


class ConsoleProgress:
    """Callable ``progress(step, done, total)`` drawing one rich bar per running step."""

    def __init__(self, progress: Progress | None, lang: str = "es") -> None:
        self._progress = progress
        self._lang = lang
        self._tasks: dict[str, TaskID] = {}

    def _text(self, step: str) -> str:
        try:
            return label("hotspots", f"progress_{step}", self._lang)
        except KeyError:
            return step

    def __call__(self, step: str, done: int, total: int) -> None:
        if self._progress is None:
            return
        task = self._tasks.get(step)
        if done >= total:  # finished: the bar goes away
            if task is not None:
                self._progress.remove_task(task)
                del self._tasks[step]
            return
        if task is None:
            task = self._progress.add_task(self._text(step), total=max(total, 1))
            self._tasks[step] = task
        self._progress.update(task, completed=done, total=max(total, 1))


@contextmanager
def console_progress(lang: str = "es", *, console: Console | None = None) -> Iterator[ConsoleProgress]:
    """Yield a :class:`ConsoleProgress` drawing on ``console`` (stderr by default) while the block runs."""
    con = console or err
    if not con.is_terminal:
        yield ConsoleProgress(None, lang)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=con, transient=True) as bar:
        yield ConsoleProgress(bar, lang)
