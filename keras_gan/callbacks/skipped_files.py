"""`SkippedFilesLog`: how many files a streamed image folder left out, per epoch.

A file that turns corrupt, truncated, empty or deleted while a run goes on is skipped by the
stream (`keras_gan.data.streaming.SkippedFiles`); this says so once per epoch and puts the
count into the logs, so into `history.csv` and TensorBoard. See `docs/callbacks.md`.
"""

from __future__ import annotations

import logging
from typing import Protocol

import keras

__all__ = ["SKIPPED_FILES_KEY", "SkipCounter", "SkippedFilesLog"]

logger = logging.getLogger(__name__)

SKIPPED_FILES_KEY = "skipped_files"


class SkipCounter(Protocol):
    """What the callback reads: a running count of skips and the files skipped, with why."""

    skips: int
    reasons: dict[str, str]


class SkippedFilesLog(keras.callbacks.Callback):
    """At every epoch end: `logs["skipped_files"]` = the files skipped in it; one line if any.

    The line reads `Epoch 3: skipped 2 unreadable files (4 so far, 2 different); see the
    warnings above for which.` (each file is named in one warning when first met); it is
    logged when the next epoch begins or training ends, after Keras's progress bar has ended
    its line. Epochs without skips log 0 and say nothing, so the column is in every row.

    The count is the skips *observed by the end of this epoch*: tf.data decodes ahead of
    training (parallel decoding, prefetch), so files of later batches (on a small folder, of
    later passes) may be read, and their skips counted, during this epoch. A file that stays
    broken is counted in every pass that meets it (each such pass is one example shorter).
    "So far" counts since this `fit` started.

    Put it before the loggers (`LossHistory`, `TensorBoardLogger`) in the callback list: they
    write the logs as this callback leaves them.

    Args:
        counter: the stream's counter (`DatasetInfo.skipped_files` of `keras_gan.data.load`).
    """

    def __init__(self, counter: SkipCounter) -> None:
        super().__init__()
        self.counter = counter
        self.total = 0
        self._seen = 0
        self._pending: str | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._seen = self.counter.skips
        self.total = 0
        self._pending = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = self.counter.skips
        count, self._seen = now - self._seen, now
        self.total += count
        if logs is not None:
            logs[SKIPPED_FILES_KEY] = count
        if count:  # said once Keras's progress bar has ended its line
            self._pending = (
                f"Epoch {epoch + 1}: skipped {count} unreadable file{'' if count == 1 else 's'} "
                f"({self.total} so far, {len(self.counter.reasons)} different); see the "
                "warnings above for which."
            )

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._say()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._say()

    def _say(self) -> None:
        if self._pending is not None:
            logger.warning(self._pending)
            self._pending = None
