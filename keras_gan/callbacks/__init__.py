"""Keras callbacks that make a GAN run watchable, stoppable and resumable.

Use them in any `gan.fit(dataset, callbacks=[...])`, like Keras's own: `SampleGrid`,
`TensorBoardLogger`, `LossHistory`, `TrainingCheckpoint`, `ExportGenerator`, and
`StopOnNonFinite`. The manual (usage, checkpoint format, epochs cut short, NaN handling) is
`docs/callbacks.md`.
"""

from keras_gan.callbacks.base import (
    ExportGenerator,
    NonFiniteLoss,
    StopOnNonFinite,
    non_finite_loss,
)
from keras_gan.callbacks.checkpoint import TrainingCheckpoint
from keras_gan.callbacks.history import LossHistory
from keras_gan.callbacks.samples import SampleGrid
from keras_gan.callbacks.tensorboard import TensorBoardLogger

__all__ = [
    "ExportGenerator",
    "LossHistory",
    "NonFiniteLoss",
    "SampleGrid",
    "StopOnNonFinite",
    "TensorBoardLogger",
    "TrainingCheckpoint",
    "non_finite_loss",
]
