"""One run at a time per reports folder: the lock file ``<reports>/.crm-run.lock``.

:class:`RunLock` creates the lock file with ``O_CREAT | O_EXCL`` (atomic: of two runs
starting together exactly one creates it) and writes its pid, host and start time into it.
A second run on the same folder is refused with a one-line :class:`~crmlib.errors.CRMError`
naming the folder, the pid and how to go on. A lock left by a run that died (its pid is no
longer running on this host) is stale: it is taken over, and the takeover is reported in
:attr:`RunLock.notes`. A lock from another host cannot be checked and is always respected.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
from pathlib import Path
from typing import Any

from crmlib.errors import CRMError

LOCK_NAME = ".crm-run.lock"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    stat = Path(f"/proc/{pid}/stat")  # Linux: a zombie has finished running
    with contextlib.suppress(OSError, IndexError):
        if stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    return True


def _read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


def _sweep_all_partials(reports: Path) -> int:
    """Remove every temporary ``.*.partial`` file under ``reports`` (its unit folders too).

    Only called while holding the lock, so no live run is writing them.
    """
    from crmlib.batch._files import PARTIAL_SUFFIX

    found = [
        p
        for pattern in (f".*{PARTIAL_SUFFIX}", f"*/.*{PARTIAL_SUFFIX}")
        for p in reports.glob(pattern)
        if p.is_file()
    ]
    for p in found:
        p.unlink(missing_ok=True)
    return len(found)


class RunLock:
    """The lock of one reports folder, held for the duration of a run.

    Parameters
    ----------
    reports_dir
        The reports folder; created if missing.

    Attributes
    ----------
    path : Path
        ``<reports_dir>/.crm-run.lock``.
    notes : list of str
        One-line notes for the user (a stale lock taken over).
    """

    def __init__(self, reports_dir: str | os.PathLike[str]) -> None:
        self.path = Path(reports_dir) / LOCK_NAME
        self.notes: list[str] = []
        self._content = ""

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self._content)
            fh.flush()
            os.fsync(fh.fileno())
        return True

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`CRMError` if another live run holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        host = socket.gethostname()
        started = dt.datetime.now().isoformat(timespec="seconds")
        self._content = f"pid={os.getpid()}\nhost={host}\nstarted={started}\n"
        for _ in range(3):
            if self._create():
                return self
            held = _read(self.path)
            pid = int(held["pid"]) if held.get("pid", "").isdigit() else -1
            if held.get("host", host) != host or pid_alive(pid):
                if not held and self.path.exists():  # being written this very moment
                    continue
                since = f", started {held['started']}" if held.get("started") else ""
                where = f" on {held['host']}" if held.get("host", host) != host else ""
                raise CRMError(
                    f"{self.path.parent}: another crm run (pid {pid}{where}{since}) is writing "
                    f"to this reports folder; wait for it to end or use another --reports "
                    f"folder (remove {self.path.name} only if no run is active)"
                )
            # stale: move it aside atomically, so that of two runs taking it over only one
            # wins, then check it is the lock we judged stale and not a fresh one
            aside = self.path.with_name(f"{LOCK_NAME}.stale.{os.getpid()}")
            try:
                os.replace(self.path, aside)
            except FileNotFoundError:
                continue
            if _read(aside) != held:  # a new lock appeared meanwhile: put it back
                with contextlib.suppress(OSError):
                    os.link(aside, self.path)
                aside.unlink(missing_ok=True)
                continue
            aside.unlink(missing_ok=True)
            swept = _sweep_all_partials(self.path.parent)
            self.notes.append(
                f"took over the lock {self.path} left by crm run pid {pid}, which is no "
                f"longer running; removed {swept} unfinished file(s) it left"
            )
        if self._create():
            return self
        raise CRMError(f"{self.path}: could not take the run lock; another run is starting")

    def release(self) -> None:
        """Remove the lock file if it is still this run's."""
        with contextlib.suppress(OSError):
            if self.path.read_text(encoding="utf-8") == self._content:
                self.path.unlink()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


__all__ = ["LOCK_NAME", "RunLock", "pid_alive"]
