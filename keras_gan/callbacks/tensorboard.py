"""Scalars for TensorBoard, through one shared event-file writer per log folder.

`TensorBoardLogger` writes every metric and both learning rates per step and per epoch;
`WRITERS` lets it and `SampleGrid` append to the same event file. See `docs/callbacks.md`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_gan.callbacks.base import EpochAware, scalar_logs
from keras_gan.checkpoints import model_optimizers, training_step

__all__ = ["TensorBoardLogger"]


class SharedWriters:
    """One `tf.summary` writer per log folder, shared by the callbacks of a process.

    TensorBoard follows only the newest event file of a folder while it grows, so two writers
    appending to two files in one folder would hide one of them from a live dashboard.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writers: dict[str, list[Any]] = {}

    def acquire(self, log_dir: str | os.PathLike) -> tf.summary.SummaryWriter:
        """The writer of `log_dir`, created on first use; pair each call with `release`."""
        key = os.path.realpath(log_dir)
        with self._lock:
            if key not in self._writers:
                os.makedirs(key, exist_ok=True)
                self._writers[key] = [tf.summary.create_file_writer(key), 0]
            self._writers[key][1] += 1
            return self._writers[key][0]

    def release(self, log_dir: str | os.PathLike) -> None:
        """Flush the writer of `log_dir`, and close it once its last user released it."""
        key = os.path.realpath(log_dir)
        with self._lock:
            entry = self._writers.get(key)
            if entry is None:
                return
            entry[1] -= 1
            entry[0].flush()
            if entry[1] <= 0:
                entry[0].close()
                del self._writers[key]


WRITERS = SharedWriters()


def learning_rates(model: keras.Model) -> dict[str, float]:
    """Current learning rate of each optimizer (schedules evaluated at the current step)."""
    rates = {}
    for role, optimizer in model_optimizers(model).items():
        name = f"{role}_learning_rate" if role else "learning_rate"
        rates[name] = float(ops.convert_to_numpy(optimizer.learning_rate))
    return rates


class TensorBoardLogger(EpochAware):
    """Scalars for TensorBoard: every metric in `logs` and both learning rates.

    Per-step scalars are tagged `batch/<name>` (every `update_freq` steps; the step axis is
    `training_step`, so it continues after a resume) and hold the epoch's running mean, as
    Keras's progress bar shows it. Per-epoch scalars are tagged `epoch/<name>` with the number
    of completed epochs (1-based, like the sample file names) as step; an epoch cut short is
    not logged.

    Written with `tf.summary` rather than `keras.callbacks.TensorBoard` because that one logs
    only `model.optimizer`'s learning rate (a GAN has two optimizers and no `model.optimizer`)
    and restarts its batch counter at 0 in every `fit`, which would fold a resumed run's
    per-step curves back onto the first run's.

    Args:
        log_dir: the TensorBoard log folder.
        update_freq: write per-step scalars every this many steps, or `"epoch"` for none.
    """

    def __init__(self, log_dir: str | os.PathLike, update_freq: int | str = 10) -> None:
        super().__init__()
        if update_freq != "epoch" and (not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(
                f"update_freq must be a positive integer or 'epoch', got {update_freq!r}."
            )
        self.log_dir = Path(log_dir)
        self.update_freq = update_freq
        self._writer: tf.summary.SummaryWriter | None = None
        self._last_step = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self._writer = WRITERS.acquire(self.log_dir)
        self._last_step = training_step(self.model)

    def _write(self, prefix: str, values: dict[str, float], step: int) -> None:
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(f"{prefix}/{name}", value, step=step)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        if self.update_freq == "epoch" or self._writer is None:
            return
        step, previous = training_step(self.model), self._last_step
        self._last_step = step
        if step // self.update_freq > previous // self.update_freq:  # crossed a multiple
            values = {**scalar_logs(logs), **learning_rates(self.model)}
            self._write("batch", values, step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._writer is None or not self._epoch_completed():
            return
        self._write("epoch", {**scalar_logs(logs), **learning_rates(self.model)}, epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            WRITERS.release(self.log_dir)
            self._writer = None
