"""The errors a training run raises; free of TensorFlow, so a CLI can name them cheaply."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

from keras_gan.errors import KerasGanError

if TYPE_CHECKING:
    from keras_gan.callbacks import NonFiniteLoss
    from keras_gan.checkpoints import CheckpointInfo

__all__ = ["TrainingDivergedError", "TrainingError", "TrainingInterrupted"]


class TrainingError(KerasGanError):
    """A bad setting or run directory; `str(error)` is one line that says what to do."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training was stopped by Ctrl-C or SIGTERM after saving a checkpoint and the generator.

    A `KeyboardInterrupt`, so callers that do not handle it stop as on any Ctrl-C.

    Args:
        run_dir: the run that was stopped.
        checkpoint: the checkpoint written on the way out (`None` if none could be).
        signum: the signal that stopped it (`SIGINT` for `TrainingCheckpoint.request_stop`).
    """

    def __init__(
        self,
        run_dir: Path,
        checkpoint: CheckpointInfo | None,
        signum: int = signal.SIGINT,
    ):
        super().__init__(f"Training interrupted; state saved in {run_dir}")
        self.run_dir = run_dir
        self.checkpoint = checkpoint
        self.signal = int(signum)


class TrainingDivergedError(TrainingError):
    """A loss became NaN or infinite; training stopped without saving the poisoned state.

    Args:
        run_dir: the run that diverged.
        event: where the loss went bad (the step, the metric's name and its value).
        checkpoint: the last good checkpoint, which `resume` continues from (`None` if none).
    """

    def __init__(
        self,
        run_dir: Path,
        event: NonFiniteLoss,
        checkpoint: CheckpointInfo | None,
    ):
        if checkpoint is None:
            keep = (
                "no checkpoint was written before it; start a new run (e.g. a lower --lr-d/--lr-g)"
            )
        else:
            keep = (
                f"the last good checkpoint is {checkpoint.path} (step {checkpoint.step}); "
                f"resume from it with: python train.py --resume {run_dir}"
            )
        super().__init__(
            f"Training stopped at step {event.step}: {event.name} is {event.value}; {keep}"
        )
        self.run_dir = run_dir
        self.event = event
        self.checkpoint = checkpoint
