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

Defaults follow the papers (:data:`ARCHITECTURE_DEFAULTS`, :data:`LOSS_DEFAULTS`): a setting
left as None takes the loss's default if it has one, else the architecture's.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_gan import callbacks as gan_callbacks
from keras_gan import data, latent, losses, networks
from keras_gan.gan import GAN

__all__ = [
    "ARCHITECTURE_DEFAULTS",
    "LOSS_DEFAULTS",
    "RESUME_OVERRIDES",
    "RunPaths",
    "TrainConfig",
    "TrainingError",
    "TrainingInterrupted",
    "build_callbacks",
    "build_gan",
    "default_run_dir",
    "latest_checkpoint",
    "load_config",
    "load_generator",
    "resume",
    "train",
]

logger = logging.getLogger("keras_gan.training")

# DCGAN (Radford et al. 2016, Sec. 4): Adam with learning rate 2e-4 and beta_1 0.5, mini-batches
# of 128, z of 100 dimensions. MLP: Goodfellow et al. 2014 trained maxout networks with SGD and
# hand-tuned momentum/learning-rate schedules that do not carry over to these ReLU/LeakyReLU
# MLPs; the setting that reproduces the fully connected GAN on MNIST in common reference code
# (e.g. PyTorch-GAN's gan.py) is Adam(2e-4, beta_1=0.5), batch 64, z of 100 dimensions, which
# converges more slowly than the DCGAN, hence more epochs. Architectures registered by users
# get the DCGAN setting, as keras_gan.default_optimizer does.
ARCHITECTURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "dcgan": {
        "epochs": 25,
        "batch_size": 128,
        "latent_dim": 100,
        "lr_d": 2e-4,
        "lr_g": 2e-4,
        "beta1": 0.5,
        "beta2": 0.999,
        "d_steps": 1,
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
    }
)

_DEFAULTED = ("epochs", "batch_size", "latent_dim", "lr_d", "lr_g", "beta1", "beta2", "d_steps")
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
)
_REAL_POINTS_FOR_PLOTS = 2000
SAMPLE_IMAGES = 64  # an 8 x 8 grid
SAMPLE_POINTS = 1000  # enough generated points to see the shape of a 2-D distribution


class TrainingError(ValueError):
    """A bad setting or run directory; ``str(error)`` is one line that says what to do."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training was stopped by Ctrl-C after saving a checkpoint and ``generator.keras``.

    A ``KeyboardInterrupt``, so callers that do not handle it stop as on any Ctrl-C.
    """

    def __init__(self, run_dir: Path, checkpoint: gan_callbacks.CheckpointInfo | None):
        super().__init__(f"Training interrupted; state saved in {run_dir}")
        self.run_dir = run_dir
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
        for name in ("beta1", "beta2"):
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
        return dataclasses.replace(
            self,
            arch=arch,
            loss=loss,
            seed=seed,
            num_samples=num_samples,
            network_options=options,
            image_shape=image_shape,
            num_classes=num_classes,
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
        """Read settings written by :meth:`save`."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise TrainingError(f"Cannot read {path}: {error}") from None
        if not isinstance(values, dict):
            raise TrainingError(f"{path} does not hold a settings object.")
        return cls.from_dict(values)


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
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
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
    return model.generator if isinstance(model, GAN) else model


# ------------------------------------------------------------------------------- building
def build_gan(config: TrainConfig) -> GAN:
    """The compiled GAN a resolved config describes (``config.image_shape`` must be set)."""
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
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(config.lr_d, beta_1=config.beta1, beta_2=config.beta2),
        g_optimizer=keras.optimizers.Adam(config.lr_g, beta_1=config.beta1, beta_2=config.beta2),
        loss=config.loss,
    )
    return gan


def _load_gan(checkpoint: gan_callbacks.CheckpointInfo, config: TrainConfig) -> GAN:
    gan = _load_keras_file(checkpoint.path)
    if not isinstance(gan, GAN) or gan.latent_dim != config.latent_dim:
        raise TrainingError(f"{checkpoint.path} is not a checkpoint of this run's GAN.")
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
        noise = np.load(paths.sample_noise)
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
def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = "auto",
) -> Path:
    """Train the GAN ``config`` describes and return its run directory.

    Every setting, the data and the networks are checked before anything is written. With
    ``resume=True``, ``config.run_dir`` must be an existing run: the newest complete checkpoint
    is loaded (networks, optimizers with their iteration counts, noise RNG) and training goes
    on at its epoch with the run's sample noise; a checkpoint written inside an epoch restarts
    that epoch from its first step. Without a checkpoint the run starts over in the same folder.

    Ctrl-C saves a checkpoint and ``generator.keras``, then raises :class:`TrainingInterrupted`.
    ``callbacks`` are added after the run's own (:func:`build_callbacks`).
    """
    config.validate()
    if resume:
        if not config.run_dir:
            raise TrainingError("resume=True needs config.run_dir, the run to continue.")
        load_config(config.run_dir)  # it must be a run directory
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
        if checkpoint is not None:
            initial_epoch = checkpoint.epochs_completed
            gan = _load_gan(checkpoint, config)
        else:
            keras.utils.set_random_seed(config.seed)
            gan = build_gan(config)
        if initial_epoch >= config.epochs:
            raise TrainingError(
                f"{run_dir} has already trained {initial_epoch} of {config.epochs} epochs; "
                "ask for more epochs (--epochs) to continue it."
            )
    else:
        run_dir = (
            Path(config.run_dir) if config.run_dir else default_run_dir(config.dataset, config.arch)
        )
        if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
            raise TrainingError(
                f"{run_dir} already exists and is not empty; resume it or choose another run "
                "directory."
            )
        keras.utils.set_random_seed(config.seed)
        gan = build_gan(config)
    dataset = _load_data(config)

    # Everything is checked: from here on the run directory is written.
    paths = RunPaths(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    gan_callbacks.remove_temporary_files(run_dir)
    config = dataclasses.replace(config, run_dir=str(run_dir))
    config.save(paths.config)
    noise = _sample_noise(paths, config)
    real = _real_points(dataset, config.batch_size) if config.image_shape == (2,) else None
    run_callbacks = build_callbacks(config, paths, noise, real)
    checkpointer = next(c for c in run_callbacks if isinstance(c, gan_callbacks.TrainingCheckpoint))

    logger.info(
        "Model: %s, %s loss, generator %s parameters, discriminator %s",
        config.arch,
        config.loss,
        f"{gan.generator.count_params():,}",
        f"{gan.discriminator.count_params():,}",
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

    if config.steps_per_epoch:
        dataset = dataset.repeat()
    gan.fit(
        dataset,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=config.steps_per_epoch,
        callbacks=[*run_callbacks, *callbacks],
        verbose=verbose,
        shuffle=False,
    )
    if checkpointer.interrupted:
        raise TrainingInterrupted(run_dir, checkpointer.last_checkpoint)
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
    train longer); any other setting must equal the run's.
    """
    config = load_config(run_dir)
    for name, value in overrides.items():
        if not hasattr(config, name):
            raise TrainingError(f"Unknown setting {name!r}.")
        if name not in RESUME_OVERRIDES and value != getattr(config, name):
            raise TrainingError(
                f"{name} cannot change when resuming (the run has {getattr(config, name)!r}); "
                "start a new run instead."
            )
    config = dataclasses.replace(config, **{**overrides, "run_dir": str(run_dir)})
    return train(config, resume=True, callbacks=callbacks, verbose=verbose)
