"""What every callback of this package shares: finished-epoch bookkeeping and NaN handling.

`EpochAware` tells a finished epoch from one cut short (Ctrl-C, an early stop, a non-finite
loss); `StopOnNonFinite` stops training at the first NaN or infinite loss; `ExportGenerator`
saves the generator alone at the end. See `docs/callbacks.md`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure

from keras_gan import files
from keras_gan.checkpoints import state_is_finite, training_step
from keras_gan.gan import sampling_generator
from keras_gan.networks.batch_norm import with_keras_batch_norm

__all__ = [
    "EpochAware",
    "ExportGenerator",
    "NonFiniteLoss",
    "StopOnNonFinite",
    "non_finite_loss",
]

logger = logging.getLogger(__name__)

LOSS_KEYS = ("d_loss", "g_loss", "gradient_penalty")


def scalar_logs(logs: dict | None) -> dict[str, float]:
    """The numeric entries of Keras's `logs` as Python floats."""
    scalars = {}
    for name, value in (logs or {}).items():
        with contextlib.suppress(TypeError, ValueError):
            scalars[name] = float(np.asarray(value))
    return scalars


def figure_png(figure: Figure) -> bytes:
    """A Matplotlib figure as PNG bytes at 100 dpi."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


@dataclass(frozen=True)
class NonFiniteLoss:
    """A NaN or infinite value of `name` in the logs at training step `step`."""

    step: int
    name: str
    value: float


def non_finite_loss(logs: dict | None) -> tuple[str, float] | None:
    """The first numeric entry of Keras's `logs` that is NaN or infinite, the losses first.

    Returns:
        `(name, value)`, or `None` when every value is finite.
    """
    values = scalar_logs(logs)
    for name in sorted(values, key=lambda key: key not in LOSS_KEYS):
        if not np.isfinite(values[name]):
            return name, values[name]
    return None


class EpochAware(keras.callbacks.Callback):
    """Base class: tells a finished epoch from one cut short.

    It counts the steps of the running epoch, and remembers a non-finite loss, after which no
    epoch counts as finished. Subclasses call `super()` in the hooks they override.
    """

    def __init__(self) -> None:
        super().__init__()
        self._batches_this_epoch = 0
        self._non_finite = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._non_finite = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._batches_this_epoch = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        # `batch` is the epoch's last step index run (several per call with
        # steps_per_execution > 1).
        self._batches_this_epoch = max(self._batches_this_epoch + 1, int(batch) + 1)
        if non_finite_loss(logs) is not None:
            self._non_finite = True

    def _epoch_completed(self) -> bool:
        """False when training was stopped before the epoch's last batch or a loss went NaN."""
        if self._non_finite:
            return False
        if not self.model.stop_training:
            return True
        steps = self.params.get("steps") if self.params else None
        return steps is not None and self._batches_this_epoch >= steps


class StopOnNonFinite(keras.callbacks.Callback):
    """Stop training at the first step whose logs hold a NaN or infinite value.

    Unlike `keras.callbacks.TerminateOnNaN` it checks every numeric log (`d_loss`, `g_loss`,
    ...) and records what happened in `event` (a `NonFiniteLoss`, `None` until then). The
    other callbacks of this package write nothing from the poisoned state.
    """

    def __init__(self) -> None:
        super().__init__()
        self.event: NonFiniteLoss | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.event = None

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        found = non_finite_loss(logs)
        if found is not None and self.event is None:
            self.event = NonFiniteLoss(training_step(self.model), *found)
            self.model.stop_training = True
            logger.error(
                "Step %d: %s is %s; stopping without saving this state.", self.event.step, *found
            )


class ExportGenerator(keras.callbacks.Callback):
    """Save the generator alone to `path` when training ends, also after a stop or Ctrl-C.

    The generator saved is `model.sampling_generator` (the weight average when the GAN keeps
    one, else `model.generator`), written atomically and loadable with `safe_mode=True`.

    Args:
        path: the `.keras` file to write.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__()
        self.path = Path(path)
        if self.path.suffix != ".keras":
            raise ValueError(f"The generator file must end in .keras, got {self.path}.")

    def on_train_end(self, logs: dict | None = None) -> None:
        self.export()

    def export(self) -> Path | None:
        """Write the generator now.

        Returns:
            The path written, or `None` (the file is left as it was) when the model's weights
            hold a NaN or an infinity.
        """
        if not state_is_finite(self.model):
            logger.error("Not exporting %s: the weights hold NaN or infinite values.", self.path)
            return None
        generator = with_keras_batch_norm(sampling_generator(self.model))
        return files.write_atomically(self.path, generator.save)
