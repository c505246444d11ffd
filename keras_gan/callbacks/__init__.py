"""Keras callbacks that make a GAN run watchable, stoppable and resumable.

Use them in any `gan.fit(dataset, callbacks=[...])`, like Keras's own: `SampleGrid`,
`TensorBoardLogger`, `LossHistory`, `TrainingCheckpoint`, `ExportGenerator`,
`StopOnNonFinite` (Keras's `TerminateOnNaN` for a GAN), `FailureMonitor` (alarms for the
failure modes), `SkippedFilesLog` (the files a streamed folder skipped, per epoch), and
`ReduceLROnPlateau` / `LearningRateScheduler` for two optimizers. The manual (usage,
checkpoint format, NaN handling, alarms, Keras callbacks) is `docs/callbacks.md`.
"""

from keras_gan.callbacks.base import (
    ExportGenerator,
    NonFiniteLoss,
    StopOnNonFinite,
    non_finite_loss,
)
from keras_gan.callbacks.checkpoint import TrainingCheckpoint
from keras_gan.callbacks.history import LossHistory
from keras_gan.callbacks.keras_compat import LearningRateScheduler, ReduceLROnPlateau
from keras_gan.callbacks.monitor import ALARMS, Alarm, FailureMonitor
from keras_gan.callbacks.samples import SampleGrid
from keras_gan.callbacks.skipped_files import SkippedFilesLog
from keras_gan.callbacks.tensorboard import TensorBoardLogger

__all__ = [
    "ALARMS",
    "Alarm",
    "ExportGenerator",
    "FailureMonitor",
    "LearningRateScheduler",
    "LossHistory",
    "NonFiniteLoss",
    "ReduceLROnPlateau",
    "SampleGrid",
    "SkippedFilesLog",
    "StopOnNonFinite",
    "TensorBoardLogger",
    "TrainingCheckpoint",
    "non_finite_loss",
]
