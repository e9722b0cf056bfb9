"""Progress of a run: a rich bar on a terminal, one log line per finished node otherwise (a pod's
log, a CI job, a file)."""

from __future__ import annotations

import logging
import sys
from typing import Protocol

log = logging.getLogger("s1tiling_cloud.run")


class Progress(Protocol):
    def __enter__(self) -> Progress: ...
    def __exit__(self, *exc) -> None: ...
    def started(self, label: str) -> None: ...
    def finished(self, label: str, status: str, seconds: float) -> None: ...


class LogProgress:
    """`[k/N] label: status (s)` lines through `logging`."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0

    def __enter__(self) -> LogProgress:
        log.info("running %d nodes", self.total)
        return self

    def __exit__(self, *exc) -> None:
        return None

    def started(self, label: str) -> None:
        log.debug("start %s", label)

    def finished(self, label: str, status: str, seconds: float) -> None:
        self.count += 1
        level = logging.WARNING if status in ("failed", "not run") else logging.INFO
        log.log(level, "[%d/%d] %s: %s (%.1f s)", self.count, self.total, label, status, seconds)


class RichProgress:
    """A rich progress bar on stderr, the running nodes in its description."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.console = Console(stderr=True)
        self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=self.console, transient=False)
        self.task = self.bar.add_task("starting", total=total)
        self.running: list[str] = []

    def __enter__(self) -> RichProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.update(self.task, description="done")
        self.bar.__exit__(*exc)

    def _describe(self) -> None:
        text = ", ".join(self.running[:3]) + (" …" if len(self.running) > 3 else "")
        self.bar.update(self.task, description=text or "waiting")

    def started(self, label: str) -> None:
        self.running.append(label)
        self._describe()

    def finished(self, label: str, status: str, seconds: float) -> None:
        if label in self.running:
            self.running.remove(label)
        if status in ("failed", "not run"):
            self.console.print(f"[red]{label}: {status}[/]")
        self.bar.advance(self.task)
        self._describe()


def progress_for(total: int, enabled: bool | None = None) -> Progress:
    """A bar when `enabled`, or when None and stderr is a terminal; log lines otherwise."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    return RichProgress(total) if enabled else LogProgress(total)
