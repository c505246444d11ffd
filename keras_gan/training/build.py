"""Building what a run trains: the compiled GAN, its precision policy and its callbacks."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from keras_gan import generation, latent, networks, packing, performance, replicas
from keras_gan.callbacks import (
    ExportGenerator,
    LossHistory,
    SampleGrid,
    SkippedFilesLog,
    TensorBoardLogger,
)
from keras_gan.callbacks.skipped_files import SkipCounter
from keras_gan.checkpoints import CheckpointInfo, TrainingCheckpoint, restore_seed_states
from keras_gan.files import write_atomically, write_text_atomically
from keras_gan.gan import GAN
from keras_gan.generation import SamplingError
from keras_gan.run_dir import RunPaths
from keras_gan.training.config import TrainConfig
from keras_gan.training.exceptions import TrainingError

__all__ = [
    "build_callbacks",
    "build_gan",
    "load_gan",
    "load_generator",
    "precision_policy",
    "real_points",
    "sample_noise",
    "write_model_summary",
]

REAL_POINTS_FOR_PLOTS = 2000  # real points drawn under the generated ones on 2-D data


@contextlib.contextmanager
def precision_policy(name: str) -> Iterator[keras.DTypePolicy]:
    """Set Keras's global dtype policy for a `with` block, then put the previous one back.

    Args:
        name: a precision, as `keras_gan.performance.set_precision` takes it.

    Returns:
        A context manager that yields the policy set.

    Raises:
        TrainingError: for an unknown precision.
    """
    previous = keras.mixed_precision.dtype_policy()
    try:
        policy = performance.set_precision(name)
    except ValueError as error:
        raise TrainingError(str(error)) from None
    try:
        yield policy
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def _compile_options(config: TrainConfig) -> dict[str, Any]:
    try:
        return performance.compile_options(config.jit_compile, config.steps_per_execution)
    except ValueError as error:
        raise TrainingError(str(error)) from None


def build_gan(config: TrainConfig) -> GAN:
    """The compiled GAN a resolved config describes.

    The networks take the current Keras dtype policy (`train` sets `config.precision` with
    `precision_policy`) and the current `tf.distribute` scope. D is built on the packed shape
    of a sample (`keras_gan.packing.packed_shape`) and D's inputs are augmented as
    `config.augment` says ("auto", left by a config resolved without data, is "off").

    Args:
        config: a `TrainConfig.resolved` config (its `image_shape` must be set).

    Returns:
        A `GAN` compiled with two Adam optimizers and the config's loss and speed settings.

    Raises:
        TrainingError: for an unresolved config, a network option the builder refuses, or an
            augmentation or packing these networks or this batch size cannot take.
    """
    if config.image_shape is None:
        raise TrainingError("The config has no image_shape; call config.resolved(info) first.")
    num_classes = config.num_classes if config.conditional else None
    if config.conditional and not num_classes:
        raise TrainingError("A conditional config needs num_classes; call config.resolved(info).")
    class_option = {"num_classes": num_classes} if num_classes else {}
    if config.batch_size and config.batch_size % (config.pack * replicas.num_replicas()):
        raise TrainingError(
            f"batch_size {config.batch_size} must be a multiple of pack {config.pack} times the "
            f"{replicas.num_replicas()} replicas, so that every replica's batch packs evenly."
        )
    try:
        generator, discriminator = networks.build(
            config.arch,
            config.image_shape,
            config.latent_dim,
            discriminator_shape=packing.packed_shape(config.image_shape, config.pack),
            **config.network_options,
            **class_option,
        )
    except (TypeError, ValueError) as error:  # an unknown option, or a value a builder refuses
        raise TrainingError(f"Bad network option for {config.arch}: {error}") from None
    try:
        gan = GAN(
            generator,
            discriminator,
            config.latent_dim,
            d_steps=config.d_steps,
            seed=config.seed,
            num_classes=num_classes,
            ema_momentum=config.ema_momentum or None,
            augment=None if config.augment == "auto" else config.augment,
            pack=config.pack,
        )
    except ValueError as error:
        raise TrainingError(str(error)) from None
    gan.compile(
        d_optimizer=keras.optimizers.Adam(config.lr_d, beta_1=config.beta1, beta_2=config.beta2),
        g_optimizer=keras.optimizers.Adam(config.lr_g, beta_1=config.beta1, beta_2=config.beta2),
        loss=config.loss,
        **_compile_options(config),
    )
    return gan


def load_generator(source: str | os.PathLike) -> keras.Model:
    """The trained generator of a run directory or `.keras` file (`generation.load_generator`).

    Args:
        source: a run directory or a `.keras` file (a generator or a GAN checkpoint).

    Returns:
        The generator, loaded with `safe_mode=True`.

    Raises:
        TrainingError: in one line, for anything that cannot be loaded (as it always has here).
    """
    try:
        return generation.load_generator(source)
    except SamplingError as error:
        raise TrainingError(str(error)) from None


def load_gan(checkpoint: CheckpointInfo, config: TrainConfig) -> GAN:
    """The GAN of a checkpoint, ready to train on.

    The networks' random states (e.g. Dropout's) are restored and the GAN is recompiled with
    `config`'s XLA and steps-per-execution settings, which may change on resume; the
    optimizers and their state are kept.

    Args:
        checkpoint: the checkpoint to continue from.
        config: the run's resolved settings.

    Returns:
        The compiled `GAN`.

    Raises:
        TrainingError: when the file cannot be loaded or is not a checkpoint of this run.
    """
    try:
        gan = generation.load_keras_file(checkpoint.path)
    except SamplingError as error:
        raise TrainingError(str(error)) from None
    if not isinstance(gan, GAN) or gan.latent_dim != config.latent_dim:
        raise TrainingError(f"{checkpoint.path} is not a checkpoint of this run's GAN.")
    restore_seed_states(gan, checkpoint.seed_states)
    gan.compile(
        d_optimizer=gan.d_optimizer,
        g_optimizer=gan.g_optimizer,
        loss=gan.adversarial_loss,
        **_compile_options(config),
    )
    return gan


def build_callbacks(
    config: TrainConfig,
    paths: RunPaths,
    sample_noise: np.ndarray,
    real_samples: np.ndarray | None = None,
    skipped_files: SkipCounter | None = None,
) -> list[keras.callbacks.Callback]:
    """The callbacks that write a run directory.

    In the order they act at the end of an epoch: with `skipped_files`, `SkippedFilesLog`
    (the epoch's count of files the stream skipped into `logs`, first so that every logger
    writes it), the evaluation (FID and KID into `logs`, and
    `generator_best.keras`; when `config.eval_every` is set), TensorBoard scalars, the sample
    picture, the history, the checkpoint, and the generator export at the end of training.
    With `config.monitor` the `FailureMonitor` follows the evaluation (its alarms and sample
    diversity go into `logs` too; its state is rebuilt from `history.csv` on resume).
    The evaluation comes first so that every later callback (and the user's, which `train`
    puts after these) sees `fid` and `kid` in its logs; `train` puts its `StopOnNonFinite`
    guard before all of them.

    Args:
        config: the run's resolved settings.
        paths: where the run's files go.
        sample_noise: the fixed noise of the sample pictures.
        real_samples: real points drawn under the generated ones (2-D data only).
        skipped_files: the data stream's counter of skipped files (`DatasetInfo.skipped_files`;
            `None` for data that does not stream files, which then has no `skipped_files`
            column).

    Returns:
        A list of Keras callbacks for `GAN.fit`.
    """
    watchers: list[keras.callbacks.Callback] = []
    if skipped_files is not None:
        watchers.append(SkippedFilesLog(skipped_files))
    if config.eval_every:
        from keras_gan.evaluation import EvaluationCallback

        watchers.append(
            EvaluationCallback(
                config.dataset,
                every=config.eval_every,
                n=config.eval_n,
                seed=config.seed,
                directory=paths.root,
                data_dir=config.data_dir,
                background=config.background,
                verbose=False,  # logged; TensorBoardLogger writes its scalars
            )
        )
    evaluation = watchers[-1] if config.eval_every else None
    if config.monitor:  # after the evaluation (it shares its feature space), before the loggers
        from keras_gan.callbacks import FailureMonitor

        watchers.append(
            FailureMonitor(
                sample_noise,
                space_of=evaluation,
                real_samples=real_samples,
                log_dir=paths.logs,
                history_path=paths.history,
            )
        )
    return [
        *watchers,
        TensorBoardLogger(paths.logs, update_freq=config.log_every),
        SampleGrid(
            paths.samples,
            noise=sample_noise,
            every=config.sample_every,
            log_dir=paths.logs,
            real_samples=real_samples,
        ),
        LossHistory(paths.history, paths.losses_plot),
        TrainingCheckpoint(
            paths.checkpoints, every_steps=config.checkpoint_every, keep=config.keep_checkpoints
        ),
        ExportGenerator(paths.generator),
    ]


def sample_noise(paths: RunPaths, config: TrainConfig) -> np.ndarray:
    """The run's fixed sample noise: read back when it exists (resume), else drawn and saved.

    Args:
        paths: the run's files.
        config: the run's resolved settings (`num_samples`, `latent_dim`, `seed`).

    Returns:
        A float32 array of shape `(num_samples, latent_dim)`.

    Raises:
        TrainingError: when the saved noise cannot be read or has the wrong shape.
    """
    shape = (config.num_samples, config.latent_dim)
    if paths.sample_noise.is_file():
        try:
            noise = np.load(paths.sample_noise, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise TrainingError(f"Cannot read {paths.sample_noise}: {error}") from None
        if noise.shape[1:] != shape[1:]:
            raise TrainingError(
                f"{paths.sample_noise} has shape {noise.shape}, expected (n, {config.latent_dim})."
            )
        return noise.astype("float32")
    noise = latent.sample_noise(config.num_samples, config.latent_dim, seed=config.seed)
    write_atomically(paths.sample_noise, lambda temp: np.save(temp, noise))
    return noise


def write_model_summary(gan: GAN, paths: RunPaths, echo: bool = False) -> str:
    """Write `generator.summary()` and `discriminator.summary()` to `paths.model_summary`.

    Args:
        gan: the run's GAN.
        paths: the run's files; the text is written atomically.
        echo: also print it.

    Returns:
        The text written.
    """
    lines: list[str] = []
    for network in (gan.generator, gan.discriminator):
        network.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    text = "\n".join(line.rstrip("\n") for line in lines) + "\n"
    write_text_atomically(paths.model_summary, text)
    if echo:
        print(text, end="", flush=True)
    return text


def real_points(dataset: Any, batch_size: int) -> np.ndarray:
    """Up to `REAL_POINTS_FOR_PLOTS` real examples from the first batches of `dataset`."""
    batches = math.ceil(REAL_POINTS_FOR_PLOTS / batch_size)
    points = [
        np.asarray(batch[0] if isinstance(batch, tuple) else batch)
        for batch in dataset.take(batches).as_numpy_iterator()
    ]
    return np.concatenate(points)[:REAL_POINTS_FOR_PLOTS]
