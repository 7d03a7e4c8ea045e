"""The command line's progress display for long scans: a live bar on a terminal, plain lines in a log.

:class:`ProgressDisplay` is a :data:`audit.backends.Progress` callback. On a
terminal it draws one rich bar per phase (``checking``, ``counting``) with the
share done and the time taken, or a spinner when the engine cannot say how far
it is (PostgreSQL). Elsewhere (CI logs, files) it prints a line each time a
phase passes another tenth, so a log shows that a long scan is moving without
filling up.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

_LABELS = {"checking": "checking the data", "counting": "counting"}


class ProgressDisplay:
    """Shows progress reports on ``console``; use as a context manager around the audit."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._live = console.is_terminal
        self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                             TimeElapsedColumn(), console=console, transient=True) if self._live else None
        self._tasks: dict[str, TaskID] = {}
        self._tenths: dict[str, int] = {}
        self._started: dict[str, float] = {}

    def __enter__(self) -> "ProgressDisplay":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, phase: str, share: float | None) -> None:
        """Record that ``phase`` is ``share`` done (0 to 1), or still running when ``share`` is None."""
        with self._lock:
            label = _LABELS.get(phase, phase)
            start = self._started.setdefault(phase, time.perf_counter())
            if self._bar is not None:
                task = self._tasks.get(phase)
                if task is None:
                    task = self._tasks[phase] = self._bar.add_task(label, total=None)
                if share is not None:
                    self._bar.update(task, total=1.0, completed=share)
                return
            if share is None:
                return
            tenth = int(share * 10 + 1e-9)
            if tenth > self._tenths.get(phase, 0):
                self._tenths[phase] = tenth
                self.console.print(f"{label}: {tenth * 10}% ({time.perf_counter() - start:.1f} s)", markup=False)
