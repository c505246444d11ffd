"""Atomic file writes and the integrity check of Keras archives.

A reader of any file written here sees the old file or the complete new one, never half of it
(a temporary file in the same folder, fsynced, then `os.replace`). Checkpoints, exports, grids,
history, cached classifiers and the CLIs' outputs all go through `write_atomically`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "TEMP_PREFIX",
    "is_complete_keras_file",
    "remove_temporary_files",
    "write_atomically",
    "write_bytes_atomically",
    "write_text_atomically",
]

TEMP_PREFIX = ".tmp-"
_KERAS_ARCHIVE_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5"})


def _fsync_directory(directory: Path) -> None:
    """Persist a rename on POSIX; a no-op where directories cannot be opened (Windows)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Create `path` so that readers see the old file or the complete new one, never half.

    `write(temp_path)` writes the content to a temporary file in the same folder whose name
    ends like `path` (`model.save` insists on `.keras`); the file is then fsynced, moved over
    `path` with `os.replace`, and the folder fsynced so the rename survives a crash. The
    temporary file is removed if `write` fails.

    Args:
        path: the file to create or replace; its folder is created if missing.
        write: a function that writes the whole content to the path it is given.

    Returns:
        `path` as a `Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        write(temp)
        descriptor = os.open(temp, os.O_RDWR)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(path.parent)
    return path


def write_bytes_atomically(path: str | os.PathLike, content: bytes) -> Path:
    """`write_atomically` for content already in memory; returns `path`."""
    return write_atomically(path, lambda temp: temp.write_bytes(content))


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """`write_atomically` for UTF-8 text; returns `path`."""
    return write_bytes_atomically(path, text.encode("utf-8"))


def remove_temporary_files(directory: str | os.PathLike) -> int:
    """Delete the leftovers of interrupted atomic writes in `directory`.

    Returns:
        How many files were removed.
    """
    removed = 0
    for leftover in Path(directory).glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def is_complete_keras_file(path: str | os.PathLike) -> bool:
    """Whether `path` is an intact Keras archive.

    That is a zip whose CRCs check out and that holds the config, metadata and weights; a
    truncated or torn file fails.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist()) >= _KERAS_ARCHIVE_MEMBERS and archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False
