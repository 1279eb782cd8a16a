"""Progress display of a batch run, on stderr: a rich progress bar on a terminal, plain
lines otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """Shows each finished (unit, notebook) and the count done out of ``total``."""

    def __init__(self, total: int, *, stream: Any = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._task: Any = None
        if getattr(self.stream, "isatty", lambda: False)():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]crm run"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=Console(file=self.stream),
                transient=False,
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total)
        else:
            print(f"crm run: {self.total} notebook run(s)", file=self.stream, flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, result: Any) -> None:
        """Report one finished result (a :class:`crmlib.batch.RunResult`)."""
        self.done += 1
        name = f"{result.unit}/{result.notebook or '*'}"
        duration = f" {result.duration_s:.1f}s" if result.duration_s is not None else ""
        line = f"[{self.done}/{self.total}] {result.status:<6} {name}{duration}"
        if self._bar is not None:
            style = "green" if result.status == "ok" else "red"
            self._bar.console.print(
                f"[{style}]{result.status:<6}[/{style}] {name}{duration}", highlight=False
            )
            self._bar.update(self._task, advance=1, description=name)
        else:
            print(line, file=self.stream, flush=True)
