"""`TrainingCheckpoint`: the whole training state after every epoch, every N steps and on Ctrl-C.

The files it writes are `keras_gan.checkpoints`' format; see `docs/callbacks.md`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from keras_gan import checkpoints, files
from keras_gan.callbacks.base import EpochAware
from keras_gan.checkpoints import CheckpointInfo, find_checkpoints, state_is_finite, training_step

__all__ = ["TrainingCheckpoint"]

logger = logging.getLogger(__name__)


class TrainingCheckpoint(EpochAware):
    """Save the whole training state after every epoch, every `every_steps` steps and on
    Ctrl-C or SIGTERM; keep the newest `keep`.

    Each checkpoint is `ckpt-<step>.keras` (`model.save`: both networks, both optimizers with
    their iteration counts, and the GAN's noise RNG state) plus `ckpt-<step>.json`
    (`keras_gan.checkpoints.write_checkpoint`), the JSON last. Resume with
    `keras.saving.load_model(info.path, safe_mode=True)`, `restore_seed_states` and
    `fit(initial_epoch=info.epochs_completed)`: a mid-epoch checkpoint restarts its epoch from
    the beginning, with the optimizers' counts as saved. When training starts, the folder's
    checkpoints from later steps than the model's are deleted (they belong to an abandoned
    continuation), so the newest checkpoint is always this run's.

    With `save_on_interrupt` the first SIGINT (Ctrl-C) or SIGTERM of the main thread no longer
    stops the process: training stops at the end of the current step, a checkpoint is saved,
    `interrupted` is set and `stop_signal` says which signal it was; a second one acts as
    usual (Ctrl-C raises `KeyboardInterrupt`, SIGTERM terminates). `request_stop` does the same
    from code (any thread).

    Nothing is saved once a loss in the logs is NaN or infinite, nor while any weight or
    optimizer variable is (`state_is_finite`): the newest checkpoint stays the last good one.

    Args:
        directory: the checkpoint folder (created if missing).
        every_steps: also save every this many optimizer steps (works with
            `steps_per_execution`), or `None` for epoch ends only.
        keep: how many of the newest checkpoints to keep.
        save_on_interrupt: catch the first SIGINT/SIGTERM to save and stop.
    """

    SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)

    def __init__(
        self,
        directory: str | os.PathLike,
        every_steps: int | None = None,
        keep: int = 3,
        save_on_interrupt: bool = True,
    ) -> None:
        super().__init__()
        if every_steps is not None and (not isinstance(every_steps, int) or every_steps < 1):
            raise ValueError(
                f"every_steps must be a positive integer or None, got {every_steps!r}."
            )
        if not isinstance(keep, int) or keep < 1:
            raise ValueError(f"keep must be a positive integer, got {keep!r}.")
        self.directory = Path(directory)
        self.every_steps = every_steps
        self.keep = keep
        self.save_on_interrupt = save_on_interrupt
        self.interrupted = False
        self.stop_signal: int | None = None
        self.last_checkpoint: CheckpointInfo | None = None
        self.skipped_non_finite = 0
        self._stop_requested = threading.Event()
        self._previous_handlers: dict[int, Any] = {}
        self._epoch = 0
        self._last_step = 0

    # -- stopping
    def request_stop(self) -> None:
        """Stop after the current step with a checkpoint, as Ctrl-C does."""
        self._stop_requested.set()

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stop_signal = signum
        self._stop_requested.set()
        self.restore_signal_handlers()
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        again = "Ctrl-C again to abort" if signum == signal.SIGINT else "send it again to kill"
        print(
            f"\n{name}: saving a checkpoint and stopping after this step ({again} at once).",
            file=sys.stderr,
            flush=True,
        )

    def _install_handlers(self) -> None:
        if not self.save_on_interrupt or threading.current_thread() is not threading.main_thread():
            return
        for signum in self.SIGNALS:
            previous = signal.getsignal(signum)
            if previous is None:  # set from C; Python cannot restore it, use the default
                previous = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            self._previous_handlers[signum] = previous
            signal.signal(signum, self._on_signal)

    def restore_signal_handlers(self) -> None:
        """Put back the SIGINT/SIGTERM handlers found when training started.

        Idempotent; `fit` does it at the end, call it yourself if `fit` raised.
        """
        while self._previous_handlers:
            signum, handler = self._previous_handlers.popitem()
            signal.signal(signum, handler)

    # -- Keras hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        self.directory.mkdir(parents=True, exist_ok=True)
        files.remove_temporary_files(self.directory)
        self._last_step = training_step(self.model)
        self._discard_checkpoints_after(self._last_step)
        self.interrupted = False
        self.stop_signal = None
        self._stop_requested.clear()
        self._install_handlers()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        super().on_epoch_begin(epoch, logs)
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        step, previous = training_step(self.model), self._last_step
        self._last_step = step
        if self._non_finite:
            self.model.stop_training = True
            return
        steps = self.params.get("steps") if self.params else None
        last_batch = steps is not None and self._batches_this_epoch >= steps
        if self._stop_requested.is_set():
            self._stop_requested.clear()
            self.interrupted = True
            self.model.stop_training = True
            if not last_batch:  # the end of the epoch saves it otherwise
                self.save(self._epoch, end_of_epoch=False)
            return
        every = self.every_steps
        if every and not last_batch and step // every > previous // every:
            self.save(self._epoch, end_of_epoch=False)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._stop_requested.is_set():
            self._stop_requested.clear()
            self.interrupted = True
            self.model.stop_training = True
        if self._epoch_completed():
            self.save(epoch + 1, end_of_epoch=True)

    def on_train_end(self, logs: dict | None = None) -> None:
        self.restore_signal_handlers()

    # -- writing
    def save(self, epochs_completed: int, end_of_epoch: bool) -> CheckpointInfo | None:
        """Write a checkpoint of the model as it is now and prune old ones.

        Args:
            epochs_completed: whole epochs done, the `initial_epoch` to resume at.
            end_of_epoch: whether the checkpoint is at the end of an epoch.

        Returns:
            The checkpoint, or `None` (nothing written) when the state holds a NaN or an
            infinity.
        """
        if not state_is_finite(self.model):
            self.skipped_non_finite += 1
            logger.error(
                "Not checkpointing step %d: the weights hold NaN or infinite values.",
                training_step(self.model),
            )
            return None
        self.last_checkpoint = checkpoints.write_checkpoint(
            self.model, self.directory, epochs_completed, end_of_epoch
        )
        self._prune()
        return self.last_checkpoint

    def _discard_checkpoints_after(self, step: int) -> None:
        """Delete checkpoints of later steps than the model's: they continue a past run from
        this point (e.g. the damaged newest one a resume skipped), and left in place they
        would be taken for this run's latest or push its own out of the `keep` newest."""
        for info in find_checkpoints(self.directory):
            if info.step > step:
                logger.warning("Removing %s: it is from after step %d.", info.path.name, step)
                with contextlib.suppress(OSError):
                    info.metadata_path.unlink()
                    info.path.unlink()

    def _prune(self) -> None:
        """Keep the newest `keep` checkpoints; drop older ones and orphaned archives (an
        archive whose JSON was never written because the process died in between)."""
        found = find_checkpoints(self.directory)
        for info in found[: -self.keep]:
            with contextlib.suppress(OSError):
                info.metadata_path.unlink()
                info.path.unlink()
        kept = {info.path.name for info in found[-self.keep :]}
        for archive in self.directory.glob("ckpt-*.keras"):
            if archive.name not in kept:
                with contextlib.suppress(OSError):
                    archive.unlink()
