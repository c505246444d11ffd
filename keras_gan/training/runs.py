"""Run directories: a new one's path (and claiming it), an existing one's settings, writability.

The files of a run directory are `keras_gan.run_dir.RunPaths`; docs/training.md draws them.
Free of TensorFlow, like `keras_gan.training.config`.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

from keras_gan.run_dir import RunPaths
from keras_gan.run_lock import RunLock
from keras_gan.training.config import TrainConfig
from keras_gan.training.exceptions import TrainingError

__all__ = ["check_writable", "claim_new_run_dir", "default_run_dir", "load_config"]


def load_config(run_dir: str | os.PathLike) -> TrainConfig:
    """The settings of the run in `run_dir` (its `config.json`).

    Raises:
        TrainingError: when `run_dir` is not a run directory or its settings are bad.
    """
    paths = RunPaths(Path(run_dir))
    if not paths.config.is_file():
        raise TrainingError(f"{run_dir} is not a run directory (it has no config.json).")
    return TrainConfig.load(paths.config)


def _dataset_label(dataset: str) -> str:
    """A short folder-name-safe label: a path's file or folder name, or the dataset name."""
    label = dataset.strip().rstrip("/\\")
    if os.sep in label or "/" in label or label.lower().endswith((".npz", ".npy")):
        label = Path(label).stem if Path(label).suffix else Path(label).name
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._") or "data"


def default_run_dir(dataset: str, arch: str, root: str | os.PathLike = "runs") -> Path:
    """A new run directory's path: `root/<dataset>-<arch>-<YYYYmmdd-HHMMSS>`.

    A suffix (`-2`, `-3`, ...) is added when that folder already exists.
    """
    base = Path(root) / f"{_dataset_label(dataset)}-{arch}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def claim_new_run_dir(
    lock: contextlib.ExitStack, dataset: str, arch: str, root: str | os.PathLike = "runs"
) -> Path:
    """Create and lock the new run directory `default_run_dir` names; `lock` releases it.

    Creating the folder is the claim: of several processes started in the same second (a
    script launching runs side by side) one makes it, and each of the others moves on to the
    next suffix instead of failing on the first one's lock or finding its run in the folder.
    The folders made here are removed again if the run ends before writing anything.

    Raises:
        TrainingError: when the folder cannot be created (`check_writable`).
    """
    while True:
        candidate = default_run_dir(dataset, arch, root)
        check_writable(candidate)
        try:
            lock.enter_context(RunLock(candidate, create=True, new=True))
        except FileExistsError:
            continue
        return candidate


def check_writable(run_dir: Path) -> None:
    """Check that `run_dir` can be written, or created.

    Raises:
        TrainingError: naming the folder on the way that is a file or not writable.
    """
    existing = run_dir
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    problem = None
    if not existing.is_dir():
        problem = f"{existing} is a file, not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    if problem:
        verb = "write to" if existing == run_dir else "create"
        raise TrainingError(f"Cannot {verb} the run directory {run_dir}: {problem}.")
