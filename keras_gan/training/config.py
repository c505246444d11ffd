"""The settings of a training run (`TrainConfig`): their validation, resolution and config files.

Imports neither TensorFlow nor Keras, so a command line can list its choices and check its
flags quickly; the few checks that need Keras (a DCGAN's image size, the "auto" precision)
import it when they run. The defaults and their sources are described in docs/training.md.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keras_gan.errors import check_integer, is_integer
from keras_gan.files import write_text_atomically
from keras_gan.training.checks import (
    architectures,
    canonical_loss,
    check_background,
    check_choice,
    check_loss,
    check_pack,
    resolved_augment,
)
from keras_gan.training.dcgan_defaults import default_dcgan_extra_layers, default_dcgan_width
from keras_gan.training.defaults import (
    ARCHITECTURE_DEFAULTS,
    ARCHITECTURE_LOSSES,
    ARCHITECTURES,
    AUGMENT_CHOICES,
    DATASET_DEFAULTS,
    DEFAULT_LOSS,
    EVAL_N,
    EVALUATIONS_PER_RUN,
    GRADIENT_PENALTY_LOSSES,
    JIT_COMPILE_CHOICES,
    LEGACY_AUGMENT,
    LEGACY_DCGAN_BASE_FILTERS,
    LEGACY_DCGAN_EXTRA_LAYERS,
    LEGACY_PRECISION,
    LOSS_ALIASES,
    LOSS_DEFAULTS,
    LOSSES,
    MAX_EVAL_CLASSES,
    PRECISION_CHOICES,
    PRECISIONS,
    RESUME_OVERRIDES,
    SAMPLE_IMAGES,
    SAMPLE_POINTS,
    STRATEGIES,
)
from keras_gan.training.exceptions import TrainingError

if TYPE_CHECKING:
    from keras_gan.data import DatasetInfo

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_DEFAULTS",
    "ARCHITECTURE_LOSSES",
    "AUGMENT_CHOICES",
    "DATASET_DEFAULTS",
    "DEFAULT_LOSS",
    "EVALUATIONS_PER_RUN",
    "EVAL_N",
    "GRADIENT_PENALTY_LOSSES",
    "JIT_COMPILE_CHOICES",
    "LEGACY_PRECISION",
    "LOSSES",
    "LOSS_ALIASES",
    "LOSS_DEFAULTS",
    "PRECISIONS",
    "PRECISION_CHOICES",
    "RESUME_OVERRIDES",
    "SAMPLE_IMAGES",
    "SAMPLE_POINTS",
    "STRATEGIES",
    "TrainConfig",
    "architectures",
    "canonical_loss",
]

_DEFAULTED = tuple(ARCHITECTURE_DEFAULTS["dcgan"])
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


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run; `config.json` is this as JSON.

    `None` means "the default": the loss's (`LOSS_DEFAULTS`), else the architecture's
    (`ARCHITECTURE_DEFAULTS`) for the optimisation settings; the architecture's loss
    (`ARCHITECTURE_LOSSES`, else `DEFAULT_LOSS`) for `loss`; the dataset's own size and
    channels for `image_size` and `channels`; `dcgan` for images and `mlp` for points for
    `arch`; a random seed (recorded) for `seed`; `runs/<dataset>-<arch>-<time>` for `run_dir`;
    64 images or 1000 points for `num_samples` (the fixed noise of the sample pictures).
    `conditional` trains a class-conditional GAN on a labelled dataset; `image_shape` and (for
    conditional runs) `num_classes` are filled in from the data when the run starts.
    `background` is the colour transparent pixels of image files are composited onto.

    `precision` is one of `PRECISION_CHOICES` ("auto" is resolved by
    `keras_gan.performance.recommended_precision` and recorded when the run starts);
    `jit_compile` is "auto", "on" or "off" (XLA); `steps_per_execution` train steps run per
    compiled call; `strategy` is one of `STRATEGIES`. `batch_size` is the global batch, split
    over the strategy's replicas. `deterministic` turns on TensorFlow's op determinism.
    `augment` (`AUGMENT_CHOICES`) augments D's inputs ("auto" is resolved by `resolved`, as
    `checks.resolved_augment` says, and recorded); `pack` is PacGAN's m (D judges m samples at
    once; the batch must be a multiple of it). See docs/gan.md.
    `eval_every` evaluates FID and KID on `eval_n` samples every that many epochs (0: never;
    `None`: see `resolved`) and keeps `generator_best.keras`. `monitor` raises alarms for the
    failure modes (`keras_gan.callbacks.FailureMonitor`).
    """

    dataset: str
    arch: str | None = None
    loss: str | None = None
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
    background: str = "white"
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
    cache_data: bool = False
    network_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    conditional: bool = False
    image_shape: tuple[int, ...] | None = None
    num_classes: int | None = None
    precision: str = "auto"
    jit_compile: str = "auto"
    steps_per_execution: int = 1
    strategy: str = "default"
    deterministic: bool = False
    augment: str = "auto"
    pack: int = 1
    eval_every: int | None = None
    eval_n: int = EVAL_N
    monitor: bool = True

    # -- checking
    def validate(self) -> None:
        """Check every setting (`None` is always fine).

        Raises:
            TrainingError: for the first bad setting, in one line.
        """
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise TrainingError("dataset must be a dataset name, a folder or an .npz/.npy file.")
        if self.arch is not None and self.arch not in architectures():
            raise TrainingError(
                f"Unknown architecture {self.arch!r}; choose one of {', '.join(architectures())}."
            )
        if self.loss is not None:
            check_loss(self.loss)
        for name in _POSITIVE_INTS:
            if getattr(self, name) is not None:
                check_integer(name, getattr(self, name), error=TrainingError)
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
        check_background(self.background)
        if self.seed is not None:
            check_integer("seed", self.seed, minimum=0, error=TrainingError)
        if not isinstance(self.network_options, dict) or not all(
            isinstance(key, str) for key in self.network_options
        ):
            raise TrainingError("network_options must map option names to values.")
        if self.arch in ("dcgan", "resnet") and is_integer(self.image_size):
            from keras_gan.networks import dcgan_start_size  # Keras: only for this check

            try:
                dcgan_start_size(self.image_size)
            except ValueError as error:
                raise TrainingError(str(error).replace("dcgan", self.arch, 1)) from None
        check_choice("precision", self.precision, PRECISION_CHOICES)
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("jit_compile", self.jit_compile, JIT_COMPILE_CHOICES)
        check_choice("augment", self.augment, AUGMENT_CHOICES)
        check_pack(self.pack, self.batch_size, self.conditional)
        if not isinstance(self.deterministic, bool):
            raise TrainingError(f"deterministic must be true or false, got {self.deterministic!r}.")
        if self.eval_every is not None:
            check_integer("eval_every", self.eval_every, minimum=0, error=TrainingError)
        check_integer("eval_n", self.eval_n, minimum=2, error=TrainingError)
        if not isinstance(self.monitor, bool):
            raise TrainingError(f"monitor must be true or false, got {self.monitor!r}.")

    def resolved(self, info: DatasetInfo | None = None) -> TrainConfig:
        """A copy with every default filled in.

        Args:
            info: what `keras_gan.data.describe` says about the data, when known; it decides
                the default architecture, `image_shape` and (conditional runs) `num_classes`.

        Returns:
            A new `TrainConfig`; "auto" precision becomes the machine's recommended one, and
            with `info` an unset `eval_every` becomes `ceil(epochs / EVALUATIONS_PER_RUN)` for
            labelled images (a domain classifier can be trained) and 0 (off) otherwise.
        """
        is_points = info is not None and not info.is_image
        arch = self.arch or ("mlp" if is_points else "dcgan")
        loss = ARCHITECTURE_LOSSES.get(arch, DEFAULT_LOSS) if self.loss is None else self.loss
        loss = check_loss(loss)
        defaults = {**ARCHITECTURE_DEFAULTS.get(arch, ARCHITECTURE_DEFAULTS["dcgan"])}
        dataset_defaults = DATASET_DEFAULTS.get(self.dataset, {}) if arch == "mlp" else {}
        defaults.update(dataset_defaults)
        defaults.update(LOSS_DEFAULTS.get(loss, {}))
        filled = {name: defaults[name] for name in _DEFAULTED if getattr(self, name) is None}
        options = {**dataset_defaults.get("network_options", {}), **self.network_options}
        if arch == "dcgan" and loss in GRADIENT_PENALTY_LOSSES:
            options.setdefault("normalization", "layer")  # batch norm breaks the penalty
        seed = self.seed if self.seed is not None else secrets.randbelow(2**31)
        num_samples = self.num_samples
        if num_samples is None:
            num_samples = SAMPLE_POINTS if is_points else SAMPLE_IMAGES
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
            from keras_gan.performance import recommended_precision  # TensorFlow: asks devices

            precision = recommended_precision()
        eval_every = self.eval_every
        if info is not None:
            # A 1000-class classifier (Stacked MNIST) is neither cheap nor well trained from
            # the data: such sets are scored by evaluate.py's mode metrics instead.
            labelled_images = info.is_image and 0 < (info.num_classes or 0) <= MAX_EVAL_CLASSES
            if eval_every is None:
                epochs = self.epochs or filled.get("epochs") or 1
                eval_every = math.ceil(epochs / EVALUATIONS_PER_RUN) if labelled_images else 0
            elif eval_every and not labelled_images:
                what = (
                    "holds points, not images"
                    if not info.is_image
                    else f"has {info.num_classes} classes (at most {MAX_EVAL_CLASSES} are scored)"
                    if info.num_classes
                    else "has no class labels"
                )
                raise TrainingError(
                    f"{self.dataset} {what}, so no domain classifier can score it during "
                    "training; use eval_every 0 (--eval-every 0)."
                )
        if arch == "dcgan" and "base_filters" not in options:
            width = default_dcgan_width(image_shape, precision)
            if width is not None:
                options["base_filters"] = width
        if arch == "dcgan" and "extra_layers" not in options:
            extra_layers = default_dcgan_extra_layers(image_shape)
            if extra_layers is not None:
                options["extra_layers"] = extra_layers
        depth = options.get("extra_layers", 0)
        deep_dcgan = arch == "dcgan" and is_integer(depth) and depth > 0
        return dataclasses.replace(
            self,
            augment=resolved_augment(self.augment, info, deep_dcgan),
            eval_every=eval_every,
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
        """The inverse of `to_dict`.

        Raises:
            TrainingError: for unknown keys (never silently dropped) or a missing dataset.
        """
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
        """Write the settings as JSON, atomically; returns `path`."""
        return write_text_atomically(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainConfig:
        """Read settings written by `save`.

        A file without `precision` (written before the setting existed) is a float32 run;
        one without `augment` or `pack` has no augmentation and no packing; a DCGAN with an
        image shape but no `base_filters` has the builder's 64 (`default_dcgan_width` came
        later), and one without `extra_layers` none (`default_dcgan_extra_layers` came later).

        Raises:
            TrainingError: when the file cannot be read or holds bad settings.
        """
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise TrainingError(f"Cannot read {path}: {error}") from None
        if not isinstance(values, dict):
            raise TrainingError(f"{path} does not hold a settings object.")
        values.setdefault("precision", LEGACY_PRECISION)
        values.setdefault("augment", LEGACY_AUGMENT)
        values.setdefault("pack", 1)
        options = values.get("network_options")
        sized = values.get("image_shape") is not None  # a run's: the width rule saw the shape
        if values.get("arch") == "dcgan" and sized and isinstance(options, dict):
            values["network_options"] = {
                "base_filters": LEGACY_DCGAN_BASE_FILTERS,
                "extra_layers": LEGACY_DCGAN_EXTRA_LAYERS,
                **options,
            }
        try:
            return cls.from_dict(values)
        except TypeError as error:  # e.g. a setting of the wrong JSON type
            raise TrainingError(f"{path} holds bad settings: {error}") from None
