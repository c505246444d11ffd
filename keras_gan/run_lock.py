"""One process per run directory: an exclusive lock on `RUN/.lock` for the life of a training.

Why `fcntl.flock`: it is in the standard library, and the kernel drops the lock when the
process that holds it ends, however it ends (exit, exception, SIGKILL, a crash; power loss
reboots the machine), so a lock is never held by a process that is gone: the next process
takes it over with no manual step and no guessing from PIDs. The `filelock` package makes the
same call but records no holder; here the holder writes its PID, host and start time into the
file after taking the lock, so that a refused process can say who holds the run (and changes
nothing: it never writes the file).

The file is removed when its lock is released, so a run at rest has none; one that is left
behind by a killed process names a dead holder and is simply taken over (one info line). The
removal is safe because a process that locks the file checks that it is still the one at the
path (the releasing holder removes it while still locking it), and tries again otherwise.
Where the file system cannot lock (some network file systems answer ENOLCK or EOPNOTSUPP) one
warning line is logged and training goes on without the lock. docs/reliability.md has the rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from keras_gan.errors import KerasGanError

try:
    import fcntl
except ImportError:  # Windows: no flock; the lock is skipped with a warning
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "Holder", "RunInUseError", "RunLock"]

LOCK_NAME = ".lock"
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}
_ATTEMPTS = 10  # a lock file removed by its releasing holder meanwhile: open it again
_HOLDER_WAIT_S = 0.5  # a holder that has just taken the lock writes its record next

logger = logging.getLogger("keras_gan.run_lock")


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds (or held) a run's lock, as its lock file records it."""

    pid: int
    host: str
    started: datetime.datetime | None
    program: str = ""

    @classmethod
    def this_process(cls) -> Holder:
        program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
        started = datetime.datetime.now().astimezone().replace(microsecond=0)
        return cls(os.getpid(), socket.gethostname(), started, program)

    def to_text(self) -> str:
        record = {"pid": self.pid, "host": self.host, "program": self.program}
        record["started"] = self.started.isoformat() if self.started else None
        return json.dumps(record) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Holder | None:
        """The holder a lock file's text records; `None` for an empty or unreadable one."""
        try:
            record = json.loads(text)
            started = record.get("started")
            return cls(
                int(record["pid"]),
                str(record.get("host", "")),
                datetime.datetime.fromisoformat(started) if started else None,
                str(record.get("program", "")),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def describe(self) -> str:
        """`PID 1234 on host, since 19:40:02` (with the date when it is not today)."""
        text = f"PID {self.pid} on {self.host or 'an unknown host'}"
        if self.started is not None:
            started = self.started.astimezone()
            today = started.date() == datetime.date.today()
            text += f", since {started:%H:%M:%S}" if today else f", since {started:%Y-%m-%d %H:%M}"
        return text

    def what(self) -> str:
        """`train.py` for a Python script, else `process`."""
        script = self.program.endswith(".py") and self.program != "__main__.py"
        return self.program if script else "process"


class RunInUseError(KerasGanError):
    """Another process (or thread) holds the run's lock; nothing was changed.

    Args:
        run_dir: the run.
        holder: who holds it, as its lock file says (`None` when it records no one yet).
    """

    def __init__(self, run_dir: str | os.PathLike, holder: Holder | None):
        if holder is None:
            who = "another process"
        elif holder.pid == os.getpid() and holder.host == socket.gethostname():
            who = f"another thread of this process ({holder.describe()})"
        else:
            who = f"another {holder.what()} ({holder.describe()})"
        super().__init__(f"{run_dir} is in use by {who}; wait for it to finish or stop it.")
        self.run_dir = Path(run_dir)
        self.holder = holder


@dataclasses.dataclass
class _Held:
    fd: int | None  # None: flock unsupported here, going on without it
    thread: int
    created: list[Path]
    count: int = 1


_HELD: dict[str, _Held] = {}  # the locks this process holds, by the lock file's real path
_GUARD = threading.Lock()


class RunLock:
    """The exclusive lock on the run directory `run_dir` (its file `RUN/.lock`).

    A context manager: `with RunLock(run_dir): ...` holds it for the block. It is reentrant in
    the thread that holds it (`training.resume` takes it, then `training.train` again); any
    other process, or another thread, gets `RunInUseError`.

    Args:
        run_dir: the run directory.
        create: create `run_dir` (and its parents) if missing; the folders created are removed
            again on release if they are still empty. Otherwise `run_dir` must exist.
        new: with `create`, `run_dir` itself must be made by this lock: `FileExistsError` when
            it exists already (another process may have made it a moment ago).

    Raises:
        ValueError: `new` without `create`.
    """

    def __init__(self, run_dir: str | os.PathLike, *, create: bool = False, new: bool = False):
        if new and not create:
            raise ValueError("RunLock(new=True) claims a folder by making it: pass create=True.")
        self.run_dir = Path(run_dir)
        self.create = create
        self.new = new
        self._key: str | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.run_dir / LOCK_NAME

    @property
    def held(self) -> bool:
        """Whether this object holds the lock (also when the file system cannot lock)."""
        return self._key is not None

    def acquire(self) -> RunLock:
        """Take the lock, or raise `RunInUseError` naming its holder.

        Raises:
            RunInUseError: another process or thread holds it.
            FileExistsError: `new` and `run_dir` existed already.
            OSError: the lock file cannot be created (e.g. a read-only folder).
        """
        if self._key is not None:
            raise RuntimeError(f"This RunLock of {self.run_dir} is already held.")
        created = _make_dirs(self.run_dir) if self.create else []
        if self.new and self.run_dir not in created:
            _remove_empty(created)
            raise FileExistsError(f"{self.run_dir} exists already.")
        key = os.path.realpath(self.path)
        try:
            with _GUARD:
                held = _HELD.get(key)
                if held is not None:
                    if held.thread != threading.get_ident():
                        raise RunInUseError(self.run_dir, _read_holder(self.path))
                    held.count += 1
                else:
                    _HELD[key] = _Held(self._lock(), threading.get_ident(), created)
        except BaseException:
            _remove_empty(created)
            raise
        self._key = key
        return self

    def release(self) -> None:
        """Let the lock go; the outermost release removes the lock file, then closes it."""
        key, self._key = self._key, None
        if key is None:
            return
        with _GUARD:
            held = _HELD[key]
            held.count -= 1
            if held.count:
                return
            del _HELD[key]
        if held.fd is not None:
            with contextlib.suppress(OSError):
                if os.path.samestat(os.fstat(held.fd), os.stat(self.path)):
                    os.unlink(self.path)  # still locked: no one can lock this file meanwhile
            os.close(held.fd)
        _remove_empty(held.created)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def _lock(self) -> int | None:
        """Open and flock the lock file, then record this process in it; its descriptor."""
        for _ in range(_ATTEMPTS):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                if fcntl is None:
                    raise OSError(errno.ENOSYS, "flock is not available on this system")
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _wait_for_holder(fd)
                os.close(fd)
                raise RunInUseError(self.run_dir, holder) from None
            except OSError as error:
                os.close(fd)
                if error.errno not in _UNSUPPORTED:
                    raise
                with contextlib.suppress(OSError):
                    if self.path.stat().st_size == 0:  # created just now: no record to keep
                        self.path.unlink()
                logger.warning(
                    "Cannot lock %s (%s); going on without the lock: make sure no other "
                    "process trains this run.",
                    self.run_dir,
                    error.strerror or error,
                )
                return None
            try:
                current = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                current = False
            if current:
                self._record(fd)
                return fd
            os.close(fd)  # removed by its releasing holder since we opened it: again
        raise RunInUseError(self.run_dir, _read_holder(self.path))

    def _record(self, fd: int) -> None:
        stale = Holder.from_text(_read(fd))
        if stale is not None:
            logger.info("Took over a stale lock left by PID %d on %s.", stale.pid, stale.host)
        os.ftruncate(fd, 0)
        os.pwrite(fd, Holder.this_process().to_text().encode(), 0)


def _read(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode("utf-8", errors="replace")


def _wait_for_holder(fd: int) -> Holder | None:
    """The holder's record; a holder that has only just locked the file writes it next."""
    deadline = time.monotonic() + _HOLDER_WAIT_S
    while True:
        holder = Holder.from_text(_read(fd))
        if holder is not None or time.monotonic() > deadline:
            return holder
        time.sleep(0.02)


def _read_holder(path: Path) -> Holder | None:
    try:
        return Holder.from_text(path.read_text(errors="replace"))
    except OSError:
        return None


def _make_dirs(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones created, outermost first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    created: list[Path] = []
    try:
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue  # another process made it meanwhile: it is not ours to remove
            created.append(path)
    except OSError:
        _remove_empty(created)
        raise
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()
