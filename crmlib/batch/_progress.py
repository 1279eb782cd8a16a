"""Progress display of a batch run, on stderr: a rich progress bar on a terminal, plain
lines otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
from typing import Any

from crmlib.batch._status import COLOURS, FAILED, OK_WITH_WARNINGS, SYMBOLS, label, warnings_of


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

    def _ascii_only(self) -> bool:
        encoding = getattr(self.stream, "encoding", None) or "ascii"
        try:
            "".join(SYMBOLS.values()).encode(encoding)
        except (LookupError, UnicodeEncodeError):
            return True
        return False

    def update(self, result: Any) -> None:
        """Report one finished result (a :class:`crmlib.batch.RunResult`): its status with
        symbol (``✓ ok``, ``⚠ ok with warnings``, ``✗ failed``), and for a notebook with
        warnings the first figure concerned with its reason."""
        self.done += 1
        name = f"{result.unit}/{result.notebook or '*'}"
        duration = f" {result.duration_s:.1f}s" if result.duration_s is not None else ""
        status = label(result.status, ascii_only=self._ascii_only())
        extra = ""
        found = warnings_of(result.metrics) if result.status == OK_WITH_WARNINGS else []
        if found:
            more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
            extra = f": {found[0]['name']} {found[0]['status']}: {found[0]['reason']}{more}"
        line = f"[{self.done}/{self.total}] {status:<18} {name}{duration}{extra}"
        if self._bar is not None:
            from rich.markup import escape

            colour = COLOURS.get(result.status, COLOURS[FAILED])
            self._bar.console.print(
                f"[{colour}]{escape(status):<18}[/{colour}] {escape(name)}{duration}"
                f"{escape(extra)}",
                highlight=False,
            )
            self._bar.update(self._task, advance=1, description=name)
        else:
            print(line, file=self.stream, flush=True)
