"""A training run: check everything, write the run directory, fit, and resume.

The data order, what is saved on Ctrl-C or SIGTERM and how a run resumes are described in
docs/training.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_gan import performance
from keras_gan.callbacks import StopOnNonFinite
from keras_gan.checkpoints import (
    CheckpointInfo,
    TrainingCheckpoint,
    find_checkpoints,
    latest_checkpoint,
    training_step,
)
from keras_gan.files import remove_temporary_files
from keras_gan.gan import GAN
from keras_gan.run_dir import RunPaths
from keras_gan.run_lock import LOCK_NAME, RunLock
from keras_gan.training.build import (
    build_callbacks,
    build_gan,
    load_gan,
    precision_policy,
    real_points,
    sample_noise,
    write_model_summary,
)
from keras_gan.training.config import RESUME_OVERRIDES, TrainConfig
from keras_gan.training.exceptions import (
    TrainingDivergedError,
    TrainingError,
    TrainingInterrupted,
)
from keras_gan.training.runs import (
    check_writable,
    claim_new_run_dir,
    default_run_dir,
    load_config,
)
from keras_gan.training.stream import data_stream, describe_data, load_data
from keras_gan.training.write_failure import failed_write, write_failure

__all__ = ["resume", "train"]

logger = logging.getLogger("keras_gan.training")


# ------------------------------------------------------------------------------- checks
def _make_strategy(name: str) -> tf.distribute.Strategy:
    try:
        return performance.make_strategy(name)
    except ValueError as error:
        raise TrainingError(str(error)) from None


def _seed_everything(config: TrainConfig) -> None:
    """Seed Python, NumPy, TensorFlow and Keras from `config.seed`.

    With `deterministic`, also turn on TensorFlow's op determinism, for the rest of the
    process (it cannot be undone).
    """
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()


def _refuse_to_start_over(paths: RunPaths) -> None:
    """Refuse a resume that would start over and hide damaged checkpoints or a generator.

    A resume without a complete checkpoint starts the run over in its folder.
    """
    damaged = find_checkpoints(paths.checkpoints)
    if damaged:
        raise TrainingError(
            f"{paths.root} has {len(damaged)} checkpoint(s) but none is complete (e.g. "
            f"{damaged[-1].path.name} is damaged), so resuming would start the run over; move "
            f"{paths.checkpoints} away to do that, or start a new run."
        )
    if paths.generator.is_file():
        raise TrainingError(
            f"{paths.root} has a trained generator.keras but no checkpoint, so resuming would "
            "start the run over and replace it; start a new run instead."
        )


# ------------------------------------------------------------------------------- training
def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
) -> Path:
    """Train the GAN `config` describes.

    Every setting, the data, the networks and the run directory are checked before anything
    is written. With `resume=True`, `config.run_dir` must be an existing run: the newest
    complete checkpoint is loaded (networks, optimizers, noise RNG) under the run's precision
    and training goes on at its epoch with the run's sample noise; a checkpoint written inside
    an epoch restarts that epoch. Without a checkpoint the run starts over in the same folder,
    unless that would replace saved work. Only the chief process writes the run, and it holds
    the run's lock (`keras_gan.run_lock.RunLock`) from before the run is read until it ends.

    Args:
        config: the settings; `None` ones take their defaults (`TrainConfig.resolved`).
        resume: continue the run in `config.run_dir` instead of starting a new one.
        callbacks: more Keras callbacks, run after the run's own (`build_callbacks`).
        verbose: `keras.Model.fit`'s progress output.

    Returns:
        The run directory.

    Raises:
        TrainingError: for a bad setting or run directory, or a failed write (e.g. a full
            disk; the message names the last complete checkpoint).
        TrainingDivergedError: when a loss became NaN or infinite (nothing poisoned is saved).
        TrainingInterrupted: after Ctrl-C or SIGTERM, once a checkpoint and the generator are
            saved.
        RunInUseError: another process trains in the run directory (nothing is changed).
    """
    with contextlib.ExitStack() as lock:
        return _train(config, resume, callbacks, verbose, lock)


def _lock_existing_run(lock: contextlib.ExitStack, run_dir: Path) -> None:
    """Take the lock of the run in `run_dir` before reading it (the chief only)."""
    if performance.is_chief() and RunPaths(run_dir).config.is_file():
        check_writable(run_dir)
        lock.enter_context(RunLock(run_dir))


def _train(
    config: TrainConfig,
    resume: bool,
    callbacks: Sequence[keras.callbacks.Callback],
    verbose: str | int,
    lock: contextlib.ExitStack,
) -> Path:
    """`train`, with the run's lock entered into `lock` before the run is read or written."""
    config.validate()
    if resume:
        if not config.run_dir:
            raise TrainingError("resume=True needs config.run_dir, the run to continue.")
        _lock_existing_run(lock, Path(config.run_dir))
        load_config(config.run_dir)  # it must be a run directory
    strategy = _make_strategy(config.strategy)  # first: multi-worker needs it before other TF
    chief = performance.is_chief(strategy)
    info = describe_data(config)
    stored_shape = config.image_shape
    config = config.resolved(info)
    config.validate()
    if info.num_examples is not None and config.batch_size > info.num_examples:
        raise TrainingError(
            f"batch_size {config.batch_size} is larger than the {info.num_examples} examples of "
            f"{config.dataset}; use a batch size of at most {info.num_examples}."
        )
    if resume and stored_shape is not None and tuple(stored_shape) != config.image_shape:
        raise TrainingError(
            f"The data now has shape {config.image_shape} but the run was trained on "
            f"{tuple(stored_shape)}; resume with the same dataset, image_size and channels."
        )

    initial_epoch = 0
    checkpoint = None
    if resume:
        run_dir = Path(config.run_dir)
        checkpoint = latest_checkpoint(run_dir)
        if checkpoint is None:
            _refuse_to_start_over(RunPaths(run_dir))
        else:
            initial_epoch = checkpoint.epochs_completed
        if initial_epoch >= config.epochs:
            raise TrainingError(
                f"{run_dir} has already trained {initial_epoch} of {config.epochs} epochs; "
                "ask for more epochs (--epochs) to continue it."
            )
    else:
        if chief and not config.run_dir:
            run_dir = claim_new_run_dir(lock, config.dataset, config.arch)
        elif chief:  # locked before the emptiness check: two processes cannot both start it
            run_dir = Path(config.run_dir)
            check_writable(run_dir)
            lock.enter_context(RunLock(run_dir, create=True))
        else:
            run_dir = Path(config.run_dir or default_run_dir(config.dataset, config.arch))
        if chief and any(path.name != LOCK_NAME for path in run_dir.iterdir()):
            raise TrainingError(
                f"{run_dir} already exists and is not empty; resume it or choose another run "
                "directory."
            )
    if chief:
        check_writable(run_dir)
    config = dataclasses.replace(config, run_dir=str(run_dir))
    with precision_policy(config.precision):
        _seed_everything(config)
        with strategy.scope():
            gan = build_gan(config) if checkpoint is None else load_gan(checkpoint, config)
        stream, steps, skipped_files = data_stream(config, info, initial_epoch)
        return _fit(
            config,
            gan,
            stream,
            steps,
            checkpoint,
            initial_epoch,
            chief,
            callbacks,
            verbose,
            skipped_files,
        )


def _log_start(config: TrainConfig, gan: GAN, checkpoint: CheckpointInfo | None) -> None:
    logger.info(
        "Model: %s, %s loss, generator %s parameters, discriminator %s; %s, %s",
        config.arch,
        config.loss,
        f"{gan.generator.count_params():,}",
        f"{gan.discriminator.count_params():,}",
        config.precision,
        f"{config.strategy} strategy" if config.strategy != "default" else "one device",
    )
    if checkpoint is not None:
        logger.info(
            "Resuming from %s: %d epoch(s) done, step %d%s.",
            checkpoint.path.name,
            checkpoint.epochs_completed,
            checkpoint.step,
            "" if checkpoint.end_of_epoch else " (saved mid-epoch: that epoch restarts)",
        )
    logger.info("Run directory: %s", config.run_dir)


def _fit(
    config: TrainConfig,
    gan: GAN,
    stream: Any,
    steps: int | None,
    checkpoint: CheckpointInfo | None,
    initial_epoch: int,
    chief: bool,
    callbacks: Sequence[keras.callbacks.Callback],
    verbose: str | int,
    skipped_files: Any = None,
) -> Path:
    """Write the run directory (chief only) and train; everything has been checked."""
    run_dir = Path(config.run_dir)
    paths = RunPaths(run_dir)
    guard = StopOnNonFinite()
    run_callbacks: list[keras.callbacks.Callback] = []
    checkpointer = None
    try:
        if chief:
            run_dir.mkdir(parents=True, exist_ok=True)
            for folder in (run_dir, paths.samples):  # leftovers of writes cut by a kill
                remove_temporary_files(folder)
            config.save(paths.config)
            if checkpoint is None or not paths.model_summary.is_file():
                write_model_summary(gan, paths, echo=verbose not in (0, False))
            noise = sample_noise(paths, config)
            toy = config.image_shape == (2,)
            real = real_points(load_data(config)[0], config.batch_size) if toy else None
            run_callbacks = build_callbacks(config, paths, noise, real, skipped_files)
            checkpointer = next(c for c in run_callbacks if isinstance(c, TrainingCheckpoint))
        _log_start(config, gan, checkpoint)
        try:
            gan.fit(
                stream,
                epochs=config.epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=steps,
                callbacks=[guard, *run_callbacks, *callbacks],
                verbose=verbose,
                shuffle=False,
            )
        finally:
            if checkpointer is not None:
                checkpointer.restore_signal_handlers()
    except Exception as error:
        if guard.event is not None:  # a callback failed on the poisoned state: still a NaN stop
            logger.warning("After the NaN stop: %s: %s", type(error).__name__, error)
            raise TrainingDivergedError(run_dir, guard.event, latest_checkpoint(run_dir)) from None
        failed = failed_write(error, run_dir)
        if failed is not None:
            raise write_failure(failed, run_dir, gan, checkpointer) from None
        if getattr(skipped_files, "failure", None) is not None:  # the data ran dry mid-run
            raise TrainingError(
                f"{skipped_files.failure} Training stopped at step {training_step(gan)}; once "
                f"the data is back, continue with: python train.py --resume {run_dir}"
            ) from None
        raise
    if guard.event is not None:
        raise TrainingDivergedError(run_dir, guard.event, latest_checkpoint(run_dir))
    if checkpointer is not None and checkpointer.interrupted:
        raise TrainingInterrupted(
            run_dir, checkpointer.last_checkpoint, checkpointer.stop_signal or signal.SIGINT
        )
    return run_dir


def resume(
    run_dir: str | os.PathLike,
    *,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
    **overrides: Any,
) -> Path:
    """Continue the run in `run_dir` from its newest complete checkpoint.

    The folder is the one named here, whatever `run_dir` its `config.json` records.

    Args:
        run_dir: the run to continue.
        callbacks: more Keras callbacks, as for `train`.
        verbose: `keras.Model.fit`'s progress output.
        **overrides: new values of settings in `RESUME_OVERRIDES` (e.g. `epochs=50` to train
            longer, another `strategy`); any other setting must equal the run's (`precision`
            "auto" is compared as what it resolves to, `augment` "auto" as the run's choice).

    Returns:
        The run directory.

    Raises:
        TrainingError: for an unknown setting or one that cannot change, and as for `train`.
        RunInUseError: another process trains in `run_dir` (nothing is changed).
    """
    with contextlib.ExitStack() as lock:
        _lock_existing_run(lock, Path(run_dir))  # before the run is read; `train` re-enters it
        config = load_config(run_dir)
        changes = {}
        for name, value in overrides.items():
            if not hasattr(config, name):
                raise TrainingError(f"Unknown setting {name!r}.")
            if name == "precision" and value == "auto":
                value = performance.recommended_precision()
            if name == "augment" and value == "auto":
                value = config.augment  # what "auto" resolved to when the run started
            if name not in RESUME_OVERRIDES and value != getattr(config, name):
                raise TrainingError(
                    f"{name} cannot change when resuming (the run has "
                    f"{getattr(config, name)!r}); start a new run instead."
                )
            changes[name] = value
        config = dataclasses.replace(config, **{**changes, "run_dir": str(run_dir)})
        return train(config, resume=True, callbacks=callbacks, verbose=verbose)
