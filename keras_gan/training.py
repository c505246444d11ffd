"""A training run from Python: settings, run directory, checkpoints, resume.

Everything ``train.py`` does is here, so a script or notebook can do it too::

    from keras_gan import training
    run_dir = training.train(training.TrainConfig(dataset="mnist", arch="dcgan", epochs=5))
    training.resume(run_dir, epochs=10)            # continue the same run to epoch 10
    generator = training.load_generator(run_dir)   # generator.keras or the latest checkpoint

A run directory holds (:class:`RunPaths`)::

    config.json        every setting of the run (TrainConfig), read by resume() and sample.py
    sample_noise.npy   the fixed noise of the sample grids, drawn once at the start
    checkpoints/       ckpt-<step>.keras + ckpt-<step>.json, the newest keep_checkpoints kept
    generator.keras    the generator alone, written when training ends (also on Ctrl-C)
    samples/           epoch_0001.png, ... (a scatter plot for 2-D data)
    logs/              TensorBoard event files: scalars and sample images
    history.csv        one row per epoch; losses.png plots it

Defaults follow the papers, except the DCGAN's optimisation settings, which a wall-clock
benchmark improved on (:data:`ARCHITECTURE_DEFAULTS`, :data:`LOSS_DEFAULTS`): a setting
left as None takes the loss's default if it has one, else the architecture's.

Speed and scale-out settings (``precision``, ``jit_compile``, ``steps_per_execution``,
``strategy``) go to :mod:`keras_gan.performance`: the networks are built and compiled inside the
strategy's scope under the precision policy, ``batch_size`` is the global batch (split over the
replicas), and only the chief process of a multi-worker cluster writes the run directory.

Data order: epoch ``e`` sees the batches ``e * steps_per_epoch ...`` of one seeded stream of
shuffled passes over the data, so a run resumed at epoch ``e`` sees the same batches as an
uninterrupted one; with ``deterministic=True`` (TensorFlow op determinism) a run resumed at an
epoch boundary ends bit-identical to an uninterrupted one on the same machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import secrets
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_gan import callbacks as gan_callbacks
from keras_gan import data, latent, losses, networks, performance
from keras_gan.gan import GAN

__all__ = [
    "ARCHITECTURE_DEFAULTS",
    "LOSS_DEFAULTS",
    "RESUME_OVERRIDES",
    "RunPaths",
    "TrainConfig",
    "TrainingDivergedError",
    "TrainingError",
    "TrainingInterrupted",
    "build_callbacks",
    "build_gan",
    "default_run_dir",
    "latest_checkpoint",
    "load_config",
    "load_generator",
    "precision_policy",
    "resume",
    "train",
]

logger = logging.getLogger("keras_gan.training")

# DCGAN: Radford et al. 2016 (Sec. 4) used Adam with learning rate 2e-4 and beta_1 0.5,
# mini-batches of 128 and z of 100 dimensions. The defaults keep beta_1 and z but train with
# Adam 6e-4, batch 64 and a moving average of G's weights (momentum 0.99, Yazici et al. 2019):
# at equal wall time on Fashion-MNIST this about halves the FID of the paper's settings
# (docs/benchmarks.md, Quality). The paper's settings: --batch-size 128 --lr-d 2e-4 --lr-g 2e-4
# --ema-momentum 0. MLP: Goodfellow et al. 2014 trained maxout networks with SGD and
# hand-tuned momentum/learning-rate schedules that do not carry over to these ReLU/LeakyReLU
# MLPs; the setting that reproduces the fully connected GAN on MNIST in common reference code
# (e.g. PyTorch-GAN's gan.py) is Adam(2e-4, beta_1=0.5), batch 64, z of 100 dimensions, which
# converges more slowly than the DCGAN, hence more epochs. Architectures registered by users
# get the DCGAN setting, as keras_gan.default_optimizer does.
ARCHITECTURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "dcgan": {
        "epochs": 25,
        "batch_size": 64,
        "latent_dim": 100,
        "lr_d": 6e-4,
        "lr_g": 6e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "d_steps": 1,
        "ema_momentum": 0.99,
    },
    "mlp": {
        "epochs": 100,
        "batch_size": 64,
        "latent_dim": 100,
        "lr_d": 2e-4,
        "lr_g": 2e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "d_steps": 1,
        "ema_momentum": 0.0,
    },
}

# WGAN-GP (Gulrajani et al. 2017, Alg. 1): Adam(1e-4, beta_1=0, beta_2=0.9), 5 critic steps
# per generator step; its DCGAN critic uses layer norm (the per-example gradient penalty is
# invalid with batch norm, Sec. 4).
LOSS_DEFAULTS: dict[str, dict[str, Any]] = {
    "wasserstein": {"lr_d": 1e-4, "lr_g": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_steps": 5},
}

# Settings a resumed run may change; the others define the model and its data.
RESUME_OVERRIDES = frozenset(
    {
        "epochs",
        "steps_per_epoch",
        "sample_every",
        "checkpoint_every",
        "keep_checkpoints",
        "log_every",
        "data_dir",
        "jit_compile",
        "steps_per_execution",
        "strategy",
        "deterministic",
    }
)
# Precision of config files written before the setting existed.
LEGACY_PRECISION = "float32"

_DEFAULTED = (
    "epochs",
    "batch_size",
    "latent_dim",
    "lr_d",
    "lr_g",
    "beta1",
    "beta2",
    "d_steps",
    "ema_momentum",
)
_POSITIVE_INTS = (
    "epochs",
    "batch_size",
    "latent_dim",
    "d_steps",
    "image_size",
    "num_examples",
    "steps_per_epoch",
    "sample_every",
    "num_samples",
    "checkpoint_every",
    "keep_checkpoints",
    "log_every",
    "steps_per_execution",
)
_REAL_POINTS_FOR_PLOTS = 2000
SAMPLE_IMAGES = 64  # an 8 x 8 grid
SAMPLE_POINTS = 1000  # enough generated points to see the shape of a 2-D distribution


class TrainingError(ValueError):
    """A bad setting or run directory; ``str(error)`` is one line that says what to do."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training was stopped by Ctrl-C or SIGTERM after saving a checkpoint and
    ``generator.keras``; ``signal`` is the signal number (SIGINT for ``request_stop``).

    A ``KeyboardInterrupt``, so callers that do not handle it stop as on any Ctrl-C.
    """

    def __init__(
        self,
        run_dir: Path,
        checkpoint: gan_callbacks.CheckpointInfo | None,
        signum: int = signal.SIGINT,
    ):
        super().__init__(f"Training interrupted; state saved in {run_dir}")
        self.run_dir = run_dir
        self.checkpoint = checkpoint
        self.signal = int(signum)


class TrainingDivergedError(TrainingError):
    """A loss became NaN or infinite; training stopped without saving the poisoned state.

    ``event`` says where; ``checkpoint`` is the last good checkpoint (None if there is none),
    which :func:`resume` continues from.
    """

    def __init__(
        self,
        run_dir: Path,
        event: gan_callbacks.NonFiniteLoss,
        checkpoint: gan_callbacks.CheckpointInfo | None,
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


# ------------------------------------------------------------------------------- settings
def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run; ``config.json`` is this as JSON.

    None means "the default": the architecture's or the loss's for the optimisation settings
    (see the module docstring), the dataset's own size and channels for ``image_size`` and
    ``channels``, ``dcgan`` for images and ``mlp`` for points for ``arch``, a random seed
    (recorded) for ``seed``, ``runs/<dataset>-<arch>-<time>`` for ``run_dir``, 64 images or
    1000 points for ``num_samples`` (the fixed noise of the sample pictures).
    ``conditional`` trains a class-conditional GAN on a labelled dataset; ``image_shape`` and
    (for conditional runs) ``num_classes`` are filled in from the data when the run starts.

    ``precision`` is a :data:`keras_gan.performance.PRECISIONS` policy or "auto"
    (:func:`keras_gan.performance.recommended_precision`, resolved and recorded when the run
    starts); ``jit_compile`` is "auto", "on" or "off" (XLA); ``steps_per_execution`` train steps
    run per compiled call; ``strategy`` is one of :data:`keras_gan.performance.STRATEGIES`.
    ``batch_size`` is the global batch, split over the strategy's replicas. ``deterministic``
    turns on TensorFlow's op determinism (bit-identical runs from the same seed).
    """

    dataset: str
    arch: str | None = None
    loss: str = "non_saturating"
    epochs: int | None = None
    batch_size: int | None = None
    latent_dim: int | None = None
    d_steps: int | None = None
    lr_d: float | None = None
    lr_g: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    ema_momentum: float | None = None
    image_size: int | None = None
    channels: int | None = None
    num_examples: int | None = None
    steps_per_epoch: int | None = None
    seed: int | None = None
    run_dir: str | None = None
    sample_every: int = 1
    num_samples: int | None = None
    checkpoint_every: int | None = None
    keep_checkpoints: int = 3
    log_every: int = 10
    data_dir: str | None = None
    network_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    conditional: bool = False
    image_shape: tuple[int, ...] | None = None
    num_classes: int | None = None
    precision: str = "auto"
    jit_compile: str = "auto"
    steps_per_execution: int = 1
    strategy: str = "default"
    deterministic: bool = False

    # -- checking
    def validate(self) -> None:
        """Raise :class:`TrainingError` for the first bad setting (None is always fine)."""
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise TrainingError("dataset must be a dataset name, a folder or an .npz/.npy file.")
        if self.arch is not None and self.arch not in networks.available():
            raise TrainingError(
                f"Unknown architecture {self.arch!r}; choose one of "
                f"{', '.join(networks.available())}."
            )
        try:
            losses.get(self.loss)
        except (ValueError, TypeError) as error:
            raise TrainingError(str(error)) from None
        for name in _POSITIVE_INTS:
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 1):
                raise TrainingError(f"{name} must be a positive integer, got {value!r}.")
        for name in ("lr_d", "lr_g"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and 0 < value < math.inf):
                raise TrainingError(f"{name} must be a positive number, got {value!r}.")
        for name in ("beta1", "beta2", "ema_momentum"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and 0 <= value < 1):
                raise TrainingError(f"{name} must be in [0, 1), got {value!r}.")
        if self.channels is not None and self.channels not in (1, 3):
            raise TrainingError(f"channels must be 1 or 3, got {self.channels!r}.")
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            raise TrainingError(f"seed must be a non-negative integer, got {self.seed!r}.")
        if not isinstance(self.network_options, dict) or not all(
            isinstance(key, str) for key in self.network_options
        ):
            raise TrainingError("network_options must map option names to values.")
        if self.arch == "dcgan" and self.image_size is not None:
            try:
                networks.dcgan_start_size(self.image_size)
            except ValueError as error:
                raise TrainingError(str(error)) from None
        choices = {
            "precision": performance.PRECISION_CHOICES,
            "strategy": performance.STRATEGIES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise TrainingError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}."
                )
        if self.jit_compile not in performance.JIT_COMPILE_CHOICES:
            raise TrainingError(
                f"jit_compile must be one of {', '.join(performance.JIT_COMPILE_CHOICES)}, "
                f"got {self.jit_compile!r}."
            )
        if not isinstance(self.deterministic, bool):
            raise TrainingError(f"deterministic must be true or false, got {self.deterministic!r}.")

    def resolved(self, info: data.DatasetInfo | None = None) -> TrainConfig:
        """A copy with every default filled in (``info`` describes the data, when known)."""
        arch = self.arch or ("mlp" if info is not None and not info.is_image else "dcgan")
        loss = losses.get(self.loss).name
        defaults = {**ARCHITECTURE_DEFAULTS.get(arch, ARCHITECTURE_DEFAULTS["dcgan"])}
        defaults.update(LOSS_DEFAULTS.get(loss, {}))
        filled = {name: defaults[name] for name in _DEFAULTED if getattr(self, name) is None}
        options = dict(self.network_options)
        if arch == "dcgan" and losses.get(loss).gradient_penalty_weight:
            options.setdefault("normalization", "layer")
        seed = self.seed if self.seed is not None else secrets.randbelow(2**31)
        num_samples = self.num_samples
        if num_samples is None:
            num_samples = SAMPLE_POINTS if info is not None and not info.is_image else SAMPLE_IMAGES
        image_shape, num_classes = self.image_shape, self.num_classes
        if info is not None:
            image_shape = tuple(int(dim) for dim in info.element_shape)
            if self.conditional:
                if not info.num_classes:
                    raise TrainingError(
                        f"{self.dataset} has no class labels; a conditional GAN needs a labelled "
                        "dataset (e.g. mnist, fashion_mnist, cifar10, a folder of class "
                        "subfolders, an .npz with labels)."
                    )
                num_classes = int(info.num_classes)
        precision = self.precision
        if precision == "auto":
            precision = performance.recommended_precision()
        return dataclasses.replace(
            self,
            arch=arch,
            loss=loss,
            seed=seed,
            num_samples=num_samples,
            network_options=options,
            image_shape=image_shape,
            num_classes=num_classes,
            precision=precision,
            **filled,
        )

    # -- serialisation
    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values."""
        values = dataclasses.asdict(self)
        if values["image_shape"] is not None:
            values["image_shape"] = list(values["image_shape"])
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The inverse of :meth:`to_dict`; unknown keys are an error, not silently dropped."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TrainingError(f"Unknown setting(s) in config: {', '.join(unknown)}.")
        if "dataset" not in values:
            raise TrainingError("The config has no dataset.")
        values = dict(values)
        if values.get("image_shape") is not None:
            values["image_shape"] = tuple(values["image_shape"])
        return cls(**values)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the settings as JSON, atomically."""
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        return gan_callbacks.write_atomically(path, lambda temp: temp.write_text(text))

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainConfig:
        """Read settings written by :meth:`save` (a file without ``precision``, written before
        the setting existed, is a float32 run)."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise TrainingError(f"Cannot read {path}: {error}") from None
        if not isinstance(values, dict):
            raise TrainingError(f"{path} does not hold a settings object.")
        values.setdefault("precision", LEGACY_PRECISION)
        try:
            return cls.from_dict(values)
        except TypeError as error:  # e.g. a setting of the wrong JSON type
            raise TrainingError(f"{path} holds bad settings: {error}") from None


# ------------------------------------------------------------------------------- run directory
@dataclasses.dataclass(frozen=True)
class RunPaths:
    """Where each artefact of a run lives (see the module docstring)."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def sample_noise(self) -> Path:
        return self.root / "sample_noise.npy"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def generator(self) -> Path:
        return self.root / "generator.keras"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def losses_plot(self) -> Path:
        return self.root / "losses.png"

    def sample_image(self, epoch_number: int) -> Path:
        """The sample picture after ``epoch_number`` epochs (1-based)."""
        return self.samples / f"epoch_{epoch_number:04d}.png"


def _dataset_label(dataset: str) -> str:
    """A short folder-name-safe label: a path's file or folder name, or the dataset name."""
    label = dataset.strip().rstrip("/\\")
    if os.sep in label or "/" in label or label.lower().endswith((".npz", ".npy")):
        label = Path(label).stem if Path(label).suffix else Path(label).name
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._") or "data"


def default_run_dir(dataset: str, arch: str, root: str | os.PathLike = "runs") -> Path:
    """``root/<dataset>-<arch>-<YYYYmmdd-HHMMSS>``, with a suffix if that already exists."""
    base = Path(root) / f"{_dataset_label(dataset)}-{arch}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def latest_checkpoint(run_dir: str | os.PathLike) -> gan_callbacks.CheckpointInfo | None:
    """The newest complete checkpoint of a run (``run_dir`` or its ``checkpoints`` folder).

    Temporary and half-written files are ignored and each candidate's ``.keras`` archive is
    checked before it is trusted, falling back to older checkpoints.
    """
    directory = Path(run_dir)
    if (directory / "checkpoints").is_dir():
        directory = directory / "checkpoints"
    return gan_callbacks.latest_checkpoint(directory)


def load_config(run_dir: str | os.PathLike) -> TrainConfig:
    """The settings of the run in ``run_dir``."""
    paths = RunPaths(Path(run_dir))
    if not paths.config.is_file():
        raise TrainingError(f"{run_dir} is not a run directory (it has no config.json).")
    return TrainConfig.load(paths.config)


def _load_keras_file(path: Path) -> keras.Model:
    if not gan_callbacks.is_complete_keras_file(path):
        raise TrainingError(
            f"{path} is not a Keras model file: expected a complete .keras archive written by "
            "model.save() (this one is of another kind, truncated or damaged)."
        )
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a file it cannot rebuild
        text = str(error)
        if "arbitrary code execution" in text:
            raise TrainingError(
                f"Refusing to load {path}: it embeds Python code (e.g. a Lambda layer), which "
                "safe_mode=True never runs; if you trust the file, load it yourself with "
                "keras.saving.load_model(path, safe_mode=False)."
            ) from None
        first_line = (text.strip().splitlines() or [type(error).__name__])[0]
        raise TrainingError(f"Cannot load {path}: {first_line}") from None


def load_generator(source: str | os.PathLike) -> keras.Model:
    """The trained generator of a run directory, or of a ``.keras`` file (a generator, or a
    GAN checkpoint whose generator is returned); loaded with ``safe_mode=True``.

    In a run directory, ``generator.keras`` is used unless a complete checkpoint is newer (a
    run killed before it could export) or the export is damaged (a torn write); then the
    newest complete checkpoint's generator.
    """
    path = Path(source)
    if path.is_dir():
        paths = RunPaths(path)
        checkpoint = latest_checkpoint(path)
        exported = paths.generator.is_file() and gan_callbacks.is_complete_keras_file(
            paths.generator
        )
        if exported and (
            checkpoint is None
            or paths.generator.stat().st_mtime_ns >= checkpoint.metadata_path.stat().st_mtime_ns
        ):
            path = paths.generator
        elif checkpoint is not None:
            path = checkpoint.path
        elif paths.generator.is_file():
            raise TrainingError(
                f"{paths.generator} is damaged (not a complete .keras archive) and {source} "
                "has no complete checkpoint to fall back on."
            )
        else:
            raise TrainingError(f"{source} holds no generator.keras and no complete checkpoint.")
    elif not path.is_file():
        raise TrainingError(f"No such run directory or .keras file: {source}")
    model = _load_keras_file(path)
    return model.sampling_generator if isinstance(model, GAN) else model


# ------------------------------------------------------------------------------- building
@contextlib.contextmanager
def precision_policy(name: str) -> Iterator[keras.DTypePolicy]:
    """Set Keras's global dtype policy to ``name`` (see ``performance.set_precision``) for the
    ``with`` block, then put the previous one back."""
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
    """The compiled GAN a resolved config describes (``config.image_shape`` must be set).

    The networks take the current Keras dtype policy (:func:`train` sets ``config.precision``
    with :func:`precision_policy`) and the current ``tf.distribute`` scope.
    """
    if config.image_shape is None:
        raise TrainingError("The config has no image_shape; call config.resolved(info) first.")
    num_classes = config.num_classes if config.conditional else None
    if config.conditional and not num_classes:
        raise TrainingError("A conditional config needs num_classes; call config.resolved(info).")
    class_option = {"num_classes": num_classes} if num_classes else {}
    try:
        generator, discriminator = networks.build(
            config.arch,
            config.image_shape,
            config.latent_dim,
            **config.network_options,
            **class_option,
        )
    except TypeError as error:
        raise TrainingError(f"Bad network option for {config.arch}: {error}") from None
    gan = GAN(
        generator,
        discriminator,
        config.latent_dim,
        d_steps=config.d_steps,
        seed=config.seed,
        num_classes=num_classes,
        ema_momentum=config.ema_momentum or None,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(config.lr_d, beta_1=config.beta1, beta_2=config.beta2),
        g_optimizer=keras.optimizers.Adam(config.lr_g, beta_1=config.beta1, beta_2=config.beta2),
        loss=config.loss,
        **_compile_options(config),
    )
    return gan


def _load_gan(checkpoint: gan_callbacks.CheckpointInfo, config: TrainConfig) -> GAN:
    """The checkpoint's GAN with its networks' random states (e.g. Dropout's), recompiled with
    ``config``'s XLA and steps-per-execution settings (which may change on resume; the
    optimizers and their state are kept)."""
    gan = _load_keras_file(checkpoint.path)
    if not isinstance(gan, GAN) or gan.latent_dim != config.latent_dim:
        raise TrainingError(f"{checkpoint.path} is not a checkpoint of this run's GAN.")
    gan_callbacks.restore_seed_states(gan, checkpoint.seed_states)
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
) -> list[keras.callbacks.Callback]:
    """The callbacks of a run, in the order they act at the end of an epoch: TensorBoard
    scalars, sample picture, history, checkpoint, and the generator export at the end."""
    return [
        gan_callbacks.TensorBoardLogger(paths.logs, update_freq=config.log_every),
        gan_callbacks.SampleGrid(
            paths.samples,
            noise=sample_noise,
            every=config.sample_every,
            log_dir=paths.logs,
            real_samples=real_samples,
        ),
        gan_callbacks.LossHistory(paths.history, paths.losses_plot),
        gan_callbacks.TrainingCheckpoint(
            paths.checkpoints, every_steps=config.checkpoint_every, keep=config.keep_checkpoints
        ),
        gan_callbacks.ExportGenerator(paths.generator),
    ]


def _sample_noise(paths: RunPaths, config: TrainConfig) -> np.ndarray:
    """The run's fixed sample noise: read back when it exists (resume), else drawn and saved."""
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
    gan_callbacks.write_atomically(paths.sample_noise, lambda temp: np.save(temp, noise))
    return noise


def _real_points(dataset: Any, batch_size: int) -> np.ndarray:
    batches = math.ceil(_REAL_POINTS_FOR_PLOTS / batch_size)
    points = [
        np.asarray(batch[0] if isinstance(batch, tuple) else batch)
        for batch in dataset.take(batches).as_numpy_iterator()
    ]
    return np.concatenate(points)[:_REAL_POINTS_FOR_PLOTS]


def _describe(config: TrainConfig) -> data.DatasetInfo:
    return data.describe(
        config.dataset,
        image_size=config.image_size,
        channels=config.channels,
        data_dir=config.data_dir,
        num_examples=config.num_examples,
    )


def _load_data(config: TrainConfig) -> Any:
    return data.load(
        config.dataset,
        batch_size=config.batch_size,
        image_size=config.image_size,
        channels=config.channels,
        with_labels=config.conditional,
        shuffle=True,
        seed=config.seed,
        drop_remainder=True,
        data_dir=config.data_dir,
        num_examples=config.num_examples,
    )


# ------------------------------------------------------------------------------- training
def _make_strategy(name: str) -> tf.distribute.Strategy:
    try:
        return performance.make_strategy(name)
    except ValueError as error:
        raise TrainingError(str(error)) from None


def _seed_everything(config: TrainConfig) -> None:
    """Seed Python, NumPy, TensorFlow and Keras from ``config.seed``; with ``deterministic``,
    turn on TensorFlow's op determinism (for the rest of the process: it cannot be undone)."""
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()


def _data_stream(
    dataset: Any, steps_per_epoch: int | None, initial_epoch: int
) -> tuple[Any, int | None]:
    """What ``fit`` reads, and the steps of an epoch.

    One endless stream of seeded passes over the data (each pass in a new order), started at
    epoch ``initial_epoch``'s place in it, so that epoch ``e`` always sees the same batches: an
    epoch is one pass, or ``steps_per_epoch`` batches of the stream. A dataset of unknown
    length is returned as it is (every epoch one new pass, counted from the start on resume).
    """
    steps = steps_per_epoch
    if steps is None:
        length = int(dataset.cardinality())
        if length <= 0:
            return dataset, None
        steps = length
    stream = dataset.repeat()
    if initial_epoch:
        logger.info(
            "Data order: skipping %d batches to epoch %d's place in the seeded order (the "
            "first step waits for it).",
            initial_epoch * steps,
            initial_epoch + 1,
        )
        stream = stream.skip(initial_epoch * steps)
    return stream, steps


def _check_writable(run_dir: Path) -> None:
    """Raise :class:`TrainingError` when ``run_dir`` can be neither written nor created."""
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


def _refuse_to_start_over(paths: RunPaths) -> None:
    """A resume without a complete checkpoint starts the run over in its folder; refuse when
    that would hide damaged checkpoints or replace a trained ``generator.keras``."""
    damaged = gan_callbacks.find_checkpoints(paths.checkpoints)
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


def _write_failure(
    error: OSError,
    run_dir: Path,
    gan: GAN,
    checkpointer: gan_callbacks.TrainingCheckpoint | None,
) -> TrainingError:
    """One line for a failed write (full disk, folder removed, ...) that says what is kept."""
    where = str(run_dir)
    if error.filename:
        name = Path(str(error.filename)).name
        name = re.sub(rf"^{re.escape(gan_callbacks.TEMP_PREFIX)}\d+-[0-9a-f]+-", "", name)
        where = f"{name} in {run_dir}"
    reason = error.strerror or str(error)
    last = latest_checkpoint(run_dir) if checkpointer is not None else None
    kept = (
        f"the last complete checkpoint is {last.path.name} (step {last.step})"
        if last is not None
        else "no checkpoint was written"
    )
    step = gan_callbacks.training_step(gan)
    return TrainingError(
        f"Cannot write to {where}: {reason}. Training stopped at step {step}; {kept}. Free some "
        f"space (or fix the folder), then continue with: python train.py --resume {run_dir}"
    )


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
) -> Path:
    """Train the GAN ``config`` describes and return its run directory.

    Every setting, the data, the networks and the run directory are checked before anything
    is written. With ``resume=True``, ``config.run_dir`` must be an existing run: the newest
    complete checkpoint is loaded (networks, optimizers with their iteration counts, noise RNG)
    under the run's precision and training goes on at its epoch with the run's sample noise; a
    checkpoint written inside an epoch restarts that epoch from its first step. Without a
    checkpoint the run starts over in the same folder, unless that would replace saved work.

    Ctrl-C or SIGTERM saves a checkpoint and ``generator.keras``, then raises
    :class:`TrainingInterrupted`; a NaN or infinite loss stops training without saving the
    poisoned state and raises :class:`TrainingDivergedError`; a failed write (e.g. a full disk)
    raises :class:`TrainingError` naming the last complete checkpoint. ``callbacks`` are added
    after the run's own (:func:`build_callbacks`); only the chief process writes the run.
    """
    config.validate()
    if resume:
        if not config.run_dir:
            raise TrainingError("resume=True needs config.run_dir, the run to continue.")
        load_config(config.run_dir)  # it must be a run directory
    strategy = _make_strategy(config.strategy)  # first: multi-worker needs it before other TF
    chief = performance.is_chief(strategy)
    info = _describe(config)
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
        run_dir = (
            Path(config.run_dir) if config.run_dir else default_run_dir(config.dataset, config.arch)
        )
        if chief and run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
            raise TrainingError(
                f"{run_dir} already exists and is not empty; resume it or choose another run "
                "directory."
            )
    if chief:
        _check_writable(run_dir)
    config = dataclasses.replace(config, run_dir=str(run_dir))
    with precision_policy(config.precision):
        _seed_everything(config)
        with strategy.scope():
            gan = build_gan(config) if checkpoint is None else _load_gan(checkpoint, config)
        dataset = _load_data(config)
        return _fit(config, gan, dataset, checkpoint, initial_epoch, chief, callbacks, verbose)


def _fit(
    config: TrainConfig,
    gan: GAN,
    dataset: Any,
    checkpoint: gan_callbacks.CheckpointInfo | None,
    initial_epoch: int,
    chief: bool,
    callbacks: Sequence[keras.callbacks.Callback],
    verbose: str | int,
) -> Path:
    """Write the run directory (chief only) and train; everything has been checked."""
    run_dir = Path(config.run_dir)
    paths = RunPaths(run_dir)
    guard = gan_callbacks.StopOnNonFinite()
    run_callbacks: list[keras.callbacks.Callback] = []
    checkpointer = None
    try:
        if chief:
            run_dir.mkdir(parents=True, exist_ok=True)
            for folder in (run_dir, paths.samples):  # leftovers of writes cut by a kill
                gan_callbacks.remove_temporary_files(folder)
            config.save(paths.config)
            noise = _sample_noise(paths, config)
            real = _real_points(dataset, config.batch_size) if config.image_shape == (2,) else None
            run_callbacks = build_callbacks(config, paths, noise, real)
            checkpointer = next(
                c for c in run_callbacks if isinstance(c, gan_callbacks.TrainingCheckpoint)
            )
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
        logger.info("Run directory: %s", run_dir)
        stream, steps = _data_stream(dataset, config.steps_per_epoch, initial_epoch)
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
    except OSError as error:
        raise _write_failure(error, run_dir, gan, checkpointer) from None
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
    """Continue the run in ``run_dir`` from its newest complete checkpoint.

    ``overrides`` may change the settings in :data:`RESUME_OVERRIDES` (e.g. ``epochs=50`` to
    train longer, another ``strategy``); any other setting must equal the run's (``precision``
    "auto" is compared as what it resolves to). The folder is the one named here, whatever
    ``run_dir`` its ``config.json`` records.
    """
    config = load_config(run_dir)
    changes = {}
    for name, value in overrides.items():
        if not hasattr(config, name):
            raise TrainingError(f"Unknown setting {name!r}.")
        if name == "precision" and value == "auto":
            value = performance.recommended_precision()
        if name not in RESUME_OVERRIDES and value != getattr(config, name):
            raise TrainingError(
                f"{name} cannot change when resuming (the run has {getattr(config, name)!r}); "
                "start a new run instead."
            )
        changes[name] = value
    config = dataclasses.replace(config, **{**changes, "run_dir": str(run_dir)})
    return train(config, resume=True, callbacks=callbacks, verbose=verbose)
